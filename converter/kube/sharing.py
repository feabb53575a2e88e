"""Who mounts what: the storage compose shares, counted once per conversion.

Under compose a named volume or a host folder is one thing, whatever number of containers mount
it. On Kubernetes that holds only if every pod that mounts it gets the same object, so the plan
records, for each named volume and each host path, the services that mount it and how many pods
they run (replicas; a DaemonSet counts as several). From that:

- the object's name: a host path used by one service keeps kompose's per-service names
  (`<service>-claim<N>`, `<service>-cm<N>`); one used by several services gets one name from
  its path (`./public/system` -> `public-system`), so all of them share one claim or ConfigMap;
- its access mode: mounted by more than one pod -> ReadWriteMany (pods of several workloads or
  replicas may run on different nodes), else ReadWriteOnce;
- whether a small project folder is copied writable: when any of its users mounts it without
  `:ro`, every user gets the same writable copy.
"""

from __future__ import annotations

import os

from . import names
from .workloads import replicas


def volume_mode(ctx, service: str) -> str:
    """How `service`'s volumes are converted: its kompose.volume.type hint, else --volumes."""
    return ctx.hints[service].volume_type or ctx.options.volumes


def mount_key(mount) -> tuple | None:
    """The identity of what a mount shows: a named volume or a host path; None if private."""
    if mount.type == "volume" and mount.source:
        return ("volume", mount.source)
    if mount.type == "bind" and mount.source:
        return ("bind", os.path.normpath(mount.source))
    return None


class StoragePlan:
    def __init__(self, ctx):
        self.ctx = ctx
        self.services: dict[tuple, list[str]] = {}     # key -> services, compose order
        self.groups: dict[tuple, list[str]] = {}       # key -> workloads, compose order
        self.writable: set[tuple] = set()              # keys some user mounts read-write
        self.images = None                              # imagecontent.ImageContent (lazy)
        # Files whose contents are secrets wherever they are mounted: secrets' `file:` and
        # env files (projectfiles.py keeps them out of ConfigMaps).
        self.secret_files = {os.path.normpath(s.file) for s in ctx.project.secrets.values()
                             if s.file}
        self.secret_files |= {os.path.normpath(f) for svc in ctx.project.services.values()
                              for f in svc.env_files}
        self._pods: dict[str, int] = {}
        self._names: dict = {}                          # (service or None, key, kind) -> name
        self._counters: dict = {}                       # (service, kind) -> next number
        for svc in ctx.project.services.values():
            group = ctx.group_of[svc.name].name
            for mount in svc.volumes:
                key = mount_key(mount)
                if key is None:
                    continue
                users = self.services.setdefault(key, [])
                if svc.name not in users:
                    users.append(svc.name)
                groups = self.groups.setdefault(key, [])
                if group not in groups:
                    groups.append(group)
                if not mount.read_only:
                    self.writable.add(key)
        reserved = {names.dns_label(v, prefix="vol") for v in ctx.project.volumes}
        reserved |= {names.dns_label(c, prefix="config") for c in ctx.project.configs}
        self._path_names = names.NameSet()
        self._path_names.used |= reserved
        for key in sorted(k for k, users in self.services.items()
                          if k[0] == "bind" and len(users) > 1):
            self._names[(None, key)] = self._path_names.take(self._path_label(key[1]))

    def _path_label(self, path: str) -> str:
        """`public-system` for ./public/system; the last two parts of a path outside the
        project (`/home/me/.cfg/web` -> `cfg-web`): never this machine's own folder names."""
        rel = os.path.relpath(path, self.ctx.project.working_dir)
        if rel == ".":
            rel = "project"
        elif rel == ".." or rel.startswith(".." + os.sep):
            rel = "/".join(path.strip(os.sep).split(os.sep)[-2:]) or "root"
        return names.dns_label(rel.replace(os.sep, "/"), prefix="vol")

    def pods_of(self, group: str) -> int:
        """Pods a workload runs at once: its replicas, at least 1; a DaemonSet runs several."""
        count = self._pods.get(group)
        if count is None:
            if self.ctx.kinds[group] == "DaemonSet":
                count = 2
            else:
                primary = self.ctx.groups[group].primary
                count = max(1, replicas(self.ctx, self.ctx.project.services[primary]))
            self._pods[group] = count
        return count

    def pods(self, key: tuple) -> int:
        return sum(self.pods_of(g) for g in self.groups.get(key, ()))

    def across_pods(self, key: tuple) -> bool:
        """Mounted by more than one pod at a time: the object must be readable from any node."""
        return self.pods(key) > 1

    def only_group(self, key: tuple, group: str) -> bool:
        return self.groups.get(key, [group]) == [group]

    def users(self, key: tuple) -> list[str]:
        return self.services.get(key, [])

    def access_modes(self, key: tuple) -> list[str]:
        return ["ReadWriteMany"] if self.across_pods(key) else ["ReadWriteOnce"]

    def name(self, service: str, key: tuple | None, kind: str) -> str:
        """The claim ("claim") or ConfigMap ("cm") name for what `service` mounts at `key`."""
        shared = self._names.get((None, key)) if key is not None else None
        if shared is not None:
            return shared
        found = self._names.get((service, key, kind))
        if found is None or key is None:
            number = self._counters.get((service, kind), 0)
            self._counters[(service, kind)] = number + 1
            found = names.join(self.ctx.names[service], f"{kind}{number}")
            if key is not None:
                self._names[(service, key, kind)] = found
        return found


def plan(ctx) -> StoragePlan:
    """The conversion's plan, made on first use."""
    if ctx.storage_plan is None:
        ctx.storage_plan = StoragePlan(ctx)
    return ctx.storage_plan

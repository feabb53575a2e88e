"""Volumes: each service's mounts -> pod volumes, claims, ConfigMaps, emptyDirs, hostPaths.

- Named volume -> one PersistentVolumeClaim named after the volume, shared by every service that
  mounts it (claims.py: access mode from who mounts it, size and class from hints); a
  StatefulSet gets a volumeClaimTemplate for a volume only it mounts. External volumes reference
  an existing claim. A volume with `driver_opts` `type: tmpfs` is a memory-backed emptyDir (its
  `o: size=` the limit), `type: nfs` an NFS volume, `o: bind` a claim (the device is a folder of
  this machine). `--volumes emptyDir` (or `kompose.volume.type`) gives each pod an emptyDir.
- Anonymous volume -> a claim `<service>-claim<N>` (compose keeps it across container
  re-creation), as kompose names it; each pod's own emptyDir when a Deployment runs several
  (compose gives every replica its own).
- Bind mount -> binds.py.
- tmpfs (`tmpfs:`, `type: tmpfs`) and shm_size -> emptyDir with medium Memory (and sizeLimit
  when a size is given); mode and mount flags cannot be set and are reported.
"""

from __future__ import annotations

import posixpath

from . import names
from .binds import bind_mount
from .claims import claim_mount, sharing_note
from .podvolumes import PodVolumes, mount_entry
from .quantities import bytes_quantity
from .sharing import mount_key, plan, volume_mode

__all__ = ["PodVolumes", "service_mounts"]


def _anonymous(ctx, service, mount, i, pod, kind) -> dict:
    key_name = f"volumes[{i}]"
    why = f"anonymous volume at {mount.target}"
    group = ctx.group_of[service.name].name
    if kind != "StatefulSet" and plan(ctx).pods_of(group) > 1 and \
            volume_mode(ctx, service.name) != "emptyDir":
        wanted = (f"{names.dns_label(service.name)}-anon-"
                  f"{names.dns_label(mount.target, prefix='p')}")
        vol = pod.get(("anonymous", service.name, mount.target), wanted, {"emptyDir": {}})
        ctx.report.approximated(service.name, key_name,
                                f"{why} -> an emptyDir per pod: compose gives each replica its "
                                "own volume; it is lost when the pod is replaced (a StatefulSet, "
                                "x-kubernetes controller: statefulset, keeps one claim per "
                                "replica)")
        return mount_entry(vol, mount.target, read_only=mount.read_only)
    return claim_mount(ctx, service, mount, pod, kind, key=None,
                       name=plan(ctx).name(service.name, None, "claim"), why=why,
                       report_key=key_name, caveat="empty at first: copy the data in if needed")


def _named(ctx, service, mount, i, pod, kind) -> dict | None:
    report = ctx.report
    key_name = f"volumes[{i}]"
    name = service.name
    hints = ctx.hints[name]
    volume = ctx.project.volumes.get(mount.source)
    key = mount_key(mount)
    vname = names.dns_label(mount.source, prefix="vol")
    sub_path = mount.subpath or hints.volume_subpath
    if hints.volume_subpath and not mount.subpath:
        report.mapped(name, "labels.kompose.volume.subpath", "subPath")
    opts = {k.lower(): str(v) for k, v in (volume.driver_opts.items() if volume else ())}
    fs_type = opts.get("type", "").lower()
    if fs_type == "tmpfs":
        return _tmpfs(ctx, pod, service, mount.target, _opts_size(opts.get("o", "")), key_name,
                      volume=mount.source, key_of_volume=key)
    if volume_mode(ctx, name) == "emptyDir":
        return claim_mount(ctx, service, mount, pod, kind, key=key, name=vname, volume=volume,
                           why=f"volume {mount.source}", report_key=key_name,
                           sub_path=sub_path)
    nfs = _nfs_source(opts) if fs_type in ("nfs", "nfs4") else None
    if nfs is not None:
        server, path, read_only = nfs
        vol = pod.get(("volume", mount.source), vname,
                      {"nfs": {"server": server, "path": path,
                               **({"readOnly": True} if read_only else {})}})
        report.mapped(name, key_name, f"NFS volume {server}:{path} (driver_opts)")
        return mount_entry(vol, mount.target, read_only=mount.read_only, sub_path=sub_path)
    if volume is not None and volume.external:
        claim = names.dns_label(volume.external_name or volume.name, prefix="vol")
        vol = pod.get(("volume", mount.source), vname,
                      {"persistentVolumeClaim": {"claimName": claim}})
        shared = sharing_note(ctx, key, name)
        report.approximated(name, key_name, f"external volume {mount.source}: expects an "
                                            f"existing PersistentVolumeClaim named {claim}"
                            + (f" ({shared}: it must allow ReadWriteMany)" if shared else ""))
        pod.uses_claims = True
        return mount_entry(vol, mount.target, read_only=mount.read_only, sub_path=sub_path)
    caveat = ""
    if opts:
        device = opts.get("device")
        if "bind" in opts.get("o", "").split(",") and device:
            caveat = (f"bound to {device} on this machine (driver_opts): the claim starts "
                      "empty; copy the data in if needed")
        else:
            caveat = "driver_opts ignored"
    return claim_mount(ctx, service, mount, pod, kind, key=key, name=vname, volume=volume,
                       why=f"volume {mount.source}", report_key=key_name, caveat=caveat,
                       note="Kubernetes does not copy the image's files into a new volume",
                       sub_path=sub_path)


def _nfs_source(opts: dict) -> tuple[str, str, bool] | None:
    """(server, path, read-only) from `o: addr=H,...` and `device: ":/path"`; None if absent."""
    fields = [f.strip() for f in opts.get("o", "").split(",")]
    server = next((f.partition("=")[2] for f in fields if f.startswith("addr=")), "")
    device = opts.get("device", "")
    host, _, path = device.rpartition(":")
    server = server or host
    if not server or not path.startswith("/"):
        return None
    return server, path, "ro" in fields


def _tmpfs(ctx, pod, service, target: str, size: int | None, key: str, *,
           options: str = "", volume: str | None = None, key_of_volume=None) -> dict:
    source: dict = {"medium": "Memory"}
    if size:
        source["sizeLimit"] = bytes_quantity(size)
    if volume is not None:
        vol = pod.get(("volume", volume), names.dns_label(volume, prefix="vol"),
                      {"emptyDir": source})
    else:
        vol = pod.get(("tmpfs", service.name, target),
                      f"{names.dns_label(service.name)}-tmpfs-"
                      f"{names.dns_label(target, prefix='p')}", {"emptyDir": source})
    detail = "emptyDir with medium Memory (counts against the container's memory limit)"
    caveats = []
    if volume is not None:
        detail = f"volume {volume} (driver_opts type tmpfs) -> " + detail
        note = sharing_note(ctx, key_of_volume, service.name)
        if note:
            caveats.append(f"not {note}: each pod has its own memory")
    if options:
        caveats.append(f"{options} cannot be set on an emptyDir")
    if caveats:
        ctx.report.approximated(service.name, key, f"{detail}; {'; '.join(caveats)}")
    else:
        ctx.report.mapped(service.name, key, detail)
    return mount_entry(vol, target)


def _parse_tmpfs(text: str) -> tuple[str, int | None, list[str]]:
    """`/run:size=16M,mode=1750,exec` -> ("/run", 16 MiB, ["mode=1750", "exec"])."""
    target, _, opts = str(text).partition(":")
    size, others = None, []
    for opt in opts.split(","):
        k, _, v = opt.strip().partition("=")
        if k == "size" and v:
            size = _size(v.strip())
        elif k:
            others.append(opt.strip())
    return target, size, others


def _opts_size(text: str) -> int | None:
    return next((_size(f.partition("=")[2].strip()) for f in text.split(",")
                 if f.strip().startswith("size=")), None)


def _size(text: str) -> int | None:
    units = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.lower().rstrip("b") if text.lower() not in ("b",) else text
    num = text.rstrip("kmg")
    try:
        return int(float(num) * units[text[len(num):]])
    except (ValueError, KeyError):
        return None


def service_mounts(ctx, service, pod: PodVolumes, kind: str) -> list[dict]:
    """volumeMounts for `service`; adds pod volumes, PVCs and ConfigMaps as needed."""
    report = ctx.report
    hints = ctx.hints[service.name]
    mounts: list[dict] = []
    for i, mount in enumerate(service.volumes):
        key = f"volumes[{i}]"
        if mount.type == "volume":
            if mount.source is None:
                out = _anonymous(ctx, service, mount, i, pod, kind)
            else:
                out = _named(ctx, service, mount, i, pod, kind)
        elif mount.type == "bind":
            out = bind_mount(ctx, service, mount, i, pod, kind)
        elif mount.type == "tmpfs":
            out = _tmpfs(ctx, pod, service, mount.target, mount.tmpfs_size, key,
                         options=f"mode {mount.tmpfs_mode:o}" if mount.tmpfs_mode else "")
        else:
            report.not_converted(service.name, key, f"{mount.type} mounts have no Kubernetes "
                                                    "equivalent")
            out = None
        if out is not None:
            mounts.append(out)
    for i, item in enumerate(service.tmpfs):
        target, size, others = _parse_tmpfs(item)
        mounts.append(_tmpfs(ctx, pod, service, target, size, f"tmpfs[{i}]",
                             options=",".join(others)))
    if service.shm_size:
        vol = pod.get(("shm",), "dshm", {"emptyDir": {"medium": "Memory",
                                                      "sizeLimit": bytes_quantity(
                                                          service.shm_size)}})
        mounts.append(mount_entry(vol, "/dev/shm"))
        report.mapped(service.name, "shm_size", "emptyDir with medium Memory on /dev/shm")
    if hints.volume_type:
        report.mapped(service.name, "labels.kompose.volume.type", f"volumes as {hints.volume_type}")
    if hints.volume_size:
        report.mapped(service.name, "labels.kompose.volume.size", "PVC size")
    if hints.storage_class:
        report.mapped(service.name, "labels.kompose.volume.storage-class-name",
                      "PVC storageClassName")
    return _unique_targets(mounts, service.name, report)


def _unique_targets(mounts: list[dict], service: str, report) -> list[dict]:
    seen, out = set(), []
    for m in mounts:
        path = posixpath.normpath(m["mountPath"])
        if path in seen:
            report.not_converted(service, "volumes", f"a second mount at {path} was left out")
            continue
        seen.add(path)
        out.append(m)
    return out

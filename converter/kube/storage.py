"""Volumes: named volumes, bind mounts, tmpfs, shm_size -> pod volumes, PVCs and ConfigMaps.

- Named volume -> PersistentVolumeClaim named after the volume (size and class from the volume's
  `x-kubernetes` / `kompose.volume.*` labels, then the service's, then --pvc-request-size);
  a StatefulSet gets a volumeClaimTemplate instead. External volumes reference an existing PVC.
  `--volumes emptyDir` (or `kompose.volume.type`) turns them into emptyDir.
- Anonymous volume -> a claim `<service>-claim<N>` (compose keeps it across container
  re-creation), as kompose names it.
- Bind mount, in this order: `--volumes hostPath` -> hostPath; the project folder, a build context
  or a folder holding a Dockerfile (the app's source, already in the image) -> dropped with a
  warning; a socket -> not converted; a file or a small folder inside the project (limits in
  ConvertOptions) -> a ConfigMap `<service>-cm<N>` (kompose's name) mounted read-only (a single
  file through subPath); anything else (a path outside the project, which c2k never reads, a
  missing path, a large folder: data) -> an empty claim `<service>-claim<N>`, reported.
- tmpfs and shm_size -> emptyDir with medium Memory (and sizeLimit when given).
"""

from __future__ import annotations

import base64
import os
import posixpath

from . import names
from .extension import volume_hints
from .quantities import bytes_quantity


class PodVolumes:
    """The volumes of one pod, shared by its containers; each source mounted once."""

    def __init__(self):
        self.volumes: list[dict] = []
        self.claim_templates: list[dict] = []
        self.by_key: dict = {}
        self.used = names.NameSet()
        self.uses_claims = False

    def get(self, key, wanted: str, source: dict) -> str:
        if key in self.by_key:
            return self.by_key[key]
        name = self.used.take(names.dns_label(wanted, prefix="vol"))
        self.by_key[key] = name
        self.volumes.append({"name": name, **source})
        return name

    def claim_template(self, key, wanted: str, spec: dict, labels: dict) -> str:
        if key in self.by_key:
            return self.by_key[key]
        name = self.used.take(names.dns_label(wanted, prefix="vol"))
        self.by_key[key] = name
        self.claim_templates.append({"metadata": {"name": name, "labels": labels}, "spec": spec})
        return name


def _mount(name: str, target: str, *, read_only=False, sub_path=None) -> dict:
    out = {"name": name, "mountPath": target}
    if sub_path:
        out["subPath"] = sub_path
    if read_only:
        out["readOnly"] = True
    return out


def pvc_spec(ctx, volume, service, hints) -> dict:
    vh = volume_hints(volume) if volume is not None else {}
    size = vh.get("size") or hints.volume_size or ctx.options.pvc_request_size
    spec: dict = {"accessModes": list(vh.get("access_modes", ("ReadWriteOnce",))),
                  "resources": {"requests": {"storage": size}}}
    storage_class = vh.get("storage_class") or hints.storage_class
    if storage_class:
        spec["storageClassName"] = storage_class
    if vh.get("selector"):
        spec["selector"] = {"matchLabels": {"io.kompose.service": vh["selector"]}}
    return spec


def _claim(ctx, service, mount, pod, kind, hints, counters, why: str, key: str) -> dict:
    """A per-service claim `<service>-claim<N>` (kompose's name) for data without a volume."""
    name = service.name
    cname = names.join(ctx.names[name], f"claim{counters['claim']}")
    counters["claim"] += 1
    mode = hints.volume_type or ctx.options.volumes
    if mode == "emptyDir":
        vol = pod.get(("claim", name, mount.target), cname, {"emptyDir": {}})
        ctx.report.approximated(name, key, f"{why} -> emptyDir (--volumes emptyDir): its data "
                                           "is lost when the pod is deleted")
        return _mount(vol, mount.target, read_only=mount.read_only)
    spec = pvc_spec(ctx, None, service, hints)
    if kind == "StatefulSet":
        labels = ctx.meta(cname, ctx.group_of[name].name)["labels"]
        vol = pod.claim_template(("claim", name, mount.target), cname, spec, labels)
        ctx.report.approximated(name, key, f"{why} -> volumeClaimTemplate {vol}, empty at first")
        return _mount(vol, mount.target, read_only=mount.read_only)
    ctx.add({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": ctx.meta(cname, ctx.group_of[name].name), "spec": spec},
            f"service {name!r}")
    vol = pod.get(("claim", name, mount.target), cname,
                  {"persistentVolumeClaim": {"claimName": cname}})
    pod.uses_claims = True
    ctx.report.approximated(name, key, f"{why} -> PersistentVolumeClaim {cname} "
                                       f"({spec['resources']['requests']['storage']}), empty at "
                                       "first: copy the data in if needed")
    return _mount(vol, mount.target, read_only=mount.read_only)


def _volume_mount(ctx, service, mount, i, pod, kind, hints, counters) -> dict | None:
    report = ctx.report
    key = f"volumes[{i}]"
    name = service.name
    if mount.source is None:
        why = f"anonymous volume at {mount.target}"
        return _claim(ctx, service, mount, pod, kind, hints, counters, why, key)
    volume = ctx.project.volumes.get(mount.source)
    mode = hints.volume_type or ctx.options.volumes
    vname = names.dns_label(mount.source, prefix="vol")
    sub_path = mount.subpath or hints.volume_subpath
    if mode == "emptyDir":
        vol = pod.get(("volume", mount.source), vname, {"emptyDir": {}})
        report.approximated(name, key, f"named volume {mount.source} -> emptyDir (--volumes "
                                       "emptyDir): its data is lost when the pod is deleted")
        return _mount(vol, mount.target, read_only=mount.read_only, sub_path=sub_path)
    if volume is not None and volume.driver_opts:
        report.approximated(name, key, f"volume {mount.source}: driver_opts ignored, a "
                                       "PersistentVolumeClaim is used")
    if volume is not None and volume.external:
        claim = names.dns_label(volume.external_name or volume.name, prefix="vol")
        vol = pod.get(("volume", mount.source), vname,
                      {"persistentVolumeClaim": {"claimName": claim}})
        report.approximated(name, key, f"external volume {mount.source}: expects an existing "
                                       f"PersistentVolumeClaim named {claim}")
        pod.uses_claims = True
        return _mount(vol, mount.target, read_only=mount.read_only, sub_path=sub_path)
    spec = pvc_spec(ctx, volume, service, hints)
    if kind == "StatefulSet":
        labels = ctx.meta(vname, ctx.group_of[name].name)["labels"]
        vol = pod.claim_template(("volume", mount.source), vname, spec, labels)
        report.mapped(name, key, f"volumeClaimTemplate {vol} (one claim per replica)")
    else:
        pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": ctx.meta(vname, vname if _shared(ctx, mount.source) else
                                    ctx.group_of[name].name),
               "spec": spec}
        ctx.add(pvc, f"volume {mount.source!r}")
        vol = pod.get(("volume", mount.source), vname,
                      {"persistentVolumeClaim": {"claimName": vname}})
        pod.uses_claims = True
        report.mapped(name, key, f"PersistentVolumeClaim {vname} "
                                 f"({spec['resources']['requests']['storage']}); Kubernetes "
                                 "does not copy the image's files into a new volume")
        if _shared(ctx, mount.source):
            report.warning(name, key, f"volume {mount.source} is used by several workloads; "
                                      "with ReadWriteOnce their pods must share a node (set "
                                      "x-kubernetes accessModes: [ReadWriteMany] on the volume "
                                      "with a storage class that supports it)")
    if hints.volume_subpath and not mount.subpath:
        report.mapped(name, "labels.kompose.volume.subpath", "subPath")
    return _mount(vol, mount.target, read_only=mount.read_only, sub_path=sub_path)


def _shared(ctx, source: str) -> bool:
    return len(_volume_owners(ctx).get(source, ())) > 1


def _volume_owners(ctx) -> dict:
    """Named volume → the workloads (pod groups) mounting it; computed once per conversion."""
    if ctx.volume_owners is not None:
        return ctx.volume_owners
    owners: dict = {}
    for svc in ctx.project.services.values():
        for m in svc.volumes:
            if m.type == "volume" and m.source:
                owners.setdefault(m.source, set()).add(ctx.group_of[svc.name].name)
    ctx.volume_owners = owners
    return owners


def _inside(path: str, root: str) -> bool:
    path, root = os.path.normpath(path), os.path.normpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _is_source(ctx, path: str, info) -> bool:
    if os.path.normpath(path) == os.path.normpath(ctx.project.working_dir):
        return True
    if any(_inside(context, path) for context in _local_contexts(ctx)):
        return True
    return bool(info is not None and info.kind == "dir" and info.has_dockerfile)


def _local_contexts(ctx) -> tuple:
    """The distinct local build contexts of the project, computed once per conversion."""
    if ctx.local_contexts is None:
        contexts = {svc.build.context for svc in ctx.project.services.values() if svc.build}
        ctx.local_contexts = tuple(sorted(c for c in contexts if c and "://" not in c
                                          and not c.startswith("git@")))
    return ctx.local_contexts


def _bind_mount(ctx, service, mount, i, pod, kind, hints, counters) -> dict | None:
    report = ctx.report
    key = f"volumes[{i}]"
    name = service.name
    source = mount.source or ""
    mode = hints.volume_type or ctx.options.volumes
    if mount.propagation:
        report.not_converted(name, f"{key}.bind.propagation",
                             "mount propagation is only meaningful for hostPath")
    if mode == "hostPath":
        vol = pod.get(("bind", source), f"{names.dns_label(name)}-host-{i}",
                      {"hostPath": {"path": source}})
        report.approximated(name, key, f"hostPath {source}: the path is read on the node that "
                                       "runs the pod, not on this machine")
        return _mount(vol, mount.target, read_only=mount.read_only)
    if source.endswith(".sock") or source.startswith("/var/run/docker"):
        report.not_converted(name, key, f"{source} is a host socket; Kubernetes pods cannot "
                                        "reach this machine's daemons")
        return None
    inside = _inside(source, ctx.project.working_dir)
    info = ctx.reader(source) if inside else None
    if _is_source(ctx, source, info):
        report.warning(name, key, f"bind mount of the project source ({_rel(ctx, source)}) at "
                                  f"{mount.target} dropped: the image already contains it; "
                                  "rebuild the image to change the code")
        return None
    if not inside:
        return _claim(ctx, service, mount, pod, kind, hints, counters,
                      f"host path {source} (outside the project folder, never read)", key)
    if info.kind == "missing":
        return _claim(ctx, service, mount, pod, kind, hints, counters,
                      f"{_rel(ctx, source)} (does not exist yet)", key)
    if info.files is None:
        why = info.reason or "cannot be read"
        return _claim(ctx, service, mount, pod, kind, hints, counters,
                      f"{_rel(ctx, source)} ({why}: too large for a ConfigMap)", key)
    cm_name = names.join(ctx.names[name], f"cm{counters['cm']}")
    counters["cm"] += 1
    data, binary, items = {}, {}, []
    for rel, content in info.files:
        k = names.config_key(rel.replace("/", "_") if info.kind == "dir" else rel)
        try:
            data[k] = content.decode("utf-8")
        except UnicodeDecodeError:
            binary[k] = base64.b64encode(content).decode("ascii")
        items.append({"key": k, "path": rel})
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": ctx.meta(cm_name, ctx.group_of[name].name)}
    if data:
        cm["data"] = data
    if binary:
        cm["binaryData"] = binary
    ctx.add(cm, f"the bind mount {_rel(ctx, source)} of service {name!r}")
    source_spec: dict = {"name": cm_name}
    if any(it["key"] != it["path"] for it in items):
        source_spec["items"] = items
    vol = pod.get(("bind", source), cm_name, {"configMap": source_spec})
    detail = f"ConfigMap {cm_name} from {_rel(ctx, source)}"
    if not mount.read_only:
        report.approximated(name, key, detail + "; mounted read-only (ConfigMaps are)")
    else:
        report.mapped(name, key, detail)
    if info.kind == "file":
        return _mount(vol, mount.target, read_only=True, sub_path=items[0]["key"])
    return _mount(vol, mount.target, read_only=True)


def _rel(ctx, path: str) -> str:
    try:
        rel = os.path.relpath(path, ctx.project.working_dir)
    except ValueError:
        return os.path.basename(path)
    return rel.replace(os.sep, "/")


def _tmpfs(pod, service, target: str, size: int | None, key: str, report) -> dict:
    source: dict = {"medium": "Memory"}
    if size:
        source["sizeLimit"] = bytes_quantity(size)
    vol = pod.get(("tmpfs", service.name, target),
                  f"{names.dns_label(service.name)}-tmpfs-{names.dns_label(target, prefix='p')}",
                  {"emptyDir": source})
    report.mapped(service.name, key, "emptyDir with medium Memory")
    return _mount(vol, target)


def _parse_tmpfs(text: str) -> tuple[str, int | None]:
    target, _, opts = str(text).partition(":")
    size = None
    for opt in opts.split(","):
        k, _, v = opt.partition("=")
        if k.strip() == "size" and v:
            size = _size(v.strip())
    return target, size


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
    counters = {"cm": 0, "claim": 0}
    for i, mount in enumerate(service.volumes):
        key = f"volumes[{i}]"
        if mount.type == "volume":
            out = _volume_mount(ctx, service, mount, i, pod, kind, hints, counters)
        elif mount.type == "bind":
            out = _bind_mount(ctx, service, mount, i, pod, kind, hints, counters)
        elif mount.type == "tmpfs":
            out = _tmpfs(pod, service, mount.target, mount.tmpfs_size, key, report)
        else:
            report.not_converted(service.name, key, f"{mount.type} mounts have no Kubernetes "
                                                    "equivalent")
            out = None
        if out is not None:
            mounts.append(out)
    for i, item in enumerate(service.tmpfs):
        target, size = _parse_tmpfs(item)
        mounts.append(_tmpfs(pod, service, target, size, f"tmpfs[{i}]", report))
    if service.shm_size:
        vol = pod.get(("shm",), "dshm", {"emptyDir": {"medium": "Memory",
                                                      "sizeLimit": bytes_quantity(
                                                          service.shm_size)}})
        mounts.append(_mount(vol, "/dev/shm"))
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

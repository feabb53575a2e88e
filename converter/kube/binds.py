"""Bind mounts: what a folder or file of this machine becomes in the pod.

In this order:
1. a host system path outside the project (hostpaths.py): hostPath from the node, left out with
   the reason, or scratch space;
2. `--volumes hostPath` (or `kompose.volume.type: hostPath`): hostPath of the same path;
3. a path outside the project (c2k never reads it): a claim, empty at first;
4. a path inside a build context whose image holds the same files at the mount's path
   (imagecontent.py): dropped, the image has them;
5. a missing path, or a folder too large or unreadable for a ConfigMap: a claim, empty at first;
6. a file or small folder: a ConfigMap (a Secret when it holds secrets, projectfiles.py).
   Mounted `:ro` by every service that mounts it (or with `--volumes configMap`), it is
   mounted read-only (a single file through subPath).
   Mounted read-write by any of them, every one gets a writable copy (podvolumes.py): an
   emptyDir of the pod, or, when pods share it (sharing.py), one claim.
A host path several services mount is one claim or one ConfigMap, named after the path.
"""

from __future__ import annotations

import os

from . import names
from .claims import claim_mount
from .containers import user_context
from .hostpaths import HOST_PATH, LEAVE_OUT, SCRATCH, host_rule
from .imagecontent import image_content
from .podvolumes import COPIES_VOLUME, COPY_CONTAINER, mount_entry
from .projectfiles import files_volume, secret_file
from .sharing import mount_key, plan, volume_mode

_PROPAGATION = {"rslave": "HostToContainer", "slave": "HostToContainer",
                "rshared": "Bidirectional", "shared": "Bidirectional"}


def bind_mount(ctx, service, mount, i, pod, kind) -> dict | None:
    report = ctx.report
    key_name = f"volumes[{i}]"
    name = service.name
    mode = volume_mode(ctx, name)
    source = os.path.normpath(mount.source or "")
    key = mount_key(mount)
    inside = _inside(source, ctx.project.working_dir)
    rule = None if inside else host_rule(source)
    if rule is not None and rule.action == LEAVE_OUT:
        report.not_converted(name, key_name, f"{source} left out: {rule.why}")
        return None
    if rule is not None and rule.action == HOST_PATH:
        read_only = rule.read_only or mount.read_only
        forced = " (read-only)" if read_only and not mount.read_only else ""
        report.approximated(name, key_name, f"hostPath {source}{forced}: {rule.why}")
        return _host_path(ctx, service, mount, pod, source, rule.kind, read_only, key_name)
    if rule is not None and rule.action == SCRATCH:
        vol = pod.get(("scratch", source), "host-" + names.dns_label(source, prefix="p"),
                      {"emptyDir": {}})
        report.approximated(name, key_name, f"{source} -> emptyDir: {rule.why}")
        return mount_entry(vol, mount.target, read_only=mount.read_only)
    if mode == "hostPath":
        report.approximated(name, key_name, f"hostPath {source}: the path is read on the node "
                                            "that runs the pod, not on this machine")
        return _host_path(ctx, service, mount, pod, source, "", mount.read_only, key_name)
    if mount.propagation:
        report.not_converted(name, f"{key_name}.bind.propagation",
                             "mount propagation is only meaningful for hostPath")
    p = plan(ctx)
    if not inside:
        return claim_mount(ctx, service, mount, pod, kind, key=key,
                           name=p.name(name, key, "claim"), report_key=key_name,
                           why=f"host path {source} (outside the project folder, never read)",
                           caveat="empty at first: copy the data in if needed")
    rel = _rel(ctx, source)
    shown = "the project folder" if rel == "." else rel
    info = ctx.reader(source)
    verdict = image_content(ctx).verdict(service, source, mount.target, info.kind == "dir")
    if verdict is not None and verdict.held:
        report.approximated(name, key_name,
                            f"bind mount of {shown} at {mount.target} dropped: {verdict.detail}; "
                            "edits on this machine reach the pod only with a new image")
        return None
    kept = f"; kept: {verdict.detail}" if verdict is not None else ""
    if info.kind == "missing" or info.files is None:
        why = "does not exist yet" if info.kind == "missing" else (
            f"{info.reason or 'cannot be read'}: not inlined in a ConfigMap")
        return claim_mount(ctx, service, mount, pod, kind, key=key,
                           name=p.name(name, key, "claim"), report_key=key_name,
                           why=f"{shown} ({why})",
                           caveat="empty at first: copy the data in if needed" + kept)
    secret = secret_file(ctx, source, info)
    kind_name = "Secret" if secret else "ConfigMap"
    obj_name = p.name(name, key, "secret" if secret else "cm")
    writable = key in p.writable and mode != "configMap"
    files_vol = files_volume(ctx, service, pod, key, info, name=obj_name, secret=bool(secret),
                             volume=f"{obj_name}-source" if writable else obj_name,
                             origin=f"the bind mount {rel} of service {name!r}")
    held = f"{kind_name} {obj_name}" + (f" (it holds {secret})" if secret else "")
    file_key = info.files[0][0] if info.kind == "file" else None
    if not writable:
        detail = f"{held} from {shown}{kept}"
        if not mount.read_only:
            report.approximated(name, key_name, detail + "; mounted read-only (volumes as "
                                                         "configMap)")
        else:
            report.mapped(name, key_name, detail)
        return mount_entry(files_vol, mount.target, read_only=True, sub_path=file_key)
    security = user_context(service, report)
    copied = (f"copied from {held} by init container {COPY_CONTAINER} at each pod start (the "
              "project's files replace those of the same name)")
    if p.across_pods(key):
        out = claim_mount(ctx, service, mount, pod, kind, key=key,
                          name=p.name(name, key, "claim"), report_key=key_name,
                          why=f"{shown} (project files the app may write)",
                          caveat=copied + kept, sub_path=file_key)
        pod.copy(("copy", key), files_vol, out["name"], None, security)
        return out
    vol = pod.get((COPIES_VOLUME,), COPIES_VOLUME, {"emptyDir": {}})
    pod.copy(("copy", key), files_vol, vol, obj_name, security)
    report.approximated(name, key_name,
                        f"{shown} -> a writable copy in emptyDir {vol}, {copied}; what the app "
                        f"writes there is lost when the pod is replaced{kept}")
    return mount_entry(vol, mount.target, read_only=mount.read_only,
                       sub_path=obj_name + (f"/{file_key}" if file_key else ""))


def _host_path(ctx, service, mount, pod, source, kind, read_only, key_name) -> dict:
    spec = {"path": source}
    if kind:
        spec["type"] = kind
    # named after the path, as the project names it (never this machine's folders)
    shown = _rel(ctx, source) if _inside(source, ctx.project.working_dir) else source
    shown = "project" if shown == "." else shown.strip("/") or "root"
    vol = pod.get(("bind", source), "host-" + names.dns_label(shown, prefix="p"),
                  {"hostPath": spec})
    propagation = None
    if mount.propagation in _PROPAGATION:
        propagation = _PROPAGATION[mount.propagation]
        if propagation == "Bidirectional" and not service.privileged:
            propagation = "HostToContainer"
            ctx.report.approximated(service.name, f"{key_name}.bind.propagation",
                                    f"{mount.propagation} needs a privileged container: "
                                    "HostToContainer (mounts reach the container, not back)")
        else:
            ctx.report.mapped(service.name, f"{key_name}.bind.propagation", propagation)
    elif mount.propagation:
        ctx.report.mapped(service.name, f"{key_name}.bind.propagation",
                          "private (Kubernetes' default)")
    return mount_entry(vol, mount.target, read_only=read_only, propagation=propagation)


def _inside(path: str, root: str) -> bool:
    path, root = os.path.normpath(path), os.path.normpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _rel(ctx, path: str) -> str:
    try:
        rel = os.path.relpath(path, ctx.project.working_dir)
    except ValueError:
        return os.path.basename(path)
    return rel.replace(os.sep, "/")

"""PersistentVolumeClaims for named volumes, anonymous volumes and host folders kept as data.

One claim per thing compose shares (sharing.StoragePlan says who mounts it):
- mounted by one pod: ReadWriteOnce;
- mounted by several pods (several services, or replicas, or a DaemonSet): ReadWriteMany, and
  one project warning per claim, since the storage class must support it;
- `x-kubernetes: {accessModes: [...]}` on the volume overrides both.
A StatefulSet gets a volumeClaimTemplate (one claim per replica) for what only it mounts; what
other workloads mount too stays one claim, named in its pod template. `--volumes emptyDir` (or
`kompose.volume.type: emptyDir`) gives each pod an emptyDir instead.
Size: the volume's hint, else the largest `kompose.volume.size` / `x-kubernetes` size among the
services that mount it, else --pvc-request-size; storage class likewise (first one given).
"""

from __future__ import annotations

from .extension import volume_hints
from .podvolumes import mount_entry
from .quantities import quantity_value
from .sharing import plan, volume_mode


def claim_spec(ctx, key, volume, users: list[str], *, per_pod: bool) -> dict:
    vh = volume_hints(volume) if volume is not None else {}
    sizes = [ctx.hints[u].volume_size for u in users if ctx.hints[u].volume_size]
    size = vh.get("size") or (max(sizes, key=quantity_value) if sizes else
                              ctx.options.pvc_request_size)
    modes = vh.get("access_modes")
    if not modes:
        modes = ["ReadWriteOnce"] if per_pod or key is None else plan(ctx).access_modes(key)
    spec: dict = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    storage_class = vh.get("storage_class") or next(
        (ctx.hints[u].storage_class for u in users if ctx.hints[u].storage_class), None)
    if storage_class:
        spec["storageClassName"] = storage_class
    if vh.get("selector"):
        spec["selector"] = {"matchLabels": {"io.kompose.service": vh["selector"]}}
    return spec


def some(items: list[str], limit: int = 4) -> str:
    """`a, b, c` or, past `limit`, `a, b, c and 17 more`."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit - 1]) + f" and {len(items) - limit + 1} more"


def sharing_note(ctx, key, service: str) -> str:
    """`shared with a, b` / `shared by the 3 replicas` for a report line, or ''."""
    p = plan(ctx)
    if key is None or not p.across_pods(key):
        return ""
    others = [u for u in p.users(key) if u != service]
    if others:
        return "shared with " + some(others)
    return f"shared by the {p.pods(key)} pods of {ctx.group_of[service].name}"


def claim_mount(ctx, service, mount, pod, kind, *, key, name: str, volume=None, why: str,
                report_key: str, caveat: str = "", note: str = "", sub_path=None,
                read_only=None) -> dict:
    """Mount the claim `name` standing for `key` (or a per-pod emptyDir in emptyDir mode).

    `why` names what the claim stands for; a `caveat` (how it differs from compose) makes the
    report entry an approximation, a `note` is only said."""
    report = ctx.report
    p = plan(ctx)
    read_only = mount.read_only if read_only is None else read_only
    users = p.users(key) if key is not None else [service.name]
    group = ctx.group_of[service.name].name
    if volume_mode(ctx, service.name) == "emptyDir":
        vol = pod.get(("claim", key or (service.name, mount.target)), name, {"emptyDir": {}})
        shared = sharing_note(ctx, key, service.name)
        report.approximated(service.name, report_key,
                            f"{why} -> emptyDir (--volumes emptyDir): its data is lost when the "
                            "pod is deleted" + (f"; not {shared} (each pod has its own)"
                                                if shared else ""))
        return mount_entry(vol, mount.target, read_only=read_only, sub_path=sub_path)
    template = kind == "StatefulSet" and (key is None or p.only_group(key, group))
    spec = claim_spec(ctx, key, volume, users, per_pod=template)
    size = spec["resources"]["requests"]["storage"]
    pod_key = ("claim", key or (service.name, mount.target))
    if template:
        labels = ctx.meta(name, group)["labels"]
        vol = pod.claim_template(pod_key, name, spec, labels)
        detail = f"{why} -> volumeClaimTemplate {vol} ({size}), one claim per replica"
        if key is not None and p.pods(key) > 1:
            caveat = "; ".join(c for c in (caveat, "compose shares one volume between the "
                                                    "replicas") if c)
        _report(report, service.name, report_key, detail, caveat, note)
        return mount_entry(vol, mount.target, read_only=read_only, sub_path=sub_path)
    owner = name if len(p.groups.get(key, ())) > 1 else group
    if not ctx.has("PersistentVolumeClaim", name):
        if "ReadWriteMany" in spec["accessModes"]:
            report.add("project", "", "volumes", "warning",
                       f"claim {name} is mounted by pods of {some(users)}, which may run on "
                       "different nodes: it asks for ReadWriteMany, which needs a storage class "
                       "that supports it (NFS, CephFS, EFS, Azure Files, Longhorn...); on a "
                       "one-node cluster ReadWriteOnce works too (x-kubernetes accessModes on "
                       "a named volume)")
    ctx.add({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": ctx.meta(name, owner), "spec": spec}, f"service {service.name!r}")
    vol = pod.get(pod_key, name, {"persistentVolumeClaim": {"claimName": name}})
    if "ReadWriteOnce" in spec["accessModes"] or "ReadWriteOncePod" in spec["accessModes"]:
        pod.uses_claims = True
    modes = "/".join(spec["accessModes"])
    shared = sharing_note(ctx, key, service.name)
    _report(report, service.name, report_key, f"{why} -> PersistentVolumeClaim {name} ({size}, "
            f"{modes}" + (f", {shared}" if shared else "") + ")", caveat, note)
    return mount_entry(vol, mount.target, read_only=read_only, sub_path=sub_path)


def _report(report, service: str, key: str, detail: str, caveat: str, note: str) -> None:
    if note:
        detail = f"{detail}; {note}"
    if caveat:
        report.approximated(service, key, f"{detail}: {caveat}")
    else:
        report.mapped(service, key, detail)

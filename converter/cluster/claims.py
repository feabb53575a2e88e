"""What apply and down do with the claims that hold a project's data.

docker compose never removes a volume unless told to (`down -v`), never recreates one whose
settings changed unless the user says yes, and keeps the volumes of a service that was removed
or renamed. c2k does the same with PersistentVolumeClaims, whose data goes with them (reclaim
policy Delete is the usual default):

- prune keeps the claims of volumes the project no longer has (and of StatefulSets it prunes),
  names each, and deletes them only with --prune-volumes, after saying what they hold;
- a claim that exists keeps what cannot change once it is made (access modes, storage class,
  volume, selector, data source; its size can only grow, where the storage class allows it):
  apply sends the live values and says so, instead of failing (compose keeps the volume too);
- the claims StatefulSets make from their volumeClaimTemplates (``<template>-<name>-<n>``)
  are no ApplySet members: the parent names them in an annotation, written before anything
  is deleted, so that `down --volumes` finds them after their StatefulSet is gone;
- before claims are deleted, each is described: the service, size, use and where it lives.
"""

from __future__ import annotations

import re

from ..kube.quantities import quantity_value
from .retry import call, is_not_found

KEPT_CLAIMS = "c2k.io/kept-claims"   # the parent's annotation: StatefulSet claims, by name
NAME = "app.kubernetes.io/name"
# What a claim cannot change once it is made (the API server refuses it).
IMMUTABLE = ("accessModes", "storageClassName", "volumeMode", "volumeName", "selector",
             "dataSource", "dataSourceRef")
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicationController", "ReplicaSet",
             "Job", "CronJob", "Pod"}


def ref(name: str) -> str:
    return f"persistentvolumeclaim/{name}"


def live_claims(conn) -> dict[str, dict]:
    """The namespace's claims by name (whole objects: apply needs their specs)."""
    try:
        listed = call(conn.resource("v1", "PersistentVolumeClaim").get,
                      namespace=conn.namespace, missing_ok=True, what="listing claims")
    except Exception as exc:
        if is_not_found(exc):   # no namespace yet (a server dry run)
            return {}
        raise
    return {c["metadata"]["name"]: c for c in listed.get("items") or []}


def _expandable(conn, storage_class: str | None, cache: dict) -> bool:
    if not storage_class:
        return False
    if storage_class not in cache:
        try:
            sc = call(conn.resource("storage.k8s.io/v1", "StorageClass").get, name=storage_class,
                      missing_ok=True, forbidden_ok=True, what=f"reading storageclass "
                                                               f"{storage_class}")
            cache[storage_class] = bool(sc.get("allowVolumeExpansion"))
        except Exception as exc:
            if getattr(exc, "status", None) not in (403, 404):
                raise
            cache[storage_class] = False
    return cache[storage_class]


def settle(conn, bodies: list[dict], claims: dict[str, dict]) -> list[str]:
    """Make each claim body keep what its live claim cannot change; the notes to tell."""
    notes: list[str] = []
    classes: dict = {}
    for body in bodies:
        live = claims.get(body["metadata"]["name"]) if body.get("kind") == \
            "PersistentVolumeClaim" else None
        if live is None:
            continue
        spec, now = dict(body.get("spec") or {}), live.get("spec") or {}
        kept = []
        for field_name in IMMUTABLE:
            if field_name in spec and spec[field_name] != now.get(field_name):
                if field_name in now:
                    kept.append(f"{field_name} {_show(now[field_name])} (not "
                                f"{_show(spec[field_name])})")
                    spec[field_name] = now[field_name]
                else:
                    kept.append(f"no {field_name} (not {_show(spec[field_name])})")
                    del spec[field_name]
        wanted = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        has = ((now.get("resources") or {}).get("requests") or {}).get("storage")
        if wanted and has and wanted != has:
            grow = (quantity_value(wanted) or 0) > (quantity_value(has) or 0)
            if not grow or not _expandable(conn, now.get("storageClassName"), classes):
                why = "a claim cannot shrink" if not grow else \
                    f"storage class {now.get('storageClassName') or '(none)'} cannot expand claims"
                kept.append(f"size {has} (not {wanted}: {why})")
                spec["resources"] = {**spec["resources"],
                                     "requests": {**spec["resources"]["requests"],
                                                  "storage": has}}
        if kept:
            body["spec"] = spec
            notes.append(f"{ref(body['metadata']['name'])} keeps its data and its "
                         f"{'; '.join(kept)}: a claim cannot change these once it is made "
                         "(to get them, copy the data out, delete the claim and apply again)")
    return notes


def _show(value) -> str:
    if isinstance(value, list):
        return "/".join(map(str, value))
    return str(value)


# ---- claims made by StatefulSets -------------------------------------------------------------

def template_patterns(statefulsets: list[dict]) -> list[re.Pattern]:
    out = []
    for sts in statefulsets:
        for tpl in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            out.append(re.compile(re.escape(f"{tpl['metadata']['name']}-"
                                            f"{sts['metadata']['name']}-") + r"\d+"))
    return out


def recorded(parent: dict | None) -> set[str]:
    """The StatefulSet claims the parent names."""
    value = ((parent or {}).get("metadata", {}).get("annotations") or {}).get(KEPT_CLAIMS, "")
    return set(value.split(",")) - {""}


def template_claims(statefulsets: list[dict], parent: dict | None, names) -> list[str]:
    """The claims among `names` that the StatefulSets made or that the parent names."""
    patterns = template_patterns(statefulsets)
    known = recorded(parent)
    return sorted(n for n in names if n in known or any(p.fullmatch(n) for p in patterns))


def kept_annotations(names) -> dict | None:
    """The parent's annotations naming StatefulSet claims (None: there are none)."""
    return {KEPT_CLAIMS: ",".join(sorted(names))} if names else None


# ---- who mounts what -------------------------------------------------------------------------

def pod_spec(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    return (spec.get("template") or {}).get("spec") or {}


def written_claims(obj: dict) -> set[str]:
    """The claims a workload's pods mount writable (its templates' claims excluded: they are
    its own)."""
    spec = pod_spec(obj)
    claims = {v["name"]: v["persistentVolumeClaim"] for v in spec.get("volumes") or []
              if v.get("persistentVolumeClaim", {}).get("claimName")
              and not v["persistentVolumeClaim"].get("readOnly")}
    return {claims[m["name"]]["claimName"]
            for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
            for m in c.get("volumeMounts") or []
            if m.get("name") in claims and not m.get("readOnly")}


# ---- saying what a claim holds ---------------------------------------------------------------

def describe(conn, names: list[str], claims: dict[str, dict], summaries=None) -> list[str]:
    """One line per claim: its service, size and modes, how much it holds (when a kubelet
    measured it) and the volume where the data lives."""
    usage = _usage(conn, names, summaries)
    volumes = conn.resource("v1", "PersistentVolume")
    lines = []
    for name in names:
        claim = claims.get(name) or {"metadata": {"name": name}}
        labels = claim["metadata"].get("labels") or {}
        spec, status = claim.get("spec") or {}, claim.get("status") or {}
        parts = []
        size = (status.get("capacity") or {}).get("storage") or \
            ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        if size:
            parts.append(f"{size} {'/'.join(spec.get('accessModes') or [])}".strip())
        if name in usage:
            parts.append(usage[name])
        volume = spec.get("volumeName")
        if volume:
            parts.append(f"persistentvolume/{volume}" + _where(volumes, volume))
        elif status.get("phase"):
            parts.append(status["phase"].lower())
        service = f" (service {labels[NAME]})" if labels.get(NAME) else ""
        lines.append(f"{ref(name)}{service}: " + (", ".join(parts) or "nothing known"))
    return lines


def _where(volumes, name: str) -> str:
    try:
        pv = call(volumes.get, name=name, missing_ok=True, forbidden_ok=True, attempts=2,
                  what=f"reading persistentvolume/{name}")
    except Exception:
        return ""
    spec = pv.get("spec") or {}
    policy = spec.get("persistentVolumeReclaimPolicy")
    path = (spec.get("hostPath") or spec.get("local") or {}).get("path")
    csi = spec.get("csi") or {}
    where = f" at {path}" if path else (f" ({csi['driver']} {csi.get('volumeHandle')})"
                                        if csi.get("driver") else "")
    return where + (f", reclaim policy {policy}" if policy else "")


def usage_summaries(conn) -> dict[str, dict]:
    """The stats summaries of the nodes that run pods mounting claims in the namespace (read
    while those pods still run: down deletes them first)."""
    from .observe import _stats_summary
    try:
        pods = call(conn.resource("v1", "Pod").get, namespace=conn.namespace, attempts=2,
                    what="listing pods").get("items") or []
    except Exception:
        return {}
    nodes = {str((p.get("spec") or {}).get("nodeName")) for p in pods
             if (p.get("spec") or {}).get("nodeName")
             and any(v.get("persistentVolumeClaim") for v in (p.get("spec") or {}).get("volumes")
                     or [])}
    out: dict[str, dict] = {}
    for node in sorted(nodes):
        try:
            out[node] = _stats_summary(conn, node)
        except Exception:
            continue
    return out


def _usage(conn, names, summaries) -> dict[str, str]:
    if summaries is None:
        summaries = usage_summaries(conn)
    out = {}
    for summary in summaries.values():
        for pod in summary.get("pods") or []:
            for vol in pod.get("volume") or []:
                claim = (vol.get("pvcRef") or {})
                if claim.get("namespace") == conn.namespace and claim.get("name") in names \
                        and vol.get("usedBytes") is not None:
                    files = vol.get("inodesUsed")
                    out[claim["name"]] = f"{_bytes(vol['usedBytes'])} used" + (
                        f" ({files} files and folders)" if files is not None else "")
    return out


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"

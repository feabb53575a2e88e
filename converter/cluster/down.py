"""`c2k down`: delete exactly the project's ApplySet members, then wait until they are gone.

Only objects labelled with this project's ApplySet id are deleted (foreground propagation, so a
Deployment is gone only once its pods are), plus, with ``volumes``, the claims the project's
StatefulSets created from their volumeClaimTemplates (``<template>-<statefulset>-<ordinal>``).
Claims are kept unless ``volumes``; the parent then stays, listing the kept claims (members by
kind, StatefulSet claims by name in an annotation written before anything is deleted), so a
later ``down --volumes`` still finds them, even after a down stopped halfway. With ``volumes``
it first says which claims go and what they hold (claims.py). The namespace goes too when c2k
created it for this project (apply annotates it so), nothing of the project was kept and nothing
else lives in it; any other namespace stays. down holds the project's lock (lock.py) while it
works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import kinds
from . import claims as claims_
from .apply import CREATED_FOR, rank, ref
from .applyset import ApplySet, group_kind
from .lock import ProjectLock
from .retry import METADATA_ONLY, call, delete, wait_gone

if TYPE_CHECKING:
    from .kubeconfig import Connection

# Kinds conversion produces: looked for even when the parent is gone.
KNOWN = {k.group_kind for k in kinds.where(lambda k: k.converted and k.namespaced)}
KEPT_CLAIMS = claims_.KEPT_CLAIMS
RUN_OF = "c2k.io/run-of"  # one-off Jobs of c2k run (verbs.py)


def down(conn: Connection, project: str, *, volumes: bool = False, timeout: float = 300,
         progress=None, warn=None, interval: float = 0.3) -> tuple[list[dict], list[dict]]:
    """Delete the project's objects; returns (deleted, kept). warn(line) gets what is said
    about the data (default: progress)."""
    say = progress or (lambda line: None)
    tell = warn or say
    with ProjectLock(conn, project, "down", warn=tell) as lock:
        lock.acquire()
        return _down(conn, project, volumes, timeout, say, tell, interval)


def _down(conn: Connection, project: str, volumes: bool, timeout: float, say, tell,
          interval: float) -> tuple[list[dict], list[dict]]:
    applyset = ApplySet(conn, project, conn.namespace)
    parent = applyset.fetch_parent()
    members = applyset.members(applyset.group_kinds(parent) | KNOWN, full=False)
    statefulsets = [o for _, o in members if o["kind"] == "StatefulSet"]
    if statefulsets:
        statefulsets = [o for _, o in applyset.members({"StatefulSet.apps"}, full=True)]
    live = claims_.live_claims(conn)
    names = {m[1]["metadata"]["name"] for m in members if m[1]["kind"] ==
             "PersistentVolumeClaim"}
    by_name = [n for n in claims_.template_claims(statefulsets, parent, live) if n not in names]
    wrote = bool(by_name) and claims_.recorded(parent) != set(by_name)
    if wrote:
        # named before their StatefulSets go: a down stopped halfway leaves them findable
        applyset.write_parent(applyset.group_kinds(parent) | {group_kind(o) for _, o in members},
                              annotations=claims_.kept_annotations(by_name))
    resource = conn.resource("v1", "PersistentVolumeClaim")
    template_claims = [(resource, {**live[n], "kind": "PersistentVolumeClaim",
                                   "apiVersion": "v1"}) for n in by_name]
    if volumes and (names or by_name):
        doomed = sorted(names | set(by_name))
        tell(f"down --volumes deletes {len(doomed)} claim(s) and the data in them:")
        for line in claims_.describe(conn, doomed, live):
            tell(f"  {line}")
    jobs = conn.resource("batch/v1", "Job")
    runs = call(jobs.get, namespace=conn.namespace, label_selector=f"{RUN_OF}={applyset.id}",
                header_params=dict(METADATA_ONLY), what="listing one-off jobs")
    for item in runs.get("items") or []:
        item["kind"], item["apiVersion"] = "Job", "batch/v1"
        members.append((jobs, item))
    # Delete in the reverse of apply order: workloads before the claims and config they use.
    members.sort(key=lambda m: -rank(m[1]))
    deleted, kept = [], []
    for resource, obj in members + template_claims:
        if obj["kind"] == "PersistentVolumeClaim" and not volumes:
            kept.append(obj)
            continue
        delete(resource, obj["metadata"]["name"], obj["metadata"].get("namespace"),
               propagation_policy="Foreground", what=f"deleting {ref(obj)}")
        deleted.append((resource, obj))
        say(f"{ref(obj)} deleted")
    wait_gone(deleted, timeout, interval)
    if kept:
        member_kinds = {group_kind(o) for o in kept if o["metadata"]["name"] not in by_name}
        applyset.write_parent(member_kinds, annotations=claims_.kept_annotations(by_name))
        for obj in kept:
            say(f"{ref(obj)} kept (use --volumes to delete claims)")
    else:
        if parent is not None or wrote:
            applyset.delete_parent()
            say(f"secret/{applyset.name} deleted (ApplySet parent)")
        _delete_namespace_made_for(conn, project, say, timeout, interval)
    return [o for _, o in deleted], kept


# What a namespace holds that is nobody's doing: Kubernetes puts these in every one.
_DEFAULTS = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}
# What a namespace holds that is somebody's, looked for before deleting one: what runs there
# first (named first when it is kept), then what c2k writes and what workloads make.
_CONTENTS = (kinds.BY_NAME["Pod"],) + kinds.where(
    lambda k: k.namespaced and (k.converted or k.name == "ReplicaSet"))


def _delete_namespace_made_for(conn: Connection, project: str, say, timeout: float, interval: float) -> None:
    """Delete conn.namespace when c2k created it for `project` and nothing else is in it."""
    namespaces = conn.resource("v1", "Namespace")
    name = conn.namespace
    try:
        namespace = call(namespaces.get, name=name, missing_ok=True, forbidden_ok=True,
                         what=f"reading namespace {name}")
    except Exception as exc:
        if getattr(exc, "status", None) in (403, 404):   # not ours to see, or gone already
            return
        raise
    if (namespace["metadata"].get("annotations") or {}).get(CREATED_FOR) != project:
        return
    others = _contents(conn, name)
    if others:
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        say(f"namespace/{name} kept: created for {project}, it also holds "
            f"{', '.join(others[:3])}{more}")
        return
    delete(namespaces, name, None, what=f"deleting namespace {name}")
    namespace["kind"] = "Namespace"
    wait_gone([(namespaces, namespace)], timeout, interval)
    say(f"namespace/{name} deleted (created for {project})")


def _contents(conn: Connection, namespace: str) -> list[str]:
    """kind/name of what lives in the namespace, but for what Kubernetes puts in every one."""
    found = []
    for row in _CONTENTS:
        kind = row.name
        try:
            listed = call(conn.resource(row.api_version, kind).get, namespace=namespace,
                          header_params=dict(METADATA_ONLY), forbidden_ok=True,
                          what=f"listing {kind}s in {namespace}")
        except Exception as exc:
            if getattr(exc, "status", None) != 403:
                raise
            found.append(f"{kind.lower()}s it may not list")   # cannot tell: keep it
            continue
        for item in listed.get("items") or []:
            meta = item["metadata"]
            if (kind, meta["name"]) in _DEFAULTS or meta.get("deletionTimestamp") or \
                    "kubernetes.io/service-account.name" in (meta.get("annotations") or {}):
                continue
            found.append(f"{kind.lower()}/{meta['name']}")
    return found

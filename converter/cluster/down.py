"""`c2k down`: delete exactly the project's ApplySet members, then wait until they are gone.

Only objects labelled with this project's ApplySet id are deleted (foreground propagation, so a
Deployment is gone only once its pods are), plus, with ``volumes``, the claims the project's
StatefulSets created from their volumeClaimTemplates (``<template>-<statefulset>-<ordinal>``).
Claims are kept unless ``volumes``; the parent then stays, listing the kept claims (members by
kind, StatefulSet claims by name in an annotation written before anything is deleted), so a
later ``down --volumes`` still finds them, even after a down stopped halfway. With ``volumes``
it first says which claims go and what they hold (claims.py). The namespace is never deleted:
other people's objects may live in it. down holds the project's lock (lock.py) while it works.
"""

from __future__ import annotations

from . import claims as claims_
from .apply import ORDER, ref
from .applyset import ApplySet, group_kind
from .lock import ProjectLock
from .retry import METADATA_ONLY, call, delete, wait_gone

# Kinds conversion produces: looked for even when the parent is gone.
KNOWN = {"Secret", "ConfigMap", "PersistentVolumeClaim", "Service", "ServiceAccount",
         "Deployment.apps", "StatefulSet.apps", "DaemonSet.apps", "ReplicationController",
         "Job.batch", "CronJob.batch", "Ingress.networking.k8s.io",
         "HorizontalPodAutoscaler.autoscaling", "NetworkPolicy.networking.k8s.io"}
KEPT_CLAIMS = claims_.KEPT_CLAIMS
RUN_OF = "c2k.io/run-of"  # one-off Jobs of c2k run (verbs.py)


def down(conn, project: str, *, volumes: bool = False, timeout: float = 300, progress=None,
         warn=None, interval: float = 0.3) -> tuple[list[dict], list[dict]]:
    """Delete the project's objects; returns (deleted, kept). warn(line) gets what is said
    about the data (default: progress)."""
    say = progress or (lambda line: None)
    tell = warn or say
    with ProjectLock(conn, project, "down", warn=tell) as lock:
        lock.acquire()
        return _down(conn, project, volumes, timeout, say, tell, interval)


def _down(conn, project, volumes, timeout, say, tell, interval):
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
                              annotations=claims_.annotations(by_name))
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
    rank = {k: i for i, k in enumerate(ORDER)}
    members.sort(key=lambda m: -rank.get(m[1]["kind"], len(ORDER)))
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
        applyset.write_parent(member_kinds, annotations=claims_.annotations(by_name))
        for obj in kept:
            say(f"{ref(obj)} kept (use --volumes to delete claims)")
    elif parent is not None or wrote:
        applyset.delete_parent()
        say(f"secret/{applyset.name} deleted (ApplySet parent)")
    return [o for _, o in deleted], kept

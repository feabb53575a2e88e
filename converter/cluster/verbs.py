"""The compose verbs that act on a project's workloads, by service name: ps, scale, stop,
start, restart, kill. (events/port/logs/top: observe.py; run/exec: oneoff.py.)

A service is the ``app.kubernetes.io/name`` label of the project's workloads (the ApplySet
members). Replica changes (scale, stop, start) are server-side applies by ``c2k`` of its own
applied configuration with the one field changed (see fields.py), so a later ``c2k apply``
neither conflicts nor needs --force-conflicts: like ``docker compose up``, it resets the service
to the compose file. ``restart`` sets the pod template's restartedAt annotation under its own
field manager, so apply leaves it alone and does not roll the pods again.
"""

from __future__ import annotations

import datetime as dt

from .. import kinds
from ..errors import ClusterError
from .applyset import FIELD_MANAGER, ApplySet
from .fields import applied_config
from .retry import call, delete

NAME = "app.kubernetes.io/name"
WORKLOAD_KINDS = {k.group_kind for k in kinds.where(lambda k: k.converted and k.workload)}
REPLICAS_ANNOTATION = "c2k.io/stopped-replicas"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def service_of(obj: dict) -> str:
    return (obj.get("metadata", {}).get("labels") or {}).get(NAME) or obj["metadata"]["name"]


def workloads(conn, project: str) -> list[tuple[object, dict]]:
    """[(resource, object)] of the project's workloads, by service name then kind."""
    applyset = ApplySet(conn, project, conn.namespace)
    parent = applyset.fetch_parent()
    if parent is None:
        raise ClusterError(f"project {project} is not deployed in namespace {conn.namespace}",
                           hint="run c2k up (or apply), or pass -n NAMESPACE")
    kinds = applyset.group_kinds(parent) & WORKLOAD_KINDS
    found = applyset.members(kinds)
    return sorted(found, key=lambda m: (service_of(m[1]), m[1]["kind"]))


def select(conn, project: str, services=()) -> list[tuple[object, dict]]:
    """The workloads of the named services (all when none is named); unknown names fail."""
    found = workloads(conn, project)
    if not services:
        return found
    by_service: dict[str, list] = {}
    for item in found:
        by_service.setdefault(service_of(item[1]), []).append(item)
    out = []
    for name in services:
        key = name if name in by_service else _k8s_name(name)
        if key not in by_service:
            raise ClusterError(f"no service {name!r} in project {project}",
                               hint="services: " + (", ".join(sorted(by_service)) or "none"))
        out.extend(by_service[key])
    return out


def _k8s_name(name: str) -> str:
    from ..kube.names import dns_label
    return dns_label(name)


def _age(timestamp: str | None, now: dt.datetime | None = None) -> str:
    if not timestamp:
        return "-"
    now = now or dt.datetime.now(dt.timezone.utc)
    then = dt.datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def pod_selector(obj: dict) -> str | None:
    if obj["kind"] == "CronJob":      # no selector: its Jobs' pods carry the template's labels
        labels = ((kinds.pod_template(obj) or {}).get("metadata") or {}).get("labels") or {}
        labels = {k: v for k, v in labels.items() if k in (NAME, "app.kubernetes.io/instance")}
    else:
        labels = kinds.selector_labels(obj)
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None


def pods_of(conn, obj: dict) -> list[dict]:
    selector = pod_selector(obj)
    if not selector:
        return []
    listed = call(conn.resource("v1", "Pod").get, namespace=conn.namespace,
                  label_selector=selector, what="listing pods")
    return sorted(listed.get("items") or [], key=lambda p: p["metadata"]["name"])


def pod_status(pod: dict) -> str:
    """The STATUS column of kubectl get pods, roughly."""
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    for cs in (status.get("initContainerStatuses") or []):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") and waiting["reason"] != "PodInitializing":
            return f"Init:{waiting['reason']}"
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            return state["waiting"]["reason"]
        if (state.get("terminated") or {}).get("reason") and status.get("phase") != "Succeeded":
            return state["terminated"]["reason"]
    return status.get("reason") or status.get("phase") or "Unknown"


def ps(conn, project: str, services=()) -> list[dict]:
    """One row per pod: service, pod, status, ready, restarts, age."""
    rows = []
    for _, obj in select(conn, project, services):
        for pod in pods_of(conn, obj):
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            ready = sum(1 for cs in statuses if cs.get("ready"))
            total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
            rows.append({"service": service_of(obj), "name": pod["metadata"]["name"],
                         "status": pod_status(pod), "ready": f"{ready}/{total}",
                         "restarts": sum(cs.get("restartCount", 0) for cs in statuses),
                         "age": _age(pod["metadata"].get("creationTimestamp"))})
    return rows


def table(rows: list[dict], columns) -> str:
    header = [c.upper() for c in columns]
    data = [header] + [[str(r[c]) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in data) for i in range(len(columns))]
    return "".join("   ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n"
                   for row in data)


# ---- replicas: scale, stop, start --------------------------------------------------------------

def _reapply(conn, resource, obj: dict, change) -> dict:
    """Apply c2k's own configuration of obj with change(config) applied to it."""
    config = applied_config(obj, FIELD_MANAGER)
    if config is None:
        raise ClusterError(f"{obj['kind'].lower()}/{obj['metadata']['name']} was not applied "
                           "by c2k", hint="run c2k apply first")
    change(config)
    return call(resource.server_side_apply, body=config, field_manager=FIELD_MANAGER,
                what=f"updating {obj['kind'].lower()}/{obj['metadata']['name']}")


def _scalable(obj: dict, verb: str) -> None:
    if not kinds.BY_NAME[obj["kind"]].scalable:
        raise ClusterError(f"cannot {verb} {obj['kind'].lower()}/{obj['metadata']['name']}: "
                           f"a {obj['kind']} has no replica count")


def scale(conn, project: str, service: str, replicas: int) -> list[str]:
    out = []
    for resource, obj in select(conn, project, [service]):
        _scalable(obj, "scale")

        def change(config, n=replicas):
            config.setdefault("spec", {})["replicas"] = n
        _reapply(conn, resource, obj, change)
        out.append(f"{obj['kind'].lower()}/{obj['metadata']['name']} scaled to {replicas}")
    return out


def stop(conn, project: str, services=()) -> list[str]:
    out = []
    for resource, obj in select(conn, project, services):
        if not kinds.BY_NAME[obj["kind"]].scalable:
            continue
        current = (obj.get("spec") or {}).get("replicas", 1)
        annotations = obj["metadata"].get("annotations") or {}
        if current == 0 and REPLICAS_ANNOTATION in annotations:
            out.append(f"{obj['kind'].lower()}/{obj['metadata']['name']} already stopped")
            continue

        def change(config, n=current):
            config.setdefault("spec", {})["replicas"] = 0
            meta = config.setdefault("metadata", {})
            meta["annotations"] = {**(meta.get("annotations") or {}), REPLICAS_ANNOTATION: str(n)}
        _reapply(conn, resource, obj, change)
        out.append(f"{obj['kind'].lower()}/{obj['metadata']['name']} stopped (was {current})")
    return out


def start(conn, project: str, services=()) -> list[str]:
    out = []
    for resource, obj in select(conn, project, services):
        if not kinds.BY_NAME[obj["kind"]].scalable:
            continue
        annotations = obj["metadata"].get("annotations") or {}
        if REPLICAS_ANNOTATION not in annotations:
            out.append(f"{obj['kind'].lower()}/{obj['metadata']['name']} already running")
            continue
        try:
            replicas = int(annotations[REPLICAS_ANNOTATION])
        except ValueError:
            replicas = 1

        def change(config, n=replicas):
            config.setdefault("spec", {})["replicas"] = n
            meta = config.setdefault("metadata", {})
            rest = {k: v for k, v in (meta.get("annotations") or {}).items()
                    if k != REPLICAS_ANNOTATION}
            if rest:
                meta["annotations"] = rest
            else:
                meta.pop("annotations", None)
        _reapply(conn, resource, obj, change)
        out.append(f"{obj['kind'].lower()}/{obj['metadata']['name']} started ({replicas})")
    return out


def restart(conn, project: str, services=(), now: str | None = None) -> list[str]:
    """Rollout restart: a new restartedAt annotation on the pod template."""
    stamp = now or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for resource, obj in select(conn, project, services):
        if not kinds.BY_NAME[obj["kind"]].rolls:
            continue
        body = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                "metadata": {"name": obj["metadata"]["name"],
                             "namespace": obj["metadata"]["namespace"]},
                "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        call(resource.server_side_apply, body=body, field_manager="c2k-restart",
             force_conflicts=True, what=f"restarting {obj['kind'].lower()}/"
                                        f"{obj['metadata']['name']}")
        out.append(f"{obj['kind'].lower()}/{obj['metadata']['name']} restarted")
    return out


# ---- kill ----------------------------------------------------------------------------------

def kill(conn, project: str, services=()) -> list[str]:
    """Delete the services' pods at once (grace period 0); their controllers replace them."""
    out = []
    pods = conn.resource("v1", "Pod")
    for _, obj in select(conn, project, services):
        for pod in pods_of(conn, obj):
            delete(pods, pod["metadata"]["name"], conn.namespace, grace_period_seconds=0,
                   what=f"killing pod/{pod['metadata']['name']}")
            out.append(f"pod/{pod['metadata']['name']} killed")
    return out

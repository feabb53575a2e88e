"""Wait until workloads are rolled out and Jobs complete; say why when they are not.

The rollout checks follow kubectl's `pkg/polymorphichelpers/rollout_status.go`. Workloads are
polled with one LIST per kind per round. On timeout or failure the message names, per workload,
what holds it up: unschedulable pods, pending claims, image pull errors, crash loops, failed
containers, or the latest warning event.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .. import kinds
from ..errors import ClusterError
from . import status
from .apply import ref
from .applyset import PART_OF
from .retry import call

if TYPE_CHECKING:
    from .kubeconfig import Connection

BAD_WAITING = {"ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "InvalidImageName",
               "CreateContainerConfigError", "CreateContainerError", "ErrImageNeverPull",
               "RunContainerError"}


def is_waitable(obj: dict) -> bool:
    kind = kinds.of(obj)
    return kind is not None and kind.waits


def _condition(obj: dict, kind: str) -> dict | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def rollout_status(obj: dict) -> tuple[str, str]:
    """("done" | "waiting" | "failed", message) for a live workload."""
    kind = obj.get("kind")
    meta, spec, status = obj.get("metadata", {}), obj.get("spec") or {}, obj.get("status") or {}
    generation = meta.get("generation") or 0
    observed = status.get("observedGeneration") or 0
    if kind == "Job":
        for cond_type in ("Failed", "Complete", "SuccessCriteriaMet", "FailureTarget"):
            cond = _condition(obj, cond_type)
            if cond and cond.get("status") == "True":
                if cond_type in ("Complete", "SuccessCriteriaMet"):
                    return "done", "complete"
                return "failed", f"failed: {cond.get('reason', '')} {cond.get('message', '')}"
        completions = spec.get("completions") or 1
        return "waiting", (f"{status.get('succeeded') or 0} of {completions} completions, "
                           f"{status.get('active') or 0} running")
    if generation > observed:
        return "waiting", "waiting for the controller to see the new spec"
    if kind == "Deployment":
        cond = _condition(obj, "Progressing")
        if cond and cond.get("reason") == "ProgressDeadlineExceeded":
            return "failed", "exceeded its progress deadline"
        want = spec.get("replicas", 1)
        updated = status.get("updatedReplicas") or 0
        if updated < want:
            return "waiting", f"{updated} of {want} updated replicas"
        if (status.get("replicas") or 0) > updated:
            return "waiting", f"{status['replicas'] - updated} old replicas pending termination"
        available = status.get("availableReplicas") or 0
        if available < updated:
            return "waiting", f"{available} of {updated} updated replicas available"
        return "done", "rolled out"
    if kind in ("StatefulSet", "ReplicationController"):
        want = spec.get("replicas", 1)
        ready = status.get("readyReplicas") or 0
        if ready < want:
            return "waiting", f"{ready} of {want} replicas ready"
        strategy = spec.get("updateStrategy") or {}
        if kind == "StatefulSet" and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
            if partition:
                if (status.get("updatedReplicas") or 0) < want - partition:
                    return "waiting", "partitioned rollout in progress"
            elif status.get("updateRevision") != status.get("currentRevision"):
                return "waiting", (f"{status.get('updatedReplicas') or 0} of {want} pods "
                                   "at the new revision")
        return "done", "rolled out"
    if kind == "DaemonSet":
        want = status.get("desiredNumberScheduled") or 0
        if (status.get("updatedNumberScheduled") or 0) < want:
            return "waiting", f"{status.get('updatedNumberScheduled') or 0} of {want} updated"
        if (status.get("numberAvailable") or 0) < want:
            return "waiting", f"{status.get('numberAvailable') or 0} of {want} available"
        return "done", "rolled out"
    return "done", ""


def _selector(obj: dict) -> str | None:
    labels = kinds.selector_labels(obj)
    if not labels:
        return None
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def pod_problems(pod: dict, claims: dict[str, dict] | None, *, exits: bool = True) -> list[str]:
    """Readable reasons why one pod is not ready (empty when none is known). claims None:
    not looked at; exits False: leave out containers that ended and crash loops (an attached
    up shows those as they happen)."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    out = []
    volumes = (pod.get("spec") or {}).get("volumes") or [] if claims is not None else []
    for vol in volumes:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim:
            continue
        pvc = (claims or {}).get(claim)
        if pvc is None:
            out.append(f"claim {claim} does not exist")
        elif (pvc.get("status") or {}).get("phase") != "Bound":
            out.append(f"claim {claim} is {(pvc.get('status') or {}).get('phase', 'Pending')}"
                       + (f" (storage class {pvc['spec'].get('storageClassName')})"
                          if (pvc.get("spec") or {}).get("storageClassName") else ""))
    sched = _condition(pod, "PodScheduled")
    if sched and sched.get("status") == "False":
        out.append(f"pod {name} is unschedulable: {sched.get('message') or sched.get('reason')}")
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            state = cs.get("state") or {}
            waiting = state.get("waiting") or {}
            terminated = state.get("terminated") or {}
            if not exits and (terminated or waiting.get("reason") == "CrashLoopBackOff"):
                continue
            if waiting.get("reason") in BAD_WAITING:
                text = f"pod {name} container {cs['name']}: {waiting['reason']}"
                if waiting.get("message"):
                    text += f": {waiting['message']}"
                last = (cs.get("lastState") or {}).get("terminated") or {}
                if waiting["reason"] == "CrashLoopBackOff" and last:
                    text += f" (last exit code {last.get('exitCode')}, " \
                            f"{cs.get('restartCount', 0)} restarts)"
                out.append(text)
            elif terminated and terminated.get("exitCode") not in (0, None):
                out.append(f"pod {name} container {cs['name']} exited with code "
                           f"{terminated['exitCode']} ({terminated.get('reason', '')})")
    if status.get("phase") == "Failed" and exits:
        out.append(f"pod {name} failed: {status.get('reason', '')} {status.get('message', '')}"
                   .rstrip())
    return out


def diagnose(conn: Connection, obj: dict) -> list[str]:
    """Why a workload is not ready: reasons from its pods, claims, conditions and events."""
    ns = obj["metadata"].get("namespace") or conn.namespace
    reasons: list[str] = []
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") in ("ReplicaFailure",) and cond.get("status") == "True":
            reasons.append(f"{cond.get('reason')}: {cond.get('message')}")
    selector = _selector(obj)
    pods: list[dict] = []
    if selector:
        pods = call(conn.resource("v1", "Pod").get, namespace=ns, label_selector=selector,
                    what="listing pods").get("items") or []
    claims = {}
    if any(v.get("persistentVolumeClaim") for p in pods
            for v in (p.get("spec") or {}).get("volumes") or []):
        listed = call(conn.resource("v1", "PersistentVolumeClaim").get, namespace=ns,
                      what="listing claims").get("items") or []
        claims = {c["metadata"]["name"]: c for c in listed}
    for pod in pods:
        reasons.extend(pod_problems(pod, claims))
    if not reasons:
        names = {obj["metadata"]["name"]} | {p["metadata"]["name"] for p in pods}
        events = call(conn.resource("v1", "Event").get, namespace=ns,
                      what="listing events").get("items") or []
        warnings = [e for e in events if e.get("type") == "Warning"
                    and (e.get("involvedObject") or {}).get("name", "").startswith(
                        tuple(names))]
        warnings.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        for event in warnings[-3:]:
            reasons.append(f"{event['involvedObject'].get('kind', '').lower()}/"
                           f"{event['involvedObject'].get('name')}: {event.get('reason')}: "
                           f"{event.get('message', '').strip()}")
    if not pods and not reasons and obj.get("kind") != "Job":
        reasons.append("no pods were created")
    seen, out = set(), []
    for r in reasons:
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out


def wait_for(conn: Connection, objects: list[dict], timeout: float, *, progress=None,
             interval: float = 0.5, clock=time.monotonic, deadline: float | None = None
             ) -> list[str]:
    """Wait until every workload in objects is done; return its lines, raise on failure.
    `deadline` (a clock() value) ends a wait that shares its `timeout` with earlier ones."""
    say = progress or (lambda line: None)
    pending = {(o["kind"], o["metadata"]["name"]): o for o in objects if is_waitable(o)}
    deadline = clock() + timeout if deadline is None else deadline
    last: dict = {}
    done_lines: list[str] = []
    while True:
        live: dict = {}
        for kind in sorted({k for k, _ in pending}):
            sample = next(o for (k, _), o in pending.items() if k == kind)
            resource = conn.resource(sample["apiVersion"], kind)
            items = call(resource.get, namespace=conn.namespace,
                         label_selector=_member_selector(sample),
                         what=f"reading {kind} status").get("items") or []
            for item in items:
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", sample["apiVersion"])
                live[(kind, item["metadata"]["name"])] = item
        failures = []
        for k in sorted(pending):
            obj = live.get(k)
            if obj is None:
                state, message = "waiting", "not found"
            else:
                state, message = rollout_status(obj)
            if state == "done":
                line = status.applied(ref(pending[k]), pending[k],
                                      "complete" if k[0] == "Job" else "rolled out")
                say(line)
                done_lines.append(line)
                del pending[k]
            elif state == "failed":
                failures.append((pending[k], obj, message))
            elif last.get(k) != message:
                last[k] = message
                say(status.waiting(ref(pending[k]), pending[k], message))
        if failures:
            raise _failure("failed", conn, failures)
        if not pending:
            return done_lines
        if clock() >= deadline:
            raise _failure(f"timed out after {_human(timeout)}", conn,
                           [(pending[k], live.get(k), last.get(k, "waiting")) for k in
                            sorted(pending)])
        time.sleep(interval)


def _member_selector(obj: dict) -> str | None:
    value = (obj["metadata"].get("labels") or {}).get(PART_OF)
    return f"{PART_OF}={value}" if value else None


def _human(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def _failure(what: str, conn: Connection, items) -> ClusterError:
    lines = []
    for body, live, message in items:
        lines.append(f"  {ref(body)}: {message}")
        if live is not None:
            for reason in diagnose(conn, live):
                lines.append(f"    - {reason}")
    return ClusterError(f"{what} waiting for {len(items)} workload(s):\n" + "\n".join(lines),
                        hint="see `c2k events` and `c2k ps`; raise --timeout if it is only slow")

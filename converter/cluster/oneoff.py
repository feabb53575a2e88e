"""One-off commands in a deployed project: run (a Job from a service's pod template) and exec
(in a running pod)."""

from __future__ import annotations

import copy
import json
import time
import uuid

from ..errors import ClusterError
from .applyset import ApplySet
from .retry import call, delete
from .verbs import RESTARTED_AT, _k8s_name, pods_of, select, service_of


# ---- run ----------------------------------------------------------------------------------------

RUN_LABEL = "c2k.io/run"
RUN_OF = "c2k.io/run-of"        # the ApplySet id: down deletes the one-off Jobs too


def run_job(obj: dict, project: str, command=(), name: str | None = None,
            keep_seconds: int = 3600, set_id: str = "") -> dict:
    """A one-off Job from a workload's pod template, like `docker compose run SERVICE CMD`.

    Its pods do not carry the service's selector labels, so Services never route to them.
    """
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    service = service_of(obj)
    labels = {RUN_LABEL: service, "app.kubernetes.io/part-of": project,
              "app.kubernetes.io/managed-by": "c2k"}
    meta = template.get("metadata") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != RESTARTED_AT}
    template["metadata"] = {"labels": labels, **({"annotations": annotations}
                                                 if annotations else {})}
    pod = template.setdefault("spec", {})
    pod["restartPolicy"] = "Never"
    containers = pod.get("containers") or []
    if not containers:
        raise ClusterError(f"service {service} has no container to run")
    first = containers[0]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        for c in containers:
            c.pop(probe, None)
    if command:
        first["command"] = list(command)
        first.pop("args", None)
    job_name = name or f"{obj['metadata']['name'][:40]}-run-{uuid.uuid4().hex[:5]}"
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": job_name, "namespace": obj["metadata"]["namespace"],
                         "labels": {**labels, **({RUN_OF: set_id} if set_id else {})}},
            "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": keep_seconds,
                     "template": template}}


def run(conn, project: str, service: str, command=(), *, wait: bool = True,
        timeout: float = 300, remove: bool = False, out=None, warn=None) -> tuple[dict, int]:
    """Create the one-off Job and, unless not wait, wait for it to end and write its output to
    out, as `docker compose run` shows the container's; return (the Job as created, the exit
    code of its container: 0 when not waited for)."""
    _, obj = select(conn, project, [service])[0]
    body = run_job(obj, project, command,
                   set_id=ApplySet(conn, project, conn.namespace).id)
    jobs = conn.resource("batch/v1", "Job")
    created = call(jobs.create, body=body, namespace=conn.namespace,
                   what=f"creating job.batch/{body['metadata']['name']}")
    if not wait:
        return created, 0
    try:
        pod = _wait_job(conn, created, timeout)
        code = _exit_code(pod) or 0
        _show_output(conn, pod, out or (lambda text: None), warn or (lambda text: None))
    finally:
        if remove:       # a Job already gone (deleted by hand, or its TTL) is fine
            delete(jobs, body["metadata"]["name"], conn.namespace,
                   propagation_policy="Background",
                   what=f"deleting job.batch/{body['metadata']['name']}")
    return created, code


def _wait_job(conn, job: dict, timeout: float) -> dict | None:
    """Wait until the Job is complete, or failed because its container exited non-zero;
    return its pod (None when it has none left)."""
    from .wait import _failure, rollout_status
    jobs = conn.resource("batch/v1", "Job")
    deadline = time.monotonic() + timeout
    name = job["metadata"]["name"]
    while True:
        live = call(jobs.get, name=name, namespace=conn.namespace, what=f"reading job {name}")
        live.setdefault("kind", "Job")
        live.setdefault("apiVersion", "batch/v1")
        state, message = rollout_status(live)
        if state == "done":
            return _job_pod(conn, name)
        if state == "failed":
            pod = _job_pod(conn, name)
            if _exit_code(pod):
                return pod
            raise _failure("failed", conn, [(live, live, message)])
        if time.monotonic() >= deadline:
            raise _failure("timed out", conn, [(live, live, message)])
        time.sleep(0.3)


def _job_pod(conn, job_name: str) -> dict | None:
    listed = call(conn.resource("v1", "Pod").get, namespace=conn.namespace,
                  label_selector=f"batch.kubernetes.io/job-name={job_name}",
                  what=f"listing the pods of job {job_name}")
    pods = sorted(listed.get("items") or [],
                  key=lambda p: p["metadata"].get("creationTimestamp") or "")
    return pods[-1] if pods else None


def _exit_code(pod: dict | None) -> int | None:
    """The exit code of the pod's first container, once it has ended."""
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or []
    terminated = ((statuses[0].get("state") or {}).get("terminated") or {}) if statuses else {}
    return terminated.get("exitCode")


def _show_output(conn, pod: dict | None, out, warn) -> None:
    from .observe import _read_log
    if pod is None:
        warn("the one-off pod is gone: no output to show")
        return
    container, name = pod["spec"]["containers"][0]["name"], pod["metadata"]["name"]
    try:
        out(_read_log(conn, name, {"container": container}, what=f"reading pod/{name}'s log"))
    except ClusterError as exc:
        warn(f"the output of pod {name} is unavailable: {exc.message}")


# ---- exec ---------------------------------------------------------------------------------------

def exec_in(conn, project: str, service: str, command, *, index: int = 1,
            container: str | None = None, out=None, err=None) -> int:
    """Run command in the index-th running pod of service (no stdin, no tty); return its
    exit code. Output goes to out/err as it arrives."""
    import sys
    from kubernetes import client
    from kubernetes.stream import stream
    out = out or sys.stdout.write
    err = err or sys.stderr.write
    pods = [p for _, obj in select(conn, project, [service]) for p in pods_of(conn, obj)
            if (p.get("status") or {}).get("phase") == "Running"]
    if not pods:
        raise ClusterError(f"service {service!r} has no running pod")
    if not 1 <= index <= len(pods):
        raise ClusterError(f"service {service!r} has {len(pods)} running pod(s), no "
                           f"--index {index}")
    pod = pods[index - 1]["metadata"]["name"]
    core = client.CoreV1Api(conn.api)
    kwargs = {"container": container} if container else {}
    try:
        resp = stream(core.connect_get_namespaced_pod_exec, pod, conn.namespace,
                      command=list(command), stderr=True, stdin=False, stdout=True, tty=False,
                      _preload_content=False, **kwargs)
        while resp.is_open():
            resp.update(timeout=1)
            if resp.peek_stdout():
                out(resp.read_stdout())
            if resp.peek_stderr():
                err(resp.read_stderr())
        status = resp.read_channel(3)
        resp.close()
    except ClusterError:
        raise
    except Exception as exc:
        from .kubeconfig import explain
        raise explain(exc, f"exec in pod {pod}") from None
    return exit_code(status, pod)


def exit_code(status: str, pod: str) -> int:
    """The exit code from the exec error channel's Status ('' or Success: 0)."""
    if not status:
        return 0
    try:
        data = json.loads(status)
    except ValueError:
        raise ClusterError(f"exec in pod {pod} failed: {status.strip()}") from None
    if data.get("status") == "Success":
        return 0
    if data.get("reason") == "NonZeroExitCode":
        for cause in (data.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                return int(cause.get("message", 1))
        return 1
    raise ClusterError(f"exec in pod {pod} failed: {data.get('message', status).strip()}",
                       hint="the node's kubelet must run the container; simulated (kwok) "
                            "nodes do not")


# ---- rm ------------------------------------------------------------------------------------------

def _finished(job: dict) -> bool:
    status = job.get("status") or {}
    for cond in status.get("conditions") or ():
        if cond.get("type") in ("Complete", "Failed", "SuccessCriteriaMet", "FailureTarget") \
                and cond.get("status") == "True":
            return True
    return not status.get("active") and bool(status.get("succeeded") or status.get("failed"))


def rm(conn, project: str, services=(), *, force_running: bool = False) -> list[str]:
    """Like `docker compose rm`: remove what is stopped — the project's finished one-off Jobs
    (`c2k run`) and the services' pods that ended (Succeeded/Failed). Running one-off Jobs are
    kept unless force_running. Long-running workloads are left to `down`."""
    if services:
        select(conn, project, services)          # unknown service names fail here
    wanted = {n for name in services for n in (name, _k8s_name(name))}
    out = []
    jobs = conn.resource("batch/v1", "Job")
    listed = call(jobs.get, namespace=conn.namespace,
                  label_selector=f"{RUN_LABEL},app.kubernetes.io/part-of={project}",
                  what="listing one-off jobs")
    for job in sorted(listed.get("items") or [], key=lambda j: j["metadata"]["name"]):
        service = (job["metadata"].get("labels") or {}).get(RUN_LABEL)
        if wanted and service not in wanted:
            continue
        if not _finished(job) and not force_running:
            continue
        name = job["metadata"]["name"]
        delete(jobs, name, conn.namespace, propagation_policy="Background",
               what=f"deleting job.batch/{name}")
        out.append(f"job.batch/{name} removed")
    pods = conn.resource("v1", "Pod")
    for _, obj in select(conn, project, services):
        for pod in pods_of(conn, obj):
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                continue
            name = pod["metadata"]["name"]
            delete(pods, name, conn.namespace, what=f"deleting pod/{name}")
            out.append(f"pod/{name} removed")
    if not out:
        out.append("nothing to remove")
    return out

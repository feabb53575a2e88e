"""Workloads: which controller runs a service, and the controller object around its pod.

The kind follows the lifecycle compose gives the service; first match wins:
1. a schedule (`kompose.cronjob.schedule`, `x-kubernetes.schedule`) -> CronJob;
2. an explicit controller (`kompose.controller.type`, `x-kubernetes.controller`);
3. a one-shot -> Job: `deploy.mode` replicated-job / global-job; a service another waits on
   with `condition: service_completed_successfully` (whatever its restart policy: a Job runs it
   to completion once, where compose would restart an `always` container after it succeeded);
   `restart: "no"` / `deploy.restart_policy.condition: none` when nothing suggests a server:
   no ports or expose, no healthcheck, nobody waiting for it to start or be healthy (links
   included), nobody naming it in a `host:port` (references.py);
4. `deploy.mode: global` -> DaemonSet;
5. `--controller`;
6. Deployment. `restart: on-failure` is a server that restarts when it crashes: a Deployment,
   reported because Kubernetes also restarts it after a clean exit.
A Job's restartPolicy and backoffLimit: `no`, `none` or no restart at all (docker's default) is
one attempt (Never, 0); on-failure retries in place (OnFailure) up to `on-failure:N` /
`max_attempts` (else Kubernetes' 6); `always` / `unless-stopped` retries failures (OnFailure).
Replicas: --replicas, else deploy.replicas / scale, else 1. A Deployment that mounts a
ReadWriteOnce claim uses the Recreate strategy (a rolling update would wait for the old pod's
volume forever on another node).
"""

from __future__ import annotations

from . import labels
from .options import CONTROLLERS

KIND = {"deployment": "Deployment", "statefulset": "StatefulSet", "daemonset": "DaemonSet",
        "replicationcontroller": "ReplicationController"}
API = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
       "ReplicationController": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}
assert set(KIND) == set(CONTROLLERS)


def restart_mode(service) -> tuple[str | None, int | None, str]:
    """(None | "never" | "on-failure", max attempts, compose key that decided)."""
    policy = service.deploy.restart_policy if service.deploy else None
    if policy is not None and policy.condition:
        cond = policy.condition.lower()
        if cond == "none":
            return "never", policy.max_attempts, "deploy.restart_policy"
        if cond == "on-failure":
            return "on-failure", policy.max_attempts, "deploy.restart_policy"
        return None, None, "deploy.restart_policy"
    restart = (service.restart or "").strip().lower()
    if restart in ("no", "false"):
        return "never", None, "restart"
    if restart.startswith("on-failure"):
        _, _, count = restart.partition(":")
        return "on-failure", int(count) if count.strip().isdecimal() else None, "restart"
    return None, None, "restart"


def waiters(project) -> dict[str, dict[str, list[str]]]:
    """service -> {depends_on condition -> services that wait on it with it} (links are
    service_started dependencies in the model)."""
    out: dict[str, dict[str, list[str]]] = {}
    for svc in project.services.values():
        for dep, cond in svc.depends_on.items():
            out.setdefault(dep, {}).setdefault(cond.condition, []).append(svc.name)
    return out


def completion_waiters(ctx, service) -> list[str]:
    return ctx.waiters.get(service.name, {}).get("service_completed_successfully", [])


def server_signs(ctx, service) -> list[str]:
    """What says a service is a server, whatever its restart policy."""
    signs = []
    if service.ports or service.expose:
        signs.append("it has ports")
    if service.healthcheck is not None and not service.healthcheck.disable and \
            service.healthcheck.test not in (None, ("NONE",)):
        signs.append("it has a healthcheck")
    waits = ctx.waiters.get(service.name, {})
    started = sorted(set(waits.get("service_started", []) + waits.get("service_healthy", [])))
    if started:
        signs.append(f"{', '.join(started)} wait{'s' if len(started) == 1 else ''} for it "
                     "to start")
    naming = sorted({r.service for r in ctx.references
                     if r.target == service.name and r.service != service.name})
    if naming:
        signs.append(f"{', '.join(naming)} name{'s' if len(naming) == 1 else ''} it with a port")
    return signs


def decide_kind(ctx, service) -> str:
    hints = ctx.hints[service.name]
    mode = service.deploy.mode if service.deploy else None
    if hints.schedule:
        return "CronJob"
    if hints.controller:
        return KIND[hints.controller]
    if mode in ("replicated-job", "global-job") or completion_waiters(ctx, service):
        return "Job"
    once, _, _ = restart_mode(service)
    if once == "never" and not server_signs(ctx, service):
        return "Job"
    if mode == "global":
        return "DaemonSet"
    if ctx.options.controller:
        return KIND[ctx.options.controller]
    return "Deployment"


def job_policy(service) -> tuple[str, int | None]:
    """(restartPolicy, backoffLimit or None for Kubernetes' default) of a service run as a Job."""
    once, attempts, _ = restart_mode(service)
    if once == "on-failure":
        return "OnFailure", attempts
    if once == "never" or (service.restart is None and not (
            service.deploy and service.deploy.restart_policy)):
        return "Never", 0
    return "OnFailure", None        # always / unless-stopped / any: retry failures


def replicas(ctx, service) -> int:
    if ctx.options.replicas is not None:
        return ctx.options.replicas
    value = service.replicas
    return 1 if value is None else value


def _report_kind(ctx, service, kind) -> None:
    report = ctx.report
    name = service.name
    hints = ctx.hints[name]
    once, attempts, key = restart_mode(service)
    mode = service.deploy.mode if service.deploy else None
    if kind == "CronJob":
        report.mapped(name, "labels.kompose.cronjob.schedule", "CronJob")
    if hints.controller:
        report.mapped(name, "labels.kompose.controller.type", kind)
    waiting = completion_waiters(ctx, service)
    if kind == "Job" and waiting:
        report.mapped(name, "depends_on", f"a Job: {', '.join(sorted(waiting))} "
                                          f"wait{'s' if len(waiting) == 1 else ''} for it to "
                                          "complete (service_completed_successfully)")
    restart_set = service.restart is not None or bool(
        service.deploy and service.deploy.restart_policy)
    if kind in ("Job", "CronJob"):
        policy, limit = job_policy(service)
        detail = f"Job restartPolicy {policy}" + (
            f", backoffLimit {limit}" if limit is not None else "")
        if restart_set and once is None:
            report.approximated(name, key, detail + ": it runs to completion once; compose "
                                                    "would restart it after it succeeded too")
        elif restart_set:
            report.mapped(name, key, detail)
    elif once == "on-failure":
        report.approximated(name, key, f"on-failure: a {kind}, restarted when it crashes and "
                                       "also after a clean exit (compose leaves it stopped)"
                            + (f"; the limit of {attempts} attempts is not kept"
                               if attempts is not None else "")
                            + ("" if server_signs(ctx, service) else
                               '; if it is a one-shot task, restart: "no" makes it a Job'))
    elif once == "never":
        why = "; ".join(server_signs(ctx, service)) or f"a {kind} was asked for"
        report.approximated(name, key, f"no restart, but {why}: a {kind}, restarted when it "
                                       "exits (compose would leave it stopped)")
    elif restart_set:
        report.mapped(name, key, f"{kind} (pods restart always)")
    policy = service.deploy.restart_policy if service.deploy else None
    if policy is not None:
        if policy.delay is not None:
            report.not_converted(name, "deploy.restart_policy.delay",
                                 "Kubernetes uses its own back-off")
        if policy.window is not None:
            report.not_converted(name, "deploy.restart_policy.window",
                                 "Kubernetes has no restart window")
    if mode:
        if mode == "global" and kind != "DaemonSet":
            report.approximated(name, "deploy.mode", f"global, but a {kind} was asked for")
        else:
            report.mapped(name, "deploy.mode", kind)


def _strategy(service, kind, uses_claims, report) -> dict | None:
    update = service.deploy.update_config if service.deploy else None
    if kind == "Deployment" and uses_claims:
        if update is not None:
            report.approximated(service.name, "deploy.update_config",
                                "the Deployment mounts a volume claim: Recreate strategy")
        return {"type": "Recreate"}
    if update is None or kind not in ("Deployment", "DaemonSet"):
        if update is not None:
            report.not_converted(service.name, "deploy.update_config",
                                 f"a {kind} has no equivalent rolling-update settings")
        return None
    step = update.parallelism or 1
    if update.order == "start-first":
        rolling = {"maxSurge": step, "maxUnavailable": 0}
    else:
        rolling = {"maxSurge": 0, "maxUnavailable": step}
    if kind == "DaemonSet":
        rolling = {"maxUnavailable": step} if update.order != "start-first" else rolling
    report.mapped(service.name, "deploy.update_config", "rolling update settings")
    for key in ("delay", "failure_action", "monitor", "max_failure_ratio"):
        if getattr(update, key) is not None:
            report.not_converted(service.name, f"deploy.update_config.{key}",
                                 "no Kubernetes equivalent")
    return {"type": "RollingUpdate", "rollingUpdate": rolling}


def workload(ctx, group, pod_spec: dict, pod_meta: dict, pod_volumes, annotations: dict,
             workload_labels: dict) -> dict:
    """The controller object for `group` around its pod template."""
    service = ctx.project.services[group.primary]
    kind = ctx.kinds[group.name]
    _report_kind(ctx, service, kind)
    hints = ctx.hints[service.name]
    meta = ctx.meta(group.name, group.name, labels=workload_labels, annotations=annotations)
    template = {"metadata": pod_meta, "spec": pod_spec}
    selector = {"matchLabels": labels.selector(group.name, ctx.project.name)}
    count = replicas(ctx, service)
    if ctx.options.replicas is not None:
        ctx.report.mapped(service.name, "replicas", f"--replicas {count}")
    elif service.deploy and service.deploy.replicas is not None:
        ctx.report.mapped(service.name, "deploy.replicas")
    elif service.scale is not None:
        ctx.report.mapped(service.name, "scale", "replicas")
    spec: dict
    if kind in ("Job", "CronJob"):
        policy, limit = job_policy(service)
        pod_spec["restartPolicy"] = policy
        job: dict = {}
        if kind == "CronJob" and hints.backoff_limit is not None:
            job["backoffLimit"] = hints.backoff_limit
        elif limit is not None:
            job["backoffLimit"] = limit
        if count != 1:
            job["completions"] = count
            job["parallelism"] = count
        job["template"] = template
        if kind == "Job":
            spec = job
        else:
            spec = {"schedule": hints.schedule}
            if hints.concurrency_policy:
                spec["concurrencyPolicy"] = hints.concurrency_policy
                ctx.report.mapped(service.name, "labels.kompose.cronjob.concurrency_policy")
            if hints.backoff_limit is not None:
                ctx.report.mapped(service.name, "labels.kompose.cronjob.backoff_limit")
            spec["jobTemplate"] = {"spec": job}
    elif kind == "DaemonSet":
        spec = {"selector": selector}
        strategy = _strategy(service, kind, pod_volumes.uses_claims, ctx.report)
        if strategy:
            spec["updateStrategy"] = strategy
        spec["template"] = template
        if service.replicas not in (None, 1) and ctx.options.replicas is None:
            ctx.report.approximated(service.name, "deploy.replicas",
                                    "a DaemonSet runs one pod per node")
    elif kind == "ReplicationController":
        spec = {"replicas": count, "selector": dict(selector["matchLabels"]),
                "template": template}
    else:
        spec = {"replicas": count, "selector": selector}
        if kind == "StatefulSet":
            spec["serviceName"] = ctx.governing[group.name]
            if pod_volumes.claim_templates:
                spec["volumeClaimTemplates"] = pod_volumes.claim_templates
        else:
            strategy = _strategy(service, kind, pod_volumes.uses_claims, ctx.report)
            if strategy:
                spec["strategy"] = strategy
        spec["template"] = template
    return {"apiVersion": API[kind], "kind": kind, "metadata": meta, "spec": spec}

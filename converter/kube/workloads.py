"""Workloads: which controller runs a service, and the controller object around its pod.

The kind, first match wins:
1. a schedule (`kompose.cronjob.schedule`, `x-kubernetes.schedule`) -> CronJob;
2. an explicit controller (`kompose.controller.type`, `x-kubernetes.controller`);
3. a one-shot service -> Job: `restart: "no"` / `on-failure[:N]`, `deploy.restart_policy.condition`
   none / on-failure, `deploy.mode` replicated-job / global-job. `restart: "no"` means one attempt
   (backoffLimit 0, restartPolicy Never); on-failure retries in place (restartPolicy OnFailure)
   up to `max_attempts` / `on-failure:N` (Kubernetes' default of 6 when unset);
4. `deploy.mode: global` -> DaemonSet;
5. `--controller`;
6. Deployment (an unset restart stays a long-running workload).
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


def decide_kind(ctx, service) -> str:
    hints = ctx.hints[service.name]
    mode = service.deploy.mode if service.deploy else None
    if hints.schedule:
        return "CronJob"
    if hints.controller:
        return KIND[hints.controller]
    once, _, _ = restart_mode(service)
    if once or mode in ("replicated-job", "global-job"):
        return "Job"
    if mode == "global":
        return "DaemonSet"
    if ctx.options.controller:
        return KIND[ctx.options.controller]
    return "Deployment"


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
    if service.restart is not None or (service.deploy and service.deploy.restart_policy):
        if kind in ("Job", "CronJob"):
            report.mapped(name, key, "Job restartPolicy " + (
                "OnFailure" if once == "on-failure" else "Never") + (
                f", backoffLimit {attempts}" if attempts is not None else ""))
        elif once:
            report.approximated(name, key, f"a one-shot restart policy, but the {kind} "
                                           "restarts its pods always")
        else:
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
        once, attempts, _ = restart_mode(service)
        pod_spec["restartPolicy"] = "OnFailure" if once == "on-failure" else "Never"
        job: dict = {}
        if kind == "CronJob" and hints.backoff_limit is not None:
            job["backoffLimit"] = hints.backoff_limit
        elif once == "never" and kind == "Job":
            job["backoffLimit"] = 0
        elif attempts is not None:
            job["backoffLimit"] = attempts
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

"""HorizontalPodAutoscaler (autoscaling/v2) from `kompose.hpa.*` / `x-kubernetes.autoscale`.

min/max replicas and CPU / memory average utilisation in percent (kompose's defaults 1, 3, 50,
70). Utilisation is relative to the container requests, so the report warns when the service
reserves no CPU or memory.
"""

from __future__ import annotations

from .. import kinds


def build_autoscalers(ctx) -> None:
    for group in ctx.groups.values():
        svc = ctx.project.services[group.primary]
        hpa = ctx.hints[svc.name].hpa
        if not hpa:
            continue
        key = "labels.kompose.hpa"
        kind = ctx.kinds[group.name]
        if not kinds.BY_NAME[kind].scalable:
            ctx.report.not_converted(svc.name, key, f"a {kind} cannot be autoscaled")
            continue
        low, high = max(1, hpa["min"]), max(1, hpa["max"])
        if high < low:
            ctx.report.approximated(svc.name, key, f"max {high} is below min {low}; max = min")
            high = low
        metrics = []
        for resource in ("cpu", "memory"):
            value = hpa[resource]
            if value and value > 0:
                metrics.append({"type": "Resource", "resource": {
                    "name": resource,
                    "target": {"type": "Utilization", "averageUtilization": min(value, 100)}}})
        spec = {"scaleTargetRef": {"apiVersion": kinds.api_version(kind), "kind": kind,
                                   "name": group.name},
                "minReplicas": low, "maxReplicas": high}
        if metrics:
            spec["metrics"] = metrics
        ctx.add({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                 "metadata": ctx.meta(group.name, group.name), "spec": spec},
                f"service {svc.name!r}")
        reserves = svc.deploy is not None and (svc.deploy.reservations.cpus is not None
                                               or svc.deploy.reservations.memory is not None)
        if reserves or svc.mem_reservation is not None:
            ctx.report.mapped(svc.name, key, f"HorizontalPodAutoscaler {low}-{high} replicas")
        else:
            ctx.report.approximated(svc.name, key, "HorizontalPodAutoscaler; utilisation needs "
                                                   "resource requests (deploy.resources."
                                                   "reservations), which the service lacks")

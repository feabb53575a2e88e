"""Container resources from `deploy.resources`, the v2 keys and kompose's ephemeral-storage labels.

limits <- deploy.resources.limits (else `mem_limit` / `cpus`); requests <- deploy.resources
.reservations (else `mem_reservation`). GPUs reserved through `devices` become `nvidia.com/gpu`
(or `<driver>/gpu`) limits. A request above its limit is lowered to the limit and reported.

A CPU or memory limit without a reservation gets an explicit request of 0: Kubernetes would
otherwise take the limit as the request and reserve it on a node, where docker compose reserves
nothing (a project whose limits add up to more than a small node would not schedule at all).
"""

from __future__ import annotations

from .quantities import bytes_quantity, cpu_quantity, quantity_value


def container_resources(service, hints, report) -> dict:
    name = service.name
    deploy = service.deploy
    limits: dict = {}
    requests: dict = {}
    lim = deploy.limits if deploy else None
    res = deploy.reservations if deploy else None

    def take(out: dict, where: str, resource: str, quantity, *keys) -> None:
        """out[resource] from the first of the (compose key, value) pairs that is set."""
        for key, value in keys:
            if value is not None:
                out[resource] = quantity(value)
                report.mapped(name, key, f"{where}.{resource} {out[resource]}")
                return

    take(limits, "limits", "cpu", cpu_quantity,
         ("deploy.resources.limits.cpus", lim and lim.cpus), ("cpus", service.cpus))
    take(limits, "limits", "memory", bytes_quantity,
         ("deploy.resources.limits.memory", lim and lim.memory), ("mem_limit", service.mem_limit))
    if lim and lim.pids is not None:
        report.not_converted(name, "deploy.resources.limits.pids",
                             "Kubernetes sets PID limits per node (kubelet podPidsLimit)")
    if service.pids_limit is not None:
        report.not_converted(name, "pids_limit",
                             "Kubernetes sets PID limits per node (kubelet podPidsLimit)")
    if lim and lim.devices:
        report.not_converted(name, "deploy.resources.limits.devices",
                             "devices are requested through reservations in compose")

    take(requests, "requests", "cpu", cpu_quantity,
         ("deploy.resources.reservations.cpus", res and res.cpus))
    take(requests, "requests", "memory", bytes_quantity,
         ("deploy.resources.reservations.memory", res and res.memory),
         ("mem_reservation", service.mem_reservation))
    if res and res.pids is not None:
        report.not_converted(name, "deploy.resources.reservations.pids",
                             "Kubernetes has no PID reservation")
    if res and res.devices:
        _devices(res.devices, limits, report, name)

    gpus = service.other.get("gpus")
    if gpus:
        if gpus == "all" or not isinstance(gpus, (list, tuple)):
            _devices([{"capabilities": ["gpu"], "count": "all"}], limits, report, name, "gpus")
        else:
            _devices([{**g, "capabilities": ["gpu"]} for g in gpus], limits, report, name, "gpus")
    if hints.ephemeral_limit:
        limits["ephemeral-storage"] = hints.ephemeral_limit
    if hints.ephemeral_request:
        requests["ephemeral-storage"] = hints.ephemeral_request

    for key in list(requests):
        if key in limits:
            req, limit = quantity_value(requests[key]), quantity_value(limits[key])
            if req is not None and limit is not None and req > limit:
                report.approximated(name, f"deploy.resources.reservations.{key}",
                                    f"the reservation {requests[key]} is above the limit "
                                    f"{limits[key]}; the request is lowered to the limit")
                requests[key] = limits[key]
    for key in ("cpu", "memory"):
        if key in limits and key not in requests:
            requests[key] = "0"
    out: dict = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def _devices(devices, limits, report, name, key="deploy.resources.reservations.devices"):
    for device in devices:
        caps = [c for group in [device.get("capabilities") or []]
                for c in (group if isinstance(group, (list, tuple)) else [group])]
        flat = {str(c) for c in caps if not isinstance(c, (list, tuple))}
        for c in caps:
            if isinstance(c, (list, tuple)):
                flat.update(str(x) for x in c)
        if "gpu" not in flat:
            report.not_converted(name, key, "only GPU device reservations can be expressed "
                                            "(as extended resources)")
            continue
        driver = str(device.get("driver") or "nvidia")
        count = device.get("count")
        ids = device.get("device_ids") or ()
        if count in (None, "all", -1):
            number = len(ids) or 1
        else:
            try:
                number = int(count)
            except (TypeError, ValueError):
                number = 1
        resource = f"{driver.lower()}.com/gpu" if "." not in driver else f"{driver}/gpu"
        limits[resource] = str(number)
        report.approximated(name, key, f"{number} GPU(s) requested as the extended resource "
                                       f"{resource}; the cluster needs its device plugin"
                                       + ("; 'all' became 1" if count in ("all", -1) and not ids
                                          else ""))

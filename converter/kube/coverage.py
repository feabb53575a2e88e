"""The last step of a conversion: every compose key the model holds is in the report.

Steps report what they map, approximate or leave out. This pass walks the service's set fields,
its `other` keys, `x-*` extensions, kompose labels and deploy settings, and reports whatever no
step mentioned as not converted (with the reason where one is known), so nothing is dropped
silently. Top-level volumes and networks get their entries here too.
"""

from __future__ import annotations

from .. import records
from ..model import Service
from .hints import known_label

_FIELD_KEYS = {"env_files": "env_file"}
_SKIP = {"name", "extensions", "other", "deploy", "labels"}
_NO_EQUIVALENT = {
    "ulimits": "Kubernetes has no per-container ulimits (set them in the node's runtime)",
    "logging": "logging is configured for the whole cluster; pods log to stdout/stderr",
    "devices": "host devices need a device plugin in Kubernetes",
    "device_cgroup_rules": "host devices need a device plugin in Kubernetes",
    "cpu_shares": "Kubernetes derives CPU shares from requests (deploy.resources.reservations)",
    "cpu_quota": "Kubernetes derives the CPU quota from limits (deploy.resources.limits)",
    "cpu_period": "Kubernetes derives the CPU quota from limits (deploy.resources.limits)",
    "cpuset": "CPU pinning is the kubelet's CPU manager policy",
    "mem_swappiness": "swap is configured per node",
    "memswap_limit": "swap is configured per node",
    "oom_score_adj": "Kubernetes sets OOM scores from the pod's QoS class",
    "oom_kill_disable": "Kubernetes sets OOM scores from the pod's QoS class",
    "mac_address": "pods get their addresses from the cluster network",
    "runtime": "use a RuntimeClass (spec.runtimeClassName) in Kubernetes",
    "cgroup_parent": "the kubelet manages cgroups",
    "userns_mode": "user namespaces are pod.spec.hostUsers in Kubernetes",
    "develop": "compose watch is a development feature",
    "attach": "logs are read with kubectl logs",
}


def _checked_fields() -> list[tuple[str, str, object]]:
    """(field, compose key, default) of the Service fields this pass looks at."""
    out = []
    for f in records.fields(Service):
        if f.name not in _SKIP:
            out.append((f.name, _FIELD_KEYS.get(f.name, f.name), records.default_of(f)))
    return out


def report_coverage(ctx) -> None:
    """Report every set compose key that no step mentioned."""
    report = ctx.report
    checked = _checked_fields()
    for svc in ctx.project.services.values():
        name = svc.name
        for field_name, key, default in checked:
            value = getattr(svc, field_name)
            if value is None or value == default:
                continue
            if not report.covered("service", name, key):
                why = _NO_EQUIVALENT.get(key) or "c2k has no Kubernetes equivalent for it"
                report.not_converted(name, key, why)
        for key in svc.other:
            if not report.covered("service", name, key):
                report.not_converted(name, key, _NO_EQUIVALENT.get(key)
                                     or "c2k has no Kubernetes equivalent for it")
        for key in svc.extensions:
            if key != "x-kubernetes" and not report.covered("service", name, key):
                report.not_converted(name, key, "extension ignored")
        if "x-kubernetes" in svc.extensions:
            report.mapped(name, "x-kubernetes", "hints applied")
        for where, table in (("labels", svc.labels),
                             ("deploy.labels", svc.deploy.labels if svc.deploy else {})):
            for key in table:
                if not key.startswith("kompose."):
                    continue
                full = f"{where}.{key}"
                if report.covered("service", name, full) or report.covered(
                        "service", name, f"labels.{key}"):
                    continue
                if known_label(key):
                    report.mapped(name, full, "honoured")
                else:
                    report.not_converted(name, full, "unknown kompose label")
        if svc.deploy is not None:
            _deploy_coverage(report, name, svc.deploy)
    # Volumes no service uses are not in the model: the loader leaves them out, as compose.
    for vname, volume in ctx.project.volumes.items():
        if volume.driver and volume.driver != "local":
            report.add("volume", vname, "driver", "approximated",
                       f"driver {volume.driver}: a PersistentVolumeClaim is used")
    for nname, network in ctx.project.networks.items():
        if network.driver and network.driver not in ("bridge", "overlay"):
            report.add("network", nname, "driver", "not-converted",
                       f"driver {network.driver}: pods use the cluster network")
        if network.external:
            report.add("network", nname, "external", "not-converted",
                       "pods use the cluster network")


def _deploy_coverage(report, name, deploy) -> None:
    if deploy.endpoint_mode == "dnsrr":
        report.approximated(name, "deploy.endpoint_mode", "dnsrr: the Service has a virtual IP")
    elif deploy.endpoint_mode:
        report.mapped(name, "deploy.endpoint_mode", "the Service's virtual IP")
    if deploy.rollback_config is not None:
        report.not_converted(name, "deploy.rollback_config",
                             "Kubernetes rolls back with `kubectl rollout undo`")
    for f in ("limits", "reservations"):
        spec = getattr(deploy, f)
        for g in ("cpus", "memory", "pids", "devices"):
            value = getattr(spec, g)
            if value not in (None, ()):
                key = f"deploy.resources.{f}.{g}"
                if not report.covered("service", name, key):
                    report.not_converted(name, key, "no Kubernetes equivalent")
    for key in ("placement", "update_config", "restart_policy", "labels", "replicas", "mode"):
        value = getattr(deploy, key)
        if value not in (None, {}, ()) and not (key == "labels" and not value) \
                and not report.covered("service", name, f"deploy.{key}"):
            if key == "labels" and all(k.startswith("kompose.") for k in value):
                continue
            if key == "replicas":
                report.mapped(name, "deploy.replicas", "replicas")
                continue
            report.not_converted(name, f"deploy.{key}", "no Kubernetes equivalent")

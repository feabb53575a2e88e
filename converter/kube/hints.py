"""Per-service Kubernetes hints: kompose's `kompose.*` labels and the `x-kubernetes` extension.

Users migrating from kompose keep their labels (anchors.md §2 lists them all); new projects can
write the same hints as one `x-kubernetes` block (schema in extension.py). When both give a hint,
`x-kubernetes` wins. `service_hints` returns one `Hints` per service that the later steps read.
"""

from __future__ import annotations

from ..errors import ConversionError
from ..records import field, record
from .extension import service_extension
from .values import (
    CONCURRENCY,
    HPA_DEFAULTS,
    HPA_LABELS,
    PROBE_LABELS,
    PULL_POLICIES,
    SERVICE_TYPES,
    TRAFFIC_POLICIES,
    ProbeHints,
    as_bool,
    as_int,
    choice,
    command,
    controller,
    expose_hosts,
    quantity,
    volume_type,
)


@record(kw_only=True)
class Hints:
    name: str | None = None
    controller: str | None = None
    group: str | None = None                       # x-kubernetes.group (always applies)
    group_label: str | None = None                 # kompose.service.group (--service-group-mode label)
    schedule: str | None = None
    concurrency_policy: str | None = None
    backoff_limit: int | None = None
    service_type: str | None = None
    node_port: int | None = None
    external_traffic_policy: str | None = None
    expose: tuple[tuple[str, str], ...] = ()       # (host, path); host "" = any host
    tls: bool = False
    tls_secret: str | None = None
    ingress_class: str | None = None
    hpa: dict | None = None                        # {min, max, cpu, memory}
    init_containers: tuple[dict, ...] = ()
    image_pull_policy: str | None = None
    image_pull_secrets: tuple[str, ...] = ()
    service_account: str | None = None
    fs_group: int | None = None
    ephemeral_limit: str | None = None
    ephemeral_request: str | None = None
    volume_type: str | None = None
    volume_size: str | None = None
    storage_class: str | None = None
    volume_subpath: str | None = None
    readiness: ProbeHints | None = None
    liveness: ProbeHints | None = None
    host_ports: bool = False
    used: tuple[str, ...] = field(default=())      # hint keys seen (for the report)

def _labels_table():
    return {
        "kompose.service.name_override": ("name", lambda v, p: str(v).strip()),
        "kompose.controller.type": ("controller", controller),
        "kompose.service.group": ("group_label", lambda v, p: str(v).strip()),
        "kompose.cronjob.schedule": ("schedule", lambda v, p: str(v).strip()),
        "kompose.cronjob.concurrency_policy":
            ("concurrency_policy", lambda v, p: choice(v, CONCURRENCY, p)),
        "kompose.cronjob.backoff_limit": ("backoff_limit", lambda v, p: as_int(v, p, low=0)),
        "kompose.service.type": ("service_type", lambda v, p: choice(v, SERVICE_TYPES, p)),
        "kompose.service.nodeport.port":
            ("node_port", lambda v, p: as_int(v, p, low=1, high=65535)),
        "kompose.service.external-traffic-policy":
            ("external_traffic_policy", lambda v, p: choice(v, TRAFFIC_POLICIES, p)),
        "kompose.service.expose": ("expose", expose_hosts),
        "kompose.service.expose.tls-secret": ("tls_secret", lambda v, p: str(v).strip()),
        "kompose.service.expose.ingress-class-name":
            ("ingress_class", lambda v, p: str(v).strip()),
        "kompose.image-pull-policy":
            ("image_pull_policy", lambda v, p: choice(v, PULL_POLICIES, p)),
        "kompose.image-pull-secret": ("image_pull_secrets",
                                      lambda v, p: tuple(s.strip() for s in str(v).split(",")
                                                         if s.strip())),
        "kompose.serviceaccount-name": ("service_account", lambda v, p: str(v).strip()),
        "kompose.security-context.fsgroup": ("fs_group", lambda v, p: as_int(v, p, low=0)),
        "kompose.ephemeral-storage.limit": ("ephemeral_limit", quantity),
        "kompose.ephemeral-storage.request": ("ephemeral_request", quantity),
        "kompose.volume.type": ("volume_type", volume_type),
        "kompose.volume.size": ("volume_size", quantity),
        "kompose.volume.storage-class-name": ("storage_class", lambda v, p: str(v).strip()),
        "kompose.volume.subpath": ("volume_subpath", lambda v, p: str(v).strip()),
        "kompose.controller.port.expose": ("host_ports", as_bool),
    }


def known_label(key: str) -> bool:
    if key in _labels_table() or key in HPA_LABELS:
        return True
    for kind in ("readiness", "liveness"):
        prefix = f"kompose.service.healthcheck.{kind}."
        if key.startswith(prefix) and key[len(prefix):] in PROBE_LABELS:
            return True
    return key.startswith("kompose.init.containers.") and key.rsplit(".", 1)[1] in (
        "name", "image", "command")


def service_hints(service) -> Hints:
    """Read the kompose labels (service labels, then deploy labels) and `x-kubernetes`."""
    values: dict = {}
    used: list[str] = []
    labels = dict(service.deploy.labels) if service.deploy else {}
    labels.update(service.labels)
    table = _labels_table()
    probes = {"readiness": {}, "liveness": {}}
    hpa: dict = {}
    init: dict = {}
    for key in sorted(labels):
        if not key.startswith("kompose."):
            continue
        where = "labels" if key in service.labels else "deploy.labels"
        path = ("services", service.name, where, key)
        value = labels[key]
        if key in table:
            name, parse = table[key]
            values[name] = parse(value, path)
        elif key in HPA_LABELS:
            hpa[HPA_LABELS[key]] = as_int(value, path, low=0)
        elif key.startswith("kompose.service.healthcheck."):
            kind, _, what = key[len("kompose.service.healthcheck."):].partition(".")
            if kind not in probes or what not in PROBE_LABELS:
                continue
            if kind == "liveness" and what not in ("http_get_path", "http_get_port", "tcp_port"):
                continue
            name, parse = PROBE_LABELS[what]
            probes[kind][name] = parse(value, path)
        elif key.startswith("kompose.init.containers."):
            what = key.rsplit(".", 1)[1]
            if what == "command":
                init["command"] = command(value, path)
            elif what in ("name", "image"):
                init[what] = str(value).strip()
            else:
                continue
        else:
            continue
        used.append(f"{where}.{key}")
    if "tls_secret" in values:
        secret = values.pop("tls_secret")
        values["tls"] = True
        if secret.lower() != "true" and secret:
            values["tls_secret"] = secret
    if hpa:
        values["hpa"] = {**HPA_DEFAULTS, **hpa}
    if init:
        if "image" not in init:
            raise ConversionError("kompose.init.containers.image is required",
                                  path=("services", service.name, "labels"))
        values["init_containers"] = ({"name": init.get("name", "init-service"),
                                      "image": init["image"],
                                      "command": init.get("command", ())},)
    for kind in ("readiness", "liveness"):
        if probes[kind]:
            values[kind] = ProbeHints(**probes[kind])

    ext = service.extensions.get("x-kubernetes")
    if ext is not None:
        values.update(service_extension(ext, ("services", service.name, "x-kubernetes")))
        used.append("x-kubernetes")
    return Hints(**values, used=tuple(used))



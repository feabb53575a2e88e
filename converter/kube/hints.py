"""Per-service Kubernetes hints: one table, read from kompose's `kompose.*` labels and from the
`x-kubernetes` extension, and printed as docs/hints.md.

Users migrating from kompose keep their labels (anchors.md §2 lists them all); new projects can
write the same hints as one structured `x-kubernetes` block. Each row of `HINTS` names one hint
once: the `Hints` field it sets, its `x-kubernetes` key (dotted where it sits in a mapping), its
kompose label, how its value is read (values.py) and what it means. Labels are read here;
extension.py walks `x-kubernetes` by the same rows; hintdocs.py writes the documentation. When
both give a hint, `x-kubernetes` wins, hint by hint.

A new hint: a row here and its field in `Hints`, then the step that uses it.
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import ConversionError
from ..records import field, record
from . import extension
from .values import (ACCESS, BOOLEAN, COMMAND, CONCURRENCY, CONTROLLER, DURATION, HEALTH_TEST,
                     HOSTS, INIT_CONTAINERS, NAMES, PORT, PULL_POLICIES, QUANTITY, SERVICE_TYPES,
                     TEXT, TLS, TRAFFIC_POLICIES, VOLUME_TYPE, ProbeHints, Value, integer, one_of)


class Hint(NamedTuple):
    field: str | tuple[str, ...]    # Hints field(s); "hpa.min", "readiness.interval": a part
    key: str | None                 # x-kubernetes key, dotted inside a mapping
    label: str | None               # kompose label
    value: Value
    meaning: str
    default: object = None          # applied for the parts of hpa and init containers


def _probe(kind: str, keys: tuple[str, ...]) -> list[Hint]:
    rows = {
        "disable": ("disable", BOOLEAN, "true: no {probe}"),
        "test": ("test", HEALTH_TEST, "the {probe}'s command, instead of the healthcheck's"),
        "interval": ("interval", DURATION, "the {probe}'s periodSeconds"),
        "timeout": ("timeout", DURATION, "the {probe}'s timeoutSeconds"),
        "retries": ("retries", integer(1), "the {probe}'s failureThreshold"),
        "start_period": ("startPeriod", DURATION, "the {probe}'s initialDelaySeconds"),
        "http_get_path": ("httpGet.path", TEXT, "an httpGet {probe} of this path"),
        "http_get_port": ("httpGet.port", PORT, "... on this port (an httpGet needs one)"),
        "tcp_port": ("tcpPort", PORT, "a tcpSocket {probe} of this port"),
    }
    return [Hint(f"{kind}.{name}", f"{kind}.{rows[name][0]}",
                 f"kompose.service.healthcheck.{kind}.{name}", rows[name][1],
                 rows[name][2].format(probe=f"{kind}Probe")) for name in keys]


HINTS: tuple[Hint, ...] = (
    Hint("name", "name", "kompose.service.name_override", TEXT,
         "the name of the service's objects; other services reach it by this name"),
    Hint("controller", "controller", "kompose.controller.type", CONTROLLER,
         "the workload kind, instead of the one compose's lifecycle and --controller give"),
    Hint("group", "group", None, TEXT,
         "services naming the same group run as containers of one pod"),
    Hint("group_label", None, "kompose.service.group", TEXT,
         "the same, only with --service-group-mode label (as in kompose)"),
    Hint("schedule", "schedule", "kompose.cronjob.schedule", TEXT,
         "a CronJob on this cron schedule"),
    Hint("concurrency_policy", "concurrencyPolicy", "kompose.cronjob.concurrency_policy",
         one_of(CONCURRENCY), "the CronJob's concurrencyPolicy"),
    Hint("backoff_limit", "backoffLimit", "kompose.cronjob.backoff_limit", integer(0),
         "the CronJob's Jobs' backoffLimit"),
    Hint("service_type", "service.type", "kompose.service.type", one_of(SERVICE_TYPES),
         "the Service's type (Headless: no cluster IP)"),
    Hint("node_port", "service.nodePort", "kompose.service.nodeport.port", PORT,
         "the nodePort of a NodePort Service (its first port)"),
    Hint("external_traffic_policy", "service.externalTrafficPolicy",
         "kompose.service.external-traffic-policy", one_of(TRAFFIC_POLICIES),
         "the Service's externalTrafficPolicy (NodePort, LoadBalancer)"),
    Hint("expose", "ingress.hosts", "kompose.service.expose", HOSTS,
         "an Ingress with these hosts and paths (true, or `ingress: true`: any host, /)"),
    Hint(("tls", "tls_secret"), "ingress.tlsSecret", "kompose.service.expose.tls-secret", TLS,
         "TLS on the Ingress, with the certificate in this Secret"),
    Hint("ingress_class", "ingress.className", "kompose.service.expose.ingress-class-name",
         TEXT, "the Ingress's ingressClassName"),
    Hint("hpa.min", "autoscale.min", "kompose.hpa.replicas.min", integer(0),
         "a HorizontalPodAutoscaler: the fewest replicas", default=1),
    Hint("hpa.max", "autoscale.max", "kompose.hpa.replicas.max", integer(0),
         "... the most replicas", default=3),
    Hint("hpa.cpu", "autoscale.cpu", "kompose.hpa.cpu", integer(0),
         "... the CPU use it aims at, % of the requests; 0: none", default=50),
    Hint("hpa.memory", "autoscale.memory", "kompose.hpa.memory", integer(0),
         "... the memory use it aims at, % of the requests; 0: none", default=70),
    Hint("init_containers", "initContainers", None, INIT_CONTAINERS,
         "init containers, run in order before the service's containers"),
    Hint("init.name", None, "kompose.init.containers.name", TEXT,
         "kompose's one init container: its name", default="init-service"),
    Hint("init.image", None, "kompose.init.containers.image", TEXT,
         "... its image (needed)"),
    Hint("init.command", None, "kompose.init.containers.command", COMMAND,
         "... its command", default=()),
    Hint("image_pull_policy", "imagePullPolicy", "kompose.image-pull-policy",
         one_of(PULL_POLICIES), "the containers' imagePullPolicy"),
    Hint("image_pull_secrets", "imagePullSecrets", "kompose.image-pull-secret", NAMES,
         "the pod's imagePullSecrets"),
    Hint("service_account", "serviceAccountName", "kompose.serviceaccount-name", TEXT,
         "the pod's serviceAccountName"),
    Hint("fs_group", "fsGroup", "kompose.security-context.fsgroup", integer(0),
         "the pod's securityContext.fsGroup"),
    Hint("ephemeral_limit", "ephemeralStorage.limit", "kompose.ephemeral-storage.limit",
         QUANTITY, "the containers' ephemeral-storage limit"),
    Hint("ephemeral_request", "ephemeralStorage.request", "kompose.ephemeral-storage.request",
         QUANTITY, "the containers' ephemeral-storage request"),
    Hint("volume_type", "volumes.type", "kompose.volume.type", VOLUME_TYPE,
         "what the service's volumes become, instead of --volumes"),
    Hint("volume_size", "volumes.size", "kompose.volume.size", QUANTITY,
         "the storage its claims request (the largest among the services sharing one)"),
    Hint("storage_class", "volumes.storageClassName", "kompose.volume.storage-class-name",
         TEXT, "the storage class of its claims"),
    Hint("volume_subpath", "volumes.subPath", "kompose.volume.subpath", TEXT,
         "the subPath of its volume mounts"),
    *_probe("readiness", ("disable", "test", "interval", "timeout", "retries", "start_period",
                          "http_get_path", "http_get_port", "tcp_port")),
    *_probe("liveness", ("http_get_path", "http_get_port", "tcp_port")),
    Hint("host_ports", "hostPorts", "kompose.controller.port.expose", BOOLEAN,
         "published ports are also hostPorts on the node"),
)

# Hints of a top-level named volume: its labels and its `x-kubernetes` block.
VOLUME_HINTS: tuple[Hint, ...] = (
    Hint("size", "size", "kompose.volume.size", QUANTITY, "the storage its claim requests"),
    Hint("storage_class", "storageClassName", "kompose.volume.storage-class-name", TEXT,
         "the storage class of its claim"),
    Hint("access_modes", "accessModes", None, ACCESS,
         "its claim's accessModes, instead of the ones sharing gives"),
    Hint("selector", "selector", "kompose.volume.selector", TEXT,
         "its claim selects the PersistentVolumes labelled `io.kompose.service: <value>`"),
)

# `x-kubernetes` mappings that imply a hint when given (`ingress: true` is an Ingress for any
# host; httpGet without a path probes /).
IMPLIED = {"ingress": {"expose": (("", "/"),)},
           "readiness.httpGet": {"readiness.http_get_path": "/"},
           "liveness.httpGet": {"liveness.http_get_path": "/"}}

_BY_LABEL = {hint.label: hint for hint in HINTS if hint.label}
_KEYS = extension.key_tree(HINTS)
_VOLUME_KEYS = extension.key_tree(VOLUME_HINTS)


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


def known_label(key: str) -> bool:
    return key in _BY_LABEL


def service_hints(service) -> Hints:
    """The service's hints: its kompose labels (service labels over deploy labels), then its
    `x-kubernetes` block."""
    labels = dict(service.deploy.labels) if service.deploy else {}
    labels.update(service.labels)
    values: dict = {}
    used: list[str] = []
    for key in sorted(labels):
        hint = _BY_LABEL.get(key)
        if hint is None:
            continue        # not a hint: coverage.py reports unknown kompose.* labels
        where = "labels" if key in service.labels else "deploy.labels"
        _set(values, hint.field, hint.value.read(labels[key], ("services", service.name, where,
                                                               key)))
        used.append(f"{where}.{key}")
    ext = service.extensions.get("x-kubernetes")
    if ext is not None:
        path = ("services", service.name, "x-kubernetes")
        found, implied = extension.read(ext, path, _KEYS, IMPLIED)
        for hint, value in found:
            _set(values, hint.field, value)
        for name, value in implied.items():
            values.setdefault(name, value)
        used.append("x-kubernetes")
    return Hints(**_assemble(values, service.name), used=tuple(used))


def volume_hints(volume) -> dict:
    """size / storage_class / access_modes / selector of a top-level named volume."""
    path = ("volumes", volume.name)
    out: dict = {}
    for hint in VOLUME_HINTS:
        if hint.label and hint.label in volume.labels:
            out[hint.field] = hint.value.read(volume.labels[hint.label],
                                              path + ("labels", hint.label))
    ext = volume.extensions.get("x-kubernetes")
    if ext is not None:
        found, _ = extension.read(ext, path + ("x-kubernetes",), _VOLUME_KEYS)
        for hint, value in found:
            out[hint.field] = value
    return out


def _set(values: dict, name: str | tuple[str, ...], value) -> None:
    if isinstance(name, tuple):     # one value that sets several fields
        values.update(zip(name, value))
    else:
        values[name] = value


def _assemble(values: dict, service: str) -> dict:
    """The parts ("hpa.min", "readiness.interval", "init.image") into their whole fields."""
    out: dict = {}
    parts: dict[str, dict] = {}
    for name, value in values.items():
        whole, dot, part = name.partition(".")
        if dot:
            parts.setdefault(whole, {})[part] = value
        else:
            out[name] = value
    defaults = {hint.field: hint.default for hint in HINTS if hint.default is not None}
    if "hpa" in parts:
        out["hpa"] = {part: parts["hpa"].get(part, defaults[f"hpa.{part}"])
                      for part in ("min", "max", "cpu", "memory")}
    for kind in ("readiness", "liveness"):
        if kind in parts:
            out[kind] = ProbeHints(**parts[kind])
    if "init" in parts and "init_containers" not in out:
        init = parts["init"]
        if "image" not in init:
            raise ConversionError("kompose.init.containers.image is required",
                                  path=("services", service, "labels"))
        out["init_containers"] = ({"name": init.get("name", defaults["init.name"]),
                                   "image": init["image"],
                                   "command": init.get("command", defaults["init.command"])},)
    return out

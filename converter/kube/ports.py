"""Ports and expose, read once for containerPorts and Service ports.

On a compose network a service is reached on its container's ports: `minio:9000` for
`ports: ["9090:9000"]`; the published port is how the host reaches it. So a Service port is the
container port (port = targetPort) for every `ports` target and `expose` entry, and a published
port that differs from its target is kept as a second Service port forwarding to the target
(`minio:9090` works too, as it did with kompose, which made the published port the Service port).
A published range for one target (`8000-8010:80`, docker picks one) keeps the range's first port.
`expose` ranges (`3000-3005`) are expanded, up to `MAX_RANGE` ports.
"""

from __future__ import annotations

from ..records import record
from . import names

MAX_RANGE = 100
PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}


@record
class PortSpec:
    target: int
    protocol: str            # TCP | UDP | SCTP
    key: str                 # compose key it came from, e.g. "ports[0]"
    published: int | None = None
    host_ip: str | None = None
    name: str | None = None
    app_protocol: str | None = None


def _range(text: str) -> list[int] | None:
    text = text.strip()
    lo, sep, hi = text.partition("-")
    try:
        if not sep:
            return [int(lo)]
        low, high = int(lo), int(hi)
    except ValueError:
        return None
    return list(range(low, high + 1)) if low <= high else None


def _specs(service, report) -> list[PortSpec]:
    out: list[PortSpec] = []
    for i, port in enumerate(service.ports):
        key = f"ports[{i}]"
        proto = PROTOCOLS.get((port.protocol or "tcp").lower())
        if proto is None:
            report.not_converted(service.name, key, f"unknown protocol {port.protocol!r}")
            continue
        published = None
        if port.published not in (None, ""):
            values = _range(str(port.published))
            if not values:
                report.not_converted(service.name, key, f"invalid published port "
                                                        f"{port.published!r}")
                continue
            published = values[0]
            if len(values) > 1:
                report.approximated(service.name, key,
                                    f"published range {port.published} for one port: the "
                                    f"Service uses {published}")
        if port.host_ip and port.host_ip not in ("0.0.0.0", "::"):
            report.approximated(service.name, key,
                                f"host_ip {port.host_ip}: a Service cannot bind to a host "
                                "address; the port is reachable inside the cluster")
        if port.mode == "host":
            report.approximated(service.name, key, "mode host: a Service port, not a port on "
                                                   "the node (see kompose.controller.port.expose)")
        out.append(PortSpec(target=port.target, protocol=proto,
                            key=key, published=published, host_ip=port.host_ip,
                            name=port.name, app_protocol=port.app_protocol))
    for i, item in enumerate(service.expose):
        key = f"expose[{i}]"
        text, _, proto_text = str(item).partition("/")
        proto = PROTOCOLS.get((proto_text or "tcp").lower())
        values = _range(text)
        if not values or proto is None:
            report.not_converted(service.name, key, f"invalid expose entry {item!r}")
            continue
        if len(values) > MAX_RANGE:
            report.not_converted(service.name, key, f"a range of {len(values)} ports is more "
                                                    f"than {MAX_RANGE}")
            continue
        out.extend(PortSpec(target=v, protocol=proto, key=key) for v in values)
    return out


def service_ports(service, report) -> list[dict]:
    """Service ports, unique by (port, protocol), with unique valid names: the container ports
    first (port = targetPort), then the published ports that differ from their target."""
    out: list[dict] = []
    seen: dict = {}                       # (port, protocol) -> targetPort
    used = names.NameSet(limit=15)
    specs = _specs(service, report)

    def add(port: int, target: int, spec: PortSpec, wanted: str) -> None:
        seen[(port, spec.protocol)] = target
        entry = {"name": used.take(wanted), "port": port, "targetPort": target}
        if spec.protocol != "TCP":
            entry["protocol"] = spec.protocol
        if spec.app_protocol:
            entry["appProtocol"] = spec.app_protocol
        out.append(entry)

    for spec in specs:
        if (spec.target, spec.protocol) not in seen:
            wanted = spec.name.lower() if spec.name and names.is_dns_label(spec.name.lower()) \
                else names.port_name(spec.target, spec.protocol)
            add(spec.target, spec.target, spec, wanted)
    for spec in specs:
        published = spec.published
        if published is None or published == spec.target:
            continue
        known = seen.get((published, spec.protocol))
        if known is None:
            add(published, spec.target, spec, names.port_name(published, spec.protocol))
        elif known != spec.target:
            report.approximated(service.name, spec.key,
                                f"published port {published} is also a container port: inside "
                                f"the cluster {published} reaches the container's port "
                                f"{published}, not {spec.target}")
    return out


def published_ports(service) -> set[tuple[int, str]]:
    """(Service port, protocol) of every published port: how the host reached the service."""
    return {(spec.published, spec.protocol) for spec in _specs(service, _NoReport())
            if spec.published is not None}


def container_ports(service, hints, report) -> list[dict]:
    """containerPorts, unique by (target, protocol); hostPort with kompose.controller.port.expose."""
    out: list[dict] = []
    seen: set = set()
    for spec in _specs(service, _NoReport()):
        if (spec.target, spec.protocol) in seen:
            continue
        seen.add((spec.target, spec.protocol))
        entry: dict = {"containerPort": spec.target}
        if hints.host_ports and spec.published:
            entry["hostPort"] = spec.published
            if spec.host_ip and spec.host_ip not in ("0.0.0.0", "::"):
                entry["hostIP"] = spec.host_ip
        if spec.protocol != "TCP":
            entry["protocol"] = spec.protocol
        out.append(entry)
    if hints.host_ports:
        report.mapped(service.name, "labels.kompose.controller.port.expose",
                      "published ports set as hostPort on the container")
    return out


class _NoReport:
    """The ports are read twice (containers, Services); only the Service pass reports."""

    def __getattr__(self, name):
        return lambda *a, **k: None

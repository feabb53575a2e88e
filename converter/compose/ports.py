"""Port specs: compose's short syntax ('127.0.0.1:8000-8001:80-81/udp') to the long form."""

from __future__ import annotations

import re

from ..errors import ComposeError

_PROTOCOLS = {"tcp", "udp", "sctp"}


def _port_number(text: str, path) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ComposeError(f"invalid port {text!r}", path=path,
                           hint="a port is a number from 1 to 65535")
    number = int(text)
    if not 0 < number <= 65535:
        raise ComposeError(f"invalid port {number}: ports go from 1 to 65535", path=path)
    return number


def _port_range(text: str, path) -> tuple[int, int]:
    if "-" in text:
        low, high = text.split("-", 1)
        start, end = _port_number(low, path), _port_number(high, path)
        if end < start:
            raise ComposeError(f"invalid port range {text!r}: the end is before the start",
                               path=path)
        return start, end
    number = _port_number(text, path)
    return number, number


def _split_host(spec: str, path) -> tuple[str | None, str]:
    """Take an IPv4/IPv6 host address off the front: '[::1]:80:80', '127.0.0.1:80:80'."""
    if spec.startswith("["):
        end = spec.find("]")
        if end < 0 or spec[end + 1:end + 2] != ":":
            raise ComposeError(f"invalid port {spec!r}: unclosed IPv6 address", path=path)
        return spec[1:end], spec[end + 2:]
    parts = spec.split(":")
    if len(parts) == 3:
        return parts[0], ":".join(parts[1:])
    if len(parts) > 3:           # a bare IPv6 address
        return ":".join(parts[:-2]), ":".join(parts[-2:])
    return None, spec


# compose expands a range into one entry per port, and so do the Service and the container. A
# Service holding more ports than this no longer fits the API server's 1.5 MiB object limit
# (and `1-65535:1-65535` took 10-25 s to convert into a 5 MB object nothing would accept).
MAX_PORTS_PER_SPEC = 16_384


def _check_count(count: int, spec, path, *, total: bool = False) -> None:
    if count > MAX_PORTS_PER_SPEC:
        what = (f"with {spec!r} the service has {count} ports" if total
                else f"port range {spec!r} expands to {count} ports")
        raise ComposeError(f"{what}; c2k refuses more than {MAX_PORTS_PER_SPEC} per service",
                           path=path,
                           hint="Kubernetes has no port ranges: each port becomes an entry of "
                                "the Service; publish only the ports the service needs")


def parse_port(spec, path=()) -> list[dict]:
    """One short port spec → its long-form entries (ranges expanded as compose does)."""
    if isinstance(spec, bool):
        raise ComposeError(f"invalid port {spec!r}", path=path)
    if isinstance(spec, int):
        return [{"mode": "ingress", "target": _port_number(str(spec), path), "protocol": "tcp"}]
    text = str(spec).strip()
    if "$" in text:     # left as written by --no-interpolate
        raise ComposeError(f"port {spec!r} holds a variable, and a port must be a number",
                           path=path, hint="let c2k interpolate it (no --no-interpolate)")
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.rsplit("/", 1)
        protocol = protocol.lower()
        if protocol not in _PROTOCOLS:
            raise ComposeError(f"invalid protocol {protocol!r} in port {spec!r}", path=path,
                               hint="use tcp, udp or sctp")
    host_ip, rest = _split_host(text, path)
    if ":" in rest:
        published, target = rest.rsplit(":", 1)
    else:
        published, target = "", rest
    t_start, t_end = _port_range(target, path)
    _check_count(t_end - t_start + 1, spec, path)
    entries = []
    base = {"mode": "ingress"}
    if host_ip:
        base["host_ip"] = host_ip
    if not published:
        for port in range(t_start, t_end + 1):
            entries.append({**base, "target": port, "protocol": protocol})
        return entries
    p_start, p_end = _port_range(published, path)
    if t_start == t_end:
        pub = str(p_start) if p_start == p_end else f"{p_start}-{p_end}"
        return [{**base, "target": t_start, "published": pub, "protocol": protocol}]
    if p_end - p_start != t_end - t_start:
        raise ComposeError(f"invalid port {spec!r}: the published range and the target range "
                           "have different lengths", path=path)
    for offset in range(t_end - t_start + 1):
        entries.append({**base, "target": t_start + offset,
                        "published": str(p_start + offset), "protocol": protocol})
    return entries


def long_port(entry: dict, path=()) -> dict:
    """Check and complete a long-form port mapping."""
    out = {"mode": entry.get("mode") or "ingress"}
    if entry.get("host_ip"):
        out["host_ip"] = str(entry["host_ip"])
    target = entry.get("target")
    if target is None:
        raise ComposeError("a port needs a target", path=path)
    out["target"] = _port_number(str(target).strip(), path + ("target",))
    published = entry.get("published")
    if published not in (None, ""):
        text = str(published).strip()
        if re.fullmatch(r"[0-9]+(-[0-9]+)?", text):
            _port_range(text, path + ("published",))
        else:
            raise ComposeError(f"invalid published port {published!r}", path=path + ("published",))
        out["published"] = text
    out["protocol"] = str(entry.get("protocol") or "tcp").lower()
    for key in ("name", "app_protocol"):
        if entry.get(key) is not None:
            out[key] = str(entry[key])
    for key, value in entry.items():
        if key.startswith("x-"):
            out[key] = value
    return out


def normalize_ports(ports, path=()) -> list[dict]:
    out: list[dict] = []
    for index, spec in enumerate(ports or []):
        where = tuple(path) + (index,)
        if isinstance(spec, dict):
            out.append(long_port(spec, where))
        else:
            out.extend(parse_port(spec, where))
        _check_count(len(out), spec, where, total=True)
    return _unique(out)


def _unique(ports: list[dict]) -> list[dict]:
    """'3000' and '3000-3005' both give target 3000: compose keeps one entry."""
    seen = set()
    out = []
    for port in ports:
        key = (port.get("host_ip"), port["target"], port.get("published"), port["protocol"])
        if key not in seen:
            seen.add(key)
            out.append(port)
    return out

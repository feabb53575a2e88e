"""Kubernetes names from compose names.

Services become RFC 1035 labels (Service names must start with a letter): lowercase, every run
of characters outside ``[a-z0-9]`` becomes one ``-``, no leading/trailing ``-``, at most 63
characters (longer names keep a short hash so they stay distinct). ``My_Web`` -> ``my-web``.
Two compose names that end up as the same Kubernetes name are a ``ConversionError``.
"""

from __future__ import annotations

import re

from ..errors import ConversionError

_INVALID = re.compile(r"[^a-z0-9]+")
_LABEL_VALUE_INVALID = re.compile(r"[^A-Za-z0-9_.-]+")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _digest(text: str, size: int = 6) -> str:
    import hashlib  # rarely needed (long or clashing names); OpenSSL's start-up is ~2 ms
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:size]


def _shorten(name: str, limit: int, original: str) -> str:
    if len(name) <= limit:
        return name
    suffix = _digest(original)
    return name[: limit - len(suffix) - 1].rstrip("-") + "-" + suffix


def dns_label(name: str, *, limit: int = 63, prefix: str = "x") -> str:
    """An RFC 1035 label (starts with a letter): for Service, workload, volume names."""
    text = _INVALID.sub("-", str(name).lower()).strip("-")
    if not text:
        text = prefix + "-" + _digest(str(name))
    elif not text[0].isalpha():
        text = f"{prefix}-{text}"
    return _shorten(text, limit, str(name))


def dns_subdomain(name: str) -> str:
    """A name for ConfigMaps, Secrets, PVCs: here always a label too, which is stricter."""
    return dns_label(name)


def is_dns_label(name: str) -> bool:
    return bool(_DNS_LABEL.match(name)) and len(name) <= 63


def is_dns1035(name: str) -> bool:
    return bool(_DNS1035.match(name)) and len(name) <= 63


def join(*parts: str, limit: int = 63) -> str:
    """Join already-valid label parts with `-`, staying within `limit`."""
    text = "-".join(p for p in parts if p)
    return _shorten(text, limit, text)


def label_value(value: str) -> str:
    """A valid label value (<= 63, alphanumeric at both ends) or ''."""
    text = _LABEL_VALUE_INVALID.sub("-", str(value)).strip("-_.")
    return _shorten(text, 63, str(value)).strip("-_.")


def is_qualified_key(key: str) -> bool:
    """A valid label/annotation key: optional DNS-subdomain prefix `/` name (<= 63)."""
    prefix, _, name = key.rpartition("/")
    if prefix:
        if len(prefix) > 253 or not all(is_dns_label(p) for p in prefix.split(".")):
            return False
    return bool(_QUALIFIED_NAME.match(name)) and len(name) <= 63


def is_label_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(_QUALIFIED_NAME.match(value)))


def config_key(name: str) -> str:
    """A valid ConfigMap/Secret data key (`[-._a-zA-Z0-9]+`)."""
    text = re.sub(r"[^-._a-zA-Z0-9]+", "_", str(name)).strip("_") or "data"
    if text in (".", ".."):
        text = "data"
    return text[:253]


def is_config_key(name: str) -> bool:
    return bool(_CONFIG_KEY.match(name)) and name not in (".", "..") and len(name) <= 253


def port_name(port: int, protocol: str) -> str:
    """kompose-compatible Service port names: `8080`, `53-udp`."""
    proto = protocol.lower()
    return str(port) if proto == "tcp" else f"{port}-{proto}"


def service_names(services) -> dict[str, str]:
    """compose service name -> Kubernetes name, checking for collisions.

    `services` is an iterable of (compose name, wanted name) pairs; the wanted name is the
    compose name, or a `kompose.service.name_override` / `x-kubernetes.name` value.
    """
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for compose_name, wanted in services:
        name = dns_label(wanted, prefix="svc")
        if name in seen:
            raise ConversionError(
                f"services {seen[name]!r} and {compose_name!r} both become the Kubernetes "
                f"name {name!r}",
                path=("services", compose_name),
                hint="rename one of them, or set kompose.service.name_override / "
                     "x-kubernetes.name")
        seen[name] = compose_name
        out[compose_name] = name
    return out


class NameSet:
    """Hands out unique names within one scope (volume names of a pod, port names...)."""

    def __init__(self, limit: int = 63):
        self.used: set[str] = set()
        self.limit = limit

    def take(self, wanted: str) -> str:
        name = wanted[: self.limit].rstrip("-")
        n = 2
        while name in self.used:
            tail = f"-{n}"
            name = wanted[: self.limit - len(tail)].rstrip("-") + tail
            n += 1
        self.used.add(name)
        return name

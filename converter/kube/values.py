"""Parsers for Kubernetes hint values (kompose labels and `x-kubernetes`), with paths in errors."""

from __future__ import annotations

import re

import yaml

from ..compose import shellwords
from ..errors import ConversionError
from ..lazyre import lazy
from ..records import record
from . import quantities
from .options import VOLUME_MODES, normalize_controller, normalize_volume_mode

SERVICE_TYPES = {"clusterip": "ClusterIP", "nodeport": "NodePort",
                 "loadbalancer": "LoadBalancer", "headless": "Headless"}
PULL_POLICIES = {"always": "Always", "ifnotpresent": "IfNotPresent", "never": "Never"}
CONCURRENCY = {"allow": "Allow", "forbid": "Forbid", "replace": "Replace"}
TRAFFIC_POLICIES = {"cluster": "Cluster", "local": "Local"}

_DURATION = lazy(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h|d)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


@record(kw_only=True)
class ProbeHints:
    disable: bool = False
    test: tuple[str, ...] | None = None
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None
    http_get_path: str | None = None
    http_get_port: int | None = None
    tcp_port: int | None = None


def parse_duration(value, path) -> float:
    """`10s`, `1m30s`, `1.5h` or a number of seconds -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]*)?", text):
        return float(text)
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ConversionError(f"invalid duration {value!r}", path=path,
                              hint="write it like 10s, 1m30s or 2h")
    return total


def as_bool(value, path) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off", ""):
        return False
    raise ConversionError(f"expected true or false, not {value!r}", path=path)


def as_int(value, path, *, low: int | None = None, high: int | None = None) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).strip())
    except ValueError:
        raise ConversionError(f"expected an integer, not {value!r}", path=path) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConversionError(f"{number} is out of range {low}..{high}", path=path)
    return number


def choice(value, table: dict, path) -> str:
    key = str(value).strip().lower().replace("-", "").replace("_", "")
    if key not in table:
        raise ConversionError(f"unknown value {value!r}", path=path,
                              hint="use one of: " + ", ".join(table.values()))
    return table[key]


def quantity(value, path) -> str:
    text = str(value).strip()
    if not quantities.is_quantity(text):
        raise ConversionError(f"invalid quantity {value!r}", path=path,
                              hint="write it like 1Gi, 500Mi or 2G")
    return text


def command(value, path) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed = None
        if isinstance(parsed, list):
            return tuple(str(v) for v in parsed)
        raise ConversionError(f"invalid command list {value!r}", path=path)
    return command_words(text, path)


def command_words(text: str, path) -> tuple[str, ...]:
    """A command string in a hint, split as docker compose splits `command:`; a string that
    compose would cut short (`a && b`) is refused rather than half run."""
    try:
        words, dropped = shellwords.split(text)
    except shellwords.CommandLineError as exc:
        raise ConversionError(f"cannot split command {text!r} into words: {exc}",
                              path=path, hint="write the command as a list") from None
    if dropped:
        raise ConversionError(f"command {text!r} stops at {dropped!r}: it is split into words, "
                              "not run by a shell", path=path,
                              hint="write it as a list, through a shell if needed: "
                                   "[sh, -c, '...']")
    return tuple(words)


def health_test(value, path) -> tuple[str, ...]:
    """A healthcheck test from a label (YAML list or a shell string)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = command(text, path)
        elif text.startswith("CMD-SHELL "):
            return ("CMD-SHELL", text[len("CMD-SHELL "):].strip())
        elif text.startswith("CMD "):
            return ("CMD",) + command_words(text[len("CMD "):], path)
        elif text == "NONE":
            return ("NONE",)
        else:
            return ("CMD-SHELL", text)
    items = tuple(str(v) for v in value)
    if not items:
        raise ConversionError("empty healthcheck test", path=path)
    if items[0] in ("CMD", "CMD-SHELL", "NONE"):
        return items
    return ("CMD",) + items


def expose_hosts(value, path) -> tuple[tuple[str, str], ...]:
    if value is True or str(value).strip().lower() == "true":
        return (("", "/"),)
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    out = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        host, slash, rest = text.partition("/")
        out.append((host, "/" + rest if slash else "/"))
    if not out:
        raise ConversionError(f"invalid expose value {value!r}", path=path)
    return tuple(out)


# kompose label -> (hint field, parser)
def controller(value, path) -> str:
    controller = normalize_controller(value)
    if controller is None:
        raise ConversionError(f"unknown controller type {value!r}", path=path,
                              hint="use deployment, statefulset, daemonset or "
                                   "replicationcontroller")
    return controller


def volume_type(value, path) -> str:
    mode = normalize_volume_mode(value)
    if mode is None:
        raise ConversionError(f"unknown volume type {value!r}", path=path,
                              hint="use one of: " + ", ".join(VOLUME_MODES))
    return mode


PROBE_LABELS = {
    "disable": ("disable", as_bool),
    "test": ("test", health_test),
    "interval": ("interval", parse_duration),
    "timeout": ("timeout", parse_duration),
    "retries": ("retries", lambda v, p: as_int(v, p, low=1)),
    "start_period": ("start_period", parse_duration),
    "http_get_path": ("http_get_path", lambda v, p: str(v).strip()),
    "http_get_port": ("http_get_port", lambda v, p: as_int(v, p, low=1, high=65535)),
    "tcp_port": ("tcp_port", lambda v, p: as_int(v, p, low=1, high=65535)),
}
HPA_LABELS = {"kompose.hpa.replicas.min": "min", "kompose.hpa.replicas.max": "max",
               "kompose.hpa.cpu": "cpu", "kompose.hpa.memory": "memory"}
HPA_DEFAULTS = {"min": 1, "max": 3, "cpu": 50, "memory": 70}


def mapping(value, path) -> dict:
    if not hasattr(value, "items"):
        raise ConversionError("expected a mapping", path=path)
    return dict(value.items())


def unknown(key, path):
    raise ConversionError(f"unknown key {key!r}", path=path,
                          hint="see `x-kubernetes` in the c2k documentation for the keys")



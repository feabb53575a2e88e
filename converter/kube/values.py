"""Parsers for Kubernetes hint values (kompose labels and `x-kubernetes`), with paths in errors,
and the `Value` kinds the hint table (hints.py) names them by."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import yaml

from .. import durations
from ..compose import shellwords
from ..errors import ConversionError
from ..records import record
from . import quantities
from .options import VOLUME_MODES, normalize_controller, normalize_volume_mode

SERVICE_TYPES = {"clusterip": "ClusterIP", "nodeport": "NodePort",
                 "loadbalancer": "LoadBalancer", "headless": "Headless"}
PULL_POLICIES = {"always": "Always", "ifnotpresent": "IfNotPresent", "never": "Never"}
CONCURRENCY = {"allow": "Allow", "forbid": "Forbid", "replace": "Replace"}
TRAFFIC_POLICIES = {"cluster": "Cluster", "local": "Local"}


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
    """`10s`, `1m30s`, `1.5h` or a number of seconds -> seconds (durations.py), not negative."""
    try:
        seconds = durations.parse_duration(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ConversionError(f"invalid duration {value!r}", path=path,
                              hint="write it like 10s, 1m30s or 2h")
    return seconds


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


def text(value, path) -> str:
    return str(value).strip()


def names(value, path) -> tuple[str, ...]:
    """A list of names, or one string of comma-separated names."""
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(name for name in (str(item).strip() for item in items) if name)


def tls_secret(value, path) -> tuple[bool, str | None]:
    """(TLS on, the Secret's name): `true` is TLS without a name, `false` (or empty) none."""
    if isinstance(value, bool):
        return value, None
    name = str(value).strip()
    if name.lower() in ("", "false"):
        return False, None
    return True, None if name.lower() == "true" else name


def init_containers(value, path) -> tuple[dict, ...]:
    if not isinstance(value, (list, tuple)):
        raise ConversionError("initContainers must be a list", path=path)
    items = []
    for i, item in enumerate(value):
        item = mapping(item, path + (i,))
        if "image" not in item:
            raise ConversionError("an init container needs an image", path=path + (i,))
        items.append({"name": str(item.get("name", f"init-{i + 1}")),
                      "image": str(item["image"]),
                      "command": command(item.get("command", ()), path + (i, "command"))})
    return tuple(items)


ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")


def access_modes(value, path) -> tuple[str, ...]:
    modes = value if isinstance(value, (list, tuple)) else [value]
    for mode in modes:
        if mode not in ACCESS_MODES:
            raise ConversionError(f"unknown access mode {mode!r}", path=path,
                                  hint="use one of: " + ", ".join(ACCESS_MODES))
    return tuple(str(m) for m in modes)


def mapping(value, path) -> dict:
    if not hasattr(value, "items"):
        raise ConversionError("expected a mapping", path=path)
    return dict(value.items())


# ---- how each hint's value is read, and how docs/hints.md names it ----------------------------

class Value(NamedTuple):
    read: Callable[[Any, tuple], Any]     # (value, key path) -> the hint; ConversionError
    type: str


def one_of(table: dict[str, str]) -> Value:
    return Value(lambda v, p: choice(v, table, p), ", ".join(table.values()))


def integer(low: int, high: int | None = None) -> Value:
    return Value(lambda v, p: as_int(v, p, low=low, high=high),
                 f"integer {low}-{high}" if high is not None else f"integer >= {low}")


TEXT = Value(text, "string")
BOOLEAN = Value(as_bool, "true or false")
PORT = integer(1, 65535)
DURATION = Value(parse_duration, "duration (10s, 1m30s)")
QUANTITY = Value(quantity, "quantity (500Mi, 1Gi)")
CONTROLLER = Value(controller, "deployment, statefulset, daemonset, replicationcontroller")
VOLUME_TYPE = Value(volume_type, ", ".join(VOLUME_MODES))
COMMAND = Value(command, "command (a list, or a string split into words)")
HEALTH_TEST = Value(health_test, "healthcheck test (as compose's test)")
HOSTS = Value(expose_hosts, "true, or host[/path] (a list, or comma-separated)")
NAMES = Value(names, "names (a list, or comma-separated)")
TLS = Value(tls_secret, "true, or a Secret's name")
INIT_CONTAINERS = Value(init_containers, "list of {name, image, command}")
ACCESS = Value(access_modes, ", ".join(ACCESS_MODES) + " (one, or a list)")

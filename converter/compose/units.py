"""Compose's value syntaxes: durations, byte sizes, booleans and numbers."""

from __future__ import annotations

import re

from ..errors import ComposeError
from ..lazyre import lazy

_DURATION_PART = lazy(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
                   "h": 3600.0}


def parse_duration(value, path=()) -> float:
    """'1m30s' → 90.0 seconds (Go's time.ParseDuration); a bare number means seconds."""
    if isinstance(value, bool):
        raise ComposeError(f"invalid duration {value!r}", path=path)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return float(text)
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(body) or not body:
        raise ComposeError(f"invalid duration {value!r}", path=path,
                           hint="use a duration like 10s, 1m30s, 500ms or 2h")
    return sign * total


def format_duration(seconds: float) -> str:
    """Seconds → Go's time.Duration.String() ('1m30s', '1m0s', '500ms', '1h0m0s')."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return sign + _trim(nanos / size) + unit
    hours, rest = divmod(nanos, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    secs = _trim(rest / 1e9)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


def _trim(number: float) -> str:
    text = f"{number:.9f}".rstrip("0").rstrip(".")
    return text or "0"


_SIZE = lazy(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(value, path=()) -> int:
    """'256M', '1g', '512k', 1024 → bytes, binary units as docker does (RAMInBytes)."""
    if isinstance(value, bool):
        raise ComposeError(f"invalid size {value!r}", path=path)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):   # .nan, .inf in YAML
            raise ComposeError(f"invalid size {value!r}", path=path,
                               hint="use a size like 512k, 256m or 1g")
        return int(value)
    match = _SIZE.match(str(value))
    if not match:
        raise ComposeError(f"invalid size {value!r}", path=path,
                           hint="use a size like 512k, 256m or 1g")
    number, unit, _ = match.groups()
    return int(float(number) * _SIZE_FACTORS[unit.lower()])


_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


def to_bool(value, path=()) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ComposeError(f"{value!r} is not a boolean", path=path, hint="use true or false")


def to_int(value, path=()) -> int:
    if isinstance(value, bool):
        raise ComposeError(f"{value!r} is not a whole number", path=path)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ComposeError(f"{value!r} is not a whole number", path=path) from None


def to_float(value, path=()) -> float:
    if isinstance(value, bool):
        raise ComposeError(f"{value!r} is not a number", path=path)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ComposeError(f"{value!r} is not a number", path=path) from None
    if number != number or number in (float("inf"), float("-inf")):   # .nan, .inf in YAML
        raise ComposeError(f"{value!r} is not a finite number", path=path)
    return number


def scalar_text(value) -> str | None:
    """A YAML scalar as compose turns it into an environment or label string."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)

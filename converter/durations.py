"""Durations, one grammar for all of c2k: Go's `time.ParseDuration`, plus a bare number of seconds.

Three kinds of duration reach c2k, and all three are Go durations where they come from: compose's
(`healthcheck.interval`, `stop_grace_period`: compose-go reads them with time.ParseDuration),
the hints' (kompose reads its healthcheck labels the same way) and `--timeout` (kubectl's
timeouts are Go durations too). So one parser reads them all: `1m30s`, `500ms`, `1.5h`, `2h45m`,
units ns, us (µs), ms, s, m, h, an optional sign; a bare number is seconds (compose accepts
`interval: 30`). Callers that cannot use a negative duration refuse it with their own message.
"""

from __future__ import annotations

import re

from .lazyre import lazy

_PART = lazy(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value) -> float:
    """'1m30s' -> 90.0 seconds; 45 or '45' -> 45.0. ValueError when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return float(text)
    sign = -1.0 if text.startswith("-") else 1.0
    body = text[1:] if text[:1] in ("-", "+") else text
    pos, total = 0, 0.0
    for match in _PART.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(body) or not body:
        raise ValueError(f"invalid duration {value!r}")
    return sign * total

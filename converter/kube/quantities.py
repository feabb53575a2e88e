"""Kubernetes resource quantities from compose sizes and CPU counts, exactly.

Memory and sizes arrive in bytes (the model normalised `256M`, `1g`, ...; docker's units are
binary). They become the largest binary suffix that divides them exactly (268435456 -> `256Mi`,
1073741824 -> `1Gi`), else a plain byte count. CPUs become millicores (`0.5` -> `500m`, `2.0` ->
`2`); anything finer than 1m rounds up to the next millicore.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal
# decimal itself is imported where it is used: most projects set no CPU or size, and it costs
# ~1 ms of every start.

_BINARY = (("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20),
           ("Ki", 1 << 10))
_DECIMAL = {"": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18, "m": -3, "u": -6,
            "n": -9}   # powers of ten
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")


def bytes_quantity(size: int) -> str:
    """268435456 -> `256Mi`; 1500 -> `1500`."""
    size = int(size)
    if size > 0:
        for suffix, factor in _BINARY:
            if size % factor == 0:
                return f"{size // factor}{suffix}"
    return str(size)


def cpu_quantity(cpus: float) -> str:
    """0.5 -> `500m`; 2 -> `2`; 0.0001 -> `1m` (rounded up)."""
    from decimal import Decimal
    milli = Decimal(str(cpus)) * 1000
    milli_int = int(math.ceil(milli)) if milli > 0 else 0
    if milli_int == 0 and cpus > 0:
        milli_int = 1
    if milli_int % 1000 == 0:
        return str(milli_int // 1000)
    return f"{milli_int}m"


def is_quantity(text: str) -> bool:
    return bool(_QUANTITY.match(str(text).strip()))


def quantity_value(text: str) -> Decimal | None:
    """The numeric value of a quantity (bytes for sizes, cores for CPU); None if invalid."""
    from decimal import Decimal
    match = _QUANTITY.match(str(text).strip())
    if not match:
        return None
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    if suffix.endswith("i"):
        return number * dict(_BINARY)[suffix]
    if suffix[:1] in ("e", "E"):
        return number.scaleb(int(suffix[1:]))
    return number.scaleb(_DECIMAL[suffix])


def seconds(value: float | None, *, minimum: int = 1) -> int | None:
    """Seconds as a whole number for probe/timeouts fields: rounded up, at least `minimum`."""
    if value is None:
        return None
    return max(minimum, int(math.ceil(value - 1e-9)))

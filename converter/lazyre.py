"""Regular expressions compiled when first used.

Compiling costs 0.1-0.5 ms a pattern, and most of c2k's patterns serve features a given compose
file does not use (durations, sizes, quantities, placement constraints, .env escapes, secret
names): every start paid for all of them. A `LazyPattern` compiles on its first use, then its
methods are the compiled pattern's own (no indirection left).
"""

from __future__ import annotations

import re

_METHODS = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer")


class LazyPattern:
    def __init__(self, pattern: str, flags: int = 0):
        self._source = (pattern, flags)
        self._compiled = None

    def __getattr__(self, name: str):
        # Reached only for names not set on the instance: before the first use, and for
        # rarely used attributes (pattern, flags, groups...).
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(*self._source)
            for method in _METHODS:
                setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self._source[0]!r})"


def lazy(pattern: str, flags: int = 0) -> LazyPattern:
    return LazyPattern(pattern, flags)


__all__ = ["LazyPattern", "lazy"]

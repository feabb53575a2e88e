"""converter.lazyre: patterns compiled on first use behave as compiled ones."""

from __future__ import annotations

import re

from converter.lazyre import lazy


def test_compiles_on_first_use_then_uses_the_compiled_methods():
    pattern = lazy(r"(\d+)([a-z]*)", re.IGNORECASE)
    assert pattern._compiled is None
    assert pattern.match("12Ab").groups() == ("12", "Ab")
    compiled = pattern._compiled
    assert isinstance(compiled, re.Pattern)
    assert pattern.match.__self__ is compiled          # no wrapper left after the first use
    assert pattern.sub("#", "x1y z") == "x# z" and pattern.fullmatch("x") is None
    assert pattern.findall("1a 2b") == [("1", "a"), ("2", "b")]


def test_other_attributes_come_from_the_compiled_pattern():
    pattern = lazy(r"(?P<n>x)")
    assert pattern.pattern == r"(?P<n>x)" and pattern.groupindex == {"n": 1}
    assert "LazyPattern" in repr(pattern)

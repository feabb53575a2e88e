"""converter/durations.py: the one duration grammar of compose files, hints and --timeout."""

from __future__ import annotations

import pytest

from converter.compose import units
from converter.durations import parse_duration
from converter.errors import ComposeError, ConversionError
from converter.kube import values
from helpers import run_c2k


@pytest.mark.parametrize("text, seconds", [
    ("5m", 300), ("90s", 90), ("1h30m", 5400), ("45", 45), ("2m30s", 150), ("500ms", 0.5),
    ("1.5h", 5400), (".5s", 0.5), ("100us", 0.0001), ("100µs", 0.0001), ("0s", 0), (30, 30),
    (2.5, 2.5), ("-1m", -60), ("+1m", 60), (" 10s ", 10),
])
def test_go_durations_and_bare_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "m5", "1 m", "1m30", "1d", "--1s", "s", True])
def test_what_is_not_a_duration(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["1m30s", "500ms", "45", "1.5h"])
def test_compose_hints_and_timeouts_read_the_same_grammar(text):
    seconds = parse_duration(text)
    assert units.parse_duration(text) == seconds
    assert values.parse_duration(text, ("x",)) == seconds


def test_each_caller_says_where_and_refuses_what_it_cannot_use():
    with pytest.raises(ComposeError, match="invalid duration '1d'"):
        units.parse_duration("1d", ("services", "web", "healthcheck", "interval"))
    assert units.parse_duration("-1s") == -1        # compose keeps the sign, as Go does
    for bad in ("1d", "-5s"):                         # a probe interval cannot be negative
        with pytest.raises(ConversionError, match="invalid duration"):
            values.parse_duration(bad, ("services", "web", "labels"))


@pytest.mark.parametrize("timeout", ["5x", "-5m", "1d"])
def test_timeout_option_refuses_what_is_not_a_duration(tmp_path, timeout):
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    proc = run_c2k("down", "--timeout", timeout, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{timeout!r} is not a duration like 5m, 90s or 1h" in proc.stderr

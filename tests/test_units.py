"""Durations, sizes, ports: compose's short syntaxes."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from converter.compose import units
from converter.compose.ports import normalize_ports, parse_port
from converter.errors import ComposeError


@pytest.mark.parametrize("text, seconds", [
    ("10s", 10), ("1m30s", 90), ("1h", 3600), ("500ms", 0.5), ("1.5s", 1.5), (30, 30),
    ("2h45m", 9900), ("100us", 0.0001), ("0s", 0),
])
def test_parse_duration(text, seconds):
    assert units.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("seconds, text", [
    (10, "10s"), (90, "1m30s"), (60, "1m0s"), (3600, "1h0m0s"), (0.5, "500ms"), (1.5, "1.5s"),
    (0, "0s"), (9900, "2h45m0s"),
])
def test_format_duration_like_go(seconds, text):
    assert units.format_duration(seconds) == text


@pytest.mark.parametrize("bad", ["10x", "abc", "1m30", ""])
def test_bad_duration(bad):
    with pytest.raises(ComposeError, match="invalid duration"):
        units.parse_duration(bad)


@pytest.mark.slow
@given(st.integers(min_value=0, max_value=10**7))
def test_duration_round_trip(seconds):
    assert units.parse_duration(units.format_duration(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize("text, size", [
    ("256M", 256 << 20), ("256m", 256 << 20), ("1g", 1 << 30), ("1G", 1 << 30),
    ("512k", 512 << 10), ("100", 100), (1024, 1024), ("1gb", 1 << 30), ("2MiB", 2 << 20),
    ("1.5g", int(1.5 * (1 << 30))),
])
def test_parse_bytes(text, size):
    assert units.parse_bytes(text) == size


def test_bad_size():
    with pytest.raises(ComposeError, match="invalid size"):
        units.parse_bytes("12 apples")


@pytest.mark.parametrize("spec, expected", [
    ("8000:8000", [(8000, "8000", "tcp", None)]),
    ("127.0.0.1:9000-9001:9000-9001/udp", [(9000, "9000", "udp", "127.0.0.1"),
                                           (9001, "9001", "udp", "127.0.0.1")]),
    (5000, [(5000, None, "tcp", None)]),
    ("6000-6002", [(6000, None, "tcp", None), (6001, None, "tcp", None),
                   (6002, None, "tcp", None)]),
    ("8000-8010:80", [(80, "8000-8010", "tcp", None)]),
    ("[::1]:8080:80", [(80, "8080", "tcp", "::1")]),
    ("53:53/udp", [(53, "53", "udp", None)]),
])
def test_port_short_syntax(spec, expected):
    got = [(p["target"], p.get("published"), p["protocol"], p.get("host_ip"))
           for p in parse_port(spec)]
    assert got == expected


@pytest.mark.parametrize("spec, message", [
    ("99999:80", "65535"), ("80:99999", "65535"), ("abc", "invalid port"),
    ("8000-8001:80-82", "different lengths"), ("80/http", "invalid protocol"),
    ("9000-8000:80", "end is before"),
])
def test_invalid_ports(spec, message):
    with pytest.raises(ComposeError, match=message):
        parse_port(spec, ("services", "web", "ports", 0))


def test_long_form_port():
    assert normalize_ports([{"target": "80", "published": 8080, "protocol": "UDP"}]) == [
        {"mode": "ingress", "target": 80, "published": "8080", "protocol": "udp"}]


def test_absurd_range_is_bounded():
    # Refused before expansion (ports.MAX_PORTS_PER_SPEC): a Service with 65535 ports cannot be
    # stored by the API server; see tests/test_hostile_inputs.py for the CLI side.
    with pytest.raises(ComposeError, match="refuses more than"):
        parse_port("1-65535")
    assert len(parse_port("10000-20000/udp")) == 10001

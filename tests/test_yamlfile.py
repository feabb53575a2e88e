"""Safe YAML reading: compose's scalars, tags, merge keys, lines, and hostile documents."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from converter.compose.yamlfile import Tagged, load_file, parse
from converter.errors import ComposeError


@pytest.mark.parametrize("text, expected", [
    ("no", "no"), ("yes", "yes"), ("on", "on"), ("off", "off"), ("y", "y"),
    ("true", True), ("False", False), ("null", None), ("~", None), ("", None),
    ("42", 42), ("0x1f", 31), ("0o17", 15), ("010", 8), ("1_000", 1000), ("-3", -3),
    ("1.5", 1.5), ("1e3", 1000.0), ("'010'", "010"), ("2001-12-14", "2001-12-14"),
    ("12:30", "12:30"), ("8080:80", "8080:80"),
])
def test_scalars_follow_yaml_1_2_as_compose(text, expected):
    assert parse(f"v: {text}", "t.yaml").data["v"] == expected


def test_reset_and_override_tags_are_kept_for_the_merge():
    data = parse("a: !reset []\nb: !override {x: 1}\nc: !reset null", "t.yaml").data
    assert data["a"] == Tagged("!reset", [])
    assert data["b"] == Tagged("!override", {"x": 1})
    assert data["c"] == Tagged("!reset", None)


def test_merge_keys_and_anchors():
    data = parse("base: &b {image: x, ports: ['1']}\n"
                 "more: &m {restart: always}\n"
                 "svc:\n  <<: [*b, *m]\n  image: y\n", "t.yaml").data
    assert data["svc"] == {"image": "y", "ports": ["1"], "restart": "always"}


def test_merge_key_to_scalar_is_refused():
    with pytest.raises(ComposeError, match="merge key"):
        parse("s: &s text\nsvc:\n  <<: *s\n", "t.yaml")


def test_duplicate_key_names_the_line():
    with pytest.raises(ComposeError) as err:
        parse("services:\n  a:\n    image: x\n    image: y\n", "dup.yaml")
    assert err.value.line == 4 and "duplicate key 'image'" in str(err.value)
    assert "dup.yaml:4" in str(err.value)


def test_lines_are_recorded_per_key_path():
    doc = parse("services:\n  web:\n    image: x\n    ports:\n      - '80'\n", "t.yaml")
    assert doc.lines.line_of(("services", "web", "ports", 0)) == 5
    assert doc.lines.line_of(("services", "web", "missing")) == 2


def test_malformed_yaml_names_the_line():
    with pytest.raises(ComposeError) as err:
        parse("services:\n  web:\n    image: [x\n", "bad.yaml")
    assert err.value.line and "invalid YAML" in str(err.value)


def test_alias_bomb_refused_fast_and_small():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i-1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    text = "\n".join(lines) + "\nservices: {x: {image: *a9}}\n"
    tracemalloc.start()
    start = time.monotonic()
    with pytest.raises(ComposeError, match="alias bomb"):
        parse(text, "bomb.yaml")
    elapsed = time.monotonic() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2 and peak < 200 * 1024 * 1024


def test_shared_aliases_below_the_limit_load():
    data = parse("x: &x {image: a}\nservices: {a: *x, b: *x}", "t.yaml").data
    assert data["services"]["a"] == data["services"]["b"] == {"image": "a"}


@pytest.mark.parametrize("text", ["a: " + "[" * 100_000 + "]" * 100_000,
                                  "a: " + "{b: " * 5_000 + "1" + "}" * 5_000,
                                  "".join(" " * i + "- \n" for i in range(0, 3000, 1))])
def test_deep_nesting_is_refused_not_crashing(text):
    # c2k's own message, whichever refuses first: c2k's limit or libyaml's (0.2.6 has one).
    with pytest.raises(ComposeError, match="nested more than 500 levels deep"):
        parse(text, "deep.yaml")


def test_brackets_in_quotes_and_comments_are_not_nesting():
    text = ("a: '" + "[" * 2000 + "'\nb: \"" + "{" * 2000 + "\"  # " + "[" * 2000 + "\n"
            "c: [" + "]" * 3 + "\n")
    with pytest.raises(ComposeError, match="invalid YAML") as err:
        parse(text, "bad.yaml")
    assert err.value.line == 3 and "nested" not in str(err.value)


def test_recursive_alias_is_refused():
    with pytest.raises(ComposeError):
        parse("a: &a\n  b: *a\n", "t.yaml")


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01\x02binary", "binary"),
    (b"services:\n  a:\n    image: \xff\xfe\n", "not valid UTF-8"),
])
def test_binary_and_invalid_utf8(tmp_path, content, message):
    path = tmp_path / "compose.yaml"
    path.write_bytes(content)
    with pytest.raises(ComposeError, match=message):
        load_file(str(path))


def test_special_files_are_not_read(tmp_path):
    with pytest.raises(ComposeError, match="not a regular file"):
        load_file("/dev/zero")


def test_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    with pytest.raises(ComposeError, match="too large"):
        load_file(str(path))


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xef\xbb\xbfservices: {a: {image: x}}\n")
    assert load_file(str(path)).data == {"services": {"a": {"image": "x"}}}

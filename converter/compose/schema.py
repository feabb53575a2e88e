"""Check one compose file against c2k's JSON Schema of the compose format.

The schema (``compose-schema.json``, shipped next to this module) describes what docker compose
v2.40 accepts. The loader calls :func:`validate` once per file, after YAML parsing and variable
interpolation and before merging. Every problem is collected and raised together as one
:class:`~converter.errors.ValidationErrors`, each entry pointing at a file, a line and a key path
with a plain-English message ("unknown key 'imgae' in services.web", "services.web.ports[0] must
be a string, number or mapping, got a list").

``jsonschema`` is imported only when the first document is validated, and the compiled validator
is cached, so commands that never load a compose file (``c2k --help``) do not pay for it.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import ComposeError, ValidationErrors, format_path
from .fastcheck import compile_schema

SCHEMA_FILE = "compose-schema.json"

# JSON Schema type names as the user knows them from YAML.
_TYPE_WORDS = {
    "object": "mapping",
    "array": "list",
    "string": "string",
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "null": "null",
}
_NAME_RULE = "names may only contain letters, digits, '.', '_' and '-'"


def schema_path() -> str:
    """Where the schema file lives (inside the installed package, always a plain directory:
    a plain path, because importlib.resources costs ~10 ms of imports at every start)."""
    return os.path.join(os.path.dirname(__file__), SCHEMA_FILE)


@functools.cache
def load_schema() -> dict:
    """The parsed schema (cached; treat it as read-only)."""
    with open(schema_path(), encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def _validator():
    """Build the validator once. Formats are not checked: compose's schema uses none."""
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(), format_checker=None)


@functools.cache
def _fast_check():
    return compile_schema(load_schema())


def validate(document: Any, *, filename: str,
             line_of: Callable[[tuple], int | None] = lambda path: None,
             string_keys: bool = False) -> None:
    """Validate one parsed (and interpolated) compose file.

    Raises ``ValidationErrors`` listing every problem, sorted by line then key path. ``line_of``
    maps a key path to a 1-based line number (or None); when a path has no line its parents are
    tried. ``string_keys``: the caller guarantees every mapping key is already a string (c2k's
    YAML reader makes them so), which spares a walk of the whole document.
    """
    if not string_keys:
        document = _string_keys(document)
    if _fast_check()(document):
        return      # valid: the common case; jsonschema only runs to explain problems
    problems: list[tuple[tuple, str, str | None]] = []
    for error in _validator().iter_errors(document):
        problems.extend(_explain(error))

    seen = set()
    errors = []
    for path, message, hint in problems:
        if (path, message) in seen:
            continue
        seen.add((path, message))
        errors.append(ComposeError(message, file=filename, line=_line(line_of, path),
                                   path=path, hint=hint))
    if errors:
        errors.sort(key=lambda e: (e.line is None, e.line or 0, _path_key(e.path), e.message))
        raise ValidationErrors(errors, file=filename)


# --------------------------------------------------------------------------- helpers


def _line(line_of, path: tuple) -> int | None:
    for end in range(len(path), -1, -1):
        try:
            line = line_of(tuple(path[:end]))
        except (KeyError, IndexError, TypeError):
            line = None
        if line:
            return line
    return None


def _path_key(path: tuple) -> tuple:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in path)


def _string_keys(node: Any) -> Any:
    """Compose turns non-string mapping keys (``1: a``) into strings; do the same.

    The input is returned unchanged when every key is already a string. Nodes shared through
    YAML aliases are visited once, so the walk stays linear in the size of the parsed tree.
    """
    seen: set[int] = set()

    def needs(n) -> bool:
        if isinstance(n, (dict, list)):
            if id(n) in seen:
                return False
            seen.add(id(n))
            if isinstance(n, dict):
                return any(not isinstance(k, str) for k in n) or any(needs(v) for v in n.values())
            return any(needs(v) for v in n)
        return False

    if not needs(node):
        return node
    memo: dict[int, Any] = {}

    def convert(n):
        if isinstance(n, dict):
            if id(n) not in memo:
                memo[id(n)] = out = {}
                for k, v in n.items():
                    out[_key_text(k)] = convert(v)
            return memo[id(n)]
        if isinstance(n, list):
            if id(n) not in memo:
                items: list = []
                memo[id(n)] = items
                items.extend(convert(v) for v in n)
            return memo[id(n)]
        return n

    return convert(node)


def _key_text(key) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _where(path) -> str:
    return format_path(path) or "the top level"


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return type(value).__name__


def _an(word: str) -> str:
    if word == "null":
        return word
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _join(words: list[str], last="or") -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def _show(value, limit=60) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _suggest(word, candidates: Iterable[str]) -> str | None:
    import difflib

    if not isinstance(word, str):
        return None
    match = difflib.get_close_matches(word, [c for c in candidates if isinstance(c, str)], n=1,
                                      cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def _explain(error) -> list[tuple[tuple, str, str | None]]:
    """Turn one jsonschema error into (path, message, hint) problems."""
    path = tuple(error.absolute_path)
    keyword = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    value = error.instance

    if "propertyNames" in error.relative_schema_path:
        # instance is the offending key; path is the mapping holding it
        if keyword == "minLength":
            return [(path, f"empty key in {_where(path)}", None)]
        return [(path + (value,), f"invalid name '{value}' in {_where(path)}: {_NAME_RULE}", None)]

    if keyword == "additionalProperties":
        return _unknown_keys(path, value, schema)

    if keyword in ("anyOf", "oneOf") and error.context:
        return _explain_alternatives(error)

    if keyword == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else list(expected)
        return [_type_problem(path, value, expected)]

    if keyword in ("enum", "const"):
        allowed = error.validator_value if keyword == "enum" else [error.validator_value]
        shown = _join([_show(a) for a in allowed])
        if len(allowed) == 1:
            message = f"{_where(path)} must be {shown}, got {_show(value)}"
        else:
            message = f"{_where(path)} must be one of {shown}, got {_show(value)}"
        return [(path, message, _suggest(value, [a for a in allowed if isinstance(a, str)]))]

    if keyword == "required":
        missing = [k for k in error.validator_value if isinstance(value, dict) and k not in value]
        return [(path, f"missing required key '{k}' in {_where(path)}", None) for k in missing]

    if keyword == "uniqueItems":
        index = _first_duplicate(value)
        at = path + (index,) if index is not None else path
        dup = f" {_show(value[index])}" if index is not None else ""
        return [(at, f"{_where(path)} lists the same entry{dup} more than once", None)]

    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most",
                 "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than"}[keyword]
        message = f"{_where(path)} must be {words} {error.validator_value}, got {_show(value)}"
        return [(path, message, None)]

    if keyword == "pattern":
        hint = schema.get("description")
        return [(path, f"{_where(path)} has an invalid value {_show(value)}"
                       f" (it must match {error.validator_value!r})", hint)]

    if keyword == "false":
        return [(path, f"{_where(path)} is not allowed", None)]

    return [(path, f"{_where(path)}: {error.message}", None)]


def _type_problem(path, value, expected: list[str]):
    words = [_TYPE_WORDS.get(t, t) for t in expected]
    if path:
        message = f"{_where(path)} must be {_an(_join(words))}, got {_an(_type_name(value))}"
    else:
        message = (f"the top level of a compose file must be {_an(_join(words))}, "
                   f"got {_an(_type_name(value))}")
    hint = None
    if value is None:
        hint = "the value is empty: give it a value or remove the key"
    elif "string" in expected and isinstance(value, bool):
        hint = ("YAML reads unquoted yes/no/on/off/true/false as booleans; "
                "quote the value to keep it a string")
    elif "string" in expected and isinstance(value, (int, float)):
        hint = "quote the value to make it a string"
    elif isinstance(value, str) and ("boolean" in expected or "integer" in expected
                                     or "number" in expected):
        hint = "write the value without quotes"
    return (path, message, hint)


def _unknown_keys(path, value, schema):
    if not isinstance(value, dict):
        return []
    known = schema.get("properties", {}) or {}
    patterns = schema.get("patternProperties", {}) or {}
    extras = [k for k in value
              if k not in known and not any(re.search(p, k) for p in patterns)]
    out = []
    for key in extras:
        where = "at the top level" if not path else f"in {_where(path)}"
        hint = _suggest(key, known)
        if hint is None and not path and isinstance(value.get(key), dict) and (
                "image" in value[key] or "build" in value[key]):
            hint = ("this looks like a service: the version-1 compose format is not supported, "
                    "put services under a top-level 'services:' key")
        if hint is None and "^x-" in patterns:
            hint = "custom keys must start with 'x-'"
        out.append((path + (key,), f"unknown key '{key}' {where}", hint))
    return out


def _first_duplicate(items) -> int | None:
    if not isinstance(items, list):
        return None
    for i, item in enumerate(items):
        for earlier in items[:i]:
            if _same(item, earlier):
                return i
    return None


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _explain_alternatives(error):
    """anyOf/oneOf: explain the alternative that fits the value's type best."""
    branches: dict[int, list] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [subs for subs in branches.values()
               if not any(e.validator == "type" and not e.relative_path for e in subs)]
    if not fitting:
        expected: list[str] = []
        for subs in branches.values():
            for e in subs:
                if e.validator == "type" and not e.relative_path:
                    vv = e.validator_value
                    for t in [vv] if isinstance(vv, str) else vv:
                        if t not in expected:
                            expected.append(t)
        return [_type_problem(tuple(error.absolute_path), error.instance, expected)]
    from jsonschema.exceptions import best_match

    best = best_match([e for subs in fitting for e in subs])
    if best is None:
        path = tuple(error.absolute_path)
        return [(path, f"{_where(path)}: {error.message}", None)]
    # best_match descends into nested alternatives; explain what it found
    return _explain(best)

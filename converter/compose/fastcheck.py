"""A fast yes/no check of a document against the compose schema.

jsonschema explains errors well but walks a 500-service file in ~0.6 s. Valid files are the
common case, so the loader first asks this checker, which compiles the schema into nested
closures (~20x faster); only when it says "invalid" does jsonschema run to explain why.
Compilation is lazy (a `$ref` or a property is compiled when a document first reaches it): a
small file touches a tenth of the schema, and compiling all of it cost ~10 ms of every start.

It supports exactly the keywords compose-schema.json uses (a test keeps the two in sync):
type, $ref, properties, patternProperties, additionalProperties, propertyNames, items,
required, enum, pattern, minimum, maximum, minLength, uniqueItems, if/then. Semantics follow
JSON Schema 2020-12 as jsonschema implements it (booleans are not numbers, 1.0 is an integer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal

Check = Callable[[Any], bool]

SUPPORTED = {"type", "$ref", "properties", "patternProperties", "additionalProperties",
             "propertyNames", "items", "required", "enum", "pattern", "minimum", "maximum",
             "minLength", "uniqueItems", "if", "then",
             # annotations, no effect on validity
             "description", "deprecated", "default", "title", "$schema", "$id", "$defs",
             "$comment", "examples"}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}


# JSON types that one isinstance test decides exactly (not number/integer: bool is an int).
_PLAIN_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool,
                "null": type(None)}


def _same_kind_key(value):
    """A key under which two JSON values are equal exactly when jsonschema says they are."""
    if isinstance(value, bool):
        return ("b", value)
    if _is_number(value):
        return ("n", value)
    if isinstance(value, (dict, list)):
        return ("j", json.dumps(value, sort_keys=True, default=str))
    return ("s", value)


class _Compiler:
    def __init__(self, root: dict):
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: str) -> Check:
        check = self.refs.get(pointer)
        if check is None:
            compiled: list[Check] = []

            def check(v) -> bool:
                if not compiled:
                    compiled.append(self.compile(self._resolve(pointer)))
                return compiled[0](v)
            self.refs[pointer] = check
        return check

    def _resolve(self, pointer: str):
        node = self.root
        for part in pointer.lstrip("#/").split("/"):
            if part:
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def compile(self, schema) -> Check:
        if schema is True or schema == {}:
            return lambda v: True
        if schema is False:
            return lambda v: False
        unknown = set(schema) - SUPPORTED
        if unknown:
            raise ValueError(f"fastcheck does not support {sorted(unknown)}")
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        if "type" in schema:
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if set(kinds) <= _PLAIN_TYPES.keys():     # bool is no int here: isinstance is exact
                types = tuple(_PLAIN_TYPES[k] for k in kinds)
                checks.append(lambda v: isinstance(v, types))
            else:
                tests = [_TYPES[k] for k in kinds]
                checks.append(lambda v: any(t(v) for t in tests))
        if "enum" in schema:
            allowed = {_same_kind_key(x) for x in schema["enum"]}
            checks.append(lambda v: _same_kind_key(v) in allowed)
        if "pattern" in schema:
            rx = re.compile(schema["pattern"])
            checks.append(lambda v: not isinstance(v, str) or rx.search(v) is not None)
        if "minLength" in schema:
            n = schema["minLength"]
            checks.append(lambda v: not isinstance(v, str) or len(v) >= n)
        if "minimum" in schema:
            low = schema["minimum"]
            checks.append(lambda v: not _is_number(v) or v >= low)
        if "maximum" in schema:
            high = schema["maximum"]
            checks.append(lambda v: not _is_number(v) or v <= high)
        if "required" in schema:
            req = tuple(schema["required"])
            checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in req))
        if any(k in schema for k in ("properties", "patternProperties", "additionalProperties")):
            checks.append(self._object(schema))
        if "propertyNames" in schema:
            names = self.compile(schema["propertyNames"])
            checks.append(lambda v: not isinstance(v, dict) or all(names(k) for k in v))
        if "items" in schema:
            item = self.compile(schema["items"])
            checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
        if schema.get("uniqueItems"):
            def unique(v):
                if not isinstance(v, list):
                    return True
                keys = [_same_kind_key(x) for x in v]
                return len(set(keys)) == len(keys)
            checks.append(unique)
        if "if" in schema:
            cond = self.compile(schema["if"])
            then = self.compile(schema.get("then", True))
            checks.append(lambda v: not cond(v) or then(v))
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks
            return lambda v: first(v) and second(v)
        checks_t = tuple(checks)
        return lambda v: all(c(v) for c in checks_t)

    def _object(self, schema) -> Check:
        declared = schema.get("properties") or {}
        patterns = [(re.compile(p), s) for p, s in (schema.get("patternProperties") or {}).items()]
        pattern_checks: list[Check | None] = [None] * len(patterns)
        extra = schema.get("additionalProperties", True)
        # None: any extra key is allowed; False: none is; else the check its value must pass.
        extra_check: Check | Literal[False] | None = (
            None if extra is True else (False if extra is False else self.compile(extra)))

        # key -> the checks its value must pass, or None when the key is not allowed. Keys repeat
        # (every service has `image`), so each is matched against the patterns once.
        plans: dict[str, tuple[Check, ...] | None] = {}

        def plan(key: str) -> tuple[Check, ...] | None:
            found = [self.compile(declared[key])] if key in declared else []
            matched = bool(found)
            for index, (rx, sub) in enumerate(patterns):
                if rx.search(key):
                    matched = True
                    compiled = pattern_checks[index]
                    if compiled is None:
                        compiled = pattern_checks[index] = self.compile(sub)
                    found.append(compiled)
            if not matched and extra_check is not None:
                if extra_check is False:
                    return None
                found.append(extra_check)
            return tuple(found)

        def check(v) -> bool:
            if not isinstance(v, dict):
                return True
            for key, value in v.items():
                try:
                    checks = plans[key]
                except KeyError:
                    checks = plan(key)
                    if len(plans) < 4096:
                        plans[key] = checks
                if checks is None:
                    return False
                for sub in checks:
                    if not sub(value):
                        return False
            return True
        return check


def compile_schema(schema: dict) -> Check:
    return _Compiler(schema).compile(schema)

"""Names in values.yaml: each object's values key, the paths templates read."""

from __future__ import annotations

import json
import re

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def camel(name: str) -> str:
    """`my-web` -> `myWeb`: the values key of an object."""
    head, *rest = re.split(r"[-_.]+", name)
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def values_expr(path) -> str:
    """The template expression that reads a values path (`$.Values.a.b`)."""
    path = [p for p in path if p]
    if all(_IDENT.match(p) for p in path):
        return "$.Values." + ".".join(path)
    return "(index $.Values " + " ".join(json.dumps(p) for p in path) + ")"


def free_key(taken, name: str) -> str:
    """camelCase of `name`; when that is taken, `name` itself, else `name` with a number."""
    for key in (camel(name), name):
        if key not in taken:
            return key
    n = 2
    while f"{name}{n}" in taken:
        n += 1
    return f"{name}{n}"

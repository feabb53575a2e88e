"""Strict offline validation of Kubernetes objects (kubernetes-validate's bundled schemas).

`kubernetes_validate.validate` re-reads the 5 MB definitions file on every call (~25 ms per
object); here each kind's validator is built once and cached, so a whole test run costs about as
much as a handful of calls.
"""

from __future__ import annotations

import functools
import re

import jsonschema
import kubernetes_validate.utils as kv
from referencing import Registry, Resource

VERSION = "1.33.0"


@functools.cache
def _definitions(schema_dir: str):
    return Resource.from_contents(kv.schema_contents(
        f"kubernetes-json-schema/{schema_dir}/_definitions.json", VERSION))


@functools.cache
def _validator(api_version: str, kind: str, version: str = VERSION):
    real = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(version)][-1]
    schema_dir = f"v{real}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kv.schema_contents(
        f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group}.json", version)
    registry = Resource.from_contents(schema) @ Registry()
    registry = _definitions(schema_dir) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def errors(obj: dict) -> list[str]:
    """Every schema problem of one object, as `kind/name: path: message`."""
    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    try:
        validator = _validator(obj["apiVersion"], obj["kind"])
    except (FileNotFoundError, KeyError) as exc:
        return [f"{where}: no schema ({exc})"]
    return [f"{where}: {'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(obj)]


def validate_all(objects) -> list[str]:
    out: list[str] = []
    for obj in objects:
        out.extend(errors(obj))
    return out


def assert_valid(objects) -> None:
    problems = validate_all(objects)
    assert not problems, "schema errors:\n" + "\n".join(problems)


def validate_official(obj: dict) -> None:
    """The library's own entry point (slow), to check the cached path agrees with it."""
    import kubernetes_validate
    kubernetes_validate.validate(obj, VERSION, strict=True)

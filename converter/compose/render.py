"""`c2k config`: the canonical project as YAML or JSON, or one of its lists."""

from __future__ import annotations

import json


def render_config(result, *, fmt: str = "yaml", services=False, volumes=False, profiles=False,
                  images=False, interpolated: bool = True) -> str:
    """As docker compose prints it. An interpolated project is printed with `$` written `$$`
    (so the output loads back unchanged) and without `env_file`, whose values are already in
    `environment`."""
    canonical = result.canonical
    if interpolated:
        canonical = escape(_without_env_files(canonical))
    project = result.project
    if services:
        return _lines(canonical.get("services") or {})
    if volumes:
        return _lines(canonical.get("volumes") or {})
    if profiles:
        return _lines(result.profiles)
    if images:
        return _lines(image_name(project, s) for s in project.services.values())
    if fmt == "json":
        return json.dumps(canonical, indent=2, ensure_ascii=False) + "\n"
    from ..emit.yamlio import dump
    return dump(canonical)


def _without_env_files(canonical: dict) -> dict:
    services = {name: {k: v for k, v in svc.items() if k != "env_file"}
                for name, svc in (canonical.get("services") or {}).items()}
    return {**canonical, "services": services}


def escape(value):
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {k: escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape(v) for v in value]
    return value


def image_name(project, service) -> str:
    """The image a service runs: its `image`, else what docker compose names a built one."""
    if service.image:
        return service.image
    return f"{project.name}-{service.name}"


def _lines(items) -> str:
    items = list(items)
    return "".join(f"{item}\n" for item in items)

"""Render the conversion report: short lines for stderr, a YAML/JSON document for --report FILE.

Only what the user should read goes to stderr (warnings, approximations, what was not
converted); the file holds every entry, mapped ones included, grouped by scope and name.
"""

from __future__ import annotations

import json as _json

from ..kube.report import MAPPED, STATUSES, WARNING, Report
from . import yamlio


def stderr_lines(report: Report) -> list[str]:
    """`service web: ports: approximated: ...`; plain warnings without the status word. What
    several services (volumes, ...) share is said once for all of them: `services api, db:
    networks: approximated: ...`, in the order of the first."""
    names: dict[tuple, list[str]] = {}
    for e in report.warnings:
        names.setdefault((e.scope, e.key, e.status, e.detail), []).append(e.name)
    out = []
    for (scope, key, status, detail), who in names.items():
        where = scope if not who[0] else \
            f"{scope} {who[0]}" if len(who) == 1 else f"{scope}s {', '.join(who)}"
        status = "" if status == WARNING else f"{status}: "
        out.append(f"{where}: {key}: {status}{detail}")
    return out


def summary(report: Report) -> dict:
    counts = {status: 0 for status in STATUSES}
    for e in report.entries:
        counts[e.status] += 1
    return counts


def document(report: Report) -> dict:
    """{summary, services: {name: [{key, status, detail}]}, volumes: ..., ...}."""
    out: dict = {"summary": summary(report)}
    for e in report.sorted():
        scope = {"project": "project", "service": "services", "volume": "volumes",
                 "network": "networks", "secret": "secrets", "config": "configs"}.get(
            e.scope, e.scope)
        item = {"key": e.key, "status": e.status}
        if e.detail:
            item["detail"] = e.detail
        if scope == "project":
            out.setdefault("project", []).append(item)
        else:
            out.setdefault(scope, {}).setdefault(e.name, []).append(item)
    return out


def render(report: Report, *, fmt: str = "yaml") -> str:
    doc = document(report)
    if fmt == "json":
        return _json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return yamlio.dump(doc)


def write_report(report: Report, path: str) -> None:
    fmt = "json" if path.endswith(".json") else "yaml"
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(render(report, fmt=fmt))


__all__ = ["stderr_lines", "summary", "document", "render", "write_report", "MAPPED"]

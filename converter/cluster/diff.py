"""`c2k diff`: the live objects against what a server-side apply would make of them.

Like `kubectl diff`: each object is read live and applied with ``dryRun=All``; the two are
compared as YAML in a unified diff. Fields the server churns (managedFields, resourceVersion,
generation, uid, creationTimestamp) and ``status`` are left out; Secret values are masked.
With prune, members of the ApplySet that the project no longer has show up as deletions (but
claims, which apply --prune keeps).
"""

from __future__ import annotations

import difflib
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..errors import ClusterError
from .apply import apply_one, prepare, ref, split_namespace
from .applyset import ApplySet, group_kind
from .claims import live_claims, settle
from .retry import call, is_not_found
from .strategy import owned_first

if TYPE_CHECKING:
    from .kubeconfig import Connection

VOLATILE = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp",
            "selfLink")


def normalize(obj: dict | None) -> dict | None:
    if obj is None:
        return None
    out = {k: v for k, v in obj.items() if k != "status"}
    out["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items()
                       if k not in VOLATILE}
    return out


def mask_secrets(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Replace Secret values by *** (marked before/after where they differ), as kubectl."""
    if (before or after or {}).get("kind") != "Secret":
        return before, after
    old = dict((before or {}).get("data") or {})
    new = dict((after or {}).get("data") or {})
    for key in set(old) | set(new):
        same = old.get(key) == new.get(key)
        if key in old:
            old[key] = "***" if same else "*** (before)"
        if key in new:
            new[key] = "***" if same else "*** (after)"
    if before is not None and "data" in before:
        before = {**before, "data": old}
    if after is not None and "data" in after:
        after = {**after, "data": new}
    before, after = (
        {**side, "stringData": dict.fromkeys(side["stringData"], "***")}
        if side is not None and "stringData" in side else side for side in (before, after))
    return before, after


def _text(obj: dict | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines(True)


def unified(name: str, before: dict | None, after: dict | None) -> str:
    before, after = mask_secrets(normalize(before), normalize(after))
    lines = difflib.unified_diff(_text(before), _text(after), f"live/{name}", f"merged/{name}")
    return "".join(lines)


def diff_objects(conn: Connection, project: str, objects: list[dict], *, prune: bool = False,
                 force: bool = False) -> str:
    """The unified diff for the whole project ('' when the cluster already matches)."""
    return "".join(unified(name, before, after) for name, before, after in
                   compare(conn, project, objects, prune=prune, force=force))


def compare(conn: Connection, project: str, objects: list[dict], *, prune: bool = False,
            force: bool = False) -> list[tuple[str, dict | None, dict | None]]:
    """[(kubectl name, live, merged)] for every object of the project (None: absent)."""
    ns_obj, rest = split_namespace(objects)
    applyset = ApplySet(conn, project, conn.namespace)
    namespace_exists = True
    try:
        call(conn.resource("v1", "Namespace").get, name=conn.namespace, missing_ok=True,
             forbidden_ok=True, what=f"reading namespace {conn.namespace}")
    except Exception as exc:
        if is_not_found(exc):
            namespace_exists = False
        elif getattr(exc, "status", None) != 403:  # 403: rights in the namespace only
            raise
    chunks: list[tuple[str, dict | None, dict | None]] = []
    if not namespace_exists:
        body = ns_obj or {"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": conn.namespace}}
        chunks.append((ref(body), None, body))
        parent = None
    else:
        parent = applyset.fetch_parent()
    bodies = prepare(rest, applyset)
    first = {}
    if namespace_exists:     # what apply sends for claims that exist (claims.py), and first
        settle(conn, bodies, live_claims(conn))            # for Deployments (strategy.py)
        first = owned_first(conn, bodies, conn.namespace)
    for body in bodies:
        live = None
        if namespace_exists:
            resource = conn.resource(body["apiVersion"], body["kind"])
            try:
                live = call(resource.get, name=body["metadata"]["name"],
                            namespace=body["metadata"].get("namespace"), missing_ok=True,
                            what=f"reading {ref(body)}")
            except Exception as exc:
                if not is_not_found(exc):
                    raise
            merged = apply_one(conn, body, force=force, dry_run=True,
                               first=first.get(body["metadata"]["name"])
                               if body["kind"] == "Deployment" else None)
        else:
            merged = body
        chunks.append((ref(body), live, merged))
    if prune and parent is not None:
        keep = {(group_kind(b), b["metadata"]["name"]) for b in bodies}
        kinds = applyset.group_kinds(parent) | {group_kind(b) for b in bodies}
        for _, obj in applyset.members(kinds - {"PersistentVolumeClaim"}):  # prune keeps them
            if (group_kind(obj), obj["metadata"]["name"]) not in keep:
                chunks.append((ref(obj), obj, None))
    return chunks


def file_name(obj: dict) -> str:
    """kubectl diff's file name: group.version.Kind.namespace.name."""
    api = obj.get("apiVersion", "v1").replace("/", ".")
    meta = obj.get("metadata") or {}
    return ".".join(p for p in (api, obj.get("kind", ""), meta.get("namespace"),
                                meta.get("name")) if p)


def external(command: str, pairs) -> int:
    """Write the changed objects into LIVE/ and MERGED/ folders and run command on them, as
    kubectl does with KUBECTL_EXTERNAL_DIFF; returns the program's exit code."""
    with tempfile.TemporaryDirectory(prefix="c2k-diff-") as tmp:
        live, merged = Path(tmp, "LIVE"), Path(tmp, "MERGED")
        live.mkdir()
        merged.mkdir()
        for _, before, after in pairs:
            before, after = mask_secrets(normalize(before), normalize(after))
            if _text(before) == _text(after):
                continue
            name = file_name(after or before or {})
            if before is not None:
                (live / name).write_text("".join(_text(before)))
            if after is not None:
                (merged / name).write_text("".join(_text(after)))
        try:
            return subprocess.run(shlex.split(command) + [str(live), str(merged)]).returncode
        except OSError as exc:
            raise ClusterError(f"KUBECTL_EXTERNAL_DIFF {command!r}: {exc}") from None

"""Call the API again when the failure is transient: 429, 5xx, dropped connections, and (for
read-modify-write calls only) 409 optimistic-concurrency conflicts.

Backoff doubles from 0.2 s up to 5 s; a ``Retry-After`` header wins. A server-side apply conflict
(409 naming field managers) is never retried: it is the user's to resolve.
"""

from __future__ import annotations

import functools
import time

from ..errors import ClusterError
from .kubeconfig import api_message, conflict_managers, explain

RETRIABLE = {429, 500, 502, 503, 504}


def _retry_after(exc) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    try:
        value = headers.get("Retry-After")
        return float(value) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


def _transient(exc, conflicts: bool) -> bool:
    status = getattr(exc, "status", None)
    if status in RETRIABLE:
        return True
    if status == 409 and conflicts:
        return not conflict_managers(api_message(exc)[1])
    if status is None:
        name = type(exc).__name__
        return name in ("ProtocolError", "MaxRetryError", "ConnectionResetError",
                        "NewConnectionError", "ReadTimeoutError")
    return False


def call(fn, *args, what: str = "", attempts: int = 6, conflicts: bool = False,
         missing_ok: bool = False, forbidden_ok: bool = False, conflict_ok: bool = False,
         sleep=time.sleep, **kwargs):
    """fn(*args, **kwargs), retried on transient errors; other errors raise ClusterError.

    With missing_ok, NotFound (404) is re-raised as is so callers can treat "absent" as a value;
    with forbidden_ok, the same for Forbidden (403); with conflict_ok, for Conflict (409: the
    object exists, or changed since it was read).
    """
    if isinstance(fn, functools.partial) and "serializer" not in kwargs:
        kwargs["serializer"] = plain  # a DynamicClient call: return the JSON as dicts
    delay = 0.2
    for attempt in range(attempts):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            status = getattr(exc, "status", None)
            if (status == 404 and missing_ok) or (status == 403 and forbidden_ok) or \
                    (status == 409 and conflict_ok):
                raise
            if attempt + 1 < attempts and _transient(exc, conflicts):
                sleep(min(_retry_after(exc) or delay, 5.0))
                delay = min(delay * 2, 5.0)
                continue
            if status is None and not type(exc).__module__.startswith(("urllib3", "kubernetes")):
                raise
            raise explain(exc, what or getattr(fn, "__name__", "request")) from None
    raise AssertionError("unreachable")


def plain(_client, data):
    """A DynamicClient serializer that keeps the decoded JSON (ResourceInstance is slow)."""
    return data


METADATA_ONLY = {"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
                           "application/json"}


def is_not_found(exc) -> bool:
    return getattr(exc, "status", None) == 404


def delete(resource, name: str, namespace: str | None, *, what: str, **kwargs) -> None:
    """Delete one object, retried like any call; one already gone (404) counts as deleted."""
    try:
        call(resource.delete, name=name, namespace=namespace, missing_ok=True, what=what,
             **kwargs)
    except Exception as exc:
        if not is_not_found(exc):
            raise


def wait_gone(items, timeout: float, interval: float = 0.3) -> None:
    """Wait until every (resource, object) of items is gone (finalizers done: a Deployment
    deleted in the foreground is gone once its pods are)."""
    deadline = time.monotonic() + timeout
    remaining = list(items)
    while remaining:
        still = []
        for resource, obj in remaining:
            try:
                call(resource.get, name=obj["metadata"]["name"],
                     namespace=obj["metadata"].get("namespace"), missing_ok=True,
                     what=f"reading {obj['kind']} {obj['metadata']['name']}")
                still.append((resource, obj))
            except Exception as exc:
                if not is_not_found(exc):
                    raise
        remaining = still
        if not remaining:
            return
        if time.monotonic() >= deadline:
            raise ClusterError("timed out waiting for deletion of: " + ", ".join(
                _ref(o) for _, o in remaining),
                hint="finalizers may hold them; see kubectl describe")
        time.sleep(interval)


def _ref(obj: dict) -> str:
    """`deployment.apps/web`, as kubectl names objects."""
    api_version = obj.get("apiVersion", "")
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    return f"{obj['kind'].lower()}{'.' + group if group else ''}/{obj['metadata']['name']}"

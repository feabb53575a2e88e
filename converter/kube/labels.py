"""Labels and annotations on the objects c2k writes.

Every object carries the recommended labels ``app.kubernetes.io/name`` (the service, or the
project for project-wide objects), ``app.kubernetes.io/instance`` and ``app.kubernetes.io/part-of``
(the project) and ``app.kubernetes.io/managed-by: c2k``. Selectors use only
``app.kubernetes.io/name`` + ``app.kubernetes.io/instance``: they never change between runs, so
a later apply never trips over an immutable selector.
"""

from __future__ import annotations

from . import names

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "c2k"
NETWORK_PREFIX = "network.c2k.io/"


def selector(name: str, project: str) -> dict:
    """The immutable selector labels of one workload's pods."""
    return {NAME: names.label_value(name), INSTANCE: names.label_value(project)}


def common(name: str, project: str) -> dict:
    """The labels on every object belonging to `name` (a service or the project)."""
    return {
        NAME: names.label_value(name),
        INSTANCE: names.label_value(project),
        PART_OF: names.label_value(project),
        MANAGED_BY: MANAGER,
    }


def network_label(network: str) -> str:
    """The pod label key telling which compose network a pod is attached to."""
    return NETWORK_PREFIX + names.dns_label(network, prefix="net")


def metadata(name: str, owner: str, project: str, *, labels: dict | None = None,
             annotations: dict | None = None) -> dict:
    """`metadata` for an object called `name` belonging to `owner` (service or project)."""
    out: dict = {"name": name}
    merged = common(owner, project)
    for key, value in (labels or {}).items():
        merged.setdefault(key, value)
    out["labels"] = merged
    if annotations:
        out["annotations"] = dict(annotations)
    return out


def split_compose_labels(labels, report, service: str, key: str = "labels") -> dict:
    """compose labels -> annotations (valid keys only); `kompose.*` hints are consumed elsewhere."""
    out = {}
    for k, v in labels.items():
        if k.startswith("kompose."):
            continue
        if names.is_qualified_key(k):
            out[k] = "" if v is None else str(v)
        else:
            report.not_converted(service, f"{key}.{k}",
                                 "not a valid Kubernetes annotation key")
    if out:
        report.mapped(service, key, "copied as annotations")
    return out


def valid_labels(labels, report, service: str, key: str) -> dict:
    """deploy.labels -> workload labels where key and value are valid label syntax."""
    out = {}
    for k, v in labels.items():
        if k.startswith("kompose."):
            continue
        value = "" if v is None else str(v)
        if names.is_qualified_key(k) and names.is_label_value(value):
            out[k] = value
        else:
            report.not_converted(service, f"{key}.{k}", "not a valid Kubernetes label")
    if out:
        report.mapped(service, key, "copied as workload labels")
    return out

"""ApplySets (KEP-3659, kubectl `pkg/cmd/apply/applyset.go`): which objects belong to a project.

The parent is a Secret ``c2k-<project>`` in the project's namespace, labelled
``applyset.kubernetes.io/id = applyset-<base64url(sha256(name.namespace.Secret.))>-v1`` and
annotated with the tooling (``c2k/<version>``) and the group-kinds of its members
(``Deployment.apps,Service``). Each member carries ``applyset.kubernetes.io/part-of: <id>``.
kubectl computes the same id, so ``kubectl get -l applyset.kubernetes.io/part-of=<id>`` sees the
set. Only objects carrying this set's id are ever pruned or deleted; a parent written by another
tool is refused.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import ClusterError
from .retry import METADATA_ONLY, call, delete, is_not_found

if TYPE_CHECKING:
    from .kubeconfig import Connection

ID_LABEL = "applyset.kubernetes.io/id"
PART_OF = "applyset.kubernetes.io/part-of"
TOOLING = "applyset.kubernetes.io/tooling"
GROUP_KINDS = "applyset.kubernetes.io/contains-group-kinds"
FIELD_MANAGER = "c2k"


def tooling() -> str:
    return f"c2k/{__version__}"


def parent_name(project: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", project.lower()).strip("-") or "project"
    return f"c2k-{name}"[:253]


def applyset_id(name: str, namespace: str, kind: str = "Secret", group: str = "") -> str:
    """The id kubectl gives the ApplySet whose parent is kind.group/name in namespace."""
    unencoded = ".".join((name, namespace, kind, group))
    digest = hashlib.sha256(unencoded.encode("utf-8")).digest()
    return "applyset-" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=") + "-v1"


def group_kind(obj: dict) -> str:
    """`Deployment.apps` / `Service`, as in contains-group-kinds."""
    api_version = obj.get("apiVersion", "")
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    return f"{obj['kind']}.{group}" if group else obj["kind"]


def split_group_kind(value: str) -> tuple[str, str]:
    kind, _, group = value.partition(".")
    return group, kind


class ApplySet:
    """One project's set in one namespace."""

    def __init__(self, conn: Connection, project: str, namespace: str):
        self.conn = conn
        self.namespace = namespace
        self.name = parent_name(project)
        self.id = applyset_id(self.name, namespace)
        self._secrets = conn.resource("v1", "Secret")

    # ---- the parent ------------------------------------------------------------------------
    def fetch_parent(self) -> dict | None:
        """The parent Secret, or None; refuse one that another tool manages."""
        try:
            obj = call(self._secrets.get, name=self.name, namespace=self.namespace,
                       what=f"reading the ApplySet parent secret/{self.name}",
                       missing_ok=True)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        meta = obj.get("metadata", {})
        tool = (meta.get("annotations") or {}).get(TOOLING, "")
        if not tool.startswith("c2k/"):
            raise ClusterError(
                f"secret/{self.name} in namespace {self.namespace} exists but is not a c2k "
                f"ApplySet parent (tooling: {tool or 'none'})",
                hint="another tool owns that name; c2k will not touch its objects")
        if (meta.get("labels") or {}).get(ID_LABEL) != self.id:
            raise ClusterError(f"secret/{self.name} has a wrong {ID_LABEL} label",
                               hint="delete the secret if it is stale")
        return obj

    @staticmethod
    def group_kinds(parent: dict | None) -> set[str]:
        if not parent:
            return set()
        value = (parent["metadata"].get("annotations") or {}).get(GROUP_KINDS, "")
        return {gk for gk in value.split(",") if gk}

    def parent_body(self, group_kinds, annotations=None) -> dict:
        return {"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": self.name, "namespace": self.namespace,
                             "labels": {ID_LABEL: self.id},
                             "annotations": {TOOLING: tooling(),
                                             GROUP_KINDS: ",".join(sorted(group_kinds)),
                                             **(annotations or {})}},
                "type": "Opaque"}

    def write_parent(self, group_kinds, dry_run: bool = False, annotations=None) -> None:
        kwargs: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
        call(self._secrets.server_side_apply, body=self.parent_body(group_kinds, annotations),
             field_manager=FIELD_MANAGER, force_conflicts=True,
             what=f"writing the ApplySet parent secret/{self.name}", **kwargs)

    def delete_parent(self) -> None:
        delete(self._secrets, self.name, self.namespace, what=f"deleting secret/{self.name}")

    # ---- members -----------------------------------------------------------------------------
    def label(self, obj: dict) -> dict:
        """A copy of obj carrying this set's part-of label."""
        out = dict(obj)
        meta = dict(out.get("metadata") or {})
        meta["labels"] = {**(meta.get("labels") or {}), PART_OF: self.id}
        out["metadata"] = meta
        return out

    def resource_for(self, gk: str):
        """The preferred-version resource of a group-kind, or None when not served."""
        group, kind = split_group_kind(gk)
        from kubernetes.dynamic.exceptions import ResourceNotFoundError
        try:
            found = self.conn.dynamic.resources.search(group=group, kind=kind)
        except ResourceNotFoundError:
            return None
        found = [r for r in found if not r.kind.endswith("List") and "/" not in r.name]
        if not found:
            return None
        preferred = [r for r in found if getattr(r, "preferred", False)]
        return (preferred or found)[0]

    def members(self, group_kinds, *, full: bool = True) -> list[tuple[Any, dict]]:
        """[(resource, object), ...] carrying this set's id, in the given group-kinds
        (only their metadata unless full)."""
        out = []
        for gk in sorted(group_kinds):
            resource = self.resource_for(gk)
            if resource is None:
                continue
            namespace = self.namespace if resource.namespaced else None
            listed = call(resource.get, namespace=namespace,
                          label_selector=f"{PART_OF}={self.id}",
                          header_params={} if full else dict(METADATA_ONLY),
                          what=f"listing {gk} of the ApplySet")
            for item in listed.get("items") or []:
                item["kind"], item["apiVersion"] = resource.kind, resource.group_version
                if (item["metadata"].get("labels") or {}).get(PART_OF) == self.id:
                    out.append((resource, item))
        return out

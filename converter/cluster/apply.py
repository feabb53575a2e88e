"""Server-side apply of a project's objects, in an order that works, with ApplySet prune.

Order (kinds.py): Namespace, ServiceAccounts and RBAC, Secrets/ConfigMaps, claims, Services,
workloads, then Ingresses, autoscalers and NetworkPolicies. Objects of one rank are applied concurrently.
The namespace is created when missing and is never a member of the set; one c2k creates is
annotated with the project it was made for, and ``down`` of that project deletes it once nothing
else lives in it. Every member is labelled with the set's id; the parent first lists the union
of the old and new group-kinds, so an apply interrupted halfway still knows every member and a
re-run converges; after prune it lists only the new ones. What happens to claims and to what the
project no longer has: claims.py, prune.py.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .. import kinds
from ..errors import ClusterError
from ..records import field, record
from . import claims as claims_
from . import status
from .applyset import FIELD_MANAGER, PART_OF, ApplySet, group_kind
from .prune import kept_line, leftovers, orphan_warning
from .retry import METADATA_ONLY, call, delete, is_not_found, wait_gone
from .strategy import apply_after, owned_first

if TYPE_CHECKING:
    from .kubeconfig import Connection

WORKERS = 8
# On a namespace c2k created: the project it was created for (`down` may delete it; no other).
CREATED_FOR = "c2k.io/created-for-project"


def rank(obj: dict) -> int:
    return kinds.rank(obj.get("kind", ""))


def ref(obj: dict) -> str:
    """`deployment.apps/web`, as kubectl names objects."""
    gk = group_kind(obj)
    kind, _, group = gk.partition(".")
    return f"{kind.lower()}{'.' + group if group else ''}/{obj['metadata']['name']}"


def key(obj: dict) -> tuple[str, str, str]:
    return (group_kind(obj), obj["metadata"].get("namespace") or "", obj["metadata"]["name"])


@record(frozen=False)
class ApplyResult:
    applied: list[tuple[dict, str]] = field(default_factory=list)   # (object, outcome)
    pruned: list[dict] = field(default_factory=list)
    namespace_created: bool = False


def split_namespace(objects: list[dict]) -> tuple[dict | None, list[dict]]:
    """(the Namespace object conversion added, the other objects)."""
    ns = [o for o in objects if o.get("kind") == "Namespace" and o.get("apiVersion") == "v1"]
    rest = [o for o in objects if not (o.get("kind") == "Namespace"
                                       and o.get("apiVersion") == "v1")]
    return (ns[0] if ns else None), rest


def ensure_namespace(conn: Connection, namespace: str, body: dict | None = None,
                     dry_run: bool = False, project: str | None = None) -> bool:
    """Create the namespace when missing, annotated as created for `project`; True when it was
    created."""
    resource = conn.resource("v1", "Namespace")
    try:
        call(resource.get, name=namespace, what=f"reading namespace {namespace}",
             missing_ok=True, forbidden_ok=True)
        return False
    except Exception as exc:
        if getattr(exc, "status", None) == 403:
            return False  # rights in the namespace only: assume it exists
        if not is_not_found(exc):
            raise
    meta: dict[str, Any] = {"name": namespace}
    if body and body.get("metadata", {}).get("labels"):
        meta["labels"] = dict(body["metadata"]["labels"])
    if project:
        meta["annotations"] = {CREATED_FOR: project}
    kwargs: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
    try:
        call(resource.create, body={"apiVersion": "v1", "kind": "Namespace", "metadata": meta},
             what=f"creating namespace {namespace}", conflict_ok=True, **kwargs)
    except Exception as exc:
        if getattr(exc, "status", None) != 409:
            raise
        return False    # another c2k created it meanwhile
    return True


def prepare(objects: list[dict], applyset: ApplySet) -> list[dict]:
    """The bodies apply sends: in the set's namespace, labelled as members, in apply order."""
    out = []
    for obj in objects:
        body = applyset.label(obj)
        resource = applyset.conn.resource(body["apiVersion"], body["kind"])
        meta = dict(body["metadata"])
        if resource.namespaced:
            meta["namespace"] = applyset.namespace
        else:
            meta.pop("namespace", None)
        body["metadata"] = meta
        out.append(body)
    out.sort(key=rank)
    return out


def existing(applyset: ApplySet, bodies: list[dict]) -> list[tuple[Any, dict]]:
    """[(resource, metadata-only object)] of every object in the namespace of the kinds of
    bodies (one LIST per kind)."""
    conn, out = applyset.conn, []
    for api_version, kind in sorted({(b["apiVersion"], b["kind"]) for b in bodies}):
        resource = conn.resource(api_version, kind)
        namespace = applyset.namespace if resource.namespaced else None
        try:
            listed = call(resource.get, namespace=namespace, missing_ok=True,
                          header_params=dict(METADATA_ONLY), what=f"listing {kind}")
        except Exception as exc:
            if is_not_found(exc):  # the namespace does not exist (server dry run)
                continue
            raise
        for item in listed.get("items") or []:
            item["kind"], item["apiVersion"] = kind, api_version
            out.append((resource, item))
    return out


def refuse_foreign(applyset: ApplySet, bodies: list[dict], live: dict) -> None:
    """Refuse to take over objects that belong to another ApplySet (another project)."""
    taken = []
    for body in bodies:
        obj = live.get(key(body))
        labels = (obj or {}).get("metadata", {}).get("labels") or {}
        owner = labels.get(PART_OF)
        if owner and owner != applyset.id:
            project = labels.get("app.kubernetes.io/part-of")
            taken.append(f"{ref(body)}" + (f" (project {project})" if project else ""))
    if taken:
        raise ClusterError(f"{len(taken)} object(s) in namespace {applyset.namespace} belong to "
                           "another ApplySet: " + ", ".join(taken),
                           hint="use another namespace or rename the services; "
                                "--force-conflicts takes them over")


def apply_one(conn: Connection, body: dict, *, force: bool = False, dry_run: bool = False,
              first: dict | None = None) -> dict:
    """Server-side apply body (after `first`, see strategy.py)."""
    resource = conn.resource(body["apiVersion"], body["kind"])
    kwargs: dict[str, Any] = {"dry_run": "All"} if dry_run else {}

    def send(obj: dict) -> dict:
        return call(resource.server_side_apply, body=obj, field_manager=FIELD_MANAGER,
                    force_conflicts=True if force else None, what=f"applying {ref(body)}",
                    **kwargs)
    return apply_after(first, body, send, dry_run)


def apply_objects(conn: Connection, project: str, objects: list[dict], *, prune: bool = False,
                  prune_volumes: bool = False, force: bool = False, dry_run: bool = False,
                  progress=None, warn=None, on_applied=None, order=None,
                  lock=None) -> ApplyResult:
    """Apply `objects` (from the conversion) as project's ApplySet in conn.namespace.

    progress(line) receives one line per object, warn(line) what the user should know about
    their data and left-over objects; on_applied(body) runs after each object (tests use it to
    interrupt an apply halfway). `order` (startorder.StartOrder) splits the workloads into
    stages: before each later stage, order.before_stage(stage, applied objects) waits for what
    the stage needs (the one-shot Jobs it starts after). `lock` (lock.ProjectLock) is taken
    once the namespace exists, before anything is read or written; the caller gives it back.
    prune_volumes lets prune delete claims, which it otherwise keeps.
    """
    say = progress or (lambda line: None)
    tell = warn or (lambda line: None)
    result = ApplyResult()
    ns_obj, objects = split_namespace(objects)
    result.namespace_created = ensure_namespace(conn, conn.namespace, ns_obj, dry_run=dry_run,
                                                project=project)
    if result.namespace_created and dry_run:
        raise ClusterError(f"namespace {conn.namespace} does not exist: a server dry run cannot "
                           "check objects in it",
                           hint=f"create it first (kubectl create namespace {conn.namespace}) "
                                "or use --dry-run=client")
    if result.namespace_created:
        say(status.Status(f"namespace/{conn.namespace} created", kind="Namespace",
                          name=conn.namespace, state="created"))
    if lock is not None and not dry_run:
        lock.acquire()
    applyset = ApplySet(conn, project, conn.namespace)
    parent = applyset.fetch_parent()
    old_kinds = applyset.group_kinds(parent)
    bodies = prepare(objects, applyset)
    new_kinds = {group_kind(b) for b in bodies}
    listed = existing(applyset, bodies)
    live = {key(o): o for _, o in listed}
    if not force:
        refuse_foreign(applyset, bodies, live)
    claims = claims_.live_claims(conn)
    for note in claims_.settle(conn, bodies, claims):
        tell(note)
    before = {k: o["metadata"].get("resourceVersion") for k, o in live.items()}
    candidates = [(r, o) for r, o in listed
                  if (o["metadata"].get("labels") or {}).get(PART_OF) == applyset.id]
    candidates += applyset.members(old_kinds - new_kinds, full=False)
    keep = {key(b) for b in bodies}
    left = leftovers([(r, o) for r, o in candidates if key(o) not in keep], bodies, claims,
                     ref, claims_.recorded(parent))
    # Before anything changes, the parent lists every kind a member may have, and names the
    # claims of the StatefulSets prune deletes: an apply stopped at any point leaves nothing
    # it cannot find.
    kept_claims = sorted((claims_.recorded(parent) & set(claims)) |
                         (set(left.claims) - {o["metadata"]["name"] for _, o in candidates}
                          if prune else set()))
    notes = claims_.kept_annotations(kept_claims)
    if not dry_run and (parent is None or not new_kinds <= old_kinds or
                        claims_.recorded(parent) != set(kept_claims)):
        applyset.write_parent(old_kinds | new_kinds, annotations=notes)
    if not prune:
        for line in orphan_warning(left, ref):
            tell(line)
    elif prune_volumes and left.claims:
        tell(f"--prune-volumes deletes {len(left.claims)} claim(s) and the data in them:")
        for line in claims_.describe(conn, left.claims, claims):
            tell(f"  {line}")
    first = owned_first(conn, bodies, conn.namespace)
    suffix = " (server dry run)" if dry_run else ""
    tiers: dict[tuple[int, int], list[dict]] = {}
    for body in bodies:
        stage = order.stage_of(body) if order is not None and not dry_run else 0
        tiers.setdefault((stage, rank(body)), []).append(body)
    current = 0
    first_workloads = min((k for k, tier in tiers.items()
                           if any(b["kind"] in claims_.WORKLOADS for b in tier)), default=None)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for tier_key, tier in sorted(tiers.items()):
            stage = tier_key[0]
            if stage != current:
                current = stage
                order.before_stage(stage, [obj for obj, _ in result.applied])
            if prune and tier_key == first_workloads and left.first:
                _prune(left.first, result, say, suffix, dry_run, wait=True)
                left.first = []
            futures = [pool.submit(apply_one, conn, b, force=force, dry_run=dry_run,
                                   first=first.get(b["metadata"]["name"])
                                   if b["kind"] == "Deployment" else None)
                       for b in tier]
            errors = [e for f in futures if (e := f.exception()) is not None]
            if errors:  # report every failure of the tier, not only the first
                failed = [e for e in errors if isinstance(e, ClusterError)]
                if len(errors) == 1 or len(failed) < len(errors):
                    raise errors[0]
                raise ClusterError(f"{len(failed)} objects failed:\n" + "\n".join(
                    f"  {e.message}" for e in failed), hint=failed[0].hint)
            for body, obj in zip(tier, (f.result() for f in futures)):
                k = key(body)
                version = obj.get("metadata", {}).get("resourceVersion")
                if k not in before:
                    outcome = "created" if not dry_run else "applied"
                elif before[k] == version:
                    outcome = "unchanged"
                else:
                    outcome = "configured"
                result.applied.append((obj, outcome))
                say(status.applied(ref(body), body, outcome, suffix))
                if on_applied:
                    on_applied(body)
    if prune:
        _prune(left.objects, result, say, suffix, dry_run)
        resource = conn.resource("v1", "PersistentVolumeClaim")
        gone = set()
        for name in left.claims:
            if prune_volumes:
                _prune([(resource, {"kind": "PersistentVolumeClaim", "apiVersion": "v1",
                                    "metadata": {"name": name, "namespace": conn.namespace}})],
                       result, say, suffix, dry_run)
                gone.add(name)
            else:
                tell(kept_line(name))
        kinds = new_kinds | ({"PersistentVolumeClaim"} if set(left.claims) - gone else set())
        kept_claims = [c for c in kept_claims if c not in gone]
        if not dry_run and (kinds != old_kinds | new_kinds or gone):
            applyset.write_parent(kinds, annotations=claims_.kept_annotations(kept_claims))
    return result


def _prune(items, result: ApplyResult, say, suffix: str, dry_run: bool,
           wait: bool = False) -> None:
    """Delete left-over members; with wait, only go on once they (and their pods) are gone."""
    for resource, obj in items:
        if not dry_run:
            delete(resource, obj["metadata"]["name"], obj["metadata"].get("namespace"),
                   propagation_policy="Foreground" if wait else "Background",
                   what=f"pruning {ref(obj)}")
        result.pruned.append(obj)
        say(status.applied(ref(obj), obj, "pruned", suffix))
    if wait and not dry_run:
        wait_gone(items, timeout=300)

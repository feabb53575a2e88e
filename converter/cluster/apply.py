"""Server-side apply of a project's objects, in an order that works, with ApplySet prune.

Order: Namespace, ServiceAccounts and RBAC, Secrets/ConfigMaps, claims, Services, workloads,
then Ingresses, autoscalers and NetworkPolicies. Objects of one rank are applied concurrently.
The namespace is created when missing and is never a member of the set; one c2k creates is
annotated with the project it was made for, and ``down`` of that project deletes it once nothing
else lives in it. Every member is labelled with the set's id; the parent first lists the union
of the old and new group-kinds, so an apply interrupted halfway still knows every member and a
re-run converges; after prune it lists only the new ones.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..errors import ClusterError
from ..records import field, record
from .applyset import FIELD_MANAGER, PART_OF, ApplySet, group_kind
from .retry import METADATA_ONLY, call, delete, is_not_found

ORDER = ("Namespace", "CustomResourceDefinition", "PriorityClass", "StorageClass",
         "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
         "Secret", "ConfigMap", "PersistentVolume", "PersistentVolumeClaim", "Service",
         "Deployment", "StatefulSet", "DaemonSet", "ReplicationController", "ReplicaSet", "Pod",
         "Job", "CronJob", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget",
         "NetworkPolicy")
WORKERS = 8
# On a namespace c2k created: the project it was created for (`down` may delete it; no other).
CREATED_FOR = "c2k.io/created-for-project"


def rank(obj: dict) -> int:
    kind = obj.get("kind", "")
    return ORDER.index(kind) if kind in ORDER else len(ORDER)


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


def ensure_namespace(conn, namespace: str, body: dict | None = None,
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
    meta = {"name": namespace}
    if body and body.get("metadata", {}).get("labels"):
        meta["labels"] = dict(body["metadata"]["labels"])
    if project:
        meta["annotations"] = {CREATED_FOR: project}
    kwargs = {"dry_run": "All"} if dry_run else {}
    try:
        call(resource.create, body={"apiVersion": "v1", "kind": "Namespace", "metadata": meta},
             what=f"creating namespace {namespace}", **kwargs)
    except Exception as exc:
        if getattr(exc, "status", None) != 409:  # created meanwhile
            raise
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


def existing(applyset: ApplySet, bodies: list[dict]) -> list[tuple[object, dict]]:
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
        owner = ((obj or {}).get("metadata", {}).get("labels") or {}).get(PART_OF)
        if owner and owner != applyset.id:
            project = (obj["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of")
            taken.append(f"{ref(body)}" + (f" (project {project})" if project else ""))
    if taken:
        raise ClusterError(f"{len(taken)} object(s) in namespace {applyset.namespace} belong to "
                           "another ApplySet: " + ", ".join(taken),
                           hint="use another namespace or rename the services; "
                                "--force-conflicts takes them over")


def apply_one(conn, body: dict, *, force: bool = False, dry_run: bool = False) -> dict:
    resource = conn.resource(body["apiVersion"], body["kind"])
    kwargs = {"dry_run": "All"} if dry_run else {}
    result = call(resource.server_side_apply, body=body, field_manager=FIELD_MANAGER,
                  force_conflicts=True if force else None, what=f"applying {ref(body)}",
                  **kwargs)
    return result


def apply_objects(conn, project: str, objects: list[dict], *, prune: bool = False,
                  force: bool = False, dry_run: bool = False, progress=None,
                  on_applied=None, order=None) -> ApplyResult:
    """Apply `objects` (from the conversion) as project's ApplySet in conn.namespace.

    progress(line) receives one line per object; on_applied(body) runs after each object (tests
    use it to interrupt an apply halfway). `order` (startorder.StartOrder) splits the workloads
    into stages: before each later stage, order.before_stage(stage, applied objects) waits for
    what the stage needs (the one-shot Jobs it starts after).
    """
    say = progress or (lambda line: None)
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
        say(f"namespace/{conn.namespace} created")
    applyset = ApplySet(conn, project, conn.namespace)
    parent = applyset.fetch_parent()
    old_kinds = applyset.group_kinds(parent)
    bodies = prepare(objects, applyset)
    new_kinds = {group_kind(b) for b in bodies}
    listed = existing(applyset, bodies)
    live = {key(o): o for _, o in listed}
    if not force:
        refuse_foreign(applyset, bodies, live)
    before = {k: o["metadata"].get("resourceVersion") for k, o in live.items()}
    candidates = [(r, o) for r, o in listed
                  if (o["metadata"].get("labels") or {}).get(PART_OF) == applyset.id]
    if prune:
        candidates += applyset.members(old_kinds - new_kinds, full=False)
    if not dry_run and (parent is None or not new_kinds <= old_kinds):
        applyset.write_parent(old_kinds | new_kinds)
    suffix = " (server dry run)" if dry_run else ""
    tiers: dict[tuple[int, int], list[dict]] = {}
    for body in bodies:
        stage = order.stage_of(body) if order is not None and not dry_run else 0
        tiers.setdefault((stage, rank(body)), []).append(body)
    current = 0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for (stage, _), tier in sorted(tiers.items()):
            if stage != current:
                current = stage
                order.before_stage(stage, [obj for obj, _ in result.applied])
            futures = [pool.submit(apply_one, conn, b, force=force, dry_run=dry_run)
                       for b in tier]
            errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:  # report every failure of the tier, not only the first
                if len(errors) == 1 or not all(isinstance(e, ClusterError) for e in errors):
                    raise errors[0]
                raise ClusterError(f"{len(errors)} objects failed:\n" + "\n".join(
                    f"  {e.message}" for e in errors), hint=errors[0].hint)
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
                say(f"{ref(body)} {outcome}{suffix}")
                if on_applied:
                    on_applied(body)
    if prune:
        keep = {key(b) for b in bodies}
        for resource, obj in candidates:
            if key(obj) in keep:
                continue
            if not dry_run:
                delete(resource, obj["metadata"]["name"], obj["metadata"].get("namespace"),
                       propagation_policy="Background", what=f"pruning {ref(obj)}")
            result.pruned.append(obj)
            say(f"{ref(obj)} pruned{suffix}")
        if not dry_run and old_kinds - new_kinds:
            applyset.write_parent(new_kinds)
    return result

"""What apply does with the members of a project's ApplySet that the project no longer has.

Without --prune nothing is deleted: c2k names what is left over, as docker compose warns about
orphan containers, and says when a left-over workload still writes to a claim that a workload
of the new file writes to too (two programs writing one volume).

With --prune they are deleted once the new objects are applied, as kubectl does, except:
- claims are kept with their data, and named (claims.py); so are the claims of the
  StatefulSets pruned. --prune-volumes deletes them, after saying what they hold;
- a left-over workload that writes to a claim a new workload writes to (a service renamed,
  keeping its volume) is deleted, and its pods waited for, before any workload is applied: an
  old and a new database never run on one data directory at once.
"""

from __future__ import annotations

from ..records import field, record
from .claims import WORKLOADS, template_patterns, written_claims
from .retry import call, is_not_found


@record(frozen=False)
class Leftovers:
    first: list = field(default_factory=list)    # (resource, obj): before workloads apply
    later: list = field(default_factory=list)    # (resource, obj): after the apply
    claims: list = field(default_factory=list)   # claim names no longer used
    sharing: list = field(default_factory=list)  # (left-over ref, claim, new workloads' refs)

    @property
    def objects(self) -> list:
        return self.first + self.later


def _full(resource, obj: dict) -> dict | None:
    try:
        return call(resource.get, name=obj["metadata"]["name"],
                    namespace=obj["metadata"].get("namespace"), missing_ok=True,
                    what=f"reading {obj['kind']} {obj['metadata']['name']}")
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def leftovers(stale: list, bodies: list[dict], claims: dict[str, dict], ref,
              recorded=()) -> Leftovers:
    """Sort the left-over members `stale` [(resource, metadata)] of an apply of `bodies`
    (`claims`: the live claims by name; `recorded`: the StatefulSet claims the parent names,
    kept by an earlier prune or down)."""
    out = Leftovers()
    users: dict[str, list[str]] = {}
    for body in bodies:
        if body.get("kind") in WORKLOADS:
            for claim in written_claims(body):
                users.setdefault(claim, []).append(ref(body))
    gone_sets = []
    for resource, obj in stale:
        kind = obj["kind"]
        if kind == "PersistentVolumeClaim":
            out.claims.append(obj["metadata"]["name"])
            continue
        if kind not in WORKLOADS:
            out.later.append((resource, obj))
            continue
        live = _full(resource, obj)
        if live is None:
            continue
        live.setdefault("kind", kind)
        if kind == "StatefulSet":
            gone_sets.append(live)
        shared = sorted(c for c in written_claims(live) if c in users)
        for claim in shared:
            out.sharing.append((ref(obj), claim, users[claim]))
        (out.first if shared else out.later).append((resource, obj))
    patterns = template_patterns(gone_sets)
    # a recorded claim stays left over until a StatefulSet of the new file makes it again
    used = template_patterns([b for b in bodies if b.get("kind") == "StatefulSet"])
    out.claims = sorted(set(out.claims) | {n for n in claims if any(
        p.fullmatch(n) for p in patterns) or (n in recorded and not any(p.fullmatch(n)
                                                                         for p in used))})
    return out


def orphan_warning(left: Leftovers, ref) -> list[str]:
    """What an apply without --prune says about the left-over objects."""
    lines = []
    names = [ref(obj) for _, obj in left.objects] + [f"persistentvolumeclaim/{c}"
                                                     for c in left.claims]
    if names:
        lines.append(f"{len(names)} object(s) of the project are no longer in the compose "
                     f"file: {', '.join(names)}. If you removed or renamed a service, --prune "
                     "deletes them but keeps the claims and their data (--prune-volumes "
                     "deletes those too)")
    for old, claim, new in left.sharing:
        lines.append(f"{old} still runs and writes to claim {claim}, as {', '.join(new)} "
                     "will: two programs writing one volume can damage its data (a database's "
                     "above all); --prune stops it before the new one starts")
    return lines


def kept_line(claim: str) -> str:
    return (f"persistentvolumeclaim/{claim} kept with its data: the project no longer uses it "
            "(--prune-volumes deletes it and its data, as does c2k down --volumes)")

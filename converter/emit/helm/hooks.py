"""One-shots others wait on, as Helm hooks where that is what compose's order means.

A Job made from a `service_completed_successfully` dependency runs, in the chart, as a
`pre-install,pre-upgrade` hook when nothing it needs is made by the release itself: it waits
for no server (every depends_on of it is another such hook) and mounts no claim. Compose then
starts it first anyway, and Helm runs it before installing or upgrading anything else, waits for
it to complete, and stops the install or upgrade when it fails: compose's "the dependants start
only after it exited 0". A one-shot that waits for a server (`migrate` after `db` is healthy)
or writes to a claim the servers share cannot run before them, so it stays a Job of the release
and its dependants keep the init container that waits for it (jobwait.py).

- weight: its depth in the chain of hooks (0 for one that waits for none, then 1, 2...); Helm
  runs hooks by weight, one at a time, each to completion;
- delete policy `before-hook-creation,hook-succeeded`: a Job that succeeded is deleted (the next
  upgrade runs it again, as `docker compose up` starts a finished one-shot again); one that
  failed stays for `kubectl logs` until the next attempt replaces it;
- what it mounts or reads from ConfigMaps and Secrets of the chart exists before it as hook
  copies (`<name>-hook`, weight -1, deleted with it), since the release's own objects are
  created only after the pre-install hooks;
- the dependants' init containers that would ask the API server about it are dropped (the hook
  completed before they exist), and with the last of them the waiter ServiceAccount, Role and
  RoleBinding.
"""

from __future__ import annotations

from ...kube import jobwait, names
from .objects import name_refs, pod_of

HOOK = "helm.sh/hook"
EVENTS = "pre-install,pre-upgrade"
DELETE_POLICY = "before-hook-creation,hook-succeeded"
COPY_WEIGHT = -1


class HookPlan:
    def __init__(self, objects: list[dict], start_after: dict):
        by_key = {(o["kind"], o["metadata"]["name"]): o for o in objects}
        waited = {dep for deps in start_after.values() for dep, how in deps if how == "completed"}
        self.weights: dict[str, int] = {}
        self.why_not: dict[str, str] = {}
        for job in sorted(waited):
            self._weigh(job, by_key, start_after)
        self.copies: dict[tuple[str, str], str] = {}   # (kind, name) -> name of the hook copy
        taken = set(by_key)
        for job in sorted(self.weights):
            for ref, _, _ in name_refs(pod_of(by_key[("Job", job)])):
                if ref[0] in ("ConfigMap", "Secret") and ref in by_key and ref not in self.copies:
                    copy = names.join(ref[1], "hook")
                    n = 2
                    while (ref[0], copy) in taken:
                        copy = names.join(ref[1], f"hook{n}")
                        n += 1
                    taken.add((ref[0], copy))
                    self.copies[ref] = copy

    def _weigh(self, job: str, by_key: dict, start_after: dict) -> int | None:
        if job in self.weights:
            return self.weights[job]
        if job in self.why_not:
            return None
        obj = by_key.get(("Job", job))
        if obj is None:
            self.why_not[job] = "it is not a Job"
            return None
        depth = 0
        for dep, how in start_after.get(job, ()):
            if how != "completed":
                self.why_not[job] = f"it waits for {dep}, which the release starts"
                return None
            inner = self._weigh(dep, by_key, start_after)
            if inner is None:
                self.why_not[job] = f"it waits for {dep}, which is not a hook"
                return None
            depth = max(depth, inner + 1)
        claims = sorted(v["persistentVolumeClaim"]["claimName"]
                        for v in pod_of(obj).get("volumes") or () if "persistentVolumeClaim" in v)
        if claims:
            self.why_not[job] = (f"it mounts the claim {', '.join(claims)}, which the release "
                                 "creates")
            return None
        self.weights[job] = depth
        return depth

    @property
    def jobs(self) -> list[str]:
        return sorted(self.weights)

    def annotations(self, job: str | None) -> dict:
        weight = COPY_WEIGHT if job is None else self.weights[job]
        return {HOOK: EVENTS, "helm.sh/hook-weight": str(weight),
                "helm.sh/hook-delete-policy": DELETE_POLICY}

    def hook_copies(self, obj: dict) -> list[dict]:
        """The hook copies of a ConfigMap or Secret (none or one)."""
        copy = self.copies.get((obj["kind"], obj["metadata"]["name"]))
        if copy is None:
            return []
        out = dict(obj, metadata=dict(obj["metadata"], name=copy))
        annotations = dict(out["metadata"].get("annotations") or {})
        annotations.update(self.annotations(None))
        out["metadata"]["annotations"] = annotations
        return [out]

    def as_hook(self, job: dict) -> dict:
        """The Job as a hook: annotations, and its ConfigMaps and Secrets the hook copies."""
        meta = job["metadata"]
        annotations = dict(meta.get("annotations") or {})
        annotations.update(self.annotations(meta["name"]))
        meta["annotations"] = annotations
        pod = pod_of(job)
        for ref, holder, key in name_refs(pod):
            if ref in self.copies:
                holder[key] = self.copies[ref]
        return job

    def drop_waits(self, objects: list[dict]) -> list[dict]:
        """Objects without the waits for hook Jobs, and without the waiter's account when no
        pod needs it any more. Works on the objects given (deep copies)."""
        hooks = set(self.weights)
        if not hooks:
            return objects
        accounts = {o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"}
        still: dict[str, set[str]] = {}        # account -> Jobs its pods still wait for
        for obj in objects:
            pod = pod_of(obj)
            if not pod:
                continue
            kept: list = []
            dropped_volumes: set[str] = set()
            waits: set = set()
            for c in pod.get("initContainers") or ():
                found = jobwait.awaited(c)
                if found and found[0] in hooks:
                    dropped_volumes.update(m["name"] for m in c.get("volumeMounts") or ())
                    continue
                if found:
                    waits.add(found[0])
                kept.append(c)
            if len(kept) == len(pod.get("initContainers") or ()):
                if waits and pod.get("serviceAccountName"):
                    still.setdefault(pod["serviceAccountName"], set()).update(waits)
                continue
            if kept:
                pod["initContainers"] = kept
            else:
                del pod["initContainers"]
            if waits:
                still.setdefault(pod.get("serviceAccountName", ""), set()).update(waits)
                continue
            pod["volumes"] = [v for v in pod.get("volumes") or () if v["name"]
                              not in dropped_volumes]
            if not pod["volumes"]:
                del pod["volumes"]
            if pod.get("serviceAccountName") in accounts:
                del pod["serviceAccountName"]
                pod.pop("automountServiceAccountToken", None)
        jobs = sorted({j for waited in still.values() for j in waited})
        out = []
        for obj in objects:
            kind = obj["kind"]
            if kind in ("ServiceAccount", "Role", "RoleBinding") and not jobs:
                continue                      # only the waits for Jobs make these
            if kind == "Role":
                for rule in obj["rules"]:
                    rule["resourceNames"] = [j for j in rule["resourceNames"] if j not in hooks]
            elif kind == "RoleBinding":
                obj["subjects"] = [s for s in obj["subjects"] if s["name"] in still]
            out.append(obj)
        return out

"""The project's pods as an attached `c2k up` sees them: one list of the namespace's pods per
poll, each matched to its service by the workloads' selectors, and numbered per service as
docker compose numbers containers (web-1, web-2; a replaced pod takes the lowest free number)."""

from __future__ import annotations

import threading

from .. import kinds
from .retry import call
from .verbs import select, service_of


def running_container(pod: dict, name: str) -> dict | None:
    """The status of container `name` when it runs (its containerID names this instance)."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == name and "running" in (status.get("state") or {}):
            return status
    return None


def main_container(pod: dict) -> str:
    """The service's own container: the first of the pod (sidecars come after it)."""
    return ((pod.get("spec") or {}).get("containers") or [{}])[0].get("name", "")


class ProjectPods:
    """poll() lists the pods; latest() is the last list as [(service, label, pod)], sorted.
    Thread-safe: the attached session polls, the log, forward and watch threads read."""

    def __init__(self, conn, project: str, services=()):
        self.conn = conn
        self.project = project
        self.services = tuple(services)
        self._selectors: list[tuple[str, dict]] = []
        self._numbers: dict[str, dict[str, int]] = {}       # service -> pod uid -> number
        self._latest: list[tuple[str, str, dict]] = []
        self._lock = threading.Lock()
        self.refresh_workloads()

    def refresh_workloads(self) -> None:
        """Read the project's workloads (again after an apply: a new service, a new selector)."""
        found = [obj for _, obj in select(self.conn, self.project, self.services)
                 if obj["kind"] != "CronJob"]
        self._selectors = [(service_of(obj), kinds.selector_labels(obj) or {}) for obj in found]
        # a workload with replicas runs until stopped: the project never ends by itself
        self._serving = any(obj["kind"] != "Job" and (obj.get("spec") or {}).get("replicas", 1)
                            for obj in found)
        self._jobs = [obj["metadata"]["name"] for obj in found if obj["kind"] == "Job"]
        self._replicas = {service_of(obj): _replicas(obj) for obj in found}

    def service_names(self) -> set[str]:
        return {service for service, _ in self._selectors}

    def expected(self, services) -> list[str]:
        """The containers the workloads of `services` are to run, named as compose names
        them (web-1, web-2): what up attaches to, before their pods exist."""
        return [f"{service}-{n}" for service in sorted(services)
                for n in range(1, self._replicas.get(service, 1) + 1)]

    def poll(self) -> list[tuple[str, str, dict]]:
        listed = call(self.conn.resource("v1", "Pod").get, namespace=self.conn.namespace,
                      what="listing pods")
        found = []
        for pod in listed.get("items") or []:
            labels = pod["metadata"].get("labels") or {}
            for service, selector in self._selectors:
                if selector and all(labels.get(k) == v for k, v in selector.items()):
                    found.append((service, pod))
                    break
        out = [(service, self._label(service, pod, found), pod) for service, pod in found]
        out.sort(key=lambda item: (item[0], self._numbers[item[0]][item[2]["metadata"]["uid"]]))
        with self._lock:
            self._latest = out
        return out

    def _label(self, service: str, pod: dict, found) -> str:
        numbers = self._numbers.setdefault(service, {})
        live = {p["metadata"]["uid"] for s, p in found if s == service}
        for uid in [uid for uid in numbers if uid not in live]:
            del numbers[uid]                    # gone: its number is free again
        uid = pod["metadata"]["uid"]
        if uid not in numbers:
            taken = set(numbers.values())
            numbers[uid] = next(n for n in range(1, len(taken) + 2) if n not in taken)
        return f"{service}-{numbers[uid]}"

    def ended(self, pods) -> bool:
        """Whether everything the project runs has ended, as `docker compose up` sees it when
        every container has exited: its workloads are Jobs (restart "no" or on-failure), each
        finished, and none of its pods still runs."""
        if self._serving or not self._jobs:
            return False
        if any((pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
               for _, _, pod in pods):
            return False
        from .wait import rollout_status
        jobs = self.conn.resource("batch/v1", "Job")
        for name in self._jobs:
            job = call(jobs.get, name=name, namespace=self.conn.namespace, what=f"reading job {name}")
            if rollout_status(job)[0] == "waiting":     # a failed pod may yet be retried
                return False
        return True

    def latest(self) -> list[tuple[str, str, dict]]:
        with self._lock:
            return list(self._latest)

    def running(self, service: str) -> list[dict]:
        """The service's running pods that are not going away, ready ones first."""
        pods = [pod for s, _, pod in self.latest() if s == service
                and not pod["metadata"].get("deletionTimestamp")
                and (pod.get("status") or {}).get("phase") == "Running"]
        return sorted(pods, key=lambda pod: not _ready(pod))


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _replicas(obj: dict) -> int:
    spec = obj.get("spec") or {}
    if obj["kind"] == "Job":
        return spec.get("parallelism", 1) or 1
    if obj["kind"] == "DaemonSet":
        return 1
    return spec.get("replicas", 1)

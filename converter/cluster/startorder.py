"""Start in docker compose's order: one-shots complete before the services that wait for them.

`docker compose up` starts a service that has `depends_on: {x: {condition:
service_completed_successfully}}` only after x has exited 0 (and stops with an error when x
failed), and a service that depends on that one after it in turn. When c2k waits (`up`,
`apply --wait`), it applies in stages the same way: a workload's stage is the highest stage of
what it depends on, plus one across a Job it waits to complete. Everything else (Services,
ConfigMaps, RBAC...) is in the first stage. Before each later stage c2k waits until the Jobs
that stage needs have completed; a failed Job stops there, naming the services it kept from
starting. (The pods wait on their own as well, see kube/jobwait.py.)
"""

from __future__ import annotations

import time

from ..errors import ClusterError
from .wait import wait_for

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicationController", "Job", "CronJob")


class StartOrder:
    """The stages of the conversion's start_after ({workload: ((dependency, how), ...)})."""

    def __init__(self, conn, start_after: dict, timeout: float, progress=None,
                 clock=time.monotonic):
        self.conn = conn
        self.after = {name: tuple(deps) for name, deps in start_after.items()}
        self.levels: dict[str, int] = {}
        for name in self.after:
            self._level(name, ())
        self.clock = clock
        self.timeout = timeout
        self.deadline = clock() + timeout
        self.progress = progress
        self.completed: set[str] = set()

    def _level(self, name: str, path: tuple) -> int:
        if name in self.levels:
            return self.levels[name]
        if name in path:           # compose refuses dependency cycles; never loop on one
            return 0
        level = max((self._level(dep, path + (name,)) + (how == "completed")
                     for dep, how in self.after.get(name, ())), default=0)
        self.levels[name] = level
        return level

    def stage_of(self, body: dict) -> int:
        if body.get("kind") not in WORKLOADS:
            return 0
        return self.levels.get(body["metadata"]["name"], 0)

    def before_stage(self, stage: int, applied: list[dict]) -> None:
        """Wait until the Jobs that the workloads of `stage` wait to complete have completed."""
        starting = sorted(n for n, level in self.levels.items() if level == stage)
        needed = {dep for name in starting for dep, how in self.after.get(name, ())
                  if how == "completed"} - self.completed
        jobs = [obj for obj in applied if obj.get("kind") == "Job"
                and obj["metadata"]["name"] in needed]
        if not jobs:
            return
        try:
            self.wait(jobs)
        except ClusterError as exc:
            raise ClusterError(f"{', '.join(starting)} not started: {exc.message}",
                               hint=exc.hint) from None
        self.completed.update(needed)

    def wait(self, objects: list[dict]) -> None:
        """Wait for objects within what is left of the whole timeout."""
        wait_for(self.conn, objects, self.timeout, progress=self.progress, clock=self.clock,
                 deadline=self.deadline)

    def wait_rest(self, applied: list[dict]) -> None:
        """Once every stage is applied: wait for what no stage has waited for yet."""
        self.wait([obj for obj in applied if not (obj.get("kind") == "Job"
                                                  and obj["metadata"]["name"] in self.completed)])

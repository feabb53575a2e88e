"""Start in docker compose's order: one-shots complete before the services that wait for them.

`docker compose up` starts a service that has `depends_on: {x: {condition:
service_completed_successfully}}` only after x has exited 0, and stops with an error when x
failed. When c2k waits (`up`, `apply --wait`), it applies in stages the same way: everything
but those dependants first; then, for each later stage, it waits until the Jobs the stage
needs have completed and applies the stage's workloads. A failed Job stops there, naming the
services it kept from starting. (The manifests wait on their own as well: jobwait.py.)
"""

from __future__ import annotations

import time

from ..errors import ClusterError
from .wait import wait_for

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicationController", "Job", "CronJob")


class StartOrder:
    """Stages of the workloads from the conversion's start_after ({workload: (jobs...)})."""

    def __init__(self, conn, start_after: dict, timeout: float, progress=None,
                 clock=time.monotonic):
        self.conn = conn
        self.after = dict(start_after)
        self.levels: dict[str, int] = {}
        for name in self.after:
            self._level(name, ())
        self.clock = clock
        self.deadline = clock() + timeout
        self.progress = progress
        self.completed: set[str] = set()

    def _level(self, name: str, path: tuple) -> int:
        if name in self.levels:
            return self.levels[name]
        if name in path:           # compose refuses dependency cycles; never loop on one
            return 0
        jobs = self.after.get(name, ())
        level = 1 + max((self._level(job, path + (name,)) for job in jobs), default=-1)
        self.levels[name] = level
        return level

    def stage_of(self, body: dict) -> int:
        if body.get("kind") not in WORKLOADS:
            return 0
        return self.levels.get(body["metadata"]["name"], 0)

    def before_stage(self, stage: int, applied: list[dict]) -> None:
        """Wait until the Jobs that stage `stage` waits for have completed."""
        starting = sorted(n for n, level in self.levels.items() if level == stage)
        needed = sorted({job for name in starting for job in self.after.get(name, ())}
                        - self.completed)
        jobs = [obj for obj in applied if obj.get("kind") == "Job"
                and obj["metadata"]["name"] in needed]
        if not jobs:
            return
        try:
            wait_for(self.conn, jobs, max(self.deadline - self.clock(), 0),
                     progress=self.progress)
        except ClusterError as exc:
            raise ClusterError(f"{', '.join(starting)} not started: {exc.message}",
                               hint=exc.hint) from None
        self.completed.update(needed)

    def remaining(self) -> float:
        return max(self.deadline - self.clock(), 0)

    def left_to_wait(self, applied: list[dict]) -> list[dict]:
        """The applied objects still to wait for once every stage is applied."""
        return [obj for obj in applied if not (obj.get("kind") == "Job"
                                               and obj["metadata"]["name"] in self.completed)]

"""What stays in the foreground after `c2k up` (attached), `c2k port-forward` and `c2k watch`:
the project's pods polled once a second, their logs (attach.py), the published ports on this
machine (forward.py) and develop.watch (develop.py), until Ctrl-C.

Ctrl-C as docker compose up: the first stops the project gracefully (for up: its workloads
scaled to zero, claims kept; `c2k start` or `c2k up` brings them back) and exits 0; a second
leaves at once. --abort-on-container-exit stops the same way when a container ends.
"""

from __future__ import annotations

import signal
import threading
import time

from ..errors import ClusterError
from .podwatch import ProjectPods


class Session:
    def __init__(self, conn, project: str, *, note, services=()):
        self.conn = conn
        self.project = project
        self.note = note
        self.pods = ProjectPods(conn, project, services)
        self.stop = threading.Event()
        self.exit_code = 0
        self.aborted = False
        self.ended = False                   # every container ended by itself
        self._watchers: list = []            # called with the pods after each poll

    def on_poll(self, watcher) -> None:
        self._watchers.append(watcher)

    def abort(self, code: int) -> None:
        """A container ended and --abort-on-container-exit: stop with its exit code."""
        if not self.aborted:
            self.aborted = True
            self.exit_code = code
            self.note("Aborting on container exit...")
            self.stop.set()

    def end_with_containers(self) -> None:
        """Stop, as compose's attached up does, once every container has ended by itself (not
        with develop.watch, which keeps going while files change)."""
        def check(pods):
            if not self.stop.is_set() and self.pods.ended(pods):
                self.ended = True
                self.stop.set()
        self.on_poll(check)

    def report_problems(self, warn) -> None:
        """Say once why a pod does not start (an image that cannot be pulled, no node that
        fits): an attached up does not wait for the rollout, so this is where it shows."""
        from .wait import pod_problems
        seen: set[str] = set()

        def check(pods):
            for _, _, pod in pods:
                for reason in pod_problems(pod, None, exits=False):
                    if reason not in seen:
                        seen.add(reason)
                        warn(reason)
        self.on_poll(check)

    def run(self, interval: float = 1.0) -> None:
        """Poll until Ctrl-C (or abort); the first Ctrl-C ends the loop, a second the
        program (c2k's own handler: exit 130)."""
        previous = signal.getsignal(signal.SIGINT)

        def interrupted(signum, frame):
            self.stop.set()
            signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGINT, interrupted)
        try:
            while not self.stop.is_set():
                try:
                    pods = self.pods.poll()
                except ClusterError as exc:    # the API server went away for a moment
                    self.note(f"warning: {exc.message}")
                else:
                    for watcher in self._watchers:
                        watcher(pods)
                self.stop.wait(interval)
        finally:
            signal.signal(signal.SIGINT, previous)

    def stop_workloads(self, timeout: float = 120.0) -> None:
        """Scale the project's workloads to zero (as c2k stop) and wait for their pods to go,
        with a line per service as compose's `✔ Container web-1  Stopped`."""
        from .verbs import stop
        self.note("Gracefully stopping... press Ctrl+C again to force")
        stop(self.conn, self.project)
        services = sorted({s for s, _, _ in self.pods.latest()})
        deadline = time.monotonic() + timeout
        stopped: set[str] = set()
        while time.monotonic() < deadline:
            left = {s for s, _, pod in self.pods.poll()
                    if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                    and _scaled(pod)}
            for service in services:
                if service not in left and service not in stopped:
                    stopped.add(service)
                    self.note(f"✔ {service}  Stopped")
            if not left:
                return
            time.sleep(0.5)
        self.note("warning: pods still running after the stop: " + ", ".join(sorted(left)))


def _scaled(pod: dict) -> bool:
    """Whether the pod belongs to a workload that stop scales (a Job's pods are left)."""
    owners = pod["metadata"].get("ownerReferences") or []
    return not any(o.get("kind") == "Job" for o in owners)

"""c2k stopped at any point (Ctrl-C or SIGKILL, during the apply, the rollout wait or down): the
same command run again converges, and no claim or its data is lost.

One project goes through 24 interruption points in turn: each `up` brings a new version of
every service (so each apply changes all four workloads, and PostgreSQL restarts on its data),
each `down` stops them. Each point stops the command once it printed a given line (or after a
given time, before it printed anything), runs the command again to the end, and checks the
state (every workload at the new version, or none; no lock left) and the data: the four claims
are the ones written to, their files hold the token on disk, and after each up the database
row is read back through psql.
"""

from __future__ import annotations

import re
import signal
import time

import pytest

from tests.datasafety.project import check_down, check_up, compose

pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.realnode, pytest.mark.slow]

WORKLOAD = r"^(deployment|statefulset)\.apps/\S+ (configured|created)$"
# whichever the rollout wait prints first ("waiting for the controller to see the new spec"
# only when the controller has not seen the new spec by the first poll)
WAITING = r"^(deployment|statefulset)\.apps/\S+: "


class After:
    """Fires once the command printed its n-th line matching `pattern` (or, with no pattern,
    `seconds` after it started)."""

    def __init__(self, pattern: str | None = None, n: int = 1, seconds: float = 0.0):
        self.pattern, self.n, self.seconds = pattern and re.compile(pattern), n, seconds
        self.seen = 0

    def __call__(self, line, elapsed) -> bool:
        if self.pattern is None:
            return elapsed >= self.seconds
        if line is not None and self.pattern.search(line):
            self.seen += 1
        return self.seen >= self.n

    def __str__(self):
        return f"line {self.n} /{self.pattern.pattern}/" if self.pattern else \
            f"{self.seconds} s after start"


# (command, where), in the order tried (a down always follows an up); each round of the twelve
# is run with SIGINT, then with SIGKILL.
POINTS = [
    ("up", lambda: After(seconds=1.0)),                           # start-up, connecting
    ("up", lambda: After(r"^persistentvolumeclaim/")),            # apply: claims
    ("down", lambda: After(seconds=1.0)),
    ("up", lambda: After(r"^service/", 2)),                       # apply: services
    ("down", lambda: After(r" deleted$")),                        # down: the first deletion
    ("up", lambda: After(WORKLOAD)),                              # apply: workloads
    ("up", lambda: After(WAITING)),                               # rollout wait: its first line
    ("down", lambda: After(r" deleted$", 6)),                     # down: waiting for pods
    ("up", lambda: After(r" replicas")),
    ("down", lambda: After(r"^deployment\.apps/\S+ deleted$", 3)),
    ("up", lambda: After(r" rolled out$")),                       # the first of four
    ("up", lambda: After(WORKLOAD, 3)),
]
INTERRUPTED = {signal.SIGINT: {130, -signal.SIGINT}, signal.SIGKILL: {-signal.SIGKILL}}


def test_interrupted_anywhere_the_next_command_converges_and_keeps_the_data(keep, data):
    tried, report = 0, []
    for i, (sig, (command, where)) in enumerate(
            (s, p) for s in (signal.SIGINT, signal.SIGKILL) for p in POINTS):
        version = f"v{i + 2}"
        args = ("down",) if command == "down" else ("up", "-d", "--timeout", keep.timeout)
        if command == "up":
            keep.write(compose(version))
        trigger, started = where(), time.monotonic()
        run, last = keep.interrupt(*args, sig=sig, when=trigger)
        what = f"{command} {sig.name} at {trigger} (after {last!r})"
        assert run.code in INTERRUPTED[sig], f"{what}: exited {run.code}\n{run.text}"
        if sig == signal.SIGINT:
            assert "interrupted" in run.lines and "Traceback" not in run.text, run.text
        tried += 1
        again = keep.run(*args).ok()       # the same command again converges
        assert not any(line.startswith("error:") for line in again.lines), again.text
        (check_up(keep, data, version) if command == "up" else check_down(keep, data))
        report.append(f"{what}: {time.monotonic() - started:.0f} s")
    print(f"\n{tried} interruptions, {data.checks} data checks passed:\n  " +
          "\n  ".join(report))
    assert tried == 2 * len(POINTS) >= 20

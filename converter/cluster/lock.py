"""One c2k at a time changes a project: the Lease that `up`, `apply` and `down` hold.

Two `c2k up` of one project at once would interleave their server-side applies (one field
manager, so the API server sees no conflict) and could leave some objects at one version and
the rest at the other. While it changes a project, c2k holds the Lease ``c2k-<project>``
(coordination.k8s.io/v1) in the project's namespace: it names its holder (command, process,
host), is renewed every RENEW seconds and deleted when the command ends, Ctrl-C included. A
second c2k that finds it held stops before changing anything, naming the holder.

A holder that was killed (SIGKILL, a lost machine) cannot delete its lease. The lease is taken
over at once when its holder was a process of this machine (same host name and PID namespace)
that no longer runs, else once it has gone DURATION seconds without renewal.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading

from ..errors import ClusterError
from .applyset import parent_name
from .retry import call, is_not_found

DURATION = 60       # seconds a lease is valid without renewal
RENEW = 15
HOLDER = "c2k.io/holder"   # annotation: JSON {command, host, pid, pidns, start}
_held: list[ProjectLock] = []


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _micro_time(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _start_time(pid) -> str | None:
    """When process pid started (clock ticks after boot), or None when it does not run."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None     # field 22 of proc(5)


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def this_process(command: str) -> dict:
    return {"command": command, "host": socket.gethostname(), "pid": os.getpid(),
            "pidns": _pid_namespace(), "start": _start_time(os.getpid()) or ""}


def holder_of(lease: dict) -> dict:
    text = (lease["metadata"].get("annotations") or {}).get(HOLDER, "")
    try:
        holder = json.loads(text)
    except ValueError:
        holder = None
    return holder if isinstance(holder, dict) else {}


def holder_gone(holder: dict) -> bool:
    """The holder was a process of this machine, and that process no longer runs."""
    if not holder.get("pidns") or not holder.get("start"):
        return False
    if (holder.get("host"), holder["pidns"]) != (socket.gethostname(), _pid_namespace()):
        return False
    return _start_time(holder.get("pid", 0)) != holder["start"]


def expires(lease: dict) -> dt.datetime | None:
    spec = lease.get("spec") or {}
    renewed = _parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    if renewed is None:
        return None
    return renewed + dt.timedelta(seconds=spec.get("leaseDurationSeconds") or DURATION)


def describe(lease: dict) -> str:
    holder = holder_of(lease)
    if holder:
        who = f"c2k {holder.get('command')} (pid {holder.get('pid')} on {holder.get('host')})"
    else:
        who = (lease.get("spec") or {}).get("holderIdentity") or "an unknown holder"
    since = (lease.get("spec") or {}).get("acquireTime")
    return who + (f", since {since}" if since else "")


class ProjectLock:
    """The project's Lease, taken by acquire() and given back by release()."""

    def __init__(self, conn, project: str, command: str, warn=None):
        self.conn = conn
        self.project = project
        self.name = parent_name(project)
        self.namespace = conn.namespace
        self.holder = this_process(command)
        self.identity = json.dumps(self.holder, sort_keys=True)
        self.warn = warn
        self.held = False
        self._leases = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leases(self):
        if self._leases is None:
            self._leases = self.conn.resource("coordination.k8s.io/v1", "Lease")
        return self._leases

    def _body(self, version: str | None = None) -> dict:
        now = _micro_time(_now())
        meta = {"name": self.name, "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "c2k"},
                "annotations": {HOLDER: self.identity}}
        if version:
            meta["resourceVersion"] = version
        h = self.holder
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
                "spec": {"holderIdentity": f"c2k {h['command']} (pid {h['pid']} on {h['host']})",
                         "leaseDurationSeconds": DURATION, "acquireTime": now,
                         "renewTime": now}}

    def _what(self) -> str:
        return f"locking project {self.project} (lease/{self.name})"

    def acquire(self) -> bool:
        """Take the lease, or raise ClusterError naming the c2k that holds it. False when
        there is nothing to lock (no namespace), or no right to leases (with a warning)."""
        if self.held:
            return True
        for _ in range(5):   # each turn, another c2k moved first: look again
            try:
                call(self.leases.create, body=self._body(), namespace=self.namespace,
                     conflict_ok=True, forbidden_ok=True, missing_ok=True, what=self._what())
                break
            except Exception as exc:
                status = getattr(exc, "status", None)
                if status == 403:
                    if self.warn:
                        self.warn(f"no right to create leases in namespace {self.namespace}: "
                                  "another c2k changing this project at the same time would "
                                  "not be noticed")
                    return False
                if status == 404:
                    return False
                if status != 409:
                    raise
            if self._take_over():
                break
        else:
            raise ClusterError(f"{self._what()}: it changed hands five times in a row")
        self.held = True
        _held.append(self)
        self._thread = threading.Thread(target=self._renew, name="c2k-lease", daemon=True)
        self._thread.start()
        return True

    def _take_over(self) -> bool:
        """Replace a lease whose holder is gone; False when it went meanwhile (create again)."""
        try:
            live = call(self.leases.get, name=self.name, namespace=self.namespace,
                        missing_ok=True, what=self._what())
        except Exception as exc:
            if is_not_found(exc):
                return False
            raise
        until = expires(live)
        if not (holder_gone(holder_of(live)) or (until is not None and until <= _now())):
            left = f" (in {max(1, int((until - _now()).total_seconds()))} s)" if until else ""
            raise ClusterError(
                f"another c2k is changing project {self.project} in namespace "
                f"{self.namespace}: {describe(live)}",
                hint="run this again once it has finished; if it was stopped, its lock "
                     f"(lease/{self.name}) expires at "
                     f"{until.strftime('%H:%M:%S UTC') if until else 'its renew time'}{left}")
        try:
            call(self.leases.replace, body=self._body(live["metadata"]["resourceVersion"]),
                 namespace=self.namespace, conflict_ok=True, missing_ok=True, what=self._what())
        except Exception as exc:
            if getattr(exc, "status", None) in (404, 409):
                return False
            raise
        return True

    def _renew(self) -> None:
        while not self._stop.wait(RENEW):
            try:
                live = call(self.leases.get, name=self.name, namespace=self.namespace,
                            missing_ok=True, attempts=3, what=self._what())
                if holder_of(live) != self.holder:
                    return       # taken over: it went unrenewed too long
                live["spec"]["renewTime"] = _micro_time(_now())
                call(self.leases.replace, body=live, namespace=self.namespace,
                     conflict_ok=True, attempts=3, what=self._what())
            except Exception as exc:
                if is_not_found(exc):
                    return
                continue

    def release(self) -> None:
        """Give the lease back (best effort: one left behind expires, or is taken over)."""
        if not self.held:
            return
        self.held = False
        self._stop.set()
        if self in _held:
            _held.remove(self)
        try:
            live = call(self.leases.get, name=self.name, namespace=self.namespace,
                        missing_ok=True, attempts=2, what=self._what())
            if holder_of(live) == self.holder:
                call(self.leases.delete, name=self.name, namespace=self.namespace,
                     body={"preconditions": {"resourceVersion":
                                             live["metadata"]["resourceVersion"]}},
                     missing_ok=True, conflict_ok=True, attempts=2, what=self._what())
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False


def release_all(timeout: float = 2.0) -> None:
    """On Ctrl-C: give back the leases still held, waiting at most `timeout` seconds (in a
    thread: the interrupted one may hold the connection pool's lock)."""
    if not _held:
        return
    def release() -> None:
        for lock in list(_held):
            lock.release()
    worker = threading.Thread(target=release, daemon=True)
    worker.start()
    worker.join(timeout)

"""`c2k watch`: compose's develop.watch on the cluster. Each batch of changed files is matched
against the rules (watchrules.py) and acted on as `docker compose watch` does: rebuild first,
then sync (into every running pod of the service), then restart, then the sync+exec commands.

A container on Kubernetes starts from its image, so a synced file lives only as long as the
container it was copied into. The watcher therefore also follows the services' containers:
one that appears (a restart, a replaced pod, a scale, a rollout) gets the whole tree of every
sync rule of its service that has synced something or asks for initial_sync.
"""

from __future__ import annotations

import os
import shlex
import threading

from ..errors import C2KError
from . import podsync
from .podwatch import main_container, running_container
from .watchrules import Poller, tree


class DevWatch:
    def __init__(self, conn, pods, rules, *, note, rebuild=None, restart=None, output=None,
                 sync=None, run=None):
        self.conn = conn
        self.pods = pods                        # a ProjectPods, polled by the session
        self.rules = rules
        self.note = note                        # a status line
        self.rebuild = rebuild                  # rebuild(services): build, push, roll out
        self.restart = restart                  # restart(services)
        self.output = output or (lambda service, text: note(text))
        self.sync = sync or podsync.sync
        self.run = run or _exec
        self.poller = Poller([r.path for r in rules])
        self.dirty = {r.service for r in rules if r.syncs and r.initial_sync}
        self.seen: set[str] = set()             # container IDs that hold the synced trees
        self.warned: set[tuple[str, str]] = set()

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run_until, args=(stop,), daemon=True)
        thread.start()
        return thread

    def run_until(self, stop: threading.Event) -> None:
        self._guarded(self.catch_up)
        self.note("Watch enabled")
        while True:
            batch = self.poller.next_batch(stop)
            if batch is None:
                return
            if batch:
                self._guarded(self.handle, batch)
            self._guarded(self.catch_up)

    def _guarded(self, step, *args) -> None:
        """Run a step; a failure is a line, and watching goes on (as compose's)."""
        try:
            step(*args)
        except C2KError as exc:
            self.note(f"error: {exc.message}")
        except Exception as exc:
            self.note(f"error: {type(exc).__name__}: {exc}")

    # ---- new containers --------------------------------------------------------------------

    def catch_up(self) -> None:
        """Sync the trees into the containers that have not got them (see the module's
        docstring); the first time, into every running one that initial_sync asks for."""
        for service in {r.service for r in self.rules if r.syncs}:
            for pod in self.pods.running(service):
                cid = (running_container(pod, main_container(pod)) or {}).get("containerID")
                if not cid or cid in self.seen:
                    continue
                if service in self.dirty:
                    copies = [pair for r in self.rules if r.service == service and r.syncs
                              for pair in tree(r)]
                    self.sync(self.conn, pod["metadata"]["name"], main_container(pod),
                              copies, [])
                self.seen.add(cid)

    # ---- a batch ----------------------------------------------------------------------------

    def handle(self, batch: set[str]) -> None:
        rebuild: set[str] = set()
        restart: set[str] = set()
        execs: dict = {}
        copies: dict[str, dict[str, str]] = {}          # service -> container path -> host
        for path in sorted(batch):
            for index, rule in enumerate(self.rules):
                target = rule.matches(path)
                if target is None:
                    continue
                if rule.action == "rebuild":
                    rebuild.add(rule.service)
                    continue
                if rule.action == "restart":
                    restart.add(rule.service)
                    continue
                copies.setdefault(rule.service, {})[target] = path
                if rule.action == "sync+restart":
                    restart.add(rule.service)
                elif rule.action == "sync+exec":
                    execs.setdefault(rule.service, set()).add(index)
        if rebuild:
            names = sorted(rebuild)
            self.note(f"Rebuilding service(s) {_quoted(names)} after changes were detected...")
            self.rebuild(names)
            self.note(f"service(s) {_quoted(names)} successfully built")
        for service, mapping in sorted(copies.items()):
            self.note(f"Syncing service \"{service}\" after {len(mapping)} changes were "
                      f"detected")
            self._sync(service, mapping)
        if restart:
            names = sorted(restart)
            self.restart(names)
            self.note(f"service(s) {_quoted(names)} restarted")
        for service, indexes in sorted(execs.items()):
            for index in sorted(indexes):
                self._exec(service, self.rules[index])

    def _sync(self, service: str, mapping: dict[str, str]) -> None:
        present = [(host, target) for target, host in sorted(mapping.items())
                   if os.path.lexists(host)]
        gone = [target for target, host in sorted(mapping.items()) if not os.path.lexists(host)]
        self.dirty.add(service)
        for pod in self.pods.running(service):
            self.sync(self.conn, pod["metadata"]["name"], main_container(pod), present, gone)

    def _exec(self, service: str, rule) -> None:
        spec = rule.exec or {}
        for key in ("user", "privileged"):
            if spec.get(key) and (service, key) not in self.warned:
                self.warned.add((service, key))
                self.note(f"warning: service {service}: develop.watch exec.{key} is not "
                          f"available in a Kubernetes exec; the command runs as the "
                          f"container's user")
        command = _command(spec)
        for pod in self.pods.running(service):
            name = pod["metadata"]["name"]
            code = self.run(self.conn, name, main_container(pod), command,
                            lambda text, s=service: self.output(s, text))
            if code:
                self.note(f"error: service {service}: {shlex.join(spec['command'])} exited "
                          f"with code {code} in pod {name}")


def _command(spec: dict) -> list[str]:
    """exec.command with its working_dir and environment, which a Kubernetes exec does not
    take: through sh and env."""
    command = list(spec["command"])
    env = spec.get("environment") or {}
    if isinstance(env, dict):
        env = [f"{k}={v}" for k, v in env.items() if v is not None]
    if env:
        command = ["env", *env, *command]
    if spec.get("working_dir"):
        command = ["sh", "-c", 'cd "$0" && exec "$@"', spec["working_dir"], *command]
    return command


def _exec(conn, pod: str, container: str, command, output) -> int:
    from .oneoff import exec_in_pod
    return exec_in_pod(conn, pod, command, container=container, out=output, err=output)


def _quoted(names) -> str:
    return "[" + " ".join(f'"{n}"' for n in names) + "]"

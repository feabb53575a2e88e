"""Attached logs, as `docker compose up` shows them: every container's lines behind a
`web-1  | ` prefix in the service's colour, new containers (a restart, a replaced pod, a scale)
followed as they start, and `web-1 exited with code N` when one ends."""

from __future__ import annotations

import threading

from ..errors import ClusterError
from .observe import _open_log_stream

# docker compose's rotation: the six ANSI colours, then their bright variants.
COLOURS = [f"\033[{code}m" for code in (36, 33, 32, 35, 34, 31)] + \
          [f"\033[1;{code}m" for code in (36, 33, 32, 35, 34, 31)]
RESET = "\033[0m"


class LogPrinter:
    """Writes prefixed lines; the prefix width grows to the longest name seen, as compose's."""

    def __init__(self, write, *, colour: bool, prefix: bool = True):
        self.write = write
        self.colour = colour
        self.prefix = prefix
        self.width = 0
        self._colours: dict[str, str] = {}
        self._lock = threading.Lock()

    def _paint(self, service: str, text: str) -> str:
        if not self.colour:
            return text
        if service not in self._colours:
            self._colours[service] = COLOURS[len(self._colours) % len(COLOURS)]
        return f"{self._colours[service]}{text}{RESET}"

    def line(self, service: str, name: str, text: str) -> None:
        with self._lock:
            self.width = max(self.width, len(name))
            if self.prefix:
                # compose's prefix: the name padded to the longest, two blanks, a bar
                text = self._paint(service, f"{name:<{self.width}}  | ") + text
            self.write(text)

    def event(self, service: str, name: str, text: str) -> None:
        """A line about a container (exited, ...): its name in colour, no bar."""
        with self._lock:
            self.write(self._paint(service, name) + " " + text)


class Attacher:
    """update(pods) after each poll opens a log stream for every container instance not yet
    streamed (services in `attached`, or all when None), and reports the ones that ended to
    on_exit(service, name, code)."""

    def __init__(self, conn, printer: LogPrinter, *, attached=None, timestamps=False,
                 on_exit=None, problem=None, open_stream=None):
        self.conn = conn
        self.printer = printer
        self.attached = attached
        self.timestamps = timestamps
        self.on_exit = on_exit or (lambda service, name, code: None)
        self.problem = problem or (lambda text: None)
        self.open_stream = open_stream or _open_log_stream
        self._streamed: set[str] = set()        # container IDs followed
        self._ended: set[str] = set()           # container IDs reported as exited
        self._pumps: dict[str, threading.Thread] = {}   # container ID -> its log reader

    def update(self, pods) -> None:
        for service, name, pod in pods:
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                self._container(service, name, pod, status)

    def _container(self, service: str, name: str, pod: dict, status: dict) -> None:
        if len((pod.get("spec") or {}).get("containers") or []) > 1:
            name = f"{name}/{status['name']}"
        state, last = status.get("state") or {}, status.get("lastState") or {}
        # a container that ended since the last poll: its own state, or the last state of
        # the one that replaced it
        for ended in (state.get("terminated"), last.get("terminated")):
            if ended is None:
                continue
            cid = ended.get("containerID")
            if cid and cid not in self._ended and (cid in self._streamed or ended is
                                                   state.get("terminated")):
                self._ended.add(cid)
                self._follow(service, name, pod, status, cid)
                # its last lines before its exit line, as compose prints them (the stream of
                # an ended container ends by itself)
                pump = self._pumps.pop(cid, None)
                if pump is not None:
                    pump.join(timeout=5)
                self.printer.event(service, name, f"exited with code {ended.get('exitCode', 0)}")
                self.on_exit(service, name, ended.get("exitCode", 0))
        if "running" in state:
            self._follow(service, name, pod, status, status.get("containerID"))

    def _follow(self, service, name, pod, status, cid) -> None:
        if not cid or cid in self._streamed:
            return
        self._streamed.add(cid)
        if self.attached is not None and service not in self.attached:
            return
        try:
            lines = self.open_stream(self.conn, pod["metadata"]["name"], status["name"], None,
                                     self.timestamps, what=f"{name}: logs unavailable")
        except ClusterError as exc:
            self.problem(exc.message)
            return

        def pump():
            try:
                for text in lines:
                    self.printer.line(service, name, text)
            except Exception as exc:
                self.problem(f"{name}: the log stream ended: {exc}")
        thread = threading.Thread(target=pump, daemon=True)
        self._pumps[cid] = thread
        thread.start()

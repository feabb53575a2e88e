"""Progress display for long operations (image builds and pushes), on stderr.

A ``Reporter`` gets events keyed by a task (a service name): ``plan`` (the tasks to come, in
display order), ``start``, ``status`` (a notable state, e.g. "Step 2/5 : RUN make"),
``progress`` (a transient state, e.g. "3/5 layers pushed": only a live display shows it),
``log`` (an output line), ``done`` and ``fail``; ``warn`` for anything else. Three kinds:

- ``LiveReporter``: one line per task, redrawn in place (a TTY);
- ``PlainReporter``: prefixed lines, ``web | Step 2/5 : RUN make`` (logs, CI, pipes);
- ``NullReporter``: nothing but warnings;
- ``QuietReporter``: nothing at all (``c2k -q``: stderr carries errors only).

``make_reporter("auto"|"plain"|"none")`` picks one; ``auto`` means live when stderr is a
terminal. Reporters are thread-safe: builds run in a thread pool.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import Protocol, TextIO

MODES = ("auto", "plain", "none")


class Reporter(Protocol):
    def plan(self, tasks: list[str]) -> None: ...
    def start(self, task: str, text: str) -> None: ...
    def status(self, task: str, text: str) -> None: ...
    def progress(self, task: str, text: str) -> None: ...
    def log(self, task: str, line: str) -> None: ...
    def done(self, task: str, text: str) -> None: ...
    def fail(self, task: str, text: str) -> None: ...
    def warn(self, text: str) -> None: ...
    def close(self) -> None: ...


class NullReporter:
    """Shows nothing but warnings."""

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(text + "\n")
            stream.flush()

    def plan(self, tasks): pass
    def start(self, task, text): pass
    def status(self, task, text): pass
    def progress(self, task, text): pass
    def log(self, task, line): pass
    def done(self, task, text): pass
    def fail(self, task, text): pass
    def close(self): pass

    def warn(self, text):
        self._write(f"warning: {text}")


class QuietReporter(NullReporter):
    """Shows nothing, warnings included."""

    def warn(self, text):
        pass


class PlainReporter(NullReporter):
    """One prefixed line per event: ``web | Step 1/3 : FROM busybox``."""

    def __init__(self, stream: TextIO | None = None, *, width: int = 0):
        super().__init__(stream)
        self._width = width

    def plan(self, tasks):
        self._width = max([self._width] + [len(t) for t in tasks])

    def _line(self, task: str, text: str) -> None:
        self._width = max(self._width, len(task))
        self._write(f"{task:<{self._width}} | {text}")

    def start(self, task, text):
        self._line(task, text)

    def status(self, task, text):
        self._line(task, text)

    def log(self, task, line):
        self._line(task, line)

    def done(self, task, text):
        self._line(task, text)

    def fail(self, task, text):
        self._line(task, text)


class LiveReporter(NullReporter):
    """One line per task, rewritten in place with ANSI cursor movement; logs are not shown
    (a failure's log tail is part of the error message)."""

    SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    INTERVAL = 0.1

    def __init__(self, stream: TextIO | None = None):
        super().__init__(stream)
        self._tasks: dict[str, list] = {}   # task -> [state, text, started, ended]
        self._drawn = 0                     # lines on screen that we own
        self._last = 0.0
        self._frame = 0
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def _tick(self):
        """Redraw while tasks run, so spinners and clocks move during silent build steps."""
        while not self._stop.wait(self.INTERVAL):
            with self._lock:
                if any(entry[0] == "run" for entry in self._tasks.values()):
                    self._draw(time.monotonic())

    def _set(self, task, state, text, *, force=False):
        with self._lock:
            now = time.monotonic()
            entry = self._tasks.setdefault(task, [state, text, now, None])
            if entry[0] == "wait":       # never started: no clock to show
                entry[2] = now
            entry[0], entry[1] = state, text
            if state in ("done", "fail"):
                entry[3] = now
            if force or now - self._last >= self.INTERVAL:
                self._draw(now)
            if self._ticker is None and state == "run":
                self._stop.clear()
                self._ticker = threading.Thread(target=self._tick, name="c2k-progress",
                                                daemon=True)
                self._ticker.start()

    def _draw(self, now):
        stream = self._stream or sys.stderr
        size = shutil.get_terminal_size((100, 20))
        # One column short of the width: a full-width line would wrap on some terminals and
        # break the cursor arithmetic. At most rows-1 lines, or the block would scroll away.
        cols, rows = size.columns - 1, max(size.lines - 1, 2)
        tasks = list(self._tasks.items())
        hidden = 0
        if len(tasks) > rows:      # too many to show: leave out finished ones first
            done = [t for t in tasks if t[1][0] == "done"]
            hidden = min(len(done), len(tasks) - rows + 1)
            skip = {name for name, _ in done[:hidden]}
            tasks = [t for t in tasks if t[0] not in skip][:rows - 1]
        width = max((len(t) for t, _ in tasks), default=0)
        self._frame += 1
        out = [f"\x1b[{self._drawn}F"] if self._drawn else []
        if hidden:
            out.append(f"\x1b[2K✔ {hidden} more done\n")
        for task, (state, text, started, ended) in tasks:
            mark = {"done": "✔", "fail": "✘", "wait": "·"}.get(state) or \
                self.SPINNER[self._frame % len(self.SPINNER)]
            elapsed = "" if state == "wait" or ended == started else \
                f"{(ended or now) - started:.1f}s"
            head = f"{mark} {task:<{width}}  "
            room = max(cols - len(head) - 8, 10)
            body = " ".join(text.split())
            if len(body) > room:
                body = body[:room - 1] + "…"
            out.append(f"\x1b[2K{head}{body:<{room}} {elapsed:>7}\n")
        out.append("\x1b[0J")       # clear what a longer previous block left below
        stream.write("".join(out))
        stream.flush()
        self._drawn = len(tasks) + (1 if hidden else 0)
        self._last = now

    def plan(self, tasks):
        with self._lock:
            now = time.monotonic()
            for task in tasks:
                self._tasks.setdefault(task, ["wait", "waiting", now, None])

    def start(self, task, text):
        self._set(task, "run", text, force=True)

    def status(self, task, text):
        self._set(task, "run", text)

    def progress(self, task, text):
        self._set(task, "run", text)

    def done(self, task, text):
        self._set(task, "done", text, force=True)

    def fail(self, task, text):
        self._set(task, "fail", text, force=True)

    def warn(self, text):
        with self._lock:
            stream = self._stream or sys.stderr
            if self._drawn:        # print above the live block, then redraw it below
                stream.write(f"\x1b[{self._drawn}F\x1b[0J")
                self._drawn = 0
            stream.write(f"warning: {text}\n")
            if self._tasks:
                self._draw(time.monotonic())
            stream.flush()

    def close(self):
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            self._stop.set()
            ticker.join()
        with self._lock:
            if self._tasks:
                self._draw(time.monotonic())


def make_reporter(mode: str | Reporter = "auto", stream: TextIO | None = None) -> Reporter:
    """A reporter for ``--progress`` (auto, plain, none), or the given Reporter itself."""
    if not isinstance(mode, str):
        return mode
    if mode == "none":
        return NullReporter(stream)
    if mode == "plain":
        return PlainReporter(stream)
    if mode != "auto":
        raise ValueError(f"unknown progress mode {mode!r} (expected one of {', '.join(MODES)})")
    target = stream or sys.stderr
    is_tty = getattr(target, "isatty", lambda: False)()
    if is_tty and os.environ.get("TERM", "") != "dumb" and not os.environ.get("CI"):
        return LiveReporter(stream)
    return PlainReporter(stream)

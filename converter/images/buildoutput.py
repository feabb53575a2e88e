"""Reading the engine's build output stream, for both of its builders.

- The classic builder sends ``{"stream": "Step 2/5 : RUN make\\n"}`` text, ``{"aux": {"ID"}}``
  and ``{"error", "errorDetail"}``.
- BuildKit (``POST /build?version=2``) sends ``{"id": "moby.buildkit.trace", "aux": BASE64}``
  where the payload is a protobuf ``moby.buildkit.v1.StatusResponse`` (vertexes = steps, logs),
  ``{"id": "moby.image.id", "aux": {"ID"}}`` and the same error events. The few fields needed
  are decoded here with a minimal protobuf wire reader (no dependency).

Each reader reports steps (``status``) and output lines (``log``) to a progress Reporter, keeps
the image id, and on an error raises ``BuildFailed`` with the failing step and its log tail.
"""

from __future__ import annotations

import base64
import collections
import re

LOG_TAIL = 15
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STEP = re.compile(r"^(Step \d+/\d+ : |STEP \d+/\d+: )")     # dockerd's; Buildah's (Podman)
# The classic builders' housekeeping lines: not shown, not part of a failure's log tail.
_NOISE = re.compile(r"^( ---> (Running in )?[0-9a-f]{12}$|Removing intermediate container "
                    r"|Successfully (built|tagged) | ---> Using cache$"
                    r"|--> ([0-9a-f]{11,64}|Using cache [0-9a-f]{64})$|COMMIT |[0-9a-f]{64}$)")


class BuildFailed(Exception):
    def __init__(self, step: str | None, message: str, tail):
        super().__init__(message)
        self.step, self.message, self.tail = step, message.strip(), list(tail)


def _error(event) -> str | None:
    if "error" in event or "errorDetail" in event:
        detail = event.get("errorDetail") or {}
        return event.get("error") or detail.get("message") or "unknown error"
    return None


class ClassicOutput:
    def __init__(self, task: str, reporter):
        self.task, self.reporter = task, reporter
        self.image_id: str | None = None
        self.step: str | None = None
        self.tail: collections.deque = collections.deque(maxlen=LOG_TAIL)
        self._pending = ""

    def feed(self, event: dict) -> None:
        message = _error(event)
        if message is not None:
            if self._pending.strip():
                self.tail.append(self._pending)
            raise self.failure(message)
        aux = event.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            self.image_id = aux["ID"]
        if "status" in event:      # pulling a base image (pull=True)
            text = " ".join(str(event[k]) for k in ("id", "status") if event.get(k))
            self.reporter.progress(self.task, text)
        chunk = event.get("stream")
        if chunk:
            self._pending += _ANSI.sub("", chunk)
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                self._line(line.rstrip("\r"))

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        if self.image_id is None and line.startswith("Successfully built "):
            self.image_id = line.split()[-1]
        if _STEP.match(line):
            self.step = line.replace(" : ", ": ", 1)
            self.reporter.status(self.task, line)
            self.tail.clear()
        elif not _NOISE.match(line):
            self.reporter.log(self.task, line)
            self.tail.append(line)

    def failure(self, message: str) -> BuildFailed:
        return BuildFailed(self.step, message, self.tail)


class BuildkitOutput:
    def __init__(self, task: str, reporter):
        self.task, self.reporter = task, reporter
        self.image_id: str | None = None
        self._classic: ClassicOutput | None = None    # the engine answered the classic way
        self._names: dict[str, str] = {}         # vertex digest -> "[2/3] RUN make"
        self._state: dict[str, str] = {}         # vertex digest -> started | done | cached
        self._logs: dict[str, collections.deque] = {}
        self._pending: dict[str, str] = {}
        self._current: str | None = None
        self._failed: tuple[str, str] | None = None   # (vertex, error)

    def feed(self, event: dict) -> None:
        if self._classic is None and "stream" in event and not self._names:
            # Output before any BuildKit trace: an engine that built the classic way (Podman
            # does, whatever the request asked for). Read it so.
            self._classic = ClassicOutput(self.task, self.reporter)
        if self._classic is not None:
            try:
                self._classic.feed(event)
            finally:
                self.image_id = self._classic.image_id
            return
        message = _error(event)
        if message is not None:
            raise self.failure(message)
        aux = event.get("aux")
        if event.get("id") == "moby.buildkit.trace" and isinstance(aux, str):
            try:
                vertexes, logs = decode_status(base64.b64decode(aux))
            except (ValueError, IndexError):
                return                            # a trace we cannot read: progress only
            for vertex in vertexes:
                self._vertex(vertex)
            for log in logs:
                self._log(log)
        elif isinstance(aux, dict) and aux.get("ID"):
            self.image_id = aux["ID"]

    def _vertex(self, vertex: dict) -> None:
        digest = vertex.get("digest", "")
        name = vertex.get("name") or self._names.get(digest, "")
        self._names[digest] = name
        internal = name.startswith("[internal]") or name == "copy /context /"
        if vertex.get("error"):
            self._failed = (digest, vertex["error"])
        if vertex.get("completed"):
            state = "cached" if vertex.get("cached") else "done"
            if self._state.get(digest) != state and not internal:
                if state == "cached":
                    self.reporter.status(self.task, f"CACHED {name}")
            self._state[digest] = state
            self._flush(digest)
        elif vertex.get("started") and self._state.get(digest) is None:
            self._state[digest] = "started"
            if not internal:
                self._current = digest
                self.reporter.status(self.task, name)

    def _log(self, log: dict) -> None:
        digest = log.get("vertex", "")
        text = self._pending.get(digest, "") + _ANSI.sub("", log.get("msg", ""))
        *lines, self._pending[digest] = text.split("\n")
        for line in lines:
            self._emit(digest, line.rstrip("\r"))

    def _flush(self, digest: str) -> None:
        rest = self._pending.pop(digest, "")
        if rest.strip():
            self._emit(digest, rest)

    def _emit(self, digest: str, line: str) -> None:
        if not line.strip():
            return
        self._logs.setdefault(digest, collections.deque(maxlen=LOG_TAIL)).append(line)
        self.reporter.log(self.task, line)

    def failure(self, message: str) -> BuildFailed:
        if self._classic is not None:
            return self._classic.failure(message)
        digest = self._failed[0] if self._failed else self._current
        if digest:
            self._flush(digest)
        step = self._names.get(digest) if digest else None
        return BuildFailed(step, message, self._logs.get(digest, ()) if digest else ())


# ---- protobuf wire format (just enough for StatusResponse) --------------------------------------

def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(data: bytes):
    i, end = 0, len(data)
    while i < end:
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i:i + size], i + size
            if i > end:
                raise ValueError("truncated field")
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, value


def decode_status(raw: bytes) -> tuple[list[dict], list[dict]]:
    """StatusResponse -> (vertexes, logs). Vertex: digest(1) name(3) cached(4) started(5)
    completed(6) error(7). VertexLog: vertex(1) stream(3) msg(4)."""
    vertexes, logs = [], []
    for number, value in _fields(raw):
        if number == 1:
            vertex = {}
            for field, item in _fields(value):
                if field == 1:
                    vertex["digest"] = item.decode()
                elif field == 3:
                    vertex["name"] = item.decode(errors="replace")
                elif field == 4:
                    vertex["cached"] = bool(item)
                elif field == 5:
                    vertex["started"] = True
                elif field == 6:
                    vertex["completed"] = True
                elif field == 7:
                    vertex["error"] = item.decode(errors="replace")
            vertexes.append(vertex)
        elif number == 3:
            log = {}
            for field, item in _fields(value):
                if field == 1:
                    log["vertex"] = item.decode()
                elif field == 3:
                    log["stream"] = item
                elif field == 4:
                    log["msg"] = item.decode(errors="replace")
            logs.append(log)
    return vertexes, logs

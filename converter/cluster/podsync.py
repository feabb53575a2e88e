"""Files from this machine into a running container, as `docker compose watch` syncs them: one
exec per batch that removes what was deleted here and unpacks a tar stream of what changed
(what `kubectl cp` does; the container needs sh and tar).

tar runs with -m, so a file gets the time it arrived, not its time here: reloaders that watch
mtimes (Django's, nodemon) see every sync, even two within one second; and with -o, so files
belong to the container's user, as compose's copies do.
"""

from __future__ import annotations

import io
import os

from ..errors import ClusterError
from ..images.tarwriter import TarWriter

_UNPACK = 'rm -rf -- "$@" && exec tar -x -m -o -f - -C /'
_REMOVE = 'rm -rf -- "$@"'
_FRAME = 1024 * 1024


def archive(copies) -> bytes:
    """A tar of (host path, container path) pairs: each entry alone (a folder as an empty
    folder; the caller names what is inside that it wants)."""
    buffer = io.BytesIO()
    writer = TarWriter(buffer)
    for host, target in copies:
        try:
            writer.add(target.lstrip("/"), host, os.lstat(host))
        except OSError:
            continue                # gone or unreadable since it changed: the next batch says
    writer.close()
    return buffer.getvalue()


def sync(conn, pod: str, container: str, copies, deletes) -> None:
    """Copy `copies` ((host path, container path), ...) into the container and remove
    `deletes` (container paths) from it."""
    from kubernetes.stream import stream
    data = archive(copies) if copies else b""
    script = _UNPACK if copies else _REMOVE
    command = ["sh", "-c", script, "c2k-sync", *deletes]
    core = conn.websocket_core()
    try:
        resp = stream(core.connect_get_namespaced_pod_exec, pod, conn.namespace,
                      command=command, container=container, stdin=bool(data), stdout=True,
                      stderr=True, tty=False, _preload_content=False, binary=True)
        for start in range(0, len(data), _FRAME):
            resp.write_stdin(data[start:start + _FRAME])
        if data:
            resp.close_channel(0)     # EOF where the protocol has it; tar ends at its trailer
        errors = b""
        while resp.is_open():
            resp.update(timeout=1)
            if resp.peek_stderr():
                errors += resp.read_stderr()
        status = resp.read_channel(3)
        resp.close()
    except Exception as exc:
        from .kubeconfig import explain
        raise explain(exc, f"syncing files into pod {pod}") from None
    from .oneoff import exit_code
    status = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
    if exit_code(status, pod):
        detail = errors.decode("utf-8", "replace").strip().splitlines()
        raise ClusterError(f"syncing files into pod {pod} ({container}) failed"
                           + (f": {detail[-1]}" if detail else ""),
                           hint="the container needs sh, rm and tar, and write access to "
                                "the target path")

"""The only I/O of the conversion: reading small host files for ConfigMaps and Secrets.

`read_host_path` looks at a bind-mount source or a secret/config `file:` and returns what is there,
reading contents only when they are small enough to inline. It never follows a symlink out of a
folder, reads only regular files, and stops at the limits. The transform takes the reader as a
parameter, so tests pass a fake one.
"""

from __future__ import annotations

import os
import stat

from ..records import record


@record
class HostPath:
    kind: str                                   # file | dir | missing | other
    files: tuple[tuple[str, bytes], ...] | None = None  # (relative path, content); None = too big
    count: int = 0                              # regular files seen (up to the limit + 1)
    size: int = 0                               # bytes seen (up to the limit + 1)
    reason: str = ""                            # why files is None
    executable: tuple[str, ...] = ()            # relative paths of the files with an x bit


def read_host_path(path: str, *, max_bytes: int = 1024 * 1024, max_files: int = 32) -> HostPath:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return HostPath("missing")
    except OSError as exc:
        return HostPath("other", reason=exc.strerror or str(exc))
    if stat.S_ISREG(info.st_mode):
        if info.st_size > max_bytes:
            return HostPath("file", count=1, size=info.st_size,
                            reason=f"larger than {max_bytes} bytes")
        data = _read(path, max_bytes)
        if data is None:
            return HostPath("file", count=1, reason="cannot be read")
        name = os.path.basename(path)
        return HostPath("file", files=((name, data),), count=1, size=len(data),
                        executable=(name,) if info.st_mode & 0o111 else ())
    if not stat.S_ISDIR(info.st_mode):
        return HostPath("other", reason="not a regular file or folder")
    return _read_dir(path, max_bytes, max_files)


def _read(path: str, limit: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    return data if len(data) <= limit else None


def _read_dir(root: str, max_bytes: int, max_files: int) -> HostPath:
    files: list[tuple[str, bytes]] = []
    executable: list[str] = []
    total = 0
    reason = ""
    stack = [""]
    while stack and not reason:
        rel_dir = stack.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, rel_dir)), key=lambda e: e.name)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            break
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                reason = f"contains a symbolic link ({rel})"
                break
            if entry.is_dir(follow_symlinks=False):
                if entry.name == ".git":
                    reason = "is a git checkout"
                    break
                subdirs.append(rel)
                continue
            if not entry.is_file(follow_symlinks=False):
                reason = f"contains a special file ({rel})"
                break
            if len(files) >= max_files:
                reason = f"has more than {max_files} files"
                break
            st = entry.stat(follow_symlinks=False)
            size = st.st_size
            if total + size > max_bytes:
                reason = f"holds more than {max_bytes} bytes"
                break
            data = _read(os.path.join(root, rel), max_bytes - total)
            if data is None:
                reason = f"cannot read {rel}"
                break
            total += len(data)
            files.append((rel, data))
            if st.st_mode & 0o111:
                executable.append(rel)
        stack.extend(reversed(subdirs))
    if reason:
        return HostPath("dir", count=len(files), size=total, reason=reason)
    files.sort()
    return HostPath("dir", files=tuple(files), count=len(files), size=total,
                    executable=tuple(sorted(executable)))

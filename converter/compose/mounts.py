"""A service's `volumes:` entry in long form, as docker compose reads the short syntax.

`SOURCE:TARGET[:OPTIONS]`: a source that starts with `.`, `/` or `~` (or a drive letter) is a
bind mount, any other a named volume; a lone target is an anonymous volume. As in compose, a
spec with an empty section (`:/data`, or `${UNSET}:/data` once interpolated) is refused, and an
option compose does not know is ignored (c2k says so).
"""

from __future__ import annotations

import posixpath

from ..errors import ComposeError
from . import units
from .merge import split_volume

_PROPAGATIONS = {"shared", "rshared", "slave", "rslave", "private", "rprivate"}
_SELINUX = {"z", "Z"}


def is_host_path(source: str) -> bool:
    return source.startswith((".", "/", "~")) or (len(source) > 1 and source[1] == ":"
                                                   and source[0].isalpha())


def normalize_mount(value, path, warn) -> dict:
    entry = _long_mount(value, path) if isinstance(value, dict) else \
        _short_mount(str(value), path, warn)
    entry["target"] = _clean_target(entry.get("target"))
    return entry


def _clean_target(target: str) -> str:
    """Container paths are cleaned as Go's path.Clean does ('/media/' → '/media')."""
    if not isinstance(target, str) or not target.startswith("/"):
        return target
    return posixpath.normpath(target).replace("//", "/")


def _short_mount(text: str, path, warn) -> dict:
    parts = split_volume(text) if len(text) > 2 else [text]   # compose: 1-2 chars, a target
    if "" in parts:
        raise ComposeError(f"invalid volume {text!r}: a section between ':' is empty", path=path,
                           hint="if the source comes from a variable (`${VAR}:/data`), set it; "
                                "for an anonymous volume write only the target (`/data`)")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0], "volume": {}}
    if len(parts) > 3:
        raise ComposeError(f"invalid volume {text!r}: too many ':'", path=path,
                           hint="use SOURCE:TARGET[:OPTIONS]")
    source, target = parts[0], parts[1]
    entry: dict = {"type": "bind" if is_host_path(source) else "volume", "source": source,
                   "target": target}
    read_only = False
    bind: dict = {"create_host_path": True} if entry["type"] == "bind" else {}
    volume: dict | None = {} if entry["type"] == "volume" else None
    for option in parts[2].split(",") if len(parts) == 3 else ():
        if option in ("ro", "rw"):
            read_only = option == "ro"          # the last one wins, as in compose
        elif option == "nocopy":
            volume = {"nocopy": True}
        elif option in _SELINUX:
            bind["selinux"] = option
        elif option in _PROPAGATIONS:
            bind["propagation"] = option
        else:
            warn(f"volume option {option!r} has no effect: docker compose ignores it", path,
                 "use ro, rw, nocopy, z, Z or a propagation mode (shared, slave, private, "
                 "with or without r)")
    if read_only:
        entry["read_only"] = True
    if bind:                                    # compose keeps bind options on a volume too
        entry["bind"] = bind
    if volume is not None:
        entry["volume"] = volume
    return entry


def _long_mount(value: dict, path) -> dict:
    entry = dict(value)
    if "type" not in entry:
        raise ComposeError("a volume in long syntax needs a type", path=path,
                           hint="type: volume, bind or tmpfs")
    if entry.get("read_only") is not None:
        entry["read_only"] = units.to_bool(entry["read_only"], path + ("read_only",))
        if not entry["read_only"]:
            del entry["read_only"]
    kind = entry["type"]
    if kind == "bind" and "source" not in entry:
        raise ComposeError("a bind mount needs a source", path=path,
                           hint="add `source:` (the host path to mount)")
    if entry.get("source") == "":
        del entry["source"]                     # an empty volume name: an anonymous volume
    if kind == "volume":
        entry.setdefault("volume", {})
        entry["volume"] = dict(entry["volume"] or {})
    elif kind == "bind":
        entry["bind"] = dict(entry.get("bind") or {})
        if "create_host_path" in entry["bind"]:
            entry["bind"]["create_host_path"] = units.to_bool(entry["bind"]["create_host_path"])
    elif kind == "tmpfs":
        tmpfs = dict(entry.get("tmpfs") or {})
        if tmpfs.get("size") is not None:
            tmpfs["size"] = str(units.parse_bytes(tmpfs["size"], path + ("tmpfs", "size")))
        if tmpfs:
            entry["tmpfs"] = tmpfs
    return entry

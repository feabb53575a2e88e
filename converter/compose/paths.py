"""Making the relative paths of a compose document absolute.

Main -f files resolve against the project directory; files reached through `extends` or
`include` resolve against their own folder. Remote build contexts (URLs) are left alone.
"""

from __future__ import annotations

import os

from .merge import split_volume

_REMOTE = ("http://", "https://", "git://", "git@", "ssh://", "github.com/")


def absolute(base: str, path: str, home: str | None = None) -> str:
    if not isinstance(path, str) or path.startswith(_REMOTE) or "://" in path \
            or _is_windows_absolute(path):
        return path
    if path == "~" or path.startswith("~/"):
        path = (home or os.path.expanduser("~")) + path[1:]
    return os.path.normpath(os.path.join(base, path))


def _is_windows_absolute(path: str) -> bool:
    """`C:\\x`, `C:/x` or `\\\\server\\share`: compose leaves them as they are."""
    return path.startswith("\\\\") or (len(path) > 2 and path[0].isalpha() and path[1] == ":"
                                         and path[2] in "\\/")


def _is_relative_bind(source: str) -> bool:
    return source.startswith((".", "~"))


def resolve_service(svc: dict, base: str, home: str | None = None) -> dict:
    """A service dict with build context, env files and bind sources absolute."""
    if not isinstance(svc, dict):
        return svc
    out = dict(svc)
    build = out.get("build")
    if isinstance(build, str):
        out["build"] = {"context": absolute(base, build, home)}
    elif isinstance(build, dict):
        build = dict(build)
        build["context"] = absolute(base, build.get("context", "."), home)
        if isinstance(build.get("additional_contexts"), dict):
            build["additional_contexts"] = {
                k: (absolute(base, v, home) if isinstance(v, str) and v.startswith((".", "/", "~"))
                    else v) for k, v in build["additional_contexts"].items()}
        out["build"] = build
    for key in ("env_file", "label_file"):
        value = out.get(key)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            out[key] = [({**item, "path": absolute(base, item["path"], home)}
                         if isinstance(item, dict) and "path" in item
                         else absolute(base, item, home) if isinstance(item, str) else item)
                        for item in value]
    if isinstance(out.get("volumes"), list):
        out["volumes"] = [_resolve_volume(item, base, home) for item in out["volumes"]]
    extends = out.get("extends")
    if isinstance(extends, dict) and isinstance(extends.get("file"), str):
        out["extends"] = {**extends, "file": absolute(base, extends["file"], home)}
    develop = out.get("develop")
    if isinstance(develop, dict) and isinstance(develop.get("watch"), list):
        out["develop"] = {**develop, "watch": [
            {**t, "path": _through_links(absolute(base, t["path"], home))}
            if isinstance(t, dict) and isinstance(t.get("path"), str) else t
            for t in develop["watch"]]}
    return out


def _through_links(path: str) -> str:
    """A watched path with the symbolic links in it resolved (compose watches the target)."""
    return os.path.realpath(path) if os.path.exists(path) else path


def _resolve_volume(item, base: str, home: str | None):
    if isinstance(item, str):
        parts = split_volume(item)
        if len(parts) >= 2 and _is_relative_bind(parts[0]):
            return ":".join([absolute(base, parts[0], home)] + parts[1:])
        return item
    if isinstance(item, dict) and item.get("type") == "bind" and isinstance(item.get("source"), str):
        if not os.path.isabs(item["source"]):
            return {**item, "source": absolute(base, item["source"], home)}
    return item


def _resolve_bind_device(volume, base: str, home: str | None):
    """A local volume that binds a host folder (`o: bind`) names it in `driver_opts.device`."""
    if not isinstance(volume, dict) or volume.get("driver") != "local":
        return volume
    opts = volume.get("driver_opts")
    if not isinstance(opts, dict) or opts.get("o") != "bind" or "device" not in opts:
        return volume
    return {**volume, "driver_opts": {**opts, "device": absolute(base, str(opts["device"]),
                                                                 home)}}


def resolve_document(doc: dict, base: str, home: str | None = None) -> dict:
    """Every relative path in a whole document, against `base`."""
    if not isinstance(doc, dict):
        return doc
    out = dict(doc)
    if isinstance(doc.get("services"), dict):
        out["services"] = {name: resolve_service(svc, base, home) for name, svc in doc["services"].items()}
    if isinstance(doc.get("volumes"), dict):
        out["volumes"] = {name: _resolve_bind_device(v, base, home)
                          for name, v in doc["volumes"].items()}
    for section in ("secrets", "configs"):
        entries = doc.get(section)
        if isinstance(entries, dict):
            out[section] = {name: ({**e, "file": absolute(base, e["file"], home)}
                                   if isinstance(e, dict) and isinstance(e.get("file"), str) else e)
                            for name, e in entries.items()}
    return out

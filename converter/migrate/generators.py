"""The Secrets and ConfigMaps of a conversion as Kustomize generators over the files compose
reads, so that no value of theirs is written into the layout.

An object is explained by the files the conversion read (the reader's record): each key's bytes
are a file's bytes (`files: [key=path]`), or, for a ConfigMap of an env_file, its data is what
kustomize's own reading of that file gives (`envs: [path]`). A Secret nothing explains (a
`content:` or `environment:` secret, --secret-env values) reads files the user puts in the
layout's `secrets/` folder, which the layout's .gitignore keeps out of git; a ConfigMap
nothing explains is written as it is (its values are in the compose files already).

Kustomize names a generated object `<name>-<hash of its data>` and rewrites the references to
it, so a changed file rolls the pods that mount it.
"""

from __future__ import annotations

import base64
import os

from ..records import record

USER_SECRETS = "secrets"        # the layout's folder of files the user supplies


@record
class Generator:
    kind: str                                   # Secret | ConfigMap
    name: str
    files: tuple[tuple[str, str], ...] = ()     # (key, absolute path)
    envs: tuple[str, ...] = ()                  # absolute paths of env files
    user_files: tuple[tuple[str, str], ...] = ()  # (key, path inside the layout)
    # (key, absolute dotenv path, variable): the value compose took from a .env / --env-file
    # (an `environment:` secret, --secret-env): copied there at build time by a replacement
    variables: tuple[tuple[str, str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


def object_bytes(obj: dict) -> dict[str, bytes]:
    """{key: bytes} of a Secret or ConfigMap."""
    out: dict[str, bytes] = {}
    for key, value in (obj.get("data") or {}).items():
        out[key] = (base64.b64decode(value) if obj["kind"] == "Secret"
                    else str(value).encode("utf-8"))
    for key, value in (obj.get("binaryData") or {}).items():
        out[key] = base64.b64decode(value)
    return out


def _read_files(reads: dict) -> dict[bytes, list[str]]:
    """content -> [absolute paths of the files with it], from the conversion's reads."""
    out: dict[bytes, list[str]] = {}
    for path, info in reads.items():
        for rel, data in (getattr(info, "files", None) or ()):
            full = path if info.kind == "file" else os.path.join(path, rel)
            out.setdefault(data, []).append(os.path.normpath(full))
    return out


def kustomize_env(data: bytes) -> dict[str, str] | None:
    """An env file as kustomize's `envs:` reads it (leading blanks dropped, `#` lines skipped,
    split at the first '=', nothing else: no quotes removed, no trailing blanks trimmed), or
    None when kustomize would read something else (a line without '=' takes the value from
    kustomize's environment)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    out = {}
    for i, line in enumerate(text.splitlines()):
        if i == 0:
            line = line.lstrip("\ufeff")
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            return None
        out[key] = value
    return out


def _best(key: str, paths: list[str]) -> str:
    """Of the files holding a key's bytes, the one named like the key (then the first)."""
    from ..kube.names import config_key
    for path in sorted(paths):
        base = os.path.basename(path)
        if key in (base, config_key(base)):
            return path
    return sorted(paths)[0]


def _named(key: str, found: list[tuple[str, str]]) -> tuple[str, str]:
    """Of the variables holding a key's value, the one the key is named after (then the
    first): `zulip__secret_key` takes SECRET_KEY."""
    for path, var in found:
        if var.lower() in key.lower():
            return path, var
    return found[0]


class Explainer:
    """Turns the Secrets and ConfigMaps of one conversion into generators."""

    def __init__(self, reads: dict, dotenvs: tuple[str, ...] = ()):
        self.by_content = _read_files(reads)
        # value -> [(dotenv path, variable)] of the dotenv files kustomize reads as compose
        self.by_variable: dict[bytes, list[tuple[str, str]]] = {}
        for path in dotenvs:
            try:
                with open(path, "rb") as fh:
                    parsed = kustomize_env(fh.read())
            except OSError:
                parsed = None
            for var, value in sorted((parsed or {}).items()):
                if value:
                    self.by_variable.setdefault(value.encode("utf-8"), []).append((path, var))
        self.env_files: dict[tuple[tuple[str, str], ...], str] = {}
        for path, info in sorted(reads.items()):
            if info.kind == "file" and info.files:
                parsed = kustomize_env(info.files[0][1])
                if parsed is not None:
                    self.env_files.setdefault(tuple(sorted(parsed.items())), path)

    def generator(self, obj: dict) -> Generator | None:
        """The generator that builds `obj`, or None for a ConfigMap only a literal copy can."""
        kind, meta = obj["kind"], obj["metadata"]
        if kind not in ("Secret", "ConfigMap") or set(obj) - {"apiVersion", "kind", "metadata",
                                                               "data", "binaryData", "type"}:
            return None
        if kind == "Secret" and obj.get("type", "Opaque") != "Opaque":
            return None
        if set(meta) - {"name", "labels", "annotations"}:
            return None
        extra = {"labels": tuple(sorted((meta.get("labels") or {}).items())),
                 "annotations": tuple(sorted((meta.get("annotations") or {}).items()))}
        data = object_bytes(obj)
        files = []
        for key, value in sorted(data.items()):
            paths = self.by_content.get(value)
            if not paths:
                break
            files.append((key, _best(key, paths)))
        else:
            if files:
                return Generator(kind, meta["name"], files=tuple(files), **extra)
        if kind == "ConfigMap" and "binaryData" not in obj:
            path = self.env_files.get(tuple(sorted((obj.get("data") or {}).items())))
            if path is not None:
                return Generator(kind, meta["name"], envs=(path,), **extra)
        if kind == "Secret" and data:
            variables = [(key, *_named(key, self.by_variable[value]))
                         for key, value in sorted(data.items()) if value in self.by_variable]
            if len(variables) == len(data):
                return Generator(kind, meta["name"], variables=tuple(variables), **extra)
        if kind == "Secret":
            return Generator(kind, meta["name"], user_files=tuple(
                (key, f"{USER_SECRETS}/{meta['name']}/{key}") for key in sorted(data)), **extra)
        return None

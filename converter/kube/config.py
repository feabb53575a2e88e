"""Top-level secrets and configs -> Secret / ConfigMap objects and their mounts.

A secret or config from `file:`, `content:` or `environment:` becomes one object named after it
(one key, or one key per file for a folder). Services mount it where compose does: secrets at
`/run/secrets/<target or name>`, configs at `target` or `/<name>`; a single key through subPath.
Modes and owners follow docker compose (v2, without swarm): a `file:` secret or config is
bind-mounted, so it keeps the host file's own mode and `uid`/`gid`/`mode` are ignored (reported
as not converted, as compose warns); here the file gets Kubernetes' default 0644, or 0755 where
it is executable on this machine. One from `content:` or `environment:` is written with `mode`
(compose's default 0444 reads the same as Kubernetes' 0644); its `uid`/`gid` cannot be expressed
per file and are reported.
External ones reference an existing object of the same name. Secret values only ever go into
Secret objects (base64 `data`), never into the report.
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING

from ..errors import ConversionError
from . import names
from .podvolumes import mount_entry

if TYPE_CHECKING:
    from .context import Context


def _key(rel: str) -> str:
    """The key of a file of a folder secret/config (its path inside the folder)."""
    return names.config_key(rel.replace("/", "_"))


def _object_data(ctx: Context, scope: str, obj) -> tuple[dict | None, str, frozenset]:
    """({key: bytes} or None, source, the keys of files executable on this machine) for one
    top-level secret/config."""
    report = ctx.report
    if obj.file is not None:
        info = ctx.reader(obj.file)
        if info.kind == "missing":
            report.add(scope, obj.name, "file", "not-converted",
                       f"{os.path.basename(obj.file)} does not exist")
            return None, "", frozenset()
        if info.files is None:
            if scope == "secret":
                # A secret the workload expects but cannot get is an error, not a warning: the
                # reader stops at its size limit (Kubernetes keeps Secrets under 1 MiB anyway).
                raise ConversionError(
                    f"secret {obj.name!r}: {obj.file}: {info.reason or 'cannot be read'}",
                    path=("secrets", obj.name, "file"),
                    hint="a Secret holds at most 1 MiB; mount large files with a volume instead")
            report.add(scope, obj.name, "file", "not-converted",
                       f"{os.path.basename(obj.file)}: {info.reason or 'cannot be read'}")
            return None, "", frozenset()
        if info.kind == "file":
            key = names.config_key(obj.name)
            return {key: info.files[0][1]}, "file", frozenset([key] if info.executable else [])
        return ({_key(rel): data for rel, data in info.files}, "dir",
                frozenset(_key(rel) for rel in info.executable))
    if obj.content is not None:
        return {names.config_key(obj.name): obj.content.encode("utf-8")}, "content", frozenset()
    if obj.environment is not None:
        value = ctx.project.environment.get(obj.environment)
        if value is None:
            report.add(scope, obj.name, "environment", "warning",
                       f"variable {obj.environment} is not set; the value is empty")
            value = ""
        return {names.config_key(obj.name): value.encode("utf-8")}, "environment", frozenset()
    return None, "", frozenset()


def build_objects(ctx: Context) -> dict:
    """Secret and ConfigMap objects; returns {(scope, name): (object name, keys, whole folder,
    from a file, executable keys)} (keys None: external)."""
    out: dict[tuple[str, str], tuple[str, list[str] | None, bool, bool, frozenset]] = {}
    for scope, table, kind in (("secret", ctx.project.secrets, "Secret"),
                               ("config", ctx.project.configs, "ConfigMap")):
        for key_name, obj in table.items():
            oname = names.dns_label(obj.external_name or obj.name if obj.external else obj.name,
                                    prefix=scope)
            if obj.external:
                ctx.report.add(scope, obj.name, "external", "approximated",
                               f"expects an existing {kind} named {oname}")
                out[(scope, key_name)] = (oname, None, False, False, frozenset())
                continue
            data, source, executable = _object_data(ctx, scope, obj)
            if data is None:
                continue
            body = {"apiVersion": "v1", "kind": kind,
                    "metadata": ctx.meta(oname, ctx.project.name)}
            if kind == "Secret":
                body["type"] = "Opaque"
                body["data"] = {k: base64.b64encode(v).decode("ascii")
                                for k, v in sorted(data.items())}
            else:
                text, binary = {}, {}
                for k, v in sorted(data.items()):
                    try:
                        text[k] = v.decode("utf-8")
                    except UnicodeDecodeError:
                        binary[k] = base64.b64encode(v).decode("ascii")
                if text:
                    body["data"] = text
                if binary:
                    body["binaryData"] = binary
            ctx.add(body, f"{scope} {obj.name!r}")
            ctx.report.add(scope, obj.name, source, "mapped", f"{kind} {oname}")
            out[(scope, key_name)] = (oname, sorted(data), source == "dir",
                                      source in ("file", "dir"), executable)
    return out


def service_mounts(ctx: Context, service, pod, objects: dict) -> list[dict]:
    mounts = []
    report = ctx.report
    for scope, refs in (("secret", service.secrets), ("config", service.configs)):
        for i, ref in enumerate(refs):
            key = f"{scope}s[{i}]"
            entry = objects.get((scope, ref.source))
            if entry is None:
                report.not_converted(service.name, key, f"{scope} {ref.source} was not converted")
                continue
            oname, keys, whole, from_file, executable = entry
            external = keys is None
            if external:
                top = (ctx.project.secrets if scope == "secret" else ctx.project.configs)
                keys = [names.config_key(top[ref.source].name)]
            if scope == "secret":
                target = ref.target or ref.source
                if not target.startswith("/"):
                    target = f"/run/secrets/{target}"
            else:
                target = ref.target or f"/{ref.source}"
            kind_key = "secret" if scope == "secret" else "configMap"
            source: dict = {"secretName" if scope == "secret" else "name": oname}
            # compose bind-mounts a file: object as it is, ignoring the reference's mode
            mode = None if from_file else ref.mode
            items = [{"key": k, "path": k, **({"mode": 0o755} if k in executable else {})}
                     for k in keys]
            if whole:
                if mode is not None:
                    source["defaultMode"] = mode
                if executable:
                    source["items"] = items
                sub_path = None
            else:
                if mode is not None:
                    items[0]["mode"] = mode
                source["items"] = items
                sub_path = keys[0]
            vol = pod.get((scope, ref.source, mode), f"{scope}-{oname}", {kind_key: source})
            mounts.append(mount_entry(vol, target, read_only=True, sub_path=sub_path))
            detail = f"mounted at {target}"
            if external:
                detail += (f" from the existing {'Secret' if scope == 'secret' else 'ConfigMap'}"
                           f" {oname}, key {keys[0]}")
            report.mapped(service.name, key, detail)
            if from_file:
                for attr in ("uid", "gid", "mode"):
                    if getattr(ref, attr) is not None:
                        report.not_converted(
                            service.name, f"{key}.{attr}",
                            f"ignored, as docker compose ignores it for a file-based {scope} "
                            "(it bind-mounts the file with its own owner and mode); on "
                            "Kubernetes the file is root's, mode 0644 (0755 if executable here)")
            elif ref.uid is not None or ref.gid is not None:
                report.approximated(service.name, key, "uid/gid of the file cannot be set per "
                                                       "file; use fsGroup (x-kubernetes fsGroup)")
    return mounts

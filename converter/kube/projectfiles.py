"""The files of a bind-mounted project path, as one object the pod mounts.

A ConfigMap normally: UTF-8 files in `data`, others in `binaryData`, keys made valid and
distinct (`sub/a.conf` -> `sub_a.conf`, the item's path keeps the folder), executable files
with item mode 0755 as on this machine. When the files hold secrets (a compose secret's `file:`,
an `env_file`, a dotenv file, private keys and keystores) they go into a Secret instead, so
their values stay in Secret objects only.
"""

from __future__ import annotations

import base64
import fnmatch
import os

from . import names
from .sharing import plan

# Names of files that hold secrets wherever they are referenced from.
SECRET_NAMES = (".env", ".env.*", "*.env", "*.key", "*key*.pem", "*.p12", "*.pfx", "*.jks",
                "*.keystore", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "*.htpasswd",
                "htpasswd", ".netrc", ".pgpass")


def secret_file(ctx, source: str, info) -> str | None:
    """The first file of `info` (read at `source`) that holds secrets, or None."""
    referenced = plan(ctx).secret_files
    for rel, _ in info.files:
        full = os.path.normpath(os.path.join(source, rel) if info.kind == "dir" else source)
        base = os.path.basename(rel)
        if full in referenced or any(fnmatch.fnmatchcase(base, p) for p in SECRET_NAMES):
            return rel
    return None


def files_volume(ctx, service, pod, key, info, *, name: str, volume: str, secret: bool,
                 origin: str) -> str:
    """Add the ConfigMap (or Secret) `name` holding `info`'s files once; mount it in `pod`
    as `volume`; return the pod volume's name."""
    text, binary, items, taken = {}, {}, [], set()
    executable = set(info.executable)
    for path, content in info.files:
        k = names.config_key(path.replace("/", "_") if info.kind == "dir" else path)
        base, n = k, 2
        while k in taken:
            k = f"{base}.{n}"
            n += 1
        taken.add(k)
        if secret:
            binary[k] = base64.b64encode(content).decode("ascii")
        else:
            try:
                text[k] = content.decode("utf-8")
            except UnicodeDecodeError:
                binary[k] = base64.b64encode(content).decode("ascii")
        item = {"key": k, "path": path}
        if path in executable:
            item["mode"] = 0o755
        items.append(item)
    owner = name if len(plan(ctx).groups.get(key, ())) > 1 else ctx.group_of[service.name].name
    obj = {"apiVersion": "v1", "kind": "Secret" if secret else "ConfigMap",
           "metadata": ctx.meta(name, owner)}
    if secret:
        obj["type"] = "Opaque"
        obj["data"] = binary
    else:
        if text:
            obj["data"] = text
        if binary:
            obj["binaryData"] = binary
    ctx.add(obj, origin)
    source: dict = {"secretName" if secret else "name": name}
    if any(it["key"] != it["path"] or "mode" in it for it in items):
        source["items"] = items
    return pod.get(("bind", key), volume, {"secret" if secret else "configMap": source})

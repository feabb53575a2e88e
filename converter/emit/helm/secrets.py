"""Secrets in the chart: their values never in it; the user gives them at install, or a Secret.

For each Secret `c2k convert` writes (a compose secret from a file, `content` or `environment`;
a service's secret-looking environment, which the chart always moves into a Secret, as
`--secret-env` does), values.yaml has
    secrets.<key>.existingSecret: ""     name of a Secret in the namespace with the same keys
and the template reads each key from `secrets.<key>.data.<data key>`, which only the user
sets: `--set-file secrets.dbPassword.data.db_password=./secrets/db_password.txt` (or a values
file kept out of git). Without either, `helm install` stops with a `required` message naming
the value, the compose secret and the command that sets it. With existingSecret the chart makes
no Secret and every reference names the existing one.
"""

from __future__ import annotations

import os

from ...kube import names
from .tokens import Tokens
from .values import values_expr


def origins(project, kube_names: dict) -> dict[str, tuple[str, str | None]]:
    """Secret object name -> (what it holds, the file that held it or None)."""
    out: dict[str, tuple[str, str | None]] = {}
    root = os.path.abspath(project.working_dir)
    for secret in project.secrets.values():
        if secret.external:
            continue
        oname = names.dns_label(secret.name, prefix="secret")
        path = None
        if secret.file is not None:
            path = os.path.relpath(secret.file, root)
            if path.startswith(".."):
                path = None               # outside the project: no path in generated files
            else:
                path = "./" + path.replace(os.sep, "/")
        what = f"the compose secret {secret.name}"
        if secret.environment is not None:
            what += f" (variable {secret.environment})"
        out[oname] = (what, path)
    for service, kname in kube_names.items():
        out.setdefault(names.join(kname, "env"),
                       (f"the secret-looking environment of service {service}", None))
    return out


def set_path(*parts: str) -> str:
    """A values path as `--set` spells it (dots inside a key escaped)."""
    return ".".join(p.replace(".", "\\.") for p in parts)


class SecretTemplates:
    def __init__(self, project, kube_names: dict, tokens: Tokens):
        self.origins = origins(project, kube_names)
        self.tokens = tokens
        self.keys: dict[str, str] = {}           # Secret name -> values key
        self.values: dict[str, dict] = {}
        self.data_keys: dict[str, list[str]] = {}

    def add(self, name: str, key: str, data_keys: list[str]) -> None:
        self.keys[name] = key
        self.values[key] = {"existingSecret": ""}
        self.data_keys[key] = data_keys

    def base(self, name: str) -> str:
        return values_expr(["", "secrets", self.keys[name]])

    def existing(self, name: str) -> str:
        return f"{self.base(name)}.existingSecret"

    def name_expr(self, name: str, own_expr: str) -> str:
        """The name of the Secret the pods read: the existing one, else the chart's."""
        return f"default ({own_expr}) {self.existing(name)}"

    def condition(self, name: str) -> str:
        return f"not {self.existing(name)}"

    def data(self, name: str, data: dict) -> dict:
        """The Secret's data: each key `required` from the values, base64-encoded."""
        key = self.keys[name]
        what, path = self.origins.get(name, (f"the Secret {name}", None))
        out = {}
        for data_key in data:
            flag = set_path("secrets", key, "data", data_key)
            how = f"--set-file {flag}={path}" if path and len(data) == 1 else \
                f"--set {flag}=... (or --set-file)"
            message = (f"{flag} is required: {what}; set it ({how}) or name an existing "
                       f"Secret with the key {data_key} in secrets.{key}.existingSecret")
            expr = (f"required {_go_string(message)} (dig \"data\" {_go_string(data_key)} \"\" "
                    f"{self.base(name)}) | b64enc")
            out[data_key] = self.tokens.quoted(expr)
        return out

    def help(self) -> list[tuple[str, str, list[str]]]:
        """(values key, what it holds, the flags that set it) per Secret, for the README."""
        out = []
        for name, key in self.keys.items():
            what, path = self.origins.get(name, (f"the Secret {name}", None))
            data_keys = self.data_keys[key]
            flags = [f"--set-file {set_path('secrets', key, 'data', k)}={path}"
                     if path and len(data_keys) == 1 else
                     f"--set {set_path('secrets', key, 'data', k)}=..." for k in data_keys]
            out.append((key, what, flags))
        return out


def _go_string(text: str) -> str:
    """A Go template string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

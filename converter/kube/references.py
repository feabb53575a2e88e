"""Where a service names another: `host:port` and `scheme://host:port` in its configuration.

Read from the service's environment (env_file included), command and entrypoint, and the files
it mounts: bind mounts inside the project folder (through the conversion's bounded reader),
configs and secrets. A reference counts when its host is a name the compose network resolves: a
service, a network or link alias, or a container_name (case-insensitive, as DNS). Only explicit
ports count: `http://relay/` may name an nginx upstream as well as a host.

References decide three things: a service others name is a server (workloads.py), a named port
its Service does not list is forwarded too (services.py), and the wiring check (wiring.py).
A reference found in a secret-bearing variable or a secret keeps no text, only where it was.
"""

from __future__ import annotations

import os

from ..lazyre import lazy
from ..records import record
from ..secretnames import holds_secret

# After `scheme://`: [userinfo@]host[:port]. Before it, the scheme (`jdbc:postgresql://`: the
# scheme is `postgresql`).
_AUTHORITY = lazy(r"(?:[^\s/?#@'\"]*@)?([A-Za-z0-9_][A-Za-z0-9_.-]*)(?::(\d{1,5}))?(?!\d)")
# `:port` that ends a host:port: not `redis:7.2`, not `user:1234@`, not `a:1:2`.
_PORT = lazy(r":(\d{1,5})(?![\w.:@-])")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


@record
class Reference:
    service: str        # the compose service whose configuration names the host
    where: str          # compose key it was found in: environment.DB_URL, command, volumes[0]...
    file: str           # the file inside a mounted folder or file ("" outside files)
    host: str           # as written
    port: int
    target: str         # the compose service the host names
    via: str            # how the name resolves in compose: service, alias, container_name
    secret: bool        # found in a secret-bearing value: its text is never shown
    text: str           # `host:port` or `scheme://host:port`; "" when secret

    @property
    def shown(self) -> str:
        """The reference as messages quote it (never a secret's text)."""
        return self.text or f"{self.target} on port {self.port}"

    @property
    def place(self) -> str:
        return f"{self.where} ({self.file})" if self.file else self.where


def network_names(project) -> dict[str, tuple[str, str]]:
    """Every name the compose network resolves (lowercase) -> (service, how)."""
    out: dict[str, tuple[str, str]] = {}
    for svc in project.services.values():
        out.setdefault(svc.name.lower(), (svc.name, "service"))
    for svc in project.services.values():
        for attachment in svc.networks.values():
            for alias in (attachment.aliases if attachment else ()):
                out.setdefault(alias.lower(), (svc.name, "alias"))
        for link in svc.links:
            target, _, alias = link.partition(":")
            if alias and target in project.services:
                out.setdefault(alias.lower(), (target, "alias"))
        if svc.container_name:
            out.setdefault(svc.container_name.lower(), (svc.name, "container_name"))
    return out


def scan(text: str):
    """(host, port, text) for every `scheme://host:port` and `host:port` in text.

    Hand-rolled around `://` and `:<digits>` rather than one regex tried at every position:
    mounted config files make this the conversion's largest text to read."""
    if ":" not in text:
        return
    taken: list[tuple[int, int]] = []
    at = text.find("://")
    while at != -1:
        start = _run_before(text, at, _SCHEME_CHARS)
        scheme = text[start:at]
        found = _AUTHORITY.match(text, at + 3)
        if scheme and scheme[0].isascii() and scheme[0].isalpha() and found and not (
                start and (text[start - 1].isalnum() or text[start - 1] == "_")):
            taken.append((start, found.end()))
            if found.group(2):
                yield found.group(1), int(found.group(2)), \
                    f"{scheme}://{found.group(1)}:{found.group(2)}"
        at = text.find("://", at + 3)
    for found in _PORT.finditer(text):
        colon = found.start()
        start = _run_before(text, colon, _HOST_CHARS)
        host = text[start:colon]
        if not host or host[0] in ".-" or (start and text[start - 1] in ":/"):
            continue
        if not any(a <= start < b for a, b in taken):
            yield host, int(found.group(1)), f"{host}:{found.group(1)}"


def _run_before(text: str, end: int, chars: frozenset) -> int:
    """Where the run of `chars` that ends at `end` starts."""
    start = end
    while start > 0 and text[start - 1] in chars:
        start -= 1
    return start


def _texts(project, service, reader):
    """(where, file, text, secret) for every place a service's configuration can name a host."""
    for key, value in service.environment.items():
        if value is not None and ":" in str(value):
            yield f"environment.{key}", "", str(value), holds_secret(key)
    for key in ("entrypoint", "command"):
        words = getattr(service, key)
        if words:
            yield key, "", " ".join(words), False
    root = os.path.join(os.path.abspath(project.working_dir), "")
    for i, mount in enumerate(service.volumes):
        if mount.type == "bind" and mount.source and _inside(mount.source, root):
            yield from _files(f"volumes[{i}]", reader(mount.source), False)
    for scope, refs, table in (("configs", service.configs, project.configs),
                               ("secrets", service.secrets, project.secrets)):
        for i, ref in enumerate(refs):
            obj = table.get(ref.source)
            if obj is None or obj.external:
                continue
            where, secret = f"{scope}[{i}]", scope == "secrets"
            if obj.file is not None:
                if _inside(obj.file, root):
                    yield from _files(where, reader(obj.file), secret)
            elif obj.content is not None:
                yield where, "", obj.content, secret
            elif obj.environment is not None:
                yield where, "", project.environment.get(obj.environment) or "", secret


def _inside(path: str, root: str) -> bool:
    """path is in the folder root (given with its trailing separator)."""
    return os.path.join(os.path.abspath(path), "").startswith(root)


def _files(where: str, found, secret: bool):
    for rel, data in found.files or ():
        if b"\0" in data:
            continue                    # binary
        yield where, rel, data.decode("utf-8", errors="replace"), secret


def find_references(project, reader) -> list[Reference]:
    """Every reference of every service to a name of the project, in a stable order."""
    resolvable = network_names(project)
    out: list[Reference] = []
    seen: set = set()
    for svc in project.services.values():
        for where, file, text, secret in _texts(project, svc, reader):
            for host, port, shown in scan(text):
                found = resolvable.get(host.lower())
                if found is None or not 0 < port < 65536:
                    continue
                key = (svc.name, where, file, host.lower(), port)
                if key in seen:
                    continue
                seen.add(key)
                out.append(Reference(svc.name, where, file, host, port, found[0], found[1],
                                     secret, "" if secret else shown))
    return out

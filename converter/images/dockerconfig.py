"""The docker CLI's configuration, read without docker-py where it is plain: which engine the CLI
would use, and the registry credentials kept in the config file itself.

`c2k build` reaches an engine on a Unix socket with ``socketclient`` instead of docker-py;
that needs both answers before docker-py is loaded. Whatever is not plain here (a tcp or ssh
address, a context with TLS material or unreadable, a credential store or helper, a legacy or
unreadable config) is answered by None, and docker-py decides, as for every other engine.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

DEFAULT_SOCKET = "/var/run/docker.sock"
HELPER_PREFIX = "docker-credential-"         # a credential store or helper is this program
INDEX_NAME = "docker.io"                     # Docker Hub, as registries are named in the config
INDEX_URL = "https://index.docker.io/v1/"    # ... and as the engine looks its credentials up
LEGACY_NAME = ".dockercfg"


def config_file() -> str | None:
    """The config file the docker CLI reads: $DOCKER_CONFIG/config.json, else
    ~/.docker/config.json, else the legacy ~/.dockercfg; None when there is none."""
    home = os.path.expanduser("~")
    candidates = [os.path.join(home, ".docker", "config.json"), os.path.join(home, LEGACY_NAME)]
    if os.environ.get("DOCKER_CONFIG"):
        candidates.insert(0, os.path.join(os.environ["DOCKER_CONFIG"], "config.json"))
    return next((path for path in candidates if os.path.exists(path)), None)


def plain_config() -> dict | None:
    """The config file's JSON object ({} without a file); None for a legacy or unreadable file,
    which docker-py reads (or reports)."""
    path = config_file()
    if path is None:
        return {}
    if os.path.basename(path) == LEGACY_NAME:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def local_socket(config: dict) -> tuple[str, str | None] | None:
    """(path of the engine's Unix socket, Docker context name or None) when the docker CLI's
    choice leads to a Unix socket: DOCKER_HOST=unix:///path; else the context that
    DOCKER_CONTEXT or the config's currentContext names, when its engine is a unix:///
    address without TLS material (Docker Desktop's, Colima's, Rancher Desktop's, Podman's);
    else the "default" context, the local socket. None for anything else."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        return (host[len("unix://"):], None) if host.startswith("unix:///") else None
    name = os.environ.get("DOCKER_CONTEXT") or config.get("currentContext")
    if name in (None, "", "default"):
        return DEFAULT_SOCKET, None
    host = _context_host(name)
    return (host[len("unix://"):], name) if host and host.startswith("unix:///") else None


def _context_host(name: str) -> str | None:
    """The docker endpoint's address in a context made by `docker context create`
    (contexts/meta/<sha256 of the name>/meta.json in the config directory); None when the
    context is missing or unreadable, or has TLS material: docker-py reads or reports it."""
    import hashlib          # here: its OpenSSL start-up is ~3 ms, and only contexts need it
    directory = os.path.join(os.environ.get("DOCKER_CONFIG") or
                             os.path.join(os.path.expanduser("~"), ".docker"), "contexts")
    key = hashlib.sha256(name.encode()).hexdigest()
    if os.path.exists(os.path.join(directory, "tls", key)):
        return None
    try:
        with open(os.path.join(directory, "meta", key, "meta.json"), encoding="utf-8") as meta:
            host = json.load(meta)["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return host if isinstance(host, str) else None


def file_credentials(config: dict) -> dict | None:
    """Every registry's credentials for a build's X-Registry-Config header, as docker-py's
    AuthConfig.get_all_credentials gives them, when the config file holds them all; None when a
    credential store or helper holds some, or an entry is malformed (docker-py asks the helpers,
    or reports the entry)."""
    if config.get("credsStore") or config.get("credHelpers"):
        return None
    auths = config.get("auths")
    if not auths:
        # docker-py reads a config without "auths" as a legacy file of registry entries.
        legacy = any(isinstance(value, dict) and ("auth" in value or "identitytoken" in value)
                     for value in config.values())
        return None if legacy else {}
    if not isinstance(auths, dict):
        return None
    found: dict = {}
    for registry, entry in auths.items():
        if not isinstance(entry, dict):
            return None
        if "identitytoken" in entry:
            found[registry] = {"IdentityToken": entry["identitytoken"]}
        elif "auth" not in entry:
            found[registry] = {}           # credentials kept elsewhere (engine >= 1.11)
        else:
            try:
                user, password = base64.b64decode(entry["auth"]).split(b":", 1)
                found[registry] = {"username": user.decode(), "password": password.decode(),
                                   "email": entry.get("email"), "serveraddress": registry}
            except (TypeError, ValueError, binascii.Error):
                return None
    return found


def proxy_build_args(config: dict | None, host: str) -> dict:
    """The build arguments the docker CLI and docker compose add from the config's proxies:
    those of the engine's address (``host``), else the "default" ones; HTTP_PROXY,
    HTTPS_PROXY, FTP_PROXY and NO_PROXY, each in both cases. A build's own arguments win."""
    proxies = (config or {}).get("proxies")
    if not isinstance(proxies, dict):
        return {}
    chosen = proxies.get(host) if host in proxies else proxies.get("default")
    if not isinstance(chosen, dict):
        return {}
    args = {}
    for key, name in (("httpProxy", "HTTP_PROXY"), ("httpsProxy", "HTTPS_PROXY"),
                      ("ftpProxy", "FTP_PROXY"), ("noProxy", "NO_PROXY")):
        if chosen.get(key):
            args[name] = args[name.lower()] = str(chosen[key])
    return args


def encode_credentials(found: dict) -> bytes:
    """The X-Registry-Config header's value: URL-safe base64 of the JSON, as docker-py sends it."""
    return base64.urlsafe_b64encode(json.dumps(found).encode("ascii"))

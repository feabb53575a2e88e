"""The docker CLI's configuration, read in this one place for both ways to the engine: the config
file, and which engine the CLI would use. docker-py is handed what is read here (an address, TLS
files, the credentials kept in the file) and reads none of it itself.

- The config file: ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``, else the
  legacy ``~/.dockercfg`` (docker-py's order of search).
- The engine, as the docker CLI chooses it: ``DOCKER_HOST`` (with ``DOCKER_TLS_VERIFY`` and
  ``DOCKER_CERT_PATH``); else the context that ``DOCKER_CONTEXT`` or the config's
  ``currentContext`` names (``docker context use``: how Docker Desktop, Colima, Rancher Desktop
  and Podman point the CLI at their engines), as ``docker context create`` stores it under
  ``contexts/`` in the config directory; the "default" context is the local socket.
"""

from __future__ import annotations

import json
import os

from ..errors import ImageError
from ..records import field, record

DEFAULT_SOCKET = "/var/run/docker.sock"
LEGACY_NAME = ".dockercfg"
INDEX_URL = "https://index.docker.io/v1/"    # Docker Hub, as the engine looks its credentials up


@record
class DockerConfig:
    path: str | None         # the file read; None when there is none
    # its JSON object; {} without a file, or one that cannot be read. Not in the repr: it holds
    # credentials.
    data: dict = field(repr=False)


@record
class Tls:
    """The TLS files of an engine address, and whether to verify the engine against ``ca``
    (docker-py's TLSConfig arguments, as docker-py itself would give them)."""
    ca: str
    cert: str
    key: str
    verify: bool | None


@record
class Address:
    url: str                          # unix:///path, tcp://host:port, ssh://user@host, ...
    context: str | None = None        # the Docker context that named it
    tls: Tls | None = None

    @property
    def socket(self) -> str | None:
        """The path of the engine's Unix socket, when it is one without TLS material (as
        Docker Desktop's, Colima's, Rancher Desktop's and Podman's are)."""
        if self.tls is None and self.url.startswith("unix:///"):
            return self.url[len("unix://"):]
        return None


def config_dir() -> str:
    """Where the docker CLI keeps its configuration and its contexts."""
    return os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def config_file() -> str | None:
    """The config file (docker-py's search, which falls back to the home directory's when
    $DOCKER_CONFIG has none); None when there is none."""
    home = os.path.expanduser("~")
    candidates = [os.path.join(home, ".docker", "config.json"), os.path.join(home, LEGACY_NAME)]
    if os.environ.get("DOCKER_CONFIG"):
        candidates.insert(0, os.path.join(os.environ["DOCKER_CONFIG"], "config.json"))
    return next((path for path in candidates if os.path.exists(path)), None)


def read_config() -> DockerConfig:
    """The config file and its JSON object. A file that is not one reads as empty, as docker-py
    reads it, except the oldest ``~/.dockercfg`` (``auth = ...`` and ``email = ...`` lines: Docker
    Hub's credentials), which reads as the docker CLI reads it."""
    path = config_file()
    if path is None:
        return DockerConfig(None, {})
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return DockerConfig(path, {})
    try:
        data = json.loads(text)
    except ValueError:
        data = _oldest_dockercfg(text) if os.path.basename(path) == LEGACY_NAME else {}
    return DockerConfig(path, data if isinstance(data, dict) else {})


def _oldest_dockercfg(text: str) -> dict:
    values = [line.split(" = ", 1)[1].strip() for line in text.splitlines() if " = " in line]
    if len(values) < 2:
        return {}
    return {"auths": {INDEX_URL: {"auth": values[0], "email": values[1]}}}


# ---- the engine -------------------------------------------------------------------------------

def engine_address(config: DockerConfig) -> Address:
    """The engine the docker CLI would use. Raises ImageError for a context that does not exist
    or cannot be read."""
    host = os.environ.get("DOCKER_HOST")
    if host:      # the TLS variables are for tcp://; a Unix socket is local
        return Address(host, None, None if host.startswith("unix://") else _env_tls())
    name = os.environ.get("DOCKER_CONTEXT") or config.data.get("currentContext")
    if not name or name == "default":
        return Address("unix://" + DEFAULT_SOCKET)
    return _context_address(str(name), config)


def _env_tls() -> Tls | None:
    """DOCKER_CERT_PATH's files (default ~/.docker) when it or DOCKER_TLS_VERIFY is set;
    verified when DOCKER_TLS_VERIFY is set and not empty."""
    cert_path = os.environ.get("DOCKER_CERT_PATH") or None
    verify = os.environ.get("DOCKER_TLS_VERIFY") not in (None, "")
    if not (cert_path or verify):
        return None
    cert_path = cert_path or os.path.join(os.path.expanduser("~"), ".docker")
    return Tls(os.path.join(cert_path, "ca.pem"), os.path.join(cert_path, "cert.pem"),
               os.path.join(cert_path, "key.pem"), verify)


def _context_address(name: str, config: DockerConfig) -> Address:
    """The docker endpoint of a context: ``contexts/meta/<sha256 of the name>/meta.json``, and
    its TLS material in ``contexts/tls/<same>/docker/``."""
    import hashlib          # here: its OpenSSL start-up is ~3 ms, and only contexts need it
    contexts = os.path.join(config_dir(), "contexts")
    key = hashlib.sha256(name.encode()).hexdigest()
    meta_file = os.path.join(contexts, "meta", key, "meta.json")
    if not os.path.isfile(meta_file):
        where = "DOCKER_CONTEXT" if os.environ.get("DOCKER_CONTEXT") else \
            f"currentContext in {config.path}"
        raise ImageError(f"the Docker context {name!r} ({where}) does not exist",
                         hint="list them with `docker context ls`; `docker context use "
                              "default` goes back to the local engine")
    try:
        with open(meta_file, encoding="utf-8") as handle:
            endpoint = json.load(handle)["Endpoints"].get("docker") or {}
        host = endpoint.get("Host") or "unix://" + DEFAULT_SOCKET
        skip_verify = bool(endpoint.get("SkipTLSVerify", True))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ImageError(f"cannot read the Docker context {name!r} ({meta_file}): "
                         f"{type(exc).__name__}: {exc}",
                         hint=f"recreate it with `docker context create {name} ...`") from None
    if not isinstance(host, str):
        raise ImageError(f"cannot read the Docker context {name!r} ({meta_file}): its docker "
                         "endpoint's Host is not a string")
    return Address(host, name, _context_tls(os.path.join(contexts, "tls", key, "docker"),
                                            skip_verify))


def _context_tls(folder: str, skip_verify: bool) -> Tls | None:
    """The context's ca*, cert* and key* files, when it has all three (as docker-py reads them:
    verified against the CA unless SkipTLSVerify, else docker-py's default, None)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    files = [next((os.path.join(folder, n) for n in names if n.startswith(prefix)), None)
             for prefix in ("ca", "cert", "key")]
    if not all(files):
        return None
    ca, cert, key = files
    return Tls(ca, cert, key, None if skip_verify else True)


# ---- what a build takes from the config -------------------------------------------------------

def proxy_build_args(config: DockerConfig, host: str) -> dict:
    """The build arguments the docker CLI and docker compose add from the config's proxies:
    those of the engine's address (``host``), else the "default" ones; HTTP_PROXY,
    HTTPS_PROXY, FTP_PROXY and NO_PROXY, each in both cases. A build's own arguments win."""
    proxies = config.data.get("proxies")
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

"""The Docker engine as build, push and listing reach it.

``Engine`` finds the engine the docker CLI would use (``dockerconfig``), asks its API version and
builder, and opens sessions of the interface in ``api``: through docker-py (``dockerpy``) for
every engine and call, and for builds on a local Unix socket through ``socketclient``, which
does not load docker-py. ``engine_error`` words every failure to reach the engine.
"""

from __future__ import annotations

import os
import re

from ..errors import ImageError
from .api import FAILURES, BuildSession, Session
from .credentials import Credentials
from .dockerconfig import engine_address, read_config
from .dockerpy import DockerPy
from .socketclient import BROKE_OFF, SocketClient

BUILDERS = ("auto", "buildkit", "classic")


class Engine:
    """The engine the docker CLI would use, and what c2k knows of it: its address (``url``,
    the Docker ``context`` that named it), API ``version``, builder, and the Docker config's
    credentials (``credentials``) and proxies (``config``)."""

    def __init__(self, *, timeout: float | None = None):
        self.timeout = timeout
        self.config = read_config()
        self.address = engine_address(self.config)
        self.url, self.context = self.address.url, self.address.context
        self.credentials = Credentials(self.config)
        self._docker_py: DockerPy | None = None
        self.buildkit: bool | None = None      # False once the engine refused a BuildKit build
        self.version, self.builder_version = self._negotiate()

    def session(self) -> Session:
        """A docker-py session: for pushes and listing."""
        return self._docker().session(self.version, self.timeout)

    def build_session(self) -> BuildSession:
        """A session for a build: on a local Unix socket, without docker-py."""
        return self._build_session(self.version, self.timeout)

    def _build_session(self, version: str | None, timeout: float | None) -> BuildSession:
        if self.address.socket:
            return SocketClient(self.address.socket, version, timeout)
        return self._docker().session(version, timeout)

    def _docker(self) -> DockerPy:
        if self._docker_py is None:
            self._docker_py = DockerPy(self.address)
        return self._docker_py

    def _negotiate(self) -> tuple[str, str | None]:
        """(API version, the ping's Builder-Version or None), from the headers of ``GET
        /_ping`` as the docker CLI reads them: the engine answers a ping at once, where
        ``/version`` (docker-py's version="auto") first asks containerd and runc for theirs
        (~6 ms of every start). Asked the way a build asks: a build on the local socket then
        never loads docker-py."""
        try:
            probe = self._build_session(None, 15)
            try:
                version, builder = probe.ping()
                return version or probe.api_version(), builder
            finally:
                probe.close()
        except (*FAILURES, ValueError) as exc:     # ValueError: a /version not JSON
            raise engine_error(exc, self) from None

    def use_buildkit(self, builder: str = "auto") -> bool:
        """BuildKit unless asked for the classic builder (``builder="classic"`` or
        DOCKER_BUILDKIT=0, as the docker CLI), or the engine says its builder is another
        (the ping's Builder-Version: "1" when dockerd has BuildKit turned off, empty from
        Podman, whose Docker API builds with Buildah and answers a BuildKit request with the
        classic builder's output), or the engine is too old (API < 1.39). dockerd before 23
        sends no Builder-Version; its BuildKit is there from API 1.39."""
        if builder not in BUILDERS:
            raise ImageError(f"unknown builder {builder!r} (expected one of "
                             f"{', '.join(BUILDERS)})")
        if builder != "auto":
            return builder == "buildkit"
        if self.buildkit is False:
            return False
        if os.environ.get("DOCKER_BUILDKIT", "").strip().lower() in ("0", "false", "no"):
            return False
        if self.builder_version is not None and self.builder_version.strip() != "2":
            return False
        major, _, minor = str(self.version).partition(".")
        try:
            return (int(major), int(minor)) >= (1, 39)
        except ValueError:
            return False

    def auth_for(self, registry_host: str | None) -> dict | None:
        return self.credentials.for_registry(registry_host)

    def build_auth_headers(self, warn) -> dict:
        return self.credentials.build_headers(warn)


def connect() -> Engine:
    return Engine()


def engine_error(exc, engine) -> ImageError:
    url = engine.url + (f" (Docker context {engine.context!r})" if engine.context else "")
    text = str(exc)
    if text == BROKE_OFF:
        return ImageError(f"the Docker engine at {url} stopped answering: {BROKE_OFF}",
                          hint="see the engine's log (`journalctl -u docker`, or dockerd's "
                               "output): it may have restarted or run out of memory")
    if "FileNotFoundError" in text or "No such file" in text:
        why = "the socket does not exist"
    elif "Connection refused" in text or "ConnectionRefused" in text:
        why = "connection refused"
    elif "PermissionError" in text or "Permission denied" in text:
        return ImageError(f"cannot connect to the Docker engine at {url}: permission denied",
                          hint="run as root or add your user to the 'docker' group")
    elif "SSLError" in text or "[SSL" in text:
        match = re.search(r"\[SSL: (\w+)\] (.+?) \(_ssl", text)
        code, reason = match.groups() if match else ("", "the handshake failed")
        if not match and "EOF occurred in violation of protocol" in text:
            # TLS 1.3: the engine checks the client's certificate after the handshake, and
            # its alert can be lost to the closing connection.
            why = ("the engine closed the TLS connection (it may not accept this client's "
                   "certificate)")
        elif code == "CERTIFICATE_VERIFY_FAILED":
            why = f"the engine's certificate does not verify against the CA in use ({reason})"
        elif code in ("TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE",
                      "TLSV13_ALERT_CERTIFICATE_REQUIRED"):
            why = f"the engine refused this client's certificate ({reason})"
        else:
            why = f"TLS failed ({reason})"
        where = "the context's TLS material" if engine.context else \
            "DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem)"
        return ImageError(f"cannot connect to the Docker engine at {url}: {why}",
                          hint=f"check {where}: the engine's CA and a client certificate it "
                               "trusts")
    elif engine.url.startswith("ssh://"):
        # ssh wrote its own reason to stderr; docker-py only saw the connection close.
        return ImageError(
            f"cannot connect to the Docker engine at {url}: the ssh connection closed "
            "(ssh's own message, if any, is above)",
            hint="check that `ssh HOST docker system dial-stdio` works from here: the host "
                 "needs the docker CLI and access to its engine")
    else:
        why = text
    elsewhere = "`docker context use` another context" if engine.context else \
        "point DOCKER_HOST at a running one"
    return ImageError(
        f"cannot connect to the Docker engine at {url}: {why}",
        hint="is the engine running? start it (`sudo dockerd &` or `sudo systemctl start "
             f"docker`), or {elsewhere}")

"""Registry credentials from the Docker config (``dockerconfig.read_config``): what a push sends
for its registry and what every build sends for all of them, resolved once per run.

The credentials kept in the file itself are read here, as docker-py and the docker CLI read
them; a credential store or helper is a program (``docker-credential-<name>``) that docker-py's
auth module runs (``dockerpy.Keychain``), once per question, so the answers are kept: left to
docker-py, every build runs the store again (``list``, then a ``get`` per registry), and every
push asks again for its registry. A build whose config has neither never loads docker-py.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading

from ..errors import ImageError
from .dockerconfig import INDEX_URL, DockerConfig
from .dockerpy import HelperFailed, Keychain

HELPER_PREFIX = "docker-credential-"         # a credential store or helper is this program
INDEX_NAME = "docker.io"                     # Docker Hub, as registries are named in the config


class Credentials:
    """The Docker config's credentials, shared by the threads that build and push."""

    def __init__(self, config: DockerConfig):
        self.config = config
        self._file: dict | None = None           # the credentials kept in the file, by registry
        self._registries: dict = {}              # registry -> its credentials, or None
        self._build_headers: dict | None = None
        self._lock = threading.Lock()

    def for_registry(self, registry_host: str | None) -> dict | None:
        """Credentials for one registry (None: Docker Hub) from its helper, the store, or the
        file itself; None when there are none. A helper that is missing or fails is an error:
        a push without the credentials it was configured with would fail anyway, later and
        less clearly."""
        registry = registry_host or INDEX_NAME
        with self._lock:
            if registry not in self._registries:
                store, helpers = self._helpers()
                keychain = Keychain(self._in_file(), store, helpers)
                helper = keychain.helper_for(registry)
                if helper and not self._installed(helper):
                    raise ImageError(
                        f"the Docker config ({self._where()}) names the credential helper "
                        f"{self._program(helper)} for {registry}, and it is not installed",
                        hint="install it, or remove it from credsStore/credHelpers")
                try:
                    found = keychain.get(registry)
                except HelperFailed as exc:
                    raise ImageError(f"the credential helper for {registry} failed: {exc}",
                                     hint="check credsStore/credHelpers in the Docker config") \
                        from None
                self._registries[registry] = found
            return self._registries[registry]

    def build_headers(self, warn) -> dict:
        """The X-Registry-Config header of every build: all the credentials, as docker-py's
        APIClient.build sends them (a build may pull from any registry). A helper that is
        missing or fails is a warning (through ``warn``), not an error: most builds pull
        nothing private (docker compose asks a helper only when BuildKit needs its registry),
        and the credentials kept in the file itself still go."""
        with self._lock:
            if self._build_headers is None:
                store, helpers = self._helpers()
                found = self._with_helpers(store, helpers, warn) if store or helpers \
                    else dict(self._in_file())
                # As docker-py: Docker Hub's credentials under its index URL too
                # (docker-py#1683).
                if INDEX_URL not in found and INDEX_NAME in found:
                    found[INDEX_URL] = found[INDEX_NAME]
                self._build_headers = \
                    {"X-Registry-Config": encode_credentials(found)} if found else {}
            return self._build_headers

    def _with_helpers(self, store, helpers, warn) -> dict:
        """build_headers' credentials: the file's, with those of the store and helpers that
        are installed."""
        if store and not self._installed(store):
            warn(self._not_installed("store", store))
            store = None
        usable = {registry: name for registry, name in helpers.items() if self._installed(name)}
        for name in sorted(set(helpers.values()) - set(usable.values())):
            warn(self._not_installed("helper", name))
        try:
            return Keychain(self._in_file(), store, usable).all()
        except HelperFailed as exc:
            warn(f"a credential helper of the Docker config ({self._where()}) failed: "
                 f"{str(exc).splitlines()[0][:300]}; builds get only the credentials "
                 "kept in the file itself")
            return dict(self._in_file())

    def _in_file(self) -> dict:
        if self._file is None:
            try:
                self._file = file_credentials(self.config.data)
            except ValueError as exc:
                raise ImageError(f"cannot read the Docker config ({self._where()}): {exc}",
                                 hint="fix it, or log in again: docker login") from None
        return self._file

    def _helpers(self) -> tuple[str | None, dict]:
        """(credsStore, credHelpers) of the config."""
        store, helpers = self.config.data.get("credsStore"), self.config.data.get("credHelpers")
        if not isinstance(helpers or {}, dict):
            raise ImageError(f"cannot read the Docker config ({self._where()}): credHelpers "
                             "is not an object of registry: helper")
        return store or None, helpers or {}

    def _program(self, helper: str) -> str:
        return HELPER_PREFIX + helper

    def _installed(self, helper: str) -> bool:
        """Asked before docker-py, which would print a Python warning, then fail unclearly."""
        return shutil.which(self._program(helper)) is not None

    def _not_installed(self, kind: str, helper: str) -> str:
        return (f"the Docker config ({self._where()}) names the credential {kind} "
                f"{self._program(helper)}, which is not installed: builds get none of its "
                "credentials")

    def _where(self) -> str:
        return self.config.path or "no config file"


def file_credentials(data: dict) -> dict:
    """The credentials kept in the config file itself, by registry, as docker-py's AuthConfig
    reads them: the ``auths`` entries (an ``identitytoken``, else ``auth``, base64 of
    user:password; an empty entry's are kept by a helper), or, in a legacy file without
    ``auths``, credsStore or credHelpers, the top level's. Raises ValueError for an entry
    that cannot be read."""
    auths = data.get("auths")
    if auths:
        if not isinstance(auths, dict):
            raise ValueError("'auths' is not an object of registry: credentials")
        return _entries(auths, strict=True)
    if data.get("credsStore") or data.get("credHelpers"):
        return {}
    return _entries(data, strict=False)


def _entries(entries: dict, *, strict: bool) -> dict:
    """Registry entries; outside ``auths`` (not strict) a value that is not one means the file
    holds none, as docker-py reads it."""
    found: dict = {}
    for registry, entry in entries.items():
        if not isinstance(entry, dict):
            if strict:
                raise ValueError(f"the entry for {registry} is not an object")
            return {}
        if "identitytoken" in entry:
            found[registry] = {"IdentityToken": entry["identitytoken"]}
        elif "auth" not in entry:
            found[registry] = {}           # credentials kept elsewhere (engine >= 1.11)
        else:
            try:
                user, password = base64.b64decode(entry["auth"]).split(b":", 1)
                found[registry] = {"username": user.decode(), "password": password.decode(),
                                   "email": entry.get("email"), "serveraddress": registry}
            except (TypeError, ValueError):
                raise ValueError(f"the 'auth' of {registry} is not base64 of "
                                 "user:password") from None
    return found


def encode_credentials(found: dict) -> bytes:
    """The X-Registry-Config header's value: URL-safe base64 of the JSON, as docker-py sends it."""
    return base64.urlsafe_b64encode(json.dumps(found).encode("ascii"))

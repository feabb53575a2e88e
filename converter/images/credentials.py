"""Registry credentials from the Docker config (``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``): what a push sends for its registry and what every build sends for
all of them, resolved once per run: with docker-py's auth module, except a build's when the
config file holds them all (``dockerconfig.file_credentials``: no docker-py to load for it).

A credential store or helper is a program (``docker-credential-<name>``) run once per question,
so the answers are kept: left to docker-py, every build runs the store again (``list``, then a
``get`` per registry), and every push asks again for its registry.
"""

from __future__ import annotations

import shutil
import threading

from ..errors import ImageError
from .dockerconfig import HELPER_PREFIX, INDEX_NAME, INDEX_URL, config_file, \
    encode_credentials, file_credentials


class Credentials:
    """The Docker config's credentials, shared by the threads that build and push."""

    def __init__(self, engine):
        self.engine = engine                     # its docker-py, imported when needed
        self._config = None                      # docker.auth.AuthConfig, read once
        self._registries: dict = {}              # registry -> its credentials, or None
        self._build_headers: dict | None = None
        self._lock = threading.Lock()

    def for_registry(self, registry_host: str | None) -> dict | None:
        """Credentials for one registry (None: Docker Hub) from its helper, the store, or the
        file itself; None when there are none. A helper that is missing or fails is an error:
        a push without the credentials it was configured with would fail anyway, later and
        less clearly."""
        docker = self.engine.docker
        registry = registry_host or docker.auth.INDEX_NAME
        with self._lock:
            if registry not in self._registries:
                config = self._load()
                helper = config.get_credential_store(registry)
                if helper and not self._installed(helper):
                    raise ImageError(
                        f"the Docker config ({self._where()}) names the credential helper "
                        f"{self._program(helper)} for {registry}, and it is not installed",
                        hint="install it, or remove it from credsStore/credHelpers")
                try:
                    found = docker.auth.resolve_authconfig(config, registry)
                except docker.errors.DockerException as exc:
                    raise ImageError(f"the credential helper for {registry} failed: {exc}",
                                     hint="check credsStore/credHelpers in the Docker config") \
                        from None
                self._registries[registry] = dict(found) if found else None
            return self._registries[registry]

    def build_headers(self, warn) -> dict:
        """The X-Registry-Config header of every build: all the credentials, as docker-py's
        APIClient.build sends them (a build may pull from any registry). A helper that is
        missing or fails is a warning (through ``warn``), not an error: most builds pull
        nothing private (docker compose asks a helper only when BuildKit needs its registry),
        and the credentials kept in the file itself still go."""
        with self._lock:
            if self._build_headers is None:
                plain = self.engine.config
                found = file_credentials(plain) if plain is not None else None
                if found is None:
                    found = self._all_credentials(warn)
                # As docker-py: Docker Hub's credentials under its index URL too
                # (docker-py#1683).
                if INDEX_URL not in found and INDEX_NAME in found:
                    found[INDEX_URL] = found[INDEX_NAME]
                self._build_headers = \
                    {"X-Registry-Config": encode_credentials(found)} if found else {}
            return self._build_headers

    def _all_credentials(self, warn) -> dict:
        """build_headers' credentials from docker-py, with those of the store and helpers."""
        docker = self.engine.docker
        config = self._load()
        usable = dict(config)
        if config.creds_store and not self._installed(config.creds_store):
            warn(self._not_installed("store", config.creds_store))
            del usable["credsStore"]
        helpers = {registry: name for registry, name in config.cred_helpers.items()
                   if self._installed(name)}
        for name in sorted(set(config.cred_helpers.values()) - set(helpers.values())):
            warn(self._not_installed("helper", name))
        usable["credHelpers"] = helpers
        try:
            found = docker.auth.AuthConfig(usable).get_all_credentials()
        except (docker.errors.DockerException, docker.credentials.StoreError) as exc:
            warn(f"a credential helper of the Docker config ({self._where()}) failed: "
                 f"{str(exc).splitlines()[0][:300]}; builds get only the credentials "
                 "kept in the file itself")
            found = dict(config.auths)
        return found

    def _load(self):
        if self._config is None:
            docker = self.engine.docker
            try:
                self._config = docker.auth.load_config()
            except (docker.errors.DockerException, ValueError) as exc:
                # ValueError: an `auth` entry that is not base64 of user:password.
                raise ImageError(f"cannot read the Docker config ({self._where()}): {exc}",
                                 hint="fix it, or log in again: docker login") from None
        return self._config

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
        return config_file() or "no config file"

"""docker-py, fenced in: the one module that imports `docker` and calls into it, its private parts
included. The rest of images/ reaches the engine through the interface in ``api`` and reads the
Docker config through ``dockerconfig``; what docker-py raises leaves here as ``api.NotFound``
or ``api.ApiError`` (the engine refused a call), ``ConnectionError`` (any other docker-py
error: a bad address, TLS files that are not there) or ``HelperFailed`` (a credential helper).

- ``DockerPy``: docker-py for one engine address, and its sessions (``DockerPySession``).
- ``Keychain``: the Docker config's credential stores and helpers, which docker-py's auth
  module runs.

docker is imported on first use, so that `c2k --help` never loads it, nor a build on a local
Unix socket; and without paramiko unless the engine is ssh://.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from contextlib import contextmanager, nullcontext

from ..errors import ImageError
from .api import ApiError, NotFound
from .dockerconfig import Address


def import_docker():
    """docker-py, without paramiko unless something imported it already: docker-py imports it
    at once when it is installed (the `ssh` extra, or Ansible's or Fabric's), for its ssh
    transport alone, and that is ~0.1 s of every build, push and `images`, twice what the rest
    of docker-py costs. _load_ssh_transport adds the transport when an engine needs it."""
    held_back = "paramiko" not in sys.modules
    if held_back:
        sys.modules["paramiko"] = None     # `import paramiko` raises ImportError meanwhile
    try:
        import docker
    except ImportError:  # pragma: no cover - docker is a dependency
        raise ImageError("the 'docker' Python package is not installed",
                         hint="reinstall c2k, which brings it: pip install compose2kube") \
            from None
    finally:
        if held_back:
            del sys.modules["paramiko"]
    return docker


def _load_ssh_transport(docker) -> None:
    """docker-py's ssh transport, where import_docker held it back: the module-level name
    APIClient looks up for ssh:// addresses (docker.api.client.SSHHTTPAdapter)."""
    client_module = sys.modules["docker.api.client"]
    if not hasattr(client_module, "SSHHTTPAdapter"):
        from docker.transport.sshconn import SSHHTTPAdapter
        client_module.SSHHTTPAdapter = SSHHTTPAdapter


@contextmanager
def _translated(docker):
    """docker-py's errors as the engine interface's. requests' connection errors are OSError
    already, and pass as they are."""
    try:
        yield
    except docker.errors.APIError as exc:
        error = NotFound if isinstance(exc, docker.errors.NotFound) else ApiError
        raise error(exc.status_code, str(exc.explanation or exc)) from None
    except docker.errors.DockerException as exc:
        raise ConnectionError(str(exc)) from None


class DockerPy:
    """docker-py's clients for the engine at ``address``. ssh:// is reached with the ssh
    command, as the docker CLI reaches it (`ssh [-l USER] [-p PORT] HOST docker system
    dial-stdio`): the user's ssh config, agent and known hosts apply; docker-py's transport for
    it imports paramiko all the same."""

    def __init__(self, address: Address):
        ssh = address.url.startswith("ssh://")
        if ssh and importlib.util.find_spec("paramiko") is None:
            raise ImageError(f"the Docker engine at {address.url} is reached over ssh, and "
                             "docker-py's ssh transport needs the paramiko package",
                             hint="pip install 'compose2kube[ssh]' (c2k's ssh extra), or "
                                  "paramiko")
        self.docker = import_docker()
        if ssh:
            _load_ssh_transport(self.docker)
        self._kwargs: dict = {"base_url": address.url}
        if ssh:
            self._kwargs["use_ssh_client"] = True
        self._tls = address.tls

    def session(self, version: str | None, timeout: float | None) -> DockerPySession:
        """A session at API ``version`` (None: the lowest docker-py knows, for the ping)."""
        docker = self.docker
        with _translated(docker):
            tls = None if self._tls is None else docker.tls.TLSConfig(
                client_cert=(self._tls.cert, self._tls.key), ca_cert=self._tls.ca,
                verify=self._tls.verify)
            client = _client_class(docker)(
                version=version or docker.constants.MINIMUM_DOCKER_API_VERSION,
                timeout=timeout, tls=tls, **self._kwargs)
        return DockerPySession(docker, client)


@functools.cache
def _client_class(docker):
    """APIClient, giving the CA of its TLS files with each request: requests lets
    REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace a session's CA on every request
    (psf/requests#3829), and the engine's certificate then fails."""
    class Client(docker.APIClient):
        def request(self, method, url, *args, **kwargs):
            if isinstance(self.verify, str):
                kwargs.setdefault("verify", self.verify)
            return super().request(method, url, *args, **kwargs)
    return Client


class DockerPySession:
    """An ``api.Session`` on docker-py's low-level APIClient."""

    def __init__(self, docker, client):
        self._docker, self._client = docker, client

    def ping(self) -> tuple[str | None, str | None]:
        client = self._client
        with _translated(self._docker):
            response = client._get(client.base_url + "/_ping")
        if not response.ok:
            return None, None
        return response.headers.get("API-Version"), response.headers.get("Builder-Version")

    def api_version(self) -> str:
        with _translated(self._docker):
            version = self._client.version(api_version=False).get("ApiVersion")
        if not version:
            raise ApiError(None, "the engine's /version answer has no ApiVersion")
        return version

    def build(self, params: dict, headers: dict, archive: str | None):
        # APIClient.build cannot send BuildKit's version=2, nor a context archive made
        # elsewhere: the same POST, through its own request and stream helpers.
        client = self._client
        with _translated(self._docker), \
                (open(archive, "rb") if archive else nullcontext()) as body:
            response = client._post(client._url("/build"), data=body, params=params,
                                    headers=headers, stream=True, timeout=None)
            yield from client._stream_helper(response, decode=True)

    def inspect_image(self, ref: str) -> dict:
        with _translated(self._docker):
            return self._client.inspect_image(ref)

    def tag(self, image: str, repository: str, tag: str) -> None:
        with _translated(self._docker):
            self._client.tag(image, repository, tag, force=True)

    def push(self, name: str, tag: str, auth: dict | None):
        # Without credentials, an empty set (as the docker CLI sends it), where docker-py
        # would read the config and ask its helpers again.
        with _translated(self._docker):
            yield from self._client.push(name, tag, stream=True, decode=True,
                                         auth_config=auth or {})

    def close(self) -> None:
        self._client.close()


# ---- credential stores and helpers ------------------------------------------------------------

class HelperFailed(Exception):
    """A credential store or helper failed; its words."""


class Keychain:
    """The credentials kept in the config file (``auths``, as credentials.file_credentials reads
    them), with the credential store and helpers that hold the others, run by docker-py."""

    def __init__(self, auths: dict, store: str | None, helpers: dict):
        self._docker = import_docker()
        config = {"auths": dict(auths)}
        if store:
            config["credsStore"] = store
        if helpers:
            config["credHelpers"] = dict(helpers)
        self._config = self._docker.auth.AuthConfig(config)

    def helper_for(self, registry: str) -> str | None:
        """The store or helper that holds ``registry``'s credentials, if one does."""
        return self._config.get_credential_store(registry)

    def get(self, registry: str) -> dict | None:
        """``registry``'s credentials (its helper's, else the file's); None when there are
        none."""
        try:
            found = self._config.resolve_authconfig(registry)
        except self._docker.errors.DockerException as exc:
            raise HelperFailed(str(exc)) from None
        return dict(found) if found else None

    def all(self) -> dict:
        """Every registry's credentials, as APIClient.build sends them."""
        docker = self._docker
        try:
            return self._config.get_all_credentials()
        except (docker.errors.DockerException, docker.credentials.StoreError) as exc:
            raise HelperFailed(str(exc)) from None

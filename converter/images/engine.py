"""The Docker engine (docker-py's low-level APIClient; ``SocketClient`` for builds on the
local socket) and what builds and pushes share: the image record, the service selection
and the thread pool that stops on the first failure.

docker is imported here, lazily (Engine.docker), so that `c2k --help` never loads it, nor
`c2k build` on the local engine.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
import threading
from contextlib import contextmanager

from ..errors import ImageError
from ..progress import Reporter
from ..records import record
from .credentials import Credentials
from .dockerconfig import DEFAULT_SOCKET, local_socket, plain_config
from .socketclient import BROKE_OFF, ApiError, SocketClient

BUILDERS = ("auto", "buildkit", "classic")


def default_parallel() -> int:
    """Builds and pushes run in the engine (BuildKit schedules its own work); the client only
    streams their output, so the client's CPU count is not the limit. docker compose starts
    every build at once; measured on 2 cores, 8 services: 8 at a time matches it, 4 or 2 at a
    time are 1.3x and 1.6x slower. So: up to 8 at a time."""
    return 8


@record
class BuiltImage:
    """A service's image: repository name (with its registry), tag, local id, registry digest."""
    service: str
    name: str
    tag: str
    image_id: str | None = None
    digest: str | None = None        # set only from a push (or, for `images`, RepoDigests)
    verified: bool = False           # the registry's manifest HEAD confirmed the digest

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.tag}"

    @property
    def pinned(self) -> str:
        if not self.digest:
            raise ImageError(f"service {self.service!r}: image {self.ref} has no pushed digest")
        return f"{self.ref}@{self.digest}"


# ---- the engine -------------------------------------------------------------------------------

class Engine:
    """How to reach the Docker engine. A Unix socket, when the docker CLI's choice leads to
    one (``dockerconfig.local_socket``), is pinged and built on with ``SocketClient``;
    docker-py, imported on first use, makes every other engine's clients and all pushes."""

    def __init__(self, *, timeout: float | None = None):
        self.timeout = timeout
        self._docker = None
        config = plain_config()
        local = local_socket(config) if config is not None else None
        self.config = config          # the Docker config's JSON (None: docker-py reads it)
        self.socket = None
        if local:
            self.socket, self.context = local
            self.kwargs = {"base_url": "unix://" + self.socket}
        else:
            self.kwargs, self.context = engine_settings(self.docker)
        self.url = self.kwargs.get("base_url") or "unix://" + DEFAULT_SOCKET
        if self.url.startswith("ssh://"):
            # Reached with the ssh command, as the docker CLI reaches it (`ssh [-l USER] [-p
            # PORT] HOST docker system dial-stdio`): the user's ssh config, agent and known
            # hosts apply. docker-py's transport for it imports paramiko all the same.
            _require_paramiko(self.url)
            _load_ssh_transport(self.docker)
            self.kwargs = {**self.kwargs, "use_ssh_client": True}
        self.builder_version: str | None = None     # the ping's Builder-Version, when sent
        self.version = self._negotiate()
        self.buildkit: bool | None = None      # False once the engine refused a BuildKit build
        self.credentials = Credentials(self)

    @property
    def docker(self):
        """The docker module (docker-py), imported the first time it is needed."""
        if self._docker is None:
            self._docker = import_docker()
        return self._docker

    def _negotiate(self) -> str:
        """The engine's API version, from the API-Version header of ``GET /_ping`` as the docker
        CLI reads it: the engine answers a ping at once, where ``/version`` (docker-py's
        version="auto") first asks containerd and runc for theirs (~6 ms of every start)."""
        if self.socket:
            probe = SocketClient(self.socket, timeout=15)
            try:
                version, self.builder_version = probe.ping()
                return version or probe.api_version()
            except (*failures(), ValueError) as exc:     # ValueError: a /version not JSON
                raise engine_error(exc, self) from None
            finally:
                probe.close()
        probe = None
        try:
            probe = self._new_client(version=self.docker.constants.MINIMUM_DOCKER_API_VERSION,
                                     timeout=15)
            response = probe._get(probe.base_url + "/_ping")
            if response.ok:
                self.builder_version = response.headers.get("Builder-Version")
            version = response.headers.get("API-Version") if response.ok else None
            return version or probe.version(api_version=False)["ApiVersion"]
        except (*failures(), KeyError) as exc:     # KeyError: no ApiVersion in the answer
            raise engine_error(exc, self) from None
        finally:
            if probe is not None:
                probe.close()

    def client(self):
        """A docker-py APIClient."""
        return self._new_client(version=self.version, timeout=self.timeout)

    def build_client(self):
        """The client for a build of a context archive: a SocketClient on the local socket,
        else an APIClient."""
        if self.socket:
            return SocketClient(self.socket, self.version, self.timeout)
        return self.client()

    def _new_client(self, **kwargs):
        client = self.docker.APIClient(**kwargs, **self.kwargs)
        if isinstance(client.verify, str):
            # The CA of DOCKER_CERT_PATH or of the context: requests lets REQUESTS_CA_BUNDLE
            # or CURL_CA_BUNDLE replace a session's CA on every request (psf/requests#3829),
            # and the engine's certificate then fails. Given with each request, it holds.
            client.request = functools.partial(client.request, verify=client.verify)
        return client

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


def _require_paramiko(url: str) -> None:
    if importlib.util.find_spec("paramiko") is None:
        raise ImageError(f"the Docker engine at {url} is reached over ssh, and docker-py's ssh "
                         "transport needs the paramiko package",
                         hint="pip install 'compose2kube[ssh]' (c2k's ssh extra), or paramiko")


def engine_settings(docker) -> tuple[dict, str | None]:
    """(APIClient arguments, Docker context name or None), chosen as the docker CLI chooses its
    engine: DOCKER_HOST (with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH) first; else the context
    named by DOCKER_CONTEXT, else the config's currentContext (`docker context use`: how Docker
    Desktop, Colima, Rancher Desktop and Podman point the CLI at their engines); the "default"
    context is the local socket."""
    kwargs = docker.utils.kwargs_from_env()
    if kwargs.get("base_url"):
        return kwargs, None
    name = os.environ.get("DOCKER_CONTEXT") or \
        docker.context.config.get_current_context_name()
    if not name or name == "default":
        return kwargs, None
    try:
        context = docker.context.ContextAPI.get_context(name)
    except docker.errors.DockerException as exc:
        raise ImageError(f"cannot read the Docker context {name!r}: {exc}") from None
    if context is None:
        where = "DOCKER_CONTEXT" if os.environ.get("DOCKER_CONTEXT") else \
            f"currentContext in {docker.utils.config.find_config_file()}"
        raise ImageError(f"the Docker context {name!r} ({where}) does not exist",
                         hint="list them with `docker context ls`; `docker context use "
                              "default` goes back to the local engine")
    if context.Host:
        kwargs["base_url"] = context.Host
        if context.TLSConfig is not None:
            kwargs["tls"] = context.TLSConfig
    return kwargs, name


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


def failures() -> tuple:
    """What a failed call to the engine raises: SocketClient's ApiError, docker-py's errors
    (once it is loaded), and connection errors, which derive from OSError (requests' too).
    Caught as one, and reported with engine_error."""
    return (ApiError, OSError, *_docker_errors("DockerException"))


def api_errors() -> tuple:
    """What the engine's refusal of a call raises: SocketClient's ApiError, docker-py's
    APIError (once it is loaded). Both carry ``status_code`` and ``explanation``."""
    return (ApiError, *_docker_errors("APIError"))


def _docker_errors(name: str) -> tuple:
    docker = sys.modules.get("docker")
    errors = getattr(docker, "errors", None)
    return (getattr(errors, name),) if errors is not None else ()


def connect() -> Engine:
    return Engine()


def api_message(exc) -> str:
    """The engine's own words from a docker APIError."""
    return str(getattr(exc, "explanation", None) or exc)


# ---- selecting services -----------------------------------------------------------------------

def check_service_names(project, names) -> None:
    unknown = [n for n in names if n not in project.services]
    if unknown:
        raise ImageError(f"no such service: {', '.join(unknown)}",
                         hint=f"services: {', '.join(project.services) or '(none)'}")


def select_services(project, names, reporter: Reporter, verb: str) -> list:
    services = project.services
    if names:
        check_service_names(project, names)
        chosen = [services[n] for n in dict.fromkeys(names)]
    else:
        chosen = list(services.values())
    picked = []
    for service in chosen:
        if service.build is None:
            if names:
                reporter.warn(f"service {service.name!r} has no build section; not {verb}")
            continue
        picked.append(service)
    return picked


def run_pool(jobs, worker, parallel, stop: threading.Event, prepare=None) -> dict:
    """Run worker(job) for each job, `parallel` at a time, and merge the dicts the workers
    return, in job order. On the first failure, start no more jobs, let the running ones
    stop, and raise that failure.

    ``prepare(job)``, when given, runs in the calling thread just before the job is handed to
    the pool, and the worker is called as worker(job, prepared); once a job has failed, the
    later ones are handed over unprepared (None), for the worker to see `stop` and report that
    they were not run. Build contexts are archived this way: one after another while the first
    builds already run, instead of by every worker at once, where the archivers and the threads
    sending builds fight over the interpreter lock and the last build of a small project starts
    ~30 ms later.
    """
    results: dict = {}
    if not jobs:
        return results
    if len(jobs) == 1:
        return _run_here(jobs[0], worker, stop, prepare)
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
    workers = max(1, min(parallel or default_parallel(), len(jobs)))
    errors: list = []          # (job index, exception)

    def failed(future):
        if not future.cancelled() and future.exception() is not None:
            stop.set()           # a failure: prepare nothing more

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="c2k-image") as pool:
        futures: dict = {}
        try:
            for i, job in enumerate(jobs):
                if prepare is None:
                    future = pool.submit(worker, job)
                else:
                    prepared = None
                    if not stop.is_set():
                        try:
                            prepared = prepare(job)
                        except Exception as exc:     # noqa: BLE001 - re-raised below
                            stop.set()
                            errors.append((i, exc))
                            continue
                    future = pool.submit(worker, job, prepared)
                future.add_done_callback(failed)
                futures[future] = i
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                try:
                    results[futures[future]] = future.result()
                except Cancelled:
                    pass
                except Exception as exc:     # noqa: BLE001 - re-raised below
                    stop.set()
                    errors.append((futures[future], exc))
        except BaseException:
            stop.set()
            raise
    if errors:
        errors = [exc for _, exc in sorted(errors, key=lambda pair: pair[0])]
        first = next((e for e in errors if isinstance(e, ImageError)), errors[0])
        others = [e for e in errors if e is not first and isinstance(e, ImageError)]
        if others and isinstance(first, ImageError):
            first.message += "\n(also failed: " + "; ".join(o.message.splitlines()[0]
                                                            for o in others) + ")"
        raise first
    merged: dict = {}
    for index in sorted(results):
        merged.update(results[index])
    return merged


def _run_here(job, worker, stop: threading.Event, prepare) -> dict:
    """run_pool of one job, in the calling thread: a pool would only hand it over, and
    concurrent.futures (with logging) is ~5 ms of the start of a one-image build."""
    try:
        result = worker(job) if prepare is None else worker(job, prepare(job))
    except Cancelled:
        return {}
    except BaseException:
        stop.set()
        raise
    return dict(result)


class Cancelled(Exception):
    pass


def skip_if_stopped(stop: threading.Event, reporter: Reporter, services, why: str) -> None:
    """Before a job starts: once another job has failed, mark its services and cancel it."""
    if stop.is_set():
        for service in services:
            reporter.fail(service.name, why)
        raise Cancelled()


@contextmanager
def failures_reported(reporter: Reporter, services):
    """A job's failure: its services' progress lines say "failed", and the error, raised on,
    says why (once: c2k prints it as the command's error)."""
    try:
        yield
    except Cancelled:
        for service in services:
            reporter.fail(service.name, "stopped: another one failed")
        raise
    except ImageError as exc:
        for service in services:
            reporter.fail(service.name, "failed")
        raise

"""Build, push and inspect a project's images with docker-py's low-level streaming API.

- ``build_images``: every service with a ``build`` section, in a thread pool; services whose
  build configuration is identical are built once and tagged for each; services that share a
  context directory share one context archive (see ``buildcontext``). The engine's BuildKit is
  used by default: ``POST /build?version=2`` with the archive as the body needs no gRPC session
  (unlike the docker CLI's), and its progress arrives as protobuf traces (``buildoutput``);
  ``builder="classic"`` (or DOCKER_BUILDKIT=0) uses ``APIClient.build`` and the classic builder.
- ``push_images``: pushes with the credentials of the Docker config (``$DOCKER_CONFIG``,
  credential stores and helpers), reads errors and the digest from the push stream (the engine
  answers HTTP 200 and reports failures inside it), and checks the digest against the
  registry's manifest (HEAD, ``registry.py``) when the registry is reachable from here.
- ``list_images``: for ``c2k images``.
- ``build_and_push``: what ``convert --build --push`` calls; returns ``name:tag@sha256:...`` refs.

Naming: a service's ``image``, else ``<project>-<service>``; ``registry`` ("host[:port][/path]")
replaces the registry host of that name, or prefixes it when it has none; ``tag`` replaces the
tag (default: the image's tag, else ``latest``). The registry and tag options apply only to
services with a ``build`` section, whose images c2k owns.

docker is imported lazily, inside functions, so ``c2k --help`` never loads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from .buildcontext import DEFAULT_MAX_CONTEXT_BYTES, is_remote, write_context
from .buildoutput import BuildFailed, BuildkitOutput, ClassicOutput
from .errors import ImageError
from .imagerefs import _TAG, _check_registry, image_name, split_host, split_reference  # noqa: F401
from .progress import Reporter, make_reporter
from .records import record
from .registry import registry_digest



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
    """How to reach the Docker engine; makes one APIClient per build or push (they stream)."""

    def __init__(self, *, timeout: float | None = None):
        try:
            import docker
        except ImportError:  # pragma: no cover - docker is a dependency
            raise ImageError("the 'docker' Python package is not installed",
                             hint="pip install docker") from None
        self.docker = docker
        self.kwargs = docker.utils.kwargs_from_env()
        self.url = self.kwargs.get("base_url") or "unix:///var/run/docker.sock"
        try:
            probe = docker.APIClient(version="auto", timeout=15, **self.kwargs)
        except docker.errors.DockerException as exc:
            raise engine_error(exc, self.url) from None
        self.version = probe.api_version
        probe.close()
        self.timeout = timeout
        self.buildkit: bool | None = None      # False once the engine refused a BuildKit build
        self._auth = None
        self._auth_lock = threading.Lock()

    def client(self):
        return self.docker.APIClient(version=self.version, timeout=self.timeout, **self.kwargs)

    def use_buildkit(self, builder: str = "auto") -> bool:
        """BuildKit unless asked for the classic builder (``builder="classic"`` or
        DOCKER_BUILDKIT=0, as the docker CLI), or the engine is too old (API < 1.39)."""
        if builder not in BUILDERS:
            raise ImageError(f"unknown builder {builder!r} (expected one of "
                             f"{', '.join(BUILDERS)})")
        if builder != "auto":
            return builder == "buildkit"
        if self.buildkit is False:
            return False
        if os.environ.get("DOCKER_BUILDKIT", "").strip().lower() in ("0", "false", "no"):
            return False
        major, _, minor = str(self.version).partition(".")
        try:
            return (int(major), int(minor)) >= (1, 39)
        except ValueError:
            return False

    def auth_for(self, registry_host: str | None) -> dict | None:
        """Credentials for a registry from the Docker config, its credsStore or credHelpers."""
        docker = self.docker
        with self._auth_lock:
            if self._auth is None:
                try:
                    self._auth = docker.auth.load_config()
                except docker.errors.DockerException as exc:
                    raise ImageError(f"cannot read the Docker config: {exc}") from None
            try:
                found = docker.auth.resolve_authconfig(self._auth, registry_host or
                                                       docker.auth.INDEX_NAME)
            except docker.errors.DockerException as exc:
                raise ImageError(f"the credential helper for {registry_host} failed: {exc}",
                                 hint="check credsStore/credHelpers in the Docker config") \
                    from None
        return dict(found) if found else None


def engine_error(exc, url: str) -> ImageError:
    text = str(exc)
    if "FileNotFoundError" in text or "No such file" in text:
        why = "the socket does not exist"
    elif "Connection refused" in text or "ConnectionRefused" in text:
        why = "connection refused"
    elif "PermissionError" in text or "Permission denied" in text:
        return ImageError(f"cannot connect to the Docker engine at {url}: permission denied",
                          hint="run as root or add your user to the 'docker' group")
    else:
        why = text
    return ImageError(
        f"cannot connect to the Docker engine at {url}: {why}",
        hint="is the engine running? start it (`sudo dockerd &` or `sudo systemctl start "
             "docker`), or point DOCKER_HOST at a running one")


def connect() -> Engine:
    return Engine()


# ---- selecting services -----------------------------------------------------------------------

def _select(project, names, reporter: Reporter, verb: str) -> list:
    services = project.services
    if names:
        unknown = [n for n in names if n not in services]
        if unknown:
            raise ImageError(f"no such service: {', '.join(unknown)}",
                             hint=f"services: {', '.join(services) or '(none)'}")
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


def _run_pool(jobs, worker, parallel, stop: threading.Event):
    """Run worker(job) for each job, `parallel` at a time; on the first failure, start no
    more jobs, let the running ones stop, and raise that failure."""
    results = {}
    if not jobs:
        return results
    workers = max(1, min(parallel or default_parallel(), len(jobs)))
    errors = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="c2k-image") as pool:
        futures = {pool.submit(worker, job): i for i, job in enumerate(jobs)}
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.exception() for f in done):
                stop.set()
            for future in futures:
                try:
                    results[futures[future]] = future.result()
                except _Cancelled:
                    pass
                except Exception as exc:     # noqa: BLE001 - re-raised below
                    stop.set()
                    errors.append(exc)
        except BaseException:
            stop.set()
            raise
    if errors:
        first = next((e for e in errors if isinstance(e, ImageError)), errors[0])
        others = [e for e in errors if e is not first and isinstance(e, ImageError)]
        if others and isinstance(first, ImageError):
            first.message += "\n(also failed: " + "; ".join(o.message.splitlines()[0]
                                                            for o in others) + ")"
        raise first
    return results


class _Cancelled(Exception):
    pass


# ---- build ------------------------------------------------------------------------------------

@record(frozen=False)
class _BuildJob:
    services: list           # services with one identical build configuration
    refs: list               # their (name, tag)


def build_images(project, services=None, *, registry=None, tag=None, parallel=None,
                 progress="auto", no_cache=False, pull=False, builder="auto",
                 max_context_bytes=DEFAULT_MAX_CONTEXT_BYTES,
                 engine: Engine | None = None) -> dict[str, BuiltImage]:
    """Build the images of the services with a ``build`` section (all, or those named).

    ``builder``: "buildkit" (the engine's BuildKit, fed the context archive), "classic" (the
    engine's classic builder, through APIClient.build), or "auto": BuildKit unless
    DOCKER_BUILDKIT=0 or the engine predates it. Remote (git/URL) contexts use the classic one.

    Returns {service name: BuiltImage}. Raises ImageError naming the service, the failing step
    and the tail of its log when a build fails; no further builds are started then.
    """
    reporter = make_reporter(progress)
    try:
        targets = _select(project, services, reporter, "built")
        if not targets:
            return {}
        refs = {s.name: image_name(project, s, registry=registry, tag=tag) for s in targets}
        _check_distinct(targets, refs)
        groups: dict = {}
        for service in targets:
            groups.setdefault((service.build, _platform(service)), []).append(service)
        jobs = [_BuildJob(group, [refs[s.name] for s in group]) for group in groups.values()]
        engine = engine or connect()
        reporter.plan([s.name for s in targets])
        for job in jobs:
            _warn_unsupported(job.services[0], reporter)
        stop = threading.Event()
        with tempfile.TemporaryDirectory(prefix="c2k-context-") as tmp:
            contexts = _ContextCache(tmp, max_context_bytes)
            worker = lambda job: _build_job(engine, project, job, contexts, reporter, stop,  # noqa: E731
                                            no_cache=no_cache, pull=pull, builder=builder)
            results = _run_pool(jobs, worker, parallel, stop)
        built = {}
        for index in sorted(results):
            built.update(results[index])
        return {name: built[name] for name in refs}
    finally:
        reporter.close()


def _check_distinct(targets, refs):
    """Two different builds must not produce one image name."""
    seen: dict = {}
    for service in targets:
        key = (service.build, _platform(service))
        other = seen.setdefault(refs[service.name], (service.name, key))
        if other[1] != key:
            name, tag = refs[service.name]
            raise ImageError(f"services {other[0]!r} and {service.name!r} build different "
                             f"images under one name, {name}:{tag}",
                             hint="give them different `image:` names")


def _platform(service) -> str | None:
    if service.platform:
        return service.platform
    return service.build.platforms[0] if service.build.platforms else None


def _warn_unsupported(service, reporter):
    build = service.build
    unsupported = [key for key, value in (
        ("secrets", build.secrets), ("ssh", build.ssh), ("cache_to", build.cache_to),
        ("additional_contexts", build.additional_contexts)) if value]
    if len(build.platforms) > 1:
        unsupported.append("platforms (more than one)")
    if unsupported:
        reporter.warn(f"service {service.name!r}: build.{', build.'.join(unsupported)} not "
                      "supported by the engine's classic builder (docker-py); ignored")


class _ContextCache:
    """One archive per (context, Dockerfile), shared by the builds that use it."""

    def __init__(self, tmp: str, max_bytes: int):
        self.tmp, self.max_bytes = tmp, max_bytes
        self._lock = threading.Lock()
        self._entries: dict = {}

    def get(self, build):
        key = (os.path.realpath(build.context), build.dockerfile, build.dockerfile_inline)
        with self._lock:
            entry = self._entries.setdefault(key, [threading.Lock(), None])
        with entry[0]:
            if entry[1] is None:
                path = os.path.join(self.tmp, f"context-{len(self._entries)}-"
                                    f"{hashlib.sha256(repr(key).encode()).hexdigest()[:8]}.tar")
                entry[1] = write_context(build.context, path, dockerfile=build.dockerfile,
                                         dockerfile_inline=build.dockerfile_inline,
                                         max_bytes=self.max_bytes)
            return entry[1]


def _build_args(project, build) -> dict:
    args = {}
    for key, value in build.args.items():
        if value is None:     # `ARG` listed without a value: taken from the environment
            value = project.environment.get(key, os.environ.get(key))
            if value is None:
                continue
        args[key] = str(value)
    return args


def _build_job(engine, project, job, contexts, reporter, stop, *, no_cache, pull, builder):
    first = job.services[0]
    build = first.build
    name, tag = job.refs[0]
    if stop.is_set():
        for service in job.services:
            reporter.fail(service.name, "not built: another build failed")
        raise _Cancelled()
    for service in job.services:
        reporter.start(service.name, "waiting for the build of " + first.name
                       if service is not first else "preparing the build context")
    started = time.monotonic()
    remote = is_remote(build.context)
    if remote and build.dockerfile_inline is not None:
        raise ImageError(f"service {first.name!r}: dockerfile_inline cannot be used with "
                         f"the remote build context {build.context}")
    archive = None
    if not remote:
        try:
            archive = contexts.get(build)
        except ImageError as exc:
            exc.message = f"service {first.name!r}: {exc.message}"
            raise
    options = dict(
        tag=f"{name}:{tag}", nocache=no_cache or build.no_cache, pull=pull or build.pull,
        buildargs=_build_args(project, build), target=build.target, labels=dict(build.labels),
        cache_from=list(build.cache_from), network_mode=build.network, shmsize=build.shm_size,
        extra_hosts=[f"{h}:{ip}" for h, ip in build.extra_hosts], platform=_platform(first))
    use_buildkit = not remote and engine.use_buildkit(builder)

    client = engine.client()
    try:
        reporter.status(first.name, "sending the build context")
        output = _run_build(engine, client, first.name, reporter, stop, archive, build,
                            options, use_buildkit)
        image_id = output.image_id
        if image_id is None:
            image_id = client.inspect_image(f"{name}:{tag}")["Id"]
        image_id = image_id if image_id.startswith("sha256:") else \
            client.inspect_image(image_id)["Id"]
        results = {}
        for service, (other_name, other_tag) in zip(job.services, job.refs):
            if (other_name, other_tag) != (name, tag):
                client.tag(image_id, other_name, other_tag, force=True)
            for extra in service.build.tags:
                extra_name, extra_tag, _ = split_reference(extra)
                client.tag(image_id, extra_name, extra_tag or "latest", force=True)
            results[service.name] = BuiltImage(service.name, other_name, other_tag, image_id)
        elapsed = time.monotonic() - started
        for service in job.services:
            reporter.done(service.name, f"built {results[service.name].ref} "
                          f"({image_id.removeprefix('sha256:')[:12]}, {elapsed:.1f}s)")
        return results
    except _Cancelled:
        for service in job.services:
            reporter.fail(service.name, "stopped: another one failed")
        raise
    except ImageError as exc:
        for service in job.services:
            reporter.fail(service.name, exc.message.splitlines()[0])
        raise
    finally:
        client.close()


def _run_build(engine, client, task, reporter, stop, archive, build, options, use_buildkit):
    """Stream one build; returns the output reader (with the image id)."""
    errors = engine.docker.errors
    output = (BuildkitOutput if use_buildkit else ClassicOutput)(task, reporter)
    fileobj = open(archive.path, "rb") if archive else None
    try:
        try:
            if use_buildkit:
                events = _buildkit_build(client, fileobj, archive.dockerfile, options)
            elif archive:
                events = client.build(fileobj=fileobj, custom_context=True,
                                      dockerfile=archive.dockerfile, **_classic(options))
            else:
                events = client.build(path=build.context, dockerfile=build.dockerfile,
                                      **_classic(options))
            for event in events:
                if stop.is_set():
                    raise _Cancelled()
                output.feed(event)
        except BuildFailed as failed:
            raise _build_failure(task, failed) from None
        except errors.APIError as exc:
            message = _api_message(exc)
            if use_buildkit and "buildkit" in message.lower() and \
                    getattr(exc, "status_code", 0) in (400, 500, 501) and output.image_id is None:
                # An engine without BuildKit: use the classic builder from now on.
                engine.buildkit = False
                fileobj and fileobj.close()
                return _run_build(engine, client, task, reporter, stop, archive, build,
                                  options, False)
            raise _build_failure(task, output.failure(message)) from None
        except errors.DockerException as exc:
            raise engine_error(exc, engine.url) from None
        except OSError as exc:        # requests' ConnectionError derives from it
            raise engine_error(exc, engine.url) from None
        return output
    finally:
        if fileobj is not None:
            fileobj.close()


def _classic(options: dict) -> dict:
    kwargs = dict(decode=True, rm=True, forcerm=True)
    kwargs.update({k: v for k, v in options.items() if v})
    return kwargs


def _buildkit_build(client, fileobj, dockerfile, options):
    """POST /build?version=2 with the context archive as the body: the engine's BuildKit,
    without the gRPC session the docker CLI opens (the context is uploaded instead)."""
    params = {"version": "2", "t": options["tag"], "dockerfile": dockerfile,
              "rm": "1", "forcerm": "1"}
    if options["nocache"]:
        params["nocache"] = "1"
    if options["pull"]:
        params["pull"] = "1"
    for key, param in (("target", "target"), ("network_mode", "networkmode"),
                       ("platform", "platform")):
        if options[key]:
            params[param] = options[key]
    if options["shmsize"]:
        params["shmsize"] = str(options["shmsize"])
    for key, param in (("buildargs", "buildargs"), ("labels", "labels"),
                       ("cache_from", "cachefrom")):
        if options[key]:
            params[param] = json.dumps(options[key])
    if options["extra_hosts"]:
        params["extrahosts"] = options["extra_hosts"]
    headers = {"Content-Type": "application/x-tar"}
    client._set_auth_headers(headers)      # X-Registry-Config, as APIClient.build sends it
    response = client._post(client._url("/build"), data=fileobj, params=params,
                            headers=headers, stream=True, timeout=None)
    return client._stream_helper(response, decode=True)


def _build_failure(service, failed: BuildFailed) -> ImageError:
    where = f" at {failed.step}" if failed.step else ""
    text = f"build of service {service!r} failed{where}\n  {failed.message}"
    if failed.tail:
        text += "\n  last lines of the build log:\n" + \
            "\n".join(f"    | {line}" for line in failed.tail)
    return ImageError(text)


def _api_message(exc) -> str:
    return str(getattr(exc, "explanation", None) or exc)


# ---- push -------------------------------------------------------------------------------------

def push_images(project, services=None, *, registry=None, tag=None, parallel=None,
                progress="auto", verify=True,
                engine: Engine | None = None) -> dict[str, BuiltImage]:
    """Push the images of the services with a ``build`` section (all, or those named).

    When the image is not yet tagged with its registry name (built without ``--registry``), the
    image built under the plain name is tagged first. Returns {service: BuiltImage} with
    ``digest`` set to the digest the registry stored; ``.pinned`` gives ``name:tag@digest``.
    """
    reporter = make_reporter(progress)
    try:
        targets = _select(project, services, reporter, "pushed")
        if not targets:
            return {}
        engine = engine or connect()
        refs = {s.name: image_name(project, s, registry=registry, tag=tag) for s in targets}
        jobs: dict = {}
        for service in targets:
            jobs.setdefault(refs[service.name], []).append(service)
        reporter.plan([s.name for s in targets])
        client = engine.client()
        try:
            for (name, tag_), group in jobs.items():
                _ensure_local(client, engine, project, group[0], name, tag_, tag)
        finally:
            client.close()
        stop = threading.Event()
        job_list = list(jobs.items())
        worker = lambda item: _push_job(engine, item[0], item[1], reporter, stop,  # noqa: E731
                                        verify=verify)
        results = _run_pool(job_list, worker, parallel, stop)
        pushed = {}
        for index in sorted(results):
            pushed.update(results[index])
        return {name: pushed[name] for name in refs}
    finally:
        reporter.close()


def _ensure_local(client, engine, project, service, name, tag, tag_option):
    """Make sure `name:tag` exists in the engine, tagging the plainly named build if needed."""
    errors = engine.docker.errors
    try:
        client.inspect_image(f"{name}:{tag}")
        return
    except errors.NotFound:
        pass
    except errors.DockerException as exc:
        raise engine_error(exc, engine.url) from None
    plain_name, plain_tag = image_name(project, service, tag=tag_option)
    try:
        image_id = client.inspect_image(f"{plain_name}:{plain_tag}")["Id"]
    except errors.NotFound:
        raise ImageError(f"service {service.name!r}: image {name}:{tag} does not exist locally",
                         hint=f"build it first: c2k build {service.name}") from None
    client.tag(image_id, name, tag, force=True)


def _push_job(engine, ref, services, reporter, stop, *, verify):
    name, tag = ref
    first = services[0].name
    host, _ = split_host(name)
    if stop.is_set():
        for service in services:
            reporter.fail(service.name, "not pushed: another push failed")
        raise _Cancelled()
    for service in services:
        reporter.start(service.name, f"pushing {name}:{tag}")
    auth = engine.auth_for(host)
    client = engine.client()
    digest = None
    layers: dict = {}
    last_summary = None
    started = time.monotonic()
    try:
        try:
            kwargs = {"auth_config": auth} if auth else {}
            for event in client.push(name, tag, stream=True, decode=True, **kwargs):
                if stop.is_set():
                    raise _Cancelled()
                if "error" in event or "errorDetail" in event:
                    detail = event.get("errorDetail") or {}
                    raise push_error(first, f"{name}:{tag}", host,
                                     event.get("error") or detail.get("message") or "")
                aux = event.get("aux")
                if isinstance(aux, dict) and aux.get("Digest"):
                    if aux.get("Tag") in (None, tag):
                        digest = aux["Digest"]
                status = event.get("status") or ""
                match = re.match(r"^(\S+): digest: (sha256:[0-9a-f]{64}) size", status)
                if match and match.group(1) == tag and digest is None:
                    digest = match.group(2)
                layer = event.get("id")
                if layer and status:
                    changed = layers.get(layer) != status
                    layers[layer] = status
                    if changed and status != "Pushing":
                        reporter.log(first, f"{layer}: {status}")
                    summary = _push_summary(layers)
                    if summary != last_summary:
                        reporter.progress(first, summary)
                        last_summary = summary
        except engine.docker.errors.APIError as exc:
            raise push_error(first, f"{name}:{tag}", host, _api_message(exc)) from None
        except engine.docker.errors.DockerException as exc:
            raise engine_error(exc, engine.url) from None
        except OSError as exc:
            raise engine_error(exc, engine.url) from None
        info = client.inspect_image(f"{name}:{tag}")
        verified = False
        if digest is None:
            # An engine that sent no digest: accept the registry's answer only if it is one
            # the engine recorded for this image (RepoDigests), never an older push's.
            remote = registry_digest(name, tag, auth=auth)
            recorded = {d.partition("@")[2] for d in info.get("RepoDigests") or ()
                        if d.partition("@")[0] == name}
            if remote is None or remote not in recorded:
                raise ImageError(f"service {first!r}: the push of {name}:{tag} reported no "
                                 "digest, and the registry did not confirm one")
            digest, verified = remote, True
        if verify and not verified:
            remote = registry_digest(name, tag, auth=auth)
            if remote is not None:
                if remote != digest:
                    raise ImageError(
                        f"service {first!r}: the registry serves {name}:{tag} as {remote}, "
                        f"but the push reported {digest}",
                        hint="something else pushed the same tag meanwhile; push again")
                verified = True
        elapsed = time.monotonic() - started
        results = {}
        for service in services:
            results[service.name] = BuiltImage(service.name, name, tag, info["Id"], digest,
                                               verified)
            reporter.done(service.name, f"pushed {name}:{tag}@{digest[:19]}… ({elapsed:.1f}s)")
        return results
    except _Cancelled:
        for service in services:
            reporter.fail(service.name, "stopped: another one failed")
        raise
    except ImageError as exc:
        for service in services:
            reporter.fail(service.name, exc.message.splitlines()[0])
        raise
    finally:
        client.close()


def _push_summary(layers: dict) -> str:
    finished = sum(s in ("Pushed", "Layer already exists") or s.startswith("Mounted from")
                   for s in layers.values())
    return f"pushing: {finished}/{len(layers)} layers done"


def push_error(service, ref, host, message) -> ImageError:
    text = message.strip() or "unknown error"
    low = text.lower()
    registry = host or "docker.io"
    where = f"service {service!r}: cannot push {ref}"
    if any(s in low for s in ("connection refused", "no such host", "i/o timeout",
                              "dial tcp", "network is unreachable", "connection reset",
                              "server gave http response", "tls: ", "eof")):
        return ImageError(f"{where}: registry {registry} is unreachable: {text}",
                          hint=f"is a registry running at {registry}? (a plain-HTTP registry "
                               "other than 127.0.0.1/localhost must be in the engine's "
                               "insecure-registries)")
    if any(s in low for s in ("no basic auth credentials", "unauthorized", "authentication "
                              "required", "denied", "forbidden", "incorrect username")):
        return ImageError(f"{where}: registry {registry} refused the credentials: {text}",
                          hint=f"log in with `docker login {registry}` (c2k reads the Docker "
                               "config, $DOCKER_CONFIG/config.json, and its credential helpers)")
    if "does not exist" in low or "no such image" in low:
        return ImageError(f"{where}: the image does not exist locally: {text}",
                          hint=f"build it first: c2k build {service}")
    return ImageError(f"{where}: {text}")


# ---- list -------------------------------------------------------------------------------------

def list_images(project, services=None, *, registry=None, tag=None,
                engine: Engine | None = None) -> list[BuiltImage]:
    """Each service's image name and tag, with the local image id and the registry digest the
    engine recorded for that name (after a push or pull), None where there is none."""
    names = services or list(project.services)
    unknown = [n for n in names if n not in project.services]
    if unknown:
        raise ImageError(f"no such service: {', '.join(unknown)}",
                         hint=f"services: {', '.join(project.services) or '(none)'}")
    engine = engine or connect()
    client = engine.client()
    rows = []
    try:
        for service_name in dict.fromkeys(names):
            service = project.services[service_name]
            if service.image is None and service.build is None:
                continue
            name, tag_ = image_name(project, service, registry=registry, tag=tag)
            image_id = digest = None
            try:
                info = client.inspect_image(f"{name}:{tag_}")
                image_id = info["Id"]
                digest = next((d.partition("@")[2] for d in info.get("RepoDigests") or ()
                               if d.partition("@")[0] in (name, _docker_io(name))), None)
            except engine.docker.errors.NotFound:
                pass
            except engine.docker.errors.DockerException as exc:
                raise engine_error(exc, engine.url) from None
            rows.append(BuiltImage(service.name, name, tag_, image_id, digest))
    finally:
        client.close()
    return rows


def _docker_io(name: str) -> str:
    host, path = split_host(name)
    if host is not None:
        return name
    return f"docker.io/{path if '/' in path else 'library/' + path}"


# ---- for convert / apply / up -----------------------------------------------------------------

def build_and_push(project, *, build=True, push=False, registry=None, tag=None, parallel=None,
                   progress="auto", services=None, builder="auto") -> dict[str, str]:
    """Build and/or push the project's images; returns {service: image reference} for the
    services with a ``build`` section: ``name:tag@sha256:...`` when pushed (the digest the
    registry serves), plain ``name:tag`` when only built (a digest exists only once pushed)."""
    reporter = make_reporter(progress)
    try:
        engine = connect() if (build or push) else None
        refs: dict[str, str] = {}
        if build:
            built = build_images(project, services, registry=registry, tag=tag,
                                 parallel=parallel, progress=reporter, engine=engine,
                                 builder=builder)
            refs = {name: image.ref for name, image in built.items()}
        if push:
            pushed = push_images(project, services, registry=registry, tag=tag,
                                 parallel=parallel, progress=reporter, engine=engine)
            refs = {name: image.pinned for name, image in pushed.items()}
        return refs
    finally:
        reporter.close()


def describe(images, fmt: str = "table") -> str:
    """Render list_images() rows for `c2k images`."""
    if fmt == "json":
        return json.dumps([{"service": i.service, "image": i.name, "tag": i.tag,
                            "id": i.image_id, "digest": i.digest} for i in images],
                          indent=2) + "\n"
    rows = [("SERVICE", "IMAGE", "TAG", "IMAGE ID", "DIGEST")]
    for i in images:
        rows.append((i.service, i.name, i.tag,
                     i.image_id.removeprefix("sha256:")[:12] if i.image_id else "<none>",
                     i.digest or "<none>"))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    return "".join("   ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "   " + r[-1]
                   .rstrip() + "\n" for r in rows)


__all__ = ["BuiltImage", "Engine", "build_images", "push_images", "list_images",
           "build_and_push", "image_name", "registry_digest", "describe", "split_reference",
           "default_parallel"]

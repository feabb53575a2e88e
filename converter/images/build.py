"""`c2k build`: every service with a ``build`` section, in a thread pool.

Services whose build configuration is identical are built once and tagged for each; services
that share a context directory share one context archive (``buildcontext``). The engine's
BuildKit is used by default: ``POST /build?version=2`` with the archive as the body needs no
gRPC session (unlike the docker CLI's), and its progress arrives as protobuf traces
(``buildoutput``); ``builder="classic"`` (or DOCKER_BUILDKIT=0) is the same request without
``version=2``, and so is a remote (git or URL) context's, without a body: the engine fetches it
and builds it with its classic builder. The request goes through ``Engine.build_session``.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from contextlib import closing

from ..errors import ImageError
from ..imagerefs import image_name, split_reference
from ..records import record
from .api import FAILURES, ApiError
from .buildcontext import DEFAULT_MAX_CONTEXT_BYTES, is_remote, write_context
from .buildoutput import BuildFailed, BuildkitOutput, ClassicOutput
from .dockerconfig import proxy_build_args
from .engine import Engine, connect, engine_error
from .jobs import BuiltImage, Cancelled, failures_reported, run_pool, select_services, \
    skip_if_stopped
from .progress import make_reporter


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
    engine's classic builder, fed the same), or "auto": BuildKit unless
    DOCKER_BUILDKIT=0 or the engine predates it. Remote (git/URL) contexts use the classic one.

    Returns {service name: BuiltImage}. Raises ImageError naming the service, the failing step
    and the tail of its log when a build fails; no further builds are started then.
    """
    reporter = make_reporter(progress)
    try:
        targets = select_services(project, services, reporter, "built")
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
        auth_headers = engine.build_auth_headers(reporter.warn)
        stop = threading.Event()
        with tempfile.TemporaryDirectory(prefix="c2k-context-") as tmp:
            contexts = _ContextCache(tmp, max_context_bytes)
            prepare = lambda job: _prepare_context(job, contexts, reporter)  # noqa: E731
            worker = lambda job, archive: _build_job(  # noqa: E731
                engine, project, job, archive, reporter, stop, no_cache=no_cache, pull=pull,
                builder=builder, auth_headers=auth_headers)
            built = run_pool(jobs, worker, parallel, stop, prepare=prepare)
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
        reporter.warn(f"service {service.name!r}: build.{', build.'.join(unsupported)} "
                      "ignored: c2k builds through the engine's API, without the BuildKit "
                      "client session (docker buildx) that "
                      + ("they need" if len(unsupported) > 1 else "this needs"))


class _ContextCache:
    """One archive per (context, Dockerfile), shared by the builds that use it. Used by one
    thread, the one that hands the builds to the pool."""

    def __init__(self, tmp: str, max_bytes: int):
        self.tmp, self.max_bytes = tmp, max_bytes
        self._archives: dict = {}

    def get(self, build):
        key = (os.path.realpath(build.context), build.dockerfile, build.dockerfile_inline)
        archive = self._archives.get(key)
        if archive is None:
            path = os.path.join(self.tmp, f"context-{len(self._archives) + 1}.tar")
            archive = self._archives[key] = write_context(
                build.context, path, dockerfile=build.dockerfile,
                dockerfile_inline=build.dockerfile_inline, max_bytes=self.max_bytes)
        return archive


def _prepare_context(job, contexts, reporter):
    """The job's context archive (None for a remote context, which the engine fetches)."""
    first = job.services[0]
    build = first.build
    for service in job.services:
        reporter.start(service.name, "waiting for the build of " + first.name
                       if service is not first else "preparing the build context")
    with failures_reported(reporter, job.services):
        if is_remote(build.context):
            if build.dockerfile_inline is not None:
                raise ImageError(f"service {first.name!r}: dockerfile_inline cannot be used "
                                 f"with the remote build context {build.context}")
            return None
        try:
            return contexts.get(build)
        except ImageError as exc:
            exc.message = f"service {first.name!r}: {exc.message}"
            raise


def _build_args(project, build) -> dict:
    args = {}
    for key, value in build.args.items():
        if value is None:     # `ARG` listed without a value: taken from the environment
            value = project.environment.get(key, os.environ.get(key))
            if value is None:
                continue
        args[key] = str(value)
    return args


def _build_job(engine, project, job, archive, reporter, stop, *, no_cache, pull, builder,
               auth_headers):
    first = job.services[0]
    name, tag = job.refs[0]
    skip_if_stopped(stop, reporter, job.services, "not built: another build failed")
    started = time.monotonic()
    params = _build_params(engine, project, first, f"{name}:{tag}", archive, no_cache=no_cache,
                           pull=pull, buildkit=archive is not None and engine.use_buildkit(builder))
    # X-Registry-Config: the run's credentials, as APIClient.build sends them.
    headers = {"Content-Type": "application/x-tar", **auth_headers} if archive else auth_headers

    with failures_reported(reporter, job.services), closing(engine.build_session()) as session:
        reporter.status(first.name, "sending the build context")
        output = _run_build(engine, session, first.name, reporter, stop, params, headers,
                            archive.path if archive else None)
        image_id = output.image_id
        if image_id is None:
            image_id = session.inspect_image(f"{name}:{tag}")["Id"]
        image_id = image_id if image_id.startswith("sha256:") else \
            session.inspect_image(image_id)["Id"]
        results = {}
        for service, (other_name, other_tag) in zip(job.services, job.refs):
            if (other_name, other_tag) != (name, tag):
                session.tag(image_id, other_name, other_tag)
            for extra in service.build.tags:
                extra_name, extra_tag, _ = split_reference(extra)
                session.tag(image_id, extra_name, extra_tag or "latest")
            results[service.name] = BuiltImage(service.name, other_name, other_tag, image_id)
        elapsed = time.monotonic() - started
        for service in job.services:
            reporter.done(service.name, f"built {results[service.name].ref} "
                          f"({image_id.removeprefix('sha256:')[:12]}, {elapsed:.1f}s)")
        return results


def _build_params(engine, project, service, ref, archive, *, no_cache, pull,
                  buildkit) -> dict:
    """The query of ``POST /build``, what APIClient.build sends for the same: with the context
    archive as the body, for the engine's BuildKit (``version=2``, without the gRPC session the
    docker CLI opens: the context is uploaded instead) or its classic builder; without one
    (``archive`` None), a ``remote`` context, which the engine fetches and builds classically."""
    build = service.build
    params = {"version": "2"} if buildkit else {}
    params["t"] = ref
    if archive is None:
        params["remote"] = build.context
    dockerfile = build.dockerfile if archive is None else archive.dockerfile
    if dockerfile:
        params["dockerfile"] = dockerfile
    params.update({"rm": "1", "forcerm": "1"})
    if no_cache or build.no_cache:
        params["nocache"] = "1"
    if pull or build.pull:
        params["pull"] = "1"
    for param, value in (("target", build.target), ("networkmode", build.network),
                         ("platform", _platform(service))):
        if value:
            params[param] = value
    if build.shm_size:
        params["shmsize"] = str(build.shm_size)
    buildargs = {**proxy_build_args(engine.config, engine.url), **_build_args(project, build)}
    for param, value in (("buildargs", buildargs), ("labels", dict(build.labels)),
                         ("cachefrom", list(build.cache_from))):
        if value:
            params[param] = json.dumps(value)
    if build.extra_hosts:
        params["extrahosts"] = [f"{host}:{ip}" for host, ip in build.extra_hosts]
    return params


def _run_build(engine, session, task, reporter, stop, params, headers, archive):
    """Stream one build; returns the output reader (with the image id)."""
    buildkit = params.get("version") == "2"
    output = (BuildkitOutput if buildkit else ClassicOutput)(task, reporter)
    try:
        for event in session.build(params, headers, archive):
            if stop.is_set():
                raise Cancelled()
            output.feed(event)
    except BuildFailed as failed:
        raise _build_failure(task, failed) from None
    except ApiError as exc:
        if buildkit and "buildkit" in exc.explanation.lower() and \
                exc.status_code in (400, 500, 501) and output.image_id is None:
            # An engine without BuildKit: use the classic builder from now on.
            engine.buildkit = False
            classic = {key: value for key, value in params.items() if key != "version"}
            return _run_build(engine, session, task, reporter, stop, classic, headers, archive)
        raise _build_failure(task, output.failure(exc.explanation)) from None
    except FAILURES as exc:
        raise engine_error(exc, engine) from None
    return output


def _build_failure(service, failed: BuildFailed) -> ImageError:
    where = f" at {failed.step}" if failed.step else ""
    text = f"build of service {service!r} failed{where}\n  {failed.message}"
    if failed.tail:
        text += "\n  last lines of the build log:\n" + \
            "\n".join(f"    | {line}" for line in failed.tail)
    return ImageError(text)

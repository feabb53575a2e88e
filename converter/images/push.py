"""`c2k push`: the built images, with the credentials of the Docker config.

Credentials come from ``$DOCKER_CONFIG`` (credential stores and helpers too). Errors and the
digest are read from the push stream (the engine answers HTTP 200 and reports failures inside
it), and the digest is checked against the registry's manifest (HEAD, ``registry.py``) when the
registry is reachable from here.
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import closing

from ..errors import ImageError
from ..imagerefs import digests_of, image_name, split_host
from .api import FAILURES, ApiError, NotFound
from .engine import Engine, connect, engine_error
from .jobs import BuiltImage, Cancelled, failures_reported, run_pool, select_services, \
    skip_if_stopped
from .progress import make_reporter
from .registry import registry_digest


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
        targets = select_services(project, services, reporter, "pushed")
        if not targets:
            return {}
        engine = engine or connect()
        refs = {s.name: image_name(project, s, registry=registry, tag=tag) for s in targets}
        jobs: dict = {}
        for service in targets:
            jobs.setdefault(refs[service.name], []).append(service)
        reporter.plan([s.name for s in targets])
        with closing(engine.session()) as session:
            for (name, tag_), group in jobs.items():
                _ensure_local(session, engine, project, group[0], name, tag_, tag)
        stop = threading.Event()
        job_list = list(jobs.items())
        worker = lambda item: _push_job(engine, item[0], item[1], reporter, stop,  # noqa: E731
                                        verify=verify)
        pushed = run_pool(job_list, worker, parallel, stop)
        return {name: pushed[name] for name in refs}
    finally:
        reporter.close()


def _ensure_local(session, engine, project, service, name, tag, tag_option):
    """Make sure `name:tag` exists in the engine, tagging the plainly named build if needed."""
    try:
        session.inspect_image(f"{name}:{tag}")
        return
    except NotFound:
        pass
    except FAILURES as exc:
        raise engine_error(exc, engine) from None
    plain_name, plain_tag = image_name(project, service, tag=tag_option)
    try:
        image_id = session.inspect_image(f"{plain_name}:{plain_tag}")["Id"]
    except NotFound:
        raise ImageError(f"service {service.name!r}: image {name}:{tag} does not exist locally",
                         hint=f"build it first: c2k build {service.name}") from None
    session.tag(image_id, name, tag)


def _push_job(engine, ref, services, reporter, stop, *, verify):
    name, tag = ref
    first = services[0].name
    host, _ = split_host(name)
    skip_if_stopped(stop, reporter, services, "not pushed: another push failed")
    for service in services:
        reporter.start(service.name, f"pushing {name}:{tag}")
    auth = engine.auth_for(host)
    digest = None
    layers: dict = {}
    last_summary = None
    started = time.monotonic()
    with failures_reported(reporter, services), closing(engine.session()) as session:
        try:
            for event in session.push(name, tag, auth):
                if stop.is_set():
                    raise Cancelled()
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
        except ApiError as exc:
            raise push_error(first, f"{name}:{tag}", host, exc.explanation) from None
        except FAILURES as exc:
            raise engine_error(exc, engine) from None
        info = session.inspect_image(f"{name}:{tag}")
        verified = False
        if digest is None:
            # An engine that sent no digest: accept the registry's answer only if it is one
            # the engine recorded for this image (RepoDigests), never an older push's.
            remote = registry_digest(name, tag, auth=auth)
            if remote is None or remote not in digests_of(name, info.get("RepoDigests") or ()):
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

"""Build, push and inspect a project's images, through the Docker engine the docker CLI would use.

- ``build_images`` (``build.py``): every service with a ``build`` section, in a thread pool;
  contexts archived by ``buildcontext`` (with ``tarwriter``), output read by ``buildoutput``.
- ``push_images`` (``push.py``): with the Docker config's credentials; digests checked against
  the registry (``registry.py``).
- ``list_images`` and ``describe`` (``listing.py``): for ``c2k images``.
- ``build_and_push`` (here): what ``convert --build --push`` calls; returns
  ``name:tag@sha256:...`` refs.

Underneath, one engine interface (``api.py``) that all three use: ``engine.py`` chooses how to
reach the engine and opens sessions; ``dockerpy.py`` is docker-py, fenced in (the only module
that imports docker, imported on first use, so `c2k --help` never loads it);
``socketclient.py`` serves builds on a local Unix socket without docker-py (its start-up is a
quarter of a cached rebuild: docs/performance.md); ``dockerconfig.py`` reads the Docker config
and contexts for both; ``credentials.py`` resolves registry credentials once per run;
``jobs.py`` is what builds and pushes share (the image record, the thread pool); ``progress.py``
shows them.

Naming: a service's ``image``, else ``<project>-<service>``; ``registry`` ("host[:port][/path]")
replaces the registry host of that name, or prefixes it when it has none; ``tag`` replaces the
tag (default: the image's tag, else ``latest``). The registry and tag options apply only to
services with a ``build`` section, whose images c2k owns.
"""

from __future__ import annotations

from ..imagerefs import image_name, split_reference
from .progress import make_reporter
from .registry import registry_digest
from .build import build_images
from .engine import BUILDERS, Engine, connect, engine_error
from .jobs import BuiltImage, default_parallel
from .listing import describe, list_images
from .push import push_error, push_images


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


__all__ = ["BUILDERS", "BuiltImage", "Engine", "build_images", "push_images", "list_images",
           "build_and_push", "connect", "describe", "engine_error", "image_name", "push_error",
           "registry_digest", "split_reference", "default_parallel"]

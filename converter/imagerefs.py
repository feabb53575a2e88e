"""Image references: how c2k names the images it builds, and how references split; the one
reader of ``[host[:port]/]path[:tag][@digest]`` for every stage (kube/ and emit/ name and pin
images with it, images/ builds, pushes and lists them).

Pure string logic, kept apart from images/ (which talks to the engine) so that `c2k convert`
can name built images without importing the Docker and HTTP machinery.
"""

from __future__ import annotations

import re

from .errors import ImageError

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")     # its names


def split_host(name: str) -> tuple[str | None, str]:
    """("host:port", "path") when the first component names a registry, else (None, name)."""
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, name


def split_reference(ref: str) -> tuple[str, str | None, str | None]:
    """``host:5000/a/b:tag@sha256:x`` -> ("host:5000/a/b", "tag", "sha256:x")."""
    name, _, digest = ref.partition("@")
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1:]
    return name, tag, digest or None


def canonical(name: str) -> tuple[str, str]:
    """(registry host, path) of a repository name as the engine resolves it: Docker Hub's,
    under any of its names or none, is docker.io, with one-component paths under library/."""
    host, path = split_host(name)
    if host is None or host in DOCKER_HUB:
        return "docker.io", path if "/" in path else f"library/{path}"
    return host, path


def digests_of(name: str, refs) -> list[str]:
    """The digests among ``refs`` (``name@sha256:...``, an image's RepoDigests), in their order,
    that are of the repository ``name``, however either spells Docker Hub."""
    return [digest for repository, _, digest in map(split_reference, refs)
            if digest and canonical(repository) == canonical(name)]


def image_name(project, service, *, registry: str | None = None,
               tag: str | None = None) -> tuple[str, str]:
    """The (repository, tag) a service's image is built as and pushed to."""
    if service.image:
        name, own_tag, _ = split_reference(service.image)
    else:
        name, own_tag = f"{project.name}-{service.name}".lower(), None
    if registry and service.build is not None:
        registry = _check_registry(registry)
        host, path = split_host(name)
        if host in DOCKER_HUB and path.startswith("library/"):
            path = path[len("library/"):]
        name = f"{registry}/{path}"
    final_tag = (tag if service.build is not None else None) or own_tag or "latest"
    if not _TAG.match(final_tag):
        raise ImageError(f"invalid image tag {final_tag!r}",
                         hint="a tag is up to 128 letters, digits, '_', '.' and '-'")
    if name != name.lower():
        raise ImageError(f"service {service.name!r}: image name {name!r} must be lowercase")
    return name, final_tag


def _check_registry(registry: str) -> str:
    registry = registry.strip().rstrip("/")
    if "://" in registry:
        raise ImageError(f"--registry {registry!r}: give host[:port][/path], without a scheme")
    if not registry or registry != registry.lower() or " " in registry:
        raise ImageError(f"--registry {registry!r}: expected a lowercase host[:port][/path]")
    return registry

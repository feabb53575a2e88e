"""The image commands: build, push, images; and the image options of the commands that pin the
images they deploy (convert, apply, up, bundle: --build, --push, --registry)."""

from __future__ import annotations

import click

from ..commandline import command, nothing_left_to_clean, options

REGISTRY = click.Option(
    ["--registry", "--push-image-registry", "registry"], metavar="R",
    help="Registry (host[:port][/path]) that prefixes or replaces the registry of the names of "
         "the images built from a build section.")
TAG = click.Option(["--tag"], metavar="T",
                   help="Tag for the built images (default: the image's tag, else latest).")
PARALLEL = click.Option(["--parallel"], type=click.IntRange(min=1), metavar="N",
                        help="Build or push N images at a time (default: 8).")
PROGRESS = click.Option(["--progress"], type=click.Choice(["auto", "plain", "none"]),
                        default="auto", show_default=True,
                        help="Progress on stderr: a live line per service on a terminal, or "
                             "plain prefixed lines.")
# kompose's --build takes local|none; c2k's builds with the engine whichever is given alone.
BUILD = click.Option(["--build", "build"], type=click.Choice(["local", "none"]),
                     is_flag=False, flag_value="local", default="none", metavar="[local|none]",
                     help="Build the images first (`--build local`, as kompose, is the same).")
PUSH = click.Option(["--push", "--push-image", "push"], is_flag=True,
                    help="Build and push the images first, and pin their registry digests.")


def image_progress(settings, progress: str = "auto"):
    """What builds and pushes show on stderr: with -q nothing, warnings included."""
    if settings.quiet:
        from .progress import QuietReporter
        return QuietReporter()
    return progress


def pinned_images(settings, project, *, build: str, push: bool,
                  registry: str | None) -> dict[str, str]:
    """--build / --push: {service: the image reference to deploy} (pinned by digest when
    pushed); {} when neither is asked."""
    if build != "local" and not push:
        return {}
    from . import build_and_push
    return build_and_push(project, build=True, push=push, registry=registry,
                          progress=image_progress(settings))


@command("build")
@click.argument("services", nargs=-1)
@options(REGISTRY, TAG, PARALLEL, PROGRESS)
@click.option("--no-cache", is_flag=True, help="Do not use the build cache.")
@click.option("--pull", is_flag=True, help="Always try to pull newer base images.")
@click.option("--push", "and_push", is_flag=True, help="Push the images after building them.")
@click.option("--builder", type=click.Choice(["auto", "buildkit", "classic"]), default="auto",
              show_default=True,
              help="The engine's builder: BuildKit, or the classic one (auto: BuildKit unless "
                   "DOCKER_BUILDKIT=0).")
def build_cmd(settings, services, registry, tag, parallel, progress, no_cache, pull, and_push,
              builder):
    """Build the images of services that have a build section; print their names."""
    from . import build_images, push_images
    project = settings.load().project
    progress = image_progress(settings, progress)
    built = build_images(project, services or None, registry=registry, tag=tag,
                         parallel=parallel, progress=progress, no_cache=no_cache, pull=pull,
                         builder=builder)
    if and_push:
        built = push_images(project, services or None, registry=registry, tag=tag,
                            parallel=parallel, progress=progress)
        for image in built.values():
            click.echo(image.pinned)
    else:
        for image in built.values():
            click.echo(image.ref)
    nothing_left_to_clean()        # the build threads are joined, the contexts removed


@command("push")
@click.argument("services", nargs=-1)
@options(REGISTRY, TAG, PARALLEL, PROGRESS)
def push_cmd(settings, services, registry, tag, parallel, progress):
    """Push the built images; print each as name:tag@sha256:digest."""
    from . import push_images
    project = settings.load().project
    pushed = push_images(project, services or None, registry=registry, tag=tag,
                         parallel=parallel, progress=image_progress(settings, progress))
    for image in pushed.values():
        click.echo(image.pinned)
    nothing_left_to_clean()


@command("images")
@click.argument("services", nargs=-1)
@options(REGISTRY, TAG)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def images_cmd(settings, services, registry, tag, fmt):
    """List each service's image, tag, local image id and registry digest."""
    from . import describe, list_images
    project = settings.load().project
    click.echo(describe(list_images(project, services or None, registry=registry, tag=tag),
                        fmt), nl=False)


COMMANDS = [build_cmd, push_cmd, images_cmd]

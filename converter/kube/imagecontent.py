"""Whether a service's image already holds what a bind mount shows, at the mount's path.

Projects often mount their source over the copy the image holds (`.:/app` next to `COPY . /app`)
to edit code live. Dropping such a mount keeps the meaning: the pod runs the same files, from the
image. Every other mount of a build context is kept, because the image does not have those files
there: Sentry mounts `./sentry` at `/etc/sentry` while its Dockerfile copies the folder to
`/usr/src/sentry`.

The image is the service's own build, or the build of the service that makes the image it
names. The answer comes from the Dockerfile (dockerfile.context_copies: the built stage and the
stages under it, WORKDIR-relative destinations resolved, `--from` copies left out) and the
`.dockerignore` (what it leaves out is not in the image); files are read through the
conversion's reader, like every other host file.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath

from ..errors import C2KError
from ..records import record
from .sharing import plan


@record
class Verdict:
    held: bool
    detail: str            # for the report: the instruction that holds it, or why it does not


@record
class _Image:
    context: str
    dockerfile: str        # as the report names it
    copies: tuple | None   # None: the Dockerfile cannot be read or has no such stage
    problem: str
    ignore: object | None    # buildcontext.IgnoreRules


class ImageContent:
    """Per conversion: each Dockerfile read and parsed once."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.by_image = {svc.image: svc.build for svc in ctx.project.services.values()
                         if svc.build and svc.image}
        self._images: dict = {}

    def build_of(self, service):
        if service.build is not None:
            return service.build
        return self.by_image.get(service.image) if service.image else None

    def verdict(self, service, source: str, target: str, is_dir: bool) -> Verdict | None:
        """None when `source` is not inside (or around) a local build context of the image."""
        build = self.build_of(service)
        if build is None or not build.context or _remote(build.context):
            return None
        context = os.path.normpath(build.context)
        rel = os.path.relpath(source, context).replace(os.sep, "/")
        if rel == ".." or rel.startswith("../"):
            back = os.path.relpath(context, source)
            if back.startswith(".."):
                return None
            return Verdict(False, f"its image is built from {self._rel(context)}, only part "
                                  "of it")
        image = self._image(build, context)
        if image.copies is None:
            return Verdict(False, image.problem)
        if rel != "." and image.ignore is not None and image.ignore.excluded(rel):
            return Verdict(False, ".dockerignore keeps it out of the image")
        target = posixpath.normpath(target)
        elsewhere = None
        for copy in image.copies:
            where = _lands_at(copy, rel, is_dir)
            if where == target:
                return Verdict(True, f"the image holds it there: `{copy.text}` "
                                     f"({image.dockerfile}, line {copy.line})")
            if where is not None:
                elsewhere = (where, copy)
        if elsewhere is not None:
            where, copy = elsewhere
            return Verdict(False, f"its image holds it at {where} (`{copy.text}`), not at "
                                  f"{target}")
        return Verdict(False, f"no COPY or ADD in {image.dockerfile} puts it in the image")

    def _image(self, build, context: str) -> _Image:
        key = (context, build.dockerfile, build.dockerfile_inline, build.target,
               tuple(sorted((k, v or "") for k, v in build.args.items())))
        image = self._images.get(key)
        if image is None:
            image = self._images[key] = self._read(build, context)
        return image

    def _read(self, build, context: str) -> _Image:
        from ..dockerfile import context_copies    # here: most conversions never need it
        if build.dockerfile_inline is not None:
            text, shown, full = build.dockerfile_inline, "dockerfile_inline", None
        else:
            path = build.dockerfile or "Dockerfile"
            full = path if os.path.isabs(path) else os.path.join(context, path)
            shown = self._rel(full)
            text = self._text(full)
        if text is None:
            return _Image(context, shown, None, f"{shown} cannot be read, so whether the image "
                                                "holds it is unknown", None)
        copies = context_copies(text, target=build.target, build_args=dict(build.args))
        if copies is None:
            return _Image(context, shown, None, f"{shown} has no stage {build.target!r}", None)
        ignore = None
        for candidate in ([full + ".dockerignore"] if full else []) + [
                os.path.join(context, ".dockerignore")]:
            found = self._text(candidate)
            if found is not None:
                ignore = _ignore_rules(found)
                break
        return _Image(context, shown, tuple(copies), "", ignore)

    def _text(self, path: str) -> str | None:
        info = self.ctx.reader(path)
        if info.kind != "file" or not info.files:
            return None
        try:
            return info.files[0][1].decode("utf-8-sig")
        except UnicodeDecodeError:
            return None

    def _rel(self, path: str) -> str:
        rel = os.path.relpath(path, self.ctx.project.working_dir).replace(os.sep, "/")
        return path if rel.startswith("..") else rel


def _remote(context: str) -> bool:
    """A git or HTTP(S) context, which the model keeps as given (local ones are absolute)."""
    return not os.path.isabs(context)


def _ignore_rules(text: str):
    """The .dockerignore's rules, matched by the code that archives build contexts (None for
    a pattern it refuses: then nothing is known to be left out)."""
    from ..images.buildcontext import IgnoreRules, parse_ignore
    try:
        return IgnoreRules(parse_ignore(text))
    except C2KError:
        return None


def _lands_at(copy, rel: str, is_dir: bool) -> str | None:
    """Where `copy` puts the context path `rel` in the image, or None."""
    for src in copy.sources:
        if src == ".":
            return copy.dest if rel == "." else posixpath.join(copy.dest, rel)
        if any(c in src for c in "*?["):
            if rel.count("/") == src.count("/") and fnmatch.fnmatchcase(rel, src):
                return copy.dest if is_dir else posixpath.join(copy.dest,
                                                                posixpath.basename(rel))
            continue
        if rel == src:
            if is_dir or not copy.into_dir:
                return copy.dest
            return posixpath.join(copy.dest, posixpath.basename(src))
        if rel.startswith(src + "/"):
            return posixpath.join(copy.dest, rel[len(src) + 1:])
    return None


def image_content(ctx) -> ImageContent:
    """The conversion's ImageContent, made on first use."""
    storage = plan(ctx)
    if storage.images is None:
        storage.images = ImageContent(ctx)
    return storage.images

"""Build contexts: the tar archive sent to the engine, honouring ``.dockerignore``.

The docker CLI builds this archive itself (the engine never reads ``.dockerignore``), so c2k does
too, with the CLI's rules:

- patterns as moby's patternmatcher reads them: ``*``, ``?``, ``[...]``, ``**`` (any number of
  directories), ``\\`` escapes, ``!`` exceptions, the last matching pattern wins, and a pattern
  that matches a directory excludes everything below it;
- ``<Dockerfile>.dockerignore`` next to the Dockerfile takes precedence over ``.dockerignore``;
- the Dockerfile and ``.dockerignore`` are always sent;
- symbolic links are archived as links, never followed (so link loops cannot recurse), hard
  links as hard links; sockets are left out; owners are 0:0; mtimes whole seconds.

Entries are sorted, so the same tree gives the same archive. A Dockerfile outside the context,
or ``dockerfile_inline``, is added under a ``.c2k.Dockerfile.*`` name.
"""

from __future__ import annotations

import os
import re
import stat

from ..errors import ImageError
from ..records import record
from .tarwriter import TarWriter

DEFAULT_MAX_CONTEXT_BYTES = 2 * 1024 ** 3   # refuse contexts above this (override per call)
INLINE_DOCKERFILE = ".c2k.Dockerfile.inline"
_BUFFER = 1024 * 1024                       # the archive is written in large blocks


# ---- .dockerignore ----------------------------------------------------------------------------

def read_ignore_file(path: str) -> list[str]:
    """The patterns of a .dockerignore file, cleaned as the docker CLI does."""
    with open(path, encoding="utf-8-sig") as fh:
        return parse_ignore(fh.read())


def parse_ignore(text: str) -> list[str]:
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = _clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if invert else line)
    return patterns


def _clean(path: str) -> str:
    """Go's filepath.Clean for slash paths."""
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    cleaned = "/".join(out)
    return ("/" + cleaned) if rooted else (cleaned or ".")


def _compile(pattern: str) -> re.Pattern:
    regex, i, n = "^", 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                regex += ".*" if i >= n else "(.*/)?"
                continue
            regex += "[^/]*"
        elif ch == "?":
            regex += "[^/]"
        elif ch == "\\":
            i += 1
            regex += re.escape(pattern[i]) if i < n else "\\\\"
        elif ch in "[]":
            regex += ch
        else:
            regex += re.escape(ch)
        i += 1
    try:
        return re.compile(regex + "$", re.DOTALL)
    except re.error as exc:
        raise ImageError(f".dockerignore: bad pattern {pattern!r}: {exc}") from None


class IgnoreRules:
    """Decides which context paths (slash-separated, relative) are excluded."""

    def __init__(self, patterns: list[str] | tuple[str, ...] = ()):
        self.rules: list[tuple[bool, str, re.Pattern]] = []
        for pattern in patterns:
            exception = pattern.startswith("!")
            text = _clean(pattern[1:] if exception else pattern)
            self.rules.append((exception, text, _compile(text)))
        self.has_exceptions = any(exc for exc, _, _ in self.rules)

    def excluded(self, rel: str) -> bool:
        parents = rel.split("/")[:-1]
        matched = False
        for exception, _, regex in self.rules:
            if exception != matched:   # only a later rule of the other kind can change the answer
                continue
            hit = regex.match(rel) is not None
            if not hit:
                hit = any(regex.match("/".join(parents[:i + 1])) for i in range(len(parents)))
            if hit:
                matched = not exception
        return matched

    def may_include_below(self, rel_dir: str) -> bool:
        """Whether an exception could re-include something inside an excluded directory."""
        prefix = rel_dir + "/"
        return any(exc and (text + "/").startswith(prefix) for exc, text, _ in self.rules)


# ---- the archive ------------------------------------------------------------------------------

@record
class ContextArchive:
    path: str            # the tar file on disk
    dockerfile: str      # the Dockerfile's name inside the archive
    size: int            # bytes of file content archived
    files: int


def is_remote(context: str) -> bool:
    """A git or HTTP(S) URL, which the engine fetches itself."""
    return bool(re.match(r"^(https?://|git://|git@|github\.com/)", context)) or \
        (context.endswith(".git") and not os.path.isdir(context))


def write_context(context: str, out_path: str, *, dockerfile: str | None = None,
                  dockerfile_inline: str | None = None,
                  max_bytes: int = DEFAULT_MAX_CONTEXT_BYTES) -> ContextArchive:
    """Archive the directory ``context`` into ``out_path``.

    ``dockerfile`` is relative to the context (or absolute); ``dockerfile_inline`` wins over it.
    Raises ImageError for a missing context or Dockerfile, an unreadable file, or a context larger
    than ``max_bytes``.
    """
    root = os.path.realpath(context)
    if not os.path.isdir(root):
        raise ImageError(f"build context {context} is not a directory")

    name_in_tar, external = _locate_dockerfile(root, dockerfile, dockerfile_inline)
    patterns = _ignore_patterns(root, dockerfile, dockerfile_inline)
    # As the docker CLI: the Dockerfile and .dockerignore are sent even when ignored.
    keep = [".dockerignore"] + ([name_in_tar] if external is None else [])
    rules = IgnoreRules(patterns)
    if any(rules.excluded(name) for name in keep):
        rules = IgnoreRules(patterns + ["!" + name for name in keep if rules.excluded(name)])

    total = files = 0
    with open(out_path, "wb", buffering=_BUFFER) as raw:
        tar = TarWriter(raw)
        for rel, full, st in _walk(root, rules):
            if stat.S_ISREG(st.st_mode) and tar.linked(rel, st) is None:
                total += st.st_size
                files += 1
                if total > max_bytes:      # checked before the copy: a huge file fails fast
                    raise ImageError(f"build context {context} is larger than {_human(max_bytes)}",
                                     hint="exclude large files and directories with .dockerignore")
            try:
                tar.add(rel, full, st)
            except OSError as exc:
                raise ImageError(f"build context: cannot read {full}: {exc.strerror}",
                                 hint="fix its permissions or add it to .dockerignore") from None
        if external is not None:
            data = external.encode()
            tar.add_bytes(name_in_tar, data)
            files += 1
            total += len(data)
        tar.close()
    return ContextArchive(out_path, name_in_tar, total, files)


def _locate_dockerfile(root, dockerfile, inline):
    """-> (name inside the archive, text to add to the archive or None)."""
    if inline is not None:
        return INLINE_DOCKERFILE, inline
    path = dockerfile or "Dockerfile"
    full = path if os.path.isabs(path) else os.path.join(root, path)
    if not os.path.isfile(full):
        raise ImageError(f"Dockerfile {full} not found",
                         hint="check build.dockerfile and build.context")
    real = os.path.realpath(full)
    rel = os.path.relpath(real, root)
    if rel.startswith(".." + os.sep) or rel == "..":
        try:
            with open(real, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise ImageError(f"cannot read Dockerfile {full}: {exc.strerror}") from None
        import hashlib     # here: the only use, and its OpenSSL start-up is ~3 ms
        tag = hashlib.sha256(real.encode()).hexdigest()[:12]
        return f".c2k.Dockerfile.{tag}", text
    return os.path.relpath(full, root).replace(os.sep, "/"), None


def _ignore_patterns(root, dockerfile, inline):
    candidates = []
    if inline is None and dockerfile:
        full = dockerfile if os.path.isabs(dockerfile) else os.path.join(root, dockerfile)
        candidates.append(full + ".dockerignore")     # BuildKit's per-Dockerfile ignore file
    candidates.append(os.path.join(root, ".dockerignore"))
    for candidate in candidates:
        if os.path.isfile(candidate):
            try:
                return read_ignore_file(candidate)
            except (OSError, UnicodeDecodeError) as exc:
                raise ImageError(f"cannot read {candidate}: {exc}") from None
    return []


def _walk(root, rules):
    """Yield (relative slash path, full path, lstat) in sorted order, pruning excluded
    directories. One lstat per archived entry; none for an excluded file."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        full_dir = os.path.join(root, rel_dir) if rel_dir else root
        try:
            with os.scandir(full_dir) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            raise ImageError(f"build context: cannot list {full_dir}: {exc.strerror}",
                             hint="fix its permissions or add it to .dockerignore") from None
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                if rules.excluded(rel):
                    if is_dir and rules.has_exceptions and rules.may_include_below(rel):
                        subdirs.append(rel)  # walk it for re-included files, but do not list it
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue                     # vanished while walking
            yield rel, entry.path, st
            if is_dir:
                subdirs.append(rel)
        stack.extend(reversed(subdirs))


def _human(n: int) -> str:
    return f"{n / 1024 ** 3:.1f} GiB" if n >= 1024 ** 3 else f"{n / 1024 ** 2:.1f} MiB"

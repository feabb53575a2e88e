"""One error base for everything the user sees.

Every failure c2k reports is a ``C2KError``: a message, and where known the file, the line and
the key path that caused it, plus a hint saying how to fix it. The CLI prints ``str(error)`` and
exits 1; a traceback only appears with ``--debug``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def format_path(path: Iterable[str | int] | None) -> str:
    """Render a key path like ``services.web.ports[0]``."""
    out = ""
    for part in path or ():
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class C2KError(Exception):
    """A problem the user can fix; carries where it happened."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: Iterable[str | int] | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.path = tuple(path) if path else ()
        self.hint = hint

    def location(self) -> str:
        where = self.file or ""
        if self.line:
            where += f":{self.line}" if where else f"line {self.line}"
        key = format_path(self.path)
        if key:
            where += f" ({key})" if where else key
        return where

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ComposeError(C2KError):
    """Invalid compose input: YAML, schema, interpolation, merge, references."""


class ValidationErrors(ComposeError):
    """Several problems found at once (schema validation reports them all)."""

    def __init__(self, errors: Sequence[C2KError], *, file: str | None = None):
        self.errors = list(errors)
        head = f"{file}: " if file else ""
        super().__init__(f"{head}{len(self.errors)} problem(s) found", file=None)

    def __str__(self) -> str:
        return "\n".join([self.message] + [f"  - {e}" for e in self.errors])


class ConversionError(C2KError):
    """The model cannot be turned into Kubernetes objects (e.g. a name collision)."""


class ImageError(C2KError):
    """Building, pushing or inspecting images failed."""


class ClusterError(C2KError):
    """Talking to the cluster failed."""

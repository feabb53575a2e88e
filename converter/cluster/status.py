"""Progress of apply and the waits, as lines that also say which object and what state.

Each event is a plain line in kubectl's words (`deployment.apps/web created`), which apply, down
and every pipe print as they are, and it carries its object and state, so that `c2k up` on a
terminal can draw docker compose's live block instead: one line per object, redrawn in place,
`✔ Deployment web  Created` and a spinner while a workload rolls out, as compose draws
`✔ Container web-1  Started`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..images.progress import Reporter

# kubectl's word -> compose's
WORDS = {"created": "Created", "configured": "Configured", "unchanged": "Unchanged",
         "pruned": "Removed", "complete": "Completed", "rolled out": "Rolled out"}


class Status(str):
    """A progress line about one object: its kind and name, the state, and whether the state
    is final (applied, rolled out) or a wait still going on."""

    kind: str
    name: str
    state: str
    final: bool

    def __new__(cls, line: str, *, kind: str, name: str, state: str,
                final: bool = True) -> Status:
        self = super().__new__(cls, line)
        self.kind, self.name, self.state, self.final = kind, name, state, final
        return self


def applied(ref: str, obj: dict, state: str, suffix: str = "") -> Status:
    """`deployment.apps/web created` (apply, prune)."""
    return Status(f"{ref} {state}{suffix}", kind=obj["kind"], name=obj["metadata"]["name"],
                  state=state)


def waiting(ref: str, obj: dict, message: str) -> Status:
    """`job.batch/migrate: 0 of 1 completions, 1 running` (a wait going on)."""
    return Status(f"{ref}: {message}", kind=obj["kind"], name=obj["metadata"]["name"],
                  state=message, final=False)


class Board:
    """Draws Status lines on a Reporter (the live one on a terminal): a line per object, its
    state in compose's words; warnings above the block."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter

    def __call__(self, line: Any) -> None:
        if not isinstance(line, Status):        # every line of apply and wait is one
            self.reporter.done(str(line), "")
            return
        task = f"{line.kind} {line.name}"
        if line.final:
            self.reporter.done(task, WORDS.get(line.state, line.state))
        else:
            self.reporter.status(task, line.state)

    def warn(self, text: str) -> None:
        self.reporter.warn(text)

    def close(self) -> None:
        self.reporter.close()

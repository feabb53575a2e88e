"""The engine interface: the calls that build, push and listing make of the Docker engine, and
what a failed call raises, whichever way the engine is reached.

Two transports implement it, and ``Engine`` (``engine.py``) chooses between them:
- ``dockerpy.DockerPySession``: docker-py, the way to every engine (unix, tcp+TLS, ssh), and
  the only one that pushes;
- ``socketclient.SocketClient``: the standard library's http.client on a local Unix socket, for
  builds alone (docker-py's start-up is a quarter of a cached rebuild: docs/performance.md).

A session is one connection's worth of calls, made one after another by one thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class ApiError(Exception):
    """The engine refused a call: its HTTP status (None when its answer was unreadable) and its
    own words."""

    def __init__(self, status_code: int | None, explanation: str):
        super().__init__(f"{status_code} {explanation}" if status_code else explanation)
        self.status_code = status_code
        self.explanation = explanation


class NotFound(ApiError):
    """No such image (HTTP 404)."""


# What a failed call raises: the engine's refusal, or a connection that failed (refused, reset,
# TLS, a socket that is not there: all OSError). engine.engine_error words each for the user.
FAILURES = (ApiError, OSError)


class BuildSession(Protocol):
    """What a build asks of the engine."""

    def ping(self) -> tuple[str | None, str | None]:
        """(API-Version, Builder-Version) from ``GET /_ping``; (None, None) when the engine
        answers it with an error."""

    def api_version(self) -> str:
        """From ``GET /version``, for an engine whose ping does not say (before API 1.25)."""

    def build(self, params: dict, headers: dict, archive: str | None) -> Iterator[dict]:
        """``POST /build`` with the context archive at the path ``archive`` as the body (None:
        a remote context, which the engine fetches from ``params["remote"]``); the engine's
        messages as they stream in."""

    def inspect_image(self, ref: str) -> dict:
        """The engine's record of an image; raises NotFound."""

    def tag(self, image: str, repository: str, tag: str) -> None:
        """Name ``image`` ``repository:tag``, taking the name from any image that had it."""

    def close(self) -> None: ...


class Session(BuildSession, Protocol):
    """What push and listing ask of the engine, on top of a build's calls."""

    def push(self, name: str, tag: str, auth: dict | None) -> Iterator[dict]:
        """``POST /images/{name}/push`` with the registry's credentials (None: none); the
        engine's messages as they stream in."""

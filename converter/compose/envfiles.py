"""Reading a service's env_file entries (compose folds them into `environment`)."""

from __future__ import annotations

from ..errors import ComposeError
from .dotenv import read_env_file


def env_file_reader(ctx):
    """A reader bound to the project environment: values may use ${VAR} from it."""
    cache: dict[tuple, dict] = {}

    def read(path: str, key_path, service_env: dict | None = None) -> dict:
        """`${VAR}` inside the file: the project environment, then the service's
        `environment:`, then earlier keys of the file (compose's order)."""
        def lookup(name):
            value = ctx.environ.get(name)
            if value is None and service_env:
                value = service_env.get(name)
            return value

        key = (path, tuple(sorted((service_env or {}).items(), key=lambda kv: kv[0])))
        if key not in cache:
            try:
                cache[key] = read_env_file(path, lookup=lookup)
            except ComposeError as exc:
                file, line = ctx.origins.find(key_path)
                raise ComposeError(exc.message, file=exc.file or path, line=exc.line,
                                   path=key_path if not exc.line else (),
                                   hint=exc.hint or (f"referenced from {file}:{line}"
                                                     if file else None)) from None
        return cache[key]

    return read

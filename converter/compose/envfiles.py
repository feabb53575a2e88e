"""Reading a service's env_file entries (compose folds them into `environment`)."""

from __future__ import annotations

from ..errors import ComposeError


def env_file_reader(ctx):
    """A reader bound to the project environment: values may use ${VAR} from it."""
    from .dotenv import read_env_file
    cache: dict[str, dict] = {}

    def read(path: str, key_path) -> dict:
        if path not in cache:
            try:
                cache[path] = read_env_file(path, lookup=ctx.environ.get)
            except ComposeError as exc:
                file, line = ctx.origins.find(key_path)
                raise ComposeError(exc.message, file=exc.file or path, line=exc.line,
                                   path=key_path if not exc.line else (),
                                   hint=exc.hint or (f"referenced from {file}:{line}"
                                                     if file else None)) from None
        return cache[path]

    return read

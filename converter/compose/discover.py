"""Which compose files, which project directory, which project name — as docker compose decides.

- files: `-f` (repeatable; `-` is stdin), else COMPOSE_FILE (split on COMPOSE_PATH_SEPARATOR,
  default ':'), else the first of compose.yaml, compose.yml, docker-compose.yml,
  docker-compose.yaml found in the working directory or its parents, plus its override file;
- project directory: --project-directory, else the first file's folder;
- project name: -p, then COMPOSE_PROJECT_NAME, then the last `name:` of the files, then the
  project directory's base name, normalized (lowercase, [a-z0-9_-], no leading '_' or '-').
"""

from __future__ import annotations

import os
import re

from ..errors import ComposeError

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = {
    "compose.yaml": ("compose.override.yaml", "compose.override.yml"),
    "compose.yml": ("compose.override.yml", "compose.override.yaml"),
    "docker-compose.yml": ("docker-compose.override.yml", "docker-compose.override.yaml"),
    "docker-compose.yaml": ("docker-compose.override.yaml", "docker-compose.override.yml"),
}
_VALID_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def find_files(files, *, environ, cwd: str, project_directory: str | None = None) -> list[str]:
    if files:
        return [f if f == "-" else os.path.abspath(os.path.join(cwd, f)) for f in files]
    from_env = environ.get("COMPOSE_FILE")
    if from_env:
        sep = environ.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        base = project_directory or cwd
        return [os.path.abspath(os.path.join(base, f)) for f in from_env.split(sep) if f]
    folder = os.path.abspath(project_directory or cwd)
    while True:
        for name in DEFAULT_FILES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                found = [candidate]
                for override in OVERRIDE_FILES[name]:
                    extra = os.path.join(folder, override)
                    if os.path.isfile(extra):
                        found.append(extra)
                        break
                return found
        parent = os.path.dirname(folder)
        if parent == folder or project_directory:
            break
        folder = parent
    raise ComposeError(
        "no compose file found in this folder or its parents",
        hint="create compose.yaml, or pass one with -f FILE (or set COMPOSE_FILE)")


def normalize_project_name(name: str) -> str:
    """What docker compose makes of a folder name: 'My App' → 'myapp'."""
    cleaned = re.sub(r"[^a-z0-9_-]", "", name.lower())
    return cleaned.lstrip("_-")


def check_project_name(name: str, source: str) -> str:
    if not _VALID_NAME.match(name):
        raise ComposeError(
            f"invalid project name {name!r} (from {source})",
            hint="a project name must contain only lowercase letters, digits, dashes and "
                 "underscores, and start with a letter or digit")
    return name


def project_name(*, explicit: str | None, environ, names_in_files: list[str],
                 project_directory: str) -> str:
    if explicit:
        return check_project_name(explicit, "-p")
    if environ.get("COMPOSE_PROJECT_NAME"):
        return check_project_name(environ["COMPOSE_PROJECT_NAME"], "COMPOSE_PROJECT_NAME")
    for name in reversed(names_in_files):
        if name:
            return check_project_name(str(name), "the `name:` of the compose file")
    derived = normalize_project_name(os.path.basename(os.path.abspath(project_directory)))
    if not derived:
        raise ComposeError(
            f"cannot derive a project name from the folder {project_directory!r}",
            hint="set one with -p NAME or `name:` in the compose file")
    return derived

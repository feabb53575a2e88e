"""The environments of a compose project: the common files, and what each environment adds.

Detected next to the first compose file, as teams name them: `compose.override.*` (what
`docker compose up` adds by default) is `dev`; `compose.<env>.*` and `docker-compose.<env>.*`
are `<env>`. `--env NAME=FILE[,FILE]` names them instead. Each environment is converted as
`c2k convert -f <common files> -f <its files>` would; the base is the common files alone.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from ..errors import C2KError
from ..records import record

if TYPE_CHECKING:
    from ..kube.report import ConversionResult
    from ..model import Project

_ENV_FILE = re.compile(r"^(?:docker-)?compose\.([a-z0-9][a-z0-9-]*)\.ya?ml$")
_ENV_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
BASE = "base"


@record
class Environment:
    name: str
    files: tuple[str, ...]          # absolute paths: the common files, then the environment's


@record
class Converted:
    """One conversion: the base's or an environment's."""
    name: str
    files: tuple[str, ...]
    project: Project
    result: ConversionResult
    reads: dict                     # host path -> files.HostPath the conversion read
    dotenvs: tuple = ()             # the dotenv files interpolation read (absolute)


def parse_env_option(value: str, cwd: str) -> tuple[str, tuple[str, ...]]:
    """`NAME=FILE[,FILE]` -> (name, absolute files)."""
    name, sep, files = value.partition("=")
    name = name.strip()
    if not sep or not files.strip():
        raise C2KError(f"--env {value!r}: expected NAME=FILE[,FILE]",
                       hint="for example --env prod=compose.prod.yaml")
    check_name(name, f"--env {value}")
    paths = tuple(os.path.abspath(os.path.join(cwd, f.strip())) for f in files.split(",")
                  if f.strip())
    for path in paths:
        if not os.path.isfile(path):
            raise C2KError(f"--env {value}: {path} does not exist")
    return name, paths


def check_name(name: str, where: str) -> str:
    if name == BASE or not _ENV_NAME.match(name):
        raise C2KError(f"{where}: environment name {name!r} is not usable as a folder name",
                       hint="use lowercase letters, digits and '-' (and not 'base')")
    return name


def detect(common: list[str]) -> list[Environment]:
    """The environments found beside the first common file: [(name, files)], sorted by name.
    A common file is never an environment's (with -f compose.yaml -f compose.override.yaml
    the override is common)."""
    folder = os.path.dirname(common[0])
    taken = {os.path.normcase(p) for p in common}
    found: dict[str, list[str]] = {}
    for fname in sorted(os.listdir(folder)):
        match = _ENV_FILE.match(fname)
        path = os.path.join(folder, fname)
        if not match or not os.path.isfile(path) or os.path.normcase(path) in taken:
            continue
        name = "dev" if match.group(1) == "override" else match.group(1)
        found.setdefault(name, []).append(path)
    out = []
    for name, paths in sorted(found.items()):
        if len(paths) > 1:
            shown = ", ".join(os.path.basename(p) for p in paths)
            raise C2KError(f"environment {name!r} has several files: {shown}",
                           hint=f"keep one, or name it with --env {name}=FILE")
        out.append(Environment(check_name(name, paths[0]), tuple(common) + tuple(paths)))
    return out


def split_files(found: list[str], given: bool) -> list[str]:
    """The common files: every -f file when given, else the discovered file without the
    override docker compose adds to it (that override is the dev environment)."""
    if given or len(found) < 2:
        return found
    return found[:1]


def convert(settings, files: tuple[str, ...], name: str, options, *, environ=None,
            cwd: str | None = None) -> Converted:
    """Load `files` with the global options (.env, --env-file, profiles, -p) and convert them
    as `c2k convert` does, keeping what the conversion read from the host."""
    import functools

    from ..compose.loader import LoadOptions, load_project
    from ..kube.files import read_host_path
    from ..kube.transform import to_manifests
    project = load_project(LoadOptions(
        files=files, project_name=settings.project_name, env_files=tuple(settings.env_files),
        profiles=tuple(settings.profiles), project_directory=settings.project_directory,
        environ=environ, cwd=cwd)).project
    reads: dict = {}
    limits = functools.partial(read_host_path, max_bytes=options.config_max_bytes,
                               max_files=options.config_max_files)

    def reader(path):
        found = reads[path] = limits(path)
        return found
    result = to_manifests(project, options, reader=reader)
    if settings.env_files:
        dotenvs = tuple(os.path.abspath(os.path.join(cwd or os.getcwd(), f))
                        for f in settings.env_files)
    else:
        dotenvs = tuple(p for p in (os.path.join(project.working_dir, ".env"),)
                        if os.path.isfile(p))
    return Converted(name, files, project, result, reads, dotenvs)

"""What every c2k command shares: the global options and the Settings they fill, the decorator
that makes a command, and the few helpers all commands use.

The commands themselves sit beside the stage they drive (compose/cli.py, images/cli.py,
kube/cli.py for the options of every command that converts, emit/cli.py, cluster/cli.py,
cluster/verbs_cli.py); cli.py gathers them under the click group. They import their stage's
modules inside the command, so that `c2k --help` and `c2k config` never pay for docker or
kubernetes.

The compose options (-f, -p, --env-file, --profile, --project-directory) are accepted before the
command (`c2k -f a.yaml config`, as docker compose) and after it (`c2k convert -f a.yaml`, as
kompose); values given in both places add up.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import click


class Settings:
    """The global options, merged from before and after the command."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.project_name: str | None = None
        self.env_files: list[str] = []
        self.profiles: list[str] = []
        self.project_directory: str | None = None
        self.debug = False
        self.quiet = False

    def update(self, *, file=(), project_name=None, env_file=(), profile=(),
               project_directory=None, debug=False, quiet=False, **_) -> None:
        self.files.extend(file or ())
        self.env_files.extend(env_file or ())
        self.profiles.extend(profile or ())
        self.project_name = project_name or self.project_name
        self.project_directory = project_directory or self.project_directory
        self.debug = self.debug or debug
        self.quiet = self.quiet or quiet

    def load_options(self, **extra):
        from .compose.loader import LoadOptions
        return LoadOptions(files=tuple(self.files), project_name=self.project_name,
                           env_files=tuple(self.env_files), profiles=tuple(self.profiles),
                           project_directory=self.project_directory, **extra)

    def load(self, *, show_warnings: bool = True, **extra):
        """Load the compose project; warnings go to stderr (unless -q, or show_warnings is
        False)."""
        from .compose.loader import load_project
        result = load_project(self.load_options(**extra))
        if show_warnings and not self.quiet:
            for warning in result.warnings:
                warn(warning)
        return result

    def load_name(self) -> str:
        """The project's name, for the commands that act on a deployed project (ps, logs,
        down...): the files' warnings were said when it was converted or applied, and are not
        repeated by every one of them."""
        return self.load(show_warnings=False).project.name


# Built once and shared by the group and every command (parameters keep no per-command state):
# 25 commands each building their own seven options cost ~3 ms of every start.
GLOBAL_PARAMS = [
    click.Option(["-f", "--file"], multiple=True, metavar="FILE",
                 help="Compose file (repeatable; default: compose.yaml etc. as docker compose)."),
    click.Option(["-p", "--project-name"], metavar="NAME", help="Project name."),
    click.Option(["--env-file"], multiple=True, metavar="FILE",
                 help="Environment file for interpolation (repeatable)."),
    click.Option(["--profile"], multiple=True, metavar="PROFILE",
                 help="Enable a profile (repeatable; '*' enables all)."),
    click.Option(["--project-directory"], metavar="DIR",
                 help="Project directory (default: the first compose file's folder)."),
    click.Option(["--debug"], is_flag=True, help="Show tracebacks for errors."),
    click.Option(["-q", "--quiet"], is_flag=True,
                 help="Print only errors on stderr: no warnings, progress or notes."),
]
_GLOBAL_NAMES = ("file", "project_name", "env_file", "profile", "project_directory", "debug",
                 "quiet")


def global_options(command: click.Command) -> click.Command:
    """Put the global options first in the command's parameters."""
    command.params[:0] = GLOBAL_PARAMS
    return command


def command(name: str, **kwargs: Any) -> Callable[[Callable], click.Command]:
    """A c2k command: it also takes the global options after its name, and its function gets
    the Settings first. cli.py adds it to the group."""
    def decorate(func: Callable) -> click.Command:
        @functools.wraps(func)
        def wrapper(*args, **kw):
            settings = click.get_current_context().find_object(Settings)
            settings.update(**{k: kw.pop(k) for k in _GLOBAL_NAMES if k in kw})
            return func(settings, *args, **kw)
        return global_options(click.command(name, **kwargs)(wrapper))
    return decorate


def options(*params: click.Parameter) -> Callable[[Callable], Callable]:
    """Give a command options declared once elsewhere (the same objects: click parameters keep
    no per-command state), in this order, before the options declared on it."""
    def decorate(func: Callable) -> Callable:
        func.__click_params__ = getattr(func, "__click_params__", []) + list(reversed(params))
        return func
    return decorate


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def write_text(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)


finished = False


def nothing_left_to_clean() -> None:
    """Called by commands whose work is over once their output is written: no thread still
    running, no temporary or open file left, every engine connection closed (cli.main may then
    end the program without tearing the interpreter down)."""
    global finished
    finished = True

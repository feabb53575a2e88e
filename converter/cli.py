"""The c2k command line: the click group and its global options, and the program's entry point.

The commands sit beside the stage they drive (compose/cli.py: config; images/cli.py: build,
push, images; emit/cli.py: convert, bundle, graph; migrate/cli.py: migrate; cluster/cli.py:
apply, diff, up, down; cluster/verbs_cli.py: ps, logs, exec, run...). What they share is in
commandline.py, the options of every command that converts in kube/cli.py. They import their
stage's modules inside the command, so that `c2k --help` and `c2k config` never pay for docker or kubernetes.
"""

from __future__ import annotations

import gc
import os
import signal
import sys


def _interrupted(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: one line and exit 130, wherever it lands (even inside an import, where Python
    would print a traceback or swallow a KeyboardInterrupt). Every step c2k takes is safe to
    stop between: a re-run converges (apply is server-side and idempotent). The line goes
    straight to the file descriptor, after a newline in case a message was cut mid-line."""
    try:
        os.write(2, b"\ninterrupted\n")
        lock = sys.modules.get("converter.cluster.lock")   # give back the project's lock
        if lock is not None:
            lock.release_all(timeout=2.0)
    finally:
        os._exit(130)


def _tune_gc() -> None:
    """c2k's imports and conversions build trees of small objects (~10^6 for 500 services) and
    keep them to the end: the default thresholds rescan them over and over for almost no
    garbage (a fifth of a 500-service convert). Young objects are still collected, the whole
    heap almost never."""
    gc.set_threshold(10_000, 100, 100)


if __name__ == "__main__" or "c2k" in os.path.basename(sys.argv[0] or ""):
    # before any other import: even typing's takes milliseconds a Ctrl-C can land in
    signal.signal(signal.SIGINT, _interrupted)
    _tune_gc()      # before the imports below, which are a third of a small conversion

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from types import FrameType

from . import __version__, commandline
from .cluster import cli as cluster_commands
from .cluster import dev_cli as dev_commands
from .cluster import verbs_cli as verb_commands
from .commandline import Settings, global_options
from .compose import cli as compose_commands
from .emit import cli as emit_commands
from .errors import C2KError
from .images import cli as image_commands
from .migrate import cli as migrate_commands

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@global_options
@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="c2k")   # not package_name: importlib.metadata
                                                      # costs ~25 ms
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """c2k takes a Docker Compose project to Kubernetes.

    It loads compose files with docker compose's semantics, converts them into Kubernetes
    manifests (YAML, JSON, Helm chart, Kustomize), builds and pushes the images, and applies
    the result to a cluster.
    """
    settings = ctx.ensure_object(Settings)
    settings.update(**options)
    if os.environ.get("C2K_DEBUG"):
        settings.debug = True


# Each stage's commands sit beside the stage (commandline.py says what they share).
for _module in (compose_commands, image_commands, emit_commands, migrate_commands,
                cluster_commands, dev_commands, verb_commands):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def _exit_now() -> None:
    """End the program without tearing the interpreter down: freeing a conversion's objects
    one by one (and every module) costs ~10 ms on a small file and ~0.1 s on a large one, and
    changes nothing. Output is flushed first; a reader that left is not an error."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    except OSError as exc:
        os.write(2, f"error: writing the output: {exc.strerror or exc}\n".encode())
        os._exit(1)
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning known errors into one message and exit 1."""
    signal.signal(signal.SIGINT, _interrupted)
    _tune_gc()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("C2K_DEBUG"))
    try:
        cli.main(args=args, prog_name="c2k", standalone_mode=False)
        # The program itself (not a caller of main()), and no profiler or coverage tracer
        # waiting to write its results at exit.
        if commandline.finished and argv is None and sys.getprofile() is None \
                and sys.gettrace() is None:
            _exit_now()
    except C2KError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        # `c2k convert | head`: the reader left; that is not an error.
        sys.stderr.close()
        sys.exit(0)
    except RecursionError:
        if debug:
            raise
        click.echo("error: input is nested too deeply", err=True)
        sys.exit(1)
    except MemoryError:
        click.echo("error: out of memory while processing the input", err=True)
        sys.exit(1)
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # an internal bug: short message, traceback only with --debug
        if debug:
            raise
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}\n"
                   "  hint: run again with --debug for a traceback and report it", err=True)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()

"""The conversion's part of the command line: the options every command that converts takes
(convert, apply, diff, up), each declared once, and the conversion those commands run (with
the images pinned first when --build / --push, which diff does not take, ask it).

The ConvertOptions flags come from the table in options.py; --registry is the image commands'
(images/cli.py), and --strict and --no-interpolate are the conversion's own. A test checks that
the commands that convert take the same set.
"""

from __future__ import annotations

import click

from ..commandline import warn
from ..errors import C2KError
from ..images.cli import REGISTRY, pinned_images
from .options import FLAGS, ConvertOptions, Flag

_DEFAULTS = ConvertOptions()


def _option(flag: Flag) -> click.Option:
    default = getattr(_DEFAULTS, flag.field)
    kwargs: dict = {"help": flag.help, "metavar": flag.metavar, "default": default,
                    "show_default": default not in (None, False)}
    if isinstance(default, bool):
        kwargs["is_flag"] = True
    elif flag.choices:
        kwargs["type"] = click.Choice(flag.choices, case_sensitive=False)
    elif flag.minimum is not None:
        kwargs["type"] = click.IntRange(min=flag.minimum)
    if flag.valid is not None:
        def check(ctx, param, value, flag=flag):
            if value is not None and not flag.valid(value):
                raise click.BadParameter(f"{value!r} is not {flag.example}")
            return value
        kwargs["callback"] = check
    return click.Option([*flag.names, flag.field], **kwargs)


STRICT = click.Option(["--strict"], is_flag=True,
                      help="Fail (exit 1) when the wiring check finds a host:port a service "
                           "names that no Service forwards.")
NO_INTERPOLATE = click.Option(["--no-interpolate"], is_flag=True,
                              help="Keep ${VARIABLES} as they are written (as kompose and "
                                   "docker compose config --no-interpolate).")
FLAG_PARAMS = [_option(flag) for flag in FLAGS]
# Every command that converts takes these, in this order.
CONVERT_PARAMS = [*FLAG_PARAMS, REGISTRY, NO_INTERPOLATE, STRICT]


def convert_project(settings, given: dict, *, namespace: str | None,
                    report_file: str | None = None):
    """Load the project, pin its images when --build / --push ask it, and convert it with the
    options of CONVERT_PARAMS; they are taken out of `given`. Returns (project, conversion)."""
    values = {flag.field: given.pop(flag.field) for flag in FLAGS}
    registry, strict = given.pop("registry"), given.pop("strict")
    project = settings.load(interpolate=not given.pop("no_interpolate")).project
    overrides = pinned_images(settings, project, build=given.pop("build", "none"),
                              push=given.pop("push", False), registry=registry)
    options = ConvertOptions(namespace=namespace, registry=registry, image_overrides=overrides,
                             **values)
    from ..emit.report import stderr_lines, write_report
    from .transform import to_manifests
    result = to_manifests(project, options)
    if not settings.quiet:
        for line in stderr_lines(result.report):
            warn(line)
    if report_file:
        write_report(result.report, report_file)
    if strict and result.wiring:
        count = len(result.wiring)
        lines = "" if not settings.quiet else ":\n" + "\n".join(
            f"  {finding}" for finding in result.wiring)
        raise C2KError(f"--strict: the wiring check found {count} reference(s) that no Service "
                       f"forwards{lines}",
                       hint="see the warnings starting with 'wiring:' for each fix")
    return project, result

"""`c2k migrate`: write the Kustomize layout of the project's environments, or check it."""

from __future__ import annotations

import difflib
import os

import click

from ..commandline import command, nothing_left_to_clean, options, warn
from ..kube.cli import FLAG_PARAMS
from ..kube.options import FLAGS, ConvertOptions


@command("migrate")
@click.option("-o", "--output", metavar="DIR",
              help="The layout's folder (default: k8s/ in the project's folder).")
@click.option("--env", "env_values", multiple=True, metavar="NAME=FILE[,FILE]",
              help="An environment and the compose files it adds to the common ones "
                   "(repeatable). Default: compose.override.* is dev, compose.<env>.* and "
                   "docker-compose.<env>.* are <env>.")
@click.option("--format", "fmt", type=click.Choice(["kustomize", "helm"]), default="kustomize",
              show_default=True,
              help="kustomize: a base and an overlay per environment; helm: the base's chart "
                   "and a values-<env>.yaml per environment.")
@click.option("--check", is_flag=True,
              help="Write nothing: exit 1 and print the difference when the layout is not "
                   "what the compose files give now.")
@options(*FLAG_PARAMS)
def migrate_cmd(settings, output, env_values, fmt, check, **flags):
    """Write a Kustomize layout to commit: a base from the common compose files, an overlay
    per environment with what it changes, and MIGRATION.md. With --format helm: a chart of
    the common files and a values-<env>.yaml per environment."""
    from ..emit.shared import write_tree
    from .plan import plan
    command_options = _command_options(settings, flags)
    if fmt == "helm":
        migration = _helm(settings, flags, env_values, output, command_options)
    else:
        migration = plan(settings, ConvertOptions(**flags), env_values, output,
                         command_options=command_options)
    if check:
        differences = compare(migration.root, migration.files)
        if differences:
            click.echo("".join(differences), nl=False)
            click.echo(f"error: {_shown(migration.root)} is not what the compose files give "
                       f"now: run {migration.command}", err=True)
            raise SystemExit(1)
        if not settings.quiet:
            click.echo(f"{_shown(migration.root)} is in step with the compose files", err=True)
        nothing_left_to_clean()
        return
    paths = write_tree(migration.root, migration.files, what="c2k migrate")
    if not settings.quiet:
        for line in migration.warnings if fmt == "helm" else ():
            warn(line)
        notes = "the chart's README.md" if fmt == "helm" else "MIGRATION.md"
        for conv in [migration.base, *migration.envs]:
            count = len(conv.result.report.warnings)
            if count:
                warn(f"{conv.name}: {count} approximated or not-converted keys: see the "
                     f"checklist in {notes}")
        envs = ", ".join(e.name for e in migration.envs) or "none found"
        click.echo(f"wrote {len(paths)} files to {_shown(migration.root)} "
                   f"(environments: {envs})", err=True)
    nothing_left_to_clean()


def _helm(settings, flags: dict, env_values, output, command_options: list[str]):
    """The chart and its values-<env>.yaml, converted as `convert --format helm` converts."""
    from ..emit.formats import FORMATS
    from .charts import plan_helm
    from .plan import command, convert_environments
    found = convert_environments(settings, ConvertOptions(**{**flags, **dict(
        FORMATS["helm"].forced)}), env_values, output)
    return plan_helm(found, command(found, env_values, [*command_options, "--format", "helm"],
                                    files_given=bool(settings.files)))


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path


def _command_options(settings, flags: dict) -> list[str]:
    """The options that change the layout, as written on the command line."""
    out = []
    if settings.project_name:
        out += ["-p", settings.project_name]
    for env_file in settings.env_files:
        out += ["--env-file", env_file]
    for profile in settings.profiles:
        out += ["--profile", profile]
    defaults = ConvertOptions()
    for flag in FLAGS:
        value = flags.get(flag.field)
        if value == getattr(defaults, flag.field) or value is None:
            continue
        out += [flag.names[0]] if value is True else [flag.names[0], str(value)]
    return out


def compare(root: str, files: dict[str, str]) -> list[str]:
    """Unified diffs (relative paths) of the files that differ from what is on disk, and of
    generated files on disk that would no longer be written."""
    from ..emit.shared import stale
    out: list[str] = []
    for rel, text in sorted(files.items()):
        path = os.path.join(root, rel)
        try:
            with open(path, encoding="utf-8") as fh:
                old = fh.read()
        except FileNotFoundError:
            old = None
        if old == text:
            continue
        out.extend(difflib.unified_diff(
            (old or "").splitlines(keepends=True), text.splitlines(keepends=True),
            "/dev/null" if old is None else f"a/{rel}", f"b/{rel}"))
    for path in stale(root, files):
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
        out.extend(difflib.unified_diff(old.splitlines(keepends=True), [], f"a/{rel}",
                                        "/dev/null"))
    return out


COMMANDS = [migrate_cmd]

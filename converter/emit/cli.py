"""The commands that write what c2k made: convert (in any format of formats.py), bundle, and
graph (a picture of the conversion)."""

from __future__ import annotations

import os
from typing import Any

import click

from ..commandline import Settings, command, nothing_left_to_clean, options, warn, write_text
from ..images.cli import BUILD, PUSH, REGISTRY, image_progress
from ..kube.cli import CONVERT_PARAMS, convert_project
from .formats import FORMATS


def _kompose_annotation(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        raise click.BadParameter(
            "c2k does not write kompose.cmd and kompose.version: they would put the command "
            "line and a version into the output, which must be the same bytes for the same "
            "input", param_hint="--with-kompose-annotation")
    return value


@command("convert")
@click.option("-o", "--out", "--output", "out", metavar="PATH",
              help="Write to PATH: a folder (trailing '/' or existing) gets one file per object; "
                   "otherwise one file. Default: stdout.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print to stdout (the default).")
@click.option("-j", "--json", "as_json", is_flag=True, help="JSON (a v1 List) instead of YAML.")
@click.option("--format", "out_format", default="manifests", show_default=True,
              type=click.Choice(list(FORMATS)),
              help="; ".join(f"{f.name}: {f.help}" for f in FORMATS.values()) + ".")
@click.option("-c", "--chart", is_flag=True, help="The same as --format helm (kompose's flag).")
@click.option("-n", "--namespace", metavar="NS",
              help="Put every object in NS and add the Namespace object.")
@options(*CONVERT_PARAMS, BUILD, PUSH)
@click.option("--report", "report_file", metavar="FILE",
              help="Write the full conversion report (YAML, or JSON for *.json) to FILE.")
@click.option("--with-kompose-annotation", type=click.BOOL, is_flag=False, flag_value="true",
              default=False, metavar="[true|false]", callback=_kompose_annotation,
              help="kompose's annotations: c2k writes none, so only false is accepted.")
def convert_cmd(settings: Settings, out: str | None, to_stdout: bool, as_json: bool,
                out_format: str, chart: bool, namespace: str | None, report_file: str | None,
                with_kompose_annotation: bool, **convert: Any) -> None:
    """Convert the compose project into Kubernetes manifests."""
    if chart:
        if out_format not in ("manifests", "helm"):
            raise click.UsageError(f"--chart is --format helm, not --format {out_format}")
        out_format = "helm"
    fmt = FORMATS[out_format]
    if fmt.folder:
        _check_folder(out_format, out)
    convert.update(fmt.forced)
    project, result = convert_project(settings, convert, namespace=namespace,
                                      report_file=report_file)
    from .formats import Target, write
    written = write(out_format, result.objects, Target(
        project.name, None if to_stdout else out, json=as_json, project=project,
        conversion=result))
    if not settings.quiet:
        for line in written.warnings:
            warn(line)
    if written.text is not None:
        click.echo(written.text, nl=False)
    elif not settings.quiet:
        click.echo(written.note, err=True)
    nothing_left_to_clean()     # a build or push has joined its threads by now


def _check_folder(out_format: str, out: str | None) -> None:
    """A format that writes a folder needs -o DIR; -o k.yaml surely meant a file."""
    if not out or out == "-":
        raise click.UsageError(f"--format {out_format} writes a folder: give -o DIR")
    stem, suffix = os.path.splitext(out.rstrip("/"))
    if suffix.lower() in (".yaml", ".yml", ".json") and not os.path.isdir(out):
        raise click.UsageError(f"--format {out_format} writes a folder, and -o {out} names a "
                               f"file: give -o {stem}/ (or leave out --format for one file "
                               f"of manifests)")


@command("bundle")
@click.option("-o", "--output", metavar="FILE",
              help="Write the bundle to FILE ('-' for stdout). Default: <project>.dab.")
@options(PUSH, REGISTRY)
def bundle_cmd(settings: Settings, output: str | None, push: bool, registry: str | None
               ) -> None:
    """Write the Distributed Application Bundle (.dab) with every image pinned by digest."""
    from .bundle import make_bundle, resolve_digests
    project = settings.load().project
    problems: list[str] = []
    digests = resolve_digests(project, push=push, registry=registry, problems=problems,
                              progress=image_progress(settings))
    bundle = make_bundle(project, digests, why="; ".join(problems) or None)
    if not settings.quiet:
        for line in bundle.report:
            warn(line)
    output = output or f"{project.name}.dab"
    if output == "-":
        click.echo(bundle.text(), nl=False)
        return
    write_text(bundle.text(), output)
    if not settings.quiet:
        click.echo(f"wrote bundle to {output}", err=True)


@command("graph")
@click.option("--format", "graph_format", default="mermaid", show_default=True,
              type=click.Choice(["mermaid", "dot"]),
              help="mermaid (code hosts render it in Markdown) or dot (Graphviz).")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE. Default: stdout.")
@options(*CONVERT_PARAMS)
def graph_cmd(settings: Settings, graph_format: str, output: str | None, **convert: Any) -> None:
    """Draw the converted project: services -> workloads, Services and their ports, claims,
    and who reaches whom on which port (from the wiring check), approximations marked."""
    from .graph import graph, render
    project, result = convert_project(settings, convert, namespace=None)
    write_text(render(graph(project, result), graph_format), output)
    nothing_left_to_clean()


COMMANDS = [convert_cmd, bundle_cmd, graph_cmd]

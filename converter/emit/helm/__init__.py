"""`c2k convert --format helm`: a Helm chart of the converted project, scoped to its release.

    Chart.yaml, values.yaml, values.schema.json, README.md, .helmignore,
    templates/_helpers.tpl, templates/NOTES.txt, templates/<name>-<kind>.yaml per object

chart.py builds it; naming.py says what a release renames, hosts.py which Service names in
free text follow, pods.py and secrets.py what the values hold, hooks.py which one-shots run as
hooks. docs/helm.md describes the chart for its users.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..formats import Target, Written
from ..shared import write_tree
from .chart import Chart, chart_name
from .values import camel, values_expr

if TYPE_CHECKING:
    from ...kube.report import ConversionResult
    from ...model import Project

__all__ = ["Chart", "camel", "chart_name", "values_expr", "write", "write_chart"]


def write(objects: list[dict], target: Target) -> Written:
    """The `helm` format (formats.py). Besides the objects the chart needs the conversion they
    came from (start order, service names, references) and the compose project (its secrets and
    published ports): `target.conversion` and `target.project`."""
    if target.conversion is None or target.project is None:
        raise ValueError("the helm format needs the conversion of these objects and its project")
    chart, paths = write_chart(target.conversion, target.project, target.output or "")
    return Written(note=f"wrote helm ({len(paths)} files) to {target.output}",
                   warnings=tuple(unrewritten_lines(chart)))


def write_chart(result: ConversionResult, project: Project,
                output: str) -> tuple[Chart, list[str]]:
    """Write the chart of a conversion (`to_manifests`'s result) into the folder `output`;
    return it and the paths written (shared.write_tree: files an earlier run wrote and this one
    does not are removed)."""
    chart = Chart(result, project)
    return chart, write_tree(output, chart.files(), what="--format helm")


def unrewritten_lines(chart: Chart) -> Iterator[str]:
    """A warning per reference to a service that a release cannot rename (the chart's README
    lists them too)."""
    for ref in chart.unrewritten:
        where = "a secret" if ref.secret else "a file the chart does not carry"
        yield (f"service {ref.service}: {ref.place}: {ref.shown} is in {where}: a release keeps "
               "this name rather than its own Service's; give the release's name there "
               "(the chart's README.md)")

"""`c2k convert --format helm`: a Helm chart of the converted project, scoped to its release.

    Chart.yaml, values.yaml, values.schema.json, README.md, .helmignore,
    templates/_helpers.tpl, templates/NOTES.txt, templates/<name>-<kind>.yaml per object

chart.py builds it; naming.py says what a release renames, hosts.py which Service names in
free text follow, pods.py and secrets.py what the values hold, hooks.py which one-shots run as
hooks. docs/helm.md describes the chart for its users.
"""

from __future__ import annotations

import os

from ...errors import C2KError
from .chart import HEADER, Chart, camel, chart_name, values_expr

__all__ = ["Chart", "HEADER", "camel", "chart_name", "values_expr", "write_chart", "write_tree"]


def write_chart(result, project, output: str, *, warn=None) -> list[str]:
    """Write the chart of a conversion (`to_manifests`'s result) into the folder `output`;
    return the paths written. `warn` gets a line per reference to a service that a release
    cannot rename (they are in the chart's README too).

    Files c2k wrote before (they start with its header) and no longer writes are removed, so
    a template of an object that is gone cannot linger; other files are left alone.
    """
    if not output or output == "-":
        raise C2KError("--format helm writes a folder", hint="give -o DIR")
    if os.path.exists(output) and not os.path.isdir(output):
        raise C2KError(f"{output} exists and is not a folder", hint="give -o DIR")
    chart = Chart(result, project)
    paths = write_tree(output, chart.files())
    for ref in chart.unrewritten if warn else ():
        where = "a secret" if ref.secret else "a file the chart does not carry"
        warn(f"service {ref.service}: {ref.place}: {ref.shown} is in {where}: a release keeps "
             "this name rather than its own Service's; give the release's name there "
             "(the chart's README.md)")
    return paths


def write_tree(output: str, files: dict[str, str]) -> list[str]:
    """Write {relative path: text}; drop stale c2k-generated files under `output`."""
    wanted = {os.path.normpath(os.path.join(output, p)) for p in files}
    if os.path.isdir(output):
        for root, _, names in os.walk(output):
            for fname in names:
                path = os.path.normpath(os.path.join(root, fname))
                if path not in wanted and _generated(path):
                    os.remove(path)
    written = []
    for rel, text in files.items():
        path = os.path.join(output, rel)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        written.append(path)
    return written


def _generated(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(64)
    except (OSError, UnicodeDecodeError):
        return False
    return head.startswith(HEADER) or head.startswith("{{/* " + HEADER[2:])

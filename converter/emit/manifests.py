"""Write converted objects: a YAML stream (or JSON `v1 List`) to stdout, one file, or a folder.

`-o DIR/` (a trailing slash, or an existing folder) writes one file per object named
`<name>-<kind>.yaml` (`.json` with --json), as kompose does; `-o FILE` writes one stream. The
same objects always give the same bytes.
"""

from __future__ import annotations

import json as _json
import os

from . import yamlio
from .formats import Target, Written
from .shared import file_name


def render(objects: list[dict], *, json: bool = False) -> str:
    if json:
        return _json_text({"apiVersion": "v1", "kind": "List", "items": list(objects)})
    return yamlio.dump_all(objects)


def _json_text(obj) -> str:
    return _json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def is_dir_target(output: str) -> bool:
    return output.endswith(("/", os.sep)) or os.path.isdir(output)


def write_output(objects: list[dict], *, output: str | None, json: bool = False) -> str | None:
    """Return the text for stdout when `output` is None; otherwise write files, return None."""
    if output is None or output == "-":
        return render(objects, json=json)
    if is_dir_target(output):
        os.makedirs(output, exist_ok=True)
        for obj in objects:
            text = _json_text(obj) if json else yamlio.dump(obj)
            _write(os.path.join(output, file_name(obj, json=json)), text)
        return None
    parent = os.path.dirname(output)
    if parent:
        os.makedirs(parent, exist_ok=True)
    _write(output, render(objects, json=json))
    return None


def write(objects: list[dict], target: Target) -> Written:
    """The `manifests` format (formats.py)."""
    text = write_output(objects, output=target.output, json=target.json)
    if text is not None:
        return Written(text=text)
    paths = written_files(objects, target.output, json=target.json)
    where = target.output if len(paths) != 1 else paths[0]
    return Written(note=f"wrote {len(objects)} object(s) to {where}")


def written_files(objects: list[dict], output: str, *, json: bool = False) -> list[str]:
    """The paths `write_output` writes for `output` (for messages)."""
    if is_dir_target(output):
        return [os.path.join(output, file_name(o, json=json)) for o in objects]
    return [output]


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)

"""The output formats of `c2k convert --format`: one registry.

A format is a module with `write(objects, target) -> Written`: it gets the converted objects (the
same for every format) and where to write them, and says what it wrote. Registering it here puts
it in `--format`, its help and the check that a folder format is given `-o DIR`; its module is
imported only when it is used. A new format: its module, a row here, its test.

`c2k bundle` is not a format: a bundle is made from the compose project and its images'
digests, not from the converted objects (emit/bundle.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ..kube.report import ConversionResult
    from ..model import Project


class Target(NamedTuple):
    project_name: str
    output: str | None          # None: stdout
    json: bool = False          # -j: JSON instead of YAML, where the format has both
    # for a format that needs more than the objects (helm: the start order, the references):
    project: Project | None = None               # the compose Project
    conversion: ConversionResult | None = None   # the conversion the objects come from


class Written(NamedTuple):
    text: str | None = None     # what goes to stdout
    note: str = ""              # for stderr: what was written where
    warnings: tuple[str, ...] = ()   # for stderr, unless -q


class Format(NamedTuple):
    name: str
    module: str                 # converter.emit.<module>, which has write(objects, target)
    help: str
    folder: bool = False        # writes a folder: needs -o DIR
    # ConvertOptions the format converts with whatever the command line says
    forced: tuple[tuple[str, object], ...] = ()


FORMATS = {fmt.name: fmt for fmt in (
    Format("manifests", "manifests", "a YAML stream (a JSON List with -j): stdout, -o FILE, "
                                     "or a file per object with -o DIR/"),
    # a chart never carries a secret value: secret-looking env goes to Secrets (--secret-env),
    # whose values the user gives at install (emit/helm/secrets.py)
    Format("helm", "helm", "a Helm chart in -o DIR", folder=True,
           forced=(("secret_env", True),)),
    Format("kustomize", "kustomize", "a Kustomize base with dev and prod overlays in -o DIR",
           folder=True),
)}


def write(name: str, objects: list[dict], target: Target) -> Written:
    module = importlib.import_module(f"{__package__}.{FORMATS[name].module}")
    written: Written = module.write(objects, target)
    return written

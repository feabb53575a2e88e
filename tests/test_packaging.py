"""The distribution: its PyPI name, its command, dependency ranges bounded at both ends, and
constraints.txt (what make demo, make test and CI install) inside those ranges."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from helpers import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
NAME = PROJECT["name"]
PINS = {canonicalize_name(name): Version(version) for name, version in re.findall(
    r"^([A-Za-z0-9_.-]+)==(\S+)$", (REPO / "constraints.txt").read_text(), re.MULTILINE)}


def test_the_distribution_is_compose2kube_and_its_command_c2k():
    # "c2k" on PyPI is somebody else's project: never tell anyone to install it.
    assert NAME == "compose2kube"
    assert PROJECT["scripts"] == {"c2k": "converter.cli:main"}


def _texts():
    for path in [REPO / "README.md", REPO / "Makefile", *REPO.glob("docs/*.md"),
                 *REPO.glob("converter/**/*.py"), *(p for p in REPO.glob(".ci/**/*") if p.is_file())]:
        yield path.relative_to(REPO), path.read_text()


@pytest.mark.parametrize("pattern", [r"pip install ['\"]?c2k\b", r"['\"]c2k\["])
def test_no_instruction_installs_the_other_c2k(pattern):
    found = [f"{path}: {m.group()}" for path, text in _texts()
             for m in re.finditer(pattern, text)]
    assert not found


def _requirements():
    yield from PROJECT["dependencies"]
    for extra in PROJECT["optional-dependencies"].values():
        yield from extra


@pytest.mark.parametrize("text", sorted(set(_requirements())))
def test_every_range_is_bounded_and_constraints_pin_a_version_inside(text):
    requirement = Requirement(text)
    operators = {spec.operator for spec in requirement.specifier}
    assert operators == {"=="} or {">=", "<"} <= operators, \
        f"{text}: give a lower and an upper bound (the versions the tests ran against)"
    pinned = PINS.get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is not in constraints.txt: run .ci/lock"
    assert requirement.specifier.contains(pinned), \
        f"constraints.txt has {requirement.name}=={pinned}, outside {text}: run .ci/lock"


def test_an_installed_c2k_holds_every_module_and_data_file():
    # The editable install of make test reads the tree itself, so only this catches a package or
    # data file that `pip install .` would leave out.
    from setuptools import find_packages
    setuptools_config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(str(REPO), **setuptools_config["packages"]["find"]))
    folders = {str(path.parent.relative_to(REPO)).replace("/", ".")
               for path in (REPO / "converter").rglob("*.py")}
    assert folders <= found, f"left out of the distribution: {sorted(folders - found)}"
    data_globs = setuptools_config["package-data"]["converter"]
    data = {path for path in (REPO / "converter").rglob("*")
            if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts}
    covered = {path for pattern in data_globs for path in (REPO / "converter").glob(pattern)}
    assert data <= covered, f"data files left out: {sorted(str(p) for p in data - covered)}"

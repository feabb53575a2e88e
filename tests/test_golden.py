"""outputs/ holds exactly what c2k produces for samples/ (run `make outputs` to refresh).

bundle.dab is the exception to byte-exactness: its digests come from the run that generated it
(tests/golden.py says how); without Docker everything but the digests is checked, and the
``docker`` test regenerates it against the test registry."""

from __future__ import annotations

import json
import re

import pytest

from converter.imagerefs import image_name, split_host
from tests import golden
from tests.docker_env import manifest_digest

pytestmark = pytest.mark.slow  # each test converts the samples with c2k in a subprocess

PINNED = re.compile(r"(?P<name>[^@]+)@(?P<digest>sha256:[0-9a-f]{64})")


@pytest.mark.parametrize("sample", golden.samples())
def test_outputs_are_current(sample):
    folder = golden.OUTPUTS / sample
    rendered = golden.render(sample)
    committed = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert committed - {golden.BUNDLE} == set(rendered), \
        "outputs/ has extra or missing files: run `make outputs`"
    for name, content in rendered.items():
        path = folder / name
        assert path.exists(), f"{path} missing: run `make outputs`"
        assert path.read_text() == content, f"{path} is stale: run `make outputs` and review"


@pytest.mark.parametrize("sample", golden.samples())
def test_committed_bundle_is_current_but_for_its_digests(sample):
    path = golden.OUTPUTS / sample / golden.BUNDLE
    assert path.exists(), f"{path} missing: run `make outputs` (needs .ci/docker-up)"
    committed = path.read_text()
    data = json.loads(committed)
    assert data["Version"] == "0.1"
    assert set(data["Services"]) == set(golden.load_sample(sample).services)
    for service, entry in data["Services"].items():
        assert PINNED.fullmatch(entry["Image"]), f"{service}: {entry['Image']} is not pinned"
    assert golden.expected_bundle(sample, committed) == committed, \
        f"{path} is stale: run `make outputs` (needs .ci/docker-up) and review"


@pytest.mark.parametrize("sample", golden.samples())
def test_conversion_is_deterministic(sample):
    assert golden.render(sample) == golden.render(sample)


@pytest.mark.parametrize("sample", golden.samples())
def test_outputs_hold_no_absolute_paths(sample):
    contents = list(golden.render(sample).values())
    contents.append((golden.OUTPUTS / sample / golden.BUNDLE).read_text())
    for content in contents:
        assert str(golden.REPO) not in content and str(golden.SAMPLES) not in content


@pytest.mark.docker
@pytest.mark.parametrize("sample", golden.samples())
def test_bundle_regenerates_with_registry_digests(sample, docker_env):
    """A real `c2k bundle --push` against the test registry gives the committed bundle.dab but
    for the digests, and every digest is one the registry serves (asked over HTTP)."""
    text = golden.render_bundle(sample, docker_env)
    data = json.loads(text)
    project = golden.load_sample(sample)
    assert data["Version"] == "0.1" and set(data) == {"Version", "Services"}
    assert set(data["Services"]) == set(project.services)
    for service, entry in data["Services"].items():
        pinned = PINNED.fullmatch(entry["Image"])
        assert pinned, f"{service}: {entry['Image']} is not name@sha256:<64 hex>"
        svc = project.services[service]
        host, path = split_host(pinned["name"])
        name, tag = image_name(project, svc)
        if svc.build is not None:   # built and pushed to the test registry
            assert host == golden.BUNDLE_REGISTRY and path == split_host(name)[1]
        else:                       # a Docker Hub name: the stand-in, pulled through the mirror
            assert host is None and pinned["name"] == name
            assert svc.image in docker_env.standins and docker_env.mirror
            path = path if "/" in path else f"library/{path}"
        assert manifest_digest(docker_env.registry, path, tag) == pinned["digest"], service
    committed = (golden.OUTPUTS / sample / golden.BUNDLE).read_text()
    assert golden.mask_digests(text) == golden.mask_digests(committed), \
        "bundle.dab is stale: run `make outputs` and review"
    assert str(golden.REPO) not in text

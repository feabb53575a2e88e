"""outputs/ holds exactly what c2k produces for samples/ (run `make outputs` to refresh)."""

from __future__ import annotations

import pytest

from tests import golden


@pytest.mark.parametrize("sample", golden.samples())
def test_outputs_are_current(sample):
    folder = golden.OUTPUTS / sample
    rendered = golden.render(sample)
    committed = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert committed == set(rendered), "outputs/ has extra or missing files: run `make outputs`"
    for name, content in rendered.items():
        path = folder / name
        assert path.exists(), f"{path} missing: run `make outputs`"
        assert path.read_text() == content, f"{path} is stale: run `make outputs` and review"


@pytest.mark.parametrize("sample", golden.samples())
def test_conversion_is_deterministic(sample):
    assert golden.render(sample) == golden.render(sample)


@pytest.mark.parametrize("sample", golden.samples())
def test_outputs_hold_no_absolute_paths(sample):
    for content in golden.render(sample).values():
        assert str(golden.REPO) not in content and str(golden.SAMPLES) not in content

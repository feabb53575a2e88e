"""Locating ../shared/corpus: skip with a clear message where it is absent, fail in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
MISSING = "../shared/corpus not found; corpus tests need the shared test data"


def corpus_dir(*parts: str) -> Path:
    """The corpus folder, or skip (fail when CI=true) if it is not there."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MISSING} (CI=true: corpus tests must run)")
        pytest.skip(MISSING)
    return path


def corpus_cases(*parts: str, pattern: str = "*") -> list[Path]:
    """Collect cases at import time for parametrize; empty when the corpus is absent."""
    path = CORPUS.joinpath(*parts)
    return sorted(path.glob(pattern)) if path.exists() else []

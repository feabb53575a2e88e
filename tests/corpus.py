"""Locating ../shared/corpus: skip with a clear message where it is absent, fail in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest



def _shared() -> Path:
    """../shared beside the clone; a git worktree nested deeper finds it further up."""
    repo = Path(__file__).resolve().parents[1]
    for folder in repo.parents:
        if (folder / "shared" / "corpus").is_dir():
            return folder / "shared"
    return repo.parent / "shared"


SHARED = _shared()
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


# Billion-laughs documents: the reference hangs on them; they have their own tests.
ALIAS_BOMBS = ("TestAliasBombPrevented-B9_N9_original_poc", "TestAliasNodePreservation")
_NOT_COMPOSE = ("expected", "output", "overlays", "/base/", "templates", "schema",
                "Chart.yaml", "values.yaml", "INDEX", "kustomization")


def compose_files() -> list[Path]:
    """Every YAML file in the corpus that may be a compose file (the reference decides)."""
    if not CORPUS.exists():
        return []
    found = []
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix not in (".yml", ".yaml") or not path.is_file():
            continue
        text = str(path.relative_to(CORPUS))
        if any(marker in text for marker in _NOT_COMPOSE) or any(b in text for b in ALIAS_BOMBS):
            continue
        found.append(path)
    return found

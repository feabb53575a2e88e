"""Locating ../shared/corpus: skip with a clear message where it is absent, fail in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

def _shared() -> Path:
    """../shared next to the repository, or next to a folder holding it (a git worktree in
    wt/<name> finds the shared data two levels up)."""
    for parent in Path(__file__).resolve().parents[2:4]:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared"
    return Path(__file__).resolve().parents[2] / "shared"


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


def realworld_projects() -> list[Path]:
    """The project folders of corpus/realworld (collected at import time for parametrize)."""
    return [p for p in corpus_cases("realworld") if p.is_dir()]


def realworld_files(folder: Path) -> tuple[str, ...]:
    """The `-f` files a realworld project needs (its ARGS file), as absolute paths; () to
    discover them as docker compose does."""
    args_file = folder / "ARGS"
    if not args_file.exists():
        return ()
    words = args_file.read_text().split()
    return tuple(str(folder / w) for i, w in enumerate(words) if i and words[i - 1] == "-f")

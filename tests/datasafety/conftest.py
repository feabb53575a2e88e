"""Fixtures of the data-safety tests: the `keep` project in a fresh namespace on the real node
(ds-<uuid8>: pods go to the real node), removed with its claims at the end."""

from __future__ import annotations

import uuid

import pytest

from tests.datasafety.project import Data, Keep, compose, delete_leftovers


@pytest.fixture
def keep(real_node, docker_env, tmp_path):
    project = Keep(real_node, f"ds-{uuid.uuid4().hex[:8]}", tmp_path)
    project.write(compose())
    yield project
    delete_leftovers(project)


@pytest.fixture
def data(keep):
    """The project up, its token written."""
    keep.up().ok()
    written = Data(keep, f"token-{uuid.uuid4().hex[:12]}")
    written.write()
    return written

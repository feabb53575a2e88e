"""Shared pytest setup: the Docker and cluster fixtures live in their own plugin modules."""

import os
import sys
from pathlib import Path

import pytest

# The plugin modules import their helpers (docker_env, ...) as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["conftest_docker", "conftest_cluster", "conftest_tools"]

# The fixtures that bring up infrastructure, and the marker of the tests that use them: set
# here, so that `-m "not docker"` (make test-fast) never depends on a decorator remembered.
INFRASTRUCTURE_MARKERS = {"docker_env": "docker", "cluster_kubeconfig": "cluster",
                          "real_node": "realnode",
                          "tools_bin_dir": "tools", "helm_bin": "tools", "kustomize_bin": "tools"}


@pytest.hookimpl(tryfirst=True)     # before -m deselects
def pytest_collection_modifyitems(items):
    for item in items:
        for fixture in INFRASTRUCTURE_MARKERS.keys() & set(item.fixturenames):
            item.add_marker(INFRASTRUCTURE_MARKERS[fixture])


@pytest.fixture
def command_on_path(tmp_path, monkeypatch):
    """put(name, script): a shell script NAME, first on PATH, for stand-ins of the programs c2k
    runs (ssh, docker-credential-*); returns its path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    def put(name: str, script: str) -> Path:
        path = bin_dir / name
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)
        return path
    return put

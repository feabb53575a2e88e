"""Pytest plugin: the reference tools `helm` and `kustomize`, built from the Go module proxy.

Registered from tests/conftest.py (``pytest_plugins = [..., "conftest_tools"]``). Provides:

* marker ``tools`` for tests that run helm or kustomize;
* session fixtures ``helm_bin`` and ``kustomize_bin``: the binaries' paths. The first use runs
  ``tests/tools/build`` (pinned by tests/tools/go.mod; on two cores a build takes about ten
  minutes with an empty Go build cache, two with a warm one; later runs find the binaries in
  ${C2K_CACHE:-~/.cache/c2k}/tools at once). When the build fails the test is skipped with the
  reason, or fails when CI=true;
* ``objects_by_key(docs)``: parsed YAML documents keyed by (kind, namespace, name), for
  comparing what helm/kustomize render with what `c2k convert` writes.

Environment: C2K_HELM / C2K_KUSTOMIZE use those binaries instead of building; GO names the Go
toolchain (default: the one tests/gobin/go finds); C2K_TOOLS_BUILD_TIMEOUT in seconds (default 1800).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from converter.kube.options import ConvertOptions
from tests.helpers import refuse_in_unit_runs

__all__ = [
    "OPTION_SETS",
    "SAMPLES",
    "TOOLS_DIR",
    "helm_bin",
    "kustomize_bin",
    "objects_by_key",
    "pytest_configure",
    "run_tool",
    "tools_bin_dir",
]

TOOLS_DIR = Path(__file__).resolve().parent / "tools"
# What the helm and kustomize tests render: every sample under each of these option sets.
SAMPLES = sorted(p for p in (TOOLS_DIR.parents[1] / "samples").iterdir() if p.is_dir())
OPTION_SETS = {
    "default": ConvertOptions(),
    "namespaced": ConvertOptions(namespace="shop", generate_network_policies=True,
                                 secret_env=True),
    "statefulset": ConvertOptions(controller="statefulset", replicas=3),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers",
                            "tools: runs helm/kustomize built by tests/tools/build")


def _unavailable(message: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: the helm/kustomize tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def tools_bin_dir() -> Path:
    """The folder holding helm and kustomize, built on first use."""
    refuse_in_unit_runs("helm and kustomize (a Go build: tests/tools/build)")
    timeout = float(os.environ.get("C2K_TOOLS_BUILD_TIMEOUT", "1800"))
    try:
        proc = subprocess.run([str(TOOLS_DIR / "build")], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        _unavailable(f"tests/tools/build did not finish in {timeout:.0f}s")
    except OSError as exc:
        _unavailable(f"cannot run tests/tools/build: {exc}")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        _unavailable(f"helm/kustomize could not be built by tests/tools/build "
                     f"(exit {proc.returncode}):\n{tail}")
    return Path(proc.stdout.strip().splitlines()[-1])


def _tool(name: str, request) -> str:
    override = os.environ.get(f"C2K_{name.upper()}")
    if override:
        if not os.access(override, os.X_OK):
            _unavailable(f"C2K_{name.upper()}={override} is not an executable")
        return override
    path = request.getfixturevalue("tools_bin_dir") / name
    if not os.access(path, os.X_OK):
        _unavailable(f"{path} is missing after tests/tools/build")
    return str(path)


@pytest.fixture(scope="session")
def helm_bin(request) -> str:
    return _tool("helm", request)


@pytest.fixture(scope="session")
def kustomize_bin(request) -> str:
    return _tool("kustomize", request)


def run_tool(*args, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """Run helm/kustomize with a clean HOME-independent environment; raise with its output."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"),
           "HELM_CACHE_HOME": "/tmp/c2k-helm/cache", "HELM_CONFIG_HOME": "/tmp/c2k-helm/config",
           "HELM_DATA_HOME": "/tmp/c2k-helm/data"}
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def objects_by_key(docs) -> dict:
    """{(kind, namespace, name): object} from parsed documents (YAML text or a list); empty
    documents (comments only) are skipped; a duplicate key is an error."""
    if isinstance(docs, str):
        docs = list(yaml.safe_load_all(docs))
    out = {}
    for doc in docs:
        if not doc:
            continue
        meta = doc.get("metadata") or {}
        key = (doc.get("kind"), meta.get("namespace"), meta.get("name"))
        assert key not in out, f"two objects {key}"
        out[key] = doc
    return out

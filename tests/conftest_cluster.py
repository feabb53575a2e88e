"""Pytest plugin: a real local Kubernetes cluster for the tests.

The cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
for a simulated node and, as root, a real node: containerd, kubelet, kube-proxy,
CoreDNS) is built and started by the scripts in tests/cluster/ (see
tests/cluster/README.md).

Import it from the main conftest, e.g. ``from conftest_cluster import *`` or
``pytest_plugins = ["conftest_cluster"]``. It provides:

* marker ``cluster`` for tests that need the cluster, ``realnode`` for tests
  that run real containers on its real node;
* session fixture ``cluster_kubeconfig``: starts (or reuses) the cluster and
  returns the admin kubeconfig path (str). When the cluster cannot start the
  test is skipped, or fails when CI=true;
* session fixture ``real_node``: the same kubeconfig, once the real node is
  Ready (skipped, or failed when CI=true, when the cluster has none);
* ``KWOK_NAMESPACE_PREFIX``: the pods of a namespace whose name starts with it
  go to the simulated node (cluster/kwok-namespaces.yaml); all others to the
  real node;
* ``kubectl_path()``: the kubectl built with the cluster;
* fixture ``node_restart``: restart(*namespaces) restarts the real node (tests/cluster/node/
  restart, killing those namespaces' containers); it waits until no other test uses the node:
  every ``realnode`` test holds the lock ``<cluster dir>.node-in-use`` shared, the restart
  holds it alone;
* ``cluster_dir()``: where the state, logs and extra kubeconfigs live
  (``unprivileged.kubeconfig`` is an authenticated user without RBAC rights).

Environment: C2K_CLUSTER_DIR (state dir, default /tmp/c2k-cluster), C2K_CACHE
(binary cache root, default ~/.cache/c2k), C2K_CLUSTER_UP_TIMEOUT (seconds,
default 3600: a cold build takes a while), C2K_CLUSTER_TEARDOWN=1 (stop the
cluster at the end of the session; always so when CI=true, so that the real
node's changes to the machine are undone).
It does not need the ``kubernetes`` Python package.
"""

from __future__ import annotations

import fcntl
import functools
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import refuse_in_unit_runs

__all__ = [
    "CLUSTER_SCRIPTS",
    "KWOK_NAMESPACE_PREFIX",
    "cluster_dir",
    "cluster_kubeconfig",
    "kubectl_path",
    "pytest_configure",
    "pytest_sessionfinish",
    "real_node",
    "real_node_name",
]

CLUSTER_SCRIPTS = Path(__file__).resolve().parent / "cluster"
# With a real node the kwok node is tainted; an admission policy (cluster/kwok-namespaces.yaml)
# gives the pods of namespaces named so its node selector and the toleration.
KWOK_NAMESPACE_PREFIX = "t-"


def cluster_dir() -> Path:
    """Directory holding the running cluster's state, logs and kubeconfigs."""
    return Path(os.environ.get("C2K_CLUSTER_DIR", "/tmp/c2k-cluster"))


@functools.cache
def _bin_dir() -> Path:
    out = subprocess.run(
        [str(CLUSTER_SCRIPTS / "build"), "--print-dir"],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def kubectl_path() -> str:
    """Path of the kubectl built for the test cluster (exists once built)."""
    return str(_bin_dir() / "kubectl")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cluster: needs the local Kubernetes test cluster (tests/cluster/up)",
    )
    config.addinivalue_line(
        "markers",
        "realnode: runs real containers on the test cluster's real node (needs root)",
    )


def _ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (or with C2K_CLUSTER_TEARDOWN=1) stop the cluster once the whole session is over:
    on the controller only, never in an xdist worker while the others still run tests."""
    if hasattr(session.config, "workerinput"):
        return
    if not (_ci() or os.environ.get("C2K_CLUSTER_TEARDOWN") == "1"):
        return
    if not (cluster_dir() / "pids").is_dir():
        return
    subprocess.run([str(CLUSTER_SCRIPTS / "down")], stdin=subprocess.DEVNULL, check=False)


def _log_tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _cannot_start(message: str) -> None:
    if _ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def cluster_kubeconfig() -> Iterator[str]:
    """Start (or reuse) the local test cluster; return its admin kubeconfig path."""
    refuse_in_unit_runs("the test cluster (tests/cluster/up)")
    up = CLUSTER_SCRIPTS / "up"
    timeout = float(os.environ.get("C2K_CLUSTER_UP_TIMEOUT", "3600"))
    # Output goes to a file, not a pipe: nothing started by "up" may hold our pipes.
    fd, name = tempfile.mkstemp(prefix="c2k-cluster-up-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    try:
        with open(log_path, "w") as log:
            proc = subprocess.run(
                [str(up)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                timeout=timeout,
            )
    except subprocess.TimeoutExpired:
        _cannot_start(
            f"test cluster did not start within {timeout:.0f}s; "
            f"log tail ({log_path}):\n{_log_tail(log_path.read_text())}"
        )
    except OSError as exc:
        _cannot_start(f"test cluster could not be started ({up}): {exc}")
    if proc.returncode != 0:
        _cannot_start(
            f"test cluster could not start ({up} exited {proc.returncode}); "
            f"log tail ({log_path}):\n{_log_tail(log_path.read_text())}"
        )
    kubeconfig = proc.stdout.strip().splitlines()[-1]
    log_path.unlink()
    yield kubeconfig


def node_in_use_lock() -> Path:
    return Path(f"{cluster_dir()}.node-in-use")


@pytest.fixture(autouse=True)
def _real_node_in_use(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test on the real node keeps it from being restarted under it (its exec and logs would
    fail meanwhile): it holds node_in_use_lock() shared, which node/restart takes alone."""
    if request.node.get_closest_marker("realnode") is None or \
            "node_restart" in request.fixturenames:
        yield
        return
    with open(node_in_use_lock(), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        yield


@pytest.fixture
def ns(cluster_kubeconfig: str) -> Iterator[str]:
    """A namespace name of the test's own (the simulated node's); deleted afterwards."""
    from cluster_util import delete_namespace, new_namespace_name
    name = new_namespace_name()
    yield name
    delete_namespace(cluster_kubeconfig, name)


@pytest.fixture
def node_restart(real_node: str):
    """restart(*namespaces): stop and start the real node's containerd and kubelet, killing
    the containers of those namespaces meanwhile (as a power cut would); returns its log."""
    def restart(*namespaces: str) -> str:
        argv = [str(CLUSTER_SCRIPTS / "node" / "restart")]
        for namespace in namespaces:
            argv += ["--kill", namespace]
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=1200)
        assert proc.returncode == 0, f"node/restart exited {proc.returncode}:\n{proc.stderr}"
        return proc.stderr
    return restart


def real_node_name() -> str:
    """The real node's name, or '' when the running cluster has none."""
    ports = cluster_dir() / "ports.env"
    if not ports.is_file():
        return ""
    for line in ports.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "REAL_NODE_NAME":
            return value.strip()
    return ""


@pytest.fixture(scope="session")
def real_node(cluster_kubeconfig: str) -> str:
    """The cluster's admin kubeconfig, once its real node is Ready."""
    name = real_node_name()
    if not name:
        _cannot_start(
            "the test cluster has no real node (it needs root; C2K_REAL_NODE=0 turns it off, "
            "and only one cluster per machine has it): see tests/cluster/README.md"
        )
    proc = subprocess.run(
        [kubectl_path(), "--kubeconfig", cluster_kubeconfig, "wait", "--for=condition=Ready",
         "--timeout=60s", f"node/{name}"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        _cannot_start(f"the real node {name} is not Ready: {proc.stderr.strip()}")
    return cluster_kubeconfig

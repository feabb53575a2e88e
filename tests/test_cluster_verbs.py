"""The compose verbs on the local control plane's simulated (kwok) node: ps, scale, stop/start,
restart, events, port, run, rm, and what logs, exec and top say where no container runs. The
same verbs on real containers: tests/test_realnode_verbs.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cluster_util import (c2k, delete_namespace, get_json, kubectl, new_namespace_name,
                          wait_until, write_compose)

pytestmark = pytest.mark.cluster

COMPOSE = """
    name: verbs
    services:
      web:
        image: nginx:1.27
        ports: ["8080:80"]
        deploy: {replicas: 2}
      my_worker:
        image: busybox:1.36
        command: ["sleep", "infinity"]
    """


@pytest.fixture(scope="module")
def deployed(cluster_kubeconfig, tmp_path_factory):
    folder = tmp_path_factory.mktemp("verbs")
    write_compose(folder, COMPOSE)
    ns = new_namespace_name()
    proc = c2k(cluster_kubeconfig, "-q", "up", "-n", ns, "--timeout", "2m", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    yield cluster_kubeconfig, ns, folder
    delete_namespace(cluster_kubeconfig, ns)


def run(deployed, *args, quiet=True):
    kubeconfig, ns, folder = deployed
    return c2k(kubeconfig, *(["-q"] if quiet else []), args[0], "-n", ns, *args[1:], cwd=folder)


def replicas(deployed, name):
    kubeconfig, ns, _ = deployed
    return get_json(kubeconfig, "deployment", name, "-n", ns)["spec"]["replicas"]


def running_pods(deployed, service):
    proc = run(deployed, "ps", service, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return [r for r in json.loads(proc.stdout) if r["status"] == "Running"]


def test_ps_lists_pods_per_service(deployed):
    proc = run(deployed, "ps")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "NAME", "STATUS", "READY", "RESTARTS", "AGE"]
    rows = [line.split() for line in lines[1:]]
    assert sorted(r[0] for r in rows) == ["my-worker", "web", "web"]
    assert all(r[2] == "Running" and r[3] == "1/1" and r[4] == "0" for r in rows)
    # compose names work as well as Kubernetes names
    assert len(running_pods(deployed, "my_worker")) == 1


def test_scale_then_apply_resets_without_conflict(deployed):
    proc = run(deployed, "scale", "web=3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "deployment/web scaled to 3"
    assert replicas(deployed, "web") == 3
    wait_until(lambda: len(running_pods(deployed, "web")) == 3)
    diff = run(deployed, "diff")
    assert diff.returncode == 1 and "-  replicas: 3" in diff.stdout
    apply = run(deployed, "apply")  # as docker compose up: back to the compose file
    assert apply.returncode == 0, apply.stderr
    assert replicas(deployed, "web") == 2
    assert run(deployed, "diff").returncode == 0


def test_scale_rejects_bad_input(deployed):
    bad = run(deployed, "scale", "web")
    assert bad.returncode == 2 and "SERVICE=N" in bad.stderr
    unknown = run(deployed, "scale", "nope=2")
    assert unknown.returncode == 1
    assert "no service 'nope'" in unknown.stderr and "my-worker, web" in unknown.stderr


def test_stop_and_start_remember_replicas(deployed):
    proc = run(deployed, "stop")
    assert proc.returncode == 0, proc.stderr
    assert "deployment/web stopped (was 2)" in proc.stdout
    assert replicas(deployed, "web") == 0 and replicas(deployed, "my-worker") == 0
    wait_until(lambda: not running_pods(deployed, "web"))
    again = run(deployed, "stop", "web")
    assert "already stopped" in again.stdout
    proc = run(deployed, "start", "web")
    assert proc.returncode == 0, proc.stderr
    assert "deployment/web started (2)" in proc.stdout
    assert replicas(deployed, "web") == 2 and replicas(deployed, "my-worker") == 0
    run(deployed, "start")
    assert replicas(deployed, "my-worker") == 1
    kubeconfig, ns, _ = deployed
    annotations = get_json(kubeconfig, "deployment", "web", "-n", ns)["metadata"].get(
        "annotations") or {}
    assert "c2k.io/stopped-replicas" not in annotations
    assert run(deployed, "diff").returncode == 0


def test_restart_rolls_pods_and_apply_keeps_it(deployed):
    before = {r["name"] for r in running_pods(deployed, "web")}
    proc = run(deployed, "restart", "web")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "deployment/web restarted"
    wait_until(lambda: (lambda now: len(now) == 2 and not now & before)(
        {r["name"] for r in running_pods(deployed, "web")}), timeout=60)
    kubeconfig, ns, _ = deployed
    template = get_json(kubeconfig, "deployment", "web", "-n", ns)["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    # apply neither conflicts with nor undoes the restart
    assert run(deployed, "diff").returncode == 0
    assert run(deployed, "apply").returncode == 0


def test_events_json_lines(deployed):
    proc = run(deployed, "events", "--json")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events
    for event in events:
        assert set(event) == {"time", "type", "action", "id", "service", "attributes"}
        assert event["service"] in ("web", "my-worker")
    assert any(e["type"] == "pod" and e["action"] == "Scheduled" for e in events)
    assert any(e["type"] == "deployment" and e["action"] == "ScalingReplicaSet" for e in events)
    only = run(deployed, "events", "my_worker")
    assert only.returncode == 0 and only.stdout
    assert all("(service=my-worker)" in line for line in only.stdout.splitlines())


def test_port_names_the_address(deployed):
    kubeconfig, ns, _ = deployed
    proc = run(deployed, "port", "web", "80")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"web.{ns}.svc.cluster.local:8080"
    missing = run(deployed, "port", "web", "81")
    assert missing.returncode == 1 and "does not publish port 81/tcp" in missing.stderr


def test_logs_without_kubelet_logs_say_so(deployed):
    proc = run(deployed, "logs", "--tail", "5", "web")
    assert proc.returncode == 1
    assert "logs unavailable" in proc.stderr and "web-" in proc.stderr
    assert "no logs could be read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_logs_follow_without_kubelet_logs_says_so(deployed):
    proc = run(deployed, "logs", "--follow", "web")
    assert proc.returncode == 1
    assert "logs unavailable" in proc.stderr and "no logs could be followed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_kubeconfig_warning_is_said_once_and_not_under_quiet(deployed, tmp_path):
    # insecure-skip-tls-verify: urllib3 warned at every request (a dozen lines for one ps).
    kubeconfig, ns, folder = deployed
    config = yaml.safe_load(Path(kubeconfig).read_text())
    cluster = config["clusters"][0]["cluster"]
    cluster.pop("certificate-authority-data")
    cluster["insecure-skip-tls-verify"] = True
    insecure = tmp_path / "insecure.kubeconfig"
    insecure.write_text(yaml.safe_dump(config))
    proc = c2k(str(insecure), "ps", "-n", ns, cwd=folder)
    assert proc.returncode == 0 and proc.stdout, proc.stderr
    assert proc.stderr.splitlines() == [
        f"warning: the API server at {cluster['server']} is not authenticated: context c2k "
        "skips TLS verification (insecure-skip-tls-verify)"]
    for args in (["ps"], ["port", "web", "80"], ["events"], ["scale", "web=2"]):
        proc = c2k(str(insecure), "-q", args[0], "-n", ns, *args[1:], cwd=folder)
        assert proc.returncode == 0 and proc.stderr == "", (args, proc.stderr)
    proc = c2k(str(insecure), "-q", "logs", "-n", ns, "web", cwd=folder)
    assert proc.returncode == 1 and proc.stderr.startswith("error: no logs could be read")
    assert "warning" not in proc.stderr and len(proc.stderr.splitlines()) == 2


def test_top_without_metrics_api_nor_node_stats(deployed):
    proc = run(deployed, "top")
    assert proc.returncode == 1
    assert "no metrics API (metrics.k8s.io) and node c2k-node-0 serves no stats" in proc.stderr


def test_kill_replaces_pods(deployed):
    before = {r["name"] for r in running_pods(deployed, "my-worker")}
    proc = run(deployed, "kill", "my_worker")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"pod/{next(iter(before))} killed"
    wait_until(lambda: (lambda now: len(now) == 1 and not now & before)(
        {r["name"] for r in running_pods(deployed, "my-worker")}))


def test_run_makes_a_one_off_job(deployed):
    kubeconfig, ns, _ = deployed
    proc = run(deployed, "run", "my_worker", "echo", "-n", "hello", quiet=False)
    assert proc.returncode == 0, proc.stderr
    # the output is the command's (none here: kwok runs nothing); the Job is named on stderr
    assert proc.stdout == "" and "output of pod my-worker-run-" in proc.stderr
    name = proc.stderr.split("job.batch/")[1].split()[0]
    assert "complete; kept" in proc.stderr and name.startswith("my-worker-run-")
    job = get_json(kubeconfig, "job", name, "-n", ns)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["echo", "-n", "hello"] and "args" not in container
    # its pods are not selected by the service's selector (no traffic, not adopted)
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert "app.kubernetes.io/name" not in labels and labels["c2k.io/run"] == "my-worker"
    removed = run(deployed, "run", "--rm", "web", quiet=False)
    assert removed.returncode == 0, removed.stderr
    assert "complete; removed" in removed.stderr
    gone = removed.stderr.split("job.batch/")[1].split()[0]
    assert kubectl(kubeconfig, "get", "job", gone, "-n", ns, check=False).returncode != 0
    detached = run(deployed, "run", "-d", "web", "true")
    assert detached.returncode == 0 and detached.stdout.strip().endswith("created")
    unknown = run(deployed, "run", "nope", "true")
    assert unknown.returncode == 1 and "no service 'nope'" in unknown.stderr


def test_rm_removes_finished_one_off_jobs_only(deployed):
    kubeconfig, ns, _ = deployed
    done = run(deployed, "run", "my_worker", "true", quiet=False)
    assert done.returncode == 0, done.stderr
    finished = done.stderr.split("job.batch/")[1].split()[0]
    proc = run(deployed, "rm", "my_worker")
    assert proc.returncode == 0, proc.stderr
    assert f"job.batch/{finished} removed" in proc.stdout
    wait_until(lambda: kubectl(kubeconfig, "get", "job", finished, "-n", ns,
                               check=False).returncode != 0)
    # the long-running workloads are untouched (that is `down`'s job)
    assert replicas(deployed, "web") == 2
    wait_until(lambda: run(deployed, "rm").stdout.strip() == "nothing to remove")
    unknown = run(deployed, "rm", "nope")
    assert unknown.returncode == 1 and "no service 'nope'" in unknown.stderr

def test_exec_without_a_kubelet_says_so(deployed):
    proc = run(deployed, "exec", "web", "ls", "-l")
    assert proc.returncode == 1
    assert "exec in pod web-" in proc.stderr and "no exec found" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = run(deployed, "exec", "--index", "9", "web", "ls")
    assert bad.returncode == 1 and "no --index 9" in bad.stderr


def test_pause_is_explained(deployed):
    proc = run(deployed, "pause", "web")
    assert proc.returncode == 1 and "cannot pause" in proc.stderr and "c2k stop" in proc.stderr


def test_verbs_on_a_project_that_is_not_deployed(cluster_kubeconfig, tmp_path):
    write_compose(tmp_path, COMPOSE)
    ns = new_namespace_name()
    for args in (["ps"], ["scale", "web=1"], ["stop"], ["events"], ["logs"]):
        proc = c2k(cluster_kubeconfig, "-q", *args, "-n", ns, cwd=tmp_path)
        assert proc.returncode == 1, (args, proc.stderr)
        assert "is not deployed in namespace" in proc.stderr, (args, proc.stderr)


def test_down_removes_the_one_off_jobs_too(deployed):
    kubeconfig, ns, _ = deployed
    assert run(deployed, "run", "web", "true").returncode == 0
    down = run(deployed, "down")
    assert down.returncode == 0, down.stderr
    assert get_json(kubeconfig, "jobs,deployments,services", "-n", ns)["items"] == []
    assert get_json(kubeconfig, "pods", "-n", ns)["items"] == []


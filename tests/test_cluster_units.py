"""The cluster modules' pure parts, without a cluster: rollout checks, failure reasons, durations,
ApplySet ids, secret masking, retries and error messages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from converter.cluster import retry
from converter.cluster.applyset import applyset_id, group_kind, parent_name
from converter.cluster.diff import mask_secrets, unified
from converter.cluster.kubeconfig import explain
from converter.cluster.wait import pod_problems, rollout_status
from converter.errors import ClusterError

COMMANDS = ("apply", "diff", "down", "up", "ps", "logs", "run", "kill", "scale", "events",
            "port", "top", "stop", "start", "restart", "exec", "pause", "unpause", "watch",
            "port-forward")


@pytest.mark.slow
def test_cli_help_does_not_import_kubernetes():
    code = f"""
import sys
from converter.cli import main
for args in [["--help"]] + [[c, "--help"] for c in {COMMANDS!r}]:
    try:
        main(args)
    except SystemExit as exc:
        assert exc.code == 0, (args, exc.code)
assert "kubernetes" not in sys.modules, "kubernetes imported"
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_applyset_id_is_kubectls():
    # the value kubectl v1.36 wrote for --applyset=c2k-music-service -n t-kc
    assert applyset_id("c2k-music-service", "t-kc") == \
        "applyset-eBYxDJHnp8kxNPsQrDH48f1ro3JXsN_A0dMNXkTsHU0-v1"
    assert parent_name("My_Shop") == "c2k-my-shop"
    assert group_kind({"apiVersion": "apps/v1", "kind": "Deployment"}) == "Deployment.apps"
    assert group_kind({"apiVersion": "v1", "kind": "Service"}) == "Service"


def deployment(**status):
    return {"kind": "Deployment", "metadata": {"generation": 2},
            "spec": {"replicas": 2}, "status": {"observedGeneration": 2, **status}}


@pytest.mark.parametrize("obj, state, words", [
    ({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {},
      "status": {"observedGeneration": 2}}, "waiting", "controller"),
    (deployment(updatedReplicas=1), "waiting", "1 of 2 updated"),
    (deployment(updatedReplicas=2, replicas=3), "waiting", "1 old replicas"),
    (deployment(updatedReplicas=2, replicas=2, availableReplicas=1), "waiting",
     "1 of 2 updated replicas available"),
    (deployment(updatedReplicas=2, replicas=2, availableReplicas=2), "done", "rolled out"),
    (deployment(conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]),
     "failed", "progress deadline"),
    ({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 1, "readyReplicas": 1}}, "waiting", "1 of 2"),
    ({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 1},
      "status": {"observedGeneration": 1, "readyReplicas": 1, "currentRevision": "a",
                 "updateRevision": "a"}}, "done", ""),
    ({"kind": "DaemonSet", "metadata": {"generation": 1}, "spec": {},
      "status": {"observedGeneration": 1, "desiredNumberScheduled": 2,
                 "updatedNumberScheduled": 2, "numberAvailable": 1}}, "waiting", "1 of 2"),
    ({"kind": "Job", "metadata": {}, "spec": {"completions": 1},
      "status": {"conditions": [{"type": "Complete", "status": "True"}]}}, "done", ""),
    ({"kind": "Job", "metadata": {}, "spec": {},
      "status": {"conditions": [{"type": "Failed", "status": "True",
                                 "reason": "BackoffLimitExceeded"}]}}, "failed", "Backoff"),
])
def test_rollout_status(obj, state, words):
    got_state, message = rollout_status(obj)
    assert got_state == state
    assert words in message


def pod(**status):
    return {"metadata": {"name": "web-1"}, "spec": {"volumes": []}, "status": status}


def test_pod_problems_name_image_pull_errors_and_crash_loops():
    pulling = pod(containerStatuses=[{"name": "web", "state": {"waiting": {
        "reason": "ImagePullBackOff", "message": "Back-off pulling image \"nope:1\""}}}])
    assert pod_problems(pulling, {}) == [
        'pod web-1 container web: ImagePullBackOff: Back-off pulling image "nope:1"']
    crashing = pod(containerStatuses=[{"name": "web", "restartCount": 4,
                                       "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                                       "lastState": {"terminated": {"exitCode": 3}}}])
    assert "CrashLoopBackOff (last exit code 3, 4 restarts)" in pod_problems(crashing, {})[0]
    unschedulable = pod(conditions=[{"type": "PodScheduled", "status": "False",
                                     "reason": "Unschedulable",
                                     "message": "0/1 nodes are available: 1 Insufficient cpu"}])
    assert "Insufficient cpu" in pod_problems(unschedulable, {})[0]
    # what an attached up reports while it runs: not the crashes its log lines show already
    assert pod_problems(pulling, None, exits=False) == pod_problems(pulling, {})
    assert pod_problems(crashing, None, exits=False) == []
    ended = pod(phase="Failed", containerStatuses=[{"name": "web", "state": {
        "terminated": {"exitCode": 3, "reason": "Error"}}}])
    assert len(pod_problems(ended, {})) == 2 and pod_problems(ended, None, exits=False) == []
    claimed = pod()
    claimed["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
    assert pod_problems(claimed, None) == []        # claims not looked at
    assert pod_problems(claimed, {}) == ["claim data does not exist"]
    pending = {"data": {"spec": {"storageClassName": "slow"}, "status": {"phase": "Pending"}}}
    assert pod_problems(claimed, pending) == ["claim data is Pending (storage class slow)"]
    init_failed = pod(initContainerStatuses=[{"name": "wait-db", "state": {
        "terminated": {"exitCode": 1, "reason": "Error"}}}])
    assert "wait-db exited with code 1" in pod_problems(init_failed, {})[0]


def test_secret_values_are_masked():
    before = {"kind": "Secret", "data": {"a": "eA==", "b": "eQ==", "gone": "eg=="}}
    after = {"kind": "Secret", "data": {"a": "eA==", "b": "dw==", "new": "dg=="}}
    old, new = mask_secrets(before, after)
    assert old["data"] == {"a": "***", "b": "*** (before)", "gone": "*** (before)"}
    assert new["data"] == {"a": "***", "b": "*** (after)", "new": "*** (after)"}
    text = unified("secret/s", before, after)
    assert "eQ==" not in text and "dw==" not in text
    assert unified("secret/s", before, before) == ""


def test_diff_ignores_server_bookkeeping():
    live = {"kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "1", "uid": "u",
                                              "managedFields": [{}], "generation": 1,
                                              "creationTimestamp": "t"}, "data": {"k": "v"}}
    merged = {"kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "2"},
              "data": {"k": "v"}, "status": {"x": 1}}
    assert unified("configmap/c", live, merged) == ""


class FakeApiError(Exception):
    def __init__(self, status, body=None, headers=None):
        super().__init__(f"{status}")
        self.status, self.body, self.headers, self.reason = status, body, headers, "r"


def test_retry_backs_off_on_transient_errors():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise FakeApiError(429, headers={"Retry-After": "1"})
        if len(calls) == 2:
            raise FakeApiError(503)
        return "ok"

    assert retry.call(flaky, sleep=sleeps.append) == "ok"
    assert sleeps == [1.0, 0.4]


def test_retry_gives_up_with_a_cluster_error():
    def down():
        raise FakeApiError(500, body=json.dumps({"message": "etcd is down"}))
    with pytest.raises(ClusterError, match="etcd is down"):
        retry.call(down, what="applying x", attempts=3, sleep=lambda s: None)


def test_apply_conflicts_are_not_retried_and_name_the_manager():
    body = json.dumps({"message": "Apply failed with 1 conflict", "details": {"causes": [
        {"reason": "FieldManagerConflict", "message": 'conflict with "kubectl-edit"',
         "field": ".spec.replicas"}]}})
    calls = []

    def conflicting():
        calls.append(1)
        raise FakeApiError(409, body=body)

    with pytest.raises(ClusterError) as info:
        retry.call(conflicting, what="applying deployment.apps/web", conflicts=True,
                   sleep=lambda s: None)
    assert len(calls) == 1
    text = str(info.value)
    assert "'kubectl-edit'" in text and ".spec.replicas" in text and "--force-conflicts" in text


def test_optimistic_conflicts_are_retried_when_asked():
    calls = []

    def update():
        calls.append(1)
        if len(calls) < 3:
            raise FakeApiError(409, body=json.dumps({"message": "object has been modified"}))
        return "ok"

    assert retry.call(update, conflicts=True, sleep=lambda s: None) == "ok"

    def stale():
        raise FakeApiError(409, body=json.dumps({"message": "object has been modified"}))

    with pytest.raises(ClusterError, match="modified"):  # not retried unless asked
        retry.call(stale, sleep=lambda s: None)


def test_explain_rbac_and_not_found():
    denied = FakeApiError(403, body=json.dumps({"message": 'User "bob" cannot patch x'}))
    assert "permission denied: User \"bob\" cannot patch x" in str(explain(denied, "applying"))
    assert "not found" in str(explain(FakeApiError(404, body="{}"), "reading"))


def test_exec_exit_codes_from_the_error_channel():
    from converter.cluster.oneoff import exit_code
    assert exit_code("", "p") == 0
    assert exit_code('{"metadata":{},"status":"Success"}', "p") == 0
    assert exit_code(json.dumps({"status": "Failure", "reason": "NonZeroExitCode", "details": {
        "causes": [{"reason": "ExitCode", "message": "42"}]}}), "p") == 42
    with pytest.raises(ClusterError, match="no exec found"):
        exit_code(json.dumps({"status": "Failure", "message": "no exec found"}), "p")
    with pytest.raises(ClusterError, match="boom"):
        exit_code("boom", "p")


def test_follow_logs_interleaves_streams_with_prefixes(monkeypatch):
    """Every container's stream is read at once; lines keep their pod prefix."""
    from converter.cluster import observe
    pods = {"web": [{"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "web"}]}},
                    {"metadata": {"name": "web-2"}, "spec": {"containers": [{"name": "web"}]}}]}
    monkeypatch.setattr(observe, "select", lambda conn, project, services: [(None, "web")])
    monkeypatch.setattr(observe, "pods_of", lambda conn, obj: pods[obj])

    def opener(conn, pod, container, tail, timestamps, what):
        if pod == "web-2":
            raise RuntimeError("container is starting")
        return iter([f"{pod} line {i}" for i in range(3)])

    lines, problems = [], []
    opened = observe.follow_logs(None, "p", emit=lines.append, problem=problems.append,
                                 open_stream=opener)
    assert opened == 1
    assert lines == [f"web-1 | web-1 line {i}" for i in range(3)]
    assert problems == ["web-2: logs unavailable: container is starting"]


def test_run_rm_of_a_job_already_gone_is_not_an_error(monkeypatch):
    """`c2k run --rm`: the Job may be gone before c2k removes it (deleted by hand, or its
    ttlSecondsAfterFinished ran out); the 404 of that delete is no failure."""
    from converter.cluster import oneoff
    deployment = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "ns"},
                  "spec": {"template": {"metadata": {}, "spec": {
                      "containers": [{"name": "web", "image": "w"}]}}}}
    monkeypatch.setattr(oneoff, "select", lambda conn, project, services: [("web", deployment)])
    monkeypatch.setattr(oneoff, "ApplySet", lambda conn, project, namespace: type(
        "Set", (), {"id": "applyset-x"})())
    monkeypatch.setattr(oneoff, "_wait_job", lambda conn, job, timeout: None)
    deleted = []

    class Jobs:
        def create(self, body, namespace):
            return body

        def delete(self, name, namespace, **kwargs):
            deleted.append(name)
            raise FakeApiError(404, body=json.dumps({"message": "not found"}))

    conn = type("Conn", (), {"namespace": "ns", "resource": lambda self, v, k: Jobs()})()
    job, code = oneoff.run(conn, "proj", "web", ["true"], remove=True)
    assert deleted == [job["metadata"]["name"]] and code == 0


# ---- progress: kubectl's lines, compose's live block -----------------------------------------

def test_progress_lines_keep_kubectls_words_and_tell_a_board_compose_s():
    from converter.cluster import status
    deployment = {"kind": "Deployment", "metadata": {"name": "web"}}
    job = {"kind": "Job", "metadata": {"name": "migrate"}}
    lines = [status.applied("deployment.apps/web", deployment, "created"),
             status.waiting("job.batch/migrate", job, "0 of 1 completions, 1 running"),
             status.applied("job.batch/migrate", job, "complete"),
             status.applied("deployment.apps/web", deployment, "pruned", " (server dry run)")]
    assert lines == ["deployment.apps/web created", "job.batch/migrate: 0 of 1 completions, "
                     "1 running", "job.batch/migrate complete",
                     "deployment.apps/web pruned (server dry run)"]
    events = []

    class Recorder:
        def done(self, task, text): events.append(("done", task, text))
        def status(self, task, text): events.append(("status", task, text))
        def warn(self, text): events.append(("warn", text))
        def close(self): events.append(("close",))
    board = status.Board(Recorder())
    for line in lines:
        board(line)
    board.warn("claim data kept")
    board.close()
    assert events == [("done", "Deployment web", "Created"),
                      ("status", "Job migrate", "0 of 1 completions, 1 running"),
                      ("done", "Job migrate", "Completed"),
                      ("done", "Deployment web", "Removed"),
                      ("warn", "claim data kept"), ("close",)]


def test_up_draws_the_live_block_on_a_terminal_only(monkeypatch):
    import io

    from converter.cluster.cli import progress_board
    from converter.cluster.status import Board
    from converter.commandline import Settings

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr("sys.stderr", Terminal())
    assert isinstance(progress_board(Settings()), Board)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    plain = progress_board(Settings())
    assert plain is not None and not isinstance(plain, Board)
    quiet = Settings()
    quiet.quiet = True
    assert progress_board(quiet) is None

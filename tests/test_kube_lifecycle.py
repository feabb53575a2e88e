"""Workload kinds follow compose's lifecycle, and one-shots run once and in order (issue 18,
item 2): on-failure servers, service_completed_successfully one-shots as Jobs, the init
container that asks the API server about the Job, its RBAC, and the wait scripts themselves (the
Job's, and the one for a dependency without ports, which waits for its name to resolve)."""

import json
import shutil
import subprocess

import pytest
from kube_fixtures import FakeReader, convert, find, kinds, pod, project, statuses, svc

from converter.kube import jobwait, ordering
from converter.kube.options import ConvertOptions
from converter.kube.transform import to_manifests
from converter.model import Dependency, Deploy, Healthcheck, Port, RestartPolicy

ON_FAILURE = Deploy(restart_policy=RestartPolicy(condition="on-failure"))
NONE = Deploy(restart_policy=RestartPolicy(condition="none"))
DONE = Dependency(condition="service_completed_successfully")
HEALTHY = Dependency(condition="service_healthy")


def frappe_like():
    """The shape of frappe's pwd.yml: on-failure servers, two condition-none one-shots."""
    return project(
        svc("db", deploy=ON_FAILURE, healthcheck=Healthcheck(test=("CMD", "healthcheck.sh"))),
        svc("redis-cache", deploy=ON_FAILURE),
        svc("configurator", deploy=NONE, environment={"REDIS_CACHE": "redis-cache:6379"}),
        svc("create-site", deploy=NONE, command=("wait-for-it", "db:3306")),
        svc("backend", deploy=ON_FAILURE, depends_on={"configurator": DONE}),
        svc("queue-long", deploy=ON_FAILURE, depends_on={"configurator": DONE}),
        svc("frontend", deploy=ON_FAILURE, ports=(Port(target=8080, published="8080"),),
            depends_on={"backend": Dependency()}, environment={"BACKEND": "backend:8000"}),
        name="frappe")


def test_on_failure_servers_stay_servers_and_one_shots_are_jobs():
    objs, report = convert(frappe_like())
    workloads = {(k, n) for k, n in kinds(objs) if k in ("Deployment", "Job")}
    assert workloads == {("Deployment", n) for n in (
        "db", "redis-cache", "backend", "queue-long", "frontend")} | {
        ("Job", "configurator"), ("Job", "create-site")}
    for name in ("configurator", "create-site"):
        job = find(objs, "Job", name)
        assert job["spec"]["backoffLimit"] == 0 and pod(job)["restartPolicy"] == "Never"
        assert "ttlSecondsAfterFinished" not in job["spec"]   # dependants ask again later
    assert "approximated" in statuses(report, "queue-long", "deploy.restart_policy")
    assert "mapped" in statuses(report, "configurator", "depends_on")


def test_dependants_wait_for_the_job_with_least_rbac():
    result = to_manifests(frappe_like(), ConvertOptions(), reader=FakeReader())
    objs = result.objects
    for name in ("backend", "queue-long"):
        spec = pod(find(objs, "Deployment", name))
        assert spec["serviceAccountName"] == "frappe-job-waiter"
        assert spec["automountServiceAccountToken"] is False
        [wait] = spec["initContainers"]
        assert wait["name"] == "wait-for-configurator-job"
        assert wait["image"] == ConvertOptions().job_wait_image
        assert wait["volumeMounts"] == [{"name": "job-wait-token", "readOnly": True,
                                         "mountPath": jobwait.TOKEN_DIR}]
        [volume] = [v for v in spec["volumes"] if v["name"] == "job-wait-token"]
        sources = volume["projected"]["sources"]
        assert sources[0]["serviceAccountToken"]["path"] == "token"
        assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
        assert sources[2]["downwardAPI"]["items"][0]["fieldRef"] == {
            "fieldPath": "metadata.namespace"}
    # pods that wait for nothing keep the default account and its token
    assert "serviceAccountName" not in pod(find(objs, "Deployment", "frontend"))
    assert find(objs, "ServiceAccount", "frappe-job-waiter")[
        "automountServiceAccountToken"] is False
    assert find(objs, "Role", "frappe-job-waiter")["rules"] == [{
        "apiGroups": ["batch"], "resources": ["jobs"], "resourceNames": ["configurator"],
        "verbs": ["get"]}]
    binding = find(objs, "RoleBinding", "frappe-job-waiter")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "frappe-job-waiter"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "frappe-job-waiter"}]
    assert result.start_after == {"backend": (("configurator", "completed"),),
                                  "frontend": (("backend", "started"),),
                                  "queue-long": (("configurator", "completed"),)}


def test_airflow_init_without_restart_is_a_job_run_once():
    objs, report = convert(project(
        svc("postgres", restart="always", healthcheck=Healthcheck(test=("CMD", "pg_isready"))),
        svc("airflow-init", depends_on={"postgres": HEALTHY}),
        svc("airflow-scheduler", restart="always",
            depends_on={"postgres": HEALTHY, "airflow-init": DONE}),
        svc("airflow-apiserver", restart="always", ports=(Port(target=8080, published="8080"),),
            depends_on={"postgres": HEALTHY, "airflow-init": DONE})))
    job = find(objs, "Job", "airflow-init")
    assert job["spec"]["backoffLimit"] == 0 and pod(job)["restartPolicy"] == "Never"
    assert [c["name"] for c in pod(job)["initContainers"]] == ["wait-for-postgres"]
    for name in ("airflow-scheduler", "airflow-apiserver"):
        init = pod(find(objs, "Deployment", name))["initContainers"]
        assert [c["name"] for c in init] == ["wait-for-airflow-init-job", "wait-for-postgres"]
    assert ("Deployment", "airflow-init") not in kinds(objs)


@pytest.mark.parametrize("sign, extra, says", [
    ("ports", {"ports": (Port(target=80),)}, "it has ports"),
    ("expose", {"expose": ("80",)}, "it has ports"),
    ("healthcheck", {"healthcheck": Healthcheck(test=("CMD", "true"))}, "healthcheck"),
    ("started", {}, "web waits for it to start"),
    ("healthy", {}, "web waits for it to start"),
    ("link", {}, "web waits for it to start"),
    ("named", {}, "web names it with a port"),
])
def test_restart_no_is_a_job_only_when_nothing_suggests_a_server(sign, extra, says):
    web = {"started": {"depends_on": {"task": Dependency()}},
           "healthy": {"depends_on": {"task": HEALTHY}},
           "link": {"links": ("task",), "depends_on": {"task": Dependency()}},
           "named": {"environment": {"TASK": "http://task:7000/"}}}.get(sign, {})
    objs, report = convert(project(svc("task", restart="no", **extra), svc("web", **web)))
    assert ("Deployment", "task") in kinds(objs)
    [detail] = [e.detail for e in report.of("service", "task") if e.key == "restart"]
    assert says in detail and "compose would leave it stopped" in detail
    objs, _ = convert(project(svc("task", restart="no"), svc("web")))
    assert ("Job", "task") in kinds(objs)


def test_restart_always_one_shot_runs_to_completion_once():
    objs, report = convert(project(svc("migrate", restart="always"),
                                   svc("web", depends_on={"migrate": DONE})))
    job = find(objs, "Job", "migrate")
    assert pod(job)["restartPolicy"] == "OnFailure" and "backoffLimit" not in job["spec"]
    assert "approximated" in statuses(report, "migrate", "restart")


def test_on_failure_one_shot_retries_in_place():
    objs, _ = convert(project(svc("migrate", restart="on-failure:3"),
                              svc("web", depends_on={"migrate": DONE})))
    job = find(objs, "Job", "migrate")
    assert pod(job)["restartPolicy"] == "OnFailure" and job["spec"]["backoffLimit"] == 3


def test_a_one_shot_forced_to_a_server_is_not_waited_for():
    objs, report = convert(project(
        svc("migrate", labels={"kompose.controller.type": "deployment"}),
        svc("web", depends_on={"migrate": DONE})))
    assert ("Deployment", "migrate") in kinds(objs)
    assert "initContainers" not in pod(find(objs, "Deployment", "web"))
    assert "approximated" in statuses(report, "web", "depends_on.migrate")
    assert not [o for o in objs if o["kind"] in ("Role", "RoleBinding", "ServiceAccount")]


def test_own_service_account_is_kept_and_bound():
    objs, _ = convert(project(
        svc("seed", restart="no"), svc("load", restart="no"),
        svc("web", labels={"kompose.serviceaccount-name": "web-sa"},
            depends_on={"seed": DONE, "load": DONE}),
        svc("api", depends_on={"seed": DONE})))
    web = pod(find(objs, "Deployment", "web"))
    assert web["serviceAccountName"] == "web-sa"
    assert "automountServiceAccountToken" not in web
    assert [c["name"] for c in web["initContainers"]] == ["wait-for-load-job",
                                                          "wait-for-seed-job"]
    assert [v["name"] for v in web["volumes"]] == ["job-wait-token"]
    assert find(objs, "Role", "demo-job-waiter")["rules"][0]["resourceNames"] == ["load", "seed"]
    assert find(objs, "RoleBinding", "demo-job-waiter")["subjects"] == [
        {"kind": "ServiceAccount", "name": "demo-job-waiter"},
        {"kind": "ServiceAccount", "name": "web-sa"}]


# ---- the wait script, run by sh with a stand-in curl -------------------------------------------

def _job(condition):
    status = {"conditions": [{"type": condition, "status": "True", "reason": "x"}]}
    return json.dumps({"kind": "Job", "apiVersion": "batch/v1", "status": status},
                      separators=(",", ":"))


NOT_FOUND = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "reason": "NotFound", "code": 404}, separators=(",", ":"))


@pytest.fixture(params=["dash", "busybox"])
def shell(request):
    found = shutil.which(request.param)
    if found is None:
        pytest.skip(f"{request.param} is not installed")
    return [found] if request.param == "dash" else [found, "sh"]


def run_wait(tmp_path, shell, answers, host="10.96.0.1"):
    token_dir = tmp_path / "sa"
    token_dir.mkdir()
    (token_dir / "token").write_text("tok")
    (token_dir / "namespace").write_text("shop")
    (token_dir / "ca.crt").write_text("ca")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # As the API server: indented JSON for a curl User-Agent, unless the URL says pretty=false.
    for i, answer in enumerate(answers):
        (tmp_path / f"answer{i}").write_text(answer)
        (tmp_path / f"answer{i}.pretty").write_text(json.dumps(json.loads(answer), indent=4))
    (bin_dir / "curl").write_text(
        "#!/bin/sh\n"
        f'n=$(cat {tmp_path}/n 2>/dev/null || echo 0); echo $((n+1)) > {tmp_path}/n\n'
        f'echo "$@" >> {tmp_path}/calls\n'
        f'case "$*" in *pretty=false*) cat {tmp_path}/answer$n;; '
        f'*) cat {tmp_path}/answer$n.pretty;; esac\n')
    (bin_dir / "sleep").write_text("#!/bin/sh\n")
    for name in ("curl", "sleep"):
        (bin_dir / name).chmod(0o755)
    ctx = type("Ctx", (), {"options": ConvertOptions()})()
    pod_volumes = type("Pod", (), {"get": lambda self, *a: "job-wait-token"})()
    script = jobwait.wait_container(ctx, pod_volumes, "migrate", "web", "w")["command"][2]
    script = script.replace(jobwait.TOKEN_DIR, str(token_dir))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "KUBERNETES_SERVICE_HOST": host,
           "KUBERNETES_SERVICE_PORT": "443"}
    proc = subprocess.run([*shell, "-c", script], env=env, capture_output=True, text=True,
                          timeout=30)
    calls = (tmp_path / "calls").read_text().splitlines()
    return proc, calls


@pytest.mark.slow  # runs the wait script in a shell, with its sleeps
def test_wait_script_ends_when_the_job_completed(tmp_path, shell):
    proc, calls = run_wait(tmp_path, shell, [NOT_FOUND, _job("SuccessCriteriaMet"),
                                             _job("Complete")])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ['"reason":"NotFound"', "waiting for job migrate to "
                                        "complete", "waiting for job migrate to complete"]
    assert len(calls) == 3
    # compact JSON: the API server indents it for curl unless told not to
    assert calls[0].endswith("https://10.96.0.1:443/apis/batch/v1/namespaces/shop/jobs/migrate"
                             "?pretty=false")
    assert "Authorization: Bearer tok" in calls[0] and f"--cacert {tmp_path}/sa/ca.crt" in \
        calls[0]


@pytest.mark.slow  # runs the wait script in a shell, with its sleeps
def test_wait_script_fails_when_the_job_failed(tmp_path, shell):
    proc, _ = run_wait(tmp_path, shell, [_job("Failed")], host="fd00::1")
    assert proc.returncode == 1
    assert "job migrate failed: web does not start" in proc.stdout


@pytest.mark.slow  # runs the wait script in a shell, with its sleeps
def test_wait_script_brackets_an_ipv6_api_address(tmp_path, shell):
    _, calls = run_wait(tmp_path, shell, [_job("Complete")], host="fd00::1")
    assert calls[0].endswith("https://[fd00::1]:443/apis/batch/v1/namespaces/shop/jobs/migrate"
                             "?pretty=false")


# ---- the wait for a portless dependency, run by sh with a stand-in nslookup ---------------------

# The pod's resolv.conf on Kubernetes (ClusterFirst) in namespace shop.
POD_RESOLV = ("search shop.svc.cluster.local svc.cluster.local cluster.local\n"
              "nameserver 10.96.0.10\noptions ndots:5\n")


def run_resolve(tmp_path, shell, resolv, known, *, after=0, status=0):
    """The wait for `db` under `shell`, with an nslookup that answers like busybox's: a Name:
    line for the absolute names in `known` from its `after`-th call on (exit `status`), else
    NXDOMAIN and exit 1. Returns (process, names asked)."""
    (tmp_path / "resolv.conf").write_text(resolv)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nslookup").write_text(
        "#!/bin/sh\n"
        f'n=$(cat {tmp_path}/n 2>/dev/null || echo 0); echo $((n+1)) > {tmp_path}/n\n'
        f'echo "$@" >> {tmp_path}/asked\n'
        'printf "Server:\\t\\t10.96.0.10\\nAddress:\\t10.96.0.10:53\\n\\n"\n'
        f'if [ "$n" -ge {after} ] && grep -qxF "$1" {tmp_path}/known; then\n'
        '  printf "Name:\\t%s\\nAddress: 10.244.0.7\\n\\n" "${1%.}"\n'
        f'  exit {status}\n'
        "fi\n"
        'printf "** server can\'t find %s: NXDOMAIN\\n\\n" "$1"; exit 1\n')
    (bin_dir / "nslookup").chmod(0o755)
    (tmp_path / "known").write_text("".join(f"{name}\n" for name in known))
    objs, _ = convert(project(svc("db"), svc("web", depends_on={"db": Dependency()})))
    [wait] = pod(find(objs, "Deployment", "web"))["initContainers"]
    assert wait["image"] == "busybox:1.36" and wait["command"][:2] == ["sh", "-c"]
    script = wait["command"][2].replace(ordering.RESOLV_CONF, str(tmp_path / "resolv.conf"))
    # Functions, not PATH: a busybox sh built standalone runs its own applets whatever PATH says.
    stand_ins = f'nslookup() {{ {bin_dir}/nslookup "$@"; }}\nsleep() {{ :; }}\n'
    proc = subprocess.run([*shell, "-c", stand_ins + script], capture_output=True, text=True,
                          timeout=30)
    return proc, (tmp_path / "asked").read_text().splitlines()


def test_resolve_wait_asks_for_the_name_in_the_first_search_domain(tmp_path, shell):
    proc, asked = run_resolve(tmp_path, shell, POD_RESOLV, ["db.shop.svc.cluster.local."])
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    assert asked == ["db.shop.svc.cluster.local."]   # absolute: nslookup expands nothing


def test_resolve_wait_walks_the_search_list_then_the_name_itself(tmp_path, shell):
    proc, asked = run_resolve(tmp_path, shell, POD_RESOLV, ["db."])
    assert proc.returncode == 0, proc.stderr
    assert asked == ["db.shop.svc.cluster.local.", "db.svc.cluster.local.",
                     "db.cluster.local.", "db."]


@pytest.mark.parametrize("resolv, asked", [
    ("domain corp.example\nnameserver 10.0.0.2\n", ["db.corp.example.", "db."]),
    ("nameserver 10.0.0.2\n", ["db."]),
])
def test_resolve_wait_reads_a_domain_line_or_none(tmp_path, shell, resolv, asked):
    proc, got = run_resolve(tmp_path, shell, resolv, [asked[-1]])
    assert proc.returncode == 0 and got == asked


def test_resolve_wait_waits_until_the_name_resolves(tmp_path, shell):
    # The headless Service answers once a pod is ready: here from the 9th question on.
    proc, asked = run_resolve(tmp_path, shell, POD_RESOLV, ["db.shop.svc.cluster.local."],
                              after=8)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["waiting for db to resolve"] * 2
    assert len(asked) == 9   # two rounds of four names, then the answer


def test_resolve_wait_counts_the_answer_not_the_exit_status(tmp_path, shell):
    # busybox's nslookup exits 1 when any of its queries failed, even with an answer shown.
    proc, _ = run_resolve(tmp_path, shell, POD_RESOLV, ["db.shop.svc.cluster.local."], status=1)
    assert proc.returncode == 0, proc.stderr

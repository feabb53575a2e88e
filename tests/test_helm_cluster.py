"""The chart on a cluster: two releases of one chart side by side in one namespace, each
talking only to its own services; `helm upgrade` rolls out a changed value; `helm uninstall`
leaves nothing but the claims Kubernetes keeps (a StatefulSet's); one-shots as hooks.

The `cluster` tests run on the test cluster's simulated node (namespaces `t-*`: pods are Ready
at once, nothing runs); the `realnode` ones run the containers on its real node, with the
sample's images built and pushed to the local registry (127.0.0.1:5000) by
`c2k convert --format helm --push`, and the image of the Job waits (sh and curl) built from the
local Debian base image.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from cluster_util import (
    delete_namespace,
    get_json,
    kubectl,
    new_namespace_name,
    real_namespace_name,
)
from conftest_tools import run_tool
from helm_util import HOOKED, make_chart, secret_values

from helpers import REPO, run_c2k, write

STOREFRONT = REPO / "samples" / "storefront"
REGISTRY = "127.0.0.1:5000"
LEFT = ("deployments,statefulsets,jobs,cronjobs,services,configmaps,secrets,"
        "persistentvolumeclaims,ingresses,serviceaccounts,roles,rolebindings,networkpolicies,"
        "horizontalpodautoscalers,pods")


def helm(helm_bin, kubeconfig, ns, *args, timeout=600, check=True):
    return run_tool(helm_bin, *args, "--kubeconfig", kubeconfig, "--namespace", ns,
                    timeout=timeout, check=check)


def settle(fetch, ok, timeout: float = 120):
    """fetch() until ok(value); the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(1)


def left_of(kubeconfig, ns, release) -> list[str]:
    items = get_json(kubeconfig, LEFT, "-n", ns, "-l",
                     f"app.kubernetes.io/instance={release}")["items"]
    return sorted(f"{o['kind']} {o['metadata']['name']}" for o in items
                  if not o["metadata"].get("deletionTimestamp"))


# ---- on the simulated node --------------------------------------------------------------------

@pytest.mark.cluster
@pytest.mark.tools
def test_notes_say_how_to_reach_each_published_port(tmp_path, helm_bin, cluster_kubeconfig):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    values = secret_values(chart, result, tmp_path / "secrets.yaml")

    def notes(*args):
        proc = helm(helm_bin, cluster_kubeconfig, "prod", "install", "shop", out,
                    "--dry-run=client", "-f", values, *args)
        return proc.stdout.split("NOTES:", 1)[1]

    text = notes()
    assert "  web 8080:80: through the Ingress: http://shop.example.com/" in text
    text = notes("--set", "web.ingress.enabled=false")
    assert ("  web 8080:80: on every node's address, at the port kubectl -n prod get service "
            "shop-storefront-web -o jsonpath='{.spec.ports[?(@.port==8080)].nodePort}' "
            "prints") in text
    text = notes("--set", "web.ingress.enabled=false", "--set", "web.service.type=")
    assert "  web 8080:80: kubectl -n prod port-forward service/shop-storefront-web " \
           "8080:8080" in text
    assert "  db: shop-storefront-db" in text


@pytest.mark.cluster
@pytest.mark.tools
def test_two_releases_install_upgrade_and_uninstall(tmp_path, helm_bin, cluster_kubeconfig):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    values = secret_values(chart, result, tmp_path / "secrets.yaml")
    ns = new_namespace_name()
    kubectl(cluster_kubeconfig, "create", "namespace", ns)
    try:
        for release in ("blue", "green"):
            proc = helm(helm_bin, cluster_kubeconfig, ns, "install", release, out, "-f", values,
                        "--wait", "--wait-for-jobs", "--timeout", "4m")
            assert f"kubectl -n {ns} port-forward" not in proc.stdout      # NodePort + Ingress
            assert f"db: {release}-storefront-db" in proc.stdout
        for release in ("blue", "green"):
            names = left_of(cluster_kubeconfig, ns, release)
            assert f"Deployment {release}-storefront-web" in names
            assert all(n.split()[1].startswith(f"{release}-storefront-") for n in names
                       if not n.startswith(("Pod ", "PersistentVolumeClaim ")))
        helm(helm_bin, cluster_kubeconfig, ns, "upgrade", "blue", out, "--reuse-values",
             "--set", "web.replicaCount=3", "--wait", "--timeout", "4m")
        web = get_json(cluster_kubeconfig, "deployment", "blue-storefront-web", "-n", ns)
        assert web["spec"]["replicas"] == 3 and web["status"]["readyReplicas"] == 3
        assert get_json(cluster_kubeconfig, "deployment", "green-storefront-web", "-n",
                        ns)["spec"]["replicas"] == 2
        for release in ("blue", "green"):
            helm(helm_bin, cluster_kubeconfig, ns, "uninstall", release, "--wait")
            # the StatefulSet's claims stay, as Kubernetes keeps them (and the README says)
            left = settle(lambda r=release: [
                n for n in left_of(cluster_kubeconfig, ns, r) if not n.startswith("Pod ")],
                lambda found: all(n.startswith("PersistentVolumeClaim db-data-")
                                  for n in found))
            assert all(n.startswith("PersistentVolumeClaim db-data-") for n in left), left
    finally:
        delete_namespace(cluster_kubeconfig, ns)


# ---- on the real node -------------------------------------------------------------------------
# (busybox's wget here crashes with -T: `timeout 5 wget` instead)

CURL_IMAGE = f"{REGISTRY}/c2k-helm-test/curl"
CURL_DOCKERFILE = """\
# sh and curl, for the init containers that wait for one-shot Jobs (kube/jobwait.py)
FROM c2k-debian:12
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends curl \\
    ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*
"""


@pytest.fixture(scope="module")
def job_wait_image(tmp_path_factory) -> list[str]:
    """--set flags pointing jobWaitImage at a local image with sh and curl."""
    folder = tmp_path_factory.mktemp("curl")
    (folder / "Dockerfile").write_text(CURL_DOCKERFILE)
    for argv in (["docker", "build", "-q", "-t", f"{CURL_IMAGE}:1", str(folder)],
                 ["docker", "push", "-q", f"{CURL_IMAGE}:1"]):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr
    return ["--set", f"jobWaitImage.registry={REGISTRY}",
            "--set", "jobWaitImage.repository=c2k-helm-test/curl", "--set", "jobWaitImage.tag=1"]


def exec_in(kubeconfig, ns, workload, script) -> str:
    proc = kubectl(kubeconfig, "exec", "-n", ns, workload, "--", "sh", "-c", script)
    return proc.stdout


@pytest.fixture(scope="module")
def shop(real_node, helm_bin, job_wait_image, tmp_path_factory):
    """Two releases of the storefront chart in one namespace, with the sample's own images."""
    folder = tmp_path_factory.mktemp("shop") / "storefront"
    shutil.copytree(STOREFRONT, folder)
    out = folder.parent / "chart"
    proc = run_c2k("-q", "convert", "--format", "helm", "--push", "--registry", REGISTRY,
                   "-o", out, cwd=folder, timeout=900)
    assert proc.returncode == 0, proc.stderr
    ns = real_namespace_name()
    kubectl(real_node, "create", "namespace", ns)
    secrets = ["--set-file", f"secrets.dbPassword.data.db_password={folder}/secrets/"
               "db_password.txt", "--set-file",
               f"secrets.apiToken.data.api_token={folder}/secrets/api_token.txt"]
    # the real node has two CPUs, shared with other tests: two releases at the sample's
    # requests (api alone asks 2 x 500m) would not be scheduled
    small = [arg for svc in ("api", "web", "worker")
             for arg in ("--set", f"{svc}.resources.requests.cpu=10m")]
    try:
        for release in ("blue", "green"):
            helm(helm_bin, real_node, ns, "install", release, out, *secrets, *job_wait_image,
                 *small, "--set", "worker.replicaCount=1", "--wait", "--wait-for-jobs",
                 "--timeout", "8m", timeout=600)
        yield real_node, ns, out
    finally:
        for release in ("blue", "green"):
            helm(helm_bin, real_node, ns, "uninstall", release, "--wait", check=False)
        delete_namespace(real_node, ns)


@pytest.mark.cluster
@pytest.mark.realnode
@pytest.mark.tools
def test_two_releases_run_side_by_side_each_with_its_own_services(shop):
    kubeconfig, ns, _ = shop
    ips = {}
    for release in ("blue", "green"):
        for svc in ("db", "cache"):
            ips[release, svc] = get_json(kubeconfig, "service", f"{release}-storefront-{svc}",
                                         "-n", ns)["spec"]["clusterIP"]
    for release in ("blue", "green"):
        worker = f"deployment/{release}-storefront-worker"
        env = exec_in(kubeconfig, ns, worker, 'echo "$DATABASE_HOST $CACHE_URL"').split()
        assert env == [f"{release}-storefront-db",
                       f"redis://{release}-storefront-cache:6379/0"]
        # the names resolve to this release's Services, which answer
        for svc, host in (("db", env[0]), ("cache", f"{release}-storefront-cache")):
            found = exec_in(kubeconfig, ns, worker, f"nslookup {host}.{ns}.svc.cluster.local")
            assert ips[release, svc] in found, found
        # (the sample's busybox has an nc without -z: a connection that sends nothing)
        exec_in(kubeconfig, ns, worker, f"nc -w 5 {env[0]} 5432 </dev/null")
    # what blue writes through its CACHE_URL, green does not read through its own
    get_owner = "printf 'GET owner\\r\\n' | nc -w 5 $(echo ${CACHE_URL#redis://} | " \
                "sed 's|:\\([0-9]*\\)/.*| \\1|')"
    set_owner = "printf 'SET owner %s\\r\\n' | nc -w 5 $(echo ${CACHE_URL#redis://} | " \
                "sed 's|:\\([0-9]*\\)/.*| \\1|')"
    blue = "deployment/blue-storefront-worker"
    green = "deployment/green-storefront-worker"
    assert "+OK" in exec_in(kubeconfig, ns, blue, set_owner % "blue")
    assert "blue" in exec_in(kubeconfig, ns, blue, get_owner)
    assert "blue" not in exec_in(kubeconfig, ns, green, get_owner)
    # web reaches its own api through the release's Service name
    page = exec_in(kubeconfig, ns, "deployment/green-storefront-web",
                   "timeout 5 wget -qO- http://green-storefront-api:8080/")
    assert page == "storefront api 1.4.2\n"


@pytest.mark.cluster
@pytest.mark.realnode
@pytest.mark.tools
def test_upgrade_with_a_changed_value_rolls_out(shop, helm_bin):
    kubeconfig, ns, out = shop
    before = get_json(kubeconfig, "deployment", "blue-storefront-worker", "-n", ns)
    helm(helm_bin, kubeconfig, ns, "upgrade", "blue", out, "--reuse-values",
         "--set-string", "worker.podAnnotations.revision=2", "--set", "web.replicaCount=3",
         "--wait", "--timeout", "5m")
    after = get_json(kubeconfig, "deployment", "blue-storefront-worker", "-n", ns)
    assert after["metadata"]["generation"] > before["metadata"]["generation"]
    pods = settle(lambda: get_json(kubeconfig, "pods", "-n", ns, "-l",
                                   "app.kubernetes.io/instance=blue,"
                                   "app.kubernetes.io/name=worker")["items"],
                  lambda items: items and all(
                      p["metadata"].get("annotations", {}).get("revision") == "2"
                      and not p["metadata"].get("deletionTimestamp") for p in items))
    assert all(p["status"]["phase"] == "Running" for p in pods)
    web = get_json(kubeconfig, "deployment", "blue-storefront-web", "-n", ns)
    assert web["status"]["readyReplicas"] == 3
    # green is another release: untouched
    assert get_json(kubeconfig, "deployment", "green-storefront-web", "-n",
                    ns)["spec"]["replicas"] == 2


@pytest.mark.cluster
@pytest.mark.realnode
@pytest.mark.tools
def test_uninstall_leaves_only_the_statefulsets_claims(shop, helm_bin):
    kubeconfig, ns, _ = shop
    helm(helm_bin, kubeconfig, ns, "uninstall", "green", "--wait")
    left = settle(lambda: left_of(kubeconfig, ns, "green"),
                  lambda found: not [n for n in found if n.startswith("Pod ")])
    assert left == ["PersistentVolumeClaim db-data-green-storefront-db-0"]
    # blue still runs
    assert get_json(kubeconfig, "deployment", "blue-storefront-api", "-n",
                    ns)["status"]["readyReplicas"] == 2


@pytest.mark.cluster
@pytest.mark.realnode
@pytest.mark.tools
def test_one_shots_run_as_hooks_before_the_release(real_node, helm_bin, job_wait_image,
                                                   tmp_path):
    write(tmp_path, "compose.yaml", HOOKED)
    out = tmp_path / "chart"
    proc = run_c2k("-q", "convert", "--format", "helm", "-o", out, cwd=tmp_path,
                   env={"TOKEN": "t0ken"})
    assert proc.returncode == 0, proc.stderr
    ns = real_namespace_name()
    kubectl(real_node, "create", "namespace", ns)
    try:
        started = time.monotonic()
        helm(helm_bin, real_node, ns, "install", "r1", out, *job_wait_image,
             "--set", "secrets.token.data.token=t0ken",
             "--set", "secrets.setupEnv.data.API_TOKEN=abc",
             "--wait", "--wait-for-jobs", "--timeout", "5m")
        assert time.monotonic() - started < 300
        left = left_of(real_node, ns, "r1")
        # the hooks ran and were deleted with their copies; the Jobs of the release stay
        assert "Job r1-hooked-migrate" in left and "Job r1-hooked-prep" in left
        assert not [n for n in left if "setup" in n.split()[1] and not n.startswith(
            ("Service ", "Secret r1-hooked-setup-env"))]
        assert not [n for n in left if n.split()[1].endswith("-hook")]
        page = exec_in(real_node, ns, "deployment/r1-hooked-web",
                       "timeout 5 wget -qO- http://127.0.0.1:80/index.html")
        assert page == "hello\n"
        helm(helm_bin, real_node, ns, "uninstall", "r1", "--wait")
        assert settle(lambda: [n for n in left_of(real_node, ns, "r1")
                               if not n.startswith("Pod ")], lambda found: found == []) == []
    finally:
        delete_namespace(real_node, ns)

"""`c2k apply`, `diff`, `up` and `down` against the local control plane (tests/cluster).

Each test works in a fresh namespace `t-<uuid8>` and deletes it at the end.
"""

from __future__ import annotations

import json
import shutil

import pytest
from cluster_util import (
    PART_OF,
    SAMPLES,
    c2k,
    get_json,
    kubectl,
    members,
    unprivileged_kubeconfig,
    versions,
    write_compose,
)

pytestmark = pytest.mark.cluster


def _sample(name: str, tmp_path):
    """A copy of samples/<name>; skipped when the sample does not convert (yet)."""
    folder = tmp_path / name
    shutil.copytree(SAMPLES / name, folder)
    proc = c2k("/nonexistent", "-q", "convert", cwd=folder)
    if proc.returncode != 0:
        pytest.skip(f"samples/{name} does not convert: {proc.stderr.strip()}")
    return folder


def _workloads_available(kubeconfig, ns):
    deps = get_json(kubeconfig, "deployments,statefulsets", "-n", ns)["items"]
    assert deps, "no workloads"
    for d in deps:
        want = d["spec"].get("replicas", 1)
        status = d.get("status") or {}
        ready = status.get("availableReplicas" if d["kind"] == "Deployment"
                           else "readyReplicas") or 0
        assert ready == want, f"{d['kind']}/{d['metadata']['name']}: {status}"


@pytest.mark.parametrize("sample", ["music-service", "django-postgres", "storefront"])
def test_sample_apply_wait_diff_reapply_down(cluster_kubeconfig, ns, sample, tmp_path):
    folder = _sample(sample, tmp_path)
    proc = c2k(cluster_kubeconfig, "apply", "-n", ns, "--wait", "--timeout", "2m", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert "created" in proc.stdout and "rolled out" in proc.stdout
    _workloads_available(cluster_kubeconfig, ns)
    # every object of the project is an ApplySet member; the parent is kubectl-compatible
    assert members(cluster_kubeconfig, ns)
    parent = get_json(cluster_kubeconfig, "secret", f"c2k-{sample}", "-n", ns)
    assert parent["metadata"]["annotations"]["applyset.kubernetes.io/tooling"].startswith("c2k/")
    assert "Deployment.apps" in parent["metadata"]["annotations"][
        "applyset.kubernetes.io/contains-group-kinds"]

    diff = c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, cwd=folder)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert diff.stdout == ""

    before = versions(cluster_kubeconfig, ns)
    again = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--prune", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert "created" not in again.stdout and "configured" not in again.stdout
    assert "unchanged" in again.stdout
    assert versions(cluster_kubeconfig, ns) == before

    down = c2k(cluster_kubeconfig, "down", "-n", ns, "--volumes", cwd=folder)
    assert down.returncode == 0, down.stderr
    assert members(cluster_kubeconfig, ns) == []
    assert kubectl(cluster_kubeconfig, "get", "secret", f"c2k-{sample}", "-n", ns,
                   check=False).returncode != 0
    assert get_json(cluster_kubeconfig, "pods", "-n", ns)["items"] == []
    assert get_json(cluster_kubeconfig, "pvc", "-n", ns)["items"] == []


def test_up_shows_progress_on_stderr(cluster_kubeconfig, ns, tmp_path):
    folder = _sample("music-service", tmp_path)
    proc = c2k(cluster_kubeconfig, "up", "-d", "-n", ns, "--timeout", "2m", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "deployment.apps/web rolled out" in proc.stderr
    assert f"namespace/{ns} created" in proc.stderr
    _workloads_available(cluster_kubeconfig, ns)


def _namespace(kubeconfig, name):
    proc = kubectl(kubeconfig, "get", "namespace", name, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def test_down_deletes_the_namespace_up_created_for_the_project_and_no_other(
        cluster_kubeconfig, ns, tmp_path):
    folder = _sample("music-service", tmp_path)
    up = c2k(cluster_kubeconfig, "up", "-d", "-n", ns, "--timeout", "2m", cwd=folder)
    assert up.returncode == 0 and f"namespace/{ns} created" in up.stderr, up.stderr
    annotations = _namespace(cluster_kubeconfig, ns)["metadata"]["annotations"]
    assert annotations["c2k.io/created-for-project"] == "music-service"
    down = c2k(cluster_kubeconfig, "down", "-n", ns, cwd=folder)
    assert down.returncode == 0, down.stderr
    assert f"namespace/{ns} deleted (created for music-service)" in down.stderr
    assert _namespace(cluster_kubeconfig, ns) is None      # gone, not only terminating
    # A namespace that was there before: up uses it, down leaves it.
    kubectl(cluster_kubeconfig, "create", "namespace", ns)
    assert c2k(cluster_kubeconfig, "-q", "up", "-d", "-n", ns, cwd=folder).returncode == 0
    down = c2k(cluster_kubeconfig, "down", "-n", ns, cwd=folder)
    assert down.returncode == 0 and "namespace/" not in down.stderr, down.stderr
    assert _namespace(cluster_kubeconfig, ns) is not None


def test_down_keeps_a_namespace_it_created_while_another_project_lives_there(
        cluster_kubeconfig, ns, tmp_path):
    first = _sample("music-service", tmp_path)
    second = write_compose(tmp_path / "other", "name: shop\nservices: {front: {image: nginx}}\n")
    assert c2k(cluster_kubeconfig, "-q", "up", "-d", "-n", ns, cwd=first).returncode == 0
    assert c2k(cluster_kubeconfig, "-q", "up", "-d", "-n", ns, cwd=second.parent).returncode == 0
    down = c2k(cluster_kubeconfig, "down", "-n", ns, cwd=first)
    assert down.returncode == 0, down.stderr
    assert f"namespace/{ns} kept: created for music-service, it also holds" in down.stderr
    assert "pod/front-" in down.stderr
    assert c2k(cluster_kubeconfig, "-q", "down", "-n", ns, cwd=second.parent).returncode == 0
    assert _namespace(cluster_kubeconfig, ns) is not None   # not created for shop


TWO = """
    name: shop
    services:
      web:
        image: nginx:1.27
        ports: ["8080:80"]
      worker:
        image: busybox:1.36
        command: ["sleep", "infinity"]
    """
ONE = """
    name: shop
    services:
      web:
        image: nginx:1.27
        ports: ["8080:80"]
    """


def test_prune_deletes_only_this_projects_members(cluster_kubeconfig, ns, tmp_path):
    shop = tmp_path / "shop"
    write_compose(shop, TWO)
    other = tmp_path / "other"
    write_compose(other, """
        name: other
        services:
          helper:
            image: busybox:1.36
            command: ["sleep", "infinity"]
        """)
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=shop).returncode == 0
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=other).returncode == 0
    # someone else's objects in the same namespace, one even wearing the project's labels
    kubectl(cluster_kubeconfig, "-n", ns, "create", "configmap", "theirs", "--from-literal=a=b")
    kubectl(cluster_kubeconfig, "-n", ns, "create", "deployment", "their-worker",
            "--image=busybox:1.36")
    kubectl(cluster_kubeconfig, "-n", ns, "label", "deployment", "their-worker",
            "app.kubernetes.io/part-of=shop", "app.kubernetes.io/managed-by=c2k")

    write_compose(shop, ONE)
    proc = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--prune", cwd=shop)
    assert proc.returncode == 0, proc.stderr
    assert "deployment.apps/worker pruned" in proc.stdout
    names = {(o["kind"], o["metadata"]["name"])
             for o in get_json(cluster_kubeconfig, "deployments,services,configmaps", "-n",
                               ns)["items"]}
    assert ("Deployment", "web") in names
    assert ("Deployment", "their-worker") in names
    assert ("ConfigMap", "theirs") in names
    assert ("Deployment", "helper") in names  # the other project's set is untouched
    assert ("Service", "web") in names
    assert ("Deployment", "worker") not in names


def test_objects_of_another_project_are_not_taken_over(cluster_kubeconfig, ns, tmp_path):
    shop = tmp_path / "shop"
    write_compose(shop, TWO)
    other = tmp_path / "other"
    write_compose(other, TWO.replace("name: shop", "name: other"))
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--wait", cwd=shop).returncode == 0
    before = versions(cluster_kubeconfig, ns)
    proc = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=other)
    assert proc.returncode == 1
    assert "belong to another ApplySet" in proc.stderr and "(project shop)" in proc.stderr
    assert versions(cluster_kubeconfig, ns) == before


def test_interrupted_apply_converges(cluster_kubeconfig, ns, tmp_path):
    from converter.cli import Settings
    from converter.cluster.apply import apply_objects
    from converter.cluster.kubeconfig import connect
    from converter.kube.options import ConvertOptions
    from converter.kube.transform import to_manifests

    folder = _sample("django-postgres", tmp_path)
    settings = Settings()
    settings.update(project_directory=str(folder), file=(str(folder / "docker-compose.yml"),),
                    quiet=True)
    project = settings.load().project
    conn = connect(kubeconfig=cluster_kubeconfig, namespace=ns)
    objects = to_manifests(project, ConvertOptions(namespace=ns)).objects
    seen = []

    class Interrupted(Exception):
        pass

    def stop_after_three(body):
        seen.append(body)
        if len(seen) == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        apply_objects(conn, project.name, objects, on_applied=stop_after_three)
    assert 0 < len(members(cluster_kubeconfig, ns)) < len(objects) - 1

    proc = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--prune", "--wait",
               "--timeout", "2m", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    _workloads_available(cluster_kubeconfig, ns)
    assert c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, cwd=folder).returncode == 0
    assert len(members(cluster_kubeconfig, ns)) == len(objects) - 1  # all but the Namespace


def test_field_manager_conflict_is_reported(cluster_kubeconfig, ns, tmp_path):
    shop = tmp_path / "shop"
    write_compose(shop, TWO)
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=shop).returncode == 0
    for name in ("web", "worker"):
        kubectl(cluster_kubeconfig, "-n", ns, "apply", "--server-side", "--force-conflicts",
                "--field-manager=intruder", "-f", "-", stdin=f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec: {{replicas: 3}}
""")
    diff = c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, cwd=shop)
    assert diff.returncode == 2, diff.stdout + diff.stderr
    assert "intruder" in diff.stderr
    proc = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=shop)
    assert proc.returncode == 1
    assert "conflict" in proc.stderr and "'intruder'" in proc.stderr
    assert ".spec.replicas" in proc.stderr
    assert "--force-conflicts" in proc.stderr
    assert "2 objects failed" in proc.stderr  # every conflict is reported, not the first only
    assert "deployment.apps/web" in proc.stderr and "deployment.apps/worker" in proc.stderr
    assert "Traceback" not in proc.stderr
    forced = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--force-conflicts", cwd=shop)
    assert forced.returncode == 0, forced.stderr
    assert get_json(cluster_kubeconfig, "deployment", "web", "-n", ns)["spec"]["replicas"] == 1


def test_wait_timeout_names_unschedulable_pods_and_pending_claims(cluster_kubeconfig, ns,
                                                                  tmp_path):
    folder = tmp_path / "stuck"
    write_compose(folder, """
        name: stuck
        services:
          huge:
            image: nginx:1.27
            deploy:
              resources:
                reservations: {cpus: "5000", memory: 64M}
          db:
            image: postgres:16
            volumes: ["data:/var/lib/postgresql/data"]
        volumes:
          data:
            labels:
              kompose.volume.storage-class-name: no-such-class
        """)
    proc = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--wait", "--timeout", "6s",
               cwd=folder)
    assert proc.returncode == 1
    err = proc.stderr
    assert "timed out after 6s" in err
    assert "deployment.apps/huge" in err and "Insufficient cpu" in err
    assert "deployment.apps/db" in err and "claim data is Pending" in err
    assert "no-such-class" in err
    assert "Traceback" not in err


def test_dry_runs_change_nothing(cluster_kubeconfig, ns, tmp_path):
    shop = tmp_path / "shop"
    write_compose(shop, TWO)
    missing = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--dry-run=server", cwd=shop)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert kubectl(cluster_kubeconfig, "get", "namespace", ns, check=False).returncode != 0
    kubectl(cluster_kubeconfig, "create", "namespace", ns)
    server = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--dry-run=server", cwd=shop)
    assert server.returncode == 0, server.stderr
    assert "deployment.apps/web applied (server dry run)" in server.stdout
    assert members(cluster_kubeconfig, ns) == []
    client = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--dry-run=client", cwd=shop)
    assert client.returncode == 0, client.stderr
    assert f"{PART_OF}: applyset-" in client.stdout
    assert "kind: Deployment" in client.stdout
    assert members(cluster_kubeconfig, ns) == []
    assert kubectl(cluster_kubeconfig, "get", "secret", "c2k-shop", "-n", ns,
                   check=False).returncode != 0


def test_apply_sends_what_convert_writes_with_the_same_options(cluster_kubeconfig, ns,
                                                              tmp_path):
    # apply, diff and up once lacked --service-group-mode: they deployed something else than
    # what convert printed. Every convert option now reaches them (tests/test_cli_options.py).
    import yaml
    shop = tmp_path / "shop"
    write_compose(shop, """
        services:
          web:
            image: nginx:1.27
            volumes: [data:/data]
          worker:
            image: busybox:1.36
            command: [sleep, infinity]
            volumes: [data:/data]
        volumes:
          data: {}
    """)
    flags = ["--service-group-mode", "volume", "--service-group-name", "shop-pod",
             "--volumes", "emptyDir", "--replicas", "2"]
    converted = c2k(cluster_kubeconfig, "-q", "convert", "-n", ns, *flags, cwd=shop)
    sent = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--dry-run=client", *flags,
               cwd=shop)
    assert converted.returncode == 0 and sent.returncode == 0, converted.stderr + sent.stderr

    def workloads(text):
        return {(d["kind"], d["metadata"]["name"]): d["spec"]
                for d in yaml.safe_load_all(text) if d["kind"] == "Deployment"}
    pods = workloads(sent.stdout)
    assert set(pods) == set(workloads(converted.stdout)) == {("Deployment", "shop-pod")}
    spec = pods[("Deployment", "shop-pod")]
    assert spec["replicas"] == 2
    assert [c["name"] for c in spec["template"]["spec"]["containers"]] == ["web", "worker"]


def test_diff_shows_changes_and_prune_candidates(cluster_kubeconfig, ns, tmp_path):
    shop = tmp_path / "shop"
    write_compose(shop, TWO)
    fresh = c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, cwd=shop)
    assert fresh.returncode == 1 and f"+++ merged/namespace/{ns}" in fresh.stdout
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=shop).returncode == 0
    write_compose(shop, ONE.replace("nginx:1.27", "nginx:1.28"))
    diff = c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, "--prune", cwd=shop)
    assert diff.returncode == 1
    assert "-      - image: nginx:1.27" in diff.stdout
    assert "+      - image: nginx:1.28" in diff.stdout
    assert "--- live/deployment.apps/worker" in diff.stdout
    for noise in ("managedFields", "resourceVersion", "uid:", "creationTimestamp"):
        assert noise not in diff.stdout
    # KUBECTL_EXTERNAL_DIFF gets LIVE/ and MERGED/ folders, one file per changed object
    ext = c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, "--prune", cwd=shop,
              env={"KUBECTL_EXTERNAL_DIFF": "diff -r -N"})
    assert ext.returncode == 1, ext.stderr
    assert f"apps.v1.Deployment.{ns}.web" in ext.stdout
    assert f"apps.v1.Deployment.{ns}.worker" in ext.stdout
    assert "<       - image: nginx:1.27" in ext.stdout
    assert ">       - image: nginx:1.28" in ext.stdout
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--prune", cwd=shop).returncode == 0
    same = c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, "--prune", cwd=shop,
               env={"KUBECTL_EXTERNAL_DIFF": "diff -r -N"})
    assert same.returncode == 0 and same.stdout == "", same.stdout + same.stderr
    missing = c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, cwd=shop,
                  env={"KUBECTL_EXTERNAL_DIFF": "no-such-diff-program"})
    assert missing.returncode == 2 and "no-such-diff-program" in missing.stderr


def test_diff_masks_secret_values(cluster_kubeconfig, ns, tmp_path):
    folder = tmp_path / "sec"
    write_compose(folder, """
        name: sec
        services:
          app:
            image: busybox:1.36
            secrets: [token]
        secrets:
          token:
            file: ./token.txt
        """)
    (folder / "token.txt").write_text("s3cr3t-value\n")
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=folder).returncode == 0
    (folder / "token.txt").write_text("another-value\n")
    diff = c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, cwd=folder)
    assert diff.returncode == 1, diff.stderr
    assert "*** (before)" in diff.stdout and "*** (after)" in diff.stdout
    import base64
    for value in ("s3cr3t-value", "another-value"):
        assert base64.b64encode(f"{value}\n".encode()).decode() not in diff.stdout
        assert value not in diff.stdout


def _claims(kubeconfig, ns):
    return sorted(o["metadata"]["name"]
                  for o in get_json(kubeconfig, "pvc", "-n", ns)["items"])


@pytest.mark.parametrize("sample, claims", [
    ("django-postgres", ["db-data"]),          # a claim of the set
    ("storefront", ["db-data-db-0"]),          # made from a StatefulSet's volumeClaimTemplate
])
def test_down_keeps_claims_unless_volumes(cluster_kubeconfig, ns, tmp_path, sample, claims):
    folder = _sample(sample, tmp_path)
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--wait", cwd=folder).returncode == 0
    assert _claims(cluster_kubeconfig, ns) == claims
    kubectl(cluster_kubeconfig, "-n", ns, "create", "configmap", "theirs", "--from-literal=a=b")
    kubectl(cluster_kubeconfig, "-n", ns, "apply", "-f", "-", stdin=f"""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: their-claim, namespace: {ns}}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Mi}}}}
""")
    down = c2k(cluster_kubeconfig, "down", "-n", ns, cwd=folder)
    assert down.returncode == 0, down.stderr
    assert "kept" in down.stderr
    assert _claims(cluster_kubeconfig, ns) == sorted(claims + ["their-claim"])
    assert get_json(cluster_kubeconfig, "deployments,statefulsets", "-n", ns)["items"] == []
    assert get_json(cluster_kubeconfig, "pods", "-n", ns)["items"] == []
    # a later down --volumes still finds the claims, and only them
    down = c2k(cluster_kubeconfig, "-q", "down", "-n", ns, "--volumes", cwd=folder)
    assert down.returncode == 0, down.stderr
    assert _claims(cluster_kubeconfig, ns) == ["their-claim"]
    # up again, down --volumes at once: nothing of the project is left
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--wait", cwd=folder).returncode == 0
    down = c2k(cluster_kubeconfig, "-q", "down", "-n", ns, "--volumes", cwd=folder)
    assert down.returncode == 0, down.stderr
    assert members(cluster_kubeconfig, ns) == []
    assert _claims(cluster_kubeconfig, ns) == ["their-claim"]
    assert kubectl(cluster_kubeconfig, "-n", ns, "get", "configmap", "theirs").returncode == 0
    again = c2k(cluster_kubeconfig, "down", "-n", ns, cwd=folder)
    assert again.returncode == 0 and "nothing of project" in again.stderr


def test_applyset_id_and_labels_match_kubectl(cluster_kubeconfig, ns, tmp_path):
    from converter.cluster.applyset import applyset_id
    kubectl(cluster_kubeconfig, "create", "namespace", ns)
    kubectl(cluster_kubeconfig, "-n", ns, "apply", "--server-side", "--prune",
            "--applyset=probe", "-f", "-", env={"KUBECTL_APPLYSET": "true"},
            stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\ndata: {a: b}\n")
    parent = get_json(cluster_kubeconfig, "secret", "probe", "-n", ns)
    assert parent["metadata"]["labels"]["applyset.kubernetes.io/id"] == applyset_id("probe", ns)
    # and kubectl recognises a c2k parent as an ApplySet owned by another tool
    shop = tmp_path / "shop"
    write_compose(shop, ONE)
    assert c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=shop).returncode == 0
    proc = kubectl(cluster_kubeconfig, "-n", ns, "apply", "--server-side", "--prune",
                   "--applyset=c2k-shop", "-f", "-", env={"KUBECTL_APPLYSET": "true"},
                   stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", check=False)
    assert proc.returncode != 0 and "c2k" in proc.stderr
    # c2k in turn refuses a parent that another tool manages
    kubectl(cluster_kubeconfig, "-n", ns, "apply", "--server-side", "--prune",
            "--applyset=c2k-other", "-f", "-", env={"KUBECTL_APPLYSET": "true"},
            stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other-cm}\n")
    other = tmp_path / "other"
    write_compose(other, ONE.replace("name: shop", "name: other"))
    proc = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, cwd=other)
    assert proc.returncode == 1 and "not a c2k ApplySet parent" in proc.stderr


def test_connection_errors_are_clear(cluster_kubeconfig, ns, tmp_path):
    shop = tmp_path / "shop"
    write_compose(shop, ONE)
    bad = tmp_path / "bad.kubeconfig"
    bad.write_text("this: [is not a kubeconfig\n")
    cases = [
        (["--kubeconfig", str(tmp_path / "missing")], "not found"),
        (["--kubeconfig", str(bad)], "invalid kubeconfig"),
        (["--context", "no-such-context"], "context 'no-such-context' not found"),
        (["--kubeconfig", unprivileged_kubeconfig()], "permission denied"),
    ]
    for extra, message in cases:
        for command, code in (("apply", 1), ("diff", 2), ("down", 1)):
            proc = c2k(cluster_kubeconfig, "-q", command, "-n", ns, *extra, cwd=shop)
            assert proc.returncode == code, (command, extra, proc.stderr)
            assert message in proc.stderr, (command, extra, proc.stderr)
            assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    denied = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--kubeconfig",
                 unprivileged_kubeconfig(), cwd=shop)
    assert "c2k-unprivileged" in denied.stderr and "kubectl auth can-i" in denied.stderr
    unreachable = tmp_path / "unreachable.kubeconfig"
    unreachable.write_text("""
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
""")
    proc = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--kubeconfig", str(unreachable),
               cwd=shop)
    assert proc.returncode == 1 and "cannot reach the API server" in proc.stderr, proc.stderr


def test_rights_in_the_namespace_only_are_enough(cluster_kubeconfig, ns, tmp_path):
    """A user bound to a Role in one namespace (no cluster-wide rights, cannot read the
    Namespace object) can apply, wait, diff and down there."""
    kubectl(cluster_kubeconfig, "create", "namespace", ns)
    kubectl(cluster_kubeconfig, "-n", ns, "create", "role", "all", "--verb=*",
            "--resource=*.*")
    kubectl(cluster_kubeconfig, "-n", ns, "create", "rolebinding", "all", "--role=all",
            "--user=c2k-unprivileged")
    shop = tmp_path / "shop"
    write_compose(shop, TWO)
    user = ["--kubeconfig", unprivileged_kubeconfig()]
    proc = c2k(cluster_kubeconfig, "-q", "apply", "-n", ns, "--wait", "--prune", *user,
               cwd=shop)
    assert proc.returncode == 0, proc.stderr
    assert c2k(cluster_kubeconfig, "-q", "diff", "-n", ns, *user, cwd=shop).returncode == 0
    assert c2k(cluster_kubeconfig, "-q", "ps", "-n", ns, *user, cwd=shop).returncode == 0
    down = c2k(cluster_kubeconfig, "-q", "down", "-n", ns, *user, cwd=shop)
    assert down.returncode == 0, down.stderr
    assert members(cluster_kubeconfig, ns) == []


def test_context_namespace_and_kubeconfig_list(cluster_kubeconfig, ns, tmp_path):
    """-n wins, else the context's namespace; KUBECONFIG may list several files (merged)."""
    import yaml
    config = yaml.safe_load(open(cluster_kubeconfig))
    context = dict(config["contexts"][0])
    extra = {"apiVersion": "v1", "kind": "Config",
             "contexts": [{"name": "elsewhere",
                           "context": {**context["context"], "namespace": ns}}]}
    extra_file = tmp_path / "extra.kubeconfig"
    extra_file.write_text(yaml.safe_dump(extra))
    shop = tmp_path / "shop"
    write_compose(shop, ONE)
    merged = f"{tmp_path / 'missing'}:{cluster_kubeconfig}:{extra_file}"
    proc = c2k(merged, "-q", "apply", "--context", "elsewhere", "--wait", cwd=shop)
    assert proc.returncode == 0, proc.stderr
    assert get_json(cluster_kubeconfig, "deployment", "web", "-n", ns)
    ps = c2k(merged, "-q", "ps", "--context", "elsewhere", cwd=shop)
    assert ps.returncode == 0 and "web" in ps.stdout
    down = c2k(merged, "-q", "down", "--context", "elsewhere", cwd=shop)
    assert down.returncode == 0, down.stderr
    assert members(cluster_kubeconfig, ns) == []


def test_expired_or_rejected_credentials_are_clear(cluster_kubeconfig, ns, tmp_path):
    """An expired token looks to the client like any token the API server rejects (401)."""
    shop = tmp_path / "shop"
    write_compose(shop, ONE)
    import yaml as _yaml
    admin = _yaml.safe_load(open(cluster_kubeconfig))
    cluster = admin["clusters"][0]
    expired = tmp_path / "expired.kubeconfig"
    expired.write_text(_yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "clusters": [cluster],
        "users": [{"name": "old", "user": {"token": "expired-token-from-last-year"}}],
        "contexts": [{"name": "old", "context": {"cluster": cluster["name"], "user": "old"}}],
        "current-context": "old"}))
    for command, code in (("apply", 1), ("diff", 2), ("down", 1)):
        proc = c2k(cluster_kubeconfig, "-q", command, "-n", ns, "--kubeconfig", str(expired),
                   cwd=shop)
        assert proc.returncode == code, (command, proc.stderr)
        assert "rejected the credentials (401 Unauthorized)" in proc.stderr
        assert "expired" in proc.stderr and "Traceback" not in proc.stderr

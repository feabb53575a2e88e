"""`c2k up` starts as docker compose does: a one-shot Job completes before the services that
wait for it (service_completed_successfully) are applied. On the kwok cluster Job pods succeed
at once; the unit tests below cover the staging and a failed Job."""

from __future__ import annotations

import pytest

from cluster_util import c2k, delete_namespace, get_json, new_namespace_name, write_compose
from converter.cluster import startorder
from converter.cluster.startorder import StartOrder
from converter.errors import ClusterError

FRAPPE_LIKE = """
    name: shop
    services:
      db:
        image: mariadb:11.8
        deploy: {restart_policy: {condition: on-failure}}
      configurator:
        image: erp:1
        command: ["configure", "db:3306"]
        deploy: {restart_policy: {condition: none}}
      backend:
        image: erp:1
        deploy: {restart_policy: {condition: on-failure}}
        depends_on:
          configurator: {condition: service_completed_successfully}
      frontend:
        image: erp:1
        ports: ["8080:8080"]
        environment: {BACKEND: "backend:8000"}
        depends_on: [backend]
"""


@pytest.mark.cluster
def test_up_applies_the_dependants_once_the_one_shot_completed(cluster_kubeconfig, tmp_path):
    write_compose(tmp_path, FRAPPE_LIKE)
    ns = new_namespace_name()
    try:
        proc = c2k(cluster_kubeconfig, "up", "-n", ns, "--timeout", "2m", "--strict",
                   cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stderr.splitlines()

        def at(text):
            return next(i for i, line in enumerate(lines) if line.startswith(text))
        done = at("job.batch/configurator complete")
        assert at("job.batch/configurator created") < done
        assert at("deployment.apps/db created") < done
        assert done < at("deployment.apps/backend created")
        # frontend starts after backend, which starts after configurator: as compose orders
        assert done < at("deployment.apps/frontend created")
        assert at("deployment.apps/backend rolled out")
        job = get_json(cluster_kubeconfig, "job", "configurator", "-n", ns)
        backend = get_json(cluster_kubeconfig, "deployment", "backend", "-n", ns)
        assert backend["metadata"]["creationTimestamp"] >= job["status"]["completionTime"]
        rbac = get_json(cluster_kubeconfig, "serviceaccounts,roles,rolebindings", "-n", ns,
                        "-l", "app.kubernetes.io/managed-by=c2k")["items"]
        assert {(o["kind"], o["metadata"]["name"]) for o in rbac} == {
            ("ServiceAccount", "shop-job-waiter"), ("Role", "shop-job-waiter"),
            ("RoleBinding", "shop-job-waiter")}
        services = get_json(cluster_kubeconfig, "services", "-n", ns)["items"]
        assert {s["metadata"]["name"] for s in services} == {
            "db", "configurator", "backend", "frontend"}
        # a second up finds the Job complete and changes nothing
        again = c2k(cluster_kubeconfig, "up", "-n", ns, "--timeout", "1m", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "job.batch/configurator unchanged" in again.stderr
    finally:
        delete_namespace(cluster_kubeconfig, ns)


@pytest.mark.cluster
def test_strict_apply_applies_nothing_when_the_wiring_is_broken(cluster_kubeconfig, tmp_path):
    write_compose(tmp_path, """
        name: shop
        services:
          My_Api: {image: api, expose: ["8080"]}
          web: {image: web, environment: {API: "http://My_Api:8080"}}
    """)
    ns = new_namespace_name()
    try:
        proc = c2k(cluster_kubeconfig, "apply", "-n", ns, "--strict", cwd=tmp_path)
        assert proc.returncode == 1
        assert "--strict: the wiring check found 1 reference(s)" in proc.stderr
        namespaces = get_json(cluster_kubeconfig, "namespaces")["items"]
        assert ns not in {n["metadata"]["name"] for n in namespaces}
    finally:
        delete_namespace(cluster_kubeconfig, ns)


# ---- StartOrder without a cluster -----------------------------------------------------------

def _body(kind, name):
    return {"kind": kind, "apiVersion": "batch/v1" if kind == "Job" else "apps/v1",
            "metadata": {"name": name}}


def test_stages_follow_chains_of_one_shots_and_what_starts_after_them():
    order = StartOrder(None, {"migrate": (("db", "started"), ("schema", "completed")),
                              "web": (("migrate", "completed"),),
                              "proxy": (("web", "started"),),
                              "worker": (("db", "started"), ("schema", "completed"))}, 60)
    assert order.levels == {"db": 0, "schema": 0, "migrate": 1, "web": 2, "proxy": 2,
                            "worker": 1}
    assert order.stage_of(_body("Deployment", "proxy")) == 2
    assert order.stage_of(_body("Job", "schema")) == 0
    assert order.stage_of({"kind": "Service", "metadata": {"name": "web"}}) == 0


def test_before_stage_waits_for_the_jobs_the_stage_needs(monkeypatch):
    waited = []
    monkeypatch.setattr(startorder, "wait_for", lambda conn, objs, timeout, **kw: waited.append(
        [o["metadata"]["name"] for o in objs]))
    order = StartOrder("conn", {"web": (("migrate", "completed"), ("seed", "completed")),
                                "api": (("seed", "completed"), ("db", "started"))}, 60)
    applied = [_body("Job", "migrate"), _body("Job", "seed"), _body("Deployment", "db")]
    order.before_stage(1, applied)
    assert waited == [["migrate", "seed"]]
    order.wait_rest(applied)
    assert waited[-1] == ["db"]


def test_a_failed_one_shot_names_the_services_it_kept_from_starting(monkeypatch):
    def failed(conn, objs, timeout, **kw):
        raise ClusterError("failed waiting for 1 workload(s):\n  job.batch/migrate: failed")
    monkeypatch.setattr(startorder, "wait_for", failed)
    order = StartOrder("conn", {"web": (("migrate", "completed"),),
                                "api": (("migrate", "completed"),)}, 60)
    with pytest.raises(ClusterError) as caught:
        order.before_stage(1, [_body("Job", "migrate")])
    assert caught.value.message.startswith("api, web not started: failed waiting")

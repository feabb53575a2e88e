"""Workload kinds, replicas, strategies, pod groups, autoscaling."""

import pytest

from converter.errors import ConversionError
from converter.model import (Deploy, Dependency, Mount, Placement, ResourceSpec, RestartPolicy,
                             UpdateConfig, Volume, frozen_map)

from kube_fixtures import container, convert, find, kinds, pod, project, statuses, svc


def kind_of(service, **options):
    objs, report = convert(project(service), **options)
    workloads = [o for o in objs if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet",
                                                  "Job", "CronJob", "ReplicationController")]
    assert len(workloads) == 1
    return workloads[0], report


def test_default_is_deployment_with_one_replica():
    obj, _ = kind_of(svc("web"))
    assert obj["kind"] == "Deployment" and obj["spec"]["replicas"] == 1
    assert list(obj) == ["apiVersion", "kind", "metadata", "spec"]


@pytest.mark.parametrize("restart", ["always", "unless-stopped", None])
def test_long_running_restart_stays_deployment(restart):
    obj, _ = kind_of(svc("web", restart=restart))
    assert obj["kind"] == "Deployment"


def test_restart_no_is_a_job_with_one_attempt():
    obj, report = kind_of(svc("migrate", restart="no"))
    assert obj["kind"] == "Job"
    assert obj["spec"]["backoffLimit"] == 0
    assert pod(obj)["restartPolicy"] == "Never"
    assert "mapped" in statuses(report, "migrate", "restart")


@pytest.mark.parametrize("service", [
    svc("worker", restart="on-failure:4"),
    svc("worker", deploy=Deploy(restart_policy=RestartPolicy(condition="on-failure",
                                                             max_attempts=2)))])
def test_on_failure_is_a_server_restarted_when_it_crashes(service):
    obj, report = kind_of(service)
    assert obj["kind"] == "Deployment" and "restartPolicy" not in pod(obj)
    key = "restart" if service.restart else "deploy.restart_policy"
    [detail] = [e.detail for e in report.of("service", "worker") if e.key == key]
    assert "also after a clean exit" in detail and "is not kept" in detail
    assert 'restart: "no" makes it a Job' in detail      # nothing says it is a server


def test_deploy_restart_policy_none_makes_a_job():
    obj, _ = kind_of(svc("task", deploy=Deploy(restart_policy=RestartPolicy(
        condition="none", max_attempts=2))))
    assert obj["kind"] == "Job" and obj["spec"]["backoffLimit"] == 0
    assert pod(obj)["restartPolicy"] == "Never"


def test_deploy_restart_policy_any_stays_deployment():
    obj, _ = kind_of(svc("web", restart="no", deploy=Deploy(restart_policy=RestartPolicy(
        condition="any"))))
    assert obj["kind"] == "Deployment"


def test_job_replicas_become_completions():
    obj, _ = kind_of(svc("task", restart="no", deploy=Deploy(replicas=3)))
    assert obj["spec"]["completions"] == 3 and obj["spec"]["parallelism"] == 3


def test_cronjob_from_kompose_labels():
    obj, report = kind_of(svc("backup", restart="on-failure", labels={
        "kompose.cronjob.schedule": "0 * * * *", "kompose.cronjob.concurrency_policy": "forbid",
        "kompose.cronjob.backoff_limit": "2"}))
    assert obj["kind"] == "CronJob"
    assert obj["spec"]["schedule"] == "0 * * * *"
    assert obj["spec"]["concurrencyPolicy"] == "Forbid"
    assert obj["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 2
    assert pod(obj)["restartPolicy"] == "OnFailure"
    assert "mapped" in statuses(report, "backup", "labels.kompose.cronjob.schedule")


def test_cronjob_from_x_kubernetes():
    obj, _ = kind_of(svc("backup", restart="no", extensions={"x-kubernetes": {
        "schedule": "*/5 * * * *", "concurrencyPolicy": "Replace"}}))
    assert obj["kind"] == "CronJob" and obj["spec"]["concurrencyPolicy"] == "Replace"
    assert pod(obj)["restartPolicy"] == "Never"


def test_global_mode_is_a_daemonset():
    obj, report = kind_of(svc("agent", deploy=Deploy(mode="global")))
    assert obj["kind"] == "DaemonSet" and "replicas" not in obj["spec"]
    assert "mapped" in statuses(report, "agent", "deploy.mode")


@pytest.mark.parametrize("how", ["flag", "label", "extension"])
def test_statefulset_three_ways_with_claim_templates_and_headless_service(how):
    kw, options = {}, {}
    if how == "flag":
        options["controller"] = "statefulset"
    elif how == "label":
        kw["labels"] = {"kompose.controller.type": "statefulset"}
    else:
        kw["extensions"] = {"x-kubernetes": {"controller": "statefulset"}}
    proj = project(svc("db", expose=("5432",), volumes=(
        Mount(type="volume", source="data", target="/var/lib/db"),), **kw),
        volumes={"data": Volume(name="data")})
    objs, _ = convert(proj, **options)
    sts = find(objs, "StatefulSet", "db")
    assert sts["spec"]["serviceName"] == "db-headless"
    tmpl = sts["spec"]["volumeClaimTemplates"][0]
    assert tmpl["metadata"]["name"] == "data"
    assert tmpl["spec"]["resources"]["requests"]["storage"] == "100Mi"
    assert container(sts)["volumeMounts"][0]["name"] == "data"
    assert not [o for o in objs if o["kind"] == "PersistentVolumeClaim"]
    headless = find(objs, "Service", "db-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert find(objs, "Service", "db")["spec"].get("clusterIP") is None


def test_statefulset_without_ports_is_governed_by_headless_service_of_its_name():
    objs, _ = convert(project(svc("db")), controller="statefulset")
    assert find(objs, "StatefulSet", "db")["spec"]["serviceName"] == "db"
    assert find(objs, "Service", "db")["spec"]["clusterIP"] == "None"


def test_label_controller_overrides_flag_and_job_wins_over_flag():
    objs, _ = convert(project(svc("a", labels={"kompose.controller.type": "deployment"}),
                              svc("b", restart="no")), controller="daemonset")
    assert ("Deployment", "a") in kinds(objs) and ("Job", "b") in kinds(objs)


def test_replicationcontroller():
    obj, _ = kind_of(svc("web"), controller="replicationController")
    assert obj["kind"] == "ReplicationController" and obj["apiVersion"] == "v1"


def test_unknown_controller_is_an_error():
    with pytest.raises(ConversionError):
        convert(project(svc("web", labels={"kompose.controller.type": "pod"})))


@pytest.mark.parametrize("kw, options, expected", [
    ({"deploy": Deploy(replicas=3)}, {}, 3),
    ({"scale": 2}, {}, 2),
    ({"deploy": Deploy(replicas=3), "scale": 2}, {}, 3),
    ({"deploy": Deploy(replicas=3)}, {"replicas": 5}, 5),
    ({"deploy": Deploy(replicas=0)}, {}, 0),
])
def test_replicas(kw, options, expected):
    obj, _ = kind_of(svc("web", **kw), **options)
    assert obj["spec"]["replicas"] == expected


def test_pvc_makes_deployment_recreate():
    proj = project(svc("db", volumes=(Mount(type="volume", source="d", target="/d"),)),
                   volumes={"d": Volume(name="d")})
    objs, _ = convert(proj)
    assert find(objs, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("order, surge, unavailable", [("start-first", 2, 0), ("stop-first", 0, 2)])
def test_update_config(order, surge, unavailable):
    obj, report = kind_of(svc("web", deploy=Deploy(update_config=UpdateConfig(
        parallelism=2, order=order, delay=5))))
    assert obj["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": surge,
                                                        "maxUnavailable": unavailable}
    assert "not-converted" in statuses(report, "web", "deploy.update_config.delay")


def test_placement_constraints_and_preferences():
    obj, report = kind_of(svc("web", deploy=Deploy(placement=Placement(
        constraints=("node.labels.zone == east", "node.hostname != n1",
                     "node.platform.arch==x86_64", "engine.labels.x == y"),
        preferences=(frozen_map({"spread": "node.labels.zone"}),)))))
    terms = pod(obj)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    exprs = terms["nodeSelectorTerms"][0]["matchExpressions"]
    assert {"key": "zone", "operator": "In", "values": ["east"]} in exprs
    assert {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": ["n1"]} in exprs
    assert {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]} in exprs
    assert pod(obj)["topologySpreadConstraints"][0]["topologyKey"] == "zone"
    assert "not-converted" in statuses(report, "web", "deploy.placement.constraints[3]")


def test_network_mode_service_puts_containers_in_one_pod():
    proj = project(svc("vpn", ports=()), svc("app", image="app:1", network_mode="service:vpn",
                                              expose=("8080",)))
    objs, report = convert(proj)
    assert [k for k in kinds(objs) if k[0] == "Deployment"] == [("Deployment", "vpn")]
    dep = find(objs, "Deployment", "vpn")
    assert [c["name"] for c in pod(dep)["containers"]] == ["vpn", "app"]
    # app's port is still reachable under app's name, on vpn's pod
    app = find(objs, "Service", "app")
    assert app["spec"]["selector"]["app.kubernetes.io/name"] == "vpn"
    assert "mapped" in statuses(report, "app", "network_mode")


def test_service_group_label_merges_pods_in_label_mode():
    proj = project(svc("a", labels={"kompose.service.group": "pair"}),
                   svc("b", image="b:1", labels={"kompose.service.group": "pair"}))
    objs, _ = convert(proj, service_group_mode="label")
    dep = find(objs, "Deployment", "pair")
    assert sorted(c["name"] for c in pod(dep)["containers"]) == ["a", "b"]
    # as in kompose, the label alone does not group
    objs, report = convert(proj)
    assert ("Deployment", "a") in kinds(objs) and ("Deployment", "b") in kinds(objs)
    assert "not-converted" in statuses(report, "a", "labels.kompose.service.group")


def test_x_kubernetes_group_always_merges():
    proj = project(svc("a", extensions={"x-kubernetes": {"group": "pair"}}),
                   svc("b", image="b:1", extensions={"x-kubernetes": {"group": "pair"}}))
    objs, _ = convert(proj)
    assert len(pod(find(objs, "Deployment", "pair"))["containers"]) == 2


def test_service_group_volume_mode():
    mount = Mount(type="volume", source="shared", target="/s")
    proj = project(svc("a", volumes=(mount,)), svc("b", image="b:1", volumes=(mount,)), svc("c"),
                   volumes={"shared": Volume(name="shared")})
    objs, _ = convert(proj, service_group_mode="volume", service_group_name="ab")
    assert len(pod(find(objs, "Deployment", "ab"))["containers"]) == 2
    assert ("Deployment", "c") in kinds(objs)


def test_hpa_from_labels():
    objs, report = convert(project(svc("web", labels={
        "kompose.hpa.replicas.min": "2", "kompose.hpa.replicas.max": "6",
        "kompose.hpa.cpu": "60"}, deploy=Deploy(reservations=ResourceSpec(cpus=0.25)))))
    hpa = find(objs, "HorizontalPodAutoscaler", "web")
    assert hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 6
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "web"}
    metrics = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
               for m in hpa["spec"]["metrics"]}
    assert metrics == {"cpu": 60, "memory": 70}
    assert "mapped" in statuses(report, "web", "labels.kompose.hpa")


def test_hpa_without_requests_is_reported():
    _, report = convert(project(svc("web", extensions={"x-kubernetes": {"autoscale": {
        "max": 4}}})))
    assert "approximated" in statuses(report, "web", "labels.kompose.hpa")


def test_depends_on_disabled_service_is_reported():
    _, report = convert(project(svc("web", depends_on={"gone": Dependency()})))
    assert "not-converted" in statuses(report, "web", "depends_on.gone")

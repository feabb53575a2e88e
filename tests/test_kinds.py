"""converter/kinds.py: the one table of kinds, and the lookups every stage makes through it."""

from __future__ import annotations

from converter import kinds


def deployment(**spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": spec}


def test_apply_order_puts_what_is_referred_to_first():
    order = [k.name for k in kinds.KINDS]
    before = [("Namespace", "ServiceAccount"), ("ServiceAccount", "RoleBinding"),
              ("Role", "RoleBinding"), ("Secret", "Deployment"), ("ConfigMap", "Job"),
              ("PersistentVolumeClaim", "StatefulSet"), ("Service", "Deployment"),
              ("Deployment", "Ingress"), ("StatefulSet", "HorizontalPodAutoscaler"),
              ("CronJob", "NetworkPolicy")]
    for first, then in before:
        assert order.index(first) < order.index(then), (first, then)
    assert kinds.rank("Namespace") == 0
    assert kinds.rank("Widget") == len(kinds.KINDS) > kinds.rank("NetworkPolicy")


def test_rows_are_unique_and_their_group_kinds_as_applysets_write_them():
    assert len(kinds.BY_NAME) == len(kinds.KINDS)
    assert kinds.get("Deployment").group_kind == "Deployment.apps"
    assert kinds.get("Service").group_kind == "Service"
    assert kinds.get("Ingress").group_kind == "Ingress.networking.k8s.io"
    assert not kinds.get("Namespace").namespaced and kinds.get("Role").namespaced


def test_what_conversion_writes_and_which_of_those_run_pods():
    converted = {k.name for k in kinds.where(lambda k: k.converted)}
    assert {"Namespace", "Deployment", "CronJob", "NetworkPolicy", "Role"} <= converted
    assert not {"Pod", "ReplicaSet", "CustomResourceDefinition"} & converted
    workloads = {k.name for k in kinds.where(lambda k: k.converted and k.workload)}
    assert workloads == {"Deployment", "StatefulSet", "DaemonSet", "ReplicationController",
                         "Job", "CronJob"}
    assert {k.name for k in kinds.where(lambda k: k.converted and k.scalable)} == {
        "Deployment", "StatefulSet", "ReplicationController"}
    assert {k.name for k in kinds.where(lambda k: k.rolls)} == {
        "Deployment", "StatefulSet", "DaemonSet"}
    # c2k cannot tell when a CronJob is "rolled out": it is not waited for.
    assert {k.name for k in kinds.where(lambda k: k.waits)} == workloads - {"CronJob"}


def test_of_matches_the_api_group_too():
    assert kinds.of(deployment()) is kinds.get("Deployment")
    assert kinds.of({"apiVersion": "extensions/v1beta1", "kind": "Deployment"}) is None
    assert kinds.of({"apiVersion": "v1", "kind": "ReplicationController"}).waits
    assert kinds.of({"apiVersion": "example.com/v1", "kind": "Widget"}) is None


def test_pod_template_of_each_workload_and_of_a_cronjob():
    template = {"metadata": {"labels": {"a": "b"}},
                "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}}
    assert kinds.pod_template(deployment(template=template)) is template
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}}
    assert kinds.pod_spec(cron) is template["spec"]
    assert [c["name"] for c in kinds.containers(cron)] == ["app"]
    assert [c["name"] for c in kinds.containers(cron, init=True)] == ["init", "app"]
    for no_pods in ({"apiVersion": "v1", "kind": "Service", "spec": {"template": template}},
                    deployment(), {"apiVersion": "batch/v1", "kind": "CronJob", "spec": None}):
        assert kinds.pod_template(no_pods) is None and kinds.containers(no_pods) == []


def test_selector_labels_of_a_replication_controller_are_the_map_itself():
    labels = {"app.kubernetes.io/name": "web"}
    assert kinds.selector_labels(deployment(selector={"matchLabels": labels})) == labels
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "spec": {"selector": labels}}
    assert kinds.selector_labels(rc) == labels
    assert kinds.selector_labels(deployment(selector=labels)) == {}
    assert kinds.selector_labels({"kind": "CronJob", "spec": {}}) == {}

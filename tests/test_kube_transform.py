"""The whole conversion: order, namespace, determinism, report coverage, secret hygiene."""

import json

import pytest

from converter.emit import report as report_text
from converter.emit.yamlio import dump_all
from converter.errors import ConversionError
from converter.kube.options import ConvertOptions
from converter.kube.report import Report
from converter.kube.transform import KIND_ORDER, to_manifests
from converter.model import (Deploy, Dependency, FileObject, FileRef, Healthcheck, Mount, Port,
                             Volume)

from kube_fixtures import FakeReader, convert, find, kinds, project, statuses, svc


def big_project():
    return project(
        svc("web", ports=(Port(target=80, published="8080"),), depends_on={"db": Dependency(
            condition="service_healthy")}, labels={"kompose.service.expose": "shop.example",
                                                   "kompose.hpa.replicas.max": "4"},
            deploy=Deploy(replicas=2), environment={"API_TOKEN": "tok-123"}),
        svc("db", image="postgres:16", expose=("5432",),
            healthcheck=Healthcheck(test=("CMD-SHELL", "pg_isready")),
            volumes=(Mount(type="volume", source="data", target="/var/lib/postgresql/data"),),
            secrets=(FileRef(source="pw"),)),
        svc("migrate", restart="no", depends_on={"db": Dependency()}),
        svc("agent", deploy=Deploy(mode="global")),
        volumes={"data": Volume(name="data")},
        secrets={"pw": FileObject(name="pw", content="s3cr3t-pw")},
        name="shop")


def test_objects_sorted_by_kind_then_name():
    objs, _ = convert(big_project(), namespace="shop-ns", generate_network_policies=True)
    order = [(KIND_ORDER.index(o["kind"]), o["metadata"]["name"]) for o in objs]
    assert order == sorted(order)
    assert objs[0]["kind"] == "Namespace" and objs[0]["metadata"]["name"] == "shop-ns"
    for obj in objs:
        assert list(obj)[:3] == ["apiVersion", "kind", "metadata"]
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "shop-ns"
            assert list(obj["metadata"])[:2] == ["name", "namespace"]


def test_without_namespace_nothing_is_namespaced():
    objs, _ = convert(big_project())
    assert all("namespace" not in o["metadata"] for o in objs)
    assert not [o for o in objs if o["kind"] == "Namespace"]


def test_bad_namespace_is_an_error():
    with pytest.raises(ConversionError):
        convert(big_project(), namespace="Bad_NS")


def test_conversion_is_deterministic_and_has_no_run_details():
    first = dump_all(convert(big_project())[0])
    second = dump_all(convert(big_project())[0])
    assert first == second
    for needle in ("creationTimestamp", "kompose.cmd", "kompose.version", "/proj", "0.1.0"):
        assert needle not in first


def test_secret_values_only_in_secrets():
    objs, report = convert(big_project(), secret_env=True)
    for obj in objs:
        if obj["kind"] != "Secret":
            text = json.dumps(obj)
            assert "s3cr3t-pw" not in text and "tok-123" not in text
    text = report_text.render(report) + "\n".join(report_text.stderr_lines(report))
    assert "s3cr3t-pw" not in text and "tok-123" not in text


def test_every_set_key_is_in_the_report():
    proj = project(svc("web", ulimits={"nofile": 1024}, other={"logging": {"driver": "x"}},
                       extensions={"x-custom": 1}, stop_signal="SIGINT", domainname="x.org",
                       labels={"kompose.unknown.thing": "1"}))
    _, report = convert(proj)
    for key in ("ulimits", "logging", "x-custom", "stop_signal", "domainname",
                "labels.kompose.unknown.thing"):
        assert statuses(report, "web", key) == {"not-converted"}, key
    assert "mapped" in statuses(report, "web", "image")


def test_what_several_services_share_is_said_once():
    report = Report()
    for name in ("web", "api", "db"):
        report.approximated(name, "networks", "all pods share one network")
    report.approximated("api", "ports", "cluster only")
    report.not_converted("db", "networks", "all pods share one network")
    report.add("volume", "data", "driver", "warning", "no such driver")
    assert report_text.stderr_lines(report) == [
        "services api, db, web: networks: approximated: all pods share one network",
        "service api: ports: approximated: cluster only",
        "service db: networks: not-converted: all pods share one network",
        "volume data: driver: no such driver"]


def test_report_document_groups_entries():
    _, report = convert(big_project())
    doc = report_text.document(report)
    assert set(doc["services"]) == {"agent", "db", "migrate", "web"}
    assert doc["summary"]["mapped"] > 5
    assert all({"key", "status"} <= set(e) for e in doc["services"]["web"])


def test_x_kubernetes_unknown_key_is_an_error():
    with pytest.raises(ConversionError) as err:
        convert(project(svc("web", extensions={"x-kubernetes": {"controler": "statefulset"}})))
    assert "controler" in str(err.value)


def test_options_validate_choices():
    assert ConvertOptions(controller="daemonSet").controller == "daemonset"
    assert ConvertOptions(volumes="hostpath").volumes == "hostPath"
    with pytest.raises(ConversionError):
        ConvertOptions(controller="pod")
    with pytest.raises(ConversionError):
        ConvertOptions(volumes="nfs")


def test_empty_project():
    result = to_manifests(project(), ConvertOptions(), reader=FakeReader())
    assert result.objects == []
    assert result.report.warnings


def test_one_shot_is_a_job_still_reachable_by_name():
    objs, _ = convert(big_project())
    assert ("Job", "migrate") in kinds(objs)
    assert find(objs, "Service", "migrate")["spec"]["clusterIP"] == "None"
    assert find(objs, "DaemonSet", "agent")

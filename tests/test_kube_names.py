"""Names, labels, annotations."""

import pytest
from kube_fixtures import convert, find, kinds, project, svc

from converter.errors import ConversionError
from converter.kube import labels, names
from converter.model import Deploy, frozen_map


@pytest.mark.parametrize("compose, kube", [
    ("My_Web", "my-web"), ("web", "web"), ("a.b.c", "a-b-c"), ("web__1", "web-1"),
    ("1web", "svc-1web"), ("-x-", "x"), ("UPPER", "upper"), ("a" * 80, None),
])
def test_service_names_are_rfc1035(compose, kube):
    got = names.service_names([(compose, compose)])[compose]
    assert names.is_dns1035(got)
    if kube:
        assert got == kube
    else:
        assert len(got) == 63


def test_long_names_stay_distinct():
    a, b = "x" * 70 + "a", "x" * 70 + "b"
    got = names.service_names([(a, a), (b, b)])
    assert got[a] != got[b]


def test_collision_is_an_error_naming_both():
    with pytest.raises(ConversionError) as err:
        convert(project(svc("web_1"), svc("web-1")))
    assert "web_1" in str(err.value) and "web-1" in str(err.value)


def test_name_override_label_and_collision():
    objs, report = convert(project(svc("web", labels={"kompose.service.name_override": "front"},
                                       ports=()), svc("db")))
    assert ("Deployment", "front") in kinds(objs)
    with pytest.raises(ConversionError):
        convert(project(svc("web", labels={"kompose.service.name_override": "db"}), svc("db")))


def test_renamed_service_is_reported():
    _, report = convert(project(svc("My_Web")))
    assert "warning" in report.statuses("service", "My_Web", "name")


@pytest.mark.parametrize("port, proto, name", [(80, "TCP", "80"), (53, "UDP", "53-udp"),
                                               (65535, "SCTP", "65535-sctp")])
def test_port_names(port, proto, name):
    assert names.port_name(port, proto) == name
    assert len(name) <= 15


def test_qualified_keys_and_label_values():
    assert names.is_qualified_key("com.example.description")
    assert names.is_qualified_key("example.com/team")
    assert not names.is_qualified_key("has space")
    assert not names.is_qualified_key("x" * 64)
    assert names.label_value("my_project!") == "my_project"
    assert names.is_label_value("")


def test_every_object_has_common_labels_and_selectors_use_immutable_ones():
    objs, _ = convert(project(
        svc("web", ports=(), expose=("80",), deploy=Deploy(labels=frozen_map({"tier": "front"}))),
        name="shop"))
    for obj in objs:
        lab = obj["metadata"]["labels"]
        assert lab[labels.PART_OF] == "shop"
        assert lab[labels.MANAGED_BY] == "c2k"
        assert lab[labels.NAME]
    dep = find(objs, "Deployment", "web")
    assert dep["spec"]["selector"]["matchLabels"] == {labels.NAME: "web", labels.INSTANCE: "shop"}
    assert dep["metadata"]["labels"]["tier"] == "front"
    assert find(objs, "Service", "web")["spec"]["selector"] == {labels.NAME: "web",
                                                                labels.INSTANCE: "shop"}


def test_compose_labels_become_annotations():
    objs, report = convert(project(svc("web", expose=("80",), labels={
        "com.example.team": "blue", "bad key!": "x", "kompose.service.type": "nodeport"})))
    dep = find(objs, "Deployment", "web")
    assert dep["metadata"]["annotations"] == {"com.example.team": "blue"}
    assert find(objs, "Service", "web")["metadata"]["annotations"] == {"com.example.team": "blue"}
    assert "not-converted" in report.statuses("service", "web", "labels.bad key!")


def test_compose_annotations_go_on_the_pod():
    objs, _ = convert(project(svc("web", annotations={"example.com/a": "1"})))
    tmpl = find(objs, "Deployment")["spec"]["template"]
    assert tmpl["metadata"]["annotations"] == {"example.com/a": "1"}

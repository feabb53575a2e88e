"""The hint table (converter/kube/hints.py): both readers and the documentation come from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.errors import ConversionError
from converter.kube import hintdocs, values
from converter.kube.hints import (HINTS, IMPLIED, VOLUME_HINTS, Hints, known_label,
                                  service_hints, volume_hints)
from converter.model import Volume, frozen_map
from kube_fixtures import svc

DOCS = Path(__file__).resolve().parent.parent / "docs" / "hints.md"

# A value of each kind, written as a label would write it (x-kubernetes gets the same text).
SAMPLES = {values.TEXT: "x", values.BOOLEAN: "true", values.PORT: "8080",
           values.DURATION: "1m30s", values.QUANTITY: "1Gi", values.CONTROLLER: "statefulset",
           values.VOLUME_TYPE: "emptyDir", values.COMMAND: "echo hi",
           values.HEALTH_TEST: "CMD true", values.HOSTS: "a.example/api",
           values.NAMES: "a,b", values.TLS: "my-tls"}


def sample(hint) -> str:
    if hint.value in SAMPLES:
        return SAMPLES[hint.value]
    if hint.value.type.startswith("integer"):
        return "3"
    return hint.value.type.split(", ")[0]          # one_of: its first choice


def xk(key: str, value) -> dict:
    """`service.nodePort`, 1 -> {"service": {"nodePort": 1}}"""
    *outer, last = key.split(".")
    block = {last: value}
    for name in reversed(outer):
        block = {name: block}
    return block


def test_the_committed_page_is_the_one_the_table_writes():
    assert DOCS.read_text() == hintdocs.render(), \
        "docs/hints.md is stale: python3 -m converter.kube.hintdocs > docs/hints.md"


def test_every_hint_field_has_a_row_and_every_row_a_field():
    fields = set(Hints.__annotations__)
    named = set()
    for hint in HINTS:
        for name in (hint.field if isinstance(hint.field, tuple) else (hint.field,)):
            named.add(name.partition(".")[0])
    named = {"init_containers" if n == "init" else n for n in named}
    assert named == fields - {"used"}
    assert len({h.key for h in HINTS if h.key}) == len([h for h in HINTS if h.key])
    assert len({h.label for h in HINTS if h.label}) == len([h for h in HINTS if h.label])


# The labels that say what an x-kubernetes mapping implies (IMPLIED): `ingress` is an Ingress,
# `httpGet` an httpGet probe of / unless a path is given.
IMPLIED_LABELS = {"ingress": {"kompose.service.expose": "true"},
                  "readiness.httpGet": {"kompose.service.healthcheck.readiness.http_get_path": "/"},
                  "liveness.httpGet": {"kompose.service.healthcheck.liveness.http_get_path": "/"}}


@pytest.mark.parametrize("hint", [h for h in HINTS if h.key and h.label], ids=lambda h: h.key)
def test_a_label_and_its_x_kubernetes_key_give_the_same_hint(hint):
    labels = {hint.label: sample(hint)}
    for mapping, implied in IMPLIED_LABELS.items():
        if hint.key.startswith(mapping + "."):
            labels = {**implied, **labels}
    by_label = service_hints(svc("web", labels=labels))
    by_key = service_hints(svc("web", extensions={"x-kubernetes": xk(hint.key, sample(hint))}))
    assert f"labels.{hint.label}" in by_label.used and by_key.used == ("x-kubernetes",)
    assert _fields(by_label) == _fields(by_key) != _fields(Hints())


def _fields(hints: Hints) -> dict:
    return {name: getattr(hints, name) for name in Hints.__annotations__ if name != "used"}


def test_the_implied_mappings_are_the_tables():
    assert set(IMPLIED_LABELS) == set(IMPLIED)


def test_labels_known_are_exactly_the_tables():
    assert known_label("kompose.service.type")
    assert known_label("kompose.service.healthcheck.liveness.tcp_port")
    # kompose has no liveness override but these three: the others are reported, not dropped
    assert not known_label("kompose.service.healthcheck.liveness.disable")
    assert not known_label("kompose.service.typo")


def test_x_kubernetes_wins_hint_by_hint():
    hints = service_hints(svc("web", labels={"kompose.hpa.cpu": "80",
                                             "kompose.service.type": "nodeport"},
                              extensions={"x-kubernetes": {"autoscale": {"max": 6},
                                                           "service": {"type": "LoadBalancer"}}}))
    assert hints.hpa == {"min": 1, "max": 6, "cpu": 80, "memory": 70}
    assert hints.service_type == "LoadBalancer"


def test_shorthands_and_what_a_mapping_implies():
    assert service_hints(svc("web", extensions={"x-kubernetes": {"ingress": True}})).expose \
        == (("", "/"),)
    hints = service_hints(svc("web", extensions={"x-kubernetes": {
        "ingress": {"tlsSecret": True}, "readiness": {"httpGet": {"port": 80}}}}))
    assert hints.expose == (("", "/"),) and hints.tls and hints.tls_secret is None
    assert (hints.readiness.http_get_path, hints.readiness.http_get_port) == ("/", 80)
    # a label's host is not replaced by what an x-kubernetes mapping only implies
    hints = service_hints(svc("web", labels={"kompose.service.expose": "a.example"},
                              extensions={"x-kubernetes": {"ingress": {"className": "nginx"}}}))
    assert hints.expose == (("a.example", "/"),) and hints.ingress_class == "nginx"


def test_kompose_init_container_labels_make_one_container():
    hints = service_hints(svc("web", labels={"kompose.init.containers.image": "busybox",
                                             "kompose.init.containers.command": "echo hi"}))
    assert hints.init_containers == ({"name": "init-service", "image": "busybox",
                                      "command": ("echo", "hi")},)
    with pytest.raises(ConversionError, match="kompose.init.containers.image is required"):
        service_hints(svc("web", labels={"kompose.init.containers.name": "x"}))


def test_an_unknown_key_names_the_keys_there():
    with pytest.raises(ConversionError) as err:
        service_hints(svc("web", extensions={"x-kubernetes": {"service": {"nodeport": 1}}}))
    assert err.value.message == "unknown key 'nodeport'"
    assert err.value.path == ("services", "web", "x-kubernetes", "service")
    assert err.value.hint.startswith("did you mean 'nodePort'? the keys here: "
                                     "externalTrafficPolicy, nodePort, type")
    with pytest.raises(ConversionError, match="unknown key 'test'"):     # liveness: as labels
        service_hints(svc("web", extensions={"x-kubernetes": {"liveness": {"test": ["CMD"]}}}))


def test_volume_hints_from_labels_and_x_kubernetes():
    volume = Volume(name="data", labels=frozen_map({"kompose.volume.size": "1Gi",
                                                    "kompose.volume.selector": "db"}),
                    extensions=frozen_map({"x-kubernetes": {"size": "5Gi",
                                                            "accessModes": "ReadWriteMany"}}))
    assert volume_hints(volume) == {"size": "5Gi", "selector": "db",
                                    "access_modes": ("ReadWriteMany",)}
    assert [h.field for h in VOLUME_HINTS] == ["size", "storage_class", "access_modes",
                                               "selector"]
    bad = Volume(name="data", labels=frozen_map({"kompose.volume.size": "big"}))
    with pytest.raises(ConversionError) as err:
        volume_hints(bad)
    assert err.value.path == ("volumes", "data", "labels", "kompose.volume.size")

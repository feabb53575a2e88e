"""Multi-file merge rules, checked against compose-go's merge triples and inline cases."""

from __future__ import annotations

import pytest

from converter.compose import merge
from converter.compose.yamlfile import load_file, parse
from tests.corpus import corpus_cases, corpus_dir

CASES = corpus_cases("compose-go", "merge-cases", pattern="*/*")


def _canonical(doc):
    return merge.enforce_unicity(merge.strip_tags(merge.document_merge_form(doc)))


def _stringify(value):
    """Merge triples compare raw trees; numbers and strings in env/labels are equal there."""
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    return str(value)


@pytest.mark.corpus
@pytest.mark.parametrize("case", CASES or [None], ids=lambda p: p and f"{p.parent.name}/{p.name}")
def test_compose_go_merge_triples(case):
    corpus_dir("compose-go", "merge-cases")
    base = load_file(str(case / "base.yaml")).data
    override = load_file(str(case / "override.yaml")).data
    expected = load_file(str(case / "expected.yaml")).data
    merged = merge.merge_documents(merge.document_merge_form(base),
                                   merge.document_merge_form(override))
    got = merge.enforce_unicity(merge.strip_tags(merged))
    assert _stringify(got) == _stringify(_canonical(expected))


def _merge_text(*texts):
    doc = None
    for i, text in enumerate(texts):
        data = merge.document_merge_form(parse(text, f"{i}.yaml").data)
        doc = data if doc is None else merge.merge_documents(doc, data)
    return merge.enforce_unicity(merge.strip_tags(doc))


def test_command_is_replaced_not_appended():
    doc = _merge_text("services: {a: {image: x, command: [a, b]}}",
                      "services: {a: {command: [c]}}")
    assert doc["services"]["a"]["command"] == ["c"]


def test_ports_appended_and_deduplicated():
    doc = _merge_text("services: {a: {image: x, ports: ['80:80', '443:443']}}",
                      "services: {a: {ports: ['80:80', '8080:8080']}}")
    assert doc["services"]["a"]["ports"] == ["80:80", "443:443", "8080:8080"]


def test_volumes_merged_by_target_later_wins():
    doc = _merge_text("services: {a: {image: x, volumes: ['./a:/data', 'v:/other']}}",
                      "services: {a: {volumes: ['./b:/data:ro']}}")
    assert doc["services"]["a"]["volumes"] == ["./b:/data:ro", "v:/other"]


def test_environment_list_and_map_merge():
    doc = _merge_text("services: {a: {image: x, environment: [A=1, B=2]}}",
                      "services: {a: {environment: {B: '3', C: null}}}")
    assert doc["services"]["a"]["environment"] == {"A": "1", "B": "3", "C": None}


def test_reset_and_override_tags():
    doc = _merge_text("services: {a: {image: x, ports: ['80:80'], labels: {a: b}}}",
                      "services: {a: {ports: !reset [], labels: !override {c: d}}}")
    assert "ports" not in doc["services"]["a"]
    assert doc["services"]["a"]["labels"] == {"c": "d"}


def test_reset_through_shared_anchor():
    doc = _merge_text(
        "services: {a: {image: x, ports: ['1:1']}, b: {image: y, ports: ['2:2']}}",
        "x-r: &r {ports: !reset []}\nservices: {a: {<<: *r}, b: {<<: *r}}")
    assert "ports" not in doc["services"]["a"] and "ports" not in doc["services"]["b"]


def test_logging_driver_change_drops_options():
    doc = _merge_text(
        "services: {a: {image: x, logging: {driver: syslog, options: {k: v}}}}",
        "services: {a: {logging: {driver: json-file, options: {m: n}}}}")
    assert doc["services"]["a"]["logging"] == {"driver": "json-file", "options": {"m": "n"}}


def test_inputs_not_mutated():
    base = merge.document_merge_form(parse("services: {a: {image: x, ports: ['1']}}", "b").data)
    snapshot = repr(base)
    merge.merge_documents(base, merge.document_merge_form(
        parse("services: {a: {ports: ['2']}}", "o").data))
    assert repr(base) == snapshot

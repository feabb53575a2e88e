"""The fast schema check gives exactly jsonschema's verdict (it only decides valid/invalid)."""

from __future__ import annotations

import copy
import random

import pytest
from hypothesis import given, settings, strategies as st

from converter.compose import schema
from converter.compose.fastcheck import SUPPORTED, compile_schema
from converter.compose.yamlfile import load_file
from tests.corpus import compose_files, corpus_dir


def _verdicts(doc):
    fast = schema._fast_check()(doc)
    slow = not any(True for _ in schema._validator().iter_errors(doc))
    return fast, slow


def _schemas(node):
    """Every subschema of the compose schema (compilation is lazy, so walk it here)."""
    if not isinstance(node, dict):
        return
    yield node
    for key in ("properties", "patternProperties", "$defs", "definitions"):
        for sub in (node.get(key) or {}).values():
            yield from _schemas(sub)
    for key in ("additionalProperties", "propertyNames", "items", "if", "then"):
        yield from _schemas(node.get(key))


def test_schema_uses_only_supported_keywords():
    walked = list(_schemas(schema.load_schema()))
    assert len(walked) > 300
    for sub in walked:
        assert set(sub) <= SUPPORTED, sorted(set(sub) - SUPPORTED)
    assert "oneOf" not in SUPPORTED


def test_unsupported_keyword_is_refused_when_reached():
    check = compile_schema({"properties": {"a": {"oneOf": [{"type": "string"}]}}})
    assert check({"b": 1})                        # never reached: nothing compiled
    with pytest.raises(ValueError, match="oneOf"):
        check({"a": "x"})


def _documents():
    out = []
    for path in compose_files():
        try:
            data = load_file(str(path)).data
        except Exception:
            continue
        if isinstance(data, dict):
            from converter.compose.merge import strip_tags
            out.append((path.name, strip_tags(data)))
    return out


@pytest.mark.corpus
def test_same_verdict_on_every_corpus_document():
    corpus_dir()
    docs = _documents()
    assert len(docs) > 300
    for name, doc in docs:
        fast, slow = _verdicts(doc)
        assert fast == slow, name


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(-1, 2),
                    st.text(max_size=6), st.lists(st.text(max_size=3), max_size=2),
                    st.dictionaries(st.text(max_size=4), st.text(max_size=3), max_size=2))


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**6), _VALUES)
def test_same_verdict_on_mutated_documents(seed, replacement):
    base = {"services": {"web": {
        "image": "nginx", "ports": ["80:80", {"target": 81}], "environment": {"A": "1"},
        "volumes": ["data:/d", {"type": "bind", "source": ".", "target": "/src"}],
        "healthcheck": {"test": ["CMD", "true"], "interval": "10s", "retries": 3},
        "deploy": {"replicas": 2, "resources": {"limits": {"cpus": "0.5", "memory": "1g"}}},
        "depends_on": {"db": {"condition": "service_healthy"}}, "restart": "always",
        "networks": {"front": {"aliases": ["w"]}}, "labels": ["a=b"], "user": "1000",
    }}, "volumes": {"data": {}}, "networks": {"front": {"driver": "bridge"}}}
    doc = copy.deepcopy(base)
    rng = random.Random(seed)
    # walk to a random node and replace one of its values (or add an unknown key)
    node = doc
    for _ in range(rng.randint(1, 4)):
        if isinstance(node, dict) and node:
            key = rng.choice(sorted(node, key=str))
            if rng.random() < 0.5 or not isinstance(node[key], (dict, list)):
                node[key] = replacement
                break
            node = node[key]
        elif isinstance(node, list) and node:
            index = rng.randrange(len(node))
            if not isinstance(node[index], (dict, list)):
                node[index] = replacement
                break
            node = node[index]
        else:
            break
    fast, slow = _verdicts(doc)
    assert fast == slow

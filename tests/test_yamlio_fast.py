"""The fast YAML writer gives PyYAML's exact bytes, or steps aside."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from converter.emit import yamlio
from tests.corpus import compose_files, corpus_dir


def _same(obj):
    fast = yamlio._fast_document(obj)
    if fast is not None:
        assert fast == yaml.dump(obj, **yamlio._OPTIONS)
    return fast is not None


_TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ019 _-./:#=+,$&|()[]{}'\\\"\n!*%@yn")),
                max_size=8)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), _TEXT)
_TREES = st.recursive(_SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(_TEXT, children, max_size=4)), max_leaves=30)


@pytest.mark.parametrize("text", ["---", "...", "--x", "-x", ".x", "..", "-", "-- x", "a -b",
                                  "a:b", "a: b", "a#b", "a #b", "x  y", "- x", "-1", ".5", "y"])
def test_edge_strings(text):
    _same({"k": text, text: [text]})


@pytest.mark.parametrize("text", ["workers = 2\n", "a\nb", "a\n\nb\n", "x\n  indented\n",
                                  "a\n---\nb\n", "- item\n# c\n", "a: b\n|\n"])
def test_literal_blocks_are_written_fast(text):
    assert _same({"data": {"f": text}, "l": [text, {"x": [text]}]})


@pytest.mark.parametrize("text", ["a\n\n", " lead\n", "\nlead", "trail \n", "x\ny ", "tab\t\n",
                                  "é\n", "x\n \n"])
def test_literal_blocks_with_indicators_or_special_characters_step_aside(text):
    assert not _same({"data": {"f": text}, "l": [text]})


@pytest.mark.slow
@settings(max_examples=5000, deadline=None)
@given(st.dictionaries(_TEXT, _TREES, min_size=1, max_size=5))
def test_random_trees(tree):
    _same(tree)


@pytest.mark.corpus
def test_every_corpus_conversion_is_written_exactly_and_mostly_fast():
    corpus_dir()
    from converter.compose.loader import LoadOptions, load_project
    from converter.errors import C2KError
    from converter.kube.transform import to_manifests
    fast = total = 0
    for path in compose_files():
        try:
            project = load_project(LoadOptions(files=(str(path),), environ={})).project
            objects = to_manifests(project).objects
        except C2KError:
            continue
        for obj in objects:
            total += 1
            fast += _same(obj)
    assert total > 1000 and fast / total > 0.75, (fast, total)

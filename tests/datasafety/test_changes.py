"""A changed compose file, applied again, keeps every claim and its data: a new image and a new
environment recreate a service on the same claim; a removed or renamed service leaves its claim
(as docker compose leaves its volume), and prune deletes that claim only when asked
(--prune-volumes), after saying what it holds. A renamed service's old writer stops before the
new one starts on the same claim."""

from __future__ import annotations

import pytest
from cluster_util import get_json, wait_until

from tests.datasafety.project import compose

pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.realnode, pytest.mark.slow]

KEPT = ("warning: persistentvolumeclaim/{} kept with its data: the project no longer uses it "
        "(--prune-volumes deletes it and its data, as does c2k down --volumes)")


def pod_of(keep, service: str) -> dict:
    pods = get_json(keep.kubeconfig, "pods", "-n", keep.namespace, "-l",
                    f"app.kubernetes.io/name={service}")["items"]
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    return pods[0]


def test_a_changed_file_keeps_every_claim_and_its_data(keep, data):
    before = pod_of(keep, "files")["metadata"]["uid"]

    # a new image and a new environment: files is recreated on its claim
    keep.write(compose("v2", image="busybox:latest"))
    keep.up().ok()
    pod = pod_of(keep, "files")
    assert pod["metadata"]["uid"] != before
    assert pod["spec"]["containers"][0]["image"].endswith("busybox:latest")
    assert {"name": "VERSION", "value": "v2"} in pod["spec"]["containers"][0]["env"]
    data.check(running=("db", "files", "notes", "ledger"))

    # notes removed, without --prune: nothing goes, what is left over is named with the way out
    keep.write(compose("v2", image="busybox:latest", notes=False))
    lines = keep.up().ok().lines
    orphans = next(line for line in lines if "no longer in the compose file" in line)
    assert "deployment.apps/notes" in orphans and "persistentvolumeclaim/notes" in orphans
    assert "--prune deletes them but keeps the claims and their data (--prune-volumes " \
           "deletes those too)" in orphans
    assert "Deployment/notes" in keep.workloads()
    data.check(running=("notes",))

    # files renamed to archive (same volume), ledger removed, with --prune: the old writer of
    # the claim `files` is gone before archive starts on it; the claims of notes and ledger stay
    keep.write(compose("v2", image="busybox:latest", files_service="archive", notes=False,
                       ledger=False))
    lines = keep.up("--prune").ok().lines
    assert lines.index("deployment.apps/files pruned") < \
        lines.index("deployment.apps/archive created")
    for claim in ("notes", "ledger-ledger-0"):
        assert KEPT.format(claim) in lines
    assert keep.workloads() == ["Deployment/archive", "Deployment/db"]
    data.check(running=("db", "archive"))

    # prune again: the kept claims are named again, never deleted silently
    lines = keep.run("apply", "--prune").ok().lines
    for claim in ("notes", "ledger-ledger-0"):
        assert KEPT.format(claim) in lines
    data.check()

    # --prune-volumes: says what the two claims hold, then deletes them; the others stay
    paths = {n: keep.host_path(c) for n, c in keep.claims().items()}
    lines = keep.run("apply", "--prune-volumes").ok().lines
    head = lines.index("warning: --prune-volumes deletes 2 claim(s) and the data in them:")
    for name, line in zip(("ledger-ledger-0", "notes"), lines[head + 1:head + 3]):
        assert line.startswith(f"warning:   persistentvolumeclaim/{name} (service ")
        assert f" at {paths[name]}, reclaim policy Delete" in line
    assert head < lines.index("persistentvolumeclaim/notes pruned")
    assert head < lines.index("persistentvolumeclaim/ledger-ledger-0 pruned")
    assert sorted(keep.claims()) == ["db-data", "files"]
    data.check(running=("db", "archive"), claims=("db-data", "files"))
    wait_until(lambda: not paths["notes"].exists() and not paths["ledger-ledger-0"].exists(),
               timeout=120)

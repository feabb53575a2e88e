"""Two c2k at once on one project: one changes it, the other stops before changing anything and
names the one at work (the project's Lease); nothing is left half at one version and half at
the other, and no data is lost."""

from __future__ import annotations

import pytest

from tests.datasafety.project import Keep, check_up, compose

pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.realnode, pytest.mark.slow]

CONFLICT = "error: another c2k is changing project keep in namespace {}: c2k {} (pid "


def test_two_ups_at_once_one_applies_the_other_says_so(keep, data):
    # the same project from two folders, each a different version of every service
    other = Keep(keep.kubeconfig, keep.namespace, keep.folder / "other")
    other.folder.mkdir()
    conflicts = 0
    for round_ in range(3):
        versions = [f"a{round_}", f"b{round_}"]
        for side, version in zip((keep, other), versions):
            side.write(compose(version))
        procs = [side.start("up", "-d", "--timeout", side.timeout) for side in (keep, other)]
        runs = [(proc.communicate(timeout=600)[0], proc.returncode) for proc in procs]
        won = [versions[i] for i, (_, code) in enumerate(runs) if code == 0]
        assert won, runs
        for out, code in runs:
            if code != 0:
                assert code == 1 and CONFLICT.format(keep.namespace, "up") in out, out
                assert "hint: run this again once it has finished" in out, out
                conflicts += 1
        if len(won) == 1:
            version = won[0]
        else:   # one started after the other had finished: the later one's version, wholly
            version = keep.pods()[0]["spec"]["containers"][0]["env"][-1]["value"]
            assert version in versions, version
        check_up(keep, data, version)
    print(f"\n{conflicts} of 3 rounds of two ups at once: one applied, the other stopped")
    assert conflicts >= 1, "the two ups never overlapped"


def test_down_while_up_works_waits_its_turn(keep, data):
    keep.write(compose("v9"))
    up = keep.start("up", "-d", "--timeout", keep.timeout)
    for line in up.stdout:                  # up holds the lock from its first applied object
        if line.startswith("persistentvolumeclaim/"):
            break
    down = keep.run("down")
    rest, _ = up.communicate(timeout=600)
    assert up.returncode == 0, rest
    assert down.code == 1 and CONFLICT.format(keep.namespace, "up") in down.text, down.text
    check_up(keep, data, "v9")

"""docker compose's promise for `down`: named volumes stay unless `-v`, and `up` again finds the
same data. `down --volumes` deletes them, after saying which claims go and what they hold."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.realnode, pytest.mark.slow]


def test_down_keeps_the_data_and_up_finds_it(keep, data):
    data.check(running=("db", "files", "notes", "ledger"))
    down = keep.run("down").ok()
    assert "persistentvolumeclaim/db-data kept (use --volumes to delete claims)" in down.lines
    assert "persistentvolumeclaim/ledger-ledger-0 kept (use --volumes to delete claims)" \
        in down.lines
    assert keep.workloads() == [] and keep.leases() == []
    data.check()                                   # claims and files, with nothing running
    keep.up().ok()
    data.check(running=("db", "files", "notes", "ledger"))


def test_down_volumes_says_what_it_deletes_before_deleting_it(keep, data):
    paths = {name: keep.host_path(claim) for name, claim in keep.claims().items()}
    down = keep.run("down", "--volumes").ok()
    lines = down.lines
    head = lines.index("warning: down --volumes deletes 4 claim(s) and the data in them:")
    described = lines[head + 1:head + 5]
    for (name, service), line in zip(sorted({"db-data": "db", "files": "files",
                                             "ledger-ledger-0": "ledger",
                                             "notes": "notes"}.items()), described):
        pattern = (rf"warning:   persistentvolumeclaim/{name} \(service {service}\): 100Mi "
                   rf"ReadWriteOnce, persistentvolume/pvc-[0-9a-f-]+ at "
                   rf"{re.escape(str(paths[name]))}, reclaim policy Delete")
        assert re.fullmatch(pattern, line), line
    first_deletion = min(i for i, line in enumerate(lines) if line.endswith(" deleted"))
    assert head < first_deletion
    assert keep.claims() == {}
    # the provisioner removes each volume's folder (reclaim policy Delete)
    from cluster_util import wait_until
    wait_until(lambda: not any(p.exists() for p in paths.values()), timeout=120)

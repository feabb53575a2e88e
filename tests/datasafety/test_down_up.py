"""docker compose's promise for `down`: named volumes stay unless `-v`, and `up` again finds the
same data. `down --volumes` deletes them, after saying which claims go and what they hold.
(One test, one project: setting it up on the real node is the costly part.)"""

from __future__ import annotations

import re

import pytest
from cluster_util import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.realnode, pytest.mark.slow]

SERVICE = {"db-data": "db", "files": "files", "ledger-ledger-0": "ledger", "notes": "notes"}


def test_down_keeps_the_data_up_finds_it_and_down_volumes_says_what_it_deletes(keep, data):
    data.check(running=("db", "files", "notes", "ledger"))
    down = keep.run("down").ok()
    for claim in SERVICE:
        assert f"persistentvolumeclaim/{claim} kept (use --volumes to delete claims)" \
            in down.lines
    assert keep.workloads() == [] and keep.leases() == []
    data.check()                                   # claims and files, with nothing running
    keep.up().ok()
    data.check(running=("db", "files", "notes", "ledger"))

    state = keep.state()
    paths = {name: state.host_path(claim) for name, claim in state.claims.items()}
    lines = keep.run("down", "--volumes").ok().lines
    head = lines.index("warning: down --volumes deletes 4 claim(s) and the data in them:")
    for (name, service), line in zip(sorted(SERVICE.items()), lines[head + 1:head + 5]):
        pattern = (rf"warning:   persistentvolumeclaim/{name} \(service {service}\): 100Mi "
                   rf"ReadWriteOnce, persistentvolume/pvc-[0-9a-f-]+ at "
                   rf"{re.escape(str(paths[name]))}, reclaim policy Delete")
        assert re.fullmatch(pattern, line), line
    first_deletion = min(i for i, line in enumerate(lines) if line.endswith(" deleted"))
    assert head < first_deletion
    assert keep.claims() == {}
    # the provisioner removes each volume's folder (reclaim policy Delete)
    wait_until(lambda: not any(p.exists() for p in paths.values()), timeout=120)

"""What apply, prune and down do with claims, changed compose files and a second c2k, on the
local control plane (tests/cluster; pods on the simulated node). The same promises with data
written by real containers: tests/datasafety.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from cluster_util import c2k, get_json, kubectl, write_compose

pytestmark = pytest.mark.cluster

TWO = """
    name: shop
    services:
      web:
        image: busybox:1.36
        command: [sleep, infinity]
        volumes: [uploads:/uploads]
      files:
        image: busybox:1.36
        command: [sleep, infinity]
        volumes: [archive:/archive]
    volumes:
      uploads:
      archive:
    """
ONE = """
    name: shop
    services:
      web:
        image: busybox:1.36
        command: [sleep, infinity]
        volumes: [uploads:/uploads]
    volumes:
      uploads:
    """

SHARER = """\
      thumbnails:
        image: busybox:1.36
        command: [sleep, infinity]
        volumes: [uploads:/uploads]
        labels: {kompose.volume.size: 1Gi}
"""
NO_VOLUME = """
    name: shop
    services:
      web:
        image: busybox:1.36
        command: [sleep, infinity]
    """


def claims(kubeconfig, ns) -> dict[str, dict]:
    return {c["metadata"]["name"]: c for c in get_json(kubeconfig, "pvc", "-n", ns)["items"]}


def parent(kubeconfig, ns, project="shop") -> dict:
    return get_json(kubeconfig, "secret", f"c2k-{project}", "-n", ns)["metadata"]


def ok(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_prune_keeps_claims_names_them_and_deletes_them_only_when_asked(cluster_kubeconfig, ns,
                                                                       tmp_path):
    kc = cluster_kubeconfig
    write_compose(tmp_path, TWO)
    ok(c2k(kc, "apply", "-n", ns, "--wait", cwd=tmp_path))
    uid = claims(kc, ns)["archive"]["metadata"]["uid"]
    write_compose(tmp_path, ONE)

    # without --prune: nothing goes, the leftovers are named as compose names orphans
    plain = ok(c2k(kc, "apply", "-n", ns, cwd=tmp_path))
    assert "3 object(s) of the project are no longer in the compose file: " \
           "deployment.apps/files, service/files, persistentvolumeclaim/archive" in plain.stderr
    assert "pruned" not in plain.stdout

    pruned = ok(c2k(kc, "apply", "-n", ns, "--prune", cwd=tmp_path))
    assert "deployment.apps/files pruned" in pruned.stdout
    assert "persistentvolumeclaim/archive pruned" not in pruned.stdout
    assert "persistentvolumeclaim/archive kept with its data: the project no longer uses it " \
           "(--prune-volumes deletes it and its data, as does c2k down --volumes)" \
           in pruned.stderr
    assert claims(kc, ns)["archive"]["metadata"]["uid"] == uid
    kinds = parent(kc, ns)["annotations"]["applyset.kubernetes.io/contains-group-kinds"]
    assert "PersistentVolumeClaim" in kinds.split(",")
    # said again on each prune, never deleted silently; diff --prune agrees with apply --prune
    assert "persistentvolumeclaim/archive kept" in ok(
        c2k(kc, "up", "-d", "-n", ns, "--prune", cwd=tmp_path)).stderr
    assert ok(c2k(kc, "-q", "diff", "-n", ns, "--prune", cwd=tmp_path)).stdout == ""

    gone = ok(c2k(kc, "apply", "-n", ns, "--prune-volumes", cwd=tmp_path))
    said = gone.stderr.splitlines()
    start = said.index("warning: --prune-volumes deletes 1 claim(s) and the data in them:")
    assert said[start + 1].startswith("warning:   persistentvolumeclaim/archive (service files): "
                                      "100Mi ReadWriteOnce, persistentvolume/pvc-")
    assert "persistentvolumeclaim/archive pruned" in gone.stdout
    assert set(claims(kc, ns)) == {"uploads"}
    ok(c2k(kc, "-q", "down", "-n", ns, "--volumes", cwd=tmp_path))
    assert claims(kc, ns) == {}


def test_a_claim_keeps_what_cannot_change_and_the_file_still_applies(cluster_kubeconfig, ns,
                                                                     tmp_path):
    """A second service mounting the volume asks for ReadWriteMany, a size hint for more: the
    live claim keeps its access modes and size (the storage class cannot expand), and says so,
    instead of failing the whole apply."""
    kc = cluster_kubeconfig
    write_compose(tmp_path, ONE)
    ok(c2k(kc, "apply", "-n", ns, "--wait", cwd=tmp_path))
    before = claims(kc, ns)["uploads"]
    write_compose(tmp_path, ONE.replace("    volumes:\n", SHARER + "    volumes:\n", 1))
    changed = ok(c2k(kc, "up", "-d", "-n", ns, "--timeout", "2m", cwd=tmp_path))
    assert "warning: persistentvolumeclaim/uploads keeps its data and its accessModes " \
           "ReadWriteOnce (not ReadWriteMany); size 100Mi (not 1Gi: storage class standard " \
           "cannot expand claims)" in changed.stderr
    after = claims(kc, ns)["uploads"]
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert ok(c2k(kc, "-q", "diff", "-n", ns, cwd=tmp_path)).stdout == ""


def test_a_service_that_gains_a_volume_moves_to_recreate(cluster_kubeconfig, ns, tmp_path):
    """The API server's rollingUpdate defaults, owned by nobody, used to make the Deployment
    invalid once the file gave it a claim (strategy Recreate)."""
    kc = cluster_kubeconfig
    write_compose(tmp_path, NO_VOLUME)
    ok(c2k(kc, "apply", "-n", ns, "--wait", cwd=tmp_path))
    live = get_json(kc, "deployment", "web", "-n", ns)
    assert live["spec"]["strategy"]["type"] == "RollingUpdate"
    write_compose(tmp_path, ONE)
    diff = c2k(kc, "-q", "diff", "-n", ns, cwd=tmp_path)
    assert diff.returncode == 1 and "+    type: Recreate" in diff.stdout, diff.stderr
    ok(c2k(kc, "up", "-d", "-n", ns, "--timeout", "2m", cwd=tmp_path))
    assert get_json(kc, "deployment", "web", "-n", ns)["spec"]["strategy"] == {"type": "Recreate"}
    assert ok(c2k(kc, "-q", "diff", "-n", ns, cwd=tmp_path)).stdout == ""


def test_a_renamed_service_stops_the_old_writer_before_the_new_one_starts(cluster_kubeconfig,
                                                                         ns, tmp_path):
    kc = cluster_kubeconfig
    write_compose(tmp_path, ONE)
    ok(c2k(kc, "apply", "-n", ns, "--wait", cwd=tmp_path))
    write_compose(tmp_path, ONE.replace("web:", "website:"))
    warned = ok(c2k(kc, "apply", "-n", ns, "--dry-run=server", cwd=tmp_path))
    assert "deployment.apps/web still runs and writes to claim uploads, as " \
           "deployment.apps/website will" in warned.stderr
    renamed = ok(c2k(kc, "apply", "-n", ns, "--prune", cwd=tmp_path)).stdout.splitlines()
    assert renamed.index("deployment.apps/web pruned") < \
        renamed.index("deployment.apps/website created")


STATEFUL = """
    name: shop
    services:
      db:
        image: busybox:1.36
        command: [sleep, infinity]
        volumes: [data:/data]
        x-kubernetes: {controller: statefulset}
      web:
        image: busybox:1.36
        command: [sleep, infinity]
    volumes:
      data:
    """


def _statefulset_claim(kc, ns) -> str:
    from cluster_util import wait_until
    return wait_until(lambda: "data-db-0" in claims(kc, ns) and "data-db-0")


def test_pruned_statefulset_claims_are_kept_and_found_by_down(cluster_kubeconfig, ns,
                                                              tmp_path):
    kc = cluster_kubeconfig
    write_compose(tmp_path, STATEFUL)
    ok(c2k(kc, "apply", "-n", ns, "--wait", cwd=tmp_path))
    _statefulset_claim(kc, ns)
    write_compose(tmp_path, NO_VOLUME)
    pruned = ok(c2k(kc, "apply", "-n", ns, "--prune", cwd=tmp_path))
    assert "statefulset.apps/db pruned" in pruned.stdout
    assert "persistentvolumeclaim/data-db-0 kept with its data" in pruned.stderr
    assert parent(kc, ns)["annotations"]["c2k.io/kept-claims"] == "data-db-0"
    assert "data-db-0" in claims(kc, ns)
    down = ok(c2k(kc, "down", "-n", ns, "--volumes", cwd=tmp_path))
    assert "persistentvolumeclaim/data-db-0 (service db): " in down.stderr
    assert claims(kc, ns) == {}


def test_a_kept_statefulset_claim_is_named_by_every_prune_until_used_or_deleted(
        cluster_kubeconfig, ns, tmp_path):
    kc = cluster_kubeconfig
    write_compose(tmp_path, STATEFUL)
    ok(c2k(kc, "apply", "-n", ns, "--wait", cwd=tmp_path))
    uid = claims(kc, ns)[_statefulset_claim(kc, ns)]["metadata"]["uid"]
    write_compose(tmp_path, NO_VOLUME)
    for _ in range(2):      # the first prune keeps it, and so does every later one, saying so
        pruned = ok(c2k(kc, "apply", "-n", ns, "--prune", cwd=tmp_path))
        assert "persistentvolumeclaim/data-db-0 kept with its data" in pruned.stderr
    write_compose(tmp_path, STATEFUL)       # the StatefulSet is back: its claim is used again
    again = ok(c2k(kc, "apply", "-n", ns, "--prune", cwd=tmp_path))
    assert "data-db-0" not in again.stderr
    assert claims(kc, ns)["data-db-0"]["metadata"]["uid"] == uid
    write_compose(tmp_path, NO_VOLUME)
    ok(c2k(kc, "apply", "-n", ns, "--prune", cwd=tmp_path))
    gone = ok(c2k(kc, "apply", "-n", ns, "--prune-volumes", cwd=tmp_path))
    assert "--prune-volumes deletes 1 claim(s) and the data in them:" in gone.stderr
    assert "persistentvolumeclaim/data-db-0 pruned" in gone.stdout
    assert claims(kc, ns) == {}
    assert "c2k.io/kept-claims" not in (parent(kc, ns).get("annotations") or {})


def test_a_down_stopped_halfway_leaves_statefulset_claims_findable(cluster_kubeconfig, ns,
                                                                   tmp_path):
    """down names the StatefulSets' claims in the parent before it deletes anything."""
    from converter.cluster.down import down
    from converter.cluster.kubeconfig import connect
    kc = cluster_kubeconfig
    write_compose(tmp_path, STATEFUL)
    ok(c2k(kc, "apply", "-n", ns, "--wait", cwd=tmp_path))
    _statefulset_claim(kc, ns)

    class Stopped(Exception):
        pass

    def stop_after_the_statefulset(line):
        if line.startswith("statefulset.apps/db deleted"):
            raise Stopped

    with pytest.raises(Stopped):
        down(connect(kubeconfig=kc, namespace=ns), "shop", progress=stop_after_the_statefulset)
    assert parent(kc, ns)["annotations"]["c2k.io/kept-claims"] == "data-db-0"
    # the lock of the stopped down is this process's: held until it is given back
    assert get_json(kc, "leases", "-n", ns)["items"] == []
    ok(c2k(kc, "-q", "down", "-n", ns, "--volumes", cwd=tmp_path))
    assert claims(kc, ns) == {}


# ---- the project's lock ---------------------------------------------------------------------

def _lease(ns, holder: dict, renewed: str = "2099-01-01T00:00:00.000000Z") -> str:
    return json.dumps({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "c2k-shop", "namespace": ns,
                     "annotations": {"c2k.io/holder": json.dumps(holder, sort_keys=True)}},
        "spec": {"holderIdentity": "c2k up (pid {pid} on {host})".format(**holder),
                 "leaseDurationSeconds": 60, "acquireTime": renewed, "renewTime": renewed}})


def _process(pid: int) -> dict:
    from converter.cluster.lock import _pid_namespace, _start_time
    return {"command": "up", "host": socket.gethostname(), "pid": pid,
            "pidns": _pid_namespace(), "start": _start_time(pid)}


def test_a_second_c2k_reports_the_one_that_holds_the_project(cluster_kubeconfig, ns, tmp_path):
    kc = cluster_kubeconfig
    write_compose(tmp_path, ONE)
    kubectl(kc, "create", "namespace", ns)
    kubectl(kc, "apply", "-f", "-", stdin=_lease(ns, _process(os.getpid())))
    for command in (["apply"], ["up", "-d"], ["down", "--volumes"]):
        refused = c2k(kc, *command, "-n", ns, cwd=tmp_path)
        assert refused.returncode == 1
        assert f"error: another c2k is changing project shop in namespace {ns}: c2k up (pid " \
               f"{os.getpid()} on {socket.gethostname()}), since 2099-01-01" in refused.stderr
        assert "expires at 00:01:00 UTC" in refused.stderr
    assert get_json(kc, "deployments,pvc,secrets", "-n", ns)["items"] == []


def test_the_lock_of_a_killed_c2k_is_taken_over(cluster_kubeconfig, ns, tmp_path):
    kc = cluster_kubeconfig
    write_compose(tmp_path, ONE)
    kubectl(kc, "create", "namespace", ns)
    # a process of this machine that no longer runs (its pid may be reused: its start time
    # tells them apart)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    holder = {**_process(os.getpid()), "pid": int(dead)}
    kubectl(kc, "apply", "-f", "-", stdin=_lease(ns, holder))
    ok(c2k(kc, "-q", "apply", "-n", ns, cwd=tmp_path))
    # another machine's lease: taken over once it has not been renewed for its duration
    elsewhere = {**holder, "host": "elsewhere", "pid": 1}
    kubectl(kc, "apply", "-f", "-", stdin=_lease(ns, elsewhere, "2000-01-01T00:00:00.000000Z"))
    ok(c2k(kc, "-q", "apply", "-n", ns, cwd=tmp_path))
    assert get_json(kc, "leases", "-n", ns)["items"] == []    # given back when done

"""Storage on the local control plane (tests/cluster): shared claims bind, every pod of the
services that share them mounts the same claim, and the rest of the storage is accepted.

kwok runs no containers, so this proves the objects, not the copy script (tests/test_kube_binds.py
runs that): the API server admits every object, the PV controller binds the ReadWriteOnce and
ReadWriteMany claims through the hostpath provisioner, the scheduler places the pods.
"""

from __future__ import annotations

import time

import pytest
from cluster_util import c2k, get_json, write_compose

pytestmark = pytest.mark.cluster

COMPOSE = """\
name: shared
services:
  web:
    image: busybox
    command: ["sleep", "3600"]
    volumes:
      - uploads:/uploads
      - ./public/system:/public/system
      - ./conf:/etc/app
      - /etc/localtime:/etc/localtime:ro
      - /var/run/docker.sock:/var/run/docker.sock
      - cache:/cache
    deploy: {replicas: 2}
  worker:
    image: busybox
    command: ["sleep", "3600"]
    volumes:
      - uploads:/uploads
      - ./public/system:/public/system
      - ./conf:/etc/app:ro
  db:
    image: busybox
    command: ["sleep", "3600"]
    volumes: [data:/data]
volumes:
  uploads: {}
  data: {}
  cache:
    driver_opts: {type: tmpfs, device: tmpfs, o: size=64m}
"""


def _bound(kubeconfig, ns, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        claims = get_json(kubeconfig, "persistentvolumeclaims", "-n", ns)["items"]
        phases = {c["metadata"]["name"]: c["status"].get("phase") for c in claims}
        if (phases and all(p == "Bound" for p in phases.values())) or time.monotonic() > deadline:
            return {c["metadata"]["name"]: (c["status"].get("phase"), c["spec"]["accessModes"])
                    for c in claims}
        time.sleep(1)


def test_shared_claims_bind_and_every_pod_mounts_them(cluster_kubeconfig, ns, tmp_path):
    folder = tmp_path / "shared"
    write_compose(folder, COMPOSE)
    (folder / "conf").mkdir()
    (folder / "conf" / "app.ini").write_text("[app]\nmode = prod\n")
    proc = c2k(cluster_kubeconfig, "apply", "-n", ns, "--wait", "--timeout", "2m", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert _bound(cluster_kubeconfig, ns) == {
        "uploads": ("Bound", ["ReadWriteMany"]),
        "public-system": ("Bound", ["ReadWriteMany"]),
        "conf": ("Bound", ["ReadWriteMany"]),
        "data": ("Bound", ["ReadWriteOnce"])}
    pods = get_json(cluster_kubeconfig, "pods", "-n", ns)["items"]
    by_service: dict = {}
    for p in pods:
        service = p["metadata"]["labels"]["app.kubernetes.io/name"]
        claims = sorted(v["persistentVolumeClaim"]["claimName"] for v in p["spec"]["volumes"]
                        if "persistentVolumeClaim" in v)
        by_service.setdefault(service, []).append(claims)
        assert p["status"]["phase"] == "Running", p["metadata"]["name"]
    assert by_service == {"web": [["conf", "public-system", "uploads"]] * 2,
                          "worker": [["conf", "public-system", "uploads"]],
                          "db": [["data"]]}
    web = next(p for p in pods if p["metadata"]["labels"]["app.kubernetes.io/name"] == "web")
    volumes = {v["name"]: v for v in web["spec"]["volumes"]}
    assert [c["name"] for c in web["spec"]["initContainers"]] == ["copy-project-files"]
    mounts = {m["mountPath"]: m for m in web["spec"]["containers"][0]["volumeMounts"]}
    assert volumes[mounts["/etc/localtime"]["name"]]["hostPath"] == {
        "path": "/etc/localtime", "type": "File"}
    assert volumes[mounts["/cache"]["name"]]["emptyDir"] == {"medium": "Memory",
                                                            "sizeLimit": "64Mi"}
    assert "/var/run/docker.sock" not in mounts
    deployment = get_json(cluster_kubeconfig, "deployment", "db", "-n", ns)
    assert deployment["spec"]["strategy"]["type"] == "Recreate"

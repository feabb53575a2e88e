"""Smoke test of the local test cluster (tests/cluster): workloads reach their
ready/complete states through kube-controller-manager, kube-scheduler and kwok
(in a namespace whose pods go to the simulated node). The real node's own checks
are in test_real_node.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest_cluster import KWOK_NAMESPACE_PREFIX, kubectl_path  # noqa: E402

pytestmark = pytest.mark.cluster


def kubectl(kubeconfig: str, *args: str, stdin: str | None = None, check: bool = True):
    proc = subprocess.run(
        [kubectl_path(), "--kubeconfig", kubeconfig, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def namespace(cluster_kubeconfig: str):
    name = f"{KWOK_NAMESPACE_PREFIX}smoke-{uuid.uuid4().hex[:8]}"   # its pods go to kwok
    kubectl(cluster_kubeconfig, "create", "namespace", name)
    # Pods are refused until the namespace's default ServiceAccount exists.
    deadline = time.monotonic() + 60
    while kubectl(cluster_kubeconfig, "-n", name, "get", "sa", "default", check=False).returncode:
        assert time.monotonic() < deadline, "default ServiceAccount never appeared"
        time.sleep(0.2)
    yield name
    kubectl(cluster_kubeconfig, "delete", "namespace", name, "--wait=false", check=False)


WORKLOADS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "busybox:1", command: [sleep, infinity]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: once, image: "busybox:1", command: ["true"]}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: "busybox:1"
        command: [sleep, infinity]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      # A DaemonSet picks its nodes from its own template: only the kwok node here.
      nodeSelector: {type: kwok}
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
      containers:
      - {name: agent, image: "busybox:1", command: [sleep, infinity]}
"""


def test_workloads_become_ready(cluster_kubeconfig: str, namespace: str) -> None:
    kc = lambda *a, **kw: kubectl(cluster_kubeconfig, "-n", namespace, *a, **kw)  # noqa: E731
    kc("apply", "-f", "-", stdin=WORKLOADS)

    kc("wait", "--for=condition=Available", "deployment/web", "--timeout=90s")
    kc("wait", "--for=condition=Complete", "job/once", "--timeout=90s")
    kc("rollout", "status", "statefulset/db", "--timeout=90s")
    kc("rollout", "status", "daemonset/agent", "--timeout=90s")
    kc("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data-db-0", "--timeout=90s")

    pods = json.loads(kc("get", "pods", "-o", "json").stdout)["items"]
    phases = {p["metadata"]["name"]: p["status"].get("phase") for p in pods}
    assert sum(1 for n, ph in phases.items() if n.startswith("web-") and ph == "Running") == 2, phases
    assert phases["db-0"] == "Running", phases
    assert any(n.startswith("once-") and ph == "Succeeded" for n, ph in phases.items()), phases
    nodes = {p["spec"].get("nodeName") for p in pods}
    assert nodes == {"c2k-node-0"}, nodes

    pvc = json.loads(kc("get", "pvc", "data-db-0", "-o", "json").stdout)
    pv = json.loads(kubectl(cluster_kubeconfig, "get", "pv", pvc["spec"]["volumeName"], "-o", "json").stdout)
    assert pv["status"]["phase"] == "Bound"
    assert pv["spec"]["claimRef"]["name"] == "data-db-0"


def test_namespace_deletion_finishes(cluster_kubeconfig: str) -> None:
    name = f"{KWOK_NAMESPACE_PREFIX}smoke-del-{uuid.uuid4().hex[:8]}"
    kc = lambda *a, **kw: kubectl(cluster_kubeconfig, *a, **kw)  # noqa: E731
    kc("create", "namespace", name)
    kc("-n", name, "create", "configmap", "c", "--from-literal=k=v")
    kc("-n", name, "create", "deployment", "d", "--image=busybox:1", "--replicas=1")
    kc("-n", name, "wait", "--for=condition=Available", "deployment/d", "--timeout=90s")
    kc("delete", "namespace", name, "--wait=false")
    kc("wait", "--for=delete", f"namespace/{name}", "--timeout=120s")
    assert kc("get", "namespace", name, check=False).returncode != 0


def test_unprivileged_user_is_forbidden(cluster_kubeconfig: str) -> None:
    unprivileged = str(Path(cluster_kubeconfig).with_name("unprivileged.kubeconfig"))
    proc = kubectl(unprivileged, "get", "pods", "-n", "default", check=False)
    assert proc.returncode != 0
    assert "forbidden" in proc.stderr.lower(), proc.stderr

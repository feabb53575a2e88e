"""Helpers for the c2k cluster tests (tests/test_cluster_*.py): run c2k and kubectl against the
local control plane, fresh namespaces, and reading back what a project left in the cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from conftest_cluster import KWOK_NAMESPACE_PREFIX, cluster_dir, kubectl_path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
PART_OF = "applyset.kubernetes.io/part-of"


def c2k(kubeconfig: str, *args, cwd=None, timeout=180, env=None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("COMPOSE_", "KUBECONFIG", "C2K_DEBUG"))}
    base.update({"PYTHONPATH": str(REPO), "KUBECONFIG": kubeconfig, **(env or {})})
    return subprocess.run([sys.executable, "-m", "converter.cli", *map(str, args)], cwd=cwd,
                          env=base, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def kubectl(kubeconfig: str, *args, stdin: str | None = None, check: bool = True,
            env=None) -> subprocess.CompletedProcess:
    proc = subprocess.run([kubectl_path(), "--kubeconfig", kubeconfig, *map(str, args)],
                          input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(map(str, args))} failed:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def get_json(kubeconfig: str, *args) -> dict:
    return json.loads(kubectl(kubeconfig, "get", *args, "-o", "json").stdout)


def new_namespace_name() -> str:
    """A fresh namespace whose pods go to the simulated (kwok) node: fast, no image is pulled.
    Tests that run real containers use real_namespace_name()."""
    return f"{KWOK_NAMESPACE_PREFIX}{uuid.uuid4().hex[:8]}"


def real_namespace_name() -> str:
    """A fresh namespace whose pods go to the real node (the cluster's default)."""
    return f"rn-{uuid.uuid4().hex[:8]}"


def delete_namespace(kubeconfig: str, name: str) -> None:
    kubectl(kubeconfig, "delete", "namespace", name, "--wait=false", "--ignore-not-found",
            check=False)


def unprivileged_kubeconfig() -> str:
    return str(cluster_dir() / "unprivileged.kubeconfig")


def write_compose(folder: Path, text: str, name: str = "compose.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


KINDS = "deployments,statefulsets,daemonsets,jobs,cronjobs,services,configmaps,secrets," \
        "persistentvolumeclaims,ingresses,horizontalpodautoscalers,networkpolicies," \
        "serviceaccounts,roles,rolebindings"


def members(kubeconfig: str, namespace: str) -> list[dict]:
    """Every object in namespace that carries an ApplySet part-of label."""
    items = get_json(kubeconfig, KINDS, "-n", namespace, "-l", PART_OF)["items"]
    return items


def versions(kubeconfig: str, namespace: str) -> dict[str, str]:
    """kind/name -> resourceVersion of every object in the namespace (kinds c2k writes)."""
    items = get_json(kubeconfig, KINDS, "-n", namespace)["items"]
    return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
            for o in items}


def wait_until(predicate, timeout=60.0, interval=0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)

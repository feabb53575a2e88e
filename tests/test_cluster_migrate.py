"""An overlay of `c2k migrate` applied to the test cluster: built by kustomize, applied
server-side into a namespace of its own, it rolls out with the environment's replicas and the
generated Secrets and ConfigMaps its pods mount; a changed config file rolls the pods."""

from __future__ import annotations

import shutil

import pytest
import yaml
from cluster_util import (
    SAMPLES,
    c2k,
    get_json,
    kubectl,
    wait_until,
)
from conftest_tools import run_tool

pytestmark = pytest.mark.cluster


@pytest.fixture
def ns(ns, cluster_kubeconfig):
    """The shared fixture's namespace, created: kubectl apply does not create it."""
    kubectl(cluster_kubeconfig, "create", "namespace", ns)
    return ns


def _apply(kubeconfig, kustomize_bin, overlay, ns) -> list[dict]:
    built = run_tool(kustomize_bin, "build", "--load-restrictor", "LoadRestrictionsNone",
                     overlay).stdout
    kubectl(kubeconfig, "apply", "--server-side", "-n", ns, "-f", "-", stdin=built)
    return [d for d in yaml.safe_load_all(built) if d]


def _available(kubeconfig, ns, name, replicas) -> bool:
    status = get_json(kubeconfig, "deployment", name, "-n", ns).get("status") or {}
    return status.get("updatedReplicas") == replicas and \
        status.get("availableReplicas") == replicas and status.get("replicas") == replicas


def test_prod_overlay_applies_and_rolls_out(cluster_kubeconfig, kustomize_bin, ns, tmp_path):
    folder = tmp_path / "storefront"
    shutil.copytree(SAMPLES / "storefront", folder)
    proc = c2k("/nonexistent", "migrate", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    docs = _apply(cluster_kubeconfig, kustomize_bin, folder / "k8s" / "overlays" / "prod", ns)
    config = next(d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"].startswith("app-settings-"))
    live = get_json(cluster_kubeconfig, "configmap", config, "-n", ns)
    assert "cache.ttl=300" in live["data"]["app_settings"]          # the prod config file
    assert get_json(cluster_kubeconfig, "secrets", "-n", ns)["items"]
    api = get_json(cluster_kubeconfig, "deployment", "api", "-n", ns)
    assert api["spec"]["replicas"] == 4
    volumes = api["spec"]["template"]["spec"]["volumes"]
    assert any((v.get("configMap") or {}).get("name") == config for v in volumes)
    wait_until(lambda: _available(cluster_kubeconfig, ns, "api", 4), timeout=120)
    wait_until(lambda: _available(cluster_kubeconfig, ns, "worker", 6), timeout=120)

    # a changed config file: a new ConfigMap name, so the api's pods are replaced
    settings = folder / "config" / "app_settings.prod.conf"
    settings.write_text(settings.read_text() + "cache.size=64\n")
    assert c2k("/nonexistent", "migrate", "--check", cwd=folder).returncode == 0
    docs = _apply(cluster_kubeconfig, kustomize_bin, folder / "k8s" / "overlays" / "prod", ns)
    changed = next(d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"
                   and d["metadata"]["name"].startswith("app-settings-"))
    assert changed != config
    api = get_json(cluster_kubeconfig, "deployment", "api", "-n", ns)
    assert api["metadata"]["generation"] >= 2
    wait_until(lambda: _available(cluster_kubeconfig, ns, "api", 4), timeout=120)

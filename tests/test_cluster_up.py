"""`c2k up --build --push`: images built and pushed to the local registry, their digests
pinned into the workloads, then applied and waited for (markers cluster and docker)."""

from __future__ import annotations

import pytest
from cluster_util import c2k, delete_namespace, get_json, new_namespace_name

from tests import docker_env as env

pytestmark = [pytest.mark.cluster, pytest.mark.docker]


def test_up_builds_pushes_pins_and_waits(cluster_kubeconfig, docker_env, docker_config,
                                         tmp_path, unique_name):
    env.write_compose_sample(tmp_path, unique_name)
    ns = new_namespace_name()
    prefix = f"{docker_env.registry}/{unique_name}"
    try:
        proc = c2k(cluster_kubeconfig, "up", "-d", "-n", ns, "--build", "--push", "--registry",
                   prefix, "--timeout", "3m", cwd=tmp_path, timeout=900,
                   env={"DOCKER_CONFIG": str(docker_config)})
        assert proc.returncode == 0, proc.stderr
        assert "deployment.apps/web rolled out" in proc.stderr
        deployments = get_json(cluster_kubeconfig, "deployments", "-n", ns)["items"]
        images = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
                  for d in deployments}
        for name in ("web", "worker", "api"):
            assert images[name].startswith(f"{prefix}/"), images
            assert "@sha256:" in images[name], images
            reference, digest = images[name].split("@")
            repo, tag = reference.split("/", 1)[1].rsplit(":", 1)
            assert env.manifest_digest(docker_env.registry, repo, tag) == digest
        for d in deployments:
            assert d["status"].get("availableReplicas") == d["spec"]["replicas"]
    finally:
        delete_namespace(cluster_kubeconfig, ns)

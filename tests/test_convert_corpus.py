"""Every corpus compose file the loader accepts converts, and every object passes the schema.

Also the kompose parity check over `kompose/INDEX.tsv` (active rows, provider kubernetes): each
object kompose emits has a c2k counterpart with the same kind (a Job or a Deployment where
kompose emits a bare Pod) and name; the counterparts have the same container images and ports,
and c2k's Service has every port kompose's has (plus the container ports as themselves). Known,
deliberate differences are listed in KNOWN_DIFFERENCES.
"""

from __future__ import annotations

import json
import shlex

import pytest
import yaml

import k8s_schema
from corpus import CORPUS, compose_files, corpus_dir
from converter.compose.loader import LoadOptions, load_project
from converter.emit.yamlio import dump_all
from converter.errors import C2KError, ComposeError
from converter.kube.options import ConvertOptions
from converter.kube.transform import to_manifests

pytestmark = pytest.mark.corpus

OPTION_SETS = {
    "default": ConvertOptions(),
    "all-flags": ConvertOptions(namespace="ns", generate_network_policies=True,
                                controller="statefulset", secret_env=True, registry="reg.local",
                                service_group_mode="label"),
    "volume-modes": ConvertOptions(volumes="hostPath", replicas=2),
}
# Inputs that must fail conversion (kompose's own failure fixtures).
MUST_FAIL = ("v12-fail-image-pull-policy.yml",)


def _load(path):
    try:
        return load_project(LoadOptions(files=(str(path),), environ={})).project
    except (ComposeError, C2KError):
        return None


@pytest.mark.parametrize("path", compose_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_converts_to_valid_objects(path):
    corpus_dir()
    project = _load(path)
    if project is None:
        from reference import reference_config
        accepted, _ = reference_config([path])
        assert not accepted, "docker compose accepts this file but c2k's loader rejects it"
        pytest.skip("docker compose rejects this file too")
    for label, options in OPTION_SETS.items():
        if path.name in MUST_FAIL:
            with pytest.raises(C2KError):
                to_manifests(project, options)
            return
        result = to_manifests(project, options)
        k8s_schema.assert_valid(result.objects)
        text = dump_all(result.objects)
        assert list(yaml.safe_load_all(text)) == result.objects, label
        assert dump_all(to_manifests(project, options).objects) == text, label


# ---- kompose parity ---------------------------------------------------------------------------

# (case, kind, name) kompose emits that c2k deliberately does not:
KNOWN_DIFFERENCES = {
    # kompose splits LoadBalancer Services per protocol (`-tcp`/`-udp`), renaming the Service so
    # other services can no longer reach it by its compose name; mixed-protocol LoadBalancers are
    # GA since Kubernetes 1.26, so c2k keeps one Service named after the service.
    ("v2", "Service", "redis-tcp"), ("v2", "Service", "redis-udp"),
    ("external-traffic-policy", "Service", "front-end-tcp"),
    # kompose keeps `front_end`, an invalid Service name; c2k writes `front-end`.
    ("single-file-output", "Service", "front_end"),
    # kompose numbers claims per pod group; c2k per service (dispatcher-claim0, librenms-claim0).
    ("service-group", "PersistentVolumeClaim", "librenms-dispatcher-claim0"),
    # kompose puts the private key tls/a.key in ConfigMaps; c2k in a Secret (web-secret0/1).
    ("configmap-volume", "ConfigMap", "web-cm0"), ("configmap-volume", "ConfigMap", "web-cm1"),
    ("multiple-type-volumes", "ConfigMap", "web-cm0"),
    ("multiple-type-volumes", "ConfigMap", "web-cm1"),
}


def _kompose_rows():
    index = CORPUS / "kompose" / "INDEX.tsv"
    if not index.exists():
        return []
    rows = [line.rstrip("\n").split("\t") for line in index.read_text().splitlines()[1:]]
    return [r for r in rows if len(r) > 6 and r[3] == "kubernetes" and r[6] == "active"
            and r[2]]


def _options(flags: str) -> tuple[dict, list[str]]:
    args = shlex.split(flags)
    opts: dict = {}
    profiles: list[str] = []
    names = {"--controller": "controller", "--volumes": "volumes",
             "--pvc-request-size": "pvc_request_size", "--replicas": "replicas",
             "-n": "namespace", "--namespace": "namespace",
             "--service-group-mode": "service_group_mode",
             "--service-group-name": "service_group_name", "--profile": "profiles"}
    i = 0
    while i < len(args):
        arg = args[i]
        key, eq, value = arg.partition("=")
        if key in names:
            if not eq:
                i += 1
                value = args[i]
            if key == "--profile":
                profiles.append(value)
            else:
                opts[names[key]] = int(value) if key == "--replicas" else value
        elif arg == "--generate-network-policies":
            opts["generate_network_policies"] = True
        elif arg == "--emptyvols":
            opts["volumes"] = "emptyDir"
        i += 1
    return opts, profiles


def _expected(out: str) -> list[dict]:
    text = (CORPUS / "kompose" / out).read_text()
    docs = [json.loads(text)] if out.endswith(".json") else list(yaml.safe_load_all(text))
    objs = []
    for doc in docs:
        if doc:
            objs.extend(doc["items"] if doc.get("kind") == "List" else [doc])
    return objs


def _pod(obj):
    spec = obj.get("spec", {})
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec.get("template", {}).get("spec", {})


def _images_and_ports(obj):
    pod = _pod(obj)
    images = sorted(c["image"] for c in pod.get("containers", []))
    ports = sorted((p["containerPort"], p.get("protocol", "TCP"))
                   for c in pod.get("containers", []) for p in c.get("ports", []))
    return images, ports


def _service_ports(obj):
    return sorted((p["port"], p.get("targetPort"), p.get("protocol", "TCP"))
                  for p in obj["spec"].get("ports", []) if p["port"] != 55555)


def test_kompose_parity():
    corpus_dir("kompose")
    total = matched = 0
    problems = []
    for row in _kompose_rows():
        case, inputs, outputs, _, flags = row[:5]
        files = tuple(str(CORPUS / "kompose" / f) for f in inputs.split(","))
        opts, profiles = _options(flags)
        try:
            project = load_project(LoadOptions(files=files, profiles=tuple(profiles),
                                               environ={})).project
        except ComposeError:
            continue  # inputs docker compose rejects (Windows paths) are out of scope
        mine = {(o["kind"], o["metadata"]["name"]): o
                for o in to_manifests(project, ConvertOptions(**opts)).objects}
        for out in outputs.split(","):
            if not (CORPUS / "kompose" / out).exists():
                continue
            for obj in _expected(out):
                kind, name = obj["kind"], obj["metadata"]["name"]
                if (case, kind, name) in KNOWN_DIFFERENCES:
                    continue
                total += 1
                # kompose makes a bare Pod of restart no / on-failure; c2k a Job for a
                # one-shot, a Deployment for a server (on-failure, or ports...)
                ours = mine.get((kind, name)) if kind != "Pod" else (
                    mine.get(("Job", name)) or mine.get(("Deployment", name)))
                if ours is None:
                    problems.append(f"{case}: no {kind}/{name}")
                    continue
                matched += 1
                # kompose's Service port is the published one; c2k keeps it and adds the
                # container port as itself (minio:9000 for 9090:9000, as on a compose network)
                if kind == "Service" and not set(_service_ports(obj)) <= set(
                        _service_ports(ours)):
                    problems.append(f"{case}: Service {name} ports {_service_ports(obj)} not in "
                                    f"{_service_ports(ours)}")
                elif kind in ("Deployment", "Pod", "DaemonSet", "StatefulSet", "CronJob",
                              "ReplicationController"):
                    theirs, got = _images_and_ports(obj), _images_and_ports(ours)
                    # kompose names a built image after the service; c2k as docker compose
                    # does, <project>-<service>; compare ports always, images when set
                    if theirs[1] != got[1] or (theirs[0] != got[0] and _pod_has_image(
                            project, name)):
                        problems.append(f"{case}: {kind} {name} {theirs} != {got}")
    assert total > 100
    assert matched / total >= 0.95, problems
    assert len(problems) <= 3, "\n".join(problems)


def _pod_has_image(project, name) -> bool:
    svc = project.services.get(name)
    return svc is None or (svc.image is not None and "${" not in svc.image)

"""Storage of the 22 real projects in ../shared/corpus/realworld keeps compose's sharing and meaning.

For every project: no claim is mounted where compose mounts a host system path, and whatever
several services mount (a named volume, a host folder) is one object for all of them, a claim
that every pod can mount. Then the repros of issue 18 taken from the projects themselves.
"""

from __future__ import annotations

import os
import shlex
import shutil

import pytest

import k8s_schema
from corpus import corpus_cases, corpus_dir
from converter.compose.loader import LoadOptions, load_project
from converter.kube import names
from converter.kube.hostpaths import host_rule
from converter.kube.options import ConvertOptions
from converter.kube.podvolumes import COPY_CONTAINER
from converter.kube.sharing import mount_key
from converter.kube.transform import to_manifests

pytestmark = pytest.mark.corpus


def _files(folder) -> tuple[str, ...]:
    """The `-f` files of the project's ARGS (all its ARGS hold); () to discover them."""
    args = shlex.split((folder / "ARGS").read_text()) if (folder / "ARGS").exists() else []
    return tuple(str(folder / a) for i, a in enumerate(args) if i and args[i - 1] == "-f")


def _convert(folder, **options):
    project = load_project(LoadOptions(files=_files(folder), cwd=str(folder),
                                       environ={})).project
    result = to_manifests(project, ConvertOptions(**options))
    k8s_schema.assert_valid(result.objects)
    return project, result


def _project(name):
    return corpus_dir("realworld", name)


def _workload(objects, service):
    wanted = names.dns_label(service, prefix="svc")
    return next(o for o in objects if o["metadata"]["name"] == wanted
                and o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"))


def _pod(workload):
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def _backing(objects, service, target):
    """What `service` has at `target`: ("claim", name), ("configMap", name), ("emptyDir",),
    ("hostPath", path), ("template", name), or None when nothing is mounted there."""
    workload = _workload(objects, service)
    pod = _pod(workload)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod["containers"]:
        for m in c.get("volumeMounts", []):
            if m["mountPath"] != target:
                continue
            vol = volumes.get(m["name"])
            if vol is None:
                return ("template", m["name"])
            if "persistentVolumeClaim" in vol:
                return ("claim", vol["persistentVolumeClaim"]["claimName"])
            if "configMap" in vol:
                return ("configMap", vol["configMap"]["name"])
            if "hostPath" in vol:
                return ("hostPath", vol["hostPath"]["path"])
            return (next(k for k in vol if k != "name"),)
    return None


def _claims(objects):
    return {o["metadata"]["name"]: o["spec"] for o in objects
            if o["kind"] == "PersistentVolumeClaim"}


@pytest.mark.parametrize("folder", [p for p in corpus_cases("realworld") if p.is_dir()],
                         ids=lambda p: p.name)
def test_no_claim_over_a_system_path_and_no_split_shared_storage(folder):
    corpus_dir("realworld")
    project, result = _convert(folder)
    objects = result.objects
    claims = _claims(objects)
    backings: dict = {}
    for svc in project.services.values():
        for mount in svc.volumes:
            backing = _backing(objects, svc.name, mount.target)
            if mount.type == "bind" and host_rule(mount.source or "") is not None and \
                    not (mount.source or "").startswith(project.working_dir + os.sep):
                assert backing is None or backing[0] != "claim", \
                    f"{svc.name}: a claim at {mount.target} over {mount.source}"
            key = mount_key(mount)
            volume = project.volumes.get(mount.source) if mount.type == "volume" else None
            if key is None or (volume is not None and volume.driver_opts.get("type") == "tmpfs"):
                continue
            backings.setdefault(key, {})[svc.name] = backing
    for key, by_service in backings.items():
        if len(by_service) < 2:
            continue
        kept = {b for b in by_service.values() if b is not None}
        assert len(kept) <= 1, f"{key} is split: {by_service}"
        for backing in kept:
            assert backing[0] in ("claim", "configMap"), f"{key}: {by_service}"
            if backing[0] == "claim" and backing[1] in claims:
                assert claims[backing[1]]["accessModes"] == ["ReadWriteMany"], key


def test_airflow_folders_are_four_claims_shared_by_its_six_services():
    _, result = _convert(_project("apache-airflow"))
    claims = _claims(result.objects)
    assert {n: c["accessModes"] for n, c in claims.items()} == {
        "dags": ["ReadWriteMany"], "logs": ["ReadWriteMany"], "config": ["ReadWriteMany"],
        "plugins": ["ReadWriteMany"], "postgres-db-volume": ["ReadWriteOnce"]}
    services = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-worker", "airflow-triggerer", "airflow-init")
    for service in services:
        for folder in ("dags", "logs", "config", "plugins"):
            assert _backing(result.objects, service, f"/opt/airflow/{folder}") == (
                "claim", folder)
    warnings = [e.detail for e in result.report.of("project", "") if e.status == "warning"]
    assert len([w for w in warnings if "ReadWriteMany" in w]) == 4


@pytest.mark.parametrize("name, shared", [
    ("mastodon-mastodon", {"public-system": ("web", "sidekiq")}),
    ("goauthentik-authentik", {"media": ("server", "worker"),
                               "custom-templates": ("server", "worker")}),
    ("supabase-supabase", {"volumes-storage": ("storage", "imgproxy")}),
    ("frappe-frappe_docker", {"sites": ("backend", "frontend", "websocket", "scheduler",
                                        "queue-short", "queue-long", "configurator",
                                        "create-site")}),
    ("zammad-zammad-docker-compose", {"zammad-storage": (
        "zammad-backup", "zammad-init", "zammad-nginx", "zammad-railsserver",
        "zammad-scheduler", "zammad-websocket")}),
    ("n8n-io-n8n-hosting", {"n8n-storage": ("n8n", "n8n-worker")}),
])
def test_shared_folders_and_volumes_are_one_read_write_many_claim(name, shared):
    project, result = _convert(_project(name))
    claims = _claims(result.objects)
    for claim, services in shared.items():
        assert claims[claim]["accessModes"] == ["ReadWriteMany"]
        for service in services:
            targets = [m.target for m in project.services[service].volumes]
            assert ("claim", claim) in [_backing(result.objects, service, t) for t in targets]


def test_host_system_paths_of_the_real_projects():
    _, immich = _convert(_project("immich-app-immich"))
    workload = _workload(immich.objects, "immich-server")
    pod = _pod(workload)
    mount = next(m for m in pod["containers"][0]["volumeMounts"]
                 if m["mountPath"] == "/etc/localtime")
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["hostPath"] == {"path": "/etc/localtime", "type": "File"}
    assert mount["readOnly"] is True
    _, appwrite = _convert(_project("appwrite-appwrite"))
    for service in ("traefik", "openruntimes-executor", "orchestrator"):
        assert _backing(appwrite.objects, service, "/var/run/docker.sock") is None
        assert appwrite.report.statuses("service", service, "volumes[0]") == {"not-converted"}
        assert "containerd" in str(appwrite.report.of("service", service))
    assert _backing(appwrite.objects, "openruntimes-executor", "/tmp") == ("emptyDir",)
    for name, service in (("supabase-supabase", "vector"),
                          ("goauthentik-authentik", "worker"),
                          ("nextcloud-all-in-one", "nextcloud-aio-mastercontainer")):
        _, result = _convert(_project(name))
        assert _backing(result.objects, service, "/var/run/docker.sock") is None


def test_tmpfs_of_the_real_projects_are_memory_backed_empty_dirs():
    _, kong = _convert(_project("Kong-docker-kong"))
    assert not _claims(kong.objects)
    pod = _pod(_workload(kong.objects, "kong"))
    volumes = {v["name"]: v for v in pod["volumes"]}
    for target in ("/var/run/kong", "/tmp"):
        mount = next(m for m in pod["containers"][0]["volumeMounts"]
                     if m["mountPath"] == target)
        assert volumes[mount["name"]]["emptyDir"] == {"medium": "Memory"}
    _, jitsi = _convert(_project("jitsi-docker-jitsi-meet"))
    pod = _pod(_workload(jitsi.objects, "prosody"))
    volumes = {v["name"]: v for v in pod["volumes"]}
    for target in ("/run", "/tmp"):
        mount = next(m for m in pod["containers"][0]["volumeMounts"]
                     if m["mountPath"] == target)
        assert volumes[mount["name"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "16Mi"}


def test_read_write_config_folders_stay_writable():
    _, searxng = _convert(_project("searxng-searxng-docker"))
    pod = _pod(_workload(searxng.objects, "searxng"))
    assert pod["initContainers"][0]["name"] == COPY_CONTAINER
    mount = next(m for m in pod["containers"][0]["volumeMounts"]
                 if m["mountPath"] == "/etc/searxng")
    assert mount == {"name": "project-files", "mountPath": "/etc/searxng",
                     "subPath": "searxng-cm0"}
    config = next(o for o in searxng.objects if o["metadata"]["name"] == "searxng-cm0")
    assert sorted(config["data"]) == ["limiter.toml", "settings.yml"]
    _, netbox = _convert(_project("netbox-community-netbox-docker"))
    for service in ("netbox", "netbox-worker", "netbox-housekeeping"):
        assert _backing(netbox.objects, service, "/etc/netbox/config") == (
            "configMap", "configuration")
        init = _pod(_workload(netbox.objects, service)).get("initContainers", [])
        assert COPY_CONTAINER not in [c["name"] for c in init]


def test_sentry_keeps_its_config_folder_where_the_image_does_not_hold_it(tmp_path):
    project, result = _convert(_project("getsentry-self-hosted"))
    users = [s.name for s in project.services.values()
             if any(m.target == "/etc/sentry" for m in s.volumes)]
    assert len(users) > 10
    for service in users:
        assert _backing(result.objects, service, "/etc/sentry") == ("claim", "sentry")
        init = _pod(_workload(result.objects, service))["initContainers"][0]
        assert init["name"] == COPY_CONTAINER
    assert _claims(result.objects)["sentry"]["accessModes"] == ["ReadWriteMany"]
    assert "cannot be read" in str(result.report.of("service", "web"))
    # With its Dockerfile (which copies the folder to /usr/src/sentry) the mount stays too.
    copy = tmp_path / "sentry-self-hosted"
    shutil.copytree(_project("getsentry-self-hosted"), copy)
    for path in copy.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(copy, 0o755)
    (copy / "sentry" / "Dockerfile").write_text(
        "ARG SENTRY_IMAGE\nFROM ${SENTRY_IMAGE}\nCOPY . /usr/src/sentry\n")
    _, result = _convert(copy)
    assert _backing(result.objects, "web", "/etc/sentry") == ("claim", "sentry")
    assert "at /usr/src/sentry (`COPY . /usr/src/sentry`), not at /etc/sentry" in str(
        result.report.of("service", "web"))
    (copy / "sentry" / "Dockerfile").write_text(
        "ARG SENTRY_IMAGE\nFROM ${SENTRY_IMAGE}\nCOPY . /etc/sentry\n")
    _, result = _convert(copy)
    assert _backing(result.objects, "web", "/etc/sentry") is None

"""The wiring of 22 real projects (../shared/corpus/realworld), with every profile: `c2k convert
--strict` succeeds, and every host:port a service names reaches a Service that forwards it
(checked here on the written objects, apart from c2k's own check). Plus the lifecycle repros of
issue 18: frappe's pwd.yml and Airflow's airflow-init.

Findings that are legitimate (compose would not make them work either) would be listed in
LEGITIMATE with the reason; there are none today."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from corpus import corpus_cases, corpus_dir

from converter.compose.loader import LoadOptions, load_project
from converter.kube.files import read_host_path
from converter.kube.names import is_dns1035
from converter.kube.references import find_references
from helpers import run_c2k

pytestmark = pytest.mark.corpus
PROJECTS = [p for p in corpus_cases("realworld") if p.is_dir()]
LEGITIMATE: dict[str, set[tuple[str, str]]] = {}   # project -> {(service, where)}


def project_args(folder) -> list[str]:
    args = folder / "ARGS"
    return args.read_text().split() if args.exists() else []


def loaded(folder, profiles=()):
    args = project_args(folder)
    files = tuple(str(folder / a) for a in args if a != "-f")
    return load_project(LoadOptions(files=files, cwd=str(folder), profiles=tuple(profiles),
                                    environ={})).project


def profile_sets(folder) -> list[tuple[str, ...]]:
    """No profile, each profile alone, all of them."""
    every = sorted({p for s in loaded(folder, ("*",)).services.values() for p in s.profiles})
    return [()] + [(p,) for p in every] + ([("*",)] if every else [])


def convert(folder, profiles, tmp_path):
    report = tmp_path / f"report-{'-'.join(profiles) or 'none'}.json"
    args = [a for p in profiles for a in ("--profile", p)]
    proc = run_c2k(*project_args(folder), *args, "convert", "--strict", "--report", report,
                   cwd=folder, timeout=300)
    return proc, report


def reaches(services: dict, ref) -> bool:
    spec = services.get(ref.host.lower())
    if spec is None:
        return False
    return spec.get("clusterIP") == "None" or ref.port in {
        p["port"] for p in spec.get("ports") or ()}


@pytest.mark.parametrize("folder", PROJECTS, ids=lambda p: p.name)
def test_realworld_converts_with_its_wiring_intact(folder, tmp_path):
    corpus_dir("realworld")
    for profiles in profile_sets(folder):
        proc, report = convert(folder, profiles, tmp_path)
        what = f"{folder.name} with profiles {profiles or 'none'}"
        assert proc.returncode == 0, f"{what}: {proc.stderr[-3000:]}"
        objects = [o for o in yaml.safe_load_all(proc.stdout) if o]
        assert objects, what
        services = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Service"}
        project = loaded(folder, profiles)
        # every service is reachable by its name; a name that is no DNS label (plausible_db)
        # cannot be a Service name, and the report says what to use instead
        entries = json.loads(report.read_text()).get("services", {})
        for name in project.services:
            if is_dns1035(name.lower()):
                assert name.lower() in services, f"{what}: {name}"
            else:
                assert any(e["key"] == "name" and e["status"] == "warning"
                           for e in entries[name]), f"{what}: {name}"
        refs = find_references(project, read_host_path)
        broken = {(r.service, r.place) for r in refs if not reaches(services, r)}
        assert broken <= LEGITIMATE.get(folder.name, set()), f"{what}: {sorted(broken)}"
        findings = {(name, e["key"]) for name, items in entries.items() for e in items
                    if e.get("detail", "").startswith("wiring:")}
        assert {(s, w.split(" (")[0]) for s, w in broken} == findings, what


def frappe():
    folder = corpus_dir("realworld", "frappe-frappe_docker")
    proc = run_c2k(*project_args(folder), "convert", cwd=folder, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(proc.stdout) if o}


def pod_of(obj):
    return obj["spec"]["template"]["spec"]


def test_frappe_servers_stay_servers_and_one_shots_run_once_first():
    objs = frappe()
    servers = ("backend", "db", "frontend", "queue-long", "queue-short", "redis-cache",
               "redis-queue", "scheduler", "websocket")
    assert sorted(n for k, n in objs if k == "Deployment") == sorted(servers)
    assert sorted(n for k, n in objs if k == "Job") == ["configurator", "create-site"]
    for name in ("configurator", "create-site"):
        job = objs[("Job", name)]
        assert job["spec"]["backoffLimit"] == 0 and pod_of(job)["restartPolicy"] == "Never"
    for name in ("backend", "queue-long", "queue-short", "scheduler", "websocket"):
        init = pod_of(objs[("Deployment", name)])["initContainers"]
        assert [c["name"] for c in init] == ["wait-for-configurator-job"], name
    role = objs[("Role", "frappe-frappe-docker-job-waiter")]
    assert role["rules"][0]["resourceNames"] == ["configurator"]
    # frontend's BACKEND: backend:8000 and create-site's db:3306 reach headless Services
    for name in ("backend", "db", "redis-cache", "websocket"):
        assert objs[("Service", name)]["spec"]["clusterIP"] == "None"
    assert objs[("Service", "frontend")]["spec"]["ports"] == [
        {"name": "8080", "port": 8080, "targetPort": 8080}]


def test_airflow_init_is_a_job_its_dependants_wait_for():
    folder = corpus_dir("realworld", "apache-airflow")
    proc = run_c2k("convert", "--profile", "*", cwd=folder, timeout=300)
    assert proc.returncode == 0, proc.stderr
    objs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(proc.stdout) if o}
    job = objs[("Job", "airflow-init")]
    assert job["spec"]["backoffLimit"] == 0 and pod_of(job)["restartPolicy"] == "Never"
    assert ("Deployment", "airflow-init") not in objs
    waiting = sorted(name for (kind, name), obj in objs.items() if kind == "Deployment" and any(
        c["name"] == "wait-for-airflow-init-job"
        for c in pod_of(obj).get("initContainers") or ()))
    assert waiting == ["airflow-apiserver", "airflow-dag-processor", "airflow-scheduler",
                       "airflow-triggerer", "airflow-worker", "flower"]
    # airflow-cli (profile debug) waits for postgres and redis only
    assert [c["name"] for c in pod_of(objs[("Deployment", "airflow-cli")])["initContainers"]] \
        == ["wait-for-postgres", "wait-for-redis"]
    # the Celery broker redis://:@redis:6379/0 and the execution API reach their Services
    assert objs[("Service", "redis")]["spec"]["ports"][0]["port"] == 6379
    assert objs[("Service", "airflow-apiserver")]["spec"]["ports"][0]["port"] == 8080


def test_the_corpus_is_there_in_ci():
    if os.environ.get("CI") == "true":
        assert len(PROJECTS) == 22
    corpus_dir("realworld")

"""`c2k convert` end to end: compose snippets in tmp_path -> loader -> conversion -> output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import yaml

import k8s_schema
from converter.compose.loader import LoadOptions, load_project
from converter.kube.options import ConvertOptions
from converter.kube.transform import to_manifests

pytestmark = pytest.mark.slow  # the tests run c2k convert in a subprocess


def write(tmp_path, compose: str, **files) -> str:
    path = tmp_path / "compose.yaml"
    path.write_text(textwrap.dedent(compose))
    for name, text in files.items():
        target = tmp_path / name.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return str(path)


def run(*args, cwd=None, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "converter.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def load(path, **options):
    project = load_project(LoadOptions(files=(path,), environ={})).project
    result = to_manifests(project, ConvertOptions(**options))
    k8s_schema.assert_valid(result.objects)
    return {(o["kind"], o["metadata"]["name"]): o for o in result.objects}, result.report


APP = """
    name: shop
    services:
      web:
        build: .
        ports: ["8080:80"]
        environment:
          MODE: "n"
          OFF: "off"
        env_file: [web.env]
        depends_on:
          db: {condition: service_healthy}
        volumes: ["./nginx.conf:/etc/nginx/conf.d/default.conf:ro", ".:/src"]
      db:
        image: postgres:16
        environment:
          POSTGRES_PASSWORD_FILE: /run/secrets/db_password
        secrets: [db_password]
        healthcheck:
          test: ["CMD-SHELL", "pg_isready -U postgres"]
          interval: 5s
          start_period: 20s
        expose: ["5432"]
        volumes: [pgdata:/var/lib/postgresql/data]
      migrate:
        image: shop/migrate
        restart: "no"
        depends_on:
          db: {condition: service_healthy}
    volumes:
      pgdata: {}
    secrets:
      db_password:
        file: ./db_password.txt
"""
FILES = {"nginx.conf": "server { listen 80; }\n", "Dockerfile": "FROM nginx\n",
         "db_password.txt": "pa55word\n", "web.env": "API_URL=http://api\nMODE=y\n"}


def test_loaded_project_converts(tmp_path):
    path = write(tmp_path, APP, **FILES)
    objs, report = load(path)
    assert set(objs) >= {("Secret", "db-password"), ("ConfigMap", "web-cm0"),
                         ("ConfigMap", "web-env"), ("PersistentVolumeClaim", "pgdata"),
                         ("Service", "web"), ("Service", "db"), ("Deployment", "web"),
                         ("Deployment", "db"), ("Job", "migrate")}
    web = objs[("Deployment", "web")]["spec"]["template"]["spec"]
    container = web["containers"][0]
    waits = [c for c in web["initContainers"] if c["name"].startswith("wait-for-")]
    assert container["image"] == "shop-web:latest"
    assert container["envFrom"] == [{"configMapRef": {"name": "web-env"}}]
    # MODE is overridden by `environment:`, so it stays inline and wins over envFrom
    assert container["env"] == [{"name": "MODE", "value": "n"}, {"name": "OFF", "value": "off"}]
    assert objs[("ConfigMap", "web-env")]["data"] == {"API_URL": "http://api", "MODE": "y"}
    # `.:/src`: the image (FROM nginx) does not hold the project at /src, so it is mounted, as a
    # writable copy of a Secret since the folder holds the secret file db_password.txt
    assert [m["mountPath"] for m in container["volumeMounts"]] == [
        "/etc/nginx/conf.d/default.conf", "/src"]
    assert "db_password.txt" in objs[("Secret", "web-secret0")]["data"]
    assert waits[0]["command"][2].startswith("until nc -z -w 2 db 5432")
    job = objs[("Job", "migrate")]["spec"]
    assert job["template"]["spec"]["initContainers"][0]["name"] == "wait-for-db"
    assert "approximated" in report.statuses("service", "web", "volumes[1]")


def test_cli_stdout_stream_and_stderr_report(tmp_path):
    (tmp_path / "shop").mkdir()
    path = write(tmp_path / "shop", APP, **FILES)   # the report is written beside, not inside
    result = run("-f", path, "convert", "--report", str(tmp_path / "report.json"))
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    k8s_schema.assert_valid(docs)
    assert '"n"' in result.stdout and '"off"' in result.stdout and '"y"' in result.stdout
    assert "pa55word" not in result.stderr
    assert "warning: service web: volumes[1]" in result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["services"]["db"]
    assert "pa55word" not in (tmp_path / "report.json").read_text()
    again = run("-f", path, "convert")
    assert again.stdout == result.stdout
    assert str(tmp_path) not in result.stdout


def test_cli_output_modes(tmp_path):
    path = write(tmp_path, APP, **FILES)
    out = tmp_path / "out"
    result = run("convert", "-f", path, "-o", str(out) + "/", "-n", "shop", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    names = sorted(os.listdir(out))
    assert "shop-namespace.yaml" in names and "web-deployment.yaml" in names
    result = run("convert", "-f", path, "-j", "-o", str(tmp_path / "all.json"))
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "all.json").read_text())
    assert data["kind"] == "List" and data["apiVersion"] == "v1"
    k8s_schema.assert_valid(data["items"])


def test_cli_flags(tmp_path):
    path = write(tmp_path, APP, **FILES)
    result = run("-f", path, "convert", "--controller", "statefulset", "--replicas", "3",
                 "--pvc-request-size", "1Gi", "--generate-network-policies", "--secret-env",
                 "--registry", "reg.example.com/shop", "--volumes", "persistentVolumeClaim")
    assert result.returncode == 0, result.stderr
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(result.stdout)}
    k8s_schema.assert_valid(docs.values())
    sts = docs[("StatefulSet", "db")]
    assert sts["spec"]["replicas"] == 3
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
        "storage"] == "1Gi"
    assert docs[("StatefulSet", "web")]["spec"]["template"]["spec"]["containers"][0][
        "image"] == "reg.example.com/shop/shop-web:latest"
    assert ("NetworkPolicy", "shop-default") in docs


@pytest.mark.parametrize("args, code", [(["--controller", "pod"], 2), (["--replicas", "-1"], 2),
                                        (["--pvc-request-size", "big"], 2),
                                        (["-n", "Bad_NS"], 1)])
def test_cli_bad_input(tmp_path, args, code):
    path = write(tmp_path, APP, **FILES)
    result = run("-f", path, "convert", *args)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr


def test_snippets_cover_kompose_labels(tmp_path):
    path = write(tmp_path, """
        services:
          web:
            image: nginx
            ports: ["80:80"]
            labels:
              kompose.service.type: loadbalancer
              kompose.service.expose: "example.com/app"
              kompose.service.expose.ingress-class-name: nginx
              kompose.hpa.replicas.max: "5"
              kompose.image-pull-secret: regcred
          job:
            image: busybox
            restart: on-failure
            labels:
              kompose.cronjob.schedule: "@daily"
          agent:
            image: agent
            deploy: {mode: global}
          x:
            image: x
            x-kubernetes:
              controller: statefulset
              service: {type: NodePort}
            expose: ["9000"]
        """)
    objs, report = load(path)
    assert objs[("Service", "web")]["spec"]["type"] == "LoadBalancer"
    assert objs[("Ingress", "web")]["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/app"
    assert ("HorizontalPodAutoscaler", "web") in objs
    assert ("CronJob", "job") in objs and ("DaemonSet", "agent") in objs
    assert ("StatefulSet", "x") in objs
    assert objs[("Service", "x")]["spec"]["type"] == "NodePort"


def test_output_to_a_reader_that_leaves_or_a_full_disk(tmp_path):
    """convert ends without tearing the interpreter down (cli._exit_now): its output is still
    flushed, a reader that left early is no error, and a failed write is one."""
    path = write(tmp_path, APP, **FILES)
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(__file__))}
    piped = subprocess.run(f"{sys.executable} -m converter.cli -q -f {path} convert | head -c 10",
                           shell=True, capture_output=True, text=True, env=env,
                           executable="/bin/bash")
    assert piped.stdout == "apiVersion" and piped.stderr == ""
    whole = run("-q", "-f", path, "convert")
    assert whole.returncode == 0 and whole.stdout.endswith("\n") and whole.stdout.count("---") > 3
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            failed = subprocess.run([sys.executable, "-m", "converter.cli", "-q", "-f", path,
                                     "convert"], stdout=full, stderr=subprocess.PIPE, text=True,
                                    env=env)
        assert failed.returncode == 1
        assert failed.stderr.startswith("error: ") and "No space left" in failed.stderr


def test_a_profiler_still_gets_its_results_written(tmp_path):
    """The quick exit steps aside when a profiler or tracer waits for the end of the program."""
    path = write(tmp_path, APP, **FILES)
    prof = tmp_path / "convert.prof"
    result = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m",
                             "converter.cli", "-q", "-f", path, "convert"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert prof.stat().st_size > 0 and "kind: Deployment" in result.stdout

"""c2k checks the wiring it writes (issue 18, item 5): the host:port references between
services, the check against the Services, the report, secrets kept out, and --strict."""

import json
from typing import ClassVar

import pytest
from kube_fixtures import WORKDIR, FakeReader, convert, find, project, svc

from converter.kube.references import find_references, scan
from converter.kube.report import Report
from converter.kube.wiring import check_wiring
from converter.model import FileObject, FileRef, Mount, NetworkAttachment, Port
from helpers import run_c2k, write


@pytest.mark.parametrize("text, found", [
    ("redis://cache:6379/0", [("cache", 6379, "redis://cache:6379")]),
    ("postgresql+psycopg2://u:p4ss@db:5432/app", [("db", 5432, "postgresql+psycopg2://db:5432")]),
    ("jdbc:postgresql://db:5432/x", [("db", 5432, "postgresql://db:5432")]),
    ("user:1234@db:5432", [("db", 5432, "db:5432")]),
    ("mongodb://a:27017,b:27018/x", [("a", 27017, "mongodb://a:27017"), ("b", 27018, "b:27018")]),
    ("INTERNAL://kafka:9093,EXTERNAL://localhost:9092",
     [("kafka", 9093, "INTERNAL://kafka:9093"), ("localhost", 9092, "EXTERNAL://localhost:9092")]),
    ("wait-for-it -t 120 db:3306; wait-for-it redis-cache:6379;",
     [("db", 3306, "db:3306"), ("redis-cache", 6379, "redis-cache:6379")]),
    ("server relay:3000;\n proxy_pass http://relay;", [("relay", 3000, "relay:3000")]),
    ('{"host": "api:8080"}', [("api", 8080, "api:8080")]),
    ("image redis:7.2-alpine and redis:7-alpine", []),
    ("/data/file:80 ./x:1 at 10:30", [("10", 30, "10:30")]),
    ("http://web/ and https://web", []),
])
def test_scan_finds_host_port_references(text, found):
    assert list(scan(text)) == found


def reader_with(**files):
    return FakeReader({f"{WORKDIR}/{k}": v for k, v in files.items()})


def test_references_from_every_place_a_service_configures():
    proj = project(
        svc("web", environment={"API": "http://api:8080/v1", "LOCAL": "localhost:9000"},
            command=("serve", "--upstream", "api:8081"), entrypoint=("tini", "--", "db:1"),
            volumes=(Mount(type="bind", source=f"{WORKDIR}/nginx.conf", target="/etc/n.conf"),
                     Mount(type="bind", source="/etc/outside.conf", target="/x"),
                     Mount(type="bind", source=f"{WORKDIR}/conf.d", target="/conf.d")),
            configs=(FileRef(source="app"), FileRef(source="inline")),
            secrets=(FileRef(source="dsn"),)),
        svc("api", networks={"back": NetworkAttachment(aliases=("api-internal",))}),
        svc("db", container_name="primary-db"),
        configs={"app": FileObject(name="app", file=f"{WORKDIR}/app.ini"),
                 "inline": FileObject(name="inline", content="broker = primary-db:5672\n")},
        secrets={"dsn": FileObject(name="dsn", content="postgres://u:s3cret@db:5432/x")})
    reader = reader_with(**{"nginx.conf": b"upstream a { server api-internal:80; }\n",
                            "conf.d": {"a.conf": b"proxy_pass http://API:8082;\n",
                                       "logo.png": b"\x89PNG\0api:1"},
                            "app.ini": b"cache=api:6000\n"})
    refs = find_references(proj, reader)
    got = [(r.service, r.where, r.file, r.host, r.port, r.target, r.via, r.secret, r.text)
           for r in refs]
    assert got == [
        ("web", "environment.API", "", "api", 8080, "api", "service", False,
         "http://api:8080"),
        ("web", "entrypoint", "", "db", 1, "db", "service", False, "db:1"),
        ("web", "command", "", "api", 8081, "api", "service", False, "api:8081"),
        ("web", "volumes[0]", "nginx.conf", "api-internal", 80, "api", "alias", False,
         "api-internal:80"),
        ("web", "volumes[2]", "a.conf", "API", 8082, "api", "service", False,
         "http://API:8082"),
        ("web", "configs[0]", "app.ini", "api", 6000, "api", "service", False, "api:6000"),
        ("web", "configs[1]", "", "primary-db", 5672, "db", "container_name", False,
         "primary-db:5672"),
        ("web", "secrets[0]", "", "db", 5432, "db", "service", True, "")]
    assert "/etc/outside.conf" not in reader.calls       # never read outside the project


def test_minio_and_cache_repros_pass_the_check():
    result_objs, report = convert(project(
        svc("minio", ports=(Port(target=9000, published="9090"),)),
        svc("cache"),
        svc("app", environment={"S3": "http://minio:9000", "S3_OLD": "http://minio:9090",
                                "REDIS": "redis://cache:6379"})))
    assert not [e for e in report.warnings if e.detail.startswith("wiring:")]


def test_a_name_kubernetes_cannot_resolve_is_a_finding_naming_both_services_and_the_fix():
    from converter.kube.options import ConvertOptions
    from converter.kube.transform import to_manifests
    proj = project(
        svc("My_Web", expose=("80",)),
        svc("db", expose=("5432",), networks={"n": NetworkAttachment(aliases=("db.internal",))}),
        svc("app", environment={"HOME_URL": "http://My_Web:80/", "DB": "db.internal:5432"}))
    result = to_manifests(proj, ConvertOptions(), reader=FakeReader())
    findings = {(f.service, f.where, f.target) for f in result.wiring}
    assert findings == {("app", "environment.HOME_URL", "My_Web"),
                        ("app", "environment.DB", "db")}
    details = {e.key: e.detail for e in result.report.of("service", "app")
               if e.detail.startswith("wiring:")}
    assert details["environment.HOME_URL"].startswith(
        "wiring: names http://My_Web:80, but service My_Web is named my-web on Kubernetes")
    assert "fix: use my-web:80 in environment.HOME_URL" in details["environment.HOME_URL"]
    assert "the alias db.internal of service db has no Service" in details["environment.DB"]
    assert "fix: use db:5432 in environment.DB" in details["environment.DB"]


def test_a_service_that_does_not_forward_the_port_is_a_finding():
    class Ctx:
        names: ClassVar = {"api": "api"}
        report = Report()
    Ctx.references = find_references(project(svc("api"), svc("web", environment={
        "API": "http://api:8080"})), FakeReader())
    objects = [{"kind": "Service", "metadata": {"name": "api"},
                "spec": {"ports": [{"port": 80, "targetPort": 80}]}}]
    [finding] = check_wiring(Ctx, objects)
    assert str(finding) == ("service web: environment.API: names http://api:8080, but Service "
                            "api (service api) forwards only port(s) 80; fix: add \"8080\" to "
                            "the expose of api")
    objects[0]["spec"]["clusterIP"] = "None"          # headless: every port is reachable
    assert check_wiring(Ctx, objects) == []


def test_a_reference_inside_a_secret_shows_where_not_what():
    proj = project(svc("db", networks={"n": NetworkAttachment(aliases=("db.internal",))}),
                   svc("app", environment={"DB_PASSWORD": "postgres://u:hunter2@db.internal:5432"}))
    from converter.kube.options import ConvertOptions
    from converter.kube.transform import to_manifests
    result = to_manifests(proj, ConvertOptions(), reader=FakeReader())
    [finding] = result.wiring
    assert finding.where == "environment.DB_PASSWORD"
    text = str(finding) + json.dumps(result.report.as_list())
    assert "hunter2" not in text and "postgres://" not in text and "db.internal:5432" not in text


# ---- the CLI: part of the report, and --strict -------------------------------------------------

BROKEN = """
    name: shop
    services:
      My_Api:
        image: api
        expose: ["8080"]
      web:
        image: web
        environment:
          API_URL: http://My_Api:8080/
          SESSION_SECRET: redis://:pw@My_Api:8080
"""
WORKING = """
    name: shop
    services:
      minio:
        image: minio/minio
        ports: ["9090:9000"]
      cache:
        image: redis
      web:
        image: web
        environment:
          S3: http://minio:9000
          REDIS: redis://cache:6379
"""


@pytest.mark.slow  # runs c2k in a subprocess
def test_convert_reports_findings_and_strict_fails(tmp_path):
    write(tmp_path, "compose.yaml", BROKEN)
    proc = run_c2k("convert", cwd=tmp_path)
    assert proc.returncode == 0 and "kind: Deployment" in proc.stdout
    assert "service web: environment.API_URL: wiring: names http://My_Api:8080" in proc.stderr
    strict = run_c2k("convert", "--strict", "--report", tmp_path / "r.json", cwd=tmp_path)
    assert strict.returncode == 1 and strict.stdout == ""
    assert "error: --strict: the wiring check found 2 reference(s)" in strict.stderr
    assert "Traceback" not in strict.stderr and ":pw@" not in strict.stderr
    assert "wiring:" in (tmp_path / "r.json").read_text()
    quiet = run_c2k("-q", "convert", "--strict", cwd=tmp_path)
    assert quiet.returncode == 1
    assert "  service web: environment.API_URL: names http://My_Api:8080" in quiet.stderr
    assert "environment.SESSION_SECRET" in quiet.stderr and ":pw@" not in quiet.stderr


@pytest.mark.slow  # runs c2k in a subprocess
def test_strict_passes_on_wiring_that_works(tmp_path):
    write(tmp_path, "compose.yaml", WORKING)
    proc = run_c2k("convert", "--strict", "--job-wait-image", "r/curl:1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wiring:" not in proc.stderr


@pytest.mark.slow  # runs c2k in a subprocess
@pytest.mark.parametrize("command", ["convert", "apply", "diff", "up"])
def test_every_converting_command_takes_strict_and_the_wait_images(command):
    proc = run_c2k(command, "--help")
    for option in ("--strict", "--wait-image", "--job-wait-image"):
        assert option in proc.stdout, (command, option)
    from converter.kube.options import JOB_WAIT_IMAGE, WAIT_IMAGE
    flat = " ".join(proc.stdout.split())
    assert f"default: {WAIT_IMAGE}" in flat and f"default: {JOB_WAIT_IMAGE}" in flat


@pytest.mark.slow  # runs c2k in a subprocess
def test_wait_image_option_sets_the_tcp_wait_image(tmp_path):
    write(tmp_path, "compose.yaml", """
        services:
          db: {image: postgres, expose: ["5432"]}
          web: {image: web, depends_on: [db]}
    """)
    proc = run_c2k("convert", "--wait-image", "reg.local/busybox:1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "image: reg.local/busybox:1" in proc.stdout


def test_objects_reference_the_alias_service():
    objs, _ = convert(project(svc("db", expose=("5432",), networks={"n": NetworkAttachment(
        aliases=("postgres",))}), svc("app", environment={"DB": "postgres:5432"})))
    assert find(objs, "Service", "postgres")["spec"]["ports"][0]["port"] == 5432

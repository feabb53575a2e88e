"""Secret values go only into Secret objects: never into logs, reports, errors or other objects.

Each secret value below is a unique marker; the tests look for the marker (and its base64 form)
everywhere c2k writes: stdout, stderr, `--report` files (YAML and JSON), `-o DIR/` files, error
messages, and every object that is not a Secret. Everything runs through the real CLI.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import run_c2k

pytestmark = pytest.mark.slow  # the tests run c2k in a subprocess and read everything it writes

FILE_SECRET = "file-secret-VALUE-1f9c"          # secrets: {db: {file: db.txt}}
ENV_SECRET = "env-secret-VALUE-2b7e"            # secrets: {api: {environment: SRC_SECRET}}
VAR_SECRET = "envvar-secret-VALUE-3d41"         # environment: {DB_PASSWORD: ...}
ENVFILE_SECRET = "envfile-secret-VALUE-4a02"    # env_file: APP_TOKEN=...
ENVFILE_KEY = "envfile-secret-VALUE-5c33"       # env_file: AWS_SECRET_ACCESS_KEY=...
TRUE_SECRETS = (FILE_SECRET, ENV_SECRET)        # always a Secret, flag or not
SECRET_LOOKING = (VAR_SECRET, ENVFILE_SECRET, ENVFILE_KEY)   # a Secret with --secret-env
ALL = TRUE_SECRETS + SECRET_LOOKING
ENV = {"SRC_SECRET": ENV_SECRET}

COMPOSE = """\
services:
  web:
    image: nginx:1.25
    env_file: app.env
    environment:
      DB_PASSWORD: {var}
      MODE: prod
    ports: ["8080:80"]
    secrets:
      - db
      - source: api
        target: api_token
        mode: 0400
  worker:
    image: busybox
    command: ["sh", "-c", "cat /run/secrets/db"]
    secrets: [db]
    configs: [settings]
secrets:
  db:
    file: ./db.txt
  api:
    environment: SRC_SECRET
configs:
  settings:
    content: "log_level=info"
"""


def _forms(value: str) -> list[str]:
    return [value, base64.b64encode(value.encode()).decode()]


def assert_absent(text: str, values=ALL, where: str = "") -> None:
    for value in values:
        for form in _forms(value):
            assert form not in text, f"{value} ({form}) leaked into {where}:\n{text[:3000]}"


@pytest.fixture
def proj(tmp_path) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE.format(var=VAR_SECRET))
    (folder / "db.txt").write_text(FILE_SECRET + "\n")
    (folder / "app.env").write_text(f"APP_TOKEN={ENVFILE_SECRET}\n"
                                    f"AWS_SECRET_ACCESS_KEY={ENVFILE_KEY}\nPLAIN=hello\n")
    return folder


def _objects(stdout: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(stdout) if doc]


def _secret_values(objects) -> set[str]:
    out = set()
    for obj in objects:
        if obj["kind"] == "Secret":
            for value in (obj.get("data") or {}).values():
                out.add(base64.b64decode(value).decode())
            out.update((obj.get("stringData") or {}).values())
    return out


def _non_secrets(objects) -> list[dict]:
    return [o for o in objects if o["kind"] != "Secret"]


# --- convert ---------------------------------------------------------------------------------

@pytest.mark.parametrize("as_json", [False, True])
def test_secrets_only_in_secret_objects(proj, tmp_path, as_json):
    report = tmp_path / ("report.json" if as_json else "report.yaml")
    args = ["convert", "--report", report] + (["--json"] if as_json else [])
    result = run_c2k(*args, cwd=proj, env=ENV)
    assert result.returncode == 0, result.stderr
    if as_json:
        objects = json.loads(result.stdout)["items"]
    else:
        objects = _objects(result.stdout)
    assert set(TRUE_SECRETS) <= {v.strip() for v in _secret_values(objects)}
    for obj in _non_secrets(objects):
        assert_absent(json.dumps(obj), TRUE_SECRETS, f"{obj['kind']}/{obj['metadata']['name']}")
    assert_absent(result.stderr, ALL, "stderr")
    assert_absent(report.read_text(), ALL, str(report.name))


def test_bind_mounted_project_files_holding_secrets_become_secrets(proj):
    """A folder or file mounted from the project that holds a secret's file travels as a
    Secret, read-only or as a writable copy, never as a ConfigMap."""
    (proj / "compose.override.yaml").write_text(
        "services:\n  web:\n    volumes: ['.:/src', './db.txt:/db.txt:ro']\n")
    result = run_c2k("convert", cwd=proj, env=ENV)
    assert result.returncode == 0, result.stderr
    objects = _objects(result.stdout)
    for obj in _non_secrets(objects):
        assert_absent(json.dumps(obj), TRUE_SECRETS, f"{obj['kind']}/{obj['metadata']['name']}")
    assert FILE_SECRET in {v.strip() for v in _secret_values(objects)}
    assert {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"} >= {
        "web-secret0", "web-secret1"}
    assert_absent(result.stderr, ALL, "stderr")


def test_secret_env_moves_secret_looking_variables_into_a_secret(proj, tmp_path):
    report = tmp_path / "report.yaml"
    result = run_c2k("convert", "--secret-env", "--report", report, cwd=proj, env=ENV)
    assert result.returncode == 0, result.stderr
    objects = _objects(result.stdout)
    assert set(ALL) <= {v.strip() for v in _secret_values(objects)}
    for obj in _non_secrets(objects):
        assert_absent(json.dumps(obj), ALL, f"{obj['kind']}/{obj['metadata']['name']}")
    web = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "web")
    env = {e["name"]: e for e in web["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name in ("DB_PASSWORD", "APP_TOKEN", "AWS_SECRET_ACCESS_KEY"):
        assert "secretKeyRef" in env[name]["valueFrom"], env[name]
    assert env["MODE"] == {"name": "MODE", "value": "prod"}
    assert_absent(result.stderr, ALL, "stderr")
    text = report.read_text()
    assert_absent(text, ALL, "the report")
    assert "DB_PASSWORD" in text and "moved into the Secret" in text


def test_secret_looking_variables_are_flagged_without_the_flag(proj, tmp_path):
    report = tmp_path / "report.json"
    result = run_c2k("convert", "--report", report, cwd=proj, env=ENV)
    assert result.returncode == 0
    flagged = [line for line in result.stderr.splitlines() if "look(s) like secrets" in line]
    assert flagged, result.stderr
    assert "DB_PASSWORD" in flagged[0] and "--secret-env" in flagged[0]
    doc = json.loads(report.read_text())
    details = [e.get("detail", "") for e in doc["services"]["web"] if e["status"] == "warning"]
    assert any("DB_PASSWORD" in d and "look(s) like secrets" in d for d in details), details
    # names, never values
    assert_absent(result.stderr + report.read_text(), ALL, "stderr/report")


def test_the_flag_exists_and_is_documented():
    result = run_c2k("convert", "--help")
    assert result.returncode == 0 and "--secret-env" in result.stdout


def test_output_folder_files_hold_secrets_only_in_secret_files(proj, tmp_path):
    out = tmp_path / "out"
    result = run_c2k("convert", "--secret-env", "-o", f"{out}/", cwd=proj, env=ENV)
    assert result.returncode == 0, result.stderr
    files = sorted(out.rglob("*"))
    assert files
    seen = set()
    for path in files:
        if not path.is_file():
            continue
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        if all(d["kind"] == "Secret" for d in docs):
            seen |= _secret_values(docs)
            continue
        assert_absent(path.read_text(), ALL, str(path.relative_to(out)))
    assert set(ALL) <= {v.strip() for v in seen}
    assert_absent(result.stderr, ALL, "stderr")


@pytest.mark.parametrize("secret_env", [False, True])
def test_conversion_is_deterministic_with_secrets(proj, secret_env):
    flag = ["--secret-env"] if secret_env else []
    first = run_c2k("convert", *flag, cwd=proj, env=ENV)
    second = run_c2k("convert", *flag, cwd=proj, env=ENV)
    assert first.returncode == 0 and first.stdout == second.stdout


# --- config ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_config_shows_secret_paths_never_contents(proj, fmt):
    result = run_c2k("config", "--format", fmt, cwd=proj, env=ENV)
    assert result.returncode == 0, result.stderr
    assert str(proj / "db.txt") in result.stdout            # the path, as docker compose
    assert "SRC_SECRET" in result.stdout                     # the variable's name
    assert_absent(result.stdout + result.stderr, TRUE_SECRETS, "c2k config")


# --- errors and warnings --------------------------------------------------------------------

def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


BROKEN = {
    # an invalid ${ in a secret-looking value: docker compose prints the value; c2k does not
    "invalid interpolation in environment":
        ("compose.yaml", "services:\n  web:\n    image: nginx\n    environment:\n"
                         f"      DB_PASSWORD: \"{VAR_SECRET}${{oops\"\n", "DB_PASSWORD"),
    "invalid interpolation in list environment":
        ("compose.yaml", "services:\n  web:\n    image: nginx\n    environment:\n"
                         f"      - \"API_TOKEN={VAR_SECRET}${{oops\"\n",
                         "compose.yaml:6 (services.web.environment[0])"),
    "unterminated quote in env_file":
        ("app.env", f"PLAIN=1\nAPP_TOKEN=\"{ENVFILE_SECRET}\n", "APP_TOKEN"),
    "bad key character in env_file":
        ("app.env", f"APP!TOKEN={ENVFILE_SECRET}\n", "app.env:1"),
    "invalid interpolation in env_file":
        ("app.env", f"APP_TOKEN=\"{ENVFILE_SECRET}${{\"\n", "app.env:1"),
    "a secret value where a string is expected":
        ("compose.yaml", "services:\n  web:\n    image: nginx\n    environment:\n"
                         f"      DB_PASSWORD: [{VAR_SECRET}]\n", "DB_PASSWORD"),
    "content on a secret (configs only)":
        ("compose.yaml", "services:\n  web:\n    image: nginx\n    secrets: [s]\nsecrets:\n"
                         f"  s:\n    content: {FILE_SECRET}\n", "secrets.s"),
}


@pytest.mark.parametrize("command", ["config", "convert"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_error_messages_never_show_secret_values(proj, case, command):
    name, text, fragment = BROKEN[case]
    if name == "compose.yaml":
        text = text.replace("image: nginx\n", "image: nginx\n    env_file: app.env\n", 1)
    _write(proj, name, text)
    result = run_c2k(command, cwd=proj, env=ENV)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert fragment in result.stderr, result.stderr
    assert_absent(result.stderr + result.stdout, ALL, "the error")


def test_warnings_name_variables_not_values(proj):
    _write(proj, "compose.yaml", COMPOSE.format(var="${MISSING_PASSWORD}").replace(
        "secrets:\n  db:", "  extra:\n    image: nginx\n    environment:\n"
                           "      X: ${UNSET_ONE}\nsecrets:\n  db:"))
    result = run_c2k("convert", cwd=proj, env={})
    assert result.returncode == 0, result.stderr
    assert "MISSING_PASSWORD" in result.stderr and "SRC_SECRET" in result.stderr
    assert_absent(result.stderr, ALL, "warnings")


# --- size limits ------------------------------------------------------------------------------

def test_a_100_mb_secret_file_is_a_clear_error(proj):
    with open(proj / "db.txt", "wb") as fh:
        fh.write(FILE_SECRET.encode() * 16)
        fh.truncate(100 * 1024 * 1024)
    start = time.monotonic()
    result = run_c2k("convert", cwd=proj, env=ENV)
    elapsed = time.monotonic() - start
    assert result.returncode == 1, result.stderr
    err = result.stderr
    assert err.startswith("error: ") and "Traceback" not in err
    assert "secrets.db.file" in err and str(proj / "db.txt") in err and "larger than" in err
    assert len(err.strip().splitlines()) <= 2
    assert_absent(err + result.stdout, ALL, "the error")
    assert elapsed < 5
    # `c2k config` does not read secret files at all: it shows the path
    config = run_c2k("config", cwd=proj, env=ENV)
    assert config.returncode == 0 and str(proj / "db.txt") in config.stdout


def test_a_large_secret_folder_is_a_clear_error(proj):
    folder = proj / "certs"
    folder.mkdir()
    for i in range(40):
        (folder / f"c{i}.pem").write_text(f"{FILE_SECRET}-{i}\n")
    _write(proj, "compose.yaml", COMPOSE.format(var="x").replace("file: ./db.txt",
                                                                  "file: ./certs"))
    result = run_c2k("convert", cwd=proj, env=ENV)
    assert result.returncode == 1 and "secrets.db.file" in result.stderr, result.stderr
    assert "more than 32 files" in result.stderr
    assert_absent(result.stderr + result.stdout, ALL, "the error")


def test_a_large_env_file_is_refused_before_reading_it(proj):
    with open(proj / "app.env", "wb") as fh:
        fh.write(f"APP_TOKEN={ENVFILE_SECRET}\n".encode())
        fh.truncate(100 * 1024 * 1024)
    for command in ("config", "convert"):
        result = run_c2k(command, cwd=proj, env=ENV)
        assert result.returncode == 1 and "too large" in result.stderr, result.stderr
        assert_absent(result.stderr + result.stdout, ALL, "the error")


def test_secret_file_special_files_are_refused(proj):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    _write(proj, "compose.yaml", COMPOSE.format(var="x").replace("file: ./db.txt",
                                                                  "file: /dev/zero"))
    for command in ("config", "convert"):
        result = run_c2k(command, cwd=proj, env=ENV, timeout=20)
        assert result.returncode == 1, result.stderr
        assert "/dev/zero" in result.stderr and "not a regular file" in result.stderr

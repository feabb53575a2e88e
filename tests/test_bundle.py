"""`c2k bundle`: the Distributed Application Bundle, as `docker-compose bundle` wrote it.

Unit tests use images pinned by digest (no Docker); the digest lookup is tested with a fake
`converter.images`; a `docker` test pushes to the test registry when the engine is there.
"""

from __future__ import annotations

import json

import pytest

from converter import images
from converter.compose.loader import LoadOptions, load_project
from converter.emit import bundle
from converter.errors import C2KError, ImageError
from helpers import run_c2k, write

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def project_of(tmp_path, text):
    path = write(tmp_path, "compose.yaml", text)
    return load_project(LoadOptions(files=(str(path),), cwd=str(tmp_path), environ={})).project


FULL = f"""
    name: shop
    services:
      web:
        image: example/web@{A}
        entrypoint: ["/entry.sh"]
        command: ["serve", "--port", "80"]
        environment:
          MODE: prod
          EMPTY: ""
          UNSET:
        labels:
          tier: front
        ports: ["8080:80", "53/udp"]
        expose: ["80", "9000-9001"]
        working_dir: /app
        user: web
        networks:
          front:
            aliases: [www]
          back: {{}}
        healthcheck:
          test: ["CMD", "true"]
      redis:
        image: redis:7@{B}
        command: redis-server --appendonly no
        volumes: ["data:/data"]
      sidecar:
        image: busybox@{A}
        network_mode: service:web
    networks:
      front: {{}}
      back:
        internal: true
    volumes:
      data: {{}}
"""


def test_full_bundle(tmp_path):
    result = bundle.make_bundle(project_of(tmp_path, FULL), {})
    assert result.data == {
        "Version": "0.1",
        "Services": {
            "redis": {"Image": f"redis:7@{B}",
                      "Args": ["redis-server", "--appendonly", "no"],
                      "Networks": ["default"]},
            "sidecar": {"Image": f"busybox@{A}", "Networks": []},
            "web": {
                "Image": f"example/web@{A}",
                "Command": ["/entry.sh", "serve", "--port", "80"],
                "Env": ["MODE=prod"],
                "Labels": {"tier": "front"},
                "Ports": [{"Port": 80, "Protocol": "tcp"}, {"Port": 53, "Protocol": "udp"},
                          {"Port": 9000, "Protocol": "tcp"}, {"Port": 9001, "Protocol": "tcp"}],
                "WorkingDir": "/app",
                "User": "web",
                "Networks": ["back", "front"],
            },
        },
    }
    text = result.text()
    assert json.loads(text) == result.data
    assert text == json.dumps(result.data, indent=2, sort_keys=True) + "\n"
    assert text.index('"Services"') < text.index('"Version"')  # sorted keys, as compose v1
    report = "\n".join(result.report)
    for expected in ("environment.EMPTY", "environment.UNSET", "healthcheck",
                     "published (host) ports", "networks.front: aliases",
                     "network_mode 'service:web'", "top-level volumes.data",
                     "networks.back: only the network's name is carried; internal"):
        assert expected in report, expected


# A built image, a pulled one without a digest and a pinned one.
UNPINNED = f"""
    name: shop
    services:
      api:
        build: .
        image: shop-api:1.0
      db:
        image: postgres:15
      cache:
        image: redis@{A}
"""


def test_missing_digests_name_each_service_and_the_fix(tmp_path):
    project = project_of(tmp_path, UNPINNED)
    with pytest.raises(C2KError) as info:
        bundle.make_bundle(project, {}, why="cannot connect to the Docker engine")
    text = str(info.value)
    assert "api, db" in text and "cache" not in text.split("\n")[0]
    assert "c2k push api" in text
    assert "postgres:15@sha256:" in text and "docker pull postgres:15" in text
    assert "cannot connect to the Docker engine" in text
    # with the digests found, the bundle is written
    result = bundle.make_bundle(project, {"api": f"shop-api@{A}", "db": f"postgres@{B}"})
    assert result.data["Services"]["api"]["Image"] == f"shop-api@{A}"


def test_resolve_digests_local_and_pushed(tmp_path, monkeypatch):
    project = project_of(tmp_path, UNPINNED)
    calls = []

    def list_images(project, services, registry=None, **_):
        calls.append(("list", tuple(services), registry))
        return [images.BuiltImage(s, {"api": "shop-api", "db": "postgres"}[s], "x",
                                  digest=B if s == "db" else None) for s in services]

    def build_and_push(project, *, build, push, registry, services, **_):
        calls.append(("push", tuple(services), registry))
        return {"api": f"reg.local/shop-api:1.0@{A}"}

    monkeypatch.setattr(images, "list_images", list_images)
    monkeypatch.setattr(images, "build_and_push", build_and_push)
    assert bundle.resolve_digests(project) == {"db": f"postgres@{B}"}
    assert calls == [("list", ("api", "db"), None)]
    calls.clear()
    found = bundle.resolve_digests(project, push=True, registry="reg.local")
    assert found == {"api": f"reg.local/shop-api@{A}", "db": f"postgres@{B}"}
    assert calls == [("push", ("api",), "reg.local"), ("list", ("db",), "reg.local")]


def test_resolve_digests_without_an_engine(tmp_path, monkeypatch):
    project = project_of(tmp_path, "services: {db: {image: postgres:15}}")

    def no_engine(*args, **kwargs):
        raise ImageError("cannot connect to the Docker engine at unix:///nowhere")

    monkeypatch.setattr(images, "list_images", no_engine)
    problems = []
    assert bundle.resolve_digests(project, problems=problems) == {}
    assert problems == ["cannot connect to the Docker engine at unix:///nowhere"]


@pytest.mark.slow
def test_cli_bundle(tmp_path):
    write(tmp_path, "compose.yaml", f"""
        name: shop
        services:
          web:
            image: example/web@{A}
            ports: ["80"]
            stop_grace_period: 5s
    """)
    proc = run_c2k("bundle", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "shop.dab").read_text())
    assert data == {"Version": "0.1", "Services": {"web": {
        "Image": f"example/web@{A}", "Ports": [{"Port": 80, "Protocol": "tcp"}],
        "Networks": ["default"]}}}
    assert "stop_grace_period" in proc.stderr and "wrote bundle to shop.dab" in proc.stderr
    proc = run_c2k("bundle", "-o", "-", "-q", cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout) == data and proc.stderr == ""


@pytest.mark.slow
def test_cli_bundle_missing_digest_exits_1(tmp_path):
    write(tmp_path, "compose.yaml", "services: {db: {image: postgres:15}}\n")
    proc = run_c2k("bundle", "-o", tmp_path / "out.dab", cwd=tmp_path,
                   env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert proc.returncode == 1
    assert "no image digest for service(s) db" in proc.stderr
    assert "docker pull postgres:15" in proc.stderr
    assert not (tmp_path / "out.dab").exists()


@pytest.mark.docker
def test_bundle_push_pins_registry_digests(tmp_path, docker_env, docker_config, unique_name):
    write(tmp_path, "Dockerfile", f"FROM {docker_env.base_image}\nCMD [\"true\"]\n")
    project = project_of(tmp_path, f"""
        name: {unique_name}
        services:
          app:
            build: .
            image: {unique_name}-app:1.0
          base:
            image: {docker_env.base_image}
    """)
    with pytest.raises(C2KError, match="no image digest for service.s. app"):
        bundle.make_bundle(project, bundle.resolve_digests(project))
    found = bundle.resolve_digests(project, push=True, registry=docker_env.registry)
    name, _, digest = found["app"].partition("@")
    assert name == f"{docker_env.registry}/{unique_name}-app"
    assert digest == images.registry_digest(name, "1.0")
    if "base" not in found:  # an imported base image has no registry digest
        found["base"] = f"{docker_env.base_image.split(':')[0]}@{A}"
    result = bundle.make_bundle(project, found)
    assert result.data["Services"]["app"]["Image"] == found["app"]


@pytest.mark.docker
def test_cli_bundle_push(tmp_path, docker_env, docker_config, unique_name):
    write(tmp_path, "Dockerfile", f"FROM {docker_env.base_image}\nCMD [\"true\"]\n")
    write(tmp_path, "compose.yaml", f"""
        name: {unique_name}
        services:
          app:
            build: .
            command: ["run"]
    """)
    env = {"DOCKER_CONFIG": str(docker_config)}
    proc = run_c2k("bundle", cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 1 and "c2k push app" in proc.stderr, proc.stderr
    proc = run_c2k("bundle", "--push", "--registry", docker_env.registry, "-o", "out.dab",
                   cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "out.dab").read_text())
    name, _, digest = data["Services"]["app"]["Image"].partition("@")
    assert name == f"{docker_env.registry}/{unique_name}-app"
    assert digest == images.registry_digest(name, "latest")
    assert data["Services"]["app"]["Args"] == ["run"]

"""Helpers for the tests that use a real Docker engine and registries (marker ``docker``).

``.ci/docker-up`` starts (or reuses) dockerd, a registry on 127.0.0.1:5000, one with htpasswd
authentication on 127.0.0.1:5001, the base image ``c2k-base:latest`` (= ``busybox:latest``) and
local images for the ones the samples pull (python:3.6, postgres:13/15, redis:7: Debian 12's
Python, PostgreSQL and Redis, labelled ``org.c2k.stand-in``), pulled through the engine's registry
mirror (the :5000 registry) so that they carry registry digests; it writes the addresses and test credentials to
``$C2K_DOCKER_STATE/env``. This module reads
them, talks to the registries over plain HTTP (independently of converter.images, so the tests
check c2k's digests against a second opinion) and writes sample projects.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from converter.model import BuildConfig, Project, Service, frozen_map
from tests.helpers import refuse_in_unit_runs

ROOT = Path(__file__).resolve().parent.parent
DOCKER_UP = ROOT / ".ci" / "docker-up"
STATE = Path(os.environ.get("C2K_DOCKER_STATE", "/tmp/c2k-docker"))
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass(frozen=True)
class DockerEnv:
    registry: str            # 127.0.0.1:5000, no authentication
    auth_registry: str       # 127.0.0.1:5001, htpasswd
    user: str
    password: str
    base_image: str
    socket: str = "/var/run/docker.sock"
    mirror: str = ""             # http://127.0.0.1:5000 when the engine pulls through it
    standins: tuple[str, ...] = ()   # stand-ins pulled through the mirror, with RepoDigests

    def auth_config(self, password: str | None = None) -> dict:
        """A Docker config.json dict with credentials for the authenticated registry."""
        token = base64.b64encode(f"{self.user}:{password or self.password}".encode()).decode()
        return {"auths": {self.auth_registry: {"auth": token}}}


def docker_up(timeout: float = 900) -> DockerEnv:
    """Run .ci/docker-up (fast when everything already runs) and read its settings.
    Raises RuntimeError with the script's output when it fails."""
    refuse_in_unit_runs("the Docker engine (.ci/docker-up)")
    proc = subprocess.run(["bash", str(DOCKER_UP)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f".ci/docker-up failed (exit {proc.returncode}):\n"
                           + "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:]))
    return read_env()


def read_env() -> DockerEnv:
    values = {}
    for line in (STATE / "env").read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value
    return DockerEnv(values["C2K_REGISTRY"], values["C2K_AUTH_REGISTRY"],
                     values["C2K_AUTH_USER"], values["C2K_AUTH_PASSWORD"],
                     values["C2K_BASE_IMAGE"],
                     socket=values.get("C2K_DOCKER_SOCKET") or "/var/run/docker.sock",
                     mirror=values.get("C2K_REGISTRY_MIRROR", ""),
                     standins=tuple(filter(None, values.get("C2K_STANDINS", "").split(","))))


def manifest_digest(registry: str, repo: str, tag: str, *, user: str | None = None,
                    password: str | None = None) -> str | None:
    """``Docker-Content-Digest`` of HEAD /v2/<repo>/manifests/<tag>; None when absent (404)."""
    request = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{tag}",
                                     method="HEAD", headers={"Accept": MANIFEST_V2})
    if user:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["Docker-Content-Digest"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def free_port() -> int:
    """A 127.0.0.1 port with nothing listening (a registry that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_docker_config(directory: Path, config: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return directory


# ---- test projects and their images -----------------------------------------------------------

TEST_LABEL = "org.c2k.test=1"    # in the sample Dockerfiles: finds the images rebuilds untag
_projects: list[str] = []        # the project names this process's tests built images for


def project_name() -> str:
    """A fresh lowercase project name (registry repositories never clash), remembered so that
    remove_test_images() deletes its images at the end of the session."""
    name = f"c2kt-{uuid.uuid4().hex[:8]}"
    _projects.append(name)
    return name


def remove_test_images() -> None:
    """Delete the local images this process's tests made: every tag naming one of its projects
    (each run's are new: build-id.txt keeps them out of the cache), then the untagged images
    the sample Dockerfiles' rebuilds left. Without this, each run leaves ~50 images behind, and
    thousands of them slow the engine down. Best effort: an engine gone by now is no failure."""
    if not _projects:
        return
    named = re.compile("(^|/)(" + "|".join(map(re.escape, _projects)) + ")[-/:]")
    try:
        listed = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
                                capture_output=True, text=True, timeout=60).stdout.split()
        tags = sorted(tag for tag in listed if named.search(tag))
        for start in range(0, len(tags), 100):
            subprocess.run(["docker", "image", "rm", "--force", *tags[start:start + 100]],
                           capture_output=True, timeout=300)
        subprocess.run(["docker", "image", "prune", "--force", "--filter", f"label={TEST_LABEL}"],
                       capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        pass


# ---- sample projects --------------------------------------------------------------------------

SHARED_DOCKERFILE = f"""\
FROM busybox AS base
LABEL {TEST_LABEL}
ARG GREETING=unset
RUN echo "$GREETING" > /greeting
COPY . /src
RUN echo "context:" $(ls -a /src | sort | tr '\\n' ' ')
FROM base AS final
RUN echo final > /stage
"""

INLINE_DOCKERFILE = f"""\
FROM busybox
LABEL {TEST_LABEL}
COPY app.txt /app.txt
RUN echo inline > /inline
"""


def write_shared_context(root: Path, name: str) -> Path:
    """A build context used by several services, with a .dockerignore. ``name`` goes into
    build-id.txt, so the layers after `COPY . /src` are not cached from another test run."""
    ctx = root / "shared"
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "build-id.txt").write_text(name + "\n")
    (ctx / "Dockerfile").write_text(SHARED_DOCKERFILE)
    (ctx / ".dockerignore").write_text("# test ignore file\nsecret.txt\n*.log\n!keep.log\n"
                                       "cache/\n")
    (ctx / "app.txt").write_text("app\n")
    (ctx / "secret.txt").write_text("do not send\n")
    (ctx / "debug.log").write_text("noise\n")
    (ctx / "keep.log").write_text("kept\n")
    (ctx / "cache").mkdir(exist_ok=True)
    (ctx / "cache" / "big.bin").write_bytes(b"\0" * 1024)
    return ctx


def sample_project(root: Path, name: str) -> Project:
    """web and worker: the same build (built once); api: the same context, other target and
    args; inline: dockerfile_inline with labels and its own image name; db: no build."""
    ctx = str(write_shared_context(root, name))
    same = BuildConfig(context=ctx, args=frozen_map({"GREETING": "hello"}))
    services = {
        "api": Service(name="api", build=BuildConfig(
            context=ctx, target="base", args=frozen_map({"GREETING": "from-api"}))),
        "db": Service(name="db", image="postgres:16"),
        "inline": Service(name="inline", image=f"example.org/team/{name}-inline:1.0",
                          build=BuildConfig(context=ctx, dockerfile_inline=INLINE_DOCKERFILE,
                                            labels=frozen_map({"org.example.kind": "inline"}))),
        "web": Service(name="web", build=same),
        "worker": Service(name="worker", build=same),
    }
    return Project(name=name, working_dir=str(root), services=frozen_map(services))


def write_compose_sample(root: Path, name: str) -> Path:
    """The same project as a compose file, for the tests that go through the loader."""
    write_shared_context(root, name)
    (root / "compose.yaml").write_text(f"""\
name: {name}
services:
  web:
    build:
      context: ./shared
      args: {{GREETING: hello}}
  worker:
    build:
      context: ./shared
      args: {{GREETING: hello}}
  api:
    build:
      context: ./shared
      target: base
      args: {{GREETING: from-api}}
  inline:
    image: example.org/team/{name}-inline:1.0
    build:
      context: ./shared
      dockerfile_inline: |
{''.join('        ' + line + chr(10) for line in INLINE_DOCKERFILE.splitlines())}\
  db:
    image: postgres:16
""")
    return root / "compose.yaml"


def one_service_project(root: Path, name: str, dockerfile: str, service: str = "app",
                        **build) -> Project:
    ctx = root / service
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    return Project(name=name, working_dir=str(root), services=frozen_map({
        service: Service(name=service, build=BuildConfig(context=str(ctx), **build))}))

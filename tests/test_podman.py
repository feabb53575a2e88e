"""c2k build and images against Podman's Docker-compatible API (`podman system service`), the
engine many Fedora and RHEL users point DOCKER_HOST at. Podman builds with Buildah whatever the
request asks for, and says so in its ping (an empty Builder-Version): c2k uses the classic
request there and reads Buildah's output.

Marker ``docker``: the base image comes from the Docker engine of .ci/docker-up. Without podman
the tests skip, except in CI (CI=true), where .ci/setup installs it and they fail instead.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import types

import pytest
from click.testing import CliRunner

from converter import cli as cli_module
from converter import images
from converter.errors import ImageError
from tests import docker_env as env
from tests.conftest_docker import _cannot_run
from tests.test_images_docker import Recorder

pytestmark = pytest.mark.docker


def _ping(socket_path: str) -> bool:
    result = subprocess.run(["curl", "-sf", "--max-time", "2", "--unix-socket", socket_path,
                             "http://podman/_ping"], capture_output=True)
    return result.returncode == 0


@pytest.fixture(scope="module")
def podman(docker_env, tmp_path_factory):
    """The DOCKER_HOST of a `podman system service` on a temporary socket, with the base image
    of the docker tests loaded (as busybox too)."""
    exe = shutil.which("podman")
    if not exe:
        _cannot_run("podman is not installed (apt-get install podman; .ci/setup does it)")
    folder = tmp_path_factory.mktemp("podman")
    socket_path = str(folder / "podman.sock")
    log = open(folder / "service.log", "wb")
    service = subprocess.Popen([exe, "system", "service", "--time=0", f"unix://{socket_path}"],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    built: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not _ping(socket_path):
            if service.poll() is not None or time.monotonic() > deadline:
                _cannot_run("podman system service did not start: "
                            + (folder / "service.log").read_text()[-2000:])
            time.sleep(0.2)
        saved = subprocess.run(["docker", "save", docker_env.base_image], capture_output=True,
                               check=True).stdout
        subprocess.run([exe, "load"], input=saved, capture_output=True, check=True)
        base = docker_env.base_image.split(":")[0]
        subprocess.run([exe, "tag", f"localhost/{base}:latest",
                        "docker.io/library/busybox:latest"], capture_output=True, check=True)
        yield types.SimpleNamespace(url=f"unix://{socket_path}", built=built)
    finally:
        for name in built:
            subprocess.run([exe, "image", "rm", "--force", name], capture_output=True)
        subprocess.run([exe, "image", "prune", "--force"], capture_output=True)
        service.terminate()
        try:
            service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()


@pytest.fixture
def on_podman(podman, docker_config, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", podman.url)
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    return podman


def test_build_and_list_on_podman(on_podman, tmp_path, monkeypatch, unique_name):
    project = env.one_service_project(tmp_path, unique_name,
                                      "FROM busybox\nCOPY . /src\nRUN echo built-by-buildah\n")
    on_podman.built.append(f"{unique_name}-app:latest")
    assert images.connect().use_buildkit() is False          # Podman's ping says so
    reporter = Recorder()
    built = images.build_images(project, progress=reporter)
    lines = reporter.lines("app")
    assert "STEP 3/3: RUN echo built-by-buildah" in lines and "built-by-buildah" in lines
    assert not [line for line in lines if line.startswith(("COMMIT", "-->"))]  # housekeeping
    image_id = built["app"].image_id
    assert image_id.startswith("sha256:")

    monkeypatch.setattr(cli_module.Settings, "load",
                        lambda self, **kw: types.SimpleNamespace(project=project, warnings=[]))
    result = CliRunner().invoke(cli_module.cli, ["images", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert f'"id": "{image_id}"' in result.stdout


@pytest.mark.parametrize("builder", ["auto", "buildkit"])
def test_a_failing_build_on_podman_names_the_step_and_its_log(on_podman, tmp_path, unique_name,
                                                              builder):
    """Also when BuildKit is asked for: Podman answers the classic way, and c2k reads it so."""
    project = env.one_service_project(
        tmp_path, unique_name,
        "FROM busybox\nRUN echo first step\nRUN echo about to fail && exit 3\n")
    with pytest.raises(ImageError) as info:
        images.build_images(project, progress="none", builder=builder)
    text = str(info.value)
    assert text.startswith("build of service 'app' failed at STEP 3/3: RUN echo about to fail")
    assert "exit status 3" in text and "    | about to fail" in text
    assert "first step" not in text.split("last lines of the build log:")[1]


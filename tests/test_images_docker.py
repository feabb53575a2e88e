"""c2k build / push / images against a real engine and real registries (marker ``docker``).

The fixtures (tests/conftest_docker.py) start or reuse dockerd, a registry on 127.0.0.1:5000 and
an htpasswd one on 127.0.0.1:5001 through .ci/docker-up; without them the tests skip, except in
CI (CI=true), where they fail.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import re
import subprocess
import tarfile
import threading
import types

import pytest
from click.testing import CliRunner

from tests import docker_env as env
from converter import cli as cli_module
from converter import images
from converter.errors import ImageError
from converter.model import BuildConfig, Project, Service, frozen_map
from converter.images.progress import PlainReporter

pytestmark = pytest.mark.docker


class Recorder(PlainReporter):
    """Keeps every line (as a plain reporter would print it) for assertions."""

    def __init__(self):
        self.out = io.StringIO()
        super().__init__(self.out)

    def lines(self, task):
        prefix = f"{task} "
        return [line.split("| ", 1)[1] for line in self.out.getvalue().splitlines()
                if line.startswith(prefix) or line.startswith(f"{task}|")]


@pytest.fixture
def api(docker_env):
    import docker
    client = docker.APIClient(version="auto", **docker.utils.kwargs_from_env())
    yield client
    client.close()


def read_file(api, image, path):
    """A file's bytes from an image, via a created (never started) container."""
    container = api.create_container(image, command=["true"])
    try:
        stream, _ = api.get_archive(container, path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmembers()[0]
            return tar.extractfile(member).read() if member.isfile() else \
                sorted(m.name for m in tar.getmembers())
    finally:
        api.remove_container(container, force=True)


def has_path(api, image, path):
    import docker
    try:
        read_file(api, image, path)
        return True
    except docker.errors.NotFound:
        return False


# ---- build ------------------------------------------------------------------------------------

BUILDERS = ["buildkit", "classic"]
STEP = re.compile(r"^(Step \d+/\d+ : |\[|CACHED \[)")     # a step line of either builder


@pytest.fixture(scope="module", params=BUILDERS)
def built_sample(request, docker_env, tmp_path_factory):
    """The sample project, built once per builder for the module (empty DOCKER_CONFIG)."""
    root = tmp_path_factory.mktemp("sample")
    name = env.project_name()
    project = env.sample_project(root, name)
    reporter = Recorder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_CONFIG", str(env.write_docker_config(root / "cfg", {})))
        built = images.build_images(project, progress=reporter, parallel=3,
                                    builder=request.param)
    return project, built, reporter


def test_build_multi_service_sample(built_sample, api):
    project, built, reporter = built_sample
    name = project.name
    assert set(built) == {"api", "inline", "web", "worker"}       # db has no build section
    assert built["web"].ref == f"{name}-web:latest"
    assert built["inline"].ref == f"example.org/team/{name}-inline:1.0"
    # web and worker have one build configuration: built once, tagged twice
    assert built["web"].image_id == built["worker"].image_id
    assert api.inspect_image(f"{name}-worker:latest")["Id"] == built["web"].image_id
    assert [l for l in reporter.lines("web") if STEP.match(l)]
    assert not [l for l in reporter.lines("worker") if STEP.match(l)]
    assert built["api"].image_id != built["web"].image_id
    for image in built.values():
        assert api.inspect_image(image.ref)["Id"] == image.image_id


def test_build_args_target_inline_and_labels(built_sample, api):
    project, built, _ = built_sample
    assert read_file(api, built["web"].ref, "/greeting") == b"hello\n"
    assert read_file(api, built["api"].ref, "/greeting") == b"from-api\n"
    assert has_path(api, built["web"].ref, "/stage")               # the final stage
    assert not has_path(api, built["api"].ref, "/stage")           # target: base
    assert read_file(api, built["inline"].ref, "/inline") == b"inline\n"
    assert read_file(api, built["inline"].ref, "/app.txt") == b"app\n"
    labels = api.inspect_image(built["inline"].ref)["Config"]["Labels"]
    assert labels["org.example.kind"] == "inline"


def test_dockerignore_is_respected(built_sample, api):
    _, built, reporter = built_sample
    listing = read_file(api, built["web"].ref, "/src")
    names = {n.split("/", 1)[1] for n in listing if "/" in n}
    assert {"Dockerfile", ".dockerignore", "app.txt", "keep.log"} <= names
    assert not {"secret.txt", "debug.log", "cache", "cache/big.bin"} & names
    # the build's own output agrees
    context_line, = [l for l in reporter.lines("web") if l.startswith("context:")]
    assert "keep.log" in context_line and "secret.txt" not in context_line


@pytest.mark.parametrize("builder", BUILDERS)
def test_engine_build_options(docker_env, docker_config, tmp_path, unique_name, builder):
    """network, extra_hosts, shm_size, platform and cache_from reach the classic builder."""
    project = env.one_service_project(
        tmp_path, unique_name,
        "FROM busybox\nARG ID\nRUN echo $ID; grep c2k-extra /etc/hosts; "
        "echo shm=$(df -k /dev/shm | tail -1 | awk '{print $2}')\n",
        network="host", extra_hosts=(("c2k-extra", "10.1.2.3"),), shm_size=64 * 1024 ** 2,
        platforms=("linux/amd64",), cache_from=("busybox:latest",),
        args=env.frozen_map({"ID": unique_name}))
    reporter = Recorder()
    images.build_images(project, progress=reporter, builder=builder)
    log = reporter.lines("app")
    assert unique_name in log
    assert any("10.1.2.3" in line and "c2k-extra" in line for line in log)
    assert "shm=65536" in log


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_the_docker_configs_proxies_reach_the_build(docker_env, tmp_path, monkeypatch,
                                                    unique_name, builder):
    """As with docker compose: the config's proxies are build arguments, both cases."""
    config = env.write_docker_config(tmp_path / "cfg", {"proxies": {"default": {
        "httpProxy": "http://proxy.example:3128", "noProxy": "localhost"}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    project = env.one_service_project(
        tmp_path, unique_name, 'FROM busybox\nRUN echo "proxy=[$HTTP_PROXY] [$http_proxy] '
        f'[$NO_PROXY]" {unique_name}\n')
    reporter = Recorder()
    images.build_images(project, progress=reporter, builder=builder)
    assert "proxy=[http://proxy.example:3128] [http://proxy.example:3128] [localhost] " \
        f"{unique_name}" in reporter.lines("app")


@pytest.mark.parametrize("builder, step, code", [
    ("buildkit", "[3/4] RUN echo before-failure", "exit code: 3"),
    ("classic", "Step 3/4: RUN echo before-failure", "returned a non-zero code: 3"),
])
def test_failing_build_names_service_step_and_log(docker_env, docker_config, tmp_path,
                                                  unique_name, builder, step, code):
    project = env.one_service_project(
        tmp_path, unique_name, "FROM busybox\nRUN echo first-step\n"
        "RUN echo before-failure; echo to-stderr >&2; exit 3\nRUN echo never\n",
        service="broken")
    with pytest.raises(ImageError) as info:
        images.build_images(project, progress="none", builder=builder)
    text = str(info.value)
    assert f"build of service 'broken' failed at {step}" in text
    assert code in text
    assert "before-failure" in text.split("last lines")[1] and "to-stderr" in text
    assert "never" not in text


def test_a_remote_context_is_fetched_and_built_by_the_engine(docker_env, docker_config,
                                                            tmp_path, unique_name):
    """A build context at a URL (a tar archive served here on 127.0.0.1): the request carries
    no archive, the engine fetches the context and builds it with its classic builder."""
    (tmp_path / "web").mkdir()
    with tarfile.open(tmp_path / "web" / "context.tar", "w") as tar:
        for name, data in (("Dockerfile", b"FROM busybox\nCOPY hello /hello\nRUN cat /hello\n"),
                           ("hello", f"fetched {unique_name}\n".encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(tmp_path / "web"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/context.tar"
        project = Project(name=unique_name, working_dir=str(tmp_path), services=frozen_map(
            {"app": Service(name="app", build=BuildConfig(context=url))}))
        reporter = Recorder()
        built = images.build_images(project, progress=reporter)
    finally:
        server.shutdown()
        server.server_close()
    assert f"fetched {unique_name}" in reporter.lines("app")
    assert built["app"].image_id.startswith("sha256:")


def test_failing_build_in_parallel_with_others(docker_env, docker_config, tmp_path, unique_name):
    good = env.one_service_project(tmp_path, unique_name, "FROM busybox\nRUN sleep 1\n",
                                   service="good")
    bad = env.one_service_project(tmp_path, unique_name, "FROM busybox\nRUN exit 9\n",
                                  service="bad")
    project = type(good)(name=unique_name, working_dir=str(tmp_path), services=env.frozen_map(
        {**good.services, **bad.services}))
    with pytest.raises(ImageError, match=r"service 'bad' failed at \[2/2\] RUN exit 9"):
        images.build_images(project, progress="none", parallel=2)


def test_missing_base_image_is_a_clear_error(docker_env, docker_config, tmp_path, unique_name):
    project = env.one_service_project(tmp_path, unique_name,
                                      "FROM c2k-no-such-base-image:1\n")
    with pytest.raises(ImageError) as info:
        images.build_images(project, progress="none")
    assert "build of service 'app' failed" in str(info.value)
    assert "c2k-no-such-base-image" in str(info.value)


# ---- push -------------------------------------------------------------------------------------

def test_push_pins_the_digests_the_registry_serves(built_sample, docker_env, docker_config,
                                                   unique_name):
    project, built, _ = built_sample
    prefix = f"{docker_env.registry}/{unique_name}"
    pushed = images.push_images(project, registry=prefix, progress="none")
    assert set(pushed) == set(built)
    for service, image in pushed.items():
        assert image.name.startswith(prefix + "/")
        repo = image.name.split("/", 1)[1]
        served = env.manifest_digest(docker_env.registry, repo, image.tag)
        assert served and image.digest == served, service
        assert image.pinned == f"{image.name}:{image.tag}@{served}"
        assert image.verified and image.image_id == built[service].image_id
    assert pushed["web"].digest == pushed["worker"].digest


def test_build_and_push_for_convert(docker_env, docker_config, tmp_path, unique_name):
    project = env.sample_project(tmp_path, unique_name)
    prefix = f"{docker_env.registry}/{unique_name}"
    refs = images.build_and_push(project, build=True, push=True, registry=prefix, tag="v1",
                                 parallel=2, progress="none")
    assert set(refs) == {"api", "inline", "web", "worker"}
    for ref in refs.values():
        name, tag, digest = images.split_reference(ref)
        assert tag == "v1"
        assert env.manifest_digest(docker_env.registry, name.split("/", 1)[1], tag) == digest
    only_built = images.build_and_push(project, build=True, push=False, registry=prefix,
                                       tag="v1", progress="none")
    assert only_built["web"] == f"{prefix}/{unique_name}-web:v1"     # no digest without a push


def test_push_to_a_registry_that_is_down(built_sample, docker_config):
    project, _, _ = built_sample
    with pytest.raises(ImageError) as info:
        images.push_images(project, ["web"], registry=f"127.0.0.1:{env.free_port()}/x",
                           progress="none")
    text = str(info.value)
    assert "service 'web'" in text and "is unreachable" in text and "connection refused" in text


def test_push_of_an_image_that_was_not_built(docker_env, docker_config, tmp_path, unique_name):
    project = env.one_service_project(tmp_path, unique_name, "FROM busybox\n")
    with pytest.raises(ImageError, match="does not exist locally"):
        images.push_images(project, registry=docker_env.registry, progress="none")


def test_authenticated_registry_with_credentials(docker_env, tmp_path, monkeypatch, unique_name):
    config = env.write_docker_config(tmp_path / "cfg", docker_env.auth_config())
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    project = env.one_service_project(tmp_path, unique_name, "FROM busybox\nRUN echo auth\n")
    prefix = f"{docker_env.auth_registry}/{unique_name}"
    images.build_images(project, registry=prefix, progress="none")
    pushed = images.push_images(project, registry=prefix, progress="none")
    image = pushed["app"]
    served = env.manifest_digest(docker_env.auth_registry, image.name.split("/", 1)[1],
                                 image.tag, user=docker_env.user, password=docker_env.password)
    assert image.digest == served and image.verified


def test_authenticated_registry_with_a_credential_helper(docker_env, tmp_path, monkeypatch,
                                                         unique_name, command_on_path):
    command_on_path("docker-credential-c2ktest", "read server\n"
                    f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"{docker_env.user}\","
                    f"\"Secret\":\"{docker_env.password}\"}}' \"$server\"\n")
    config = env.write_docker_config(tmp_path / "cfg", {
        "credHelpers": {docker_env.auth_registry: "c2ktest"}})
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    project = env.one_service_project(tmp_path, unique_name, "FROM busybox\nRUN echo helper\n")
    prefix = f"{docker_env.auth_registry}/{unique_name}"
    images.build_images(project, progress="none")
    pushed = images.push_images(project, registry=prefix, progress="none")
    assert pushed["app"].verified


def test_builds_ask_the_credential_store_once_and_survive_a_missing_one(
        docker_env, tmp_path, monkeypatch, unique_name, capsys, command_on_path):
    """Three builds, one run of the store (docker-py alone runs it for every build); a store
    that is not installed (a Docker Desktop config on a server) is a warning, and the builds,
    which pull nothing private, go on."""
    log = tmp_path / "calls.log"
    command_on_path("docker-credential-c2kstore", f"echo \"$1\" >> '{log}'\n"
                    f"case \"$1\" in list) echo '{{\"{docker_env.auth_registry}\":\"c2k\"}}' ;;\n"
                    "  get) read server; printf '{\"ServerURL\":\"%s\",\"Username\":\"u\","
                    "\"Secret\":\"p\"}' \"$server\" ;; esac\n")
    monkeypatch.setenv("DOCKER_CONFIG", str(env.write_docker_config(
        tmp_path / "cfg", {"credsStore": "c2kstore"})))
    project = env.sample_project(tmp_path, unique_name)
    built = images.build_images(project, progress="none")
    assert len({image.image_id for image in built.values()}) == 3     # three distinct builds
    assert log.read_text().split() == ["list", "get"]
    images.build_images(project, progress="none", builder="classic")    # APIClient.build
    assert log.read_text().split() == ["list", "get"] * 2

    config = env.write_docker_config(tmp_path / "desktop", {"credsStore": "c2k-not-there"})
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    result = invoke(monkeypatch, project, ["build", "--progress", "plain", "web"])
    assert result.exit_code == 0, result.output
    assert (f"warning: the Docker config ({config / 'config.json'}) names the credential store "
            "docker-credential-c2k-not-there, which is not installed: builds get none of its "
            "credentials") in result.stderr
    assert "UserWarning" not in result.stderr + capsys.readouterr().err


def test_the_engine_of_the_current_docker_context(docker_env, tmp_path, monkeypatch,
                                                  unique_name):
    """A context made by the docker CLI itself (`docker context create`, `use`) that reaches
    the engine through another socket path, as Colima's, Podman's or Docker Desktop's do."""
    config = env.write_docker_config(tmp_path / "cfg", {})
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    link = tmp_path / "run" / "engine.sock"
    link.parent.mkdir()
    for command in (["create", "c2ktest", "--docker", f"host=unix://{link}"],
                    ["use", "c2ktest"]):
        subprocess.run(["docker", "context", *command], check=True, capture_output=True)
    project = env.one_service_project(tmp_path, unique_name, "FROM busybox\nRUN echo ctx\n")

    with pytest.raises(ImageError) as info:                # no engine behind it yet
        images.build_images(project, progress="none")
    assert f"at unix://{link} (Docker context 'c2ktest')" in info.value.message

    link.symlink_to(docker_env.socket)
    assert images.connect().address.socket == str(link)    # the context read here
    built = images.build_images(project, progress="none")
    result = invoke(monkeypatch, project, ["images", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == built["app"].image_id


def test_an_engine_over_ssh(docker_env, docker_config, tmp_path, monkeypatch, unique_name,
                            command_on_path):
    """DOCKER_HOST=ssh://USER@HOST:PORT: reached with the ssh command, as the docker CLI does.
    A stand-in for ssh records how it is called and runs the remote command here: `docker
    system dial-stdio` (the docker CLI) relays the API to the engine over its stdio."""
    calls = tmp_path / "ssh-calls"
    command_on_path("ssh", f"echo \"$*\" >> '{calls}'\n"
                    "while [ \"$1\" != -- ]; do shift; done\nshift 2\n"
                    "exec env -u DOCKER_HOST -u DOCKER_CONTEXT sh -c \"$*\"\n")
    monkeypatch.setenv("DOCKER_HOST", "ssh://builder@buildbox.example:2222")
    project = env.one_service_project(tmp_path, unique_name, "FROM busybox\nRUN echo ssh\n")
    built = images.build_images(project, progress="none")
    result = invoke(monkeypatch, project, ["images", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == built["app"].image_id
    lines = set(calls.read_text().splitlines())
    assert lines == {"-l builder -p 2222 -- buildbox.example docker system dial-stdio"}


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_authenticated_registry_refuses(docker_env, tmp_path, monkeypatch, unique_name,
                                        password):
    config = env.write_docker_config(
        tmp_path / "cfg", docker_env.auth_config(password) if password else {})
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    project = env.one_service_project(tmp_path, unique_name, "FROM busybox\n")
    images.build_images(project, progress="none")
    with pytest.raises(ImageError) as info:
        images.push_images(project, registry=f"{docker_env.auth_registry}/{unique_name}",
                           progress="none")
    text = str(info.value)
    assert "service 'app'" in text and "refused the credentials" in text
    assert f"docker login {docker_env.auth_registry}" in text


# ---- the CLI ----------------------------------------------------------------------------------

def invoke(monkeypatch, project, args):
    """Run `c2k ARGS` with the project given directly (not through the loader)."""
    monkeypatch.setattr(cli_module.Settings, "load",
                        lambda self, **kw: types.SimpleNamespace(project=project, warnings=[]))
    return CliRunner().invoke(cli_module.cli, args)


def test_cli_build_push_images(docker_env, docker_config, tmp_path, monkeypatch, unique_name):
    project = env.sample_project(tmp_path, unique_name)
    prefix = f"{docker_env.registry}/{unique_name}"
    result = invoke(monkeypatch, project, ["build", "--registry", prefix, "--progress", "plain",
                                           "web", "worker"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [f"{prefix}/{unique_name}-web:latest",
                                     f"{prefix}/{unique_name}-worker:latest"]
    assert "web    | [base 4/4] RUN echo \"context:\"" in result.stderr

    result = invoke(monkeypatch, project, ["push", "--registry", prefix, "--progress", "none",
                                           "web"])
    assert result.exit_code == 0, result.output
    pinned, = result.stdout.split()
    name, tag, digest = images.split_reference(pinned)
    assert env.manifest_digest(docker_env.registry, name.split("/", 1)[1], tag) == digest

    result = invoke(monkeypatch, project, ["images", "--registry", prefix, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["service"]: row for row in json.loads(result.stdout)}
    assert rows["web"]["digest"] == digest and rows["web"]["id"].startswith("sha256:")
    assert rows["worker"]["id"] == rows["web"]["id"] and rows["worker"]["digest"] is None
    assert rows["api"]["id"] is None                       # not built with this name
    assert rows["db"] == {"service": "db", "image": "postgres", "tag": "16", "id": None,
                          "digest": None}

    result = invoke(monkeypatch, project, ["images", "--registry", prefix, "web", "db"])
    assert result.exit_code == 0, result.output
    header, web, db = result.stdout.splitlines()
    assert header.split() == ["SERVICE", "IMAGE", "TAG", "IMAGE", "ID", "DIGEST"]
    assert web.split() == ["web", f"{prefix}/{unique_name}-web", "latest",
                           rows["web"]["id"][7:19], digest]
    assert db.split() == ["db", "postgres", "16", "<none>", "<none>"]


def test_cli_failed_build_exits_1(docker_env, docker_config, tmp_path, monkeypatch,
                                  unique_name, capsys):
    project = env.one_service_project(tmp_path, unique_name, "FROM busybox\nRUN exit 4\n")
    monkeypatch.setattr(cli_module.Settings, "load",
                        lambda self, **kw: types.SimpleNamespace(project=project, warnings=[]))
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(["build", "--progress", "none"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "error: build of service 'app' failed at [2/2] RUN exit 4" in err
    assert "exit code: 4" in err


def test_cli_without_engine_exits_1(tmp_path, monkeypatch, capsys, unique_name):
    project = env.one_service_project(tmp_path, unique_name, "FROM busybox\n")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setattr(cli_module.Settings, "load",
                        lambda self, **kw: types.SimpleNamespace(project=project, warnings=[]))
    for command in ("build", "push", "images"):
        with pytest.raises(SystemExit) as exit_info:
            cli_module.main([command])
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert "error: cannot connect to the Docker engine" in err and "dockerd" in err


def test_cli_through_the_loader(docker_env, docker_config, tmp_path, monkeypatch, unique_name):
    """`c2k -f compose.yaml build --push` end to end, with the real compose loader."""
    compose = env.write_compose_sample(tmp_path, unique_name)
    prefix = f"{docker_env.registry}/{unique_name}"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli_module.cli, ["-f", str(compose), "build", "--push",
                                                 "--registry", prefix, "--progress", "none"])
    assert result.exit_code == 0, (result.output, result.exception)
    pinned = result.stdout.split()
    assert len(pinned) == 4
    for ref in pinned:
        name, tag, digest = images.split_reference(ref)
        assert env.manifest_digest(docker_env.registry, name.split("/", 1)[1], tag) == digest


def test_convert_push_pins_every_built_image(docker_env, docker_config, tmp_path, unique_name):
    """The issue's criterion: `c2k convert --push --registry 127.0.0.1:5000/<prefix>` pushes
    every built image, and every manifest image equals the registry's digest for its tag."""
    import yaml
    compose = env.write_compose_sample(tmp_path, unique_name)
    prefix = f"{docker_env.registry}/{unique_name}"
    result = CliRunner().invoke(cli_module.cli, ["-f", str(compose), "convert", "--push",
                                                 "--registry", prefix])
    assert result.exit_code == 0, (result.output, result.exception)
    found = {}
    for doc in yaml.safe_load_all(result.stdout):
        spec = ((doc or {}).get("spec") or {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", ()):
            found[container["name"]] = container["image"]
    assert found["db"] == "postgres:16"
    built = {k: v for k, v in found.items() if k != "db"}
    assert sorted(built) == ["api", "inline", "web", "worker"]
    for service, ref in built.items():
        name, tag, digest = images.split_reference(ref)
        assert name.startswith(prefix + "/") and digest, (service, ref)
        assert env.manifest_digest(docker_env.registry, name.split("/", 1)[1], tag) == digest

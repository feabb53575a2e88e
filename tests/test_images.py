"""Unit tests of converter.images (with its buildcontext and progress) that need no
Docker engine: naming, .dockerignore, context archives, stream handling (a fake APIClient
replays event streams), error messages, progress output."""

from __future__ import annotations

import http.server
import io
import json
import os
import socket
import socketserver
import subprocess
import sys
import tarfile
import threading
import types
import time

import pytest

from converter import images
from converter.images import buildcontext
from converter.images.api import ApiError, NotFound
from converter.images.dockerconfig import Address, DockerConfig
from converter.images.jobs import Cancelled, run_pool
from converter.images import push as images_push  # where push_images looks registry_digest up
from converter.images.buildcontext import IgnoreRules, parse_ignore, write_context
from converter.errors import ImageError
from converter.imagerefs import canonical, digests_of
from converter.model import BuildConfig, Project, Service, frozen_map
from converter.images.progress import LiveReporter, NullReporter, PlainReporter, make_reporter


def project(*services, name="proj"):
    return Project(name=name, working_dir="/tmp",
                   services=frozen_map({s.name: s for s in services}))


BUILD = BuildConfig(context="/tmp/ctx")


# ---- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("image, registry, tag, expected", [
    (None, None, None, ("proj-web", "latest")),
    (None, "127.0.0.1:5000/prefix", None, ("127.0.0.1:5000/prefix/proj-web", "latest")),
    (None, "127.0.0.1:5000/prefix/", "v2", ("127.0.0.1:5000/prefix/proj-web", "v2")),
    ("org/web:1.2", None, None, ("org/web", "1.2")),
    ("org/web:1.2", "reg.local", None, ("reg.local/org/web", "1.2")),
    ("ghcr.io/org/web", "reg.local:5000/x", "t", ("reg.local:5000/x/org/web", "t")),
    ("docker.io/library/nginx:1", "reg:5000", None, ("reg:5000/nginx", "1")),
    ("localhost/web", "reg:5000", None, ("reg:5000/web", "latest")),
    ("host:5000/web@sha256:" + "a" * 64, None, None, ("host:5000/web", "latest")),
])
def test_image_name(image, registry, tag, expected):
    service = Service(name="web", image=image, build=BUILD)
    assert images.image_name(project(service), service, registry=registry, tag=tag) == expected


def test_image_name_default_is_lowercase():
    service = Service(name="Web_1", build=BUILD)
    assert images.image_name(project(service, name="p"), service)[0] == "p-web_1"


def test_registry_and_tag_leave_services_without_build_alone():
    service = Service(name="db", image="postgres:16")
    assert images.image_name(project(service), service, registry="r:5000", tag="x") == \
        ("postgres", "16")


@pytest.mark.parametrize("kwargs, message", [
    ({"tag": "bad tag"}, "invalid image tag"),
    ({"tag": "-x"}, "invalid image tag"),
    ({"registry": "http://r:5000"}, "without a scheme"),
    ({"registry": "Reg:5000"}, "lowercase"),
])
def test_bad_naming_options(kwargs, message):
    service = Service(name="web", build=BUILD)
    with pytest.raises(ImageError, match=message):
        images.image_name(project(service), service, **kwargs)


@pytest.mark.parametrize("ref, expected", [
    ("web", ("web", None, None)),
    ("web:1", ("web", "1", None)),
    ("host:5000/a/b", ("host:5000/a/b", None, None)),
    ("host:5000/a/b:t@sha256:x", ("host:5000/a/b", "t", "sha256:x")),
])
def test_split_reference(ref, expected):
    assert images.split_reference(ref) == expected


@pytest.mark.parametrize("name, expected", [
    ("redis", ("docker.io", "library/redis")),
    ("docker.io/library/redis", ("docker.io", "library/redis")),
    ("index.docker.io/redis", ("docker.io", "library/redis")),
    ("me/app", ("docker.io", "me/app")),
    ("localhost:5000/app", ("localhost:5000", "app")),
])
def test_repository_names_as_the_engine_resolves_them(name, expected):
    assert canonical(name) == expected


def test_the_digests_recorded_for_a_repository():
    refs = ["redis@sha256:a", "r:5000/redis@sha256:c", "docker.io/library/redis@sha256:b",
            "me/redis@sha256:d", "redis:7"]
    assert digests_of("redis", refs) == ["sha256:a", "sha256:b"]
    assert digests_of("index.docker.io/library/redis", refs) == ["sha256:a", "sha256:b"]
    assert digests_of("r:5000/redis", refs) == ["sha256:c"]


def test_pinned_needs_a_digest():
    image = images.BuiltImage("web", "r/web", "1", "sha256:i")
    with pytest.raises(ImageError, match="no pushed digest"):
        image.pinned
    assert images.BuiltImage("web", "r/web", "1", "sha256:i", "sha256:d").pinned == \
        "r/web:1@sha256:d"


# ---- .dockerignore ----------------------------------------------------------------------------

def test_parse_ignore_cleans_like_the_docker_cli():
    text = "\ufeff# comment\n\n  *.log  \n/abs/./x\n!  keep.log\nsub/../other/\n"
    assert parse_ignore(text.lstrip("\ufeff")) == ["*.log", "abs/x", "!keep.log", "other"]


@pytest.mark.parametrize("patterns, path, excluded", [
    (["*.log"], "a.log", True),
    (["*.log"], "dir/a.log", False),            # * does not cross directories
    (["**/*.log"], "dir/sub/a.log", True),
    (["**/*.log"], "a.log", True),
    (["*.log", "!keep.log"], "keep.log", False),
    (["*.log", "!keep.log", "keep.log"], "keep.log", True),   # the last match wins
    (["build"], "build/out/x.o", True),         # a directory excludes what is below it
    (["build/"], "build/x", True),
    (["a?c"], "abc", True),
    (["a?c"], "a/c", False),
    (["[ab].txt"], "b.txt", True),
    (["[ab].txt"], "c.txt", False),
    (["\\*.txt"], "*.txt", True),
    (["\\*.txt"], "x.txt", False),
    (["docs/**"], "docs/a/b", True),
    (["docs/**"], "docsx", False),
    (["**"], "anything/at/all", True),
    (["a/**/b"], "a/b", True),
    (["a/**/b"], "a/x/y/b", True),
    (["."], "x", False),
])
def test_ignore_rules(patterns, path, excluded):
    assert IgnoreRules(parse_ignore("\n".join(patterns))).excluded(path) is excluded


def _tree(root, files):
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)


def _names(archive):
    with tarfile.open(archive.path) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_context_honours_dockerignore_and_keeps_build_files(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM x\n", "app.py": "", "secret.env": "", "logs/a.log": "",
                "logs/keep.log": "", "node_modules/m/index.js": "", "sub/Dockerfile.dev": ""})
    (ctx / ".dockerignore").write_text(
        "secret.env\nlogs\n!logs/keep.log\nnode_modules\nDockerfile\n.dockerignore\n")
    archive = write_context(str(ctx), str(tmp_path / "c.tar"))
    names = _names(archive)
    assert {"Dockerfile", ".dockerignore", "app.py", "logs/keep.log", "sub",
            "sub/Dockerfile.dev"} <= set(names)
    assert not {"secret.env", "logs/a.log", "node_modules", "node_modules/m/index.js"} & \
        set(names)
    assert archive.dockerfile == "Dockerfile"
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" for m in names.values())


def test_context_is_deterministic(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM x\n", "b": "2", "a/c": "3"})
    os.utime(ctx / "b", (1000.2, 1000.2))
    one = write_context(str(ctx), str(tmp_path / "1.tar"))
    os.utime(ctx / "b", (1000.7, 1000.7))               # fractions of a second do not count
    two = write_context(str(ctx), str(tmp_path / "2.tar"))
    assert (tmp_path / "1.tar").read_bytes() == (tmp_path / "2.tar").read_bytes()
    assert one.files == two.files == 3


def test_context_keeps_symlinks_as_links_even_loops(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM x\n", "d/f": "x"})
    os.symlink("..", ctx / "d" / "loop")          # d/loop -> ctx: a cycle when followed
    os.symlink("/etc/passwd", ctx / "outside")
    names = _names(write_context(str(ctx), str(tmp_path / "c.tar")))
    assert names["d/loop"].issym() and names["d/loop"].linkname == ".."
    assert names["outside"].issym()
    assert not any(n.startswith("d/loop/") for n in names)


def test_context_hard_links_and_sockets(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM x\n", "a": "data"})
    os.link(ctx / "a", ctx / "b")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ctx / "s.sock"))
    try:
        names = _names(write_context(str(ctx), str(tmp_path / "c.tar")))
    finally:
        sock.close()
    assert names["b"].islnk() and names["b"].linkname == "a"
    assert "s.sock" not in names


def test_context_size_limit(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM x\n", "big": "x" * 5000})
    with pytest.raises(ImageError, match="larger than") as info:
        write_context(str(ctx), str(tmp_path / "c.tar"), max_bytes=4000)
    assert ".dockerignore" in str(info.value)


def test_inline_and_outside_dockerfiles(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"app": "", "Dockerfile": "FROM real\n"})
    (ctx / ".dockerignore").write_text("*\n")
    archive = write_context(str(ctx), str(tmp_path / "c.tar"),
                            dockerfile_inline="FROM inline\n")
    assert archive.dockerfile == buildcontext.INLINE_DOCKERFILE
    with tarfile.open(archive.path) as tar:
        assert tar.extractfile(archive.dockerfile).read() == b"FROM inline\n"
        assert set(tar.getnames()) == {".dockerignore", archive.dockerfile}
    (tmp_path / "elsewhere.Dockerfile").write_text("FROM outside\n")
    archive = write_context(str(ctx), str(tmp_path / "d.tar"),
                            dockerfile=str(tmp_path / "elsewhere.Dockerfile"))
    assert archive.dockerfile.startswith(".c2k.Dockerfile.")
    with tarfile.open(archive.path) as tar:
        assert tar.extractfile(archive.dockerfile).read() == b"FROM outside\n"


def test_per_dockerfile_ignore_file_wins(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"docker/app.Dockerfile": "FROM x\n", "a": "", "b": ""})
    (ctx / ".dockerignore").write_text("a\n")
    (ctx / "docker" / "app.Dockerfile.dockerignore").write_text("b\n")
    names = _names(write_context(str(ctx), str(tmp_path / "c.tar"),
                                 dockerfile="docker/app.Dockerfile"))
    assert "a" in names and "b" not in names


def test_missing_context_or_dockerfile(tmp_path):
    with pytest.raises(ImageError, match="not a directory"):
        write_context(str(tmp_path / "nope"), str(tmp_path / "c.tar"))
    (tmp_path / "ctx").mkdir()
    with pytest.raises(ImageError, match="Dockerfile .* not found"):
        write_context(str(tmp_path / "ctx"), str(tmp_path / "c.tar"))


def test_remote_contexts():
    assert buildcontext.is_remote("https://github.com/o/r.git#main")
    assert buildcontext.is_remote("git@github.com:o/r.git")
    assert not buildcontext.is_remote("/srv/app")


# ---- a fake engine replaying event streams ------------------------------------------------------

class FakeSession:
    """A session of the engine interface (converter/images/api.py) that records its calls."""

    def __init__(self, engine):
        self.engine = engine

    def build(self, params, headers, archive):
        self.engine.calls.append(("build", params, headers, archive))
        return self.engine.build_events(params)

    def push(self, name, tag, auth):
        self.engine.calls.append(("push", name, tag, auth))
        yield from self.engine.push_events

    def inspect_image(self, ref):
        if ref in self.engine.local:
            return self.engine.local[ref]
        raise NotFound(404, f"No such image: {ref}")

    def tag(self, image, name, tag):
        self.engine.calls.append(("tag", image, name, tag))
        self.engine.local[f"{name}:{tag}"] = {"Id": image, "RepoDigests": []}

    def close(self):
        pass


class FakeEngine:
    url = "unix:///fake.sock"
    context = None
    config = DockerConfig(None, {})

    def __init__(self, *, build_events=None, push_events=(), local=None):
        self.calls = []
        self.local = dict(local or {})
        self.build_events = build_events or (lambda params: iter(()))
        self.push_events = list(push_events)
        self.auth_headers = {}

    def session(self):
        return FakeSession(self)

    build_session = session

    def use_buildkit(self, builder="auto"):
        return builder == "buildkit"

    def auth_for(self, host):
        return None

    def build_auth_headers(self, warn):
        self.calls.append(("auth",))
        return self.auth_headers


def builds(engine):
    """The build requests the engine got: (params, headers, archive path or None)."""
    return [call[1:] for call in engine.calls if call[0] == "build"]


def ok_build(kwargs):
    image = "sha256:" + "1" * 64
    yield {"stream": "Step 1/1 : FROM busybox"}
    yield {"stream": "\n"}
    yield {"aux": {"ID": image}}
    yield {"stream": "Successfully built 111111111111\n"}


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_build_sends_the_build_options(tmp_path, builder):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM busybox\n"})
    build = BuildConfig(context=str(ctx), args=frozen_map({"A": "1", "FROM_ENV": None,
                                                           "UNSET": None}),
                        target="prod", labels=frozen_map({"l": "v"}), cache_from=("c:1",),
                        network="host", shm_size=1024, extra_hosts=(("h", "10.0.0.1"),),
                        platforms=("linux/amd64",), no_cache=True)
    proj = Project(name="p", working_dir=str(tmp_path), environment=frozen_map(
        {"FROM_ENV": "e"}), services=frozen_map({"web": Service(name="web", build=build)}))
    engine = FakeEngine(build_events=ok_build)
    built = images.build_images(proj, progress="none", engine=engine, builder=builder)
    assert built["web"].ref == "p-web:latest" and built["web"].image_id == "sha256:" + "1" * 64
    (params, headers, archive), = builds(engine)
    assert archive.endswith(".tar") and headers["Content-Type"] == "application/x-tar"
    assert params == {**({"version": "2"} if builder == "buildkit" else {}),
                      "t": "p-web:latest", "dockerfile": "Dockerfile", "rm": "1",
                      "forcerm": "1", "nocache": "1", "target": "prod", "networkmode": "host",
                      "platform": "linux/amd64", "shmsize": "1024",
                      "buildargs": '{"A": "1", "FROM_ENV": "e"}', "labels": '{"l": "v"}',
                      "cachefrom": '["c:1"]', "extrahosts": ["h:10.0.0.1"]}


def test_the_docker_configs_proxies_become_build_args(tmp_path):
    """As the docker CLI and docker compose: the proxies of the engine's address, else the
    default ones, in both cases; a build's own argument wins."""
    _tree(tmp_path / "ctx", {"Dockerfile": "FROM busybox\n"})
    proj = project(Service(name="web", build=BuildConfig(
        context=str(tmp_path / "ctx"), args=frozen_map({"NO_PROXY": "internal"}))))
    engine = FakeEngine(build_events=ok_build)
    engine.config = DockerConfig(None, {"proxies": {
        "default": {"httpProxy": "http://proxy:3128", "noProxy": "localhost",
                    "allProxy": "socks5://not-a-build-arg"},
        "tcp://elsewhere:2376": {"httpProxy": "http://other:3128"}}})
    images.build_images(proj, progress="none", engine=engine)
    (params, _, _), = builds(engine)
    assert json.loads(params["buildargs"]) == {
        "HTTP_PROXY": "http://proxy:3128", "http_proxy": "http://proxy:3128",
        "NO_PROXY": "internal", "no_proxy": "localhost"}
    engine = FakeEngine(build_events=ok_build)
    engine.url = "tcp://elsewhere:2376"
    engine.config = DockerConfig(None, {"proxies": {
        "default": {"httpsProxy": "http://proxy:3128"},
        "tcp://elsewhere:2376": {"httpProxy": "http://other:3128"}}})
    images.build_images(proj, progress="none", engine=engine)
    (params, _, _), = builds(engine)
    assert json.loads(params["buildargs"]) == {
        "HTTP_PROXY": "http://other:3128", "http_proxy": "http://other:3128",
        "NO_PROXY": "internal"}


def test_a_remote_context_is_fetched_by_the_engine(tmp_path):
    """The request APIClient.build sends for it: no body, the URL as `remote`, the classic
    builder; the proxies are c2k's, as above, and so are the credentials."""
    url = "https://github.com/example/app.git#main"
    proj = project(Service(name="web", build=BuildConfig(context=url, target="prod")))
    engine = FakeEngine(build_events=ok_build)
    engine.config = DockerConfig(None, {"proxies": {"default": {"httpProxy": "http://proxy:3128"}}})
    engine.auth_headers = {"X-Registry-Config": "e30="}
    images.build_images(proj, progress="none", engine=engine, builder="buildkit")
    (params, headers, archive), = builds(engine)
    assert archive is None and params["remote"] == url and params["target"] == "prod"
    assert "version" not in params and "dockerfile" not in params
    assert json.loads(params["buildargs"]) == {"HTTP_PROXY": "http://proxy:3128",
                                               "http_proxy": "http://proxy:3128"}
    assert headers == {"X-Registry-Config": "e30="}


def test_what_needs_a_buildkit_session_is_named_and_ignored(tmp_path):
    _tree(tmp_path / "ctx", {"Dockerfile": "FROM busybox\n"})
    build = BuildConfig(context=str(tmp_path / "ctx"), secrets=("npmrc",),
                        platforms=("linux/amd64", "linux/arm64"))
    out = io.StringIO()
    images.build_images(project(Service(name="web", build=build),
                                Service(name="db", build=BuildConfig(
                                    context=str(tmp_path / "ctx"), ssh=("default",)))),
                        progress=PlainReporter(out), engine=FakeEngine(build_events=ok_build))
    warnings = [line for line in out.getvalue().splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: service 'web': build.secrets, build.platforms (more than one) ignored: c2k "
        "builds through the engine's API, without the BuildKit client session (docker buildx) "
        "that they need",
        "warning: service 'db': build.ssh ignored: c2k builds through the engine's API, without "
        "the BuildKit client session (docker buildx) that this needs"]


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_every_build_sends_the_credentials_resolved_once(tmp_path, builder):
    for name in ("a", "b"):
        _tree(tmp_path / name, {"Dockerfile": f"FROM busybox\nENV N={name}\n"})
    proj = Project(name="p", working_dir=str(tmp_path), services=frozen_map({
        name: Service(name=name, build=BuildConfig(context=str(tmp_path / name)))
        for name in ("a", "b")}))
    engine = FakeEngine(build_events=ok_build)
    engine.auth_headers = {"X-Registry-Config": "e30="}
    images.build_images(proj, progress="none", engine=engine, builder=builder)
    assert [c for c in engine.calls if c[0] == "auth"] == [("auth",)]
    sent = [headers for _, headers, _ in builds(engine)]
    assert len(sent) == 2 and all(h.get("X-Registry-Config") == "e30=" for h in sent)


def _pb_field(number, value):
    """Protobuf wire encoding of one field (varint for int/bool, else length-delimited)."""
    def varint(n):
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)
    if isinstance(value, (bool, int)):
        return varint(number << 3) + varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def trace(*vertexes, logs=()):
    import base64
    body = b""
    for vertex in vertexes:
        inner = b"".join(_pb_field(n, v) for n, v in vertex)
        body += _pb_field(1, inner)
    for vertex, msg in logs:
        body += _pb_field(3, _pb_field(1, vertex) + _pb_field(3, 1) + _pb_field(4, msg))
    return {"id": "moby.buildkit.trace", "aux": base64.b64encode(body).decode()}


STAMP = _pb_field(1, 1700000000)          # a Timestamp message: only its presence matters


def buildkit_failure(params):
    yield trace([(1, "sha256:a"), (3, "[internal] load build definition"), (5, STAMP)])
    yield trace([(1, "sha256:b"), (3, "[1/2] FROM docker.io/library/busybox"), (4, True),
                 (5, STAMP), (6, STAMP)])
    yield trace([(1, "sha256:c"), (3, "[2/2] RUN make"), (5, STAMP)])
    yield trace(logs=[("sha256:c", "".join(f"compiling {i}\n" for i in range(30)))])
    yield trace(logs=[("sha256:c", "make: *** [all] Err"), ("sha256:c", "or 2\n")])
    yield trace([(1, "sha256:c"), (3, "[2/2] RUN make"), (5, STAMP), (6, STAMP),
                 (7, "executor failed running [/bin/sh -c make]: exit code: 2")])
    yield {"errorDetail": {"message": "executor failed running [/bin/sh -c make]: exit code: 2"},
           "error": "executor failed running [/bin/sh -c make]: exit code: 2"}


def test_buildkit_build_sends_the_options_and_reads_the_traces(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM busybox\n"})
    build = BuildConfig(context=str(ctx), args=frozen_map({"A": "1"}), target="prod",
                        labels=frozen_map({"l": "v"}), cache_from=("c:1",), network="host",
                        shm_size=1024, extra_hosts=(("h", "10.0.0.1"),), no_cache=True)
    proj = project(Service(name="web", build=build))
    image = "sha256:" + "2" * 64

    def events(params):
        yield trace([(1, "sha256:c"), (3, "[2/2] RUN make"), (5, STAMP)])
        yield trace(logs=[("sha256:c", "made\n")])
        yield trace([(1, "sha256:c"), (3, "[2/2] RUN make"), (5, STAMP), (6, STAMP)])
        yield {"id": "moby.image.id", "aux": {"ID": image}}

    out = io.StringIO()
    engine = FakeEngine(build_events=events)
    built = images.build_images(proj, progress=PlainReporter(out), engine=engine,
                                builder="buildkit")
    assert built["web"].image_id == image
    (params, headers, _), = builds(engine)
    assert headers["Content-Type"] == "application/x-tar"
    assert params["version"] == "2" and params["t"] == "proj-web:latest"
    assert params["buildargs"] == '{"A": "1"}' and params["labels"] == '{"l": "v"}'
    assert params["cachefrom"] == '["c:1"]' and params["extrahosts"] == ["h:10.0.0.1"]
    assert (params["target"], params["networkmode"], params["shmsize"], params["nocache"]) == \
        ("prod", "host", "1024", "1")
    assert "web | [2/2] RUN make\nweb | made\n" in out.getvalue()


def test_buildkit_failure_names_service_step_and_log_tail(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM busybox\n"})
    proj = project(Service(name="web", build=BuildConfig(context=str(ctx))))
    with pytest.raises(ImageError) as info:
        images.build_images(proj, progress="none", builder="buildkit",
                            engine=FakeEngine(build_events=buildkit_failure))
    text = str(info.value)
    assert "build of service 'web' failed at [2/2] RUN make\n" in text
    assert "exit code: 2" in text and "| make: *** [all] Error 2" in text
    assert "compiling 29" in text and "compiling 0\n" not in text


def podman_answer(params):
    """What Podman's Docker API streams for a BuildKit request: Buildah's classic output."""
    yield {"stream": "STEP 1/2: FROM busybox\n"}
    yield {"stream": "STEP 2/2: RUN make\n"}
    yield {"stream": "compiling\nmake: *** [all] Error 2\n"}
    if params.get("fail"):
        yield {"error": "building at STEP \"RUN make\": while running runtime: exit status 2"}
    else:
        yield {"stream": "COMMIT proj-web:latest\n--> 3c5e1b1a2d3f\n"}
        yield {"aux": {"ID": "sha256:" + "3" * 64}}
        yield {"stream": "Successfully tagged proj-web:latest\n"}


@pytest.mark.parametrize("fail", [False, True])
def test_a_classic_answer_to_a_buildkit_request_is_read(tmp_path, fail):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM busybox\n"})
    proj = project(Service(name="web", build=BuildConfig(context=str(ctx))))
    out = io.StringIO()
    engine = FakeEngine(build_events=lambda params: podman_answer({**params, "fail": fail}))
    if fail:
        with pytest.raises(ImageError) as info:
            images.build_images(proj, progress=PlainReporter(out), engine=engine,
                                builder="buildkit")
        assert str(info.value).startswith(
            "build of service 'web' failed at STEP 2/2: RUN make\n  building at STEP")
        assert "    | make: *** [all] Error 2" in str(info.value)
    else:
        built = images.build_images(proj, progress=PlainReporter(out), engine=engine,
                                    builder="buildkit")
        assert built["web"].image_id == "sha256:" + "3" * 64
    assert "web | compiling\nweb | make: *** [all] Error 2\n" in out.getvalue()


def test_decode_status_ignores_unknown_fields():
    from converter.images.buildoutput import decode_status
    raw = _pb_field(1, _pb_field(1, "sha256:x") + _pb_field(3, "[1/1] RUN x") +
                    _pb_field(8, b"\x0a\x01g") + _pb_field(4, True)) + _pb_field(2, b"\x0a\x01s")
    vertexes, logs = decode_status(raw)
    assert vertexes == [{"digest": "sha256:x", "name": "[1/1] RUN x", "cached": True}]
    assert logs == []


def test_identical_builds_run_once_and_are_tagged_for_each(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM busybox\n"})
    build = BuildConfig(context=str(ctx))
    proj = project(Service(name="a", build=build), Service(name="b", build=build),
                   Service(name="c", build=BuildConfig(context=str(ctx), target="t")))
    engine = FakeEngine(build_events=ok_build)
    built = images.build_images(proj, progress="none", engine=engine)
    assert len(builds(engine)) == 2
    assert ("tag", built["a"].image_id, "proj-b", "latest") in engine.calls
    assert built["a"].image_id == built["b"].image_id


def failing_build(kwargs):
    yield {"stream": "Step 1/2 : FROM busybox"}
    yield {"stream": "\n ---> 95bbc66b56e0\n"}
    yield {"stream": "Step 2/2 : RUN make"}
    yield {"stream": "\n ---> Running in 8ff4b8fb4636\n"}
    for i in range(30):
        yield {"stream": f"compiling {i}\n"}
    yield {"stream": "\x1b[91mmake: *** [all] Error 2\n\x1b[0m"}
    yield {"stream": "Removing intermediate container 8ff4b8fb4636\n"}
    yield {"errorDetail": {"code": 2, "message": "The command '/bin/sh -c make' returned a "
                                                 "non-zero code: 2"},
           "error": "The command '/bin/sh -c make' returned a non-zero code: 2"}


def test_failed_build_names_service_step_and_log_tail(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM busybox\n"})
    proj = project(Service(name="web", build=BuildConfig(context=str(ctx))))
    with pytest.raises(ImageError) as info:
        images.build_images(proj, progress="none", engine=FakeEngine(build_events=failing_build))
    text = str(info.value)
    assert "build of service 'web' failed at Step 2/2: RUN make" in text
    assert "returned a non-zero code: 2" in text
    assert "make: *** [all] Error 2" in text and "compiling 29" in text
    assert "compiling 0\n" not in text                # only the tail
    assert "Removing intermediate" not in text and "\x1b[" not in text


def test_build_api_error_is_an_image_error(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM busybox\n"})

    def refused(params):
        raise ApiError(400, "failed to reach build target nope")
        yield

    proj = project(Service(name="web", build=BuildConfig(context=str(ctx), target="nope")))
    with pytest.raises(ImageError, match="'web' failed\n  failed to reach build target nope"):
        images.build_images(proj, progress="none", engine=FakeEngine(build_events=refused))


def test_unknown_service_and_services_without_build(tmp_path):
    proj = project(Service(name="db", image="postgres"))
    with pytest.raises(ImageError, match="no such service: nope"):
        images.build_images(proj, ["nope"], progress="none", engine=FakeEngine())
    out = io.StringIO()
    assert images.build_images(proj, ["db"], progress=NullReporter(out),
                               engine=FakeEngine()) == {}
    assert "service 'db' has no build section; not built" in out.getvalue()


DIGEST = "sha256:" + "d" * 64
LOCAL = {"r:5000/p/proj-web:latest": {"Id": "sha256:img",
                                      "RepoDigests": [f"r:5000/p/proj-web@{DIGEST}"]}}


def push_stream(*tail):
    return [{"status": "The push refers to repository [r:5000/p/proj-web]"},
            {"status": "Preparing", "progressDetail": {}, "id": "0b37f636acf1"},
            *tail]


@pytest.mark.parametrize("event, message", [
    ({"error": 'Get "http://r:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused'},
     "registry r:5000 is unreachable"),
    ({"errorDetail": {"message": "no basic auth credentials"}}, "refused the credentials"),
    ({"error": "unauthorized: authentication required"}, "refused the credentials"),
    ({"error": "denied: requested access to the resource is denied"},
     "refused the credentials"),
    ({"error": "An image does not exist locally with the tag: r:5000/p/proj-web"},
     "does not exist locally"),
    ({"error": "blob upload unknown"}, "cannot push r:5000/p/proj-web:latest: blob upload"),
])
def test_errors_inside_the_push_stream(event, message, monkeypatch):
    monkeypatch.setattr(images_push, "registry_digest", lambda *a, **k: None)
    proj = project(Service(name="web", build=BUILD))
    engine = FakeEngine(push_events=push_stream(event), local=LOCAL)
    with pytest.raises(ImageError, match=message) as info:
        images.push_images(proj, registry="r:5000/p", progress="none", engine=engine)
    assert "service 'web'" in str(info.value)


def test_a_failed_push_is_said_once(monkeypatch, capsys):
    # The progress line says the push failed; the reason is the error's, printed once by c2k.
    monkeypatch.setattr(images_push, "registry_digest", lambda *a, **k: None)
    proj = project(Service(name="web", build=BUILD))
    refused = {"error": 'Get "http://r:5000/v2/": dial tcp: connect: connection refused'}
    engine = FakeEngine(push_events=push_stream(refused), local=LOCAL)
    with pytest.raises(ImageError, match="unreachable"):
        images.push_images(proj, registry="r:5000/p", progress="plain", engine=engine)
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "web | failed"
    assert "unreachable" not in err and "connection refused" not in err


def test_push_takes_the_digest_from_the_aux_event_and_verifies_it(monkeypatch):
    seen = []
    monkeypatch.setattr(images_push, "registry_digest",
                        lambda name, tag, auth=None: seen.append((name, tag)) or DIGEST)
    proj = project(Service(name="web", build=BUILD))
    engine = FakeEngine(local=LOCAL, push_events=push_stream(
        {"status": f"latest: digest: {DIGEST} size: 527"},
        {"progressDetail": {}, "aux": {"Tag": "latest", "Digest": DIGEST, "Size": 527}}))
    pushed = images.push_images(proj, registry="r:5000/p", progress="none", engine=engine)
    assert pushed["web"].pinned == f"r:5000/p/proj-web:latest@{DIGEST}"
    assert pushed["web"].verified and seen == [("r:5000/p/proj-web", "latest")]


def test_push_refuses_a_digest_the_registry_does_not_serve(monkeypatch):
    monkeypatch.setattr(images_push, "registry_digest", lambda *a, **k: "sha256:" + "e" * 64)
    proj = project(Service(name="web", build=BUILD))
    engine = FakeEngine(local=LOCAL, push_events=push_stream(
        {"aux": {"Tag": "latest", "Digest": DIGEST, "Size": 1}}))
    with pytest.raises(ImageError, match="the registry serves"):
        images.push_images(proj, registry="r:5000/p", progress="none", engine=engine)


def test_push_without_any_digest_fails(monkeypatch):
    monkeypatch.setattr(images_push, "registry_digest", lambda *a, **k: None)
    proj = project(Service(name="web", build=BUILD))
    local = {"r:5000/p/proj-web:latest": {"Id": "sha256:img", "RepoDigests": []}}
    engine = FakeEngine(local=local, push_events=push_stream())
    with pytest.raises(ImageError, match="reported no digest, and the registry did not"):
        images.push_images(proj, registry="r:5000/p", progress="none", engine=engine)


def test_push_without_aux_digest_accepts_only_a_confirmed_recorded_digest(monkeypatch):
    proj = project(Service(name="web", build=BUILD))
    monkeypatch.setattr(images_push, "registry_digest", lambda *a, **k: DIGEST)
    pushed = images.push_images(proj, registry="r:5000/p", progress="none",
                                engine=FakeEngine(local=LOCAL, push_events=push_stream()))
    assert pushed["web"].digest == DIGEST and pushed["web"].verified
    monkeypatch.setattr(images_push, "registry_digest", lambda *a, **k: "sha256:" + "0" * 64)
    with pytest.raises(ImageError, match="did not confirm"):
        images.push_images(proj, registry="r:5000/p", progress="none",
                           engine=FakeEngine(local=LOCAL, push_events=push_stream()))


def test_two_builds_under_one_name_are_refused(tmp_path):
    proj = project(Service(name="a", image="same", build=BuildConfig(context="/x")),
                   Service(name="b", image="same", build=BuildConfig(context="/y")))
    with pytest.raises(ImageError, match="'a' and 'b' build different images under one name"):
        images.build_images(proj, progress="none", engine=FakeEngine())


def test_push_tags_the_plain_build_for_the_registry(monkeypatch):
    monkeypatch.setattr(images_push, "registry_digest", lambda *a, **k: None)
    proj = project(Service(name="web", build=BUILD))
    engine = FakeEngine(local={"proj-web:latest": {"Id": "sha256:img"}},
                        push_events=[{"aux": {"Tag": "latest", "Digest": DIGEST}}])
    pushed = images.push_images(proj, registry="r:5000/p", progress="none", engine=engine)
    assert ("tag", "sha256:img", "r:5000/p/proj-web", "latest") in engine.calls
    assert pushed["web"].digest == DIGEST and not pushed["web"].verified


def test_push_of_an_image_never_built(monkeypatch):
    proj = project(Service(name="web", build=BUILD))
    with pytest.raises(ImageError, match="does not exist locally") as info:
        images.push_images(proj, registry="r:5000/p", progress="none", engine=FakeEngine())
    assert "c2k build web" in str(info.value)


class EngineGoneSession(FakeSession):
    """The engine stopped answering after the version check: requests' ConnectionError."""

    def inspect_image(self, ref):
        import requests
        raise requests.exceptions.ConnectionError(
            "('Connection aborted.', ConnectionRefusedError(111, 'Connection refused'))")


@pytest.mark.parametrize("command", ["images", "push"])
def test_an_engine_gone_mid_command_is_one_clear_error(command, monkeypatch):
    engine = FakeEngine()
    monkeypatch.setattr(engine, "session", lambda: EngineGoneSession(engine))
    proj = project(Service(name="web", build=BUILD))
    with pytest.raises(ImageError, match="cannot connect to the Docker engine at "
                                         "unix:///fake.sock: connection refused"):
        if command == "images":
            images.list_images(proj, engine=engine)
        else:
            images.push_images(proj, progress="none", engine=engine)


# ---- the pool of builds and pushes ------------------------------------------------------------

def test_run_pool_prepares_each_job_in_the_calling_thread_while_the_first_run():
    caller, prepared = threading.get_ident(), []
    first_running = threading.Event()

    def prepare(job):
        if job == 3:     # job 1 is already running while the later jobs are prepared
            assert first_running.wait(5), "job 1 did not start before job 3 was prepared"
        prepared.append((job, threading.get_ident() == caller))
        return job * 10

    def worker(job, ready):
        if job == 1:
            first_running.set()
        return {job: ready}

    stop = threading.Event()
    assert run_pool([1, 2, 3], worker, 2, stop, prepare=prepare) == {1: 10, 2: 20, 3: 30}
    assert prepared == [(1, True), (2, True), (3, True)] and not stop.is_set()


def test_run_pool_runs_a_single_job_in_the_calling_thread():
    caller, stop, ran = threading.get_ident(), threading.Event(), []

    def worker(job, ready):
        ran.append(threading.get_ident() == caller)
        if job == "bad":
            raise ImageError("build of service 'bad' failed")
        return {job: ready}

    assert run_pool(["a"], worker, 8, stop, prepare=lambda job: job * 2) == {"a": "aa"}
    assert ran == [True] and not stop.is_set()
    with pytest.raises(ImageError, match="'bad' failed"):
        run_pool(["bad"], worker, 8, stop, prepare=lambda job: job)
    assert stop.is_set()

    def failing(job):
        raise ImageError("service 'c': build context /c is not a directory")
    with pytest.raises(ImageError, match="build context"):
        run_pool(["c"], worker, 8, threading.Event(), prepare=failing)
    assert len(ran) == 2                  # no worker for a job whose preparation failed


def test_run_pool_stops_at_a_failed_preparation():
    prepared = []

    def prepare(job):
        if job == 2:
            raise ImageError("service 'b': build context /b is not a directory")
        prepared.append(job)
        return job

    def worker(job, ready):
        if stop.is_set() and ready is None:
            handed_unprepared.append(job)
            raise Cancelled()
        return {job: ready}

    stop, handed_unprepared = threading.Event(), []
    with pytest.raises(ImageError, match="'b': build context"):
        run_pool([1, 2, 3], worker, 2, stop, prepare=prepare)
    assert prepared == [1] and stop.is_set()
    assert handed_unprepared == [3]     # for the worker to report it was not built


def test_run_pool_prepares_nothing_more_after_a_failed_job():
    prepared = []
    stop = threading.Event()
    preparing_2 = threading.Event()

    def prepare(job):
        if job == 2:     # job 1 fails now: wait until the pool has seen it
            preparing_2.set()
            deadline = time.monotonic() + 5
            while not stop.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)
        prepared.append(job)
        return job

    def worker(job, ready):
        if job == 1:
            preparing_2.wait(5)
            raise ImageError("build of service 'a' failed")
        return {job: ready}

    with pytest.raises(ImageError, match="service 'a' failed"):
        run_pool([1, 2, 3], worker, 2, stop, prepare=prepare)
    assert prepared == [1, 2]        # job 3 never prepared


def test_build_context_failure_is_reported_for_the_service(tmp_path, capsys):
    proj = project(Service(name="web", build=BuildConfig(context=str(tmp_path / "missing"))))
    engine = FakeEngine()
    with pytest.raises(ImageError, match="service 'web': build context .* is not a directory"):
        images.build_images(proj, progress="plain", engine=engine)
    # The progress line says it failed; why is the error's to say, once (c2k prints it).
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "web | failed" and "is not a directory" not in err
    assert not builds(engine)


# ---- the engine is not there --------------------------------------------------------------------

def test_no_engine_socket(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    with pytest.raises(ImageError) as info:
        images.connect()
    text = str(info.value)
    assert "cannot connect to the Docker engine" in text and "does not exist" in text
    assert "dockerd" in text and "DOCKER_HOST" in text


def test_engine_socket_refuses(tmp_path, monkeypatch):
    path = tmp_path / "dead.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()                       # the file stays, nobody listens
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    with pytest.raises(ImageError, match="connection refused"):
        images.connect()


class _FakeEngineHandler(http.server.BaseHTTPRequestHandler):
    """An engine that answers /_ping (with an API-Version header or, like engines before API
    1.25, without one; with a Builder-Version header when set) and /version, and records the
    paths asked for."""
    ping_header = "1.41"
    builder_header: str | None = None

    def do_GET(self):
        self.server.paths.append(self.path)
        if self.path == "/_ping":
            body, headers = b"OK", ({"API-Version": self.ping_header} if self.ping_header
                                    else {})
            if self.builder_header is not None:
                headers["Builder-Version"] = self.builder_header
        elif self.path == "/version":
            body, headers = json.dumps({"ApiVersion": "1.24"}).encode(), {
                "Content-Type": "application/json"}
        else:
            body, headers = b'{"message": "no such image"}', {}      # as the engine words it
            self.send_response(404)
        if self.path in ("/_ping", "/version"):
            self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_engine_socket(tmp_path):
    """A fake engine on a Unix socket: the server (.paths: what was asked), its .url."""
    path = str(tmp_path / "engine.sock")
    server = socketserver.ThreadingUnixStreamServer(path, _FakeEngineHandler)
    server.paths = []
    server.url = f"unix://{path}"
    server.daemon_threads = True
    # A short poll: shutdown() waits for the serving loop to look, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_engine(fake_engine_socket, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", fake_engine_socket.url)
    return fake_engine_socket


def test_engine_version_from_the_ping_header(fake_engine):
    engine = images.connect()
    assert engine.version == "1.41"
    assert fake_engine.paths == ["/_ping"]          # no /version round trip
    for session in (engine.session(), engine.build_session()):     # docker-py; the socket
        with pytest.raises(NotFound):
            session.inspect_image("app")
        session.close()
    assert fake_engine.paths[1:] == ["/v1.41/images/app/json"] * 2


def test_engine_version_without_a_ping_header(fake_engine, monkeypatch):
    monkeypatch.setattr(_FakeEngineHandler, "ping_header", "")
    assert images.connect().version == "1.24"
    assert fake_engine.paths == ["/_ping", "/version"]


@pytest.mark.parametrize("header, buildkit", [
    (None, True),       # dockerd before 23: no header; BuildKit from API 1.39
    ("2", True),        # dockerd 23 and later
    ("1", False),       # dockerd with BuildKit turned off in daemon.json
    ("", False),        # Podman: builds with Buildah
])
def test_the_engine_announces_its_builder(fake_engine, monkeypatch, header, buildkit):
    monkeypatch.setattr(_FakeEngineHandler, "builder_header", header)
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    engine = images.connect()
    assert engine.use_buildkit() is buildkit
    assert engine.use_buildkit("buildkit") and not engine.use_buildkit("classic")


def write_docker_context(config_dir, name, host, current=False, *, tls=False,
                         skip_verify=False):
    """A Docker context as `docker context create NAME --docker host=HOST` stores it (with
    ca=,cert=,key=: ``tls``; skip-tls-verify=true: ``skip_verify``)."""
    import hashlib
    key = hashlib.sha256(name.encode()).hexdigest()
    meta = config_dir / "contexts" / "meta" / key
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}}}))
    if tls:
        _pem_files(config_dir / "contexts" / "tls" / key / "docker")
    config = config_dir / "config.json"
    content = json.loads(config.read_text()) if config.exists() else {}
    if current:
        content["currentContext"] = name
    config.write_text(json.dumps(content))


@pytest.fixture
def contexts(tmp_path, monkeypatch):
    """A Docker config directory with no context yet; DOCKER_HOST and DOCKER_CONTEXT unset."""
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    (config_dir / "config.json").write_text("{}")
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return config_dir


def test_the_current_docker_context_picks_the_engine(contexts, fake_engine_socket):
    write_docker_context(contexts, "colima", fake_engine_socket.url, current=True)
    engine = images.connect()
    assert (engine.url, engine.context) == (fake_engine_socket.url, "colima")
    assert fake_engine_socket.paths == ["/_ping"]


def test_docker_context_variable_wins_over_the_current_context(contexts, fake_engine_socket,
                                                               monkeypatch, tmp_path):
    write_docker_context(contexts, "gone", f"unix://{tmp_path}/gone.sock", current=True)
    write_docker_context(contexts, "desktop-linux", fake_engine_socket.url)
    monkeypatch.setenv("DOCKER_CONTEXT", "desktop-linux")
    assert images.connect().context == "desktop-linux"


def test_docker_host_wins_over_any_context(contexts, fake_engine_socket, monkeypatch,
                                           tmp_path):
    write_docker_context(contexts, "gone", f"unix://{tmp_path}/gone.sock", current=True)
    monkeypatch.setenv("DOCKER_CONTEXT", "gone")
    monkeypatch.setenv("DOCKER_HOST", fake_engine_socket.url)
    engine = images.connect()
    assert (engine.url, engine.context) == (fake_engine_socket.url, None)


def test_the_default_context_is_the_local_engine(contexts, monkeypatch):
    from converter.images.dockerconfig import engine_address, read_config
    local = Address("unix:///var/run/docker.sock")
    assert engine_address(read_config()) == local
    monkeypatch.setenv("DOCKER_CONTEXT", "default")
    assert engine_address(read_config()) == local


def test_an_unreachable_context_names_it(contexts, tmp_path):
    write_docker_context(contexts, "colima", f"unix://{tmp_path}/colima.sock", current=True)
    with pytest.raises(ImageError) as info:
        images.connect()
    assert info.value.message == (f"cannot connect to the Docker engine at unix://{tmp_path}/"
                                  "colima.sock (Docker context 'colima'): the socket does not "
                                  "exist")
    assert "`docker context use` another context" in info.value.hint


def _pem_files(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (folder / name).write_text("PEM")
    return folder


def _tls_of(tls):
    """(ca, (cert, key), verify) of c2k's Tls or of docker-py's TLSConfig."""
    if tls is None:
        return None
    if hasattr(tls, "ca_cert"):
        return tls.ca_cert, tls.cert, tls.verify
    return tls.ca, (tls.cert, tls.key), tls.verify


@pytest.mark.parametrize("variables", [
    {}, {"DOCKER_TLS_VERIFY": "1"}, {"DOCKER_TLS_VERIFY": ""}, {"DOCKER_CERT_PATH": "certs"},
    {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "certs"}])
def test_docker_host_and_its_tls_variables_are_read_as_docker_py_reads_them(
        contexts, monkeypatch, tmp_path, variables):
    import docker
    from converter.images.dockerconfig import engine_address, read_config
    _pem_files(tmp_path / "home" / ".docker")          # the default DOCKER_CERT_PATH
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.5:2376")
    for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, str(_pem_files(tmp_path / value)) if value == "certs" else value)
    ours, theirs = engine_address(read_config()), docker.utils.kwargs_from_env()
    assert (ours.url, ours.context) == (theirs["base_url"], None)
    assert _tls_of(ours.tls) == _tls_of(theirs.get("tls"))


@pytest.mark.parametrize("skip_verify", [False, True])
def test_a_contexts_tls_material_is_read_as_docker_py_reads_it(contexts, skip_verify):
    import docker
    from converter.images.dockerconfig import engine_address, read_config
    write_docker_context(contexts, "secure", "tcp://10.0.0.5:2376", current=True, tls=True,
                         skip_verify=skip_verify)
    ours, theirs = engine_address(read_config()), docker.context.ContextAPI.get_context("secure")
    assert (ours.url, ours.context) == (theirs.Host, "secure")
    assert _tls_of(ours.tls) == _tls_of(theirs.TLSConfig)
    assert ours.socket is None


@pytest.mark.parametrize("by_variable", [True, False])
def test_an_unknown_context_is_a_clear_error(contexts, monkeypatch, by_variable):
    if by_variable:
        monkeypatch.setenv("DOCKER_CONTEXT", "nope")
    else:
        (contexts / "config.json").write_text(json.dumps({"currentContext": "nope"}))
    with pytest.raises(ImageError) as info:
        images.connect()
    where = "DOCKER_CONTEXT" if by_variable else f"currentContext in {contexts}/config.json"
    assert info.value.message == f"the Docker context 'nope' ({where}) does not exist"
    assert "docker context ls" in info.value.hint


def test_an_ssh_engine_whose_ssh_fails_is_one_clear_error(monkeypatch, capfd, command_on_path):
    command_on_path("ssh", "echo 'ssh: connect to host nowhere.example port 22: No route to "
                    "host' >&2\nexit 255\n")
    monkeypatch.setenv("DOCKER_HOST", "ssh://nowhere.example")
    with pytest.raises(ImageError) as info:
        images.connect()
    assert info.value.message == ("cannot connect to the Docker engine at ssh://nowhere.example: "
                                  "the ssh connection closed (ssh's own message, if any, is "
                                  "above)")
    assert "docker system dial-stdio" in info.value.hint
    assert "No route to host" in capfd.readouterr().err


def test_an_ssh_engine_without_paramiko_says_what_to_install(monkeypatch):
    from converter.images import dockerpy
    real = dockerpy.importlib.util.find_spec
    monkeypatch.setattr(dockerpy.importlib.util, "find_spec",
                        lambda name, *a: None if name == "paramiko" else real(name, *a))
    monkeypatch.setenv("DOCKER_HOST", "ssh://builder@buildbox.example")
    with pytest.raises(ImageError) as info:
        images.connect()
    assert "needs the paramiko package" in info.value.message
    assert info.value.hint == "pip install 'compose2kube[ssh]' (c2k's ssh extra), or paramiko"


@pytest.mark.parametrize("raised, why", [
    ("Caused by SSLError(SSLError(1, '[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca "
     "(_ssl.c:2580)'))", "the engine refused this client's certificate (tlsv1 alert unknown ca)"),
    ("Caused by SSLError(SSLEOFError(8, 'EOF occurred in violation of protocol (_ssl.c:2427)'))",
     "the engine closed the TLS connection (it may not accept this client's certificate)"),
    ("Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
     "certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)'))",
     "the engine's certificate does not verify against the CA in use (certificate verify "
     "failed: self-signed certificate in certificate chain)"),
])
@pytest.mark.parametrize("context", [None, "secure"])
def test_tls_failures_say_which_side_refused(raised, why, context):
    from converter.images.engine import engine_error
    engine = types.SimpleNamespace(url="tcp://10.0.0.5:2376", context=context)
    error = engine_error(Exception(f"HTTPSConnectionPool(host='10.0.0.5', port=2376): Max "
                                   f"retries exceeded with url: /_ping ({raised})"), engine)
    where = " (Docker context 'secure')" if context else ""
    assert error.message == \
        f"cannot connect to the Docker engine at tcp://10.0.0.5:2376{where}: {why}"
    assert ("the context's TLS material" if context else "DOCKER_CERT_PATH") in error.hint


def test_registry_digest_of_an_unreachable_registry_is_unknown():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert images.registry_digest(f"127.0.0.1:{port}/x", "t", timeout=2) is None


# ---- progress ---------------------------------------------------------------------------------

def test_plain_reporter_prefixes_lines():
    out = io.StringIO()
    reporter = PlainReporter(out)
    reporter.plan(["web", "worker"])
    reporter.start("web", "building")
    reporter.progress("web", "transient")
    reporter.log("worker", "hello")
    reporter.fail("web", "boom")
    reporter.warn("careful")
    assert out.getvalue() == ("web    | building\nworker | hello\nweb    | boom\n"
                              "warning: careful\n")


def test_live_reporter_keeps_one_line_per_task():
    out = io.StringIO()
    reporter = LiveReporter(out)
    reporter.plan(["a", "b"])
    reporter.start("a", "Step 1/2 : FROM x")
    reporter.done("a", "built")
    reporter.fail("b", "broken")
    reporter.close()
    screen = out.getvalue()
    assert "\x1b[2F" in screen                    # redraws move back over its two lines
    last = screen.rsplit("\x1b[2F", 1)[-1]
    lines = [line for line in last.replace("\x1b[0J", "").split("\n") if line]
    assert len(lines) == 2
    assert "✔ a" in lines[0] and "built" in lines[0]
    assert "✘ b" in lines[1] and "broken" in lines[1]


def test_live_reporter_fits_the_terminal(monkeypatch):
    import os as _os
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a: _os.terminal_size((60, 4)))
    out = io.StringIO()
    reporter = LiveReporter(out)
    reporter.plan([f"t{i}" for i in range(6)])
    for i in range(4):
        reporter.done(f"t{i}", "built")
    reporter.start("t4", "running")
    reporter.close()
    last = out.getvalue().rsplit("\x1b[3F", 1)[-1].replace("\x1b[0J", "")
    lines = [line for line in last.split("\n") if line]
    assert len(lines) == 3 and "4 more done" in lines[0]
    assert "t4" in lines[1] and "t5" in lines[2]
    assert all(len(_ANSI_RE.sub("", line)) <= 59 for line in lines)


_ANSI_RE = __import__("re").compile(r"\x1b\[[0-9;]*[A-Za-z]")


def test_make_reporter_modes(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert isinstance(make_reporter("auto", Tty()), LiveReporter)
    assert isinstance(make_reporter("auto", io.StringIO()), PlainReporter)
    assert type(make_reporter("none")) is NullReporter
    reporter = PlainReporter()
    assert make_reporter(reporter) is reporter
    with pytest.raises(ValueError):
        make_reporter("fancy")


@pytest.mark.slow
def test_cli_help_does_not_import_docker():
    code = ("import sys; from converter.cli import cli\n"
            "from click.testing import CliRunner\n"
            "for args in (['--help'], ['build', '--help'], ['images', '--help']):\n"
            "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
            "assert not [m for m in sys.modules if m == 'docker' or m.startswith('docker.')]\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))


def disk_full_build(kwargs):
    yield {"stream": "Step 1/2 : FROM busybox\n"}
    yield {"stream": " ---> 3f57d9401f8d\n"}
    yield {"stream": "Step 2/2 : COPY data /data\n"}
    yield {"errorDetail": {"message": "failed to copy files: write /var/lib/docker/tmp/x: "
                                      "no space left on device"},
           "error": "failed to copy files: write /var/lib/docker/tmp/x: no space left on device"}


def test_disk_full_during_build_is_a_clear_error_and_pins_nothing(tmp_path):
    ctx = tmp_path / "ctx"
    _tree(ctx, {"Dockerfile": "FROM busybox\nCOPY data /data\n", "data": "x"})
    proj = project(Service(name="web", build=BuildConfig(context=str(ctx))))
    engine = FakeEngine(build_events=disk_full_build)
    with pytest.raises(ImageError) as info:
        images.build_images(proj, registry="r:5000/p", progress="none", engine=engine)
    assert not [c for c in engine.calls if c[0] == "push"]      # nothing pushed or pinned
    text = str(info.value)
    assert "build of service 'web' failed at Step 2/2: COPY data /data" in text
    assert "no space left on device" in text


@pytest.mark.slow
def test_docker_py_comes_without_paramiko_until_an_ssh_engine_needs_it():
    """docker-py imports paramiko, when installed (the `ssh` extra), for its ssh transport: ~0.1 s
    of every build, push and `images`. c2k adds that transport only for an ssh:// engine."""
    pytest.importorskip("paramiko")
    code = ("import sys\n"
            "from converter.images.dockerpy import import_docker, _load_ssh_transport\n"
            "docker = import_docker()\n"
            "print('paramiko' in sys.modules)\n"
            "_load_ssh_transport(docker)\n"
            "client = docker.APIClient(base_url='ssh://builder@buildbox.example', "
            "version='1.41', use_ssh_client=True)\n"
            "print(type(client._custom_adapter).__name__, 'paramiko' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.split() == ["False", "SSHHTTPAdapter", "True"], out.stderr

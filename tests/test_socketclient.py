"""`c2k build` on the local engine without docker-py: which engine counts as local
(converter/images/dockerconfig.py), and the http.client transport
(converter/images/socketclient.py) against a scripted engine on a Unix socket: chunks that
split messages, refusals, answers that break off, and the requests it sends."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from converter.errors import ImageError
from converter.images.api import ApiError, NotFound
from converter.images.dockerconfig import DEFAULT_SOCKET, DockerConfig, engine_address
from converter.images.socketclient import SocketClient

ROOT = Path(__file__).resolve().parent.parent


# ---- which engine is the local socket ---------------------------------------------------------

@pytest.mark.parametrize("host, context, config, expected", [
    (None, None, {}, (DEFAULT_SOCKET, None)),
    ("", None, {"currentContext": "default"}, (DEFAULT_SOCKET, None)),
    ("unix:///run/user/1000/podman/podman.sock", None, {},
     ("/run/user/1000/podman/podman.sock", None)),
    ("unix:///custom.sock", "colima", {"currentContext": "colima"}, ("/custom.sock", None)),
    ("tcp://127.0.0.1:2376", None, {}, None),
    ("ssh://builder@buildbox.example", None, {}, None),
    ("unix://relative.sock", None, {}, None),          # left to docker-py to judge
    (None, "colima", {}, ("/Users/me/.colima/default/docker.sock", "colima")),
    (None, None, {"currentContext": "colima"}, ("/Users/me/.colima/default/docker.sock",
                                                "colima")),
    (None, "default", {"currentContext": "colima"}, (DEFAULT_SOCKET, None)),
    (None, None, {"currentContext": "remote"}, None),  # tcp: docker-py
    (None, None, {"currentContext": "secure"}, None),  # TLS material: docker-py
    (None, None, {"currentContext": "nope"}, "does not exist"),
    (None, None, {"currentContext": "broken"}, "cannot read the Docker context 'broken'"),
])
def test_the_local_socket_is_chosen_as_the_docker_cli_chooses(monkeypatch, tmp_path, host,
                                                              context, config, expected):
    contexts = tmp_path / "contexts"
    for name, address in (("colima", "unix:///Users/me/.colima/default/docker.sock"),
                          ("remote", "tcp://build.example:2375"),
                          ("secure", "unix:///run/secure.sock"), ("broken", None)):
        key = hashlib.sha256(name.encode()).hexdigest()
        (contexts / "meta" / key).mkdir(parents=True)
        (contexts / "meta" / key / "meta.json").write_text(
            json.dumps({"Name": name, "Endpoints": {"docker": {"Host": address}}})
            if address else "{not json")
    tls = contexts / "tls" / hashlib.sha256(b"secure").hexdigest() / "docker"
    tls.mkdir(parents=True)
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tls / name).write_text("PEM")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    for name, value in (("DOCKER_HOST", host), ("DOCKER_CONTEXT", context)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    if isinstance(expected, str):
        with pytest.raises(ImageError, match=expected):
            engine_address(DockerConfig(None, config))
        return
    address = engine_address(DockerConfig(None, config))
    assert ((address.socket, address.context) if address.socket else None) == expected


# ---- a scripted engine --------------------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        self.server.script(self)

    def reply(self, status=200, body=b"", headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunked(self, pieces, end=True):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        if end:
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def engine(tmp_path):
    """A scripted engine on a Unix socket: set .script(handler); .requests lists (method, path,
    headers, body); .path is the socket."""
    path = str(tmp_path / "engine.sock")
    server = socketserver.ThreadingUnixStreamServer(path, _Handler)
    server.requests, server.path, server.daemon_threads = [], path, True
    server.script = lambda handler: handler.reply(404, b'{"message": "no script"}')
    # A short poll: shutdown() waits for the serving loop to look, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_ping_gives_the_api_and_builder_versions(engine):
    engine.script = lambda h: h.reply(200, b"OK", {"API-Version": "1.45",
                                                   "Builder-Version": "2"})
    client = SocketClient(engine.path)
    assert client.ping() == ("1.45", "2")
    assert client.ping() == ("1.45", "2")               # the connection is kept
    assert [r[:2] for r in engine.requests] == [("GET", "/_ping")] * 2


def test_an_engine_without_the_ping_header_is_asked_its_version(engine):
    def script(h):
        if h.path == "/_ping":
            h.reply(200, b"OK")
        else:
            h.reply(200, json.dumps({"ApiVersion": "1.24"}).encode())
    engine.script = script
    client = SocketClient(engine.path)
    assert client.ping() == (None, None) and client.api_version() == "1.24"


def test_a_build_posts_the_archive_and_streams_messages_however_chunks_split_them(engine,
                                                                                   tmp_path):
    messages = [{"id": "moby.buildkit.trace", "aux": "CgQKAmlk"},
                {"stream": "Schritt 1/2: grüße 🚀\n"},
                {"aux": {"ID": "sha256:" + "a" * 64}}]
    stream = b"".join(json.dumps(m, ensure_ascii=False).encode() + b"\r\n" for m in messages)
    cut = stream.index("🚀".encode()) + 2                     # inside the emoji's 4 bytes
    engine.script = lambda h: h.chunked([stream[:7], stream[7:cut], stream[cut:], b"\n"])
    archive = tmp_path / "context.tar"
    archive.write_bytes(b"tar bytes" * 1000)
    client = SocketClient(engine.path, "1.41")
    params = {"version": "2", "t": "app:1", "buildargs": json.dumps({"A": "b c"}),
              "extrahosts": ["h1:10.0.0.1", "h2:10.0.0.2"]}
    credentials = base64.urlsafe_b64encode(b'{"reg.example": {}}')
    got = list(client.build(params, {"Content-Type": "application/x-tar",
                                     "X-Registry-Config": credentials}, str(archive)))
    assert got == messages
    method, path, headers, body = engine.requests[0]
    assert (method, body) == ("POST", archive.read_bytes())
    assert path == ("/v1.41/build?version=2&t=app%3A1&buildargs=%7B%22A%22%3A+%22b+c%22%7D"
                    "&extrahosts=h1%3A10.0.0.1&extrahosts=h2%3A10.0.0.2")
    assert headers["Content-Type"] == "application/x-tar"
    assert headers["Content-Length"] == str(archive.stat().st_size)
    assert headers["X-Registry-Config"] == credentials.decode()


def test_a_remote_context_is_a_build_without_a_body(engine):
    engine.script = lambda h: h.chunked([b'{"stream": "Step 1/1 : FROM busybox\\n"}\n'])
    client = SocketClient(engine.path, "1.41")
    url = "https://github.com/example/app.git#main"
    assert list(client.build({"t": "app:1", "remote": url}, {}, None)) == [
        {"stream": "Step 1/1 : FROM busybox\n"}]
    method, path, headers, body = engine.requests[0]
    assert (method, body, headers["Content-Length"]) == ("POST", b"", "0")
    assert path == ("/v1.41/build?t=app%3A1"
                    "&remote=https%3A%2F%2Fgithub.com%2Fexample%2Fapp.git%23main")


@pytest.mark.parametrize("status, body, explanation", [
    (500, b'{"message": "failed to solve: dockerfile parse error"}',
     "failed to solve: dockerfile parse error"),
    (400, b"buildkit not supported by daemon\n", "buildkit not supported by daemon"),
    (404, b"", "Not Found"),
])
def test_a_refused_call_carries_the_status_and_the_engines_words(engine, tmp_path, status, body,
                                                                  explanation):
    engine.script = lambda h: h.reply(status, body)
    archive = tmp_path / "context.tar"
    archive.write_bytes(b"x")
    client = SocketClient(engine.path, "1.41")
    with pytest.raises(ApiError) as info:
        client.build({"version": "2"}, {}, str(archive))
    assert (info.value.status_code, info.value.explanation) == (status, explanation)
    assert isinstance(info.value, NotFound) is (status == 404)
    with pytest.raises(ApiError):
        client.inspect_image("app:1")          # the connection still works after a refusal


def test_an_answer_that_ends_mid_message_is_an_error(engine, tmp_path):
    engine.script = lambda h: h.chunked([b'{"stream": "ok"}\n{"stream": "cut of'])
    archive = tmp_path / "context.tar"
    archive.write_bytes(b"x")
    events = SocketClient(engine.path, "1.41").build({}, {}, str(archive))
    assert next(events) == {"stream": "ok"}
    with pytest.raises(ApiError, match="ended in the middle of a message: "
                                       '{"stream": "cut of'):
        next(events)


def test_an_engine_that_stops_mid_answer_is_a_connection_error(engine, tmp_path):
    def script(h):
        h.chunked([b'{"stream": "ok"}\n'], end=False)
        h.wfile.write(b"40\r\n{partial")              # promises 64 bytes, sends 8, goes away
        h.close_connection = True
    engine.script = script
    archive = tmp_path / "context.tar"
    archive.write_bytes(b"x")
    events = SocketClient(engine.path, "1.41").build({}, {}, str(archive))
    assert next(events) == {"stream": "ok"}
    with pytest.raises(ConnectionError, match="^its answer broke off$"):
        list(events)


def test_something_other_than_an_engine_on_the_socket(engine):
    def script(h):
        h.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n")
        h.close_connection = True
    engine.script = script
    with pytest.raises(ConnectionError, match="^the answer is not the Docker API's "
                                              r"\(BadStatusLine: SSH-2.0-OpenSSH_9.2"):
        SocketClient(engine.path).ping()


def test_inspect_and_tag_name_the_image_in_the_path(engine):
    def script(h):
        if h.command == "GET":
            h.reply(200, json.dumps({"Id": "sha256:" + "b" * 64}).encode())
        else:
            h.reply(201)
    engine.script = script
    client = SocketClient(engine.path, "1.41")
    assert client.inspect_image("localhost:5000/team/app:1")["Id"] == "sha256:" + "b" * 64
    client.tag("sha256:" + "b" * 64, "localhost:5000/team/web", "2")
    assert [r[:2] for r in engine.requests] == [
        ("GET", "/v1.41/images/localhost:5000/team/app:1/json"),
        ("POST", f"/v1.41/images/sha256:{'b' * 64}/tag?repo=localhost%3A5000%2Fteam%2Fweb"
                 "&tag=2&force=1")]


def test_a_stream_left_unread_does_not_block_the_next_call(engine, tmp_path):
    def script(h):
        if h.command == "POST":
            h.chunked([b'{"stream": "one"}\n', b'{"stream": "two"}\n'])
        else:
            h.reply(200, b'{"Id": "sha256:1"}')
    engine.script = script
    archive = tmp_path / "context.tar"
    archive.write_bytes(b"x")
    client = SocketClient(engine.path, "1.41")
    assert next(client.build({}, {}, str(archive))) == {"stream": "one"}
    assert client.inspect_image("app")["Id"] == "sha256:1"


# ---- the two transports of the engine interface agree ----------------------------------------

def _both_sessions(engine):
    """A SocketClient and a docker-py session on the scripted engine."""
    from converter.images.dockerconfig import Address
    from converter.images.dockerpy import DockerPy
    return [SocketClient(engine.path, "1.41"),
            DockerPy(Address(f"unix://{engine.path}")).session("1.41", None)]


@pytest.mark.parametrize("remote", [False, True])
def test_both_transports_send_the_same_build_request(engine, tmp_path, remote):
    engine.script = lambda h: h.chunked([b'{"stream": "ok"}\n'])
    archive = tmp_path / "context.tar"
    archive.write_bytes(b"tar bytes" * 100)
    params = {"t": "app:1", "remote": "https://example.com/app.git"} if remote else \
        {"version": "2", "t": "app:1", "extrahosts": ["h1:10.0.0.1", "h2:10.0.0.2"]}
    headers = {"X-Registry-Config": "e30=",
               **({} if remote else {"Content-Type": "application/x-tar"})}
    for session in _both_sessions(engine):
        assert list(session.build(params, headers, None if remote else str(archive))) == \
            [{"stream": "ok"}]
        session.close()
    (method, path, sent, body), theirs = engine.requests
    assert (method, path, body) == theirs[:2] + theirs[3:]
    assert path.startswith("/v1.41/build?") and body == (b"" if remote else archive.read_bytes())
    for key in ("Content-Type", "Content-Length", "X-Registry-Config"):
        assert sent.get(key) == theirs[2].get(key), key


def test_both_transports_raise_the_same_refusals(engine):
    def script(h):
        if "/images/" in h.path:
            h.reply(404, b'{"message": "No such image: app:1"}')
        else:
            h.reply(400, b'{"message": "buildkit not supported by daemon"}')
    engine.script = script
    for session in _both_sessions(engine):
        with pytest.raises(NotFound) as info:
            session.inspect_image("app:1")
        assert info.value.explanation == "No such image: app:1"
        with pytest.raises(ApiError) as info:
            list(session.build({"version": "2"}, {}, None))
        assert (info.value.status_code, info.value.explanation) == \
            (400, "buildkit not supported by daemon")
        session.close()


# ---- end to end: `c2k build` on the local socket does not load docker-py ------------------------

@pytest.mark.slow
def test_c2k_build_on_the_local_socket_leaves_docker_py_unloaded(engine, tmp_path):
    """The whole command, in its own process, against the scripted engine: a BuildKit build (the
    engine answers as Podman would, with classic output), and not one docker-py module
    imported; with a credential store in the config, docker-py is loaded to ask it."""
    image = "sha256:" + "c" * 64

    def script(h):
        if h.path == "/_ping":
            h.reply(200, b"OK", {"API-Version": "1.41", "Builder-Version": "2"})
        elif h.path.startswith("/v1.41/build?"):
            h.chunked([json.dumps({"stream": "Step 1/1 : FROM busybox\n"}).encode() + b"\n",
                       json.dumps({"aux": {"ID": image}}).encode() + b"\n"])
        else:
            h.reply(404, b'{"message": "unexpected"}')
    engine.script = script
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM busybox\n")
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    build: ./app\n")
    config = tmp_path / "docker-config"
    config.mkdir()

    def run(config_content):
        (config / "config.json").write_text(json.dumps(config_content))
        env = {**os.environ, "DOCKER_HOST": f"unix://{engine.path}",
               "DOCKER_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
        env.pop("DOCKER_CONTEXT", None)
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "converter.cli",
                               "build", "--progress", "plain"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                    if line.startswith("import time:")}
        return proc, imported

    proc, imported = run({"auths": {"reg.example": {"auth": base64.b64encode(b"u:p").decode()}}})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"built {tmp_path.name}-app:latest ({'c' * 12}" in proc.stderr
    assert not {m for m in imported if m.split(".")[0] in ("docker", "requests", "urllib3")}
    sent = [r for r in engine.requests if r[0] == "POST"][-1][2]
    assert json.loads(base64.urlsafe_b64decode(sent["X-Registry-Config"])) == {
        "reg.example": {"username": "u", "password": "p", "email": None,
                        "serveraddress": "reg.example"}}

    proc, imported = run({"credsStore": "c2k-absent"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "docker-credential-c2k-absent, which is not installed" in proc.stderr
    assert "docker" in imported


def test_an_engine_that_refuses_buildkit_gets_a_classic_build(engine, tmp_path, monkeypatch):
    """dockerd with BuildKit missing answers the BuildKit request with an error: the same
    build goes again to the classic builder (the request without version=2), and later builds
    of the run go there at once."""
    from converter import images
    from converter.model import BuildConfig, Project, Service, frozen_map
    image = "sha256:" + "d" * 64

    def script(h):
        if h.path == "/_ping":
            h.reply(200, b"OK", {"API-Version": "1.41"})      # no Builder-Version: API decides
        elif "version=2" in h.path:
            h.reply(400, b'{"message": "buildkit not supported by daemon"}')
        elif "/build?" in h.path:
            h.chunked([json.dumps({"stream": "Step 1/1 : FROM busybox\n"}).encode(),
                       json.dumps({"aux": {"ID": image}}).encode(),
                       json.dumps({"stream": "Successfully built dddddddddddd\n"}).encode()])
        else:
            h.reply(404, b'{"message": "unexpected"}')
    engine.script = script
    monkeypatch.setenv("DOCKER_HOST", f"unix://{engine.path}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM busybox\n")
    services = {name: Service(name=name, build=BuildConfig(context=str(tmp_path / "app"),
                                                           args=frozen_map({"N": name})))
                for name in ("one", "two")}
    project = Project(name="p", working_dir=str(tmp_path), services=frozen_map(services))
    connected = images.connect()
    assert connected.address.socket == engine.path
    built = images.build_images(project, ["one"], progress="none", engine=connected)
    assert built["one"].image_id == image
    built = images.build_images(project, ["two"], progress="none", engine=connected)
    assert built["two"].image_id == image
    posts = [(r[1], r[2].get("User-Agent")) for r in engine.requests if r[0] == "POST"]
    assert [("version=2" in path, agent) for path, agent in posts] == [
        (True, "c2k"), (False, "c2k"), (False, "c2k")]
    assert all("buildargs=%7B%22N%22%3A+%22" in path for path, _ in posts)


def test_a_build_whose_engine_stops_mid_answer_is_one_error_line(engine, tmp_path):
    def script(h):
        if h.path == "/_ping":
            h.reply(200, b"OK", {"API-Version": "1.41", "Builder-Version": "2"})
        else:
            h.chunked([b'{"stream": "Step 1/1 : FROM busybox\\n"}\n'], end=False)
            h.wfile.write(b"400\r\n{\"stream\": \"cut")     # the engine dies mid-chunk
            h.close_connection = True
    engine.script = script
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM busybox\n")
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    build: ./app\n")
    env = {**os.environ, "DOCKER_HOST": f"unix://{engine.path}", "PYTHONPATH": str(ROOT),
           "DOCKER_CONFIG": str(tmp_path / "no-config")}
    proc = subprocess.run([sys.executable, "-m", "converter.cli", "build", "--progress",
                           "plain"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert errors == [f"error: the Docker engine at unix://{engine.path} stopped answering: "
                      "its answer broke off"], proc.stderr
    assert "hint: see the engine's log" in proc.stderr

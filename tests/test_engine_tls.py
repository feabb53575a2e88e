"""c2k reaching the Docker engine over tcp with mutual TLS, as `dockerd --tlsverify` serves it:
through DOCKER_HOST with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, and through a Docker context
that holds the TLS material (`docker context create --docker host=tcp://...,ca=,cert=,key=`).

The engine of .ci/docker-up listens on its Unix socket only; a relay on 127.0.0.1 terminates
TLS (client certificate required) and forwards to it. Marker ``docker``.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import types

import pytest
from click.testing import CliRunner

from converter import cli as cli_module
from converter import images
from converter.errors import ImageError
from tests import docker_env as env

pytestmark = pytest.mark.docker


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(folder):
    """ca.pem, server cert.pem/key.pem (127.0.0.1) and a client's, as `docker --tlsverify`
    expects them in DOCKER_CERT_PATH; plus a client signed by another CA."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", *ec, "-keyout", f"{ca}-key.pem", "-out", f"{ca}.pem",
                 "-days", "2", "-subj", f"/CN=c2k test {ca}", cwd=folder)
    for name, ca, extra in (("server", "ca", "subjectAltName=IP:127.0.0.1"),
                            ("client", "ca", "extendedKeyUsage=clientAuth"),
                            ("stranger", "other-ca", "extendedKeyUsage=clientAuth")):
        _openssl("req", *ec, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=folder)
        (folder / f"{name}.ext").write_text(extra + "\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey",
                 f"{ca}-key.pem", "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                 "-out", f"{name}.pem", cwd=folder)
    # The layout of DOCKER_CERT_PATH: a good client; one the engine does not know; a good
    # client that trusts another CA than the engine's.
    for name, client, ca in (("client", "client", "ca"), ("stranger", "stranger", "ca"),
                             ("wrong-ca", "client", "other-ca")):
        path = folder / name
        path.mkdir()
        (path / "ca.pem").write_bytes((folder / f"{ca}.pem").read_bytes())
        (path / "cert.pem").write_bytes((folder / f"{client}.pem").read_bytes())
        (path / "key.pem").write_bytes((folder / f"{client}-key.pem").read_bytes())


def _pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture(scope="module")
def tls_engine(docker_env, tmp_path_factory):
    """tcp://127.0.0.1:PORT: the engine behind TLS that requires a client certificate of our
    CA. Yields (url, certificate folder)."""
    folder = tmp_path_factory.mktemp("tls")
    _certificates(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server-key.pem")
    context.load_verify_locations(folder / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                client = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()                    # a client without an acceptable certificate
                continue
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(docker_env.socket)
            for a, b in ((client, engine), (engine, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"tcp://127.0.0.1:{listener.getsockname()[1]}", folder
    stop.set()
    listener.close()


@pytest.fixture
def clean_engine_env(docker_config, tls_engine, monkeypatch):
    """No engine settings from the outside; REQUESTS_CA_BUNDLE names another CA, as a
    corporate machine's does: it must not replace the CA that the engine settings give."""
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_engine[1] / "other-ca.pem"))
    return docker_config


def _build_and_list(tmp_path, monkeypatch, name):
    project = env.one_service_project(tmp_path, name, "FROM busybox\nRUN echo over tls\n")
    built = images.build_images(project, progress="none")
    monkeypatch.setattr(cli_module.Settings, "load",
                        lambda self, **kw: types.SimpleNamespace(project=project, warnings=[]))
    result = CliRunner().invoke(cli_module.cli, ["images", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == built["app"].image_id


def test_docker_host_with_tls_verify(tls_engine, clean_engine_env, tmp_path, monkeypatch,
                                     unique_name):
    url, certs = tls_engine
    monkeypatch.setenv("DOCKER_HOST", url)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs / "client"))
    _build_and_list(tmp_path, monkeypatch, unique_name)

    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs / "stranger"))   # refused by the engine
    with pytest.raises(ImageError) as info:
        images.connect()
    # TLS 1.3 checks the client after the handshake: its alert can be lost to the closing
    # connection, on a loaded machine about one time in three.
    assert info.value.message in (
        f"cannot connect to the Docker engine at {url}: the engine refused this client's "
        "certificate (tlsv1 alert unknown ca)",
        f"cannot connect to the Docker engine at {url}: the engine closed the TLS connection "
        "(it may not accept this client's certificate)")
    assert "DOCKER_CERT_PATH" in info.value.hint

    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs / "wrong-ca"))   # the engine's: unknown
    with pytest.raises(ImageError) as info:
        images.connect()
    assert info.value.message.startswith(
        f"cannot connect to the Docker engine at {url}: the engine's certificate does not "
        "verify against the CA in use (certificate verify failed")


def test_a_docker_context_with_tls_material(tls_engine, clean_engine_env, tmp_path,
                                            monkeypatch, unique_name):
    url, certs = tls_engine
    client = certs / "client"
    subprocess.run(["docker", "context", "create", "secure", "--docker",
                    f"host={url},ca={client}/ca.pem,cert={client}/cert.pem,"
                    f"key={client}/key.pem"], check=True, capture_output=True)
    monkeypatch.setenv("DOCKER_CONTEXT", "secure")
    engine = images.connect()
    assert (engine.url, engine.context) == (url, "secure")
    _build_and_list(tmp_path, monkeypatch, unique_name)

"""Registry credentials from the Docker config (converter/images/credentials.py): resolved once
per run, with helpers that are missing or fail reported clearly. Fake credential helpers (shell
scripts that log each call); no engine needed."""

from __future__ import annotations

import base64
import json
import warnings

import pytest

from converter.errors import ImageError
from converter.images.credentials import Credentials, encode_credentials, file_credentials
from converter.images.dockerconfig import INDEX_URL, read_config

docker = pytest.importorskip("docker")

SECRET = "s3cret-value"


@pytest.fixture
def helpers(tmp_path, command_on_path):
    """make(name, registries): a docker-credential-<name> on PATH whose store holds one user
    per registry; .calls(name) lists the commands it was run with."""
    log = tmp_path / "calls.log"

    class Helpers:
        def make(self, name, registries, *, fail=False):
            listing = json.dumps({r: f"user-{i}" for i, r in enumerate(registries)})
            command_on_path(f"docker-credential-{name}",
                            f"echo \"{name} $1\" >> '{log}'\n"
                            + ("echo 'the keychain is locked' ; exit 1\n" if fail else "")
                            + "case \"$1\" in\n"
                            f"  list) echo '{listing}' ;;\n"
                            "  get) read server; printf '{\"ServerURL\":\"%s\","
                            f"\"Username\":\"u\",\"Secret\":\"{SECRET}\"}}' \"$server\" ;;\n"
                            "esac\n")

        def calls(self, name=None):
            lines = log.read_text().splitlines() if log.exists() else []
            return [line.split()[1] for line in lines if name is None or
                    line.split()[0] == name]
    return Helpers()


@pytest.fixture
def config(tmp_path, monkeypatch):
    def write(content: dict):
        directory = tmp_path / "docker-config"
        directory.mkdir(exist_ok=True)
        (directory / "config.json").write_text(json.dumps(content))
        monkeypatch.setenv("DOCKER_CONFIG", str(directory))
        return directory / "config.json"
    return write


def credentials() -> Credentials:
    """A run's credentials, as an Engine makes them: with the config file as it is now."""
    return Credentials(read_config())


def header(headers: dict) -> dict:
    return json.loads(base64.urlsafe_b64decode(headers["X-Registry-Config"]))


def static_auth(user: str, password: str) -> dict:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_a_credential_store_is_asked_once_for_every_build(helpers, config):
    helpers.make("store", ["reg1.example:5000", "reg2.example"])
    config({"credsStore": "store"})
    creds, warned = credentials(), []
    first = creds.build_headers(warned.append)
    for _ in range(3):
        assert creds.build_headers(warned.append) == first
    assert helpers.calls() == ["list", "get", "get"] and not warned
    sent = header(first)
    assert {sent["reg1.example:5000"]["Password"], sent["reg2.example"]["Password"]} == {SECRET}


def test_a_push_asks_a_helper_once_per_registry(helpers, config):
    helpers.make("store", [])
    helpers.make("gcr", [])
    config({"credsStore": "store", "credHelpers": {"gcr.io": "gcr"}})
    creds = credentials()
    for _ in range(3):
        assert creds.for_registry("gcr.io")["Password"] == SECRET
        assert creds.for_registry("reg.example")["Password"] == SECRET
    assert helpers.calls("gcr") == ["get"] and helpers.calls("store") == ["get"]


def test_a_missing_credential_store_is_a_warning_for_builds(helpers, config, recwarn):
    helpers.make("gcr", ["gcr.io"])
    path = config({"credsStore": "desktop", "credHelpers": {"gcr.io": "gcr", "x.io": "gone"},
                   "auths": {"reg.example": static_auth("me", SECRET)}})
    warned = []
    sent = header(credentials().build_headers(warned.append))
    assert warned == [
        f"the Docker config ({path}) names the credential store docker-credential-desktop, "
        "which is not installed: builds get none of its credentials",
        f"the Docker config ({path}) names the credential helper docker-credential-gone, "
        "which is not installed: builds get none of its credentials"]
    assert sent["reg.example"]["password"] == SECRET       # kept in the file itself
    assert sent["gcr.io"]["Password"] == SECRET             # from the helper that is there
    assert "x.io" not in sent
    assert not [w for w in recwarn if "not installed" in str(w.message)]   # docker-py's own


def test_a_failing_credential_store_is_a_warning_for_builds(helpers, config):
    helpers.make("store", ["reg1.example"], fail=True)
    path = config({"credsStore": "store", "auths": {"reg.example": static_auth("me", SECRET)}})
    warned = []
    sent = header(credentials().build_headers(warned.append))
    assert len(warned) == 1 and warned[0].startswith(
        f"a credential helper of the Docker config ({path}) failed: ")
    assert "the keychain is locked" in warned[0] and SECRET not in warned[0]
    assert warned[0].endswith("builds get only the credentials kept in the file itself")
    assert list(sent) == ["reg.example"]


def test_a_missing_helper_is_an_error_for_a_push(helpers, config):
    path = config({"credHelpers": {"gcr.io": "gcr"}})
    creds = credentials()
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # docker-py is not asked: no warning
        with pytest.raises(ImageError) as info:
            creds.for_registry("gcr.io")
    assert info.value.message == (f"the Docker config ({path}) names the credential helper "
                                  "docker-credential-gcr for gcr.io, and it is not installed")
    assert "credsStore/credHelpers" in info.value.hint
    assert creds.for_registry("other.example") is None      # other registries are unaffected


def test_a_failing_helper_is_an_error_for_a_push(helpers, config):
    helpers.make("store", [], fail=True)
    config({"credsStore": "store"})
    with pytest.raises(ImageError, match="the credential helper for reg.example failed"):
        credentials().for_registry("reg.example")


def test_docker_hub_credentials_go_under_its_index_url_too(config):
    config({"auths": {"docker.io": static_auth("me", SECRET)}})
    sent = header(credentials().build_headers(pytest.fail))
    assert sent[docker.auth.INDEX_URL] == sent["docker.io"]


def test_without_credentials_no_header_is_sent(tmp_path, config, monkeypatch):
    config({})
    assert credentials().build_headers(pytest.fail) == {}
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nowhere"))
    creds = credentials()
    assert creds.build_headers(pytest.fail) == {} and creds.for_registry(None) is None


def test_an_unreadable_config_is_an_error(config):
    path = config({})
    path.write_text('{"auths": {"reg.example": {"auth": "not base64!"}}}')
    with pytest.raises(ImageError) as info:
        credentials().build_headers(pytest.fail)
    assert info.value.message.startswith(f"cannot read the Docker config ({path}): ")


@pytest.mark.parametrize("content", [
    {},
    {"currentContext": "default", "proxies": {"default": {"httpProxy": "http://p:3128"}}},
    {"auths": {"reg.example": static_auth("me", SECRET), "docker.io": static_auth("hub", "pw"),
               "tok.example": {"identitytoken": "t0ken", "auth": "ignored"},
               "helped.example": {}, "mail.example": {**static_auth("m", "p:w"), "email": "e"}}},
    {"auths": {"https://index.docker.io/v1/": static_auth("hub", "pw")}},
    {"reg.example": static_auth("legacy", "file")},
    {"reg.example": static_auth("legacy", "file"), "currentContext": "default"},
], ids=["empty", "no-auths", "inline-auths", "hub-url", "legacy", "legacy-with-other-keys"])
def test_credentials_kept_in_the_file_are_read_as_docker_py_reads_them(config, content):
    """A build's header without docker-py (credentials.file_credentials) is what docker-py's
    AuthConfig gives for the same file, Docker Hub's index URL included (build_headers)."""
    config(content)
    found = file_credentials(read_config().data)
    theirs = docker.auth.load_config().get_all_credentials()
    assert found == theirs
    if docker.auth.INDEX_NAME in theirs:
        theirs.setdefault(docker.auth.INDEX_URL, theirs[docker.auth.INDEX_NAME])
    assert credentials().build_headers(pytest.fail) == \
        ({"X-Registry-Config": encode_credentials(theirs)} if theirs else {})


@pytest.mark.parametrize("content", [
    {"auths": {"reg.example": {"auth": "not base64!"}}}, {"auths": {"reg.example": "x"}},
], ids=["bad-base64", "entry-not-object"])
def test_an_entry_that_cannot_be_read_is_refused_as_docker_py_refuses_it(config, content):
    config(content)
    with pytest.raises(ValueError):
        file_credentials(read_config().data)
    with pytest.raises((ValueError, docker.errors.DockerException)):
        docker.auth.load_config()


def test_credentials_kept_by_helpers_are_not_in_the_file(config):
    for content in ({"credsStore": "desktop"}, {"credHelpers": {"gcr.io": "gcr"}}):
        config(content)
        assert file_credentials(read_config().data) == {}
    config({"auths": ["reg.example"]})
    with pytest.raises(ValueError, match="'auths' is not an object"):
        file_credentials(read_config().data)


def test_a_legacy_or_unreadable_config(config, tmp_path, monkeypatch):
    """A config.json that is not JSON holds no credentials, as docker-py reads it; the oldest
    ~/.dockercfg (`auth = ...` lines) holds Docker Hub's, as the docker CLI reads it."""
    path = config({})
    path.write_text("{not json")
    assert read_config().data == {}
    assert docker.auth.load_config().get_all_credentials() == {}
    home = tmp_path / "home"
    (home).mkdir()
    (home / ".dockercfg").write_text("auth = bWU6cHc=\nemail = me@example.com\n")
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(home))
    assert read_config().path == str(home / ".dockercfg")
    assert file_credentials(read_config().data) == {INDEX_URL: {
        "username": "me", "password": "pw", "email": "me@example.com",
        "serveraddress": INDEX_URL}}
    assert docker.auth.load_config().resolve_authconfig(None) == \
        file_credentials(read_config().data)[INDEX_URL]

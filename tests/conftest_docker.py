"""Pytest plugin: a real Docker engine and registries for the ``docker`` tests.

Registered by tests/conftest.py (``pytest_plugins = ["tests.conftest_docker", ...]``). It defines no pytest hooks (the ``docker`` marker is
declared in pyproject.toml), only fixtures:

* ``docker_env`` (session): runs ``.ci/docker-up``, which starts or reuses dockerd, the
  registries on 127.0.0.1:5000 and :5001 (htpasswd) and the base image; returns a
  ``docker_env.DockerEnv``. When that fails the test is skipped with the reason, or fails when
  ``CI=true`` (the docker tests never skip silently in CI).
* ``docker_config``: an empty temporary ``DOCKER_CONFIG`` (so the user's own config and
  credential helpers never leak into a test); returns its directory.
* ``unique_name``: a fresh lowercase project name, so registry repositories never clash.

When the session ends, the images its tests built are deleted (``remove_test_images``).
"""

from __future__ import annotations

import os

import pytest

from tests import docker_env as _env

__all__ = ["docker_config", "docker_env", "unique_name"]

_state: dict = {}


def _cannot_run(message: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def docker_env():
    if "env" not in _state:
        try:
            _state["env"] = _env.docker_up()
        except Exception as exc:
            _state["env"] = exc
    env = _state["env"]
    if isinstance(env, Exception):
        _cannot_run(f"no Docker engine/registry for the docker tests: {env}\n"
                    f"  (start them with .ci/docker-up, as root)")
    yield env
    _env.remove_test_images()


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    directory = _env.write_docker_config(tmp_path / "docker-config", {})
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


@pytest.fixture
def unique_name() -> str:
    return _env.project_name()

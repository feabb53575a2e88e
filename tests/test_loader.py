"""The loading pipeline: discovery, names, env, interpolation, extends, include, profiles."""

from __future__ import annotations

import pytest

from converter.errors import ComposeError
from converter.records import FrozenInstanceError
from tests.corpus import corpus_dir
from tests.helpers import load, write


def test_discovery_prefers_compose_yaml_and_adds_override(tmp_path):
    write(tmp_path, "compose.yaml", "services: {web: {image: a, ports: ['80']}}")
    write(tmp_path, "docker-compose.yml", "services: {web: {image: wrong}}")
    write(tmp_path, "compose.override.yaml", "services: {web: {image: b}}")
    result = load(tmp_path)
    assert result.project.services["web"].image == "b"
    assert result.project.compose_files == ("compose.yaml", "compose.override.yaml")


def test_discovery_searches_parent_folders(tmp_path):
    write(tmp_path, "docker-compose.yml", "services: {web: {image: a}}")
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    assert load(sub).project.services["web"].image == "a"


def test_no_compose_file(tmp_path):
    with pytest.raises(ComposeError, match="no compose file found"):
        load(tmp_path)


def test_compose_file_env_and_separator(tmp_path):
    write(tmp_path, "a.yaml", "services: {web: {image: a}}")
    write(tmp_path, "b.yaml", "services: {web: {image: b}}")
    result = load(tmp_path, environ={"COMPOSE_FILE": "a.yaml;b.yaml", "COMPOSE_PATH_SEPARATOR": ";"})
    assert result.project.services["web"].image == "b"


@pytest.mark.parametrize("environ, explicit, expected", [
    ({}, None, "myapp"),
    ({"COMPOSE_PROJECT_NAME": "fromenv"}, None, "fromenv"),
    ({"COMPOSE_PROJECT_NAME": "fromenv"}, "flag", "flag"),
])
def test_project_name_precedence(tmp_path, environ, explicit, expected):
    folder = tmp_path / "My App"
    write(folder, "compose.yaml", "services: {web: {image: a}}")
    assert load(folder, environ=environ, project_name=explicit).project.name == expected


def test_project_name_from_file_and_invalid(tmp_path):
    write(tmp_path, "compose.yaml", "name: named\nservices: {web: {image: a}}")
    assert load(tmp_path).project.name == "named"
    with pytest.raises(ComposeError, match="invalid project name"):
        load(tmp_path, project_name="Bad Name")


def test_dotenv_and_env_file_flag(tmp_path):
    write(tmp_path, ".env", "TAG=1.0\nPORT=8080\n")
    write(tmp_path, "other.env", "TAG=2.0\n")
    write(tmp_path, "compose.yaml", "services: {web: {image: 'app:${TAG}', ports: ['${PORT}:80']}}")
    assert load(tmp_path).project.services["web"].image == "app:1.0"
    assert load(tmp_path).project.services["web"].ports[0].published == "8080"
    assert load(tmp_path, env_files=("other.env",)).project.services["web"].image == "app:2.0"
    assert load(tmp_path, environ={"TAG": "os"}).project.services["web"].image == "app:os"


def test_required_variable_message(tmp_path):
    write(tmp_path, "compose.yaml", "services: {web: {image: '${IMG:?set IMG to the image}'}}")
    with pytest.raises(ComposeError, match="set IMG to the image") as err:
        load(tmp_path)
    assert err.value.file == "compose.yaml"


def test_env_file_precedence_and_required_false(tmp_path):
    write(tmp_path, "a.env", "A=from_a\nB=from_a\n")
    write(tmp_path, "b.env", "B=from_b\nC=from_b\n")
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: x
            env_file: [a.env, b.env, {path: missing.env, required: false}]
            environment: {C: from_environment}
        """)
    env = load(tmp_path).project.services["web"].environment
    assert dict(env) == {"A": "from_a", "B": "from_b", "C": "from_environment"}


def test_missing_env_file_is_named(tmp_path):
    write(tmp_path, "compose.yaml", "services: {web: {image: x, env_file: nope.env}}")
    with pytest.raises(ComposeError, match="nope.env"):
        load(tmp_path)


def test_extends_same_file_and_other_file(tmp_path):
    write(tmp_path, "common/base.yaml", """
        services:
          base:
            image: base
            environment: {A: "1"}
            build: ./ctx
        """)
    write(tmp_path, "compose.yaml", """
        services:
          tpl: {image: tpl, ports: ['80'], command: [a]}
          web:
            extends: tpl
            command: [b]
          api:
            extends: {file: common/base.yaml, service: base}
            environment: {B: "2"}
        """)
    project = load(tmp_path).project
    assert project.services["web"].command == ("b",)
    assert project.services["web"].ports[0].target == 80
    api = project.services["api"]
    assert dict(api.environment) == {"A": "1", "B": "2"}
    assert api.build.context == str(tmp_path / "common" / "ctx")


def test_extends_cycle_is_named(tmp_path):
    write(tmp_path, "compose.yaml", """
        services:
          a: {extends: b, image: x}
          b: {extends: a, image: y}
        """)
    with pytest.raises(ComposeError, match="extends cycle detected: a -> b -> a"):
        load(tmp_path)


def test_include_with_relative_paths(tmp_path):
    write(tmp_path, "db/compose.yaml", """
        services:
          db: {image: postgres, env_file: db.env, volumes: ['./data:/var/lib/data']}
        """)
    write(tmp_path, "db/db.env", "POSTGRES_DB=app\n")
    write(tmp_path, "compose.yaml", """
        include: [db/compose.yaml]
        services:
          web: {image: web, depends_on: [db]}
        """)
    project = load(tmp_path).project
    assert project.services["db"].environment["POSTGRES_DB"] == "app"
    assert project.services["db"].volumes[0].source == str(tmp_path / "db" / "data")


def test_include_cycle(tmp_path):
    write(tmp_path, "compose.yaml", "include: [compose.yaml]\nservices: {a: {image: x}}")
    with pytest.raises(ComposeError, match="include cycle"):
        load(tmp_path)


def test_profiles(tmp_path):
    write(tmp_path, "compose.yaml", """
        services:
          web: {image: web}
          debug: {image: dbg, profiles: [debug]}
          tools: {image: t, profiles: [tools, debug]}
        """)
    assert sorted(load(tmp_path).project.services) == ["web"]
    assert sorted(load(tmp_path, profiles=("debug",)).project.services) == ["debug", "tools", "web"]
    assert sorted(load(tmp_path, environ={"COMPOSE_PROFILES": "tools"}).project.services) == [
        "tools", "web"]
    assert len(load(tmp_path, profiles=("*",)).project.services) == 3
    assert load(tmp_path).profiles == ["debug", "tools"]


def test_x_extensions_are_kept(tmp_path):
    write(tmp_path, "compose.yaml", """
        x-common: &common {restart: always}
        services:
          web:
            <<: *common
            image: web
            x-kubernetes: {controller: statefulset}
        """)
    result = load(tmp_path)
    assert result.project.extensions["x-common"] == {"restart": "always"}
    assert result.project.services["web"].extensions["x-kubernetes"] == {"controller": "statefulset"}
    assert result.project.services["web"].restart == "always"


@pytest.mark.parametrize("text, message", [
    ("", "empty compose file"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("services:\n", "`services` is empty"),
    ("services: {web: {imgae: x}}", "imgae"),
    ("services: {web: {image: x, ports: ['99999:80']}}", "65535"),
    ("services: {web: {image: x, depends_on: [db]}}", "undefined service 'db'"),
    ("services: {a: {image: x, depends_on: [b]}, b: {image: y, depends_on: [a]}}",
     "dependency cycle detected"),
    ("services: {web: {image: x, volumes: ['data:/d']}}", "undefined volume 'data'"),
    ("services: {web: {image: x, networks: [back]}}", "undefined network 'back'"),
    ("services: {web: {image: x, secrets: [s]}}", "undefined secret 's'"),
    ("services: {web: {image: x, configs: [c]}}", "undefined config 'c'"),
    ("services: {web: {ports: ['80']}}", "neither an image nor a build"),
    ("services: {web: {image: x}}\nsecrets: {s: {file: ./missing.txt}}", None),
])
def test_bad_input_messages(tmp_path, text, message):
    write(tmp_path, "compose.yaml", text)
    if message is None:
        load(tmp_path)          # an unused secret whose file is missing is not an error
        return
    with pytest.raises(ComposeError, match=message):
        load(tmp_path)


def test_schema_errors_name_file_line_and_path(tmp_path):
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: x\n    imgae: y\n    restart: [1]\n")
    with pytest.raises(ComposeError) as err:
        load(tmp_path)
    text = str(err.value)
    assert "compose.yaml:4" in text and "imgae" in text and "compose.yaml:5" in text


def test_override_file_errors_point_at_the_override(tmp_path):
    write(tmp_path, "compose.yaml", "services: {web: {image: x}}")
    write(tmp_path, "compose.override.yaml", "services:\n  web:\n    imgae: y\n")
    with pytest.raises(ComposeError) as err:
        load(tmp_path)
    assert "compose.override.yaml:3" in str(err.value)


def test_model_is_immutable(tmp_path):
    write(tmp_path, "compose.yaml", "services: {web: {image: x, environment: {A: '1'}}}")
    project = load(tmp_path).project
    with pytest.raises(FrozenInstanceError):
        project.services["web"].image = "y"
    with pytest.raises(TypeError):
        project.services["web"].environment["A"] = "2"


def test_normalized_units_in_model(tmp_path):
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: x
            mem_limit: 1g
            cpus: "0.5"
            shm_size: 256M
            stop_grace_period: 1m30s
            healthcheck: {test: curl -f http://localhost, interval: 10s, retries: "3"}
            deploy: {replicas: "2", resources: {limits: {memory: 256M, cpus: '0.25'}}}
            user: "1000:1000"
        """)
    web = load(tmp_path).project.services["web"]
    assert web.mem_limit == 1 << 30 and web.cpus == 0.5 and web.shm_size == 256 << 20
    assert web.stop_grace_period == 90
    assert web.healthcheck.test == ("CMD-SHELL", "curl -f http://localhost")
    assert web.healthcheck.interval == 10 and web.healthcheck.retries == 3
    assert web.replicas == 2 and web.deploy.limits.memory == 256 << 20
    assert web.deploy.limits.cpus == 0.25 and web.user == "1000:1000"


def test_full_example_matches_compose_go_expectation():
    folder = corpus_dir("compose-go", "full-example")
    import json
    expected = json.loads((folder / "full-example.expected.json").read_text()
                          .replace("/__WORKDIR__", str(folder)).replace("/__HOME__", "/home/c2k"))
    result = load(folder, "full-example.yml", project_name="full_example_project_name",
                  environ={"HOME": "/home/c2k", "BAR": "this is a secret",
                           "QUX": "qux_from_environment"}, consistency=False)
    got = result.canonical
    for name, svc in expected["services"].items():
        mine = got["services"][name]
        for key in ("image", "command", "entrypoint", "environment", "labels", "depends_on",
                    "expose", "dns", "cap_add", "extra_hosts", "healthcheck", "tmpfs",
                    "stop_grace_period", "user", "working_dir", "env_file"):
            assert mine.get(key) == svc.get(key), (name, key)
        assert [(p["target"], p.get("published"), p["protocol"], p.get("host_ip"))
                for p in mine.get("ports", [])] == [(p["target"], p.get("published"), p["protocol"],
                                                     p.get("host_ip")) for p in svc.get("ports", [])]
        assert [(v["type"], v.get("source"), v["target"]) for v in mine.get("volumes", [])] == \
            [(v["type"], v.get("source"), v["target"]) for v in svc.get("volumes", [])]

"""What runs is what docker compose would run: the loader's answers where compose is surprising.

Command strings cut at `&&`, empty volume sources, build args from the environment, empty
values, resources only inactive services use. Each expectation was checked against
`docker compose config` v2.40 (the realworld corpus test compares whole projects).
"""

from __future__ import annotations

import json

import pytest

from converter.compose.render import render_config
from converter.errors import ComposeError
from tests.helpers import load, run_c2k, write


def test_command_string_stops_at_an_operator_and_says_so(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          migrations:
            image: kong
            command: kong migrations up && kong migrations finish
    """)
    result = load(tmp_path)
    assert result.project.services["migrations"].command == ("kong", "migrations", "up")
    warning, = [w for w in result.warnings if "dropped" in w]
    assert warning.startswith("compose.yaml:4 (services.migrations.command): ")
    assert "runs only `kong migrations up`" in warning
    assert "`&& kong migrations finish` is dropped" in warning
    assert 'command: ["sh", "-c", "kong migrations up && kong migrations finish"]' in warning


def test_entrypoint_and_hooks_are_split_the_same_way(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          web:
            image: nginx
            entrypoint: /bin/sh -c 'echo "$$HOME"' > /dev/null
            post_start: [{command: touch /ready; echo done}]
            pre_stop: [{command: [nginx, -s, quit]}]
    """)
    result = load(tmp_path)
    web = result.project.services["web"]
    assert web.entrypoint == ("/bin/sh", "-c", 'echo "$HOME"')
    assert web.other["post_start"][0]["command"] == ["touch", "/ready"]
    assert web.other["pre_stop"][0]["command"] == ["nginx", "-s", "quit"]
    assert [w.split(": ", 1)[0] for w in result.warnings if "dropped" in w] == [
        "compose.yaml:4 (services.web.entrypoint)",
        "compose.yaml:5 (services.web.post_start[0].command)"]


@pytest.mark.slow  # runs c2k in a subprocess
def test_converted_container_runs_the_split_command(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          job: {image: busybox, command: "sh -c 'exit 0' || echo never"}
    """)
    proc = run_c2k("convert", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    objects = json.loads(proc.stdout)["items"]
    containers = [c for o in objects if "template" in o.get("spec", {})
                  for c in o["spec"]["template"]["spec"]["containers"]]
    assert containers[0]["args"] == ["sh", "-c", "exit 0"]
    assert "`|| echo never` is dropped" in proc.stderr


def test_unclosed_quote_is_an_error_with_its_place(tmp_path):
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: x\n    command: echo 'oops\n")
    with pytest.raises(ComposeError) as caught:
        load(tmp_path)
    assert (caught.value.file, caught.value.line) == ("compose.yaml", 4)
    assert caught.value.path == ("services", "web", "command")
    assert "an unclosed quote" in caught.value.message


@pytest.mark.parametrize("volume", ["${UNSET}:/data", ":/data:ro", "./a:", "./a::ro"])
def test_empty_volume_section_is_refused(tmp_path, volume):
    write(tmp_path, "compose.yaml", f"""\
        services:
          db:
            image: postgres
            volumes:
              - "{volume}"
    """)
    with pytest.raises(ComposeError) as caught:
        load(tmp_path)
    error = caught.value
    assert (error.file, error.line, error.path) == ("compose.yaml", 5,
                                                   ("services", "db", "volumes", 0))
    assert "a section between ':' is empty" in error.message
    assert "set it" in error.hint


def test_volume_options_compose_ignores_are_ignored_with_a_warning(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          web: {image: x, volumes: ["./src:/src:ro,cached,rw", "data:/d:nocopy,z"]}
        volumes: {data: {}}
    """)
    result = load(tmp_path)
    src, data = result.canonical["services"]["web"]["volumes"]
    assert "read_only" not in src and "consistency" not in src        # rw came last
    assert data["volume"] == {"nocopy": True} and data["bind"] == {"selinux": "z"}
    assert any("volume option 'cached' has no effect" in w for w in result.warnings)


def test_build_args_without_a_value_come_from_the_environment(tmp_path):
    write(tmp_path, ".env", "FROM_DOTENV=dotenv\n")
    write(tmp_path, "compose.yaml", """\
        services:
          web:
            build:
              context: .
              args: {FROM_DOTENV: null, FROM_OS: null, MISSING: null, EMPTY: ""}
          api:
            build: {context: ., args: [FROM_OS, MISSING, "SET=x"]}
    """)
    project = load(tmp_path, environ={"FROM_OS": "os"}).project
    assert dict(project.services["web"].build.args) == {
        "FROM_DOTENV": "dotenv", "FROM_OS": "os", "EMPTY": ""}
    assert dict(project.services["api"].build.args) == {"FROM_OS": "os", "SET": "x"}


def test_empty_and_false_values_are_left_out_as_compose_prints_them(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          web:
            image: x
            platform: ""
            read_only: false
            user: ""
            ports: []
            labels: {}
            init: false
            command: []
            build: {context: ., target: "", args: {}}
    """)
    result = load(tmp_path)
    web = result.canonical["services"]["web"]
    for key in ("platform", "read_only", "user", "ports", "labels"):
        assert key not in web
    assert web["init"] is False and web["command"] == []       # kept: they override the image
    assert "target" not in web["build"] and "args" not in web["build"]
    assert result.project.services["web"].platform is None


def test_resources_of_inactive_profiles_are_left_out(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          app: {image: x, networks: [front]}
          db: {image: postgres, profiles: [db], volumes: [data:/var/lib/postgresql/data],
               networks: [back], secrets: [pw]}
        networks: {front: {}, back: {}, spare: {}}
        volumes: {data: {}}
        secrets: {pw: {file: ./pw.txt}}
    """)
    default = load(tmp_path)
    assert set(default.canonical) == {"name", "services", "networks"}
    assert set(default.canonical["networks"]) == {"front"}
    assert not default.project.volumes and not default.project.secrets
    unused, = [w for w in default.warnings if "no service uses it" in w]
    assert unused.startswith("compose.yaml:5 (networks.spare): network 'spare'")
    everything = load(tmp_path, profiles=("db",)).canonical
    assert set(everything["networks"]) == {"front", "back"}
    assert set(everything["volumes"]) == {"data"} and set(everything["secrets"]) == {"pw"}


def test_links_and_shared_namespaces_restart_with_their_service(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          web: {image: x, links: ["db:database"], volumes_from: [files], pid: "service:tools"}
          db: {image: postgres}
          files: {image: x}
          tools: {image: x}
    """)
    depends = load(tmp_path).canonical["services"]["web"]["depends_on"]
    assert depends == {
        "db": {"condition": "service_started", "required": True, "restart": True},
        "tools": {"condition": "service_started", "required": True, "restart": True},
        "files": {"condition": "service_started", "required": True}}


def test_printed_config_folds_env_files_into_environment(tmp_path):
    write(tmp_path, "app.env", "A=1\n")
    write(tmp_path, "compose.yaml", "services: {web: {image: x, env_file: app.env}}")
    result = load(tmp_path)
    printed = json.loads(render_config(result, fmt="json"))["services"]["web"]
    assert printed["environment"] == {"A": "1"} and "env_file" not in printed
    assert result.project.services["web"].env_files         # the model keeps them (ConfigMaps)
    raw = json.loads(render_config(result, fmt="json", interpolated=False))["services"]["web"]
    assert raw["env_file"] == [{"path": str(tmp_path / "app.env")}]


def test_long_bind_without_source_is_refused_and_empty_volume_name_is_anonymous(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          web: {image: x, volumes: [{type: volume, source: "", target: /cache}]}
    """)
    assert load(tmp_path).canonical["services"]["web"]["volumes"] == [
        {"type": "volume", "target": "/cache", "volume": {}}]
    write(tmp_path, "compose.yaml", """\
        services:
          web:
            image: x
            volumes:
              - {type: bind, target: /src}
    """)
    with pytest.raises(ComposeError, match="a bind mount needs a source") as caught:
        load(tmp_path)
    assert (caught.value.line, caught.value.path) == (5, ("services", "web", "volumes", 0))


def test_other_values_in_the_form_compose_prints(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          web:
            image: x
            extra_hosts: ["db=10.0.0.1,[::1]", "cache:10.0.0.2"]
            devices: ["/dev/sda", "/dev/sdb:/dev/xvdb:r"]
            dns: ${UNSET_DNS-}
            build: {context: ., labels: {team: null}}
            links: [db, "db:database"]
            develop:
              watch: [{path: ./src, action: sync+exec, target: /src, include: "*.py",
                       exec: {command: touch /reload && echo}}]
          db: {image: postgres}
    """)
    result = load(tmp_path)
    web = result.canonical["services"]["web"]
    assert web["extra_hosts"] == ["cache=10.0.0.2", "db=10.0.0.1", "db=::1"]
    assert web["devices"] == [
        {"source": "/dev/sda", "target": "/dev/sda", "permissions": "rwm"},
        {"source": "/dev/sdb", "target": "/dev/xvdb", "permissions": "r"}]
    assert "dns" not in web and web["build"]["labels"] == {"team": ""}
    assert web["links"] == ["db", "db:database"]
    trigger, = web["develop"]["watch"]
    assert trigger["path"] == str(tmp_path / "src") and trigger["include"] == ["*.py"]
    assert trigger["exec"]["command"] == ["touch", "/reload"]
    assert any("develop.watch[0].exec.command" in w for w in result.warnings)

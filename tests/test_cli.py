"""The command line contract: global options anywhere, exit codes, clean errors, lazy imports."""

from __future__ import annotations

import json

import pytest

from tests.helpers import REPO, run_c2k, write

pytestmark = pytest.mark.slow  # the tests run c2k in a subprocess (exit codes, stderr, imports)

MUSIC = REPO / "samples" / "music-service"


def test_help_lists_commands():
    proc = run_c2k("--help")
    assert proc.returncode == 0 and "config" in proc.stdout


def test_pause_is_not_listed_but_explains_itself_when_typed():
    listed = run_c2k("--help").stdout
    assert "pause" not in listed
    proc = run_c2k("unpause", "web")
    assert proc.returncode == 1 and "cannot pause" in proc.stderr and "Traceback" not in proc.stderr


def test_global_options_before_and_after_the_command(tmp_path):
    write(tmp_path, "a.yaml", "services: {web: {image: a}}")
    write(tmp_path, "b.yaml", "services: {web: {image: b}}")
    before = run_c2k("-f", "a.yaml", "config", "--images", cwd=tmp_path)
    after = run_c2k("config", "-f", "a.yaml", "--images", cwd=tmp_path)
    mixed = run_c2k("-f", "a.yaml", "config", "-f", "b.yaml", "--images", cwd=tmp_path)
    assert before.stdout == after.stdout == "a\n"
    assert mixed.stdout == "b\n"


def test_config_of_the_tutorial_sample():
    proc = run_c2k("-f", MUSIC / "docker-compose.yml", "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    web = json.loads(proc.stdout)["services"]["web"]
    assert web["command"][:2] == ["bash", "-c"]
    assert web["ports"] == [{"mode": "ingress", "target": 8000, "published": "8000",
                             "protocol": "tcp"}]
    assert web["volumes"][0]["type"] == "bind" and web["volumes"][0]["target"] == "/music_service"
    assert "`version` is obsolete" in proc.stderr


def test_config_lists(tmp_path):
    write(tmp_path, "compose.yaml", """
        services:
          web: {image: 'nginx:1', volumes: ['data:/d']}
          job: {build: ., profiles: [tools]}
        volumes: {data: {}}
        """)
    assert run_c2k("config", "--services", cwd=tmp_path).stdout == "web\n"
    assert run_c2k("config", "--volumes", cwd=tmp_path).stdout == "data\n"
    assert run_c2k("config", "--profiles", cwd=tmp_path).stdout == "tools\n"
    images = run_c2k("--profile", "tools", "config", "--images", cwd=tmp_path).stdout
    assert images == f"{tmp_path.name.lower()}-job\nnginx:1\n"


def test_config_is_deterministic(tmp_path):
    write(tmp_path, "compose.yaml", "services: {b: {image: x}, a: {image: y, environment: [Z=1, A=2]}}")
    first = run_c2k("config", cwd=tmp_path).stdout
    assert first == run_c2k("config", cwd=tmp_path).stdout
    assert first.index("  a:") < first.index("  b:")


def test_dollar_escaped_in_config_output(tmp_path):
    write(tmp_path, "compose.yaml", "services: {a: {image: x, command: 'echo $$HOME'}}")
    proc = run_c2k("config", "--format", "json", cwd=tmp_path)
    assert json.loads(proc.stdout)["services"]["a"]["command"] == ["echo", "$$HOME"]


@pytest.mark.parametrize("text, message", [
    ("services:\n  web:\n    image: [x\n", "invalid YAML"),
    ("services: {web: {imgae: x}}", "imgae"),
    ("services: {web: {image: '${X:?X is required}'}}", "X is required"),
    ("", "empty compose file"),
])
def test_errors_are_one_message_exit_1_no_traceback(tmp_path, text, message):
    write(tmp_path, "compose.yaml", text)
    proc = run_c2k("config", cwd=tmp_path)
    assert proc.returncode == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stdout == ""


def test_debug_shows_the_traceback(tmp_path):
    write(tmp_path, "compose.yaml", "")
    proc = run_c2k("--debug", "config", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_usage_error_exits_2(tmp_path):
    proc = run_c2k("config", "--format", "xml", cwd=tmp_path)
    assert proc.returncode == 2
    assert run_c2k("no-such-command").returncode == 2


def test_missing_file_named(tmp_path):
    proc = run_c2k("-f", "nope.yaml", "config", cwd=tmp_path)
    assert proc.returncode == 1 and "nope.yaml" in proc.stderr


def test_alias_bomb_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i-1}'] * 9)}]" for i in range(1, 10)]
    write(tmp_path, "compose.yaml", "\n".join(lines) + "\nservices: {s: {image: x}}\n")
    proc = run_c2k("config", cwd=tmp_path, timeout=10)
    assert proc.returncode == 1 and "alias" in proc.stderr


def test_stdin_compose_file(tmp_path):
    proc = run_c2k("-f", "-", "config", "--services", cwd=tmp_path,
                   input="services: {fromstdin: {image: x}}\n")
    assert proc.returncode == 0 and proc.stdout == "fromstdin\n"


@pytest.mark.parametrize("args", [["--help"], ["config", "--help"]])
def test_light_commands_import_neither_docker_nor_kubernetes(args, tmp_path):
    write(tmp_path, "compose.yaml", "services: {web: {image: x}}")
    code = ("import sys\nfrom converter.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('docker', 'kubernetes') if m in sys.modules)\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    import subprocess
    import sys
    for argv in (args, ["config"]):
        proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path,
                              capture_output=True, text=True,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        assert "HEAVY []" in proc.stderr, proc.stderr

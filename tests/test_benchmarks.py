"""The benchmark's own logic (benchmarks/run.py): what it reads from build_bench.py's output,
how a build size's ratio is taken, and the import probe that counts c2k's modules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks import run

ROOT = Path(__file__).resolve().parent.parent

BUILD_OUTPUT = """\
4 services, cold builds (--no-cache), median of 7 rounds, 2 CPUs
  c2k build (default --parallel)                1.994 s   (1.91, 1.96, 2.04)
  c2k build --builder classic                    2.83 s   (3.02, 2.86, 2.82)
  docker-compose build (BuildKit)               2.103 s   (2.15, 1.88, 1.94)
  docker-compose build (DOCKER_BUILDKIT=0)       2.84 s   (2.80, 2.57, 2.66)
  ratio c2k build (default --parallel) / docker-compose build (BuildKit): 0.95
"""


def test_build_times_and_ratio_from_the_build_benchmark_output():
    times = run.build_times(BUILD_OUTPUT)
    assert times == {"c2k build (default --parallel)": 1.994,
                     "c2k build --builder classic": 2.83,
                     "docker-compose build (BuildKit)": 2.103,
                     "docker-compose build (DOCKER_BUILDKIT=0)": 2.84}
    assert run.build_ratio({"times": times}) == pytest.approx(1.994 / 2.103)
    assert run.build_ratio({"times": {"c2k build (default --parallel)": 1.0}}) is None


@pytest.mark.slow
def test_import_probe_counts_the_modules_of_a_command_that_exits_quickly(monkeypatch):
    # `c2k convert` ends with os._exit once its output is written; the probe must still see
    # the modules it imported (it once reported 0).
    monkeypatch.setattr(run, "PYTHON", sys.executable)
    info = run.import_profile(["-f", str(run.SMALL), "convert"], ROOT)
    assert info["modules"] > 50 and info["total"] > info["modules"]
    names = [name for name, _ in info["top"]]
    assert "click" in names and all(ms > 0 for _, ms in info["top"])


def test_the_interpreter_can_be_chosen_and_each_gets_its_own_virtualenv(monkeypatch, tmp_path):
    monkeypatch.setenv("C2K_BENCH_PYTHON", sys.executable)
    assert run.bench_interpreter() == sys.executable
    monkeypatch.delenv("C2K_BENCH_PYTHON")
    chosen = run.bench_interpreter()
    assert chosen in (run.DISTRIBUTION_PYTHON, sys.executable)
    # One virtualenv per interpreter file: two interpreters, two; a link to one, the same.
    # (Not sys.executable against /usr/bin/python3: they are one file when the tests run in a
    # virtualenv of Debian's python3.)
    first, second = tmp_path / "python3.11", tmp_path / "python3.12"
    first.touch()
    second.touch()
    (tmp_path / "python3").symlink_to(first)
    assert run.venv_of(str(first)) != run.venv_of(str(second))
    assert run.venv_of(str(tmp_path / "python3")) == run.venv_of(str(first))


def test_python_facts_name_the_interpreter_and_how_libpython_is_linked():
    version, path, linkage = run.python_facts(sys.executable)
    assert version == ".".join(map(str, sys.version_info[:3]))
    assert Path(path).is_file()
    assert linkage in ("libpython shared", "libpython static")
    assert run.python_label((version, path, linkage)) == f"{version}, {linkage}"


def test_one_image_gets_twice_the_build_rounds():
    assert run.build_rounds(run.BuildCase(1), 7) == 14
    assert run.build_rounds(run.BuildCase(1, 5000, cached=True), 7) == 14
    assert [run.build_rounds(run.BuildCase(n), 7) for n in (4, 8)] == [7, 7]


def test_the_build_cases_and_their_labels():
    cases = run.build_cases("8,1,4", 5000, cached=True)
    assert [c.label for c in cases] == [
        "1 service", "4 services", "8 services", "1 service, 5,000 files",
        "1 service, cached rebuild", "1 service, 5,000 files, cached rebuild"]
    assert [c.label for c in run.build_cases("1", 0, cached=False)] == ["1 service"]
    assert run.build_cases("1", 0, cached=True)[-1] == run.BuildCase(1, 20, True)


def test_build_bench_generates_the_contexts_it_is_asked_for(tmp_path):
    from benchmarks import build_bench
    compose = build_bench.generate(tmp_path, 2, "p", files=250)
    assert "svc01:" in compose.read_text()
    files = sorted((tmp_path / "svc00" / "data").rglob("*.txt"))
    assert len(files) == 250 and {f.parent.name for f in files} == {"d000", "d001", "d002"}
    build_bench.generate(tmp_path / "small", 1, "p")
    assert len(list((tmp_path / "small" / "svc00" / "data").glob("*.txt"))) == 20


def test_the_real_node_section_is_replaced_in_place_and_kept_by_make_bench(tmp_path):
    from benchmarks import realnode
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\nbody\n")
    rows = [("first", 10.0, 25.0, 2.0, 4.0)]
    realnode.write_section(out, realnode.section(rows, 1.0))
    first = out.read_text()
    assert first.startswith("# Performance\n\nbody\n\n" + realnode.BEGIN)
    assert "| first | 10.0 s | 25.0 s | 2.50x | 2.0 s | 4.0 s | 2.00x |" in first
    realnode.write_section(out, realnode.section([("first", 10.0, 20.0, 2.0, 4.0)], 1.0))
    again = out.read_text()
    assert again.count(realnode.BEGIN) == 1 and "| 2.00x |" in again and "2.50x" not in again
    kept = run.kept_sections(out)
    assert kept.strip().startswith(realnode.BEGIN) and kept.strip().endswith(realnode.END)


def test_the_devloop_section_gives_medians_and_ratios_and_sits_beside_realnodes(tmp_path):
    from benchmarks import devloop, realnode
    out = tmp_path / "performance.md"
    realnode.write_section(out, realnode.section([("first", 10.0, 25.0, 2.0, 4.0)], 1.0))
    devloop.write_section(out, devloop.section([0.5, 0.7, 0.6], [0.8, 1.2, 0.9], 1.0))
    text = out.read_text()
    assert "| median | 0.60 s | 0.90 s | 1.50x |" in text
    assert "| slowest | 0.70 s | 1.20 s | 1.71x |" in text
    assert text.count(realnode.BEGIN) == 1 and text.count(devloop.BEGIN) == 1
    assert run.kept_sections(out).count("<!-- end of section:") == 2


def test_a_build_median_above_compose_s_fails_only_beyond_the_noise():
    rounds = run.round_times(BUILD_OUTPUT)
    assert rounds["c2k build (default --parallel)"] == [1.91, 1.96, 2.04]
    assert rounds["docker-compose build (BuildKit)"] == [2.15, 1.88, 1.94]
    # trading places round by round (the 1-service run of 2026-12-07: slower in 6 of 13)
    mine = [1.43, 1.55, 1.26, 1.58, 1.64, 1.53, 1.43, 1.59, 1.44, 1.51, 1.45, 1.51, 1.57, 1.62]
    theirs = [1.49, 1.36, 1.38, 1.58, 1.65, 1.57, 1.47, 1.56, 1.27, 1.58, 1.50, 1.45, 1.55, 1.45]
    slower, how = run.slower_beyond_noise(mine, theirs)
    assert not slower and how.startswith("slower in 6 of 13 rounds")
    # slower in 12 rounds of 14: that is c2k, not the machine
    slower, _ = run.slower_beyond_noise([v + 0.1 for v in theirs[:12]] + theirs[12:],
                                        theirs)
    assert slower
    assert run.slower_beyond_noise([], []) == (False, "slower in 0 of 0 rounds, p=1.00")

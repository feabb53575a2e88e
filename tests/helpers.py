"""Running the CLI in tests: in-process (fast) or as a subprocess (exit codes, imports)."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def refuse_in_unit_runs(what: str) -> None:
    """`make test-fast` (C2K_UNIT_TESTS_ONLY=1) starts no Docker engine, Go build or cluster;
    a test that reaches for one anyway lacks its marker (docker, cluster, tools)."""
    if os.environ.get("C2K_UNIT_TESTS_ONLY") == "1":
        import pytest
        pytest.fail(f"a unit test run (C2K_UNIT_TESTS_ONLY=1) reached for {what}: "
                    f"mark the test (docker, cluster or tools)", pytrace=False)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def run_c2k(*args, cwd=None, env=None, timeout=60, input=None) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"),
            "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", "converter.cli", *map(str, args)], cwd=cwd,
                          env={**base, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, input=input)


def run_c2k_here(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """run_c2k without starting an interpreter (~0.2 s saved a call): main() in this process,
    in `cwd`, with run_c2k's environment in place of this process's for the call."""
    import contextlib
    import io
    streams = io.StringIO(), io.StringIO()
    saved_environ, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update({"PATH": saved_environ.get("PATH", ""), "LANG": "C.UTF-8",
                       "HOME": saved_environ.get("HOME", "/root"), **(env or {})})
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(streams[0]), contextlib.redirect_stderr(streams[1]):
            code = _main([str(a) for a in args])
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
    return subprocess.CompletedProcess(["c2k", *map(str, args)], code, streams[0].getvalue(),
                                       streams[1].getvalue())


def _main(argv: list[str]) -> int:
    """main(argv)'s exit code; main() installs its Ctrl-C handler and GC thresholds: they are
    put back."""
    from converter.cli import main
    handler, thresholds = signal.getsignal(signal.SIGINT), gc.get_threshold()
    try:
        main(argv)
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1 if exc.code else 0
    finally:
        signal.signal(signal.SIGINT, handler)
        gc.set_threshold(*thresholds)


def c2k_in_process(capsys, *args) -> tuple[int, str, str]:
    """Run the c2k command line in this process, through main() as the console script does
    (no interpreter to start: a hundred times quicker than run_c2k); returns (exit code,
    stdout, stderr)."""
    code = _main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def load(folder: Path, *files: str, **options):
    from converter.compose.loader import LoadOptions, load_project
    environ = options.pop("environ", {})
    return load_project(LoadOptions(files=tuple(files), cwd=str(folder), environ=environ,
                                    **options))

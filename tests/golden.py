"""What c2k produces for each sample, committed under outputs/<sample>/ and checked for drift.

    python -m tests.golden --update     # regenerate outputs/ (then review the diff and commit)
    python -m tests.golden --update --bundles   # ... and every bundle.dab, even when only its
                                                # digests would change
    python -m tests.golden              # exit 1 and show a diff when outputs/ is stale

Everything but ``bundle.dab`` is byte-exact and needs no Docker. ``bundle.dab`` is the output of
a real ``c2k bundle --push --registry localhost:5000`` in the Docker test environment
(``.ci/docker-up``): built images are pushed to its registry and pinned by the digests the
registry serves; pulled images (postgres, redis) are that environment's local images,
pulled through its registry mirror, pinned by their RepoDigests. Builds are not reproducible, so
the digests change with every regeneration; everything else in the file is checked without
Docker by `expected_bundle` (the bundle c2k makes from the sample with the committed digests),
and the ``docker`` test in tests/test_golden.py regenerates the file and compares it with the
digests masked. ``--update`` regenerates a bundle only when that check finds it stale (or with
``--bundles``), so refreshing outputs/ does not churn the digests.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
OUTPUTS = REPO / "outputs"
# The environment c2k runs in for the outputs: nothing from the user's shell leaks in.
ENV = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": "/nonexistent"}
BUNDLE = "bundle.dab"
# Where the bundles' built images live: the test registry (.ci/docker-up's 127.0.0.1:5000),
# by the name Docker's own docs use for a local registry.
BUNDLE_REGISTRY = "localhost:5000"
_DIGEST = re.compile(r"@sha256:([0-9a-f]{64})")


def samples() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


def _c2k(sample: str, *args: str, env: dict | None = None, timeout: float = 120) -> str:
    proc = subprocess.run([sys.executable, "-m", "converter.cli", *args], cwd=SAMPLES / sample,
                          capture_output=True, text=True, env={**ENV, **(env or {})},
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"c2k {' '.join(args)} failed for {sample}:\n{proc.stderr}")
    return proc.stdout


def render(sample: str) -> dict[str, str]:
    """File name → content for one sample's outputs folder: the manifests, the conversion
    report, the Helm chart and the Kustomize tree."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.yaml"
        files = {"manifests.yaml": _c2k(sample, "convert", "--report", str(report)),
                 "conversion-report.yaml": report.read_text()}
        for fmt in ("helm", "kustomize"):
            target = Path(tmp) / fmt
            _c2k(sample, "-q", "convert", "--format", fmt, "-o", str(target))
            for path in sorted(target.rglob("*")):
                if path.is_file():
                    files[f"{fmt}/{path.relative_to(target)}"] = path.read_text()
        return files


# ---- bundle.dab -------------------------------------------------------------------------------

def load_sample(sample: str):
    """The sample's project, loaded as the CLI loads it for the outputs."""
    from converter.compose.loader import LoadOptions, load_project
    return load_project(LoadOptions(cwd=str(SAMPLES / sample), environ=dict(ENV))).project


def mask_digests(text: str) -> str:
    return _DIGEST.sub("@sha256:<digest>", text)


def expected_bundle(sample: str, committed: str) -> str | None:
    """The bundle c2k makes for `sample` when each service's image has the digest the committed
    bundle gives it, under the name c2k gives it (built images in BUNDLE_REGISTRY): equal to
    `committed` when everything but the digests is current. None when `committed` does not pin
    every service's image (or is not a bundle). Needs no Docker."""
    from converter.emit.bundle import is_pinned, make_bundle
    from converter.errors import ImageError
    from converter.imagerefs import image_name
    project = load_sample(sample)
    try:
        entries = json.loads(committed)["Services"]
        digests = {}
        for svc in project.services.values():
            if is_pinned(svc.image):
                continue
            found = _DIGEST.search(entries[svc.name]["Image"])
            if found is None:
                return None
            name = image_name(project, svc, registry=BUNDLE_REGISTRY)[0]
            digests[svc.name] = f"{name}@sha256:{found.group(1)}"
        return make_bundle(project, digests).text()
    except (ValueError, KeyError, TypeError, ImageError):  # not JSON / no such entry / no digest
        return None


def bundle_registry(env) -> str:
    """BUNDLE_REGISTRY, checked against the test registry `env` (a tests.docker_env.DockerEnv)."""
    host, _, port = env.registry.rpartition(":")
    if host != "127.0.0.1" or f"localhost:{port}" != BUNDLE_REGISTRY:
        raise RuntimeError(f"the committed bundles name the registry {BUNDLE_REGISTRY}, but the "
                           f"test registry is {env.registry} (C2K_REGISTRY_PORT); use port "
                           f"{BUNDLE_REGISTRY.rpartition(':')[2]}")
    return BUNDLE_REGISTRY


def render_bundle(sample: str, env) -> str:
    """bundle.dab for `sample`, from a real `c2k bundle --push` against the Docker test
    environment `env` (tests.docker_env.DockerEnv, from .ci/docker-up): builds the sample's
    images, pushes them to BUNDLE_REGISTRY and pins the digests that registry serves; pulled
    images are pinned by the RepoDigests of the environment's stand-ins."""
    registry = bundle_registry(env)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "docker-config"    # no user credentials or helpers
        config.mkdir()
        (config / "config.json").write_text("{}\n")
        output = Path(tmp) / BUNDLE
        try:
            _c2k(sample, "-q", "bundle", "--push", "--registry", registry, "-o", str(output),
                 env={"DOCKER_CONFIG": str(config), "DOCKER_HOST": f"unix://{env.socket}"},
                 timeout=900)
        except RuntimeError as exc:
            if "no image digest" in str(exc):
                raise RuntimeError(
                    f"{exc}\n(the Docker test environment provides digests for the stand-ins "
                    f"{', '.join(env.standins) or '(none)'}; registry mirror: "
                    f"{env.mirror or 'none, see the warning of .ci/docker-up'})") from None
            raise
        return output.read_text()


def _docker_env():
    """The Docker test environment (.ci/docker-up, started if needed), or the reason why not."""
    from tests import docker_env
    try:
        return docker_env.docker_up()
    except Exception as exc:  # noqa: BLE001 - reported to the user
        return RuntimeError(f"no Docker test environment: {exc}\n(bundle.dab needs it: run "
                            "`bash .ci/docker-up` as root, then this again)")


def _check_bundle(sample: str, update: bool, regenerate: bool, docker: dict) -> int:
    """1 when outputs/<sample>/bundle.dab is stale (and, with `update`, could not be
    regenerated); `docker` caches the Docker test environment across samples."""
    path = OUTPUTS / sample / BUNDLE
    where = path.relative_to(REPO)
    committed = path.read_text() if path.exists() else ""
    expected = expected_bundle(sample, committed) if committed else None
    if expected == committed and not (update and regenerate):
        return 0
    if not update:
        if expected is None:
            print(f"{where}: missing, or an image is not pinned by digest")
        else:
            sys.stdout.writelines(list(difflib.unified_diff(
                committed.splitlines(True), expected.splitlines(True),
                f"committed/{sample}/{BUNDLE}", f"now/{sample}/{BUNDLE}"))[:200])
        return 1
    if "env" not in docker:
        docker["env"] = _docker_env()
    try:
        if isinstance(docker["env"], Exception):
            raise docker["env"]
        text = render_bundle(sample, docker["env"])
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"{where}: NOT regenerated: {exc}", file=sys.stderr)
        return 1
    if text != committed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"updated {where}")
    return 0


def check(update: bool, regenerate_bundles: bool = False) -> int:
    stale = 0
    docker: dict = {}
    for sample in samples():
        folder = OUTPUTS / sample
        rendered = render(sample)
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            name = str(path.relative_to(folder))
            if path.is_file() and name not in rendered and name != BUNDLE:
                if update:
                    path.unlink()
                    print(f"removed {path.relative_to(REPO)}")
                else:
                    stale += 1
                    print(f"{path.relative_to(REPO)}: no longer produced")
        for name, content in rendered.items():
            path = folder / name
            current = path.read_text() if path.exists() else ""
            if current == content:
                continue
            if update:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
                print(f"updated {path.relative_to(REPO)}")
            else:
                stale += 1
                diff = difflib.unified_diff(current.splitlines(True), content.splitlines(True),
                                            f"committed/{sample}/{name}", f"now/{sample}/{name}")
                sys.stdout.writelines(list(diff)[:200])
        stale += _check_bundle(sample, update, regenerate_bundles, docker)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(check(update="--update" in sys.argv, regenerate_bundles="--bundles" in sys.argv))

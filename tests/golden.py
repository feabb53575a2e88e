"""What c2k produces for each sample, committed under outputs/<sample>/ and checked for drift.

    python -m tests.golden --update     # regenerate outputs/ (then review the diff and commit)
    python -m tests.golden              # exit 1 and show a diff when outputs/ is stale
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
OUTPUTS = REPO / "outputs"


def samples() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


def _c2k(sample: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "converter.cli", *args], cwd=SAMPLES / sample,
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin",
                                                               "PYTHONPATH": str(REPO),
                                                               "HOME": "/nonexistent"})
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


def check(update: bool) -> int:
    stale = 0
    for sample in samples():
        folder = OUTPUTS / sample
        rendered = render(sample)
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            name = str(path.relative_to(folder))
            if path.is_file() and name not in rendered:
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
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(check(update="--update" in sys.argv))

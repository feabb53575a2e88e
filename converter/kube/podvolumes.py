"""The volumes of one pod, and the init container that makes writable copies of project files.

A pod's containers share its volumes; each source (a claim, a ConfigMap, an emptyDir) is one
pod volume however many of them mount it. Project files a service mounts read-write (as compose
mounts a folder without `:ro`) travel as a ConfigMap, which Kubernetes mounts read-only; the
init container `copy-project-files` copies them into a writable volume before the app starts:
the files of the project replace the ones of the same name (so edits reach the pods at their
next start, as with compose), files the app created are kept. Each file is written under a
temporary name and renamed, so pods that share a claim never read half a file.
"""

from __future__ import annotations

from . import names

COPY_CONTAINER = "copy-project-files"
COPIES_VOLUME = "project-files"      # the emptyDir holding a pod's private writable copies

_COPY_SCRIPT = (
    'set -e; tmp=".c2k-$(hostname)"; '
    'while [ "$#" -ge 2 ]; do from=$1; to=$2; shift 2; cd "$from"; '
    "find -L . -name '..?*' -prune -o -type f -print | while IFS= read -r f; do "
    'mkdir -p "$to/${f%/*}"; '
    'cp "$f" "$to/$f$tmp" && mv -f "$to/$f$tmp" "$to/$f" || exit 1; '
    "done; done")


def mount_entry(name: str, target: str, *, read_only=False, sub_path=None,
                propagation=None) -> dict:
    out = {"name": name, "mountPath": target}
    if sub_path:
        out["subPath"] = sub_path
    if propagation:
        out["mountPropagation"] = propagation
    if read_only:
        out["readOnly"] = True
    return out


class PodVolumes:
    """The volumes of one pod, shared by its containers; each source mounted once."""

    def __init__(self):
        self.volumes: list[dict] = []
        self.claim_templates: list[dict] = []
        self.by_key: dict = {}
        self.used = names.NameSet()
        # A claim only one node can mount (ReadWriteOnce, or an existing claim of unknown
        # mode): a Deployment then replaces its pod before starting the new one.
        self.uses_claims = False
        self._copies: list[tuple[str, str, str | None]] = []   # (from volume, to volume, subPath)
        self._copied: set = set()
        self._copy_security: dict | None = None

    def get(self, key, wanted: str, source: dict) -> str:
        if key in self.by_key:
            return self.by_key[key]
        name = self.used.take(names.dns_label(wanted, prefix="vol"))
        self.by_key[key] = name
        self.volumes.append({"name": name, **source})
        return name

    def claim_template(self, key, wanted: str, spec: dict, labels: dict) -> str:
        if key in self.by_key:
            return self.by_key[key]
        name = self.used.take(names.dns_label(wanted, prefix="vol"))
        self.by_key[key] = name
        self.claim_templates.append({"metadata": {"name": name, "labels": labels}, "spec": spec})
        return name

    def copy(self, key, from_volume: str, to_volume: str, sub_path: str | None,
             security: dict) -> None:
        """Copy the files of `from_volume` into `to_volume` (at `sub_path`) before the app."""
        if key in self._copied:
            return
        self._copied.add(key)
        self._copies.append((from_volume, to_volume, sub_path))
        if self._copy_security is None:
            self._copy_security = security

    def copy_containers(self, image: str) -> list[dict]:
        """The init container making the writable copies (none when nothing is copied)."""
        if not self._copies:
            return []
        args, mounts = [], []
        for i, (src, dst, sub_path) in enumerate(self._copies):
            args += [f"/c2k/from/{i}", f"/c2k/to/{i}"]
            mounts.append(mount_entry(src, f"/c2k/from/{i}", read_only=True))
            mounts.append(mount_entry(dst, f"/c2k/to/{i}", sub_path=sub_path))
        out = {"name": COPY_CONTAINER, "image": image,
               "command": ["sh", "-c", _COPY_SCRIPT, "copy", *args],
               "volumeMounts": mounts}
        if self._copy_security:
            out["securityContext"] = dict(self._copy_security)
        return [out]

"""`c2k convert --format kustomize`: a base with the objects `convert` writes, plus two overlays.

    DIR/base/kustomization.yaml        resources (one file per object, named as `-o DIR/`),
                                       and an `images:` entry per image (the place for new tags
                                       and digests); `kustomize build base` gives the objects
                                       exactly as `convert` writes them
    DIR/base/<name>-<kind>.yaml
    DIR/overlays/dev/kustomization.yaml   namespace <project>-dev (with its Namespace), one replica
    DIR/overlays/prod/kustomization.yaml  at least two replicas for each Deployment

The kustomization files are plain dicts written with `yamlio`; no library is involved.
"""

from __future__ import annotations

import os

from .. import kinds
from ..imagerefs import split_reference
from . import yamlio
from .formats import Target, Written
from .shared import HEADER, dns_name, file_name, write_tree

API_VERSION = "kustomize.config.k8s.io/v1beta1"
PROD_MIN_REPLICAS = 2


def _kustomization(**fields) -> dict:
    return {"apiVersion": API_VERSION, "kind": "Kustomization", **fields}


def _doc(comment: str, obj: dict) -> str:
    return f"{HEADER}: {comment}\n" + yamlio.dump(obj)


def image_entries(objects: list[dict]) -> list[dict]:
    """One `images:` entry per repository whose uses all carry the same tag (or digest alone),
    so that the entry changes nothing as written and is where a new tag or digest goes."""
    seen: dict[str, set] = {}
    for obj in objects:
        for c in kinds.containers(obj, init=True):
            image = c.get("image")
            if isinstance(image, str):
                repository, tag, digest = split_reference(image)
                seen.setdefault(repository, set()).add((tag or "", digest or ""))
    entries = []
    for repo, forms in sorted(seen.items()):
        if len(forms) != 1:
            continue
        tag, digest = next(iter(forms))
        if tag and not digest:
            entries.append({"name": repo, "newTag": tag})
        elif digest and not tag:
            entries.append({"name": repo, "digest": digest})
    return entries


def tree(objects: list[dict], *, project_name: str) -> dict[str, str]:
    """{relative path: text} of the whole kustomize tree."""
    files: dict[str, str] = {}
    resources = []
    for obj in objects:
        fname = file_name(obj)
        resources.append(fname)
        files[os.path.join("base", fname)] = _doc(f"{obj['kind']} {obj['metadata']['name']}",
                                                  obj)
    base = _kustomization(resources=resources)
    images = image_entries(objects)
    if images:
        base["images"] = images
    files[os.path.join("base", "kustomization.yaml")] = _doc(
        f"the {project_name} project as `c2k convert` writes it", base)

    scalable = [o for o in objects if _scalable(o)
                and isinstance((o.get("spec") or {}).get("replicas"), int)]
    namespaced = any("namespace" in o["metadata"] for o in objects)

    dev = _kustomization(resources=["../../base"])
    if not namespaced:
        ns = _dev_namespace(project_name)
        dev["resources"].append("namespace.yaml")
        dev["namespace"] = ns
        files[os.path.join("overlays", "dev", "namespace.yaml")] = _doc(
            "the dev namespace", {"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": ns}})
    dev_replicas = [{"name": o["metadata"]["name"], "count": 1} for o in scalable
                    if o["spec"]["replicas"] > 1]
    if dev_replicas:
        dev["replicas"] = dev_replicas
    files[os.path.join("overlays", "dev", "kustomization.yaml")] = _doc(
        "dev: its own namespace, one replica each", dev)

    prod = _kustomization(resources=["../../base"])
    prod_replicas = [{"name": o["metadata"]["name"],
                      "count": max(PROD_MIN_REPLICAS, o["spec"]["replicas"])}
                     for o in scalable if o["kind"] == "Deployment"]
    if prod_replicas:
        prod["replicas"] = prod_replicas
    files[os.path.join("overlays", "prod", "kustomization.yaml")] = _doc(
        f"prod: at least {PROD_MIN_REPLICAS} replicas per Deployment", prod)
    return files


def _scalable(obj: dict) -> bool:
    kind = kinds.get(obj["kind"])
    return kind is not None and kind.scalable


def _dev_namespace(project_name: str) -> str:
    return f"{dns_name(project_name)[:59].rstrip('-')}-dev"


def write_kustomize(objects: list[dict], *, project_name: str, output: str) -> list[str]:
    """Write the base and overlays under the folder `output`; return the paths written."""
    return write_tree(output, tree(objects, project_name=project_name),
                      what="--format kustomize")


def write(objects: list[dict], target: Target) -> Written:
    """The `kustomize` format (formats.py)."""
    paths = write_kustomize(objects, project_name=target.project_name,
                            output=target.output or "")
    return Written(note=f"wrote kustomize ({len(paths)} files) to {target.output}")


__all__ = ["tree", "write", "write_kustomize", "image_entries"]

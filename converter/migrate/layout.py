"""The Kustomize layout `c2k migrate` writes, as {relative path: text}:

    base/kustomization.yaml        the common compose files: their objects, one file each,
    base/<name>-<kind>.yaml        and generators for the Secrets and ConfigMaps made of files
    overlays/<env>/kustomization.yaml   only what the environment changes (delta.py): replicas,
    overlays/<env>/patches/...          JSON patches, added objects, deletions, generators
    overlays/<env>/<name>-<kind>.yaml   created or replaced
    .gitignore                     the files under secrets/ the user supplies (never written)
    MIGRATION.md                   notes.py

A value compose took from the project's dotenv file stays a reference to it where
references.py found one: a ConfigMap generated from the file, marked local-config (kustomize
never writes it out), and `replacements` that copy the value into the fields.

Generators name files by their path from the kustomization's folder; files outside the layout
need `kustomize build --load-restrictor LoadRestrictionsNone` (MIGRATION.md says so).
"""

from __future__ import annotations

import os

from ..emit import yamlio
from ..emit.shared import HEADER, file_name
from .delta import Delta, Part, guarded
from .generators import USER_SECRETS, Generator

API_VERSION = "kustomize.config.k8s.io/v1beta1"
NOTES = "MIGRATION.md"


def _doc(comment: str, obj) -> str:
    return f"{HEADER}: {comment}\n" + yamlio.dump(obj)


def _rel(path: str, folder: str) -> str:
    return os.path.relpath(path, folder).replace(os.sep, "/")


def generator_entry(gen: Generator, folder: str, root: str, behavior: str | None = None) -> dict:
    """One secretGenerator / configMapGenerator entry; `folder` is the kustomization's
    absolute folder, `root` the layout's (user files live under it)."""
    entry: dict = {"name": gen.name}
    if behavior and behavior != "create":
        entry["behavior"] = behavior
    files = [f"{key}={_rel(path, folder)}" for key, path in gen.files]
    files += [f"{key}={_rel(os.path.join(root, path), folder)}" for key, path in gen.user_files]
    if files:
        entry["files"] = files
    if gen.variables:
        # filled in by the replacements of _generators, from the dotenv file
        entry["literals"] = [f"{key}=" for key, _, _ in gen.variables]
    if gen.envs:
        entry["envs"] = [_rel(path, folder) for path in gen.envs]
    if gen.kind == "Secret":
        entry["type"] = "Opaque"
    options = {}
    if gen.labels:
        options["labels"] = dict(gen.labels)
    if gen.annotations:
        options["annotations"] = dict(gen.annotations)
    if options:
        entry["options"] = options
    return entry


LOCAL = {"config.kubernetes.io/local-config": "true"}     # kustomize drops it from its output


def _generators(kustomization: dict, pairs, folder: str, root: str, label: str,
                refs=()) -> None:
    """The generators, and the replacements that copy dotenv values into Secrets (from a
    local Secret: base64 to base64) and into the fields that reference them (references.py,
    from a local ConfigMap)."""
    pairs = list(pairs)
    dotenvs = sorted({path for g, _ in pairs for _, path, _ in g.variables})
    sources = {path: f"c2k-dotenv-{label}-{i}" for i, path in enumerate(dotenvs, 1)}
    var_files = sorted({ref.dotenv for ref in refs})
    var_sources = {path: f"c2k-vars-{label}-{i}" for i, path in enumerate(var_files, 1)}
    for kind, field in (("Secret", "secretGenerator"), ("ConfigMap", "configMapGenerator")):
        entries = [generator_entry(g, folder, root, b) for g, b in pairs if g.kind == kind]
        # the dotenv files as objects kustomize reads values from and never writes out
        local = sources if kind == "Secret" else var_sources
        entries += [{"name": name, "envs": [_rel(path, folder)],
                     "options": {"annotations": dict(LOCAL)}} for path, name in local.items()]
        if entries:
            kustomization[field] = entries
    replacements = [{"source": {"kind": "Secret", "name": sources[path],
                                "fieldPath": f"data.{var}"},
                     "targets": [{"select": {"kind": "Secret", "name": g.name},
                                  "fieldPaths": [f"data.{key}"]}]}
                    for g, _ in pairs for key, path, var in g.variables]
    replacements += _field_replacements(refs, var_sources)
    if replacements:
        kustomization["replacements"] = replacements


def _field_replacements(refs, sources: dict) -> list[dict]:
    """One replacement per variable, its targets grouped by object and delimiter."""
    by_source: dict = {}
    for ref in refs:
        targets = by_source.setdefault((ref.dotenv, ref.variable), {})
        targets.setdefault((ref.kind, ref.name, ref.delimiter, ref.index), []).append(
            ref.field_path)
    out = []
    for (path, var), targets in sorted(by_source.items(), key=lambda kv: kv[0][1]):
        entries = []
        for (kind, name, delimiter, index), field_paths in targets.items():
            target: dict = {"select": {"kind": kind, "name": name}, "fieldPaths": field_paths}
            if delimiter:
                target["options"] = {"delimiter": delimiter, "index": index}
            entries.append(target)
        out.append({"source": {"kind": "ConfigMap", "name": sources[path],
                               "fieldPath": f"data.{var}"}, "targets": entries})
    return out


def _target(kind: str, api_version: str, name: str) -> dict:
    group, _, version = api_version.rpartition("/")
    target = {"group": group} if group else {}
    target.update(version=version, kind=kind, name=name)
    return target


def base_files(part: Part, *, project_name: str, folder: str, root: str,
               refs=()) -> dict[str, str]:
    files, resources = {}, []
    for obj in part.objects.values():
        fname = file_name(obj)
        resources.append(fname)
        files[f"base/{fname}"] = _doc(f"{obj['kind']} {obj['metadata']['name']}", obj)
    kustomization = {"apiVersion": API_VERSION, "kind": "Kustomization",
                     "resources": resources}
    _generators(kustomization, [(g, None) for g in part.generators.values()], folder, root,
                "base", refs)
    files["base/kustomization.yaml"] = _doc(
        f"the {project_name} project's common compose files", kustomization)
    return files


def overlay_files(d: Delta, base: Part, *, files_shown: str, folder: str, root: str,
                  refs=()) -> dict[str, str]:
    prefix = f"overlays/{d.name}"
    files = {}
    kustomization: dict = {"apiVersion": API_VERSION, "kind": "Kustomization",
                           "resources": ["../../base"]}
    for obj in d.added:
        fname = file_name(obj)
        kustomization["resources"].append(fname)
        files[f"{prefix}/{fname}"] = _doc(f"{obj['kind']} {obj['metadata']['name']}, only in "
                                          f"{d.name}", obj)
    _generators(kustomization, d.generators, folder, root, d.name, refs)
    if d.replicas:
        kustomization["replicas"] = [{"name": n, "count": c} for n, c in sorted(d.replicas.items())]
    patches = []
    for (kind, name), ops in d.patches.items():
        obj = base.objects[(kind, name)]
        path = f"patches/{name}-{kind.lower()}.yaml"
        files[f"{prefix}/{path}"] = _doc(f"what {d.name} changes in {kind} {name}",
                                         guarded(obj, ops))
        patches.append({"path": path, "target": _target(kind, obj["apiVersion"], name)})
    for kind, name in d.removed:
        obj = base.objects.get((kind, name))
        api = obj["apiVersion"] if obj else "v1"
        patches.append({"patch": yamlio.dump({"$patch": "delete", "apiVersion": api,
                                              "kind": kind, "metadata": {"name": name}}),
                        "target": _target(kind, api, name)})
    if patches:
        kustomization["patches"] = patches
    files[f"{prefix}/kustomization.yaml"] = _doc(f"{d.name}: the base with {files_shown}",
                                                 kustomization)
    return files


def gitignore(generators) -> str | None:
    """The user-supplied secret files, kept out of git; None when there are none."""
    paths = sorted({path for g in generators for _, path in g.user_files})
    if not paths:
        return None
    return (f"{HEADER}: the secret files kustomize reads from {USER_SECRETS}/; put them there, "
            "never in git\n" + "".join(f"/{p}\n" for p in paths))

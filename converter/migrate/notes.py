"""MIGRATION.md: what a team reads before it commits the layout.

Per environment what it is made of and how to deploy it; per service what it became; the
files kustomize reads at build time (and which hold secrets); the variables the compose files
took from the environment; a diagram of the result (emit/graph.py); every approximation and
not-converted key of the conversion reports as a checklist; how to keep compose and the layout
in step. Names and keys only: no value of a variable, a Secret or a file appears here.
"""

from __future__ import annotations

import os
import re

from .. import kinds
from ..emit import graph as graphs
from .layout import NOTES

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
_FIX = {"approximated": "check that the difference is acceptable, or change the compose file "
                        "(or its x-kubernetes hints) and migrate again",
        "not-converted": "add it by hand in {by_hand}, or drop it",
        "warning": "read the warning; change the compose file if it names a fix"}


def _rel(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return out


def _all(m) -> list:
    return [m.base] + list(m.envs)


def _environments(m) -> list[str]:
    where = m.base.project.working_dir
    rows = [["base", ", ".join(_code(_rel(f, where)) for f in m.base.files), "`base/`",
             "the default project (below)" if m.base_note else "the common compose files"]]
    for env, d in zip(m.envs, m.deltas):
        counts = [(len(d.replicas), "replica count"), (len(d.patches), "patched object"),
                  (len(d.added), "added object"), (len(d.removed), "removed object"),
                  (len(d.generators), "generator")]
        summary = ", ".join(f"{n} {what}{'s' if n > 1 else ''}" for n, what in counts if n) \
            or "nothing: it builds the base"
        rows.append([env.name, ", ".join(_code(_rel(f, where)) for f in env.files),
                     f"`overlays/{env.name}/`", summary])
    return _table(["environment", "compose files", "folder", "differs from the base by"], rows)


def _deploy(m) -> list[str]:
    names = [e.name for e in m.envs] or ["base"]
    first = names[0]
    target = "base" if first == "base" else f"overlays/{first}"
    return [
        "Each environment is one `kustomize build`. The generators read the project's files "
        "where compose reads them, outside this folder, so kustomize needs "
        "`--load-restrictor LoadRestrictionsNone`:", "",
        "```sh",
        f"kubectl create namespace {_ns(m, first)}",
        f"kustomize build --load-restrictor LoadRestrictionsNone {target} \\",
        f"  | kubectl apply --server-side -n {_ns(m, first)} -f -",
        "```", "",
        "(`kubectl kustomize --load-restrictor LoadRestrictionsNone DIR` is the same build.) "
        "The objects carry no namespace: `-n` chooses one per environment "
        f"({', '.join(_code(_ns(m, n)) for n in names)}, for instance). "
        "Build from the folder this file is in.",
    ]


def _ns(m, env: str) -> str:
    from ..emit.shared import dns_name
    return f"{dns_name(m.base.project.name)[:50]}-{env}"


def _services(m) -> list[str]:
    rows = []
    result = m.base.result
    objects = result.objects
    for service, workload in sorted(result.workloads.items()):
        obj = next((o for o in objects if o["metadata"]["name"] == workload
                    and getattr(kinds.of(o), "workload", False)), None)
        if obj is None:
            continue
        labels = ((kinds.pod_template(obj) or {}).get("metadata") or {}).get("labels") or {}
        fronts = [o["metadata"]["name"] for o in objects if o["kind"] == "Service"
                  and (o.get("spec") or {}).get("selector")
                  and all(labels.get(k) == v for k, v in o["spec"]["selector"].items())]
        spec = kinds.pod_spec(obj) or {}
        mounted = []
        for v in spec.get("volumes") or ():
            for key, field in (("persistentVolumeClaim", "claimName"), ("configMap", "name"),
                               ("secret", "secretName")):
                if key in v:
                    mounted.append(f"{key} {v[key][field]}")
        mounted += [f"claim template {t['metadata']['name']}"
                    for t in (obj.get("spec") or {}).get("volumeClaimTemplates") or ()]
        rows.append([service, f"{obj['kind']} {workload}", ", ".join(fronts) or "—",
                     ", ".join(mounted) or "—"])
    out = _table(["compose service", "workload", "Services", "mounts"], rows)
    for env, d in zip(m.envs, m.deltas):
        out += ["", f"In **{env.name}**:" if not d.empty else
                f"In **{env.name}**: the same as the base."]
        for name, count in sorted(d.replicas.items()):
            out.append(f"- {name}: {count} replica{'s' if count != 1 else ''}")
        for (kind, name), ops in d.patches.items():
            paths = sorted({op["path"] for op in ops})
            shown = ", ".join(_code(p) for p in paths[:6]) + (" ..." if len(paths) > 6 else "")
            out.append(f"- {kind} {name}: patched at {shown}")
        for obj in d.added:
            out.append(f"- added: {obj['kind']} {obj['metadata']['name']}")
        for kind, name in d.removed:
            out.append(f"- removed: {kind} {name}")
        for gen, behavior in d.generators:
            what = "made from other files" if behavior == "replace" else "added"
            out.append(f"- {gen.kind} {gen.name}: {what}")
    return out


def _files(m) -> list[str]:
    where = m.base.project.working_dir
    rows: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    secret_files: set[str] = set()
    user: set[str] = set()
    for name, part in m.parts.items():
        for gen in part.generators.values():
            reads = [_code(_rel(p, where)) for _, p in gen.files] + \
                [_code(_rel(p, where)) + " (as env lines)" for p in gen.envs] + \
                [_code(p) + " (you supply it)" for _, p in gen.user_files]
            row = rows.setdefault((gen.kind, gen.name, tuple(reads)), [])
            row.append(name)
            if gen.kind == "Secret":
                secret_files.update(p for _, p in gen.files)
                secret_files.update(gen.envs)
                user.update(p for _, p in gen.user_files)
    if not rows:
        return ["None: the project has no Secrets or ConfigMaps made from files."]
    out = ["Secrets and ConfigMaps are `secretGenerator` / `configMapGenerator` entries that "
           "read these files at build time; no value of theirs is in this folder. Kustomize "
           "appends a hash of the content to each generated name and updates the references, "
           "so **a changed file rolls the pods that mount it** on the next apply (the old "
           "object stays until it is pruned).", ""]
    out += _table(["object", "reads", "environments"],
                  [[f"{k} {n}", ", ".join(r) or "—", ", ".join(envs)]
                   for (k, n, r), envs in sorted(rows.items())])
    if secret_files:
        out += ["", "These files hold secrets: keep them out of git (lines for the project's "
                    "`.gitignore`, from its folder):", "", "```"]
        out += sorted("/" + _rel(p, where) for p in secret_files)
        out += ["```"]
    if user:
        out += ["", "Create these files before building (the `.gitignore` here keeps them out "
                    "of git): " + ", ".join(_code(p) for p in sorted(user)) + "."]
    return out


def _variables(m) -> list[str]:
    where = m.base.project.working_dir
    names: dict[str, set] = {}
    for conv in _all(m):
        for path in conv.files:
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read().replace("$$", "")
            except OSError:
                continue
            for match in _VARIABLE.finditer(text):
                names.setdefault(match.group(1) or match.group(2), set()).add(conv.name)
    kept: dict[str, dict] = {}          # variable -> {field shown: [environment]}
    files: dict[str, set] = {}
    written: dict[str, dict] = {}       # variable -> {reason: [environment]}
    for conv in _all(m):
        found = m.variables.get(conv.name)
        for ref in found.references if found else ():
            part = (f" (item {ref.index} of its split at {_code(ref.delimiter)})"
                    if ref.delimiter else "")
            shown = f"{ref.kind} {ref.name} {_code(ref.field_path)}{part}"
            kept.setdefault(ref.variable, {}).setdefault(shown, []).append(conv.name)
            files.setdefault(ref.variable, set()).add(_code(_rel(ref.dotenv, where)))
        for var, reason in (found.written.items() if found else ()):
            written.setdefault(var, {}).setdefault(reason, []).append(conv.name)
    if not names and not kept and not written:
        return ["The compose files take no value from the environment."]
    everywhere = len(_all(m))

    def scope(envs):
        return "" if len(envs) == everywhere else f" ({', '.join(envs)})"
    out = []
    if kept:
        out += ["These stay references to the dotenv file compose read them from: a "
                "`configMapGenerator` reads the file at build time into a ConfigMap marked "
                "`config.kubernetes.io/local-config`, which kustomize drops from its output "
                "(it never reaches the cluster), and `replacements` copy each value into the "
                "fields below, which the layout's files show as `${VAR}` (a number keeps its "
                "value there: kustomize keeps the field a number). **Edit the file and build "
                "again: no need to run `c2k migrate`.** A new value must keep its form: a part "
                "between delimiters must not contain the delimiter, a number stays a number; "
                "and a `${VAR:-default}`'s default is compose's alone (keep the variable "
                "set). The file must be there when kustomize builds; it may hold secrets, so "
                "keep it out of git as compose projects do.", ""]
        out += _table(["variable", "read from", "fields"],
                      [[_code(var), ", ".join(sorted(files[var])),
                        "; ".join(f"{shown}{scope(envs)}" for shown, envs in fields.items())]
                       for var, fields in sorted(kept.items())])
    environ = m.base.project.environment
    lines = []
    for var in sorted(set(names) | set(written)):
        if var in kept and var not in written:
            continue
        reasons = written.get(var)
        if reasons:
            why = "; ".join(f"{reason}{scope(envs)}" for reason, envs in reasons.items())
        elif var not in environ:
            why = "not set: its default (or nothing) is written in"
        elif any(var in _dotenv_names(conv) for conv in _all(m)):
            why = ("no field of the converted objects holds it (it feeds a Secret, read at "
                   "build time, or a key that is not converted)")
        else:
            why = "it comes from the shell's environment, and kustomize reads files only"
        lines.append(f"- {_code(var)}: {why}")
    if lines:
        out += [""] * bool(out) + [
            "These were written into the layout when it was written; after a change, run "
            "`c2k migrate` again (`--check` tells when it is needed):", "", *lines]
    return out


def _dotenv_names(conv) -> set[str]:
    from .references import dotenv_variables
    return set(dotenv_variables(conv.dotenvs))


def checklist(m, by_hand: str = "a patch of the overlay that needs it") -> list[str]:
    """Every approximated or not-converted key of the base and the environments, with its fix
    (`by_hand`: where a key not converted is added by hand)."""
    seen: dict = {}
    for conv in _all(m):
        for entry in conv.result.report.warnings:
            seen.setdefault(entry, []).append(conv.name)
    if not seen:
        return ["Nothing: every compose key was converted with its meaning."]
    everywhere = len(_all(m))
    out = []
    for entry, where in seen.items():
        scope = f"{entry.scope} {entry.name}" if entry.name else entry.scope
        envs = "" if len(where) == everywhere else f" ({', '.join(where)})"
        detail = f": {entry.detail}" if entry.detail else ""
        out.append(f"- [ ] {scope}, {_code(entry.key)}{envs}: **{entry.status}**{detail}. "
                   f"Fix: {_FIX.get(entry.status, _FIX['warning']).format(by_hand=by_hand)}.")
    return out


def _diagrams(m) -> list[str]:
    out = ["Compose services → workloads, their Services and ports, claims, and who reaches "
           "whom on which port (dashed; ✗: no Service forwards it). ⚠ n: n approximated or "
           "not-converted keys (see the checklist). `c2k graph` draws it for any project.", "",
           "```mermaid", graphs.mermaid(graphs.graph(m.base.project, m.base.result)).rstrip(),
           "```"]
    for env, d in zip(m.envs, m.deltas):
        if d.empty:
            continue
        out += ["", f"<details><summary>{env.name}</summary>", "", "```mermaid",
                graphs.mermaid(graphs.graph(env.project, env.result)).rstrip(), "```", "",
                "</details>"]
    return out


def migration_notes(m) -> str:
    name = m.base.project.name
    lines = [f"# Migrating {name} to Kubernetes", "",
             f"Written by `c2k migrate` ({_code(m.command)}); generated files start with "
             "`# Generated by c2k`. Do not edit them: put your own changes in an overlay of "
             "yours (a folder with `resources: [../overlays/prod]` and your patches), which "
             "c2k leaves alone.", "",
             "## Environments", "", *_environments(m), "",
             *([m.base_note, ""] if m.base_note else []),
             "## Deploying", "", *_deploy(m), "",
             "## What became what", "", *_services(m), "",
             "## Diagram", "", *_diagrams(m), "",
             "## Files read at build time", "", *_files(m), "",
             "## Values from the environment", "", *_variables(m), "",
             "## Checklist", "",
             "What the conversion approximated or left out, with the fix to make by hand:", "",
             *checklist(m), "",
             "## Keeping compose and the layout in step", "",
             "The compose files stay the source. After changing them (or `.env`), run "
             f"{_code(m.command)} again and review the difference in git. In CI, "
             f"{_code(m.command + ' --check')} exits 1 and prints the difference when the "
             f"layout is no longer what the compose files give ({NOTES} included).", ""]
    return "\n".join(lines)

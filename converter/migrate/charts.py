"""`c2k migrate --format helm`: the base's chart, and a values-<env>.yaml per environment.

values-<env>.yaml is what Helm merges over values.yaml to give the values of the
environment's own chart (delta.values_override); it also sets `environment`. What values cannot
carry (an object only some environments have, or one whose fixed text differs, such as a
config file's content or a tmpfs size) the chart carries too: that template holds each
environment's variant, chosen by `environment`, so `helm template -f values-<env>.yaml`
renders what the environment's own chart renders. Each such variant is a warning and is listed
in the chart's README.md, to move into values by hand or keep.
"""

from __future__ import annotations

import difflib
import json
import os
from typing import Any

from ..emit import yamlio
from ..emit.helm import Chart
from ..emit.shared import HEADER
from ..records import field, record
from .delta import values_override
from .notes import checklist

ENV_KEY = "environment"
_NOT_TEMPLATES = ("templates/_helpers.tpl",)    # the same for every chart of one project


@record
class HelmMigration:
    root: str                       # the chart's folder (absolute)
    base: Any                       # environments.Converted
    envs: list                      # [Converted]
    command: str                    # the `c2k migrate` line that writes this chart again
    warnings: list = field(default_factory=list)   # what the values do not carry
    files: dict = field(default_factory=dict)      # relative path -> text


def plan_helm(found, command: str) -> HelmMigration:
    """`found`: plan.Environments converted with the helm format's options."""
    base = Chart(found.base.result, found.base.project)
    charts = {conv.name: Chart(conv.result, conv.project) for conv in found.converted}
    out = HelmMigration(found.root, found.base, found.converted, command)
    files = base.files()
    base_files = dict(files)
    variants: dict[str, dict[str, str]] = {}      # template -> {env: text ("" when absent)}
    env_files = {name: chart.files() for name, chart in charts.items()}
    for name, written in env_files.items():
        for path in sorted(set(base_files) | set(written)):
            path_key = path.replace(os.sep, "/")
            if not path_key.startswith("templates/") or path_key in _NOT_TEMPLATES:
                continue
            before, after = base_files.get(path, ""), written.get(path, "")
            if before != after:
                variants.setdefault(path, {})[name] = after
                out.warnings.append(_warning(name, path_key, before, after))
    for path, texts in variants.items():
        files[path] = _variants(base_files.get(path, ""), texts)
    names = [conv.name for conv in found.converted]
    files["values.yaml"] = base.values_yaml() + (
        f"\n# the environment whose variants the templates render: values-<env>.yaml sets it "
        f"(README.md)\n{ENV_KEY}: \"\"\n")
    files["values.schema.json"] = json.dumps(
        _schema(base_files["values.schema.json"], [w["values.schema.json"]
                                                   for w in env_files.values()], names),
        indent=2) + "\n"
    files["README.md"] = base_files["README.md"] + _readme(out, found.common)
    base_values = base.all_values()
    for name, chart in charts.items():
        override = {ENV_KEY: name, **values_override(base_values, chart.all_values())}
        files[f"values-{name}.yaml"] = (
            f"{HEADER}: what the {name} environment changes in values.yaml "
            f"(helm ... -f values-{name}.yaml)\n" + yamlio.dump(override))
    out.files.update((path.replace(os.sep, "/"), text) for path, text in files.items())
    return out


def _variants(base_text: str, texts: dict[str, str]) -> str:
    """One template holding each environment's text, and the base's for the others."""
    out = []
    for i, (name, text) in enumerate(sorted(texts.items())):
        word = "if" if i == 0 else "else if"
        out.append(f"{{{{- {word} eq (toString $.Values.{ENV_KEY}) {json.dumps(name)} }}}}\n"
                   + text)
    out.append("{{- else }}\n" + base_text + "{{- end }}\n")
    return f"{HEADER}: a template whose text differs by environment (README.md)\n" + "".join(out)


def _warning(name: str, path: str, before: str, after: str) -> str:
    what = os.path.splitext(os.path.basename(path))[0]
    if not before:
        return f"{name}: {path} ({what}) is only in {name}: the chart renders it when " \
               f"{ENV_KEY} is {name}"
    if not after:
        return f"{name}: {path} ({what}) is not in {name}: the chart leaves it out when " \
               f"{ENV_KEY} is {name}"
    changed = [line[1:].strip() for line in difflib.unified_diff(
        before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line.startswith("+") and not line.startswith("+++")]
    shown = ", ".join(f"`{line}`" for line in changed[:3]) + (" ..." if len(changed) > 3
                                                                else "")
    return f"{name}: {path} ({what}) differs beyond the values (" \
           f"{'now ' + shown if shown else 'lines removed'}): the chart holds both texts, " \
           f"chosen by {ENV_KEY}"


def _schema(base_text: str, env_texts: list[str], names: list[str]) -> dict:
    """The base's schema admitting every environment's values too, and `environment`."""
    schema = json.loads(base_text)
    for text in env_texts:
        schema = _union(schema, json.loads(text))
    schema["properties"][ENV_KEY] = {"type": "string", "enum": ["", *names]}
    return schema


def _union(a, b):
    """A JSON schema (c2k's closed objects) admitting what `a` or `b` admits."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return a
    out = dict(a)
    for key, value in b.items():
        if key not in a:
            out[key] = value
        elif key == "required":
            out[key] = [r for r in a[key] if r in value]
        elif key == "properties":
            out[key] = {k: _union(a[key][k], v) if k in a[key] else v
                        for k, v in {**a[key], **value}.items()}
        else:
            out[key] = _union(a[key], value)
    return out


def _readme(m: HelmMigration, common: tuple) -> str:
    """The chart's README sections on its environments and what the conversions approximated."""
    out = ["", "## Environments", "",
           "Written by `c2k migrate --format helm`: values.yaml is the common compose files, "
           "each `values-<env>.yaml` what that environment's files change:", ""]
    shown = ", ".join(os.path.basename(f) for f in m.base.files)
    out.append(f"- base: {shown} (`helm install RELEASE .`)")
    for conv in m.envs:
        files = ", ".join(os.path.basename(f) for f in conv.files[len(common):])
        out.append(f"- {conv.name}: {files} (`helm install RELEASE . -f values-{conv.name}.yaml`)")
    if m.warnings:
        out += ["", f"What the values do not carry: these templates hold a variant per "
                f"environment, chosen by `{ENV_KEY}` (values-<env>.yaml sets it). Move each "
                "difference into values by hand, or keep it:", ""]
        out += [f"- [ ] {w}" for w in m.warnings]
    out += ["", "## Checklist", "", "What each conversion approximated or did not convert:",
            "", *checklist(m, by_hand="the chart's templates")]
    return "\n".join(out) + "\n"

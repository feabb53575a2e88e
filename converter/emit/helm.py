"""`c2k convert --format helm`: a Helm chart made from the same objects `convert` writes.

Each object becomes one template. The settings people change per service (image repository,
tag and digest, replicas, resources, env, Service type and ports, Ingress hosts, persistence
size and storage class) move to `values.yaml`; in the object they are replaced by placeholder
tokens, the object is written with `yamlio` like any manifest, and each token is then swapped
for a template expression: a scalar (`{{ .Values.web.replicaCount }}`), an optional scalar
or an optional block (`{{- with .Values.web.resources }}` ... `toYaml . | nindent N`). Any
`{{` already in the text (a command, a config file) is escaped. So with the default values
`helm template` renders exactly the objects `convert` writes: the same names and labels, no
labels added.

Layout: Chart.yaml, values.yaml, values.schema.json, templates/_helpers.tpl,
templates/NOTES.txt and templates/<name>-<kind>.yaml per object. Values are keyed by the
object name in camelCase (`my-web` -> `myWeb`); extra containers of a pod sit under
`containers.<name>`; standalone PersistentVolumeClaims under the top-level `persistence`.
"""

from __future__ import annotations

import collections
import copy
import json
import os
import re
from collections.abc import Iterable

from .. import kinds
from ..imagerefs import split_reference
from . import yamlio
from .formats import Target, Written
from .shared import HEADER, file_name, write_tree
from .shared import dns_name as chart_name  # a valid chart name, from the project's

CHART_VERSION = "0.1.0"
SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
RESERVED = ("global", "persistence")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---- names ------------------------------------------------------------------------------------

def camel(name: str) -> str:
    """`my-web` -> `myWeb`: the values key of an object."""
    head, *rest = re.split(r"[-_.]+", name)
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def values_expr(path: Iterable[str]) -> str:
    """The template expression that reads a values path."""
    path = list(path)
    if all(_IDENT.match(p) for p in path):
        return ".Values." + ".".join(path)
    return "(index .Values " + " ".join(json.dumps(p) for p in path) + ")"


def split_image(ref: str) -> dict:
    """`host:5000/a/b:tag@sha256:x` -> {repository, tag, digest} (empty strings when absent)."""
    name, tag, digest = split_reference(ref)
    return {"repository": name, "tag": tag or "", "digest": digest or ""}


# ---- tokens -----------------------------------------------------------------------------------

class _Tokens:
    """Placeholders put into the objects, and what each becomes in the template."""

    SCALAR, STRING, OPT_SCALAR, BLOCK, OPT_BLOCK = "scalar", "string", "opt", "block", "optblock"

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.prefix = "__c2k_tok_"

    def add(self, kind: str, expr: str) -> str:
        self.items.append((kind, expr))
        return f"{self.prefix}{len(self.items) - 1:05d}__"

    def substitute(self, text: str) -> str:
        token = re.compile(re.escape(self.prefix) + r"(\d{5})__")
        key_line = re.compile(r"^(?P<indent> *)(?P<dash>- )?(?P<key>[^\s\-][^:]*): "
                              + token.pattern + "$")
        out = []
        for line in text.split("\n"):
            match = token.search(line)
            if not match:
                out.append(line)
                continue
            kind, expr = self.items[int(match.group(1))]
            if kind == self.SCALAR:
                out.append(line.replace(match.group(0), "{{ %s }}" % expr))
                continue
            if kind == self.STRING:
                out.append(line.replace(match.group(0), "{{ %s | quote }}" % expr))
                continue
            found = key_line.match(line)
            # the emitter puts these tokens only as mapping values, optional ones never as the
            # first key of a list item
            if not found or (found.group("dash") and kind != self.BLOCK):
                raise AssertionError(f"token in an unexpected place: {line!r}")
            indent, key = found.group("indent"), found.group("key")
            if found.group("dash"):
                out += [f"{indent}- {key}:",
                        f"{indent}    {{{{- toYaml {expr} | nindent {len(indent) + 4} }}}}"]
            elif kind == self.OPT_SCALAR:
                out += ["{{- with %s }}" % expr, f"{indent}{key}: {{{{ . | quote }}}}",
                        "{{- end }}"]
            elif kind == self.BLOCK:
                out += [f"{indent}{key}:",
                        f"{indent}  {{{{- toYaml {expr} | nindent {len(indent) + 2} }}}}"]
            else:
                out += ["{{- with %s }}" % expr, f"{indent}{key}:",
                        f"{indent}  {{{{- toYaml . | nindent {len(indent) + 2} }}}}",
                        "{{- end }}"]
        return "\n".join(out)


def escape_braces(text: str) -> str:
    """Literal `{{` in rendered YAML, written so that Go templates print it as it is."""
    return text.replace("{{", '{{ "{{" }}')


# ---- the chart --------------------------------------------------------------------------------

class Chart:
    """Builds the values and the templates from the converted objects."""

    def __init__(self, objects: list[dict], project_name: str, *, app_version: str | None = None):
        self.objects = objects
        self.name = chart_name(project_name)
        self.project_name = project_name
        self.app_version = app_version or _app_version(objects)
        self.values: dict = {}
        self.tokens = _Tokens()
        self.keys: dict[str, str] = {}       # object name -> values key
        self.templates: dict[str, str] = {}  # file name -> text
        self._assign_keys()
        plain = yamlio.dump_all(objects)
        while self.tokens.prefix in plain:  # a string in the input that looks like a token
            self.tokens.prefix += "x"
        for obj in objects:
            body = self._tokenize(copy.deepcopy(obj))
            text = self.tokens.substitute(escape_braces(yamlio.dump(body)))
            self.templates[file_name(obj)] = (
                f"{HEADER} from {obj['kind']} {obj['metadata']['name']}\n{text}")
        for key, section in self.values.items():
            if key != "persistence":
                self.values[key] = {k: section[k] for k in sorted(section, key=_value_rank)}

    # values keys: one per object name that has settings, camelCase, unique
    def _assign_keys(self) -> None:
        taken = set(RESERVED)
        for obj in self.objects:
            name = obj["metadata"]["name"]
            if name in self.keys or obj["kind"] in ("Namespace", "Secret", "ConfigMap",
                                                    "PersistentVolumeClaim", "NetworkPolicy"):
                continue
            key = _free_key(dict.fromkeys(taken), name)
            taken.add(key)
            self.keys[name] = key

    def _section(self, name: str) -> tuple[list[str], dict]:
        key = self.keys[name]
        return [key], self.values.setdefault(key, {})

    def _tokenize(self, obj: dict) -> dict:
        kind = obj["kind"]
        name = obj["metadata"]["name"]
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return obj
        pod = kinds.pod_spec(obj)
        if pod is not None:
            path, section = self._section(name)
            if isinstance(spec.get("replicas"), int) and kinds.BY_NAME[kind].scalable:
                section["replicaCount"] = spec["replicas"]
                spec["replicas"] = self.tokens.add(_Tokens.SCALAR,
                                                   values_expr(path + ["replicaCount"]))
            for i, c in enumerate(pod.get("containers") or []):
                if i == 0:
                    self._container(c, path, section)
                else:
                    others = section.setdefault("containers", {})
                    ckey = _free_key(others, c["name"])
                    sub = others.setdefault(ckey, {})
                    self._container(c, path + ["containers", ckey], sub)
            for claim in spec.get("volumeClaimTemplates") or []:
                self._claim(claim.get("spec", {}), claim["metadata"]["name"], path, section)
        elif kind == "Service" and spec.get("clusterIP") != "None":
            path, section = self._section(name)
            svc = section.setdefault("service", {})
            svc["type"] = spec.get("type", "")
            svc["ports"] = spec.get("ports", [])
            rebuilt = {"type": self.tokens.add(_Tokens.OPT_SCALAR,
                                               values_expr(path + ["service", "type"]))}
            for key, value in spec.items():
                if key == "ports":
                    value = self.tokens.add(_Tokens.BLOCK, values_expr(path + ["service",
                                                                                "ports"]))
                if key != "type":
                    rebuilt[key] = value
            obj["spec"] = rebuilt
        elif kind == "Ingress":
            rules = spec.get("rules") or []
            hosts = [r["host"] for r in rules if r.get("host")]
            if hosts:
                path, section = self._section(name)
                section["ingress"] = {"hosts": hosts}
                hosts_path = path + ["ingress", "hosts"]
                i = 0
                for rule in rules:
                    if rule.get("host"):
                        rule["host"] = self.tokens.add(
                            _Tokens.STRING, f"index {values_expr(hosts_path)} {i}")
                        i += 1
                for tls in spec.get("tls") or []:
                    if tls.get("hosts") == hosts:
                        tls["hosts"] = self.tokens.add(_Tokens.BLOCK, values_expr(hosts_path))
        elif kind == "PersistentVolumeClaim":
            section = self.values.setdefault("persistence", {})
            self._claim(spec, name, ["persistence"], section, standalone=True)
        return obj

    def _container(self, c: dict, path: list[str], section: dict) -> None:
        """image -> repository/tag/digest; env and resources -> optional blocks (always present
        in values, so they can be set), placed after image/command/args as convert puts them."""
        keys = list(c)
        anchor = max(i for i, k in enumerate(keys)
                     if k in ("name", "image", "command", "args", "workingDir"))
        rebuilt: dict = {}
        for i, key in enumerate(keys):
            value = c[key]
            if key == "image" and isinstance(value, str):
                section["image"] = split_image(value)
                value = self.tokens.add(
                    _Tokens.STRING, f'include "{self.name}.image" {values_expr(path + ["image"])}')
            if key not in ("env", "resources"):
                rebuilt[key] = value
            if i == anchor:
                for extra, default in (("env", []), ("resources", {})):
                    section[extra] = c.get(extra, default)
                    rebuilt[extra] = self.tokens.add(_Tokens.OPT_BLOCK,
                                                     values_expr(path + [extra]))
        c.clear()
        c.update(rebuilt)

    def _claim(self, spec: dict, claim: str, path: list[str], section: dict, *,
               standalone: bool = False) -> None:
        requests = spec.get("resources", {}).get("requests", {})
        if "storage" not in requests:
            return
        parent = section if standalone else section.setdefault("persistence", {})
        ckey = _free_key(parent, claim)
        parent[ckey] = {"size": requests["storage"], "storageClass": spec.get("storageClassName",
                                                                               "")}
        cpath = path + ([ckey] if standalone else ["persistence", ckey])
        requests["storage"] = self.tokens.add(_Tokens.STRING, values_expr(cpath + ["size"]))
        spec.pop("storageClassName", None)
        spec["storageClassName"] = self.tokens.add(_Tokens.OPT_SCALAR,
                                                   values_expr(cpath + ["storageClass"]))

    # ---- the other files ----------------------------------------------------------------------

    def chart_yaml(self) -> str:
        meta = {"apiVersion": "v2", "name": self.name,
                "description": f"The {self.project_name} compose project, converted by c2k",
                "type": "application", "version": CHART_VERSION, "appVersion": self.app_version,
                "annotations": {"c2k.io/project": self.project_name}}
        return f"{HEADER}\n" + yamlio.dump(meta)

    def values_yaml(self) -> str:
        parts = [f"{HEADER}. Per service: image (repository, tag, digest), replicaCount, "
                 "resources,\n# env (a list, in order), service (type: empty means ClusterIP; "
                 "ports), ingress (hosts),\n# persistence (size; storageClass: empty means the "
                 "cluster's default class).\n"]
        for key, section in self.values.items():
            parts.append(f"\n# {'PersistentVolumeClaims' if key == 'persistence' else key}\n")
            parts.append(yamlio.dump({key: section}))
        return "".join(parts)

    def schema(self) -> dict:
        return {"$schema": "https://json-schema.org/draft-07/schema#",
                "title": f"Values of the {self.name} chart", "type": "object",
                "properties": {k: _schema_of(v, k) for k, v in self.values.items()}}

    def helpers(self) -> str:
        n = self.name
        return f"""{{{{/* {HEADER[2:]}. */}}}}

{{{{/* The chart name. */}}}}
{{{{- define "{n}.name" -}}}}
{{{{- .Chart.Name | trunc 63 | trimSuffix "-" }}}}
{{{{- end }}}}

{{{{/* Chart name and version, as used by the helm.sh/chart label. */}}}}
{{{{- define "{n}.chart" -}}}}
{{{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}}}
{{{{- end }}}}

{{{{/*
An image reference from {{repository, tag, digest}}: repository[:tag][@digest].
*/}}}}
{{{{- define "{n}.image" -}}}}
{{{{- .repository }}}}{{{{ with .tag }}}}:{{{{ . }}}}{{{{ end }}}}{{{{ with .digest }}}}@{{{{ . }}}}{{{{ end }}}}
{{{{- end }}}}
"""

    def notes(self) -> str:
        # objects converted with -n carry their namespace; otherwise helm's -n decides
        fixed = {o["metadata"]["namespace"] for o in self.objects if "namespace" in o["metadata"]}
        ns = fixed.pop() if len(fixed) == 1 else "{{ .Release.Namespace }}"
        lines = [f"{self.project_name} is installed as release {{{{ .Release.Name }}}} in "
                 f"namespace {ns}.", ""]
        services = [o for o in self.objects if o["kind"] == "Service"
                    and o.get("spec", {}).get("clusterIP") != "None"]
        if services:
            lines.append("Reach a service from this machine:")
            for svc in services:
                name = svc["metadata"]["name"]
                ports = svc["spec"].get("ports") or []
                if ports:
                    lines.append(f"  kubectl port-forward -n {ns} service/{name} "
                                 f"{_forward(ports)}")
        for ing in (o for o in self.objects if o["kind"] == "Ingress"):
            key = self.keys.get(ing["metadata"]["name"])
            if key and "ingress" in self.values.get(key, {}):
                expr = values_expr([key, "ingress", "hosts"])
                lines.append(f"Ingress {ing['metadata']['name']}: "
                             f"{{{{ join \", \" {expr} }}}}")
        lines.append("")
        lines.append(f"Status: kubectl get all -n {ns} "
                     f"-l app.kubernetes.io/part-of={self.project_name}")
        return "\n".join(lines) + "\n"

    def files(self) -> dict[str, str]:
        out = {"Chart.yaml": self.chart_yaml(), "values.yaml": self.values_yaml(),
               "values.schema.json": json.dumps(self.schema(), indent=2, sort_keys=False) + "\n",
               ".helmignore": f"{HEADER}\n.git/\n*.swp\n*.bak\n*~\n",
               os.path.join("templates", "_helpers.tpl"): self.helpers(),
               os.path.join("templates", "NOTES.txt"): self.notes()}
        for fname, text in self.templates.items():
            out[os.path.join("templates", fname)] = text
        return out


def _free_key(taken: dict, name: str) -> str:
    """camelCase of `name`; when another name already took that key, `name` itself, else
    `name` with a number."""
    for key in (camel(name), name):
        if key not in taken:
            return key
    n = 2
    while f"{name}{n}" in taken:
        n += 1
    return f"{name}{n}"


_VALUE_ORDER = ("image", "replicaCount", "env", "resources", "containers", "service", "ingress",
                "persistence")


def _value_rank(key: str) -> int:
    return _VALUE_ORDER.index(key) if key in _VALUE_ORDER else len(_VALUE_ORDER)


def _app_version(objects: list[dict]) -> str:
    """The tag most of the workloads' images carry (the project's own images usually share
    one), else the chart version."""
    tags: collections.Counter[str] = collections.Counter()
    for obj in objects:
        for c in kinds.containers(obj):
            tag = split_image(c.get("image", "")).get("tag")
            if tag:
                tags[tag] += 1
    ranked = tags.most_common(2)
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    return CHART_VERSION


def _forward(ports: list[dict]) -> str:
    """LOCAL:PORT for the first Service port; LOCAL is its published port (the Service port
    that forwards to the same target) where there is one, as the host reached it in compose."""
    first = ports[0]
    local = next((p["port"] for p in ports[1:] if p["targetPort"] == first["targetPort"]
                  and p.get("protocol", "TCP") == first.get("protocol", "TCP")), first["port"])
    return f"{local}:{first['port']}"


def _schema_of(value: object, key: str) -> dict:
    if key == "replicaCount":
        return {"type": "integer", "minimum": 0}
    if key in ("tag", "digest"):
        return {"type": ["string", "integer", "number"]} if key == "tag" else \
            {"type": "string", "pattern": "^(|[a-z0-9]+:[0-9a-fA-F]{32,})$"}
    if key == "type":
        return {"type": "string", "enum": [""] + SERVICE_TYPES}
    if key == "env":
        return {"type": "array", "items": {"type": "object", "required": ["name"]}}
    if key in ("resources",):
        return {"type": "object"}
    if key == "ports":
        return {"type": "array", "items": {"type": "object", "required": ["port"]}}
    if key == "hosts":
        return {"type": "array", "items": {"type": "string"}}
    if key in ("size",):
        return {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?([EPTGMK]i?|[mkMGTPE])?$"}
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: _schema_of(v, k) for k, v in value.items()}}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, list):
        return {"type": "array"}
    return {"type": "string"}


# ---- writing ----------------------------------------------------------------------------------

def write_chart(objects: list[dict], *, project_name: str, output: str,
                app_version: str | None = None) -> list[str]:
    """Write the chart into the folder `output`; return the paths written (shared.write_tree:
    files an earlier run wrote and this one does not are removed)."""
    chart = Chart(objects, project_name, app_version=app_version)
    return write_tree(output, chart.files(), what="--format helm")


def write(objects: list[dict], target: Target) -> Written:
    """The `helm` format (formats.py)."""
    paths = write_chart(objects, project_name=target.project_name, output=target.output or "")
    return Written(note=f"wrote helm ({len(paths)} files) to {target.output}")


__all__ = ["Chart", "camel", "chart_name", "split_image", "values_expr", "write", "write_chart"]

"""The chart: one template per converted object, values, schema, helpers, NOTES and README.

Each object `c2k convert` writes becomes `templates/<name>-<kind>.yaml`: the object, dumped by
`yamlio` like any manifest, where the release decides (names, labels, namespace: naming.py; the
Service names in free text: hosts.py; hooks: hooks.py) or the values do (pods.py; Services,
Ingresses, claims, autoscalers and Secrets here) a placeholder stood and became template text.
With `keepComposeNames`, the release named as the project and the secrets given, `helm template`
renders what `convert` writes, apart from the Helm labels and the hooks.
"""

from __future__ import annotations

import collections
import copy
import json
import os
from typing import TYPE_CHECKING

from ...kube import names
from .. import yamlio
from ..shared import HEADER, file_name
from ..shared import dns_name as chart_name  # a valid chart name, from the project's
from .helpers import helpers
from .hooks import HookPlan
from .hosts import HostRewriter, unrewritten
from .naming import Naming
from .notes import VALUES_HEADER, notes, readme
from .objects import WORKLOADS, pod_of
from .pods import PodChart, split_image
from .schema import schema
from .secrets import SecretTemplates
from .tokens import Tokens, escape_braces
from .values import free_key, values_expr

if TYPE_CHECKING:
    from ...kube.report import ConversionResult
    from ...model import Project

CHART_VERSION = "0.1.0"
SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
# `environment`: no service's key, for `c2k migrate --format helm` (migrate/charts.py) sets it
TOP_LEVEL = ("global", "nameOverride", "fullnameOverride", "keepComposeNames", "waitImage",
             "jobWaitImage", "secrets", "persistence", "environment")
_SECTION_ORDER = ("image", "replicaCount", "env", "resources", "securityContext",
                  "podAnnotations", "podLabels", "podSecurityContext", "nodeSelector",
                  "tolerations", "affinity", "serviceAccount", "containers", "service",
                  "ingress", "persistence", "autoscaling")


class Chart:
    def __init__(self, result: ConversionResult, project: Project) -> None:
        self.project = project
        self.name = chart_name(project.name)
        self.project_label = names.dns_label(project.name, prefix="p")
        objects = copy.deepcopy(result.objects)
        self.namespace = next((o["metadata"]["name"] for o in objects
                               if o["kind"] == "Namespace"), None)
        objects = [o for o in objects if o["kind"] != "Namespace"]
        self.hooks = HookPlan(objects, result.start_after)
        objects = self.hooks.drop_waits(objects)
        self.objects = objects
        self.app_version = _app_version(objects)
        self.owned = {(o["kind"], o["metadata"]["name"]) for o in objects}
        self.owned |= {(kind, copy_name) for (kind, _), copy_name in self.hooks.copies.items()}
        # a hook copy of a Secret reads the values of the Secret it copies
        self.secret_of = {c: n for (k, n), c in self.hooks.copies.items() if k == "Secret"}
        self.tokens = Tokens(taken=yamlio.dump_all(objects))
        self.naming = Naming(self.name, self.project_label, self.owned, self.tokens)
        self.service_ports = {o["metadata"]["name"]: [p["port"] for p in
                                                      o["spec"].get("ports") or ()]
                              for o in objects if o["kind"] == "Service"}
        self.hosts = HostRewriter(set(self.service_ports),
                                  lambda host: self.naming.expr("Service", host))
        self.secrets = SecretTemplates(project, result.names, self.tokens)
        self.values: dict = {}
        self.key_of: dict[str, str] = {}          # object name -> values key (per service)
        self.claims: dict[str, str] = {}          # standalone claim -> persistence key
        self.accounts: dict[str, str] = {}        # values key -> its pods' account expression
        self.job_waiters: list[str] = []          # values keys of pods that wait for Jobs
        self.templates: dict[str, str] = {}
        self.published = _published(project, result.names)
        self._keys()
        pods = PodChart(self)
        workloads = [o for o in objects if o["kind"] in WORKLOADS]
        later = [o for o in objects if o["kind"] not in WORKLOADS]
        self._own_accounts(workloads)
        self._ingresses()                 # before the Services' names become placeholders
        for obj in workloads:
            key = self.key_of[obj["metadata"]["name"]]
            self._write(obj, lambda o, name, key=key: pods.workload(
                o, name, key, self.values.setdefault(key, {})))
        for obj in later:
            copies = self.hooks.hook_copies(obj)
            self._write(obj, self._other)
            for hook_copy in copies:
                self._write(hook_copy, self._other)
        for key, section in self.values.items():
            if key not in TOP_LEVEL:
                self.values[key] = {k: section[k] for k in sorted(section, key=_rank)}
        self.unrewritten = unrewritten(result.references, self.hosts)

    # ---- values keys --------------------------------------------------------------------------

    def _keys(self) -> None:
        taken = set(TOP_LEVEL)
        for obj in self.objects:
            kind, name = obj["kind"], obj["metadata"]["name"]
            if kind == "Secret":
                key = free_key(self.secrets.keys.values(), name)
                self.secrets.add(name, key, list(obj.get("data") or {}))
            elif kind == "PersistentVolumeClaim":
                self.claims[name] = free_key(self.claims.values(), name)
            elif name not in self.key_of and kind in WORKLOADS + ("Service", "Ingress"):
                if kind == "Service" and obj["spec"].get("clusterIP") == "None" and \
                        name not in self.published:
                    continue
                key = free_key(dict.fromkeys(taken), name)
                taken.add(key)
                self.key_of[name] = key
        for service in self.published:
            if service not in self.key_of:
                key = free_key(dict.fromkeys(taken), service)
                taken.add(key)
                self.key_of[service] = key
        if self.secrets.values:
            self.values["secrets"] = self.secrets.values

    def ref_expr(self, kind: str, name: str) -> str:
        """The name of an object a pod refers to: a Secret may be an existing one, a claim an
        existing claim."""
        own = self.naming.expr(kind, name)
        if kind == "Secret":
            return self.secrets.name_expr(self.secret_of.get(name, name), own)
        if kind == "PersistentVolumeClaim" and name in self.claims:
            return (f"default ({own}) $.Values.persistence.{self.claims[name]}"
                    ".existingClaim")
        return own

    # ---- templates ----------------------------------------------------------------------------

    def _write(self, obj: dict, transform, *, condition: str | None = None,
               file: str | None = None, origin: str | None = None) -> None:
        meta = obj["metadata"]
        kind, name = obj["kind"], meta["name"]
        if kind == "Secret":
            condition = self.secrets.condition(self.secret_of.get(name, name))
        elif kind == "PersistentVolumeClaim":
            condition = f"not {values_expr(['', 'persistence', self.claims[name]])}.existingClaim"
        elif kind == "HorizontalPodAutoscaler":
            condition = values_expr(["", self._target_key(obj), "autoscaling"]) + ".enabled"
        if kind == "Job" and name in self.hooks.weights:
            self.hooks.as_hook(obj)
        chart_label = kind != "Job" or name in self.hooks.weights
        obj["metadata"] = self.naming.metadata(meta, kind, chart_label=chart_label)
        transform(obj, name)
        text = self.tokens.substitute(escape_braces(yamlio.dump(obj)))
        if condition:
            text = f"{{{{- if {condition} }}}}\n{text}{{{{- end }}}}\n"
        file = file or file_name({"kind": kind, "metadata": {"name": name}})
        self.templates[file] = f"{HEADER} {origin or f'from {kind} {name}'}\n{text}"

    def _own_accounts(self, workloads: list[dict]) -> None:
        """A ServiceAccount per workload, made when its serviceAccount.create is true."""
        for obj in workloads:
            name = obj["metadata"]["name"]
            key = self.key_of[name]
            base = values_expr(["", key, "serviceAccount"])
            account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
                "name": name, "labels": dict(obj["metadata"]["labels"])}}

            def transform(o, _, base=base, name=name):
                o["metadata"]["name"] = self.tokens.expr(
                    f"default ({self.naming.expr('ServiceAccount', name)}) {base}.name")
                o["metadata"]["annotations"] = self.tokens.optional_block(
                    f"{base}.annotations")
            file = f"{name}-own-serviceaccount.yaml"
            self._write(account, transform, condition=f"{base}.create", file=file,
                        origin=f"for service {name}: its ServiceAccount when {key}."
                               "serviceAccount.create")

    def _other(self, obj: dict, name: str) -> None:
        kind = obj["kind"]
        t = self.tokens
        spec = obj.get("spec") or {}
        if kind == "Service":
            self._service(obj, name)
        elif kind == "ConfigMap":
            for k, v in (obj.get("data") or {}).items():
                parts = self.hosts.parts(v, portless=False)
                if parts:
                    obj["data"][k] = t.text(parts)
        elif kind == "Secret":
            obj["data"] = self.secrets.data(self.secret_of.get(name, name), obj.get("data") or {})
        elif kind == "PersistentVolumeClaim":
            self.claim(spec, name, ["", "persistence", self.claims[name]],
                       self.values.setdefault("persistence", {}), standalone=True)
        elif kind == "Role":
            for rule in obj["rules"]:
                rule["resourceNames"] = [self.naming.name("Job", j)
                                         for j in rule["resourceNames"]]
        elif kind == "RoleBinding":
            obj["roleRef"]["name"] = self.naming.name("Role", obj["roleRef"]["name"])
            obj["subjects"] = t.line(self._subjects(obj["subjects"]))
        elif kind == "NetworkPolicy":
            spec["podSelector"]["matchLabels"] = self.naming.selector(
                spec["podSelector"]["matchLabels"])
            for rule in spec.get("ingress") or ():
                for peer in rule.get("from") or ():
                    if "podSelector" in peer:
                        peer["podSelector"]["matchLabels"] = self.naming.selector(
                            peer["podSelector"]["matchLabels"])
        elif kind == "HorizontalPodAutoscaler":
            key = self._target_key(obj)
            target = spec["scaleTargetRef"]
            target["name"] = self.naming.name(target["kind"], target["name"])
            section = self.values.setdefault(key, {})
            section["autoscaling"] = {"enabled": True, "minReplicas": spec["minReplicas"],
                                      "maxReplicas": spec["maxReplicas"]}
            for k in ("minReplicas", "maxReplicas"):
                spec[k] = t.expr(values_expr(["", key, "autoscaling", k]))
        elif kind == "Ingress":
            backend = spec["rules"][0]["http"]["paths"][0]["backend"]["service"]
            self._ingress_values(obj, name)
            self._ingress(obj, name, backend["port"]["number"])

    def _target_key(self, obj: dict) -> str:
        return self.key_of[obj["spec"]["scaleTargetRef"]["name"]]

    def _service(self, obj: dict, name: str) -> None:
        spec = obj["spec"]
        spec["selector"] = self.naming.selector(spec["selector"])
        if spec.get("clusterIP") == "None" or name not in self.key_of:
            return
        key = self.key_of[name]
        section = self.values.setdefault(key, {})
        section["service"] = {"type": spec.get("type", ""), "ports": spec.get("ports", [])}
        rebuilt = {"type": self.tokens.optional(values_expr(["", key, "service", "type"]))}
        for k, v in spec.items():
            if k == "ports":
                v = self.tokens.block(values_expr(["", key, "service", "ports"]))
            if k != "type":
                rebuilt[k] = v
        obj["spec"] = rebuilt

    def claim(self, spec: dict, claim: str, path: list, parent: dict, *,
              standalone: bool = False) -> None:
        requests = spec.get("resources", {}).get("requests", {})
        if "storage" not in requests:
            return
        key = path[-1] if standalone else free_key(parent, claim)
        entry = {"size": requests["storage"], "storageClass": spec.get("storageClassName", "")}
        if standalone:
            entry["existingClaim"] = ""
        parent[key] = entry
        cpath = path if standalone else path + [key]
        requests["storage"] = self.tokens.quoted(values_expr(cpath + ["size"]))
        spec.pop("storageClassName", None)
        spec["storageClassName"] = self.tokens.optional(
            f"{values_expr(cpath + ['storageClass'])} | default $.Values.global.storageClass")

    def _subjects(self, subjects: list[dict]):
        """The RoleBinding's accounts: those the waiting pods run as (serviceAccount values)."""
        exprs = [f"({self.accounts[k]})" for k in self.job_waiters if k in self.accounts]
        fixed = [f'"{s["name"]}"' for s in subjects
                 if ("ServiceAccount", s["name"]) not in self.owned]
        items = " ".join(exprs + fixed)

        def write(indent, key, dash):
            return [f"{indent}{key}:",
                    f"{{{{- range list {items} | uniq | sortAlpha }}}}",
                    f"{indent}- kind: ServiceAccount", f"{indent}  name: {{{{ . }}}}",
                    "{{- end }}"]
        return write

    # ---- Ingress ------------------------------------------------------------------------------

    def _ingress_values(self, obj: dict, name: str) -> None:
        spec = obj["spec"]
        hosts = [{"host": rule.get("host", ""),
                  "paths": [{"path": p["path"], "pathType": p["pathType"]}
                            for p in rule["http"]["paths"]]} for rule in spec["rules"]]
        self.values.setdefault(self.key_of[name], {})["ingress"] = {
            "enabled": True, "className": spec.get("ingressClassName", ""), "annotations": {},
            "hosts": hosts, "tls": spec.get("tls", [])}

    def _ingress(self, obj: dict, name: str, port: int) -> None:
        """The Ingress from its values: hosts and paths, class, annotations, TLS; every path
        to the service's Service, on the port convert gives its Ingress (the first)."""
        base = values_expr(["", self.key_of[name], "ingress"])
        service = self.naming.expr("Service", name)
        obj["metadata"]["annotations"] = self.tokens.optional_block(f"{base}.annotations")
        rules = [
            "{{- range %s.hosts }}" % base,
            "- {{- with .host }}", "  host: {{ . | quote }}", "  {{- end }}",
            "  http:", "    paths:", "    {{- range .paths }}",
            "    - path: {{ .path | quote }}", "      pathType: {{ .pathType }}",
            "      backend:", "        service:", f"          name: {{{{ {service} }}}}",
            "          port:", f"            number: {port}", "    {{- end }}", "{{- end }}"]
        obj["spec"] = {"ingressClassName": self.tokens.optional(f"{base}.className"),
                       "tls": self.tokens.optional_block(f"{base}.tls"),
                       "rules": self.tokens.line(lambda indent, key, dash: [
                           f"{indent}rules:"] + [indent + line for line in rules])}

    def _ingresses(self) -> None:
        """An Ingress, off by default, for each service that publishes ports and has none."""
        services = {o["metadata"]["name"]: o for o in self.objects if o["kind"] == "Service"}
        for name in self.published:
            service = services.get(name)
            if ("Ingress", name) in self.owned or service is None or \
                    not service["spec"].get("ports"):
                continue
            key = self.key_of[name]
            self.values.setdefault(key, {})["ingress"] = {
                "enabled": False, "className": "", "annotations": {}, "hosts": [], "tls": []}
            obj = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                   "metadata": self.naming.metadata({"name": name, "labels": dict(
                       service["metadata"]["labels"])}, "Ingress")}
            self._ingress(obj, name, service["spec"]["ports"][0]["port"])
            text = self.tokens.substitute(escape_braces(yamlio.dump(obj)))
            enabled = values_expr(["", key, "ingress"]) + ".enabled"
            self.templates[f"{name}-ingress.yaml"] = (
                f"{HEADER} for service {name}: an Ingress when {key}.ingress.enabled\n"
                f"{{{{- if {enabled} }}}}\n{text}{{{{- end }}}}\n")

    # ---- the other files ----------------------------------------------------------------------

    def chart_yaml(self) -> str:
        meta = {"apiVersion": "v2", "name": self.name,
                "description": f"The {self.project.name} compose project, converted by c2k",
                "type": "application", "version": CHART_VERSION,
                "appVersion": self.app_version,
                "annotations": {"c2k.io/project": self.project.name}}
        return f"{HEADER}\n" + yamlio.dump(meta)

    def top_values(self) -> dict:
        out: dict = {"global": {"imageRegistry": "", "imagePullSecrets": [], "storageClass": ""},
                     "nameOverride": "", "fullnameOverride": "", "keepComposeNames": False}
        for key in ("waitImage", "jobWaitImage"):
            if key in self.values:
                out[key] = self.values[key]
        return out

    def values_yaml(self) -> str:
        parts = [VALUES_HEADER]
        top = self.top_values()
        parts.append(yamlio.dump(top))
        for key, section in self.values.items():
            if key in top:
                continue
            parts.append(f"\n# {_values_comment(key, self)}\n")
            parts.append(yamlio.dump({key: section}))
        return "".join(parts)

    def all_values(self) -> dict:
        out = self.top_values()
        out.update((k, v) for k, v in self.values.items() if k not in out)
        return out

    def files(self) -> dict[str, str]:
        out = {"Chart.yaml": self.chart_yaml(), "values.yaml": self.values_yaml(),
               "values.schema.json": json.dumps(schema(self), indent=2) + "\n",
               ".helmignore": f"{HEADER}\n.git/\n*.swp\n*.bak\n*~\n",
               "README.md": readme(self),
               os.path.join("templates", "_helpers.tpl"): helpers(self.name,
                                                                  self.project_label),
               os.path.join("templates", "NOTES.txt"): notes(self)}
        for fname, text in sorted(self.templates.items()):
            out[os.path.join("templates", fname)] = text
        return out


def _published(project, kube_names: dict) -> dict[str, list]:
    """Service name -> [(published, target, protocol)] of the compose services that publish."""
    out: dict[str, list] = {}
    for svc in project.services.values():
        ports = [(p.published, p.target, (p.protocol or "tcp").lower())
                 for p in svc.ports if p.published]
        if ports:
            out[kube_names[svc.name]] = ports
    return out


def _rank(key: str) -> int:
    return _SECTION_ORDER.index(key) if key in _SECTION_ORDER else len(_SECTION_ORDER)


def _values_comment(key: str, chart: Chart) -> str:
    if key == "secrets":
        return "Secrets: no value here; give them at install (README.md), or existing Secrets"
    if key == "persistence":
        return "PersistentVolumeClaims (storageClass: empty means global.storageClass, else " \
               "the cluster's default)"
    name = next((n for n, k in chart.key_of.items() if k == key), key)
    return f"service {name}"


def _app_version(objects: list[dict]) -> str:
    """The tag most of the workloads' images carry (the project's own images usually share
    one), else the chart version."""
    tags: collections.Counter[str] = collections.Counter()
    for obj in objects:
        for c in pod_of(obj).get("containers") or ():
            tag = split_image(c.get("image", "")).get("tag")
            if tag:
                tags[tag] += 1
    ranked = tags.most_common(2)
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    return CHART_VERSION

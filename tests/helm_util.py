"""Helpers of the Helm chart tests: convert as `--format helm` does, write the chart, give it the
secrets, render it, and compare what it renders with what `c2k convert` writes."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from pathlib import Path

import yaml
from conftest_tools import objects_by_key, run_tool

from converter.compose.loader import LoadOptions, load_project
from converter.emit import helm, yamlio
from converter.emit.formats import FORMATS
from converter.kube.options import ConvertOptions
from converter.kube.transform import to_manifests
from converter.records import fields

HELM_LABELS = ("helm.sh/chart",)

# One-shots: setup and seed can run before the release (hooks, in that order); migrate waits
# for db and prep writes a claim web reads, so they are Jobs of the release web waits for.
HOOKED = """
name: hooked
services:
  setup:
    image: busybox:1.36
    command: ["sh", "-c", "cat /settings && test -s /run/secrets/token && echo set up"]
    configs: [settings]
    secrets: [token]
    environment:
      API_TOKEN: abc123
      TARGET: http://web:80/
    restart: "no"
  seed:
    image: busybox:1.36
    command: ["sh", "-c", "echo seeded"]
    restart: "no"
    depends_on:
      setup: {condition: service_completed_successfully}
  db:
    image: busybox:1.36
    command: ["httpd", "-f", "-p", "5432", "-h", "/etc"]
    expose: ["5432"]
  migrate:
    image: busybox:1.36
    command: ["sh", "-c", "wget -q -O - http://db:5432/hostname && echo migrated"]
    restart: "no"
    depends_on:
      db: {condition: service_started}
  prep:
    image: busybox:1.36
    command: ["sh", "-c", "echo hello > /data/index.html"]
    volumes: ["shared:/data"]
    restart: "no"
  web:
    image: busybox:1.36
    command: ["sh", "-c", "exec httpd -f -p 80 -h /data"]
    ports: ["8080:80"]
    volumes: ["shared:/data"]
    depends_on:
      seed: {condition: service_completed_successfully}
      setup: {condition: service_completed_successfully}
      migrate: {condition: service_completed_successfully}
      prep: {condition: service_completed_successfully}
configs:
  settings:
    content: "mode=demo\\n"
secrets:
  token:
    environment: TOKEN
volumes:
  shared: {}
"""


def chart_options(options: ConvertOptions | None = None) -> ConvertOptions:
    """The options `convert --format helm` converts with (the format's forced ones)."""
    options = options or ConvertOptions()
    return ConvertOptions(**{**{f.name: getattr(options, f.name) for f in fields(options)},
                             **dict(FORMATS["helm"].forced)})


def convert(folder: Path, options: ConvertOptions | None = None, *files, environ=None):
    project = load_project(LoadOptions(files=tuple(map(str, files)), cwd=str(folder),
                                       environ=environ or {})).project
    return project, to_manifests(project, chart_options(options))


def make_chart(tmp_path: Path, folder: Path, options=None, *files, environ=None):
    """(project, conversion result, Chart, chart folder)."""
    project, result = convert(folder, options, *files, environ=environ)
    out = tmp_path / "chart"
    chart, _ = helm.write_chart(result, project, str(out))
    return project, result, chart, out


def secret_values(chart, result, path: Path) -> Path:
    """A values file with every Secret's data as convert wrote it."""
    secrets: dict = {}
    for obj in result.objects:
        if obj["kind"] == "Secret":
            key = chart.secrets.keys[obj["metadata"]["name"]]
            secrets[key] = {"data": {k: base64.b64decode(v).decode("utf-8")
                                     for k, v in (obj.get("data") or {}).items()}}
    path.write_text(yamlio.dump({"secrets": secrets} if secrets else {}))
    return path


def template(helm_bin, out, release, *args, check=True):
    proc = run_tool(helm_bin, "template", release, out, *args, check=check)
    return objects_by_key(proc.stdout) if check else proc


def lint(helm_bin, out, *args):
    proc = run_tool(helm_bin, "lint", "--strict", out, *args, check=False)
    assert proc.returncode == 0 and "0 chart(s) failed" in proc.stdout, proc.stdout + proc.stderr
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout, proc.stdout


def as_helm_writes(objects: list[dict], release: str) -> dict:
    """convert's objects as the release `release` with keepComposeNames renders them:
    managed-by Helm, instance the release (a release name has no `_`), no Namespace object
    (helm -n decides)."""
    out = []
    for obj in copy.deepcopy(objects):
        if obj["kind"] == "Namespace":
            continue
        _label(obj, release)
        out.append(obj)
    return objects_by_key(out)


def without_helm_labels(rendered: dict) -> dict:
    """Rendered objects without helm.sh/chart (for comparing with convert's objects)."""
    out = copy.deepcopy(rendered)
    for obj in out.values():
        _strip(obj)
    return out


def _label(obj, release):
    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("labels", "matchLabels", "selector") and isinstance(v, dict):
                    if "app.kubernetes.io/managed-by" in v:
                        v["app.kubernetes.io/managed-by"] = "Helm"
                    if "app.kubernetes.io/instance" in v:
                        v["app.kubernetes.io/instance"] = release
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(obj)


def _strip(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "labels" and isinstance(v, dict):
                for label in HELM_LABELS:
                    v.pop(label, None)
            _strip(v)
    elif isinstance(x, list):
        for v in x:
            _strip(v)


def rendered_equals_convert(helm_bin, chart, result, out, tmp_path, *args) -> tuple[dict, dict]:
    """(rendered, expected) for the release named like the project, keepComposeNames, the
    secrets given: both as convert writes them apart from the Helm labels."""
    values = secret_values(chart, result, tmp_path / "secrets.yaml")
    release = helm.chart_name(chart.project.name)[:53]
    rendered = template(helm_bin, out, release, "-f", values, "--set", "keepComposeNames=true",
                        *args)
    return without_helm_labels(rendered), as_helm_writes(result.objects, release)


def renamed_back(rendered: dict, objects: list[dict], release: str) -> dict:
    """The objects of a release whose full name is `release` (default values), each of the
    release's names (`<release>-web`, cut with a hash past 63 characters, 52 for a CronJob) put
    back to convert's (`web`) wherever it stands but in images and container names: names, selectors, references,
    and inside strings (`redis://<release>-cache:6379`)."""
    back = {}
    for obj in objects:
        name = obj["metadata"]["name"]
        for limit in (63, 52) if obj["kind"] == "CronJob" else (63,):
            back[_limited(f"{release}-{name}", limit)] = name
    pattern = re.compile(r"(?<![A-Za-z0-9.-])(" + "|".join(
        re.escape(n) for n in sorted(back, key=len, reverse=True)) + r")(?![A-Za-z0-9-])")

    def walk(x):
        if isinstance(x, str):
            return pattern.sub(lambda m: back[m.group(1)], x)
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, dict):        # images and containers are no objects, though an
            # image or a container_name may be spelled so (music-service-web)
            return {k: v if k == "image" or (k == "name" and "image" in x) else walk(v)
                    for k, v in x.items()}
        return x
    return objects_by_key([walk(obj) for obj in rendered.values()])


def _limited(name: str, limit: int) -> str:
    """_helpers.tpl's `limit`: past the limit, cut and ended with a hash of the whole name."""
    if len(name) <= limit:
        return name
    return f"{name[:limit - 7].rstrip('-')}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


def load_docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


# ---- a release's objects name only the release's objects --------------------------------------

EXTERNAL_CONFIG = {"kube-root-ca.crt"}


def dangling(rendered: dict, compose_names: set[str], *, external: set = frozenset()) -> list:
    """What a rendered release names but does not have: the Service, ConfigMap, Secret, claim,
    account, Role or Job a field names; a host (host:port, scheme://host, a wait script's
    host) that is one of compose's names but no Service of the release; a selector matching
    no pod of the release. `external` lists (kind, name) the chart may refer to as they are."""
    from converter.kube.references import host_spans
    have = {(k, n) for k, _, n in rendered}
    problems = []

    def need(kind, name, where):
        if (kind, name) not in have and (kind, name) not in external and not (
                kind == "ConfigMap" and name in EXTERNAL_CONFIG):
            problems.append(f"{where}: no {kind} {name}")

    def hosts(text, where):
        for _, _, host, _port, shown in host_spans(text, portless=True):
            if host.lower() in compose_names and ("Service", host.lower()) not in have:
                problems.append(f"{where}: {shown} names no Service of the release")

    pods = []
    for (kind, _, name), obj in rendered.items():
        where = f"{kind} {name}"
        spec = obj.get("spec") or {}
        pod = _pod_spec(obj)
        if pod:
            labels = _template_labels(obj)
            pods.append(labels)
            for vol in pod.get("volumes") or ():
                if "configMap" in vol:
                    need("ConfigMap", vol["configMap"]["name"], where)
                if "secret" in vol:
                    need("Secret", vol["secret"]["secretName"], where)
                if "persistentVolumeClaim" in vol:
                    need("PersistentVolumeClaim", vol["persistentVolumeClaim"]["claimName"],
                         where)
            if "serviceAccountName" in pod:
                need("ServiceAccount", pod["serviceAccountName"], where)
            for c in list(pod.get("initContainers") or ()) + list(pod.get("containers") or ()):
                for env in c.get("env") or ():
                    ref = env.get("valueFrom") or {}
                    if "secretKeyRef" in ref:
                        need("Secret", ref["secretKeyRef"]["name"], where)
                    if "configMapKeyRef" in ref:
                        need("ConfigMap", ref["configMapKeyRef"]["name"], where)
                    if "value" in env:
                        hosts(env["value"], f"{where} env {env['name']}")
                for source in c.get("envFrom") or ():
                    if "configMapRef" in source:
                        need("ConfigMap", source["configMapRef"]["name"], where)
                    if "secretRef" in source:
                        need("Secret", source["secretRef"]["name"], where)
                for text in _strings([c.get(k) for k in ("command", "args")]):
                    hosts(text, f"{where} container {c['name']}")
                    waits = c["name"].startswith("wait-for-") and "/jobs/" not in text
                    for word in text.replace(";", " ").split() if waits else ():
                        if word in compose_names and ("Service", word) not in have:
                            problems.append(f"{where}: {c['name']} waits for {word}")
                    if "/jobs/" in text:
                        job = text.split("/jobs/")[1].split()[0].split("?")[0]
                        need("Job", job, f"{where} container {c['name']}")
        if kind == "StatefulSet":
            need("Service", spec["serviceName"], where)
        if kind == "ConfigMap":
            for key, text in (obj.get("data") or {}).items():
                for _, _, host, _port, shown in host_spans(text):
                    if host.lower() in compose_names and ("Service", host.lower()) not in have:
                        problems.append(f"{where} {key}: {shown} names no Service")
        if kind == "Ingress":
            for rule in spec.get("rules") or ():
                for path in rule["http"]["paths"]:
                    need("Service", path["backend"]["service"]["name"], where)
        if kind == "HorizontalPodAutoscaler":
            need(spec["scaleTargetRef"]["kind"], spec["scaleTargetRef"]["name"], where)
        if kind == "Role":
            for rule in obj["rules"]:
                for job in rule.get("resourceNames") or ():
                    need("Job", job, where)
        if kind == "RoleBinding":
            need("Role", obj["roleRef"]["name"], where)
            for subject in obj["subjects"]:
                need("ServiceAccount", subject["name"], where)
    for (kind, _, name), obj in rendered.items():
        selector = None
        if kind == "Service":
            selector = obj["spec"].get("selector")
        elif kind == "NetworkPolicy":
            selector = obj["spec"]["podSelector"].get("matchLabels")
        if selector and not any(selector.items() <= labels.items() for labels in pods):
            problems.append(f"{kind} {name}: its selector matches no pod of the release")
    return problems


def external_refs(objects: list[dict]) -> set:
    """(kind, name) that convert's objects name but do not make (existing Secrets, claims of
    external volumes, kompose's ServiceAccounts)."""
    have = {(o["kind"], o["metadata"]["name"]) for o in objects}
    wanted = set()
    for obj in objects:
        pod = _pod_spec(obj) or {}
        for vol in pod.get("volumes") or ():
            if "secret" in vol:
                wanted.add(("Secret", vol["secret"]["secretName"]))
            if "configMap" in vol:
                wanted.add(("ConfigMap", vol["configMap"]["name"]))
            if "persistentVolumeClaim" in vol:
                wanted.add(("PersistentVolumeClaim", vol["persistentVolumeClaim"]["claimName"]))
        if "serviceAccountName" in pod:
            wanted.add(("ServiceAccount", pod["serviceAccountName"]))
    return wanted - have


def _pod_spec(obj):
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return (spec.get("template") or {}).get("spec") if obj["kind"] in (
        "Deployment", "StatefulSet", "DaemonSet", "ReplicationController", "Job",
        "CronJob") else None


def _template_labels(obj):
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["metadata"].get("labels") or {}


def _strings(values):
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from _strings(value)

"""A workload's pod in the chart: its settings in values.yaml, its names and hosts per release.

Values of a workload (keyed like the workload, `my-web` -> `myWeb`), defaults as converted:
    image: {registry, repository, tag, digest, pullPolicy}   the first container
    replicaCount                    Deployments, StatefulSets, ReplicationControllers
    env                             a list, in order; rendered with `tpl`, so a value may name
                                    a Service of the release: `{{ include "<chart>.resourceName"
                                    (list $ "db") }}` (a literal `{{` is written `{{ "{{" }}`)
    resources, securityContext      the first container's
    podAnnotations, podLabels       added to the pod template
    podSecurityContext, nodeSelector, tolerations, affinity
    serviceAccount: {create, name, annotations}
    containers.<name>               image, env, resources, securityContext of the pod's other
                                    containers (services sharing the pod)
The dependency-wait init containers read `waitImage`, the Job waits `jobWaitImage`, and name
the release's Services and Jobs (their scripts are those kube/ordering.py and kube/jobwait.py
write, with the name left to the release).
"""

from __future__ import annotations

from ... import kinds
from ...imagerefs import split_host, split_reference
from ...kube import jobwait
from ...kube.ordering import wait_script as tcp_wait_script
from ...kube.podvolumes import COPY_CONTAINER
from .objects import name_refs
from .tokens import escape_braces
from .values import free_key, values_expr

POD_KEYS = ("podSecurityContext", "nodeSelector", "tolerations", "affinity")
_POD_SPEC_KEY = {"podSecurityContext": "securityContext"}
_EMPTY: dict[str, dict | list] = {"podSecurityContext": {}, "nodeSelector": {}, "tolerations": [], "affinity": {}}
_FREE_TEXT = ("command", "args", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle")


def split_image(ref: str) -> dict:
    """`host:5000/a/b:tag@sha256:x` -> {registry, repository, tag, digest}."""
    name, tag, digest = split_reference(ref)
    registry, repository = split_host(name)
    return {"registry": registry or "", "repository": repository, "tag": tag or "",
            "digest": digest or ""}


class PodChart:
    """Turns one workload object into its template object and its values."""

    def __init__(self, chart):
        self.c = chart                       # the Chart: tokens, naming, hosts, secrets, values
        self.t = chart.tokens

    def workload(self, obj: dict, name: str, key: str, section: dict) -> None:
        c, t = self.c, self.t
        path = ["", key]                     # values path: $.Values.<key>
        spec = obj["spec"]
        if "selector" in spec and "matchLabels" in spec["selector"]:
            spec["selector"]["matchLabels"] = c.naming.selector(spec["selector"]["matchLabels"])
        elif obj["kind"] == "ReplicationController":
            spec["selector"] = c.naming.selector(spec["selector"])
        if obj["kind"] == "StatefulSet":
            spec["serviceName"] = c.naming.name("Service", spec["serviceName"])
            for claim in spec.get("volumeClaimTemplates") or ():
                claim["metadata"]["labels"] = c.naming.labels(claim["metadata"]["labels"],
                                                              chart_label=False)
                c.claim(claim["spec"], claim["metadata"]["name"], path + ["persistence"],
                        section.setdefault("persistence", {}))
        if isinstance(spec.get("replicas"), int) and obj["kind"] != "Job":
            section["replicaCount"] = spec["replicas"]
            spec["replicas"] = t.expr(values_expr(path + ["replicaCount"]))
        template = kinds.pod_template(obj)
        assert template is not None     # only workloads come here
        self._pod_metadata(template, obj["kind"], path, section)
        self._pod(template["spec"], path, section, key, name)

    def _pod_metadata(self, template: dict, kind: str, path: list, section: dict) -> None:
        """Pod labels as converted (per release) plus podLabels, which may not override them;
        the pod's annotations come from podAnnotations (default: the converted ones)."""
        meta = template["metadata"]
        fixed = self.c.naming.labels(meta["labels"], chart_label=kind != "Job")
        omit = " ".join(f'"{k}"' for k in meta["labels"])
        section["podAnnotations"] = meta.pop("annotations", {})
        section["podLabels"] = {}
        fixed[self.t.merged(f"omit {values_expr(path + ['podLabels'])} {omit}")] = ""
        rebuilt = {"annotations": self.t.optional_block(
            values_expr(path + ["podAnnotations"]))}
        rebuilt["labels"] = fixed
        rebuilt.update((k, v) for k, v in meta.items() if k != "labels")
        template["metadata"] = rebuilt

    def _pod(self, pod: dict, path: list, section: dict, key: str, name: str) -> None:
        c, t = self.c, self.t
        waits, job_waits = self._wait_containers(pod)
        if job_waits:
            c.job_waiters.append(key)
        for i, container in enumerate(pod.get("containers") or ()):
            if i == 0:
                self._container(container, path, section)
            else:
                others = section.setdefault("containers", {})
                ckey = free_key(others, container["name"])
                self._container(container, path + ["containers", ckey],
                                others.setdefault(ckey, {}))
        for ref, holder, field in list(name_refs(pod)):
            if ref[0] != "ServiceAccount" and ref in c.owned:
                holder[field] = t.expr(c.ref_expr(*ref))
        for container in pod.get("containers") or ():
            self._free_text(container)
        for container in pod.get("initContainers") or ():
            if id(container) not in waits:
                self._free_text(container)
        self._account(pod, path, section, key, name)
        pulls = [s["name"] for s in pod.pop("imagePullSecrets", [])]
        names = " ".join(f'"{n}"' for n in pulls)
        rebuilt = {}
        for k, v in pod.items():
            if k == "containers":
                rebuilt["imagePullSecrets"] = t.optional_block(
                    f'include "{c.name}.pullSecrets" (list $ (list {names}))', render=".")
            if k not in ("securityContext", "nodeSelector", "tolerations", "affinity"):
                rebuilt[k] = v
        for vkey in POD_KEYS:
            pkey = _POD_SPEC_KEY.get(vkey, vkey)
            section[vkey] = pod.get(pkey, _EMPTY[vkey])
            rebuilt[pkey] = t.optional_block(values_expr(path + [vkey]))
        pod.clear()
        pod.update(rebuilt)

    def _account(self, pod: dict, path: list, section: dict, key: str, name: str) -> None:
        """serviceAccountName from serviceAccount {create, name}; the default is what c2k
        convert gave the pod (the job waiter's account, a kompose hint) or nothing."""
        c = self.c
        section["serviceAccount"] = {"create": False, "name": "", "annotations": {}}
        current = pod.get("serviceAccountName")
        default = '""'
        if current is not None:
            default = f"({c.ref_expr('ServiceAccount', current)})" if (
                "ServiceAccount", current) in c.owned else f'"{current}"'
        own = f"({c.naming.expr('ServiceAccount', name)})"
        expr = (f'include "{c.name}.serviceAccountName" (list $ '
                f'{values_expr(path + ["serviceAccount"])} {own} {default})')
        c.accounts[key] = expr
        rebuilt = {"serviceAccountName": self.t.optional(expr)}
        rebuilt.update((k, v) for k, v in pod.items() if k != "serviceAccountName")
        pod.clear()
        pod.update(rebuilt)

    def _container(self, container: dict, path: list, section: dict) -> None:
        """image -> image.*, env/resources/securityContext -> values (always present, so they
        can be set), placed where convert puts them."""
        c, t = self.c, self.t
        keys = list(container)
        anchor = max(i for i, k in enumerate(keys)
                     if k in ("name", "image", "imagePullPolicy", "command", "args",
                              "workingDir"))
        rebuilt: dict = {}
        image = split_image(container.get("image", ""))
        image["pullPolicy"] = container.get("imagePullPolicy", "")
        section["image"] = image
        for i, k in enumerate(keys):
            value = container[k]
            if k == "image":
                rebuilt["image"] = t.quoted(
                    f'include "{c.name}.image" (list $ {values_expr(path + ["image"])})')
                rebuilt["imagePullPolicy"] = t.optional(
                    values_expr(path + ["image", "pullPolicy"]))
            elif k == "env":
                section["env"] = [self._env_entry(e) for e in value]
            elif k not in ("imagePullPolicy", "resources", "securityContext"):
                rebuilt[k] = value
            if i == anchor:
                section.setdefault("env", [])
                rebuilt["env"] = t.optional_block(values_expr(path + ["env"]),
                                                  render="tpl (toYaml .) $")
                section["resources"] = container.get("resources", {})
                rebuilt["resources"] = t.optional_block(values_expr(path + ["resources"]))
        section["securityContext"] = container.get("securityContext", {})
        rebuilt["securityContext"] = t.optional_block(
            values_expr(path + ["securityContext"]))
        container.clear()
        container.update(rebuilt)

    def _env_entry(self, entry: dict) -> dict:
        """An env entry for values.yaml (rendered with tpl): Service names and Secret
        references follow the release; a literal `{{` is escaped."""
        c = self.c
        out = dict(entry)
        if "value" in out:
            parts = c.hosts.env_parts(out["name"], out["value"])
            out["value"] = _tpl_text(parts) if parts else escape_braces(out["value"])
        ref = (out.get("valueFrom") or {})
        for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            if field in ref and (kind, ref[field]["name"]) in c.owned:
                out["valueFrom"] = {field: dict(ref[field], name="{{ %s }}" % c.ref_expr(
                    kind, ref[field]["name"]))}
        return out

    def _free_text(self, container: dict) -> None:
        for k in _FREE_TEXT:
            if k in container:
                container[k] = self._rewrite(container[k])

    def _rewrite(self, value):
        if isinstance(value, str):
            parts = self.c.hosts.parts(value, portless=True)
            return self.t.text(parts) if parts else value
        if isinstance(value, list):
            return [self._rewrite(v) for v in value]
        if isinstance(value, dict):
            return {k: self._rewrite(v) for k, v in value.items()}
        return value

    def _wait_containers(self, pod: dict) -> tuple[set[int], bool]:
        """The init containers c2k wrote to wait (or copy files): their image from values, the
        Service or Job they wait for named per release. Returns their ids, and whether one
        waits for a Job."""
        c, t = self.c, self.t
        found_ids: set[int] = set()
        job_waits = False
        for container in pod.get("initContainers") or ():
            image = None
            job = jobwait.awaited(container)
            if job is not None:
                expr = c.naming.expr("Job", job[0])
                container["command"] = ["sh", "-c", jobwait.script(t.expr(expr), job[1])]
                image = "jobWaitImage"
                job_waits = True
            elif container["name"] == COPY_CONTAINER:
                image = "waitImage"
            else:
                found = self._tcp_wait(container)
                if found is not None:
                    host, port = found
                    container["command"] = ["sh", "-c", tcp_wait_script(
                        t.expr(c.naming.expr("Service", host)), port)]
                    image = "waitImage"
            if image is not None:
                c.values.setdefault(image, split_image(container["image"]))
                container["image"] = t.quoted(f'include "{c.name}.image" (list $ '
                                              f'$.Values.{image})')
                found_ids.add(id(container))
        return found_ids, job_waits

    def _tcp_wait(self, container: dict) -> tuple[str, int | None] | None:
        command = container.get("command") or []
        if len(command) != 3 or command[:2] != ["sh", "-c"]:
            return None
        for host, ports in self.c.service_ports.items():
            if host not in command[2]:
                continue
            for port in (*ports, None):
                if tcp_wait_script(host, port) == command[2]:
                    return host, port
        return None


def _tpl_text(parts: list) -> str:
    return "".join(escape_braces(p) if isinstance(p, str) else "{{ %s }}" % p[1] for p in parts)

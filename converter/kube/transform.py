"""`to_manifests(project, options)`: the whole conversion, as plain dicts plus a report.

Steps: hints (kompose labels, x-kubernetes) -> Kubernetes names -> pod groups (network_mode:
service:x and service groups share a pod) -> the `host:port` references between services ->
workload kinds -> Secrets/ConfigMaps -> Services -> one workload per pod group (containers, init
containers, volumes) -> RBAC for one-shot waits, Ingresses, autoscalers, NetworkPolicies ->
Namespace. Then the wiring check reads the objects (wiring.py), and every compose key the model
holds that no step spoke about is reported as not converted, so nothing is dropped silently.

The function does no I/O except through `reader` (default: files.read_host_path, which reads
small files inside the project for ConfigMaps and Secrets); tests pass a fake reader.
Output is deterministic: objects sorted by kind (KIND_ORDER) then name, keys in a fixed order.
"""

from __future__ import annotations

import functools

from ..errors import ConversionError
from . import config, jobwait, labels, names, policies, storage
from .autoscale import build_autoscalers
from .containers import container
from .context import Context, PodGroup
from .coverage import report_coverage
from .files import read_host_path
from .hints import service_hints
from .ingress import build_ingresses
from .options import ConvertOptions
from .ordering import wait_containers
from .pods import pod_settings
from .references import find_references
from .report import ConversionResult, Report
from .services import build_services
from .wiring import check_wiring
from .workloads import decide_kind, waiters, workload

KIND_ORDER = ("Namespace", "ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap",
              "PersistentVolumeClaim", "Service", "Deployment", "StatefulSet", "DaemonSet",
              "ReplicationController", "Job", "CronJob", "Ingress", "HorizontalPodAutoscaler",
              "NetworkPolicy")


def _once_per_path(reader):
    """Each host path is read once per conversion (500 services may mount the same folder)."""
    seen: dict = {}

    def read(path):
        found = seen.get(path)
        if found is None:
            found = seen[path] = reader(path)
        return found
    return read


def to_manifests(project, options: ConvertOptions | None = None, *,
                 reader=None) -> ConversionResult:
    options = options or ConvertOptions()
    if reader is None:
        reader = functools.partial(read_host_path, max_bytes=options.config_max_bytes,
                                   max_files=options.config_max_files)
    reader = _once_per_path(reader)
    ctx = Context(project=project, options=options, report=Report(), reader=reader)
    if not project.services:
        ctx.report.add("project", "", "services", "warning", "the project has no services")
    for svc in project.services.values():
        ctx.hints[svc.name] = service_hints(svc)
    _names(ctx)
    _groups(ctx)
    ctx.references = find_references(project, reader)
    ctx.waiters = waiters(project)
    for group in ctx.groups.values():
        ctx.kinds[group.name] = decide_kind(ctx, project.services[group.primary])
    file_objects = config.build_objects(ctx)
    build_services(ctx)
    for group in ctx.groups.values():
        _workload(ctx, group, file_objects)
    jobwait.build_access(ctx)
    build_ingresses(ctx)
    build_autoscalers(ctx)
    policies.build_policies(ctx)
    objects = list(ctx.objects.values())
    findings = check_wiring(ctx, objects)
    if options.namespace:
        objects = _namespaced(ctx, objects, options.namespace)
    report_coverage(ctx)
    objects.sort(key=lambda o: (_rank(o["kind"]), o["metadata"]["name"]))
    return ConversionResult(objects=objects, report=ctx.report, wiring=tuple(findings),
                            start_after={k: tuple(sorted(v))
                                         for k, v in sorted(ctx.starts_after.items())})


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _names(ctx) -> None:
    pairs = [(s.name, ctx.hints[s.name].name or s.name) for s in ctx.project.services.values()]
    ctx.names.update(names.service_names(pairs))
    for compose_name, kname in ctx.names.items():
        if ctx.hints[compose_name].name:
            ctx.report.mapped(compose_name, "labels.kompose.service.name_override",
                              f"objects named {kname}")
        elif kname != compose_name:
            ctx.report.warning(compose_name, "name", f"Kubernetes name {kname}: other services "
                                                     f"must reach it as {kname}")


def _groups(ctx) -> None:
    """Pod groups from network_mode: service:x and kompose.service.group / x-kubernetes.group."""
    services = ctx.project.services
    parent = {name: name for name in services}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):  # b's root becomes the root: b hosts the pod
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for svc in services.values():
        mode = svc.network_mode or ""
        if mode.startswith("service:"):
            target = mode.split(":", 1)[1]
            if target in services:
                union(svc.name, target)
                ctx.report.mapped(svc.name, "network_mode", f"a container in {target}'s pod")
            else:
                ctx.report.not_converted(svc.name, "network_mode",
                                         f"service {target} is not part of the project")
    by_label: dict[str, list[str]] = {}
    mode = ctx.options.service_group_mode
    for svc in services.values():
        hints = ctx.hints[svc.name]
        group = hints.group or (hints.group_label if mode == "label" else None)
        if group:
            by_label.setdefault(group, []).append(svc.name)
        elif hints.group_label:
            ctx.report.not_converted(svc.name, "labels.kompose.service.group",
                                     "applies only with --service-group-mode label (as in "
                                     "kompose); x-kubernetes group always applies")
    for members in by_label.values():
        for m in members[1:]:
            union(m, members[0])
    if mode == "volume":
        by_source: dict[str, list[str]] = {}
        for svc in services.values():
            for mount in svc.volumes:
                if mount.type in ("volume", "bind") and mount.source:
                    by_source.setdefault(mount.source, []).append(svc.name)
        for members in by_source.values():
            for m in members[1:]:
                union(m, members[0])
    members_of: dict[str, list[str]] = {}
    for name in services:
        members_of.setdefault(find(name), []).append(name)
    taken: dict[str, str] = {}
    for root, members in members_of.items():
        labelled = sorted({_group_of(ctx, m) for m in members if _group_of(ctx, m)})
        if not labelled and mode == "volume" and len(members) > 1:
            labelled = [ctx.options.service_group_name or "-".join(sorted(members))]
        if len(labelled) > 1:
            raise ConversionError(f"services {', '.join(members)} share a pod but name "
                                  f"different groups: {', '.join(labelled)}")
        gname = names.dns_label(labelled[0], prefix="grp") if labelled else ctx.names[root]
        if gname in taken and taken[gname] != root:
            raise ConversionError(f"the pod group {gname!r} and service {taken[gname]!r} "
                                  "would share a name")
        for m in members:
            if ctx.names[m] == gname and find(m) != root:
                raise ConversionError(f"the service group {gname!r} has the name of service {m!r}")
        taken[gname] = root
        ordered = [root] + sorted(m for m in members if m != root)
        group = PodGroup(name=gname, primary=root, members=ordered)
        ctx.groups[gname] = group
        for m in members:
            ctx.group_of[m] = group
            if _group_of(ctx, m):
                key = "x-kubernetes" if ctx.hints[m].group else "labels.kompose.service.group"
                ctx.report.mapped(m, key, f"a container in pod {gname}")
            elif labelled and mode == "volume":
                ctx.report.mapped(m, "volumes", f"shares volumes: a container in pod {gname} "
                                                "(--service-group-mode volume)")


def _group_of(ctx, name: str) -> str | None:
    hints = ctx.hints[name]
    if hints.group:
        return hints.group
    return hints.group_label if ctx.options.service_group_mode == "label" else None


def _workload(ctx, group: PodGroup, file_objects) -> None:
    project = ctx.project
    kind = ctx.kinds[group.name]
    pod = storage.PodVolumes()
    containers, secrets = [], {}
    cnames = names.NameSet()
    spec: dict = {}
    security: dict = {}
    annotations, pod_annotations, workload_labels = {}, {}, {}
    pull_secrets: list[str] = []
    init: list[dict] = []
    for member in group.members:
        svc = project.services[member]
        hints = ctx.hints[member]
        if member != group.primary and ctx.kinds[group.name] != decide_kind(ctx, svc):
            ctx.report.approximated(member, "restart", f"runs in {group.name}'s pod, as a "
                                                       f"{kind}")
        mounts = storage.service_mounts(ctx, svc, pod, kind)
        mounts += config.service_mounts(ctx, svc, pod, file_objects)
        cname = svc.container_name or ctx.names[member]
        if svc.container_name:
            ctx.report.mapped(member, "container_name", "the container's name in the pod")
        cname = cnames.take(names.dns_label(cname, prefix="c"))
        body, secret = container(ctx, svc, name=cname, mounts=mounts)
        containers.append(body)
        if secret:
            secrets.update(secret)
            _env_secret(ctx, member, secret)
        pod_settings(ctx, svc, spec, security)
        for k, v in labels.split_compose_labels(svc.labels, ctx.report, member).items():
            annotations.setdefault(k, v)
        for k, v in svc.annotations.items():
            if names.is_qualified_key(k):
                pod_annotations.setdefault(k, str(v))
                ctx.report.mapped(member, "annotations", "pod annotations")
            else:
                ctx.report.not_converted(member, f"annotations.{k}", "not a valid annotation key")
        if svc.deploy and svc.deploy.labels:
            workload_labels.update(labels.valid_labels(svc.deploy.labels, ctx.report, member,
                                                       "deploy.labels"))
        for secret_name in hints.image_pull_secrets:
            if secret_name not in pull_secrets:
                pull_secrets.append(secret_name)
        if hints.image_pull_secrets:
            ctx.report.mapped(member, "labels.kompose.image-pull-secret", "imagePullSecrets")
        for item in hints.init_containers:
            entry = {"name": cnames.take(names.dns_label(item["name"], prefix="init")),
                     "image": item["image"]}
            if item["command"]:
                entry["command"] = list(item["command"])
            init.append(entry)
            ctx.report.mapped(member, "labels.kompose.init.containers", "init container")
        if hints.service_account and "serviceAccountName" not in spec:
            spec["serviceAccountName"] = hints.service_account
            ctx.report.mapped(member, "labels.kompose.serviceaccount-name", "serviceAccountName")
        if hints.fs_group is not None and "fsGroup" not in security:
            security["fsGroup"] = hints.fs_group
            ctx.report.mapped(member, "labels.kompose.security-context.fsgroup", "fsGroup")
        if svc.profiles:
            ctx.report.mapped(member, "profiles", "converted because its profile is active")
        if svc.links:
            ctx.report.mapped(member, "links", "service names resolve through Services")
    for wait in wait_containers(ctx, group, pod):
        wait["name"] = cnames.take(wait["name"])
        init.append(wait)
    jobwait.pod_identity(ctx, group, spec)
    pod_spec: dict = {}
    for key in ("serviceAccountName", "automountServiceAccountToken", "hostname",
                "hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace"):
        if key in spec:
            pod_spec[key] = spec.pop(key)
    if security:
        pod_spec["securityContext"] = security
    if pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in pull_secrets]
    for copy in pod.copy_containers(ctx.options.wait_image):   # first: the app's files
        copy["name"] = cnames.take(copy["name"])
        init.insert(0, copy)
    if init:
        pod_spec["initContainers"] = init
    pod_spec["containers"] = containers
    if pod.volumes:
        pod_spec["volumes"] = pod.volumes
    pod_spec.update(spec)
    pod_labels = dict(labels.common(group.name, ctx.project.name))
    pod_labels.update(policies.pod_network_labels(ctx, group))
    pod_meta: dict = {"labels": pod_labels}
    if pod_annotations:
        pod_meta["annotations"] = pod_annotations
    obj = workload(ctx, group, pod_spec, pod_meta, pod, annotations, workload_labels)
    ctx.add(obj, f"service {group.primary!r}")


def _env_secret(ctx, member, secret: dict) -> None:
    import base64
    kname = ctx.names[member]
    name = names.join(kname, "env")
    ctx.add({"apiVersion": "v1", "kind": "Secret",
             "metadata": ctx.meta(name, ctx.group_of[member].name), "type": "Opaque",
             "data": {names.config_key(k): base64.b64encode(v.encode("utf-8")).decode("ascii")
                      for k, v in sorted(secret.items())}},
            f"the secret environment of service {member!r}")


def _namespaced(ctx, objects: list[dict], namespace: str) -> list[dict]:
    if not names.is_dns_label(namespace):
        raise ConversionError(f"namespace {namespace!r} is not a valid Kubernetes name",
                              hint="use lowercase letters, digits and '-', at most 63")
    out = [{"apiVersion": "v1", "kind": "Namespace",
            "metadata": ctx.meta(namespace, ctx.project.name)}]
    for obj in objects:
        meta = obj["metadata"]
        obj["metadata"] = {"name": meta["name"], "namespace": namespace,
                           **{k: v for k, v in meta.items() if k != "name"}}
        out.append(obj)
    return out

"""Canonical project dict → the frozen typed model (converter.model)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import model as m
from . import units

_SERVICE_FIELDS = {
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose",
    "volumes", "tmpfs", "healthcheck", "deploy", "depends_on", "restart", "labels",
    "annotations", "container_name", "hostname", "domainname", "user", "working_dir",
    "networks", "network_mode", "cap_add", "cap_drop", "privileged", "read_only",
    "security_opt", "sysctls", "stdin_open", "tty", "init", "extra_hosts", "dns", "dns_search",
    "dns_opt", "shm_size", "stop_grace_period", "stop_signal", "pull_policy", "mem_limit",
    "mem_reservation", "cpus", "pids_limit", "scale", "profiles", "secrets", "configs", "links",
    "ulimits", "group_add", "platform",
}


def _seconds(value):
    return None if value is None else units.parse_duration(value)


def _bytes(value):
    return None if value is None else units.parse_bytes(value)


def _hosts(items) -> tuple:
    out = []
    for item in items or ():
        host, _, ip = str(item).partition("=")
        out.append((host, ip))
    return tuple(out)


def _file_ref(ref: dict) -> m.FileRef:
    mode = ref.get("mode")
    return m.FileRef(source=ref["source"], target=ref.get("target"), uid=ref.get("uid"),
                     gid=ref.get("gid"), mode=int(mode, 8) if isinstance(mode, str) else mode)


def _build(build: dict | None) -> m.BuildConfig | None:
    if not build:
        return None
    return m.BuildConfig(
        context=build.get("context", "."), dockerfile=build.get("dockerfile"),
        dockerfile_inline=build.get("dockerfile_inline"),
        args=m.frozen_map(build.get("args")), target=build.get("target"),
        labels=m.frozen_map(build.get("labels")),
        cache_from=tuple(build.get("cache_from") or ()),
        cache_to=tuple(build.get("cache_to") or ()), network=build.get("network"),
        shm_size=_bytes(build.get("shm_size")), extra_hosts=_hosts(build.get("extra_hosts")),
        platforms=tuple(build.get("platforms") or ()), tags=tuple(build.get("tags") or ()),
        pull=bool(build.get("pull")), no_cache=bool(build.get("no_cache")),
        secrets=tuple(_file_ref(s) for s in build.get("secrets") or ()),
        ssh=tuple(build.get("ssh") or ()),
        additional_contexts=m.frozen_map(build.get("additional_contexts")))


def _mount(v: dict) -> m.Mount:
    bind = v.get("bind") or {}
    volume = v.get("volume") or {}
    tmpfs = v.get("tmpfs") or {}
    return m.Mount(
        type=v["type"], target=v["target"], source=v.get("source"),
        read_only=bool(v.get("read_only")), subpath=volume.get("subpath"),
        nocopy=bool(volume.get("nocopy")),
        tmpfs_size=_bytes(tmpfs.get("size")) if tmpfs.get("size") is not None else None,
        tmpfs_mode=tmpfs.get("mode"),
        create_host_path=bool(bind.get("create_host_path", True)),
        propagation=bind.get("propagation"), consistency=v.get("consistency"))


def _healthcheck(h: dict | None) -> m.Healthcheck | None:
    if h is None:
        return None
    test = h.get("test")
    return m.Healthcheck(
        test=tuple(test) if test else None, interval=_seconds(h.get("interval")),
        timeout=_seconds(h.get("timeout")), retries=h.get("retries"),
        start_period=_seconds(h.get("start_period")),
        start_interval=_seconds(h.get("start_interval")),
        disable=bool(h.get("disable")) or (tuple(test or ()) == ("NONE",)))


def _resources(spec: dict | None) -> m.ResourceSpec:
    spec = spec or {}
    return m.ResourceSpec(
        cpus=float(spec["cpus"]) if spec.get("cpus") is not None else None,
        memory=_bytes(spec.get("memory")), pids=spec.get("pids"),
        devices=tuple(m.frozen_map(d) for d in spec.get("devices") or ()))


def _update(spec: dict | None) -> m.UpdateConfig | None:
    if not spec:
        return None
    return m.UpdateConfig(parallelism=spec.get("parallelism"), delay=_seconds(spec.get("delay")),
                          failure_action=spec.get("failure_action"),
                          monitor=_seconds(spec.get("monitor")),
                          max_failure_ratio=spec.get("max_failure_ratio"),
                          order=spec.get("order"))


def _deploy(d: dict | None) -> m.Deploy | None:
    if d is None:
        return None
    resources = d.get("resources") or {}
    rp = d.get("restart_policy")
    placement = d.get("placement")
    return m.Deploy(
        mode=d.get("mode"), replicas=d.get("replicas"), labels=m.frozen_map(d.get("labels")),
        limits=_resources(resources.get("limits")),
        reservations=_resources(resources.get("reservations")),
        restart_policy=m.RestartPolicy(
            condition=rp.get("condition"), delay=_seconds(rp.get("delay")),
            max_attempts=rp.get("max_attempts"), window=_seconds(rp.get("window")))
        if rp else None,
        placement=m.Placement(
            constraints=tuple(placement.get("constraints") or ()),
            preferences=tuple(m.frozen_map(p) for p in placement.get("preferences") or ()),
            max_replicas_per_node=placement.get("max_replicas_per_node"))
        if placement else None,
        update_config=_update(d.get("update_config")),
        rollback_config=_update(d.get("rollback_config")),
        endpoint_mode=d.get("endpoint_mode"))


def _networks(networks: dict | None) -> Mapping[str, m.NetworkAttachment | None]:
    out: dict[str, m.NetworkAttachment | None] = {}
    for name, cfg in (networks or {}).items():
        if cfg is None:
            out[name] = None
        else:
            out[name] = m.NetworkAttachment(
                aliases=tuple(cfg.get("aliases") or ()), ipv4_address=cfg.get("ipv4_address"),
                ipv6_address=cfg.get("ipv6_address"), priority=cfg.get("priority"))
    return m.frozen_map(out)


def build_service(name: str, s: dict) -> m.Service:
    other = {k: v for k, v in s.items() if k not in _SERVICE_FIELDS and not k.startswith("x-")}
    init = s.get("init")
    return m.Service(
        name=name, image=s.get("image"), build=_build(s.get("build")),
        command=tuple(s["command"]) if s.get("command") is not None else None,
        entrypoint=tuple(s["entrypoint"]) if s.get("entrypoint") is not None else None,
        environment=m.frozen_map(s.get("environment")),
        env_files=tuple(e["path"] for e in s.get("env_file") or ()),
        ports=tuple(m.Port(target=p["target"], published=p.get("published"),
                           protocol=p.get("protocol", "tcp"), host_ip=p.get("host_ip"),
                           mode=p.get("mode", "ingress"), name=p.get("name"),
                           app_protocol=p.get("app_protocol")) for p in s.get("ports") or ()),
        expose=tuple(s.get("expose") or ()),
        volumes=tuple(_mount(v) for v in s.get("volumes") or ()),
        tmpfs=tuple(s.get("tmpfs") or ()), healthcheck=_healthcheck(s.get("healthcheck")),
        deploy=_deploy(s.get("deploy")),
        depends_on=m.frozen_map({dep: m.Dependency(condition=cfg.get("condition",
                                                                     "service_started"),
                                                   required=cfg.get("required", True),
                                                   restart=bool(cfg.get("restart")))
                                 for dep, cfg in (s.get("depends_on") or {}).items()}),
        restart=s.get("restart"), labels=m.frozen_map(s.get("labels")),
        annotations=m.frozen_map(s.get("annotations")),
        container_name=s.get("container_name"), hostname=s.get("hostname"),
        domainname=s.get("domainname"),
        user=str(s["user"]) if s.get("user") is not None else None,
        working_dir=s.get("working_dir"), networks=_networks(s.get("networks")),
        network_mode=s.get("network_mode"), cap_add=tuple(s.get("cap_add") or ()),
        cap_drop=tuple(s.get("cap_drop") or ()), privileged=bool(s.get("privileged")),
        read_only=bool(s.get("read_only")), security_opt=tuple(s.get("security_opt") or ()),
        sysctls=m.frozen_map(s.get("sysctls")), stdin_open=bool(s.get("stdin_open")),
        tty=bool(s.get("tty")), init=init if init is None else bool(init),
        extra_hosts=_hosts(s.get("extra_hosts")), dns=tuple(s.get("dns") or ()),
        dns_search=tuple(s.get("dns_search") or ()), dns_opt=tuple(s.get("dns_opt") or ()),
        shm_size=_bytes(s.get("shm_size")), stop_grace_period=_seconds(s.get("stop_grace_period")),
        stop_signal=s.get("stop_signal"), pull_policy=s.get("pull_policy"),
        mem_limit=_bytes(s.get("mem_limit")), mem_reservation=_bytes(s.get("mem_reservation")),
        cpus=s.get("cpus"), pids_limit=s.get("pids_limit"), scale=s.get("scale"),
        profiles=tuple(s.get("profiles") or ()),
        secrets=tuple(_file_ref(r) for r in s.get("secrets") or ()),
        configs=tuple(_file_ref(r) for r in s.get("configs") or ()),
        links=tuple(s.get("links") or ()), ulimits=m.frozen_map(s.get("ulimits")),
        group_add=tuple(str(g) for g in s.get("group_add") or ()), platform=s.get("platform"),
        extensions=m.frozen_map({k: v for k, v in s.items() if k.startswith("x-")}),
        other=m.frozen_map(other))


def _ext(entry: dict) -> Mapping[str, Any]:
    return m.frozen_map({k: v for k, v in entry.items() if k.startswith("x-")})


def build_project(c: dict, *, working_dir: str, compose_files=(), disabled=(),
                  environment=None) -> m.Project:
    volumes = {k: m.Volume(name=k, external_name=v.get("name"), driver=v.get("driver"),
                           driver_opts=m.frozen_map(v.get("driver_opts")),
                           external=bool(v.get("external")), labels=m.frozen_map(v.get("labels")),
                           extensions=_ext(v))
               for k, v in (c.get("volumes") or {}).items()}
    networks = {k: m.Network(name=k, external_name=v.get("name"), driver=v.get("driver"),
                             external=bool(v.get("external")), internal=bool(v.get("internal")),
                             labels=m.frozen_map(v.get("labels")), extensions=_ext(v))
                for k, v in (c.get("networks") or {}).items()}

    def file_objects(section):
        return {k: m.FileObject(name=k, external_name=v.get("name"), file=v.get("file"),
                                content=v.get("content"), environment=v.get("environment"),
                                external=bool(v.get("external")),
                                labels=m.frozen_map(v.get("labels")), extensions=_ext(v))
                for k, v in (c.get(section) or {}).items()}

    return m.Project(
        name=c["name"], working_dir=working_dir,
        services=m.frozen_map({n: build_service(n, s) for n, s in c["services"].items()}),
        volumes=m.frozen_map(volumes), networks=m.frozen_map(networks),
        secrets=m.frozen_map(file_objects("secrets")), configs=m.frozen_map(file_objects("configs")),
        extensions=m.frozen_map({k: v for k, v in c.items() if k.startswith("x-")}),
        compose_files=tuple(compose_files), disabled_services=tuple(disabled),
        environment=m.frozen_map(environment or {}))

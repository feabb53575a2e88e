"""Short syntax → long form: the canonical project dict `docker compose config` prints.

Runs after interpolation, merge and validation. Input paths are already absolute (paths.py);
env files are read here because compose folds them into `environment`.
"""

from __future__ import annotations

import os
import stat

from ..errors import ComposeError
from . import commands, units
from .merge import key_value_map
from .mounts import normalize_mount
from .ports import normalize_ports

_BOOL_KEYS = {"privileged", "read_only", "stdin_open", "tty", "init", "oom_kill_disable"}
_INT_KEYS = {"scale", "pids_limit", "oom_score_adj", "cpu_shares", "cpu_count", "cpu_percent",
             "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime"}
_BYTE_KEYS = {"mem_limit", "mem_reservation", "memswap_limit", "shm_size", "mem_swappiness"}
_DURATION_KEYS = {"stop_grace_period"}
_LIST_KEYS = {"dns", "dns_search", "dns_opt", "tmpfs", "cap_add", "cap_drop", "security_opt",
              "profiles", "links", "external_links", "volumes_from", "group_add",
              "device_cgroup_rules"}


def normalize_project(doc: dict, *, name: str, read_env_file, environ, warn) -> dict:
    """The whole canonical project (services sorted by name, defaults filled in).

    `warn(message, key_path, hint)` hears about what docker compose does silently (a command
    string cut short)."""
    out: dict = {"name": name}
    services = {}
    uses_default_network = False
    for svc_name in sorted(doc.get("services") or {}):
        svc = doc["services"][svc_name] or {}
        canonical = normalize_service(svc_name, svc, read_env_file=read_env_file,
                                      environ=environ, warn=warn)
        if "network_mode" not in canonical and "default" in canonical.get("networks", {}):
            uses_default_network = True
        services[svc_name] = canonical
    out["services"] = services
    networks = dict(doc.get("networks") or {})
    if uses_default_network and "default" not in networks:
        networks["default"] = None
    used = _used_resources(services)
    for section, entries in (("networks", networks), ("volumes", doc.get("volumes") or {}),
                             ("secrets", doc.get("secrets") or {}),
                             ("configs", doc.get("configs") or {})):
        entries = {key: value for key, value in entries.items() if key in used[section]}
        if entries:
            out[section] = {key: _top_level(section, key, value, name)
                            for key, value in entries.items()}
    models = {key: value for key, value in (doc.get("models") or {}).items()
              if key in used["models"]}
    if models:
        out["models"] = models
    for key, value in doc.items():
        if key.startswith("x-"):
            out[key] = value
    return out


def _used_resources(services: dict) -> dict[str, set]:
    """The top-level entries the (enabled) services use: docker compose keeps only those."""
    used: dict[str, set] = {"networks": set(), "volumes": set(), "secrets": set(),
                            "configs": set(), "models": set()}
    for svc in services.values():
        used["networks"].update(svc.get("networks") or ())
        used["volumes"].update(m["source"] for m in svc.get("volumes") or ()
                               if m.get("type") == "volume" and m.get("source"))
        for refs, kind in ((svc.get("secrets"), "secrets"), (svc.get("configs"), "configs"),
                           ((svc.get("build") or {}).get("secrets"), "secrets")):
            used[kind].update(ref["source"] for ref in refs or ())
        used["models"].update(svc.get("models") or ())
    return used


def _top_level(section: str, key: str, value, project: str) -> dict:
    if not key or (value is not None and not isinstance(value, dict)):
        raise ComposeError(f"{section} entry {key!r} must be a named mapping",
                           path=(section, key),
                           hint=f"write it as `{section}: {{NAME: {{...}}}}`")
    entry = dict(value or {})
    external = entry.get("external")
    if isinstance(external, dict):          # the old `external: {name: x}` spelling
        entry["name"] = external.get("name", entry.get("name"))
        entry["external"] = True
    elif external is not None:
        entry["external"] = units.to_bool(external, (section, key, "external"))
    if entry.get("external"):
        entry.setdefault("name", key)
    else:
        entry.pop("external", None)
        entry.setdefault("name", f"{project}_{key}")
    if "labels" in entry:
        entry["labels"] = _string_map(entry["labels"])
    if section in ("secrets", "configs") and isinstance(entry.get("file"), str):
        _check_special_file(entry["file"], section, (section, key, "file"))
    for flag in ("internal", "attachable", "enable_ipv6", "enable_ipv4"):
        if flag in entry:
            entry[flag] = units.to_bool(entry[flag], (section, key, flag))
    return entry


def _check_special_file(path: str, section: str, where) -> None:
    """A secret/config `file:` may lie outside the project (compose allows it), but a device,
    FIFO or socket is never read: `/dev/zero` would never end and a FIFO would block."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return                  # missing: the conversion reports it
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ComposeError(f"{section[:-1]} file {path} is not a regular file or folder "
                           "(a device, FIFO or socket)", path=where,
                           hint="point `file:` at a regular file")


def _size(value, where, *, unlimited: bool = False) -> int:
    """A byte size; negative ones are refused (-1 means unlimited where docker allows it)."""
    size = units.parse_bytes(value, where)
    if size < 0 and not (unlimited and size == -1):
        raise ComposeError(f"invalid size {value!r}: a size cannot be negative", path=where)
    return size


def _cpus(value, where) -> float:
    cpus = units.to_float(value, where)
    if cpus < 0:
        raise ComposeError(f"invalid cpus {value!r}: cannot be negative", path=where)
    return cpus


def _string_map(value) -> dict:
    return {k: units.scalar_text(v) if v is not None else "" for k, v in
            key_value_map(value).items()}


def normalize_service(name: str, svc: dict, *, read_env_file, environ, warn) -> dict:
    path = ("services", name)
    out: dict = {}
    for key, value in svc.items():
        where = path + (key,)
        if value is None and key not in ("networks",):
            continue
        if key == "build":
            out[key] = _build(value, where, environ)
        elif key in ("command", "entrypoint"):
            out[key] = commands.words(value, where, warn)
        elif key in ("post_start", "pre_stop"):
            out[key] = [commands.hook(hook, where + (i,), warn) for i, hook in enumerate(value)]
        elif key == "environment":
            out[key] = _environment(value, where)
        elif key in ("labels", "annotations", "sysctls"):
            out[key] = _string_map(value)
        elif key == "env_file":
            out[key] = [_env_file_entry(item) for item in value]
        elif key == "label_file":
            out[key] = list(value)
        elif key == "ports":
            out[key] = normalize_ports(value, where)
        elif key == "expose":
            out[key] = [str(v) for v in value]
        elif key == "volumes":
            out[key] = [normalize_mount(v, where + (i,), warn) for i, v in enumerate(value)]
        elif key == "healthcheck":
            out[key] = _healthcheck(value, where)
        elif key == "depends_on":
            out[key] = _depends_on(value, where)
        elif key == "deploy":
            out[key] = _deploy(value, where)
        elif key == "networks":
            out[key] = {n: cfg for n, cfg in value.items()} if isinstance(value, dict) \
                else {n: None for n in value}
        elif key in ("secrets", "configs"):
            out[key] = [_file_ref(v, key, where + (i,)) for i, v in enumerate(value)]
        elif key == "extra_hosts":
            out[key] = _extra_hosts(value)
        elif key == "provider":
            out[key] = _provider(value)
        elif key == "develop":
            out[key] = commands.develop(value, where, warn)
        elif key == "devices":
            out[key] = [_device(v, where + (i,)) for i, v in enumerate(value)]
        elif key in _BOOL_KEYS:
            out[key] = units.to_bool(value, where)
        elif key in _INT_KEYS:
            out[key] = units.to_int(value, where)
        elif key in _BYTE_KEYS:
            out[key] = str(_size(value, where, unlimited=key == "memswap_limit"))
        elif key in _DURATION_KEYS:
            out[key] = units.format_duration(units.parse_duration(value, where))
        elif key == "cpus":
            out[key] = _cpus(value, where)
        elif key in _LIST_KEYS:
            out[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            if key == "dns":                    # compose drops empty servers (an unset ${VAR})
                out[key] = [server for server in out[key] if server]
        elif key == "ulimits":
            out[key] = {k: (units.to_int(v, where + (k,)) if not isinstance(v, dict) else
                            {kk: units.to_int(vv, where + (k, kk)) for kk, vv in v.items()})
                        for k, v in value.items()}
        elif key == "restart":
            out[key] = str(value)
        else:
            out[key] = value
    _implicit_dependencies(out)
    if "env_file" in out:
        out["environment"] = _with_env_files(out, read_env_file, path)
    if "label_file" in out:
        labels: dict = {}
        for index, label_file in enumerate(out["label_file"]):
            labels.update(read_env_file(label_file, path + ("label_file", index)))
        labels.update(out.get("labels") or {})
        out["labels"] = labels
    if "environment" in out:
        out["environment"] = _resolve_unset(out["environment"], environ)
    if "network_mode" not in out and "provider" not in out and not out.get("networks"):
        out["networks"] = {"default": None}
    return {k: out[k] for k in sorted(out) if k in _KEPT_WHEN_EMPTY or not _empty(k, out[k])}


# docker compose prints no key whose value is empty, false or zero (Go's `omitempty`), except
# those it holds as pointers: `init: false` or `command: []` (clear the image's) still count.
_KEPT_WHEN_EMPTY = {"command", "entrypoint", "init", "scale", "stop_grace_period", "attach",
                    "build", "deploy", "develop", "healthcheck", "logging", "blkio_config",
                    "credential_spec", "extends", "provider"}


def _empty(key: str, value) -> bool:
    if key.startswith("x-"):
        return False
    return value in ("", False, 0, [], {}) or (key in _BYTE_KEYS and value == "0")


def _without_empty(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if not _empty(k, v)}


def _device(value, path) -> dict:
    """`SOURCE[:TARGET[:PERMISSIONS]]` in long form (target: the source; permissions: rwm)."""
    if isinstance(value, dict):
        return value
    parts = str(value).split(":")
    if len(parts) > 3:
        raise ComposeError(f"confusing device mapping {value!r}", path=path,
                           hint="use the long syntax: {source: ..., target: ..., "
                                "permissions: ...}")
    target = parts[1] if len(parts) > 1 else ""
    return {"source": parts[0], "target": target or parts[0],
            "permissions": parts[2] if len(parts) > 2 else "rwm"}


def _provider(value: dict) -> dict:
    """Each provider option is a list of strings (`--option value` may repeat)."""
    provider = dict(value)
    if isinstance(provider.get("options"), dict):
        provider["options"] = {
            name: [units.scalar_text(v) for v in (option if isinstance(option, list) else
                                                  [option])]
            for name, option in provider["options"].items()}
    return provider


def _extra_hosts(value) -> list[str]:
    """One `host=ip` per address, sorted, as compose prints them (`h=a,b` is two)."""
    out = []
    for item in value:                          # merge made every entry `host=ips`
        host, _, addresses = str(item).partition("=")
        for ip in addresses.split(","):
            out.append(f"{host}={ip[1:-1] if len(ip) > 2 and ip[0] + ip[-1] == '[]' else ip}")
    return sorted(out)


def _environment(value, path) -> dict:
    env = {}
    for key, item in key_value_map(value).items():
        if key != key.rstrip():
            raise ComposeError(f"environment variable {key!r} is declared with a trailing space",
                               path=path + (key,), hint="remove the space before '='")
        env[key] = units.scalar_text(item)
    return env


def _implicit_dependencies(service: dict) -> None:
    """links, `service:` namespaces and volumes_from make a service depend on another; compose
    restarts it with a linked or namespace-sharing service, not with a volumes_from one."""
    needed = []                                 # (service, restart), in compose's order
    for link in service.get("links") or ():
        parts = str(link).split(":")
        needed.append((parts[0] if len(parts) == 2 else str(link), True))
    for key in ("network_mode", "ipc", "pid", "uts", "cgroup"):
        value = service.get(key)
        if isinstance(value, str) and value.startswith("service:"):
            needed.append((value.split(":", 1)[1], True))
    for ref in service.get("volumes_from") or ():
        text = str(ref)
        if not text.startswith("container:"):
            needed.append((text.split(":")[0].removeprefix("service:"), False))
    if not needed:
        return
    deps = dict(service.get("depends_on") or {})
    for name, restart in needed:
        implied = {"condition": "service_started", "required": True}
        deps.setdefault(name, {**implied, "restart": True} if restart else implied)
    service["depends_on"] = deps


def _env_file_entry(item) -> dict:
    if isinstance(item, dict):
        entry = {"path": item["path"]}
        if "required" in item and not units.to_bool(item["required"]):
            entry["required"] = False
        if item.get("format"):
            entry["format"] = item["format"]
        return entry
    return {"path": item}


def _with_env_files(service: dict, read_env_file, path) -> dict:
    """environment wins over env_file values; later env files win over earlier ones."""
    merged: dict = {}
    for index, entry in enumerate(service["env_file"]):
        required = entry.get("required", True)
        if not os.path.exists(entry["path"]) and not required:
            continue
        merged.update(read_env_file(entry["path"], path + ("env_file", index),
                                    service.get("environment")))
    merged.update(service.get("environment") or {})
    return merged


def _resolve_unset(env: dict, environ) -> dict:
    """`environment: [KEY]` takes KEY's value from the environment compose runs in, if set."""
    out = {}
    for key, value in env.items():
        if value is None:
            value = environ.get(key)
        out[key] = value
    return out


def _build(value, path, environ) -> dict:
    build = {"context": value} if isinstance(value, str) else dict(value)
    build.setdefault("context", ".")
    if "dockerfile" not in build and "dockerfile_inline" not in build:
        build["dockerfile"] = "Dockerfile"
    for key in ("args", "additional_contexts"):
        if key in build:
            build[key] = {k: units.scalar_text(v) for k, v in key_value_map(build[key]).items()}
    for key in ("sbom", "provenance"):           # strings for buildx, `true` included
        if key in build:
            build[key] = units.scalar_text(build[key])
    if "labels" in build:
        build["labels"] = _string_map(build["labels"])
    if "args" in build:       # `ARG:` with no value: from the environment, else left out
        args = {k: environ.get(k) if v is None else v for k, v in build["args"].items()}
        build["args"] = {k: v for k, v in args.items() if v is not None}
    if "shm_size" in build:
        build["shm_size"] = str(units.parse_bytes(build["shm_size"], path + ("shm_size",)))
    for flag in ("no_cache", "pull", "privileged"):
        if flag in build:
            build[flag] = units.to_bool(build[flag], path + (flag,))
    if "secrets" in build:
        build["secrets"] = [_file_ref(v, "secrets", path + ("secrets", i))
                            for i, v in enumerate(build["secrets"])]
    return _without_empty(build)


def _healthcheck(value, path) -> dict:
    out = dict(value)
    test = out.get("test")
    if isinstance(test, str):
        out["test"] = ["CMD-SHELL", test]
    elif isinstance(test, list):
        out["test"] = [units.scalar_text(v) for v in test]
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if out.get(key) is not None:
            out[key] = units.format_duration(units.parse_duration(out[key], path + (key,)))
    if "retries" in out and out["retries"] is not None:
        out["retries"] = units.to_int(out["retries"], path + ("retries",))
    if "disable" in out:
        out["disable"] = units.to_bool(out["disable"], path + ("disable",))
        if not out["disable"]:
            del out["disable"]
    return out


def _depends_on(value, path) -> dict:
    out = {}
    items = value.items() if isinstance(value, dict) else ((n, None) for n in value)
    for dep, cfg in items:
        cfg = dict(cfg or {})
        entry = {"condition": cfg.get("condition") or "service_started",
                 "required": units.to_bool(cfg.get("required", True), path + (dep, "required"))}
        if cfg.get("restart") is not None and units.to_bool(cfg["restart"]):
            entry["restart"] = True
        out[dep] = entry
    return out


def _deploy(value, path) -> dict:
    out = dict(value)
    if out.get("replicas") is not None:
        out["replicas"] = units.to_int(out["replicas"], path + ("replicas",))
    if "labels" in out:
        out["labels"] = _string_map(out["labels"])
    resources = out.get("resources")
    if isinstance(resources, dict):
        fixed = {}
        for part in ("limits", "reservations"):
            spec = resources.get(part)
            if isinstance(spec, dict):
                spec = dict(spec)
                if spec.get("cpus") is not None:
                    spec["cpus"] = _cpus(spec["cpus"], path + ("resources", part, "cpus"))
                if spec.get("memory") is not None:
                    spec["memory"] = str(_size(spec["memory"],
                                               path + ("resources", part, "memory")))
                if spec.get("pids") is not None:
                    spec["pids"] = units.to_int(spec["pids"], path + ("resources", part, "pids"))
                fixed[part] = spec
        out["resources"] = {**resources, **fixed}
    for part in ("restart_policy", "update_config", "rollback_config"):
        spec = out.get(part)
        if isinstance(spec, dict):
            spec = dict(spec)
            for key in ("delay", "window", "monitor"):
                if spec.get(key) is not None:
                    spec[key] = units.format_duration(units.parse_duration(spec[key],
                                                                           path + (part, key)))
            for key in ("max_attempts", "parallelism"):
                if spec.get(key) is not None:
                    spec[key] = units.to_int(spec[key], path + (part, key))
            out[part] = spec
    return out


def _file_ref(value, kind: str, path) -> dict:
    if isinstance(value, str):
        ref = {"source": value}
    else:
        ref = {k: v for k, v in value.items() if v is not None}
    if kind == "secrets" and not ref.get("target"):
        ref["target"] = f"/run/secrets/{ref['source']}"
    for key in ("uid", "gid"):
        if key in ref:
            ref[key] = str(ref[key])
    if "mode" in ref:
        mode = ref["mode"]
        if isinstance(mode, str):
            mode = int(mode, 8)
        ref["mode"] = "0" + format(int(mode), "o")
    return ref

"""Merging compose documents (several -f files, extends, include) by compose's rules.

Rules, as docker compose applies them:
- mappings merge key by key; scalars in the override replace the base;
- sequences are appended, then made unique by a per-attribute key (ports by their spec,
  volumes by target, secrets/configs by target, env_file by path...), the later entry winning;
- ``command``, ``entrypoint`` and ``healthcheck.test`` are replaced, never appended;
- attributes that may be written as a list or a mapping (environment, labels, networks,
  depends_on, extra_hosts...) are first brought to one form so both spellings merge;
- ``!reset`` removes what the base had; ``!override`` replaces it wholesale.

Inputs are never mutated: YAML aliases share objects between services.
"""

from __future__ import annotations

from .yamlfile import OVERRIDE_TAG, RESET_TAG, Tagged

# Attributes written as "KEY=VALUE" lists or as mappings; merged as mappings.
_KEY_VALUE = {"environment", "labels", "annotations", "sysctls"}
_BUILD_KEY_VALUE = {"args", "labels", "additional_contexts"}
_STRING_OR_LIST = {"dns", "dns_search", "dns_opt", "env_file", "label_file", "tmpfs",
                   "cap_add", "cap_drop", "profiles", "security_opt", "expose", "links",
                   "external_links", "volumes_from", "group_add", "device_cgroup_rules"}


def split_key_value(item, sep: str = "="):
    """'KEY=VALUE' → (KEY, VALUE); 'KEY' → (KEY, None)."""
    text = item if isinstance(item, str) else str(item)
    if sep in text:
        key, value = text.split(sep, 1)
        return key, value
    return text, None


def _is_scalar(item) -> bool:
    return isinstance(item, Tagged) or not isinstance(item, (dict, list))


def _is_name(item) -> bool:
    return item is None or isinstance(item, (str, int, float, bool))


def key_value_map(value) -> dict:
    """A list of 'K=V' strings or a mapping → a mapping (values untouched)."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        if not all(_is_scalar(item) for item in value):
            return value        # not K=V strings: left for schema validation to report
        out = {}
        for item in value:
            if isinstance(item, Tagged):
                continue
            key, val = split_key_value(item)
            out[key] = val
        return out
    return value


def _extra_hosts_list(value):
    if isinstance(value, dict):
        out = []
        for host, ips in value.items():
            for ip in ips if isinstance(ips, list) else [ips]:
                out.append(f"{host}={ip}")
        return out
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str) and "=" not in item and ":" in item:
                host, ip = item.split(":", 1)   # the older HOST:IP spelling
                item = f"{host}={ip}"
            out.append(item)
        return out
    return value


def service_merge_form(service):
    """Bring one service's list-or-mapping attributes to the form they merge in."""
    if not isinstance(service, dict):
        return service
    out = dict(service)
    for key, value in service.items():
        if isinstance(value, Tagged):
            continue
        if key in _KEY_VALUE:
            out[key] = key_value_map(value)
        elif key in _STRING_OR_LIST and isinstance(value, (str, int)):
            out[key] = [value]
        elif key == "extra_hosts":
            out[key] = _extra_hosts_list(value)
        elif key == "networks" and isinstance(value, list) and all(map(_is_name, value)):
            out[key] = {name: None for name in value}
        elif key == "models" and isinstance(value, list) and all(map(_is_name, value)):
            out[key] = {name: None for name in value}
        elif key == "depends_on" and isinstance(value, list) and all(map(_is_name, value)):
            out[key] = {name: {"condition": "service_started"} for name in value}
        elif key == "build":
            out[key] = _build_merge_form(value)
        elif key == "deploy" and isinstance(value, dict) and "labels" in value:
            out[key] = {**value, "labels": key_value_map(value["labels"])}
    return out


def _build_merge_form(value):
    if isinstance(value, str):
        return {"context": value}
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key in _BUILD_KEY_VALUE:
        if key in out and not isinstance(out[key], Tagged):
            out[key] = key_value_map(out[key])
    if "extra_hosts" in out:
        out["extra_hosts"] = _extra_hosts_list(out["extra_hosts"])
    return out


def document_merge_form(doc: dict) -> dict:
    """Merge form for a whole document: services plus top-level labels."""
    if not isinstance(doc, dict):
        return doc
    out = dict(doc)
    services = doc.get("services")
    if isinstance(services, dict):
        out["services"] = {name: service_merge_form(svc) for name, svc in services.items()}
    for section in ("networks", "volumes", "secrets", "configs"):
        entries = doc.get(section)
        if isinstance(entries, dict):
            fixed = {}
            for name, entry in entries.items():
                if isinstance(entry, dict) and "labels" in entry:
                    entry = {**entry, "labels": key_value_map(entry["labels"])}
                fixed[name] = entry
            out[section] = fixed
    return out


# --- merging -------------------------------------------------------------------------------------

def merge_documents(base, override):
    """Merge two whole compose documents (both already in merge form)."""
    return _merge(base, override, ())


def merge_services(base: dict, override: dict) -> dict:
    """Merge a service definition onto another (extends uses this)."""
    return _merge(service_merge_form(base), service_merge_form(override), ("services", "*"))


def _merge(base, override, path):
    if isinstance(override, Tagged):
        if override.tag == RESET_TAG:
            return override          # removed by strip_tags unless a later file sets it again
        return strip_tags(override.value)
    if isinstance(base, Tagged):
        base = base.value if base.tag == OVERRIDE_TAG else None
    if _replaced(path):
        return override
    if base is None:
        return override
    if override is None:
        # `key:` with no value in an override keeps the base (compose treats null as unset),
        # except where null means "use defaults" in a mapping of networks/volumes.
        return base
    if isinstance(base, dict) and isinstance(override, dict):
        return _merge_mappings(base, override, path)
    if isinstance(base, list) and isinstance(override, list):
        return _merge_sequences(base, override, path)
    return override


def _merge_mappings(base: dict, override: dict, path):
    special = _MAPPING_RULES.get(_pattern(path))
    if special is not None:
        return special(base, override, path)
    out = dict(base)
    for key, value in override.items():
        child = path + (key,)
        if key in out:
            if _replaced(child):
                out[key] = value if not isinstance(value, Tagged) or value.tag == RESET_TAG \
                    else strip_tags(value.value)
            else:
                out[key] = _merge(out[key], value, child)
        else:
            out[key] = value
    return out


def _merge_sequences(base: list, override: list, path):
    if _replaced(path):
        return override
    if _pattern(path) == ("networks", "*", "ipam", "config"):
        return _merge_ipam_config(base, override, path)
    return list(base) + list(override)


def _merge_logging(base: dict, override: dict, path):
    # A different driver drops the base's options; the same (or no) driver merges them.
    if override.get("driver") not in (None, base.get("driver")):
        return dict(override)
    out = dict(base)
    for key, value in override.items():
        if key == "options" and isinstance(out.get("options"), dict) and isinstance(value, dict):
            out["options"] = {**out["options"], **value}
        else:
            out[key] = value
    return out


def _merge_ipam_config(base: list, override: list, path):
    # IPAM pools are matched by subnet; a matching pool merges, a new one is appended.
    out = list(base)
    index = {item.get("subnet"): i for i, item in enumerate(out) if isinstance(item, dict)}
    for item in override:
        subnet = item.get("subnet") if isinstance(item, dict) else None
        if subnet is not None and subnet in index:
            out[index[subnet]] = _merge(out[index[subnet]], item, path + (index[subnet],))
        else:
            out.append(item)
    return out


def _pattern(path) -> tuple:
    """Generalise a concrete path: services.<name>.x → services.*.x (and networks.<n>...)."""
    if len(path) >= 2 and path[0] in ("services", "networks", "volumes", "secrets", "configs"):
        return (path[0], "*") + tuple(path[2:])
    return tuple(path)


def _replaced(path) -> bool:
    """Is this attribute replaced wholesale rather than merged?"""
    for pattern in _REPLACE_PATHS:
        if len(pattern) == len(path) and all(p == "*" or p == k for p, k in zip(pattern, path)):
            return True
    return False


_MAPPING_RULES = {
    ("services", "*", "logging"): _merge_logging,
}
_REPLACE_PATHS = {
    ("services", "*", "healthcheck", "test"),
    ("services", "*", "ulimits", "*"),
    ("models", "*", "runtime_flags"),
    ("services", "*", "command"),
    ("services", "*", "entrypoint"),
}


# --- unicity ----------------------------------------------------------------------------------

def _port_key(item):
    if isinstance(item, dict):
        return (f"{item.get('host_ip', '')}:{item.get('published', '')}:"
                f"{item.get('target')}/{item.get('protocol', 'tcp')}")
    return str(item)


def _volume_key(item):
    if isinstance(item, dict):
        return item.get("target")
    text = str(item)
    parts = split_volume(text)
    return parts[1] if len(parts) > 1 else parts[0]


def split_volume(text: str) -> list[str]:
    """Split a short volume spec on ':' without breaking Windows drive letters (C:\\x)."""
    parts = text.split(":")
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if (len(part) == 1 and part.isalpha() and i + 1 < len(parts)
                and parts[i + 1][:1] in ("\\", "/") and len(out) < 2):
            out.append(part + ":" + parts[i + 1])
            i += 2
        else:
            out.append(part)
            i += 1
    return out


def _file_ref_key(default_dir: str):
    def key(item):
        if isinstance(item, dict):
            target = item.get("target")
            source = item.get("source")
            return target or (f"{default_dir}{source}" if default_dir else source)
        return f"{default_dir}{item}" if default_dir else str(item)
    return key


def _env_file_key(item):
    return item.get("path") if isinstance(item, dict) else item


def _device_key(item):
    if isinstance(item, dict):
        return item.get("target") or item.get("source")
    parts = str(item).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _plain(item):
    return item if isinstance(item, (str, int, float, bool)) else repr(item)


_UNIQUE = {
    "ports": _port_key,
    "volumes": _volume_key,
    "secrets": _file_ref_key("/run/secrets/"),
    "configs": _file_ref_key(""),
    "env_file": _env_file_key,
    "label_file": _plain,
    "devices": _device_key,
    "expose": lambda item: str(item),
    "dns": _plain, "dns_search": _plain, "dns_opt": _plain, "cap_add": _plain,
    "cap_drop": _plain, "profiles": _plain, "security_opt": _plain,
    "links": lambda item: str(item).split("=")[0],      # `db` and `db:alias` are two
    "external_links": _plain, "tmpfs": _plain, "volumes_from": _plain, "group_add": _plain,
    "extra_hosts": _plain, "device_cgroup_rules": _plain,
}


_BUILD_UNIQUE = {"platforms": _plain, "platform": _plain, "tags": _plain, "cache_from": _plain, "cache_to": _plain,
                 "ssh": _plain, "secrets": _file_ref_key(""), "extra_hosts": _plain}


def unique(items: list, key) -> list:
    """Drop duplicates by key: the later entry wins, at the first one's position."""
    positions: dict = {}
    out: list = []
    for item in items:
        if isinstance(item, Tagged):
            continue
        k = key(item)
        if k in positions:
            out[positions[k]] = item
        else:
            positions[k] = len(out)
            out.append(item)
    return out


def enforce_unicity(doc: dict) -> dict:
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return doc
    fixed = {}
    for name, svc in services.items():
        if isinstance(svc, dict):
            svc = dict(svc)
            for attr, key in _UNIQUE.items():
                if isinstance(svc.get(attr), list):
                    svc[attr] = unique(svc[attr], key)
            if isinstance(svc.get("extra_hosts"), list):
                svc["extra_hosts"] = sorted(svc["extra_hosts"], key=str)
            build = svc.get("build")
            if isinstance(build, dict):
                build = dict(build)
                for attr, key in _BUILD_UNIQUE.items():
                    if isinstance(build.get(attr), list):
                        build[attr] = unique(build[attr], key)
                svc["build"] = build
            networks = svc.get("networks")
            if isinstance(networks, dict):
                svc["networks"] = {
                    n: ({k: (unique(v, _plain) if isinstance(v, list) else v)
                         for k, v in cfg.items()} if isinstance(cfg, dict) else cfg)
                    for n, cfg in networks.items()}
        fixed[name] = svc
    return {**doc, "services": fixed}


def strip_tags(value):
    """Apply what is left of !reset (remove) and !override (unwrap) after all merges."""
    if isinstance(value, Tagged):
        return None if value.tag == RESET_TAG else strip_tags(value.value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, Tagged) and item.tag == RESET_TAG:
                continue
            out[key] = strip_tags(item)
        return out
    if isinstance(value, list):
        return [strip_tags(item) for item in value
                if not (isinstance(item, Tagged) and item.tag == RESET_TAG)]
    return value

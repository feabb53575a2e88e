"""One compose service -> one Kubernetes container.

entrypoint -> command and command -> args (docker and Kubernetes drop the image's CMD the same
way when only the entrypoint is overridden). Kubernetes expands `$(VAR)` in command, args and env
values, and reduces `$$` to `$`; compose does neither, so `escape` doubles every `$` that starts
such a sequence and the container sees exactly what compose would pass.
"""

from __future__ import annotations

import os
import re

from ..secretnames import holds_secret
from . import names
from .ports import container_ports
from .probes import probes
from .resources import container_resources


PULL_POLICIES = {"always": "Always", "never": "Never", "missing": "IfNotPresent",
                 "if_not_present": "IfNotPresent", "build": "IfNotPresent"}


def escape(text: str) -> str:
    """Make `text` reach the container unchanged through Kubernetes' `$(VAR)` expansion."""
    out = []
    for i, ch in enumerate(text):
        if ch == "$" and i + 1 < len(text) and text[i + 1] in "$(":
            out.append("$$")
        else:
            out.append(ch)
    return "".join(out)


looks_secret = holds_secret


def image_ref(ctx, service) -> str:
    """The image: an override from build/push, `image:`, or `<registry>/<project>-<service>`."""
    override = ctx.options.image_overrides.get(service.name)
    if override:
        ctx.report.mapped(service.name, "image", "pinned to the built and pushed image")
        if service.build is not None:
            ctx.report.mapped(service.name, "build", "built (and pushed) by c2k before converting")
        return override
    registry = ctx.options.registry
    if service.build is not None and (registry or not service.image):
        from ..imagerefs import image_name  # the name `c2k build/push` gives the image
        repo, tag = image_name(ctx.project, service, registry=registry)
        ref = f"{repo}:{tag}"
        ctx.report.approximated(service.name, "build", (
            f"built image {ref}; build and push it (c2k build --push"
            + (f" --registry {registry}" if registry else "")
            + ") so the cluster can pull it"
            + ("" if registry else "; without --registry the cluster must already have it")))
        return ref
    if service.image:
        ctx.report.mapped(service.name, "image")
        if service.build is not None:
            ctx.report.mapped(service.name, "build", f"built as {service.image} (c2k build)")
        return service.image
    ref = f"{ctx.project.name}-{service.name}".lower()
    ctx.report.warning(service.name, "image", f"no image and no build; using {ref}")
    return ref


def pull_policy(service, hints, report) -> str | None:
    if hints.image_pull_policy:
        report.mapped(service.name, "labels.kompose.image-pull-policy", "imagePullPolicy")
        return hints.image_pull_policy
    policy = service.pull_policy
    if policy is None:
        return None
    key = policy.lower().replace("-", "_")
    if key in PULL_POLICIES:
        detail = "imagePullPolicy" + (" (build happens before apply)" if key == "build" else "")
        report.mapped(service.name, "pull_policy", detail)
        return PULL_POLICIES[key]
    report.approximated(service.name, "pull_policy",
                        f"{policy!r} has no Kubernetes equivalent; pulled on every start (Always)")
    return "Always"


def env_file_maps(ctx, service) -> list[tuple[str, dict]]:
    """ConfigMaps for the service's env_file entries: [(name, {key: value})], as kompose.

    A file that cannot be read again is left to the inline env (its values are in the model).
    Secret-looking keys stay out of the ConfigMap with --secret-env; keys that are not valid
    ConfigMap keys stay inline.
    """
    from ..compose.dotenv import parse_dotenv
    from ..errors import C2KError
    out = []
    for path in service.env_files:
        info = ctx.reader(path)
        base = os.path.basename(path)
        if info.kind == "missing":
            continue
        if info.kind != "file" or info.files is None:
            ctx.report.approximated(service.name, "env_file", f"{base}: {info.reason or 'unreadable'}"
                                                             "; its values are inlined in env")
            continue
        try:
            data = parse_dotenv(info.files[0][1].decode("utf-8"), filename=base,
                                lookup=ctx.project.environment.get)
        except (C2KError, UnicodeDecodeError):
            ctx.report.approximated(service.name, "env_file", f"{base} cannot be parsed again; "
                                                             "its values are inlined in env")
            continue
        data = {k: str(v) for k, v in data.items() if v is not None
                and names.is_config_key(k)
                and not (ctx.options.secret_env and looks_secret(k) and v)}
        name = names.dns_label(base, prefix="env")
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ctx.meta(name, ctx.group_of[service.name].name)}
        if data:
            body["data"] = data
        existing = ctx.objects.get(("ConfigMap", name))
        if existing is not None and existing.get("data") != body.get("data"):
            name = names.join(name, names._digest(path))
            body["metadata"] = ctx.meta(name, ctx.group_of[service.name].name)
        else:
            body["metadata"] = existing["metadata"] if existing else body["metadata"]
        ctx.add(body, f"the env_file {base} of service {service.name!r}")
        out.append((name, data))
    return out


def environment(ctx, service, kname: str) -> tuple[list[dict], list[dict], dict]:
    """(env list, envFrom list, secret data) — secret data non-empty only with --secret-env."""
    env: list[dict] = []
    secret: dict = {}
    report = ctx.report
    unset = []
    suspicious = []
    maps = env_file_maps(ctx, service) if service.env_files else []
    from_files: dict = {}
    for _, data in maps:
        from_files.update(data)
    env_from = [{"configMapRef": {"name": name}} for name, _ in maps]
    for key, value in service.environment.items():
        if value is None:
            unset.append(key)
            continue
        value = str(value)
        secretish = looks_secret(key) and value
        if key in from_files and from_files[key] == value:
            if secretish:
                suspicious.append(key)
            continue
        if secretish:
            if ctx.options.secret_env:
                secret[key] = value
                env.append({"name": key, "valueFrom": {"secretKeyRef": {
                    "name": names.join(kname, "env"), "key": names.config_key(key)}}})
                continue
            suspicious.append(key)
        env.append({"name": key, "value": escape(value)})
    if service.environment:
        report.mapped(service.name, "environment", "env")
    if maps:
        report.mapped(service.name, "env_file", "ConfigMap " + ", ".join(n for n, _ in maps)
                      + " (envFrom; environment: entries override it)")
    elif service.env_files:
        report.mapped(service.name, "env_file", "values inlined in env")
    if unset:
        report.approximated(service.name, "environment",
                            "no value for " + ", ".join(unset) + " (unset when loading); left out")
    if secret:
        report.mapped(service.name, "environment",
                      f"{', '.join(sorted(secret))} moved into the Secret "
                      f"{names.join(kname, 'env')}")
    if suspicious:
        report.warning(service.name, "environment",
                       f"{', '.join(suspicious)} look(s) like secrets and are written in plain "
                       "text; --secret-env moves them into a Secret")
    return env, env_from, secret


def user_context(service, report) -> dict:
    user = service.user
    if user is None:
        return {}
    uid, _, gid = str(user).partition(":")
    out: dict = {}
    if uid == "root":
        uid = "0"
    if gid == "root":
        gid = "0"
    if uid.isdecimal():
        out["runAsUser"] = int(uid)
    if gid.isdecimal():
        out["runAsGroup"] = int(gid)
    if (uid and not uid.isdecimal()) or (gid and not gid.isdecimal()):
        report.not_converted(service.name, "user",
                             f"{user!r}: Kubernetes needs numeric user and group ids"
                             + ("; the numeric part was kept" if out else ""))
    else:
        report.mapped(service.name, "user", "securityContext runAsUser/runAsGroup")
    return out


def security_context(service, report) -> dict:
    name = service.name
    ctx: dict = user_context(service, report)
    caps: dict = {}
    if service.cap_add:
        caps["add"] = [c.upper().removeprefix("CAP_") for c in service.cap_add]
        report.mapped(name, "cap_add")
    if service.cap_drop:
        caps["drop"] = [c.upper().removeprefix("CAP_") for c in service.cap_drop]
        report.mapped(name, "cap_drop")
    if caps:
        ctx["capabilities"] = caps
    if service.privileged:
        ctx["privileged"] = True
        report.mapped(name, "privileged")
    if service.read_only:
        ctx["readOnlyRootFilesystem"] = True
        report.mapped(name, "read_only", "readOnlyRootFilesystem")
    for i, opt in enumerate(service.security_opt):
        key, sep, value = re.split(r"([:=])", opt, maxsplit=1) if re.search(r"[:=]", opt) else (
            opt, "", "")
        key = key.strip().lower()
        where = f"security_opt[{i}]"
        if key == "no-new-privileges" and value.strip().lower() in ("", "true"):
            ctx["allowPrivilegeEscalation"] = False
            report.mapped(name, where, "allowPrivilegeEscalation: false")
        elif key == "no-new-privileges":
            report.mapped(name, where, "privilege escalation allowed (the default)")
        elif key == "seccomp" and value == "unconfined":
            ctx["seccompProfile"] = {"type": "Unconfined"}
            report.mapped(name, where, "seccompProfile Unconfined")
        elif key == "apparmor" and value == "unconfined":
            ctx["appArmorProfile"] = {"type": "Unconfined"}
            report.mapped(name, where, "appArmorProfile Unconfined")
        elif key == "apparmor" and value:
            ctx["appArmorProfile"] = {"type": "Localhost", "localhostProfile": value}
            report.approximated(name, where, "appArmorProfile Localhost: the profile must be "
                                             "loaded on every node")
        elif key == "label" and value:
            sub, _, val = value.partition(":")
            field = {"user": "user", "role": "role", "type": "type", "level": "level"}.get(sub)
            if field and val:
                ctx.setdefault("seLinuxOptions", {})[field] = val
                report.mapped(name, where, "seLinuxOptions")
            else:
                report.not_converted(name, where, f"{opt!r} has no Kubernetes equivalent")
        else:
            report.not_converted(name, where, f"{opt!r} has no Kubernetes equivalent")
    return ctx


def hooks(service, report) -> dict:
    """post_start / pre_stop -> lifecycle postStart / preStop exec handlers (the first hook)."""
    out = {}
    for key, field in (("post_start", "postStart"), ("pre_stop", "preStop")):
        items = service.other.get(key)
        if not items:
            continue
        first = items[0] if isinstance(items, (list, tuple)) else items
        command = first.get("command") if hasattr(first, "get") else None
        if not command:
            report.not_converted(service.name, key, "a hook without a command")
            continue
        out[field] = {"exec": {"command": [str(c) for c in command]}}
        extra = sorted(k for k in first if k != "command")
        if len(items) > 1 or extra:
            report.approximated(service.name, key, f"lifecycle {field} runs the first hook's "
                                                   "command only, as the container's user")
        else:
            report.mapped(service.name, key, f"lifecycle {field}")
    return out


def container(ctx, service, *, name: str, mounts: list[dict]) -> tuple[dict, dict]:
    """(container, secret env data) for `service`."""
    report = ctx.report
    hints = ctx.hints[service.name]
    kname = ctx.names[service.name]
    out: dict = {"name": name, "image": image_ref(ctx, service)}
    policy = pull_policy(service, hints, report)
    if policy:
        out["imagePullPolicy"] = policy
    if service.entrypoint is not None:
        out["command"] = [escape(a) for a in service.entrypoint]
        if service.entrypoint:
            report.mapped(service.name, "entrypoint", "command")
        else:
            del out["command"]
            report.approximated(service.name, "entrypoint",
                                "an empty entrypoint means the image's entrypoint in Kubernetes")
    if service.command is not None:
        out["args"] = [escape(a) for a in service.command]
        if service.command:
            report.mapped(service.name, "command", "args")
        else:
            del out["args"]
            report.approximated(service.name, "command",
                                "an empty command means the image's CMD in Kubernetes")
    if service.working_dir:
        out["workingDir"] = service.working_dir
        report.mapped(service.name, "working_dir", "workingDir")
    env, env_from, secret = environment(ctx, service, kname)
    if env_from:
        out["envFrom"] = env_from
    if env:
        out["env"] = env
    ports = container_ports(service, hints, report)
    if ports:
        out["ports"] = ports
    resources = container_resources(service, hints, report)
    if resources:
        out["resources"] = resources
    out.update(probes(service, hints, report))
    lifecycle = hooks(service, report)
    if lifecycle:
        out["lifecycle"] = lifecycle
    security = security_context(service, report)
    if security:
        out["securityContext"] = security
    if service.stdin_open:
        out["stdin"] = True
        report.mapped(service.name, "stdin_open", "stdin")
    if service.tty:
        out["tty"] = True
        report.mapped(service.name, "tty")
    if mounts:
        out["volumeMounts"] = mounts
    return out, secret

"""The loading pipeline, in compose-go's phase order.

  discover files and .env → per file: parse YAML → interpolate → extends → include
  → merge files → !reset/!override → unicity → absolute paths → schema validation
  → profiles → consistency checks → canonical long form → typed model

`load_project` returns the typed Project, the canonical dict (what `c2k config` prints) and the
warnings met on the way.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

from ..errors import ComposeError, ValidationErrors
from ..records import field, record
from . import discover, merge, paths
from .mounts import is_host_path
from .yamlfile import Lines, Tagged, decode_text, load_file, parse


@record
class LoadOptions:
    files: tuple[str, ...] = ()
    project_name: str | None = None
    env_files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    project_directory: str | None = None
    interpolate: bool = True
    environ: Mapping[str, str] | None = None     # default: os.environ
    cwd: str | None = None
    services: tuple[str, ...] = ()                # services named on the command line
    consistency: bool = True                      # False: skip reference checks (--no-consistency)


@record(frozen=False)
class LoadResult:
    project: object                               # converter.model.Project
    canonical: dict
    warnings: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)   # every profile the files declare


class _Origins:
    """Which file and line last set each key path, across merged files."""

    def __init__(self):
        self.table: dict[tuple, tuple[str, int]] = {}

    def add(self, lines: Lines, prefix=()):
        for path, line in lines.table.items():
            self.table[prefix + path] = (lines.filename, line)

    def find(self, path) -> tuple[str | None, int | None]:
        path = tuple(path)
        while path:
            hit = self.table.get(path)
            if hit:
                return hit
            path = path[:-1]
        return None, None


class _Context:
    """State for one load: environment, warnings, the files being read (for cycles)."""

    def __init__(self, options: LoadOptions, environ: dict, cwd: str):
        self.options = options
        self.environ = environ
        self.cwd = cwd
        self.warnings: list[str] = []
        self.origins = _Origins()
        self.include_stack: list[str] = []
        self._seen_unset: set[str] = set()

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def load_project(options: LoadOptions) -> LoadResult:
    os_environ = dict(os.environ if options.environ is None else options.environ)
    cwd = os.path.abspath(options.cwd or os.getcwd())
    if options.project_directory:
        project_dir = os.path.abspath(os.path.join(cwd, options.project_directory))
        if not os.path.isdir(project_dir):
            raise ComposeError(f"project directory {options.project_directory!r} not found")
    else:
        project_dir = None
    first_dir = project_dir or (os.path.dirname(os.path.abspath(os.path.join(cwd, options.files[0])))
                                if options.files and options.files[0] != "-" else cwd)
    environ = _project_environment(options, os_environ, first_dir, cwd)
    files = discover.find_files(options.files, environ=environ, cwd=cwd,
                                project_directory=project_dir)
    if project_dir is None:
        project_dir = os.path.dirname(files[0]) if files[0] != "-" else cwd
        if project_dir != first_dir:
            environ = _project_environment(options, os_environ, project_dir, cwd)
    ctx = _Context(options, environ, cwd)

    merged = None
    names: list[str] = []
    for path in files:
        doc, lines = _load_main_file(ctx, path)
        doc = paths.resolve_document(doc, project_dir, environ.get("HOME"))
        ctx.origins.add(lines)
        if isinstance(doc.get("name"), str):
            names.append(doc["name"])
        doc = merge.document_merge_form(doc)
        merged = doc if merged is None else merge.merge_documents(merged, doc)
    merged = merge.enforce_unicity(merge.strip_tags(merged))
    if "version" in merged:
        ctx.warn(f"{_display(files[0], cwd)}: the attribute `version` is obsolete, it will be "
                 "ignored; remove it to avoid confusion")
        merged.pop("version")

    _validate(merged, ctx, files[0], cwd)
    name = discover.project_name(explicit=options.project_name, environ=environ,
                                 names_in_files=names, project_directory=project_dir)
    all_profiles = sorted({str(p) for svc in (merged.get("services") or {}).values()
                           if isinstance(svc, dict) for p in svc.get("profiles") or ()})
    _warn_unused(merged, ctx)
    merged, disabled = _apply_profiles(merged, ctx)
    if options.consistency:
        _check_consistency(merged, ctx)

    from .normalize import normalize_project
    from .envfiles import env_file_reader
    def warn_at(message: str, path, hint=None) -> None:
        file, line = ctx.origins.find(path)
        ctx.warn(str(ComposeError(message, file=file, line=line, path=path, hint=hint)))

    try:
        canonical = normalize_project(merged, name=name, read_env_file=env_file_reader(ctx),
                                      environ=environ, warn=warn_at)
    except ComposeError as exc:
        if not exc.file and exc.path:      # point at the file and line that set the value
            exc.file, exc.line = ctx.origins.find(exc.path)
        raise
    from .to_model import build_project
    project = build_project(canonical, working_dir=project_dir,
                            compose_files=tuple(_display(f, cwd) for f in files),
                            disabled=tuple(disabled), environment=environ)
    return LoadResult(project=project, canonical=canonical, warnings=ctx.warnings,
                      profiles=all_profiles)


def _display(path: str, cwd: str) -> str:
    if path == "-":
        return "<stdin>"
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


# --- environment ---------------------------------------------------------------------------------

def _project_environment(options: LoadOptions, os_environ: dict, project_dir: str,
                         cwd: str) -> dict:
    """OS environment over .env (or the --env-file files, later ones winning)."""
    from .dotenv import read_env_file
    values: dict = {}
    if options.env_files:
        for env_file in options.env_files:
            path = os.path.abspath(os.path.join(cwd, env_file))
            if not os.path.exists(path):
                raise ComposeError("env file not found", file=env_file,
                                   hint="check the --env-file path")
            values.update(read_env_file(path, lookup=lambda k: os_environ.get(k, values.get(k))))
    else:
        default = os.path.join(project_dir, ".env")
        if os.path.isfile(default):
            values.update(read_env_file(default, lookup=os_environ.get))
    return {**values, **os_environ}


# --- one file --------------------------------------------------------------------------------------

def _read_document(ctx: _Context, path: str):
    display = _display(path, ctx.cwd)
    if path == "-":
        text = decode_text(sys.stdin.buffer.read(), "<stdin>")
        document = parse(text, "<stdin>")
    else:
        document = load_file(path, display=display)
    data = document.data
    if data is None:
        raise ComposeError("empty compose file", file=display,
                           hint="a compose file needs at least a `services:` mapping")
    if not isinstance(data, dict):
        raise ComposeError(f"the top level must be a mapping, not a {_kind(data)}", file=display,
                           line=1, hint="start the file with `services:`")
    if "services" in data and data["services"] is None:
        raise ComposeError("`services` is empty (null)", file=display,
                           line=document.lines.line_of(("services",)),
                           hint="add at least one service under `services:`, or remove the key")
    return data, document.lines, display


def _kind(value) -> str:
    return {list: "list", str: "string", int: "number", float: "number",
            bool: "boolean"}.get(type(value), type(value).__name__)


def _interpolate(ctx: _Context, data, display: str, environ=None, lines: Lines | None = None):
    if not ctx.options.interpolate:
        return data
    from .interpolate import interpolate_tree
    env = ctx.environ if environ is None else environ
    warnings: list = []
    try:
        data = interpolate_tree(data, env.get, warnings=warnings)
    except ComposeError as exc:
        if not exc.file:
            exc.file = display
            if not exc.line and lines is not None and exc.path:
                exc.line = lines.line_of(exc.path)
        raise
    for warning in warnings:
        ctx.warn(str(warning))
    return data


def _load_main_file(ctx: _Context, path: str):
    data, lines, display = _read_document(ctx, path)
    data = _interpolate(ctx, data, display, lines=lines)
    base = os.path.dirname(path) if path != "-" else ctx.cwd
    data = _resolve_extends(ctx, data, path, display, base)
    data = _resolve_include(ctx, data, path, display, base)
    return data, lines


# --- extends ---------------------------------------------------------------------------------------

def _resolve_extends(ctx: _Context, data: dict, path: str, display: str, base: str,
                     cache: dict | None = None) -> dict:
    services = data.get("services")
    if not isinstance(services, dict) or not any(
            isinstance(s, dict) and "extends" in s for s in services.values()):
        return data
    resolved: dict = {}
    cache = {} if cache is None else cache

    def resolve(name: str, stack: tuple):
        if name in resolved:
            return resolved[name]
        if name in stack:
            chain = " -> ".join(stack + (name,))
            raise ComposeError(f"extends cycle detected: {chain}", file=display,
                               path=("services", name, "extends"))
        svc = services.get(name)
        if not isinstance(svc, dict) or "extends" not in svc:
            resolved[name] = svc
            return svc
        ext = svc["extends"]
        if isinstance(ext, str):
            ext = {"service": ext}
        if not isinstance(ext, dict) or not ext.get("service"):
            raise ComposeError("extends needs a `service`", file=display,
                               path=("services", name, "extends"),
                               hint="extends: {service: NAME, file: OTHER.yaml}")
        target = ext["service"]
        if ext.get("file"):
            other = paths.absolute(base, ext["file"])
            parent = _extended_from_file(ctx, other, target, display, name, cache, stack + (name,))
        else:
            if target not in services:
                raise ComposeError(f"service {name!r} extends undefined service {target!r}",
                                   file=display, path=("services", name, "extends"))
            parent = resolve(target, stack + (name,))
        own = {k: v for k, v in svc.items() if k != "extends"}
        parent = {k: v for k, v in (parent or {}).items() if k != "extends"}
        result = merge.merge_services(parent, own)
        resolved[name] = result
        return result

    out = {n: resolve(n, ()) for n in services}
    return {**data, "services": out}


def _extended_from_file(ctx, other: str, target: str, display: str, name: str, cache: dict,
                        stack: tuple):
    key = (other, target)
    if key in cache:
        if cache[key] is None:
            raise ComposeError(f"extends cycle detected through {other}", file=display,
                               path=("services", name, "extends"))
        return cache[key]
    cache[key] = None
    data, lines, other_display = _read_document(ctx, other)
    data = _interpolate(ctx, data, other_display, lines=lines)
    other_base = os.path.dirname(other)
    data = _resolve_extends(ctx, data, other, other_display, other_base, cache)
    services = data.get("services") or {}
    if target not in services:
        raise ComposeError(f"service {name!r} extends {target!r}, which {other_display} does not "
                           "define", file=display, path=("services", name, "extends"))
    svc = paths.resolve_service(services[target] or {}, other_base, ctx.environ.get("HOME"))
    cache[key] = svc
    return svc


# --- include -------------------------------------------------------------------------------------

def _resolve_include(ctx: _Context, data: dict, path: str, display: str, base: str) -> dict:
    includes = data.get("include")
    if not includes:
        return data
    if not isinstance(includes, list):
        raise ComposeError("include must be a list", file=display, path=("include",))
    combined = None
    seen: set = set()
    for index, entry in enumerate(includes):
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or not entry.get("path"):
            raise ComposeError("an include entry needs a path", file=display,
                               path=("include", index))
        include_paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
        files = [paths.absolute(base, p) for p in include_paths]
        key = tuple(files)
        if key in seen:
            continue
        seen.add(key)
        doc = _load_included(ctx, files, entry, base, display, index)
        combined = doc if combined is None else merge.merge_documents(combined, doc)
    own = {k: v for k, v in data.items() if k != "include"}
    if combined is None:
        return own
    return merge.strip_tags(merge.merge_documents(combined, merge.document_merge_form(own)))


def _load_included(ctx: _Context, files: list[str], entry: dict, base: str, display: str,
                   index: int) -> dict:
    for f in files:
        if f in ctx.include_stack or f == os.path.abspath(display) or f in (
                os.path.join(ctx.cwd, display),):
            raise ComposeError(f"include cycle detected: {f} includes itself", file=display,
                               path=("include", index))
    project_dir = paths.absolute(base, entry["project_directory"]) \
        if entry.get("project_directory") else os.path.dirname(files[0])
    env = dict(ctx.environ)
    env_files = entry.get("env_file")
    if env_files:
        from .dotenv import read_env_file
        extra: dict = {}
        for env_file in env_files if isinstance(env_files, list) else [env_files]:
            extra.update(read_env_file(paths.absolute(base, env_file), lookup=env.get))
        env = {**extra, **ctx.environ}     # the process environment wins
    else:
        dotenv_path = os.path.join(project_dir, ".env")
        if os.path.isfile(dotenv_path):
            from .dotenv import read_env_file
            env = {**read_env_file(dotenv_path, lookup=env.get), **ctx.environ}
    merged = None
    ctx.include_stack.extend(files)
    try:
        for f in files:
            data, lines, f_display = _read_document(ctx, f)
            data = _interpolate(ctx, data, f_display, environ=env, lines=lines)
            data = _resolve_extends(ctx, data, f, f_display, os.path.dirname(f))
            data = _resolve_include(ctx, data, f, f_display, os.path.dirname(f))
            data = paths.resolve_document(data, project_dir, ctx.environ.get("HOME"))
            ctx.origins.add(lines)
            data = merge.document_merge_form(data)
            merged = data if merged is None else merge.merge_documents(merged, data)
    finally:
        del ctx.include_stack[-len(files):]
    merged = merge.strip_tags(merged)
    merged.pop("name", None)
    merged.pop("version", None)
    return merged


# --- validation -----------------------------------------------------------------------------------

def _validate(doc: dict, ctx: _Context, first_file: str, cwd: str) -> None:
    from . import schema

    def line_of(path):
        return ctx.origins.find(path)[1]

    try:
        schema.validate(doc, filename=_display(first_file, cwd), line_of=line_of,
                        string_keys=True)   # yamlfile writes every key as a string
    except ValidationErrors as exc:
        for error in exc.errors:
            file, line = ctx.origins.find(error.path)
            if file:
                error.file, error.line = file, line
        files = sorted({e.file for e in exc.errors if e.file})
        exc.message = (f"{', '.join(files) or _display(first_file, cwd)}: "
                       f"the compose file is invalid ({len(exc.errors)} problem"
                       f"{'s' if len(exc.errors) != 1 else ''})")
        raise


# --- profiles and consistency ---------------------------------------------------------------------

def _apply_profiles(doc: dict, ctx: _Context):
    active = set(ctx.options.profiles)
    from_env = ctx.environ.get("COMPOSE_PROFILES")
    if from_env:
        active.update(p.strip() for p in from_env.split(",") if p.strip())
    services = doc.get("services") or {}
    wanted = set(ctx.options.services)
    keep, disabled = {}, []
    for name, svc in services.items():
        profiles = (svc or {}).get("profiles") or []
        if not profiles or "*" in active or active.intersection(profiles) or name in wanted:
            keep[name] = svc
        else:
            disabled.append(name)
    # Services that enabled services need are enabled too (docker compose does the same when
    # a service is named on the command line).
    changed = True
    while changed:
        changed = False
        for name in list(keep):
            for dep in _dependencies(keep[name] or {}):
                if dep in disabled:
                    keep[dep] = services[dep]
                    disabled.remove(dep)
                    changed = True
    ordered = {n: keep[n] for n in services if n in keep}
    return {**doc, "services": ordered}, sorted(disabled)


def _dependencies(svc: dict) -> list[str]:
    deps = list((svc.get("depends_on") or {}).keys()) if isinstance(svc.get("depends_on"), dict) \
        else list(svc.get("depends_on") or [])
    return [d for d in deps
            if not (isinstance(svc.get("depends_on"), dict)
                    and isinstance(svc["depends_on"].get(d), dict)
                    and svc["depends_on"][d].get("required") is False)]


def _check_consistency(doc: dict, ctx: _Context) -> None:
    services = doc.get("services") or {}
    for name, svc in services.items():
        svc = svc or {}
        where = ("services", name)
        file, line = ctx.origins.find(where)
        if not svc.get("image") and not svc.get("build") and not svc.get("provider"):
            raise ComposeError(f"service {name!r} has neither an image nor a build context",
                               file=file, line=line, path=where,
                               hint="add `image:` or `build:` to the service")
        for dep, cfg in (svc.get("depends_on") or {}).items():
            if dep not in services:
                required = not (isinstance(cfg, dict) and cfg.get("required") is False)
                if required:
                    f, l = ctx.origins.find(where + ("depends_on", dep))
                    raise ComposeError(f"service {name!r} depends on undefined service {dep!r}",
                                       file=f, line=l, path=where + ("depends_on", dep),
                                       hint="define that service, or fix the name")
        for key in ("network_mode", "ipc", "pid"):
            value = svc.get(key)
            if isinstance(value, str) and value.startswith("service:"):
                other = value.split(":", 1)[1]
                if other not in services:
                    raise ComposeError(f"service {name!r} {key} refers to undefined service "
                                       f"{other!r}", file=file, line=line, path=where + (key,))
        for other in svc.get("volumes_from") or []:
            ref = str(other).split(":")[0]
            if ref.startswith("container"):
                continue
            if ref not in services:
                raise ComposeError(f"service {name!r} volumes_from undefined service {ref!r}",
                                   file=file, line=line, path=where + ("volumes_from",))
        _check_references(name, svc, doc, ctx)
    _check_cycles(services, ctx)


def _references(svc: dict):
    """(section, name, key path in the service) of each top-level resource a service names."""
    for index, mount in enumerate(svc.get("volumes") or []):
        source = None
        if isinstance(mount, str):
            parts = merge.split_volume(mount)
            if len(parts) >= 2 and parts[0] and not is_host_path(parts[0]):
                source = parts[0]
        elif isinstance(mount, dict) and mount.get("type") == "volume":
            source = mount.get("source")
        if source:
            yield "volumes", source, ("volumes", index)
    for net in svc.get("networks") or {}:
        if net != "default":
            yield "networks", net, ("networks", net)
    build = svc.get("build") if isinstance(svc.get("build"), dict) else {}
    for kind, refs, where in (("secrets", svc.get("secrets"), ("secrets",)),
                              ("secrets", build.get("secrets"), ("build", "secrets")),
                              ("configs", svc.get("configs"), ("configs",))):
        for index, ref in enumerate(refs or []):
            yield kind, ref.get("source") if isinstance(ref, dict) else ref, where + (index,)


def _check_references(name: str, svc: dict, doc: dict, ctx: _Context) -> None:
    for section, source, where in _references(svc):
        if source in (doc.get(section) or {}):
            continue
        path = ("services", name) + where
        f, l = ctx.origins.find(path)
        hint = f"declare it under the top-level `{section}:`"
        if section == "volumes":
            hint += f" ({source}: {{}})"
        raise ComposeError(f"service {name!r} refers to undefined {section[:-1]} {source!r}",
                           file=f, line=l, path=path, hint=hint)


def _warn_unused(doc: dict, ctx: _Context) -> None:
    """A network, volume, secret or config no service names: docker compose drops it silently."""
    named = {(section, source) for svc in (doc.get("services") or {}).values()
             for section, source, _ in _references(svc or {})}
    for section in ("networks", "volumes", "secrets", "configs"):
        for key in doc.get(section) or {}:
            if (section, key) not in named and key != "default":
                file, line = ctx.origins.find((section, key))
                ctx.warn(str(ComposeError(f"{section[:-1]} {key!r} is declared but no service "
                                          "uses it; docker compose leaves it out",
                                          file=file, line=line, path=(section, key))))


def _check_cycles(services: dict, ctx: _Context) -> None:
    state: dict[str, int] = {}

    def visit(name: str, chain: list[str]):
        state[name] = 1
        for dep in (services.get(name) or {}).get("depends_on") or {}:
            if dep not in services:
                continue
            if state.get(dep) == 1:
                cycle = chain[chain.index(dep):] + [dep] if dep in chain else [name, dep]
                f, l = ctx.origins.find(("services", name, "depends_on"))
                raise ComposeError("dependency cycle detected: " + " -> ".join(cycle),
                                   file=f, line=l, path=("services", name, "depends_on"))
            if state.get(dep) is None:
                visit(dep, chain + [dep])
        state[name] = 2

    for name in services:
        if state.get(name) is None:
            visit(name, [name])


__all__ = ["LoadOptions", "LoadResult", "load_project", "Tagged"]

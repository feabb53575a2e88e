"""The whole migration in memory: the environments converted, their differences from the base,
and every file of the layout. `c2k migrate` writes it; `--check` compares it with the disk."""

from __future__ import annotations

import os
from typing import Any

from ..errors import C2KError
from ..records import field, record
from . import environments, layout, notes, references
from .delta import Part, delta, split


@record
class Migration:
    root: str                       # the layout's folder (absolute)
    base: object                    # environments.Converted
    envs: list                      # [Converted]
    parts: dict                     # "base" | env name -> delta.Part
    deltas: list                    # [delta.Delta], in the order of envs
    base_note: str                  # why the base is not the common files alone ("" if it is)
    command: str                    # the `c2k migrate` line that writes this layout again
    files: dict = field(default_factory=dict)   # relative path -> text
    # "base" | env name -> references.Found: the dotenv values kept as references, and why
    # the others are written in
    variables: dict = field(default_factory=dict)


@record
class Environments:
    """The project's environments converted: the base and one conversion per environment."""
    common: tuple                   # the common compose files
    envs: list                      # [environments.Environment], as found or given
    base: Any                       # environments.Converted (its project: model.Project)
    converted: list                 # [Converted], in the order of envs
    base_note: str                  # why the base is not the common files alone ("" if it is)
    root: str                       # the output folder (absolute)


def convert_environments(settings, options, env_values: tuple[str, ...], output: str | None, *,
                         environ=None, cwd: str | None = None) -> Environments:
    from ..compose.discover import find_files
    environ = os.environ if environ is None else environ
    cwd = cwd or os.getcwd()
    given = bool(settings.files) or bool(environ.get("COMPOSE_FILE"))
    found = find_files(settings.files, environ=environ, cwd=cwd,
                       project_directory=settings.project_directory)
    common = tuple(environments.split_files(found, given))
    if env_values:
        envs: list[environments.Environment] = []
        for value in env_values:
            name, files = environments.parse_env_option(value, cwd)
            if any(e.name == name for e in envs):
                raise C2KError(f"--env {name} is given twice")
            envs.append(environments.Environment(name, common + files))
    else:
        envs = environments.detect(list(common))
    def convert(files, name):
        return environments.convert(settings, files, name, options, environ=dict(environ),
                                    cwd=cwd)
    converted = [convert(e.files, e.name) for e in envs]
    base, base_note = _base(common, converted, convert)
    root = os.path.abspath(output or os.path.join(base.project.working_dir, "k8s"))
    return Environments(common, envs, base, converted, base_note, root)


def plan(settings, options, env_values: tuple[str, ...], output: str | None, *,
         command_options: list[str], environ=None, cwd: str | None = None) -> Migration:
    environ = dict(os.environ if environ is None else environ)
    cwd = cwd or os.getcwd()
    found = convert_environments(settings, options, env_values, output, environ=environ,
                                 cwd=cwd)
    base, converted, root = found.base, found.converted, found.root
    common = found.common
    variables, parts, refs = {}, {}, {}
    for conv in [base, *converted]:
        def again(env, files=conv.files, name=conv.name):
            return environments.convert(settings, files, name, options, environ=env,
                                        cwd=cwd).result.objects
        variables[conv.name] = references.find(conv, again, environ)
        parts[conv.name], refs[conv.name] = _referenced(
            split(conv.result.objects, conv.reads, conv.dotenvs), variables[conv.name])
    deltas = [delta(env.name, parts[base.name], parts[env.name]) for env in converted]
    migration = Migration(root, base, converted, parts, deltas, found.base_note,
                          command(found, env_values, command_options,
                                  files_given=bool(settings.files)), variables=variables)
    migration.files.update(layout.base_files(parts[base.name], project_name=base.project.name,
                                             folder=os.path.join(root, "base"), root=root,
                                             refs=refs[base.name]))
    for env, d in zip(converted, deltas):
        shown = ", ".join(os.path.basename(f) for f in env.files[len(common):])
        migration.files.update(layout.overlay_files(
            d, parts[base.name], files_shown=shown,
            folder=os.path.join(root, "overlays", env.name), root=root,
            refs=_overlay_refs(d, refs[base.name], refs[env.name])))
    generators = list(parts[base.name].generators.values()) + \
        [g for d in deltas for g, _ in d.generators]
    ignored = layout.gitignore(generators)
    if ignored:
        migration.files[".gitignore"] = ignored
    migration.files[layout.NOTES] = notes.migration_notes(migration)
    return migration


def _referenced(part: Part, found) -> tuple[Part, list]:
    """The part with each referenced field written as its placeholder, and the references
    into its plain objects (a generator reads its values at build time)."""
    refs = [r for r in found.references if (r.kind, r.name) in part.objects]
    objects = {key: references.placeholder(
        obj, [r for r in refs if (r.kind, r.name) == key]) for key, obj in part.objects.items()}
    return Part(objects, part.generators), refs


def _overlay_refs(d, base_refs: list, env_refs: list) -> list:
    """The references an overlay applies itself: those the base does not, and all of the
    objects the overlay adds or patches (a patch may write a placeholder back)."""
    done = {(r.kind, r.name, r.path, r.variable, r.delimiter, r.index) for r in base_refs}
    touched = {(o["kind"], o["metadata"]["name"]) for o in d.added} | set(d.patches)
    return [r for r in env_refs if (r.kind, r.name) in touched
            or (r.kind, r.name, r.path, r.variable, r.delimiter, r.index) not in done]


def _base(common: tuple, converted: list, convert):
    """The base: the common files converted, or, when they are no project on their own (zulip's
    compose.yaml names secrets only its override declares), the environment docker compose
    uses by default (dev, which adds compose.override.*). Returns (Converted, note)."""
    try:
        return convert(common, environments.BASE), ""
    except C2KError as exc:
        dev = next((c for c in converted if c.name == "dev"), None)
        if dev is None:
            raise
        # the message names files as given; the notes name them from the project's folder
        folder = os.path.dirname(common[0])
        first = str(exc).splitlines()[0].replace(folder + os.sep, "")
        first = first.replace(os.path.relpath(folder) + os.sep, "")
        files = ", ".join(os.path.basename(f) for f in dev.files)
        note = (f"The common files are no project on their own ({first}): the base is what "
                f"docker compose runs by default, {files}, and overlays/dev builds it "
                f"unchanged.")
        return environments.Converted(environments.BASE, dev.files, dev.project, dev.result,
                                      dev.reads, dev.dotenvs), note


def command(found: Environments, env_values, command_options: list[str], *,
            files_given: bool) -> str:
    """`c2k migrate ...` as run from the project's folder, to write the same layout again."""
    base, envs, root = found.base, found.envs, found.root
    where = base.project.working_dir
    parts = ["c2k"]
    for f in base.files if files_given else ():
        parts += ["-f", os.path.relpath(f, where)]
    parts.append("migrate")
    for env in envs if env_values else ():
        extra = env.files[len(base.files):]
        parts += ["--env", env.name + "=" + ",".join(os.path.relpath(f, where) for f in extra)]
    rel = os.path.relpath(root, where)
    if rel != "k8s":
        parts += ["-o", rel]
    return " ".join(parts + command_options)

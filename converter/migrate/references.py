"""Values compose interpolated from a dotenv file, kept in the layout as references to it.

Which fields a variable feeds is observed, never guessed from equal values: each variable of
the dotenv files compose read (`.env`, `--env-file`) is converted once more with a marker in
its place, and the fields that change are the ones it feeds. A variable stays a reference when
every field it feeds holds exactly its value, or one delimiter-separated part of it (the tag of
`app:${TAG}`), as kustomize reads the dotenv file: the layout then generates a ConfigMap from
that file, marked local-config so it never leaves kustomize, and `replacements` copy the value
into the fields at build time (layout.py). Any other variable is written in, with the reason.
"""

from __future__ import annotations

import os
import re

from ..errors import C2KError
from ..records import field, record
from .generators import kustomize_env

# tried in this order when a variable is part of a longer value (the first that isolates it)
DELIMITERS = (":", "/", "@", "=", ",", ";", " ", ".", "-")   # none is in `${VAR}`
PLACEHOLDER = "${%s}"           # what a referenced string holds in the layout's files
_KEY = re.compile(r"^[A-Za-z0-9_-]+$")      # a list item's name a fieldPath can select by
_COMPOSE_OWN = "COMPOSE_"      # read by compose itself (the project name, files, profiles)
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


@record
class Reference:
    """One field of one object that holds a dotenv variable's value (or a part of it)."""
    kind: str
    name: str
    path: tuple                 # keys and list indexes into the object
    field_path: str             # kustomize's fieldPath of `path`
    variable: str
    dotenv: str                 # absolute path of the dotenv file kustomize reads it from
    delimiter: str = ""         # "" when the field is the whole value
    index: int = 0


@record
class Found:
    """What one conversion's dotenv variables became."""
    references: tuple = ()                          # (Reference, ...)
    written: dict = field(default_factory=dict)     # variable -> why its value is written in


def find(conv, convert, environ) -> Found:
    """The references of one conversion (environments.Converted); `convert(environ)` converts
    its files again with another environment and returns the objects."""
    refs: list[Reference] = []
    written: dict[str, str] = {}
    objects = _plain(conv.result.objects)
    for var, (dotenv, kustomize_value) in sorted(dotenv_variables(conv.dotenvs).items()):
        if var.startswith(_COMPOSE_OWN):
            continue            # compose reads it for itself
        where = os.path.basename(dotenv)
        value = conv.project.environment.get(var)
        if value is None:
            continue
        marker = _marker(value)
        try:
            changed = _plain(convert({**environ, var: marker}))
        except C2KError:
            written[var] = ("the project does not load with another value in its place "
                            "(compose parses it: a path, a number, a size or a choice)")
            continue
        if changed == objects:
            continue            # it feeds no field (a Secret reads it at build time)
        if var in environ:
            written[var] = (f"the shell's environment sets it over {where}, and kustomize "
                            "reads files only")
            continue
        if kustomize_value is None:
            written[var] = (f"kustomize cannot read {where} as env lines (a line without '=', "
                            "or a key a ConfigMap cannot have)")
            continue
        if value != kustomize_value:
            written[var] = (f"kustomize reads its line of {where} differently from compose "
                            "(quotes, escapes or a variable in it)")
            continue
        found, reason = _compare(objects, changed, var, value, marker, dotenv)
        if reason:
            written[var] = reason
        else:
            refs += found
    return Found(tuple(refs), written)


def dotenv_variables(dotenvs) -> dict[str, tuple[str, str | None]]:
    """variable -> (the dotenv file it comes from, its value as kustomize reads that file);
    later files win, as in compose."""
    out: dict = {}
    for path in dotenvs:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        parsed = kustomize_env(data)
        if parsed is not None and not all(_CONFIG_KEY.match(k) for k in parsed):
            parsed = None       # kustomize refuses the file: a key no ConfigMap can have
        if parsed is None:
            from ..compose.dotenv import parse_dotenv
            try:
                names = parse_dotenv(data.decode("utf-8", "replace"), filename=path)
            except C2KError:
                names = {}
            out.update(dict.fromkeys(names, (path, None)))
            continue
        out.update({var: (path, value) for var, value in parsed.items()})
    return out


def _marker(value: str) -> str:
    """A stand-in of the same form: another number for a number, else a token."""
    if value.isascii() and value.isdigit() and value == str(int(value)):
        return str(int(value) + 1)
    return "c2kmarker7q"


def _plain(objects) -> list[dict]:
    """The objects a variable can be written into (a Secret's values are read at build time
    by its generator)."""
    return [o for o in objects if o["kind"] != "Secret"]


def _compare(before: list, after: list, var: str, value: str, marker: str,
             dotenv: str) -> tuple[list[Reference], str]:
    """The references that explain every difference, or the reason some difference cannot be
    one."""
    keys = [(o["kind"], o["metadata"]["name"]) for o in before]
    if keys != [(o["kind"], o["metadata"]["name"]) for o in after]:
        return [], "it is part of an object's name (or decides which objects there are)"
    refs = []
    for (kind, name), old, new in zip(keys, before, after):
        for path, was, now in _changes(old, new):
            field_path = _field_path(old, path)
            where = f"{kind} {name} `{field_path or _pointer(path)}`"
            if was is None:
                return [], f"it changes the shape of {where}"
            if len(path) > 1 and path[-1] == "name" and isinstance(path[-2], int):
                # kustomize's fieldPaths and the overlays' patches find the item by its name
                return [], f"it names the list item {where}"
            ref = _reference(was, now, value, marker)
            if ref is None:
                return [], (f"{where} holds it converted, or inside a longer value with no "
                            "delimiter that sets it apart")
            if field_path is None:
                return [], f"kustomize cannot address {where} (a key with '.' or brackets)"
            refs.append(Reference(kind, name, path, field_path, var, dotenv, *ref))
    return refs, ""


def _changes(old, new, path=()):
    """(path, old, new) of each scalar that differs; old is None where the shape differs."""
    if isinstance(old, dict) and isinstance(new, dict):
        if list(old) != list(new):
            yield path, None, new
            return
        for key in old:
            yield from _changes(old[key], new[key], path + (key,))
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            yield path, None, new
            return
        for i, (a, b) in enumerate(zip(old, new)):
            yield from _changes(a, b, path + (i,))
    elif type(old) is not type(new) or isinstance(old, (dict, list)) or old is None:
        if old != new:
            yield path, None, new
    elif old != new:
        yield path, old, new


def _reference(was, now, value: str, marker: str) -> tuple[str, int] | None:
    """("", 0) when the field is the whole value, (delimiter, index) when it is one part, None
    when kustomize cannot copy the value there. A number field keeps its type: kustomize
    writes the copied text into the target's node, which stays a number."""
    if isinstance(was, bool) or not isinstance(was, (str, int)):
        return None
    if isinstance(was, int):
        return ("", 0) if (str(was), str(now)) == (value, marker) else None
    if (was, now) == (value, marker):
        return "", 0
    for delimiter in DELIMITERS:
        if delimiter in value or delimiter in marker:
            continue
        old, new = was.split(delimiter), now.split(delimiter)
        if len(old) != len(new):
            continue
        differ = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        if len(differ) == 1 and (old[differ[0]], new[differ[0]]) == (value, marker):
            return delimiter, differ[0]
    return None


def _pointer(path: tuple) -> str:
    return "".join(f"/{p}" for p in path)


def _field_path(obj: dict, path: tuple) -> str | None:
    """kustomize's fieldPath of `path` in `obj`: a list item with a plain name is selected by
    it (`containers.[name=web]`), others by index."""
    parts, node = [], obj
    for key in path:
        if isinstance(node, list):
            item = node[key]
            name = item.get("name") if isinstance(item, dict) else None
            unique = isinstance(name, str) and _KEY.match(name) and \
                sum(isinstance(i, dict) and i.get("name") == name for i in node) == 1
            parts.append(f"[name={name}]" if unique else str(key))
        else:
            if not _KEY.match(str(key)):
                return None
            parts.append(str(key))
        node = node[key]
    return ".".join(parts)


def placeholder(obj: dict, refs) -> dict:
    """`obj` with each referenced string written `${VAR}` (or its part), so the layout shows
    where the value comes from and stays the same when only the value changes. A number keeps
    its value: kustomize keeps a target's type, and `${VAR}` would make it a string."""
    import copy
    out = copy.deepcopy(obj)
    for ref in refs:
        node = out
        for key in ref.path[:-1]:
            node = node[key]
        last = ref.path[-1]
        if not isinstance(node[last], str):
            continue
        if ref.delimiter:
            pieces = node[last].split(ref.delimiter)
            pieces[ref.index] = PLACEHOLDER % ref.variable
            node[last] = ref.delimiter.join(pieces)
        else:
            node[last] = PLACEHOLDER % ref.variable
    return out

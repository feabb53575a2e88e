"""What an environment changes from the base, as data: objects added and removed, replica
counts, generators created or replaced, and for every other changed object the JSON Patch
(RFC 6902) operations that turn the base's object into the environment's.

This is the one model of an environment's differences; layout.py renders it as a Kustomize
overlay. A format with its own values (Helm) renders an environment from the two conversions
instead: its values of the environment's objects over its values of the base's
(`values_override`), with `added` and `removed` saying which objects an environment switches
on or off.
"""

from __future__ import annotations

from .. import kinds
from ..records import field, record
from .generators import Explainer

Key = tuple[str, str]           # (kind, name)


@record
class Part:
    """What a conversion is made of: plain objects and generators."""
    objects: dict = field(default_factory=dict)       # Key -> object
    generators: dict = field(default_factory=dict)    # Key -> Generator


@record
class Delta:
    name: str
    added: list = field(default_factory=list)         # objects the base does not have
    removed: list = field(default_factory=list)       # Keys of base objects the env has not
    patches: dict = field(default_factory=dict)       # Key -> [JSON Patch operations]
    replicas: dict = field(default_factory=dict)      # workload name -> count
    generators: list = field(default_factory=list)    # (Generator, "create" | "replace")

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.patches or self.replicas
                    or self.generators)


def split(objects: list[dict], reads: dict, dotenvs: tuple[str, ...] = ()) -> Part:
    """A conversion's objects: those a generator builds, and the others."""
    explainer = Explainer(reads, dotenvs)
    part = Part()
    for obj in objects:
        key = (obj["kind"], obj["metadata"]["name"])
        gen = explainer.generator(obj)
        if gen is None:
            part.objects[key] = obj
        else:
            part.generators[key] = gen
    return part


def delta(name: str, base: Part, env: Part) -> Delta:
    out = Delta(name)
    for key, gen in env.generators.items():
        before = base.generators.get(key)
        if before is None:
            if key in base.objects:
                out.removed.append(key)
            out.generators.append((gen, "create"))
        elif before != gen:
            out.generators.append((gen, "replace"))
    for key, obj in env.objects.items():
        before = base.objects.get(key)
        if before is None:
            if key in base.generators:
                out.removed.append(key)
            out.added.append(obj)
            continue
        ops = diff(before, obj)
        replicas = _replicas_only(obj, ops)
        if replicas is not None:
            out.replicas[key[1]] = replicas
            ops = [op for op in ops if op["path"] != "/spec/replicas"]
        if ops:
            out.patches[key] = ops
    for key in list(base.objects) + list(base.generators):
        if key not in env.objects and key not in env.generators:
            out.removed.append(key)
    out.removed.sort(key=lambda k: (kinds.rank(k[0]), k[1]))
    return out


def _replicas_only(obj: dict, ops: list[dict]) -> int | None:
    """The new count when /spec/replicas is replaced on a scalable kind (kustomize's
    `replicas:` says it more plainly than a patch)."""
    kind = kinds.get(obj["kind"])
    if kind is None or not kind.scalable:
        return None
    for op in ops:
        if op["path"] == "/spec/replicas" and op["op"] == "replace" \
                and isinstance(op["value"], int):
            return op["value"]
    return None


# ---- JSON Patch ---------------------------------------------------------------------------------

def _pointer(path: tuple) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def diff(before, after, path: tuple = ()) -> list[dict]:
    """JSON Patch operations turning `before` into `after`: maps key by key, lists of the same
    length item by item, other lists by their common head and tail and a replaced middle."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        ops = []
        for key in before:
            if key not in after:
                ops.append({"op": "remove", "path": _pointer(path + (key,))})
        for key, value in after.items():
            if key not in before:
                ops.append({"op": "add", "path": _pointer(path + (key,)), "value": value})
            else:
                ops.extend(diff(before[key], value, path + (key,)))
        return ops
    if isinstance(before, list) and isinstance(after, list):
        if len(before) == len(after):
            ops = []
            for i, (b, a) in enumerate(zip(before, after)):
                ops.extend(diff(b, a, path + (i,)))
            return ops
        head = 0
        while head < min(len(before), len(after)) and before[head] == after[head]:
            head += 1
        tail = 0
        while (tail < min(len(before), len(after)) - head
               and before[-1 - tail] == after[-1 - tail]):
            tail += 1
        ops = [{"op": "remove", "path": _pointer(path + (i,))}
               for i in range(len(before) - tail - 1, head - 1, -1)]
        ops += [{"op": "add", "path": _pointer(path + (head + i,)), "value": value}
                for i, value in enumerate(after[head:len(after) - tail])]
        return ops
    return [{"op": "replace", "path": _pointer(path), "value": after}]


def values_override(before: dict, after: dict) -> dict:
    """The smallest values file that Helm merges over `before` to give `after`: maps merged key
    by key, anything else (lists included: Helm replaces them) set whole, a removed key set to
    null (Helm deletes it). For `--format helm`'s values-<env>.yaml over values.yaml."""
    out: dict = {}
    for key in before:
        if key not in after:
            out[key] = None
    for key, value in after.items():
        old = before.get(key)
        if key in before and old == value:
            continue
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = values_override(old, value)
        else:
            out[key] = value
    return out


def guarded(before, ops: list[dict]) -> list[dict]:
    """`ops` with a `test` of the name of each named list item they reach into or remove
    (`env/1` is LOG_LEVEL), before the first op that does: the patch says what it changes, and
    fails to apply, instead of changing another item, if the base's list was reordered."""
    out, tested = [], set()
    for op in ops:
        if op["op"] != "add" or not op["path"].endswith(tuple("0123456789")):
            node, parts = before, op["path"].split("/")[1:]
            for depth, part in enumerate(parts):
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                    item = "/" + "/".join(parts[:depth + 1])
                    if isinstance(node, dict) and isinstance(node.get("name"), str) \
                            and item not in tested:
                        tested.add(item)
                        out.append({"op": "test", "path": f"{item}/name", "value": node["name"]})
                elif isinstance(node, dict) and part in node:
                    node = node[part]
                else:
                    break
        out.append(op)
    return out

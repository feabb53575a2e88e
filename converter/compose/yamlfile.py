"""Reading one compose YAML file safely, with line numbers for every key path.

libyaml (PyYAML's C parser) does the scanning and composing. We build the Python values from the
node graph ourselves because compose needs things PyYAML's constructor does not do:

- YAML 1.2 scalars as compose-go reads them (``no``/``on`` stay strings, ``0x1f`` is an int),
- ``!reset`` and ``!override`` tags, merge keys ``<<`` (mapping or list of mappings),
- duplicate keys refused, with their line,
- a line number for each key path, so later errors can point at the file,
- alias bombs refused: aliases share the node they point to, so construction stays linear;
  the expanded size is then measured (memoised per shared object) and refused past a limit,
- depth limits: libyaml's composer recurses in C and crashes the process on very deep nesting,
  so suspiciously nested text is checked event by event before composing.
"""

from __future__ import annotations

import os
import re
import stat
import sys

import yaml
from yaml._yaml import CParser  # libyaml; the pure-Python parser is 4x slower
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..errors import ComposeError
from ..lazyre import LazyPattern

MAX_FILE_BYTES = 32 * 1024 * 1024     # compose files are small; refuse absurd ones early
MAX_DEPTH = 500                       # real compose files nest < 15 levels
SAFE_COMPOSE_DEPTH = 5000             # libyaml composes this deep quickly and without crashing
MAX_EXPANDED_NODES = 5_000_000        # after alias expansion; 10,000 services stay far below
# Values that aliases add on top of the document's own nodes. Every later stage (interpolation,
# merge, `c2k config`'s output) copies the expanded tree, so a 1 KB file that expands to 3
# million values took 45 s and over 1 GiB; 500,000 still lets 10,000 services share a 50-value
# `<<: *defaults` block.
MAX_ALIAS_EXPANSION = 500_000
RESET_TAG = "!reset"
OVERRIDE_TAG = "!override"


class Tagged:
    """A value carrying compose's !reset or !override tag until the merge consumes it."""

    __slots__ = ("tag", "value")

    def __init__(self, tag: str, value):
        self.tag = tag
        self.value = value

    def __repr__(self) -> str:
        return f"{self.tag} {self.value!r}"

    def __eq__(self, other):
        return isinstance(other, Tagged) and (self.tag, self.value) == (other.tag, other.value)

    __hash__ = None


class Lines:
    """Key path → line number (1-based) for one file."""

    def __init__(self, filename: str):
        self.filename = filename
        self.table: dict[tuple, int] = {}

    def line_of(self, path) -> int | None:
        path = tuple(path)
        while True:
            line = self.table.get(path)
            if line is not None or not path:
                return line
            path = path[:-1]


class YamlDocument:
    def __init__(self, data, lines: Lines):
        self.data = data
        self.lines = lines


# --- YAML 1.2 core schema, as yaml.v3 (compose-go) resolves plain scalars -----------------------

class _Resolver(yaml.resolver.BaseResolver):
    pass


_Resolver.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int",
     r"^(?:[-+]?[0-9][0-9_]*|[-+]?0[xX][0-9a-fA-F_]+|[-+]?0[oO][0-7_]+|[-+]?0[bB][01_]+)$",
     list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+0123456789.")),
    ("tag:yaml.org,2002:merge", r"^<<$", ["<"]),
]:
    _Resolver.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _implicit_tag(value: str) -> str:
    """The tag a plain scalar would get (used under !reset/!override, which hide it)."""
    for tag, regexp in _Resolver.yaml_implicit_resolvers.get(value[:1], []):
        if regexp.match(value):
            return tag
    if value == "":
        return "tag:yaml.org,2002:null"
    return "tag:yaml.org,2002:str"


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
# Plain scalar -> tag. libyaml calls resolve() from C for every scalar, and compose files repeat
# the same values; the lookup replaces a regex walk per scalar.
_plain_tags: dict[str, str] = {}


class _Loader(CParser, yaml.constructor.SafeConstructor, _Resolver):
    def __init__(self, stream):
        CParser.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)

    def resolve(self, kind, value, implicit):
        """BaseResolver.resolve without path resolvers (c2k defines none)."""
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR_TAG
            tag = _plain_tags.get(value)
            if tag is None:
                tag = _implicit_tag(value)
                if len(_plain_tags) < 1 << 16:
                    _plain_tags[value] = tag
            return tag
        return _SEQ_TAG if kind is SequenceNode else _MAP_TAG


def _to_int(text: str):
    body = text.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    low = body.lower()
    if low.startswith("0x"):
        return sign * int(low[2:], 16)
    if low.startswith("0o"):
        return sign * int(low[2:], 8)
    if low.startswith("0b"):
        return sign * int(low[2:], 2)
    if len(body) > 1 and body.startswith("0") and body.isdigit() and set(body) <= set("01234567"):
        return sign * int(body, 8)      # Go's ParseInt(base 0): a leading zero means octal
    return sign * int(body)


def _to_float(text: str):
    low = text.lower().replace("_", "")
    if low.endswith("inf"):
        return float("-inf") if low.startswith("-") else float("inf")
    if low.endswith("nan"):
        return float("nan")
    return float(low)


_SCALARS = {
    "tag:yaml.org,2002:null": lambda v: None,
    "tag:yaml.org,2002:bool": lambda v: v.lower() == "true",
    "tag:yaml.org,2002:int": _to_int,
    "tag:yaml.org,2002:float": _to_float,
    "tag:yaml.org,2002:str": lambda v: v,
    "tag:yaml.org,2002:binary": lambda v: v,
    "tag:yaml.org,2002:timestamp": lambda v: v,
}


# --- reading --------------------------------------------------------------------------------------

def read_text(path: str, *, what: str = "compose file", limit: int = MAX_FILE_BYTES) -> str:
    """Read a small regular UTF-8 text file, refusing special files, huge files and binaries."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ComposeError(f"{what} not found", file=path) from None
    except OSError as exc:
        raise ComposeError(f"cannot read {what}: {exc.strerror}", file=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise ComposeError(f"{what} is a directory, not a file", file=path)
    if not stat.S_ISREG(info.st_mode):
        raise ComposeError(f"{what} is not a regular file (device, FIFO or socket)", file=path,
                           hint="point to a regular file")
    if info.st_size > limit:
        raise ComposeError(f"{what} is too large ({info.st_size} bytes; the limit is {limit})",
                           file=path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise ComposeError(f"cannot read {what}: {exc.strerror}", file=path) from None
    if len(raw) > limit:
        raise ComposeError(f"{what} is too large (over {limit} bytes)", file=path)
    return decode_text(raw, path, what=what)


def decode_text(raw: bytes, path: str, *, what: str = "compose file") -> str:
    if b"\x00" in raw[:65536]:
        raise ComposeError(f"{what} is binary, not YAML text", file=path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ComposeError(f"{what} is not valid UTF-8 (byte {exc.start})", file=path,
                           line=line, hint="save the file as UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text


def load_file(path: str, *, display: str | None = None) -> YamlDocument:
    try:
        text = read_text(path)
    except ComposeError as exc:
        if display and exc.file == path:
            exc.file = display        # the name the user wrote, as every other error uses
        raise
    return parse(text, display or path)


def parse(text: str, filename: str) -> YamlDocument:
    """Parse one compose document (the first of the stream; compose ignores none: more is an
    error)."""
    _check_depth(text, filename)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, filename) from None
    except yaml.YAMLError as exc:
        raise ComposeError(f"invalid YAML: {exc}", file=filename) from None
    finally:
        loader.dispose()
    lines = Lines(filename)
    if root is None:
        return YamlDocument(None, lines)
    builder = _Builder(filename, lines)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * MAX_DEPTH + 200))
    try:
        data = builder.build(root, ())
        _check_expansion(data, filename, distinct=len(builder.done), lines=lines)
    finally:
        sys.setrecursionlimit(limit)
    return YamlDocument(data, lines)


def _yaml_error(exc: yaml.MarkedYAMLError, filename: str) -> ComposeError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = exc.problem or "invalid YAML"
    if exc.context:
        problem = f"{problem} ({exc.context})"
    return ComposeError(f"invalid YAML: {problem}", file=filename, line=line)


def _check_depth(text: str, filename: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH before libyaml composes them.

    A cheap upper bound first (flow brackets plus the longest line, which bounds block
    nesting). Up to SAFE_COMPOSE_DEPTH libyaml is safe and the builder enforces MAX_DEPTH;
    only beyond it do we walk the event stream, which is iterative.
    """
    longest = max((len(line) for line in text.splitlines()), default=0) if len(text) < 1 << 20 \
        else len(text)
    bound = text.count("[") + text.count("{") + longest // 2
    if bound <= SAFE_COMPOSE_DEPTH:
        return
    depth = 0
    parser = _Loader(text)
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise _too_deep(filename, mark.line + 1 if mark else None)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        # libyaml 0.2.6 (PyYAML 6.0.4) has a nesting limit of its own, which its scanner can
        # reach before the parser hands us the 500th level: the refusal is still ours.
        mark = exc.problem_mark or exc.context_mark
        if mark is not None and _flow_depth(text[:mark.index + 1]) > MAX_DEPTH:
            raise _too_deep(filename, mark.line + 1) from None
        raise _yaml_error(exc, filename) from None
    finally:
        parser.dispose()


def _too_deep(filename: str, line: int | None) -> ComposeError:
    return ComposeError(f"YAML is nested more than {MAX_DEPTH} levels deep", file=filename,
                        line=line)


# Flow brackets, and what hides brackets from YAML: quoted strings, comments.
_FLOW_TOKENS = LazyPattern(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|(?:^|(?<=\s))#[^\n]*|[][{}]',
                           re.MULTILINE)


def _flow_depth(text: str) -> int:
    """The deepest flow nesting ([ and {) in text, counted without a YAML parser."""
    depth = deepest = 0
    for match in _FLOW_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _check_expansion(data, filename: str, *, distinct: int = 0, lines: Lines | None = None) -> None:
    """Refuse documents whose aliases expand too far (billion laughs).

    `distinct` is the number of YAML nodes actually written; the expanded size beyond it is what
    aliases add. Sizes are memoised per shared object, so this stays linear in the node graph.
    """
    sizes: dict[int, int] = {}

    def size(value) -> int:
        if isinstance(value, Tagged):
            value = value.value
        if not isinstance(value, (dict, list)):
            return 1
        key = id(value)
        known = sizes.get(key)
        if known is not None:
            return known
        sizes[key] = 1   # provisional, breaks self-reference loops
        children = value.values() if isinstance(value, dict) else value
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                break
        sizes[key] = total
        return total

    total = size(data)
    if total <= MAX_EXPANDED_NODES and total - distinct <= MAX_ALIAS_EXPANSION:
        return
    # Point at the key that holds most of the expansion: walk down mappings while one child
    # dominates (list items of a bomb are all alike, so the walk stops at the list).
    path: tuple = ()
    value = data
    while True:
        if isinstance(value, Tagged):
            value = value.value
        if not isinstance(value, dict) or not value:
            break
        children = list(value.items())
        key, child = max(children, key=lambda kv: size(kv[1]))
        if path and size(child) * 2 < size(value):
            break
        path += (key,)
        value = child
    line = lines.line_of(path) if lines is not None and path else None
    if total > MAX_EXPANDED_NODES:
        amount = f"more than {MAX_EXPANDED_NODES:,} values"
    else:
        amount = (f"{total:,} values, {total - distinct:,} of them repeated through aliases "
                  f"(the limit is {MAX_ALIAS_EXPANSION:,})")
    raise ComposeError(
        f"YAML aliases expand to {amount}: an alias bomb ('billion laughs')?",
        file=filename, line=line, path=path,
        hint="compose files never need aliases that large; remove the nested aliases")


_TAGGED = (RESET_TAG, OVERRIDE_TAG)


class _Builder:
    """Node graph → Python values, recording a line per key path."""

    def __init__(self, filename: str, lines: Lines):
        self.filename = filename
        self.lines = lines
        self.done: dict[int, object] = {}
        self.active: set[int] = set()
        self.depth = 0

    def build(self, node, path):
        key = id(node)
        done = self.done
        if key in done:
            return done[key]
        if node.__class__ is ScalarNode:     # most nodes: no recursion, no depth to track
            value = done[key] = self._scalar(node) if node.tag not in _TAGGED else \
                Tagged(node.tag, self._scalar(node))
            return value
        if key in self.active:
            raise ComposeError("recursive YAML alias (an anchor that contains itself)",
                               file=self.filename, line=node.start_mark.line + 1)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _too_deep(self.filename, node.start_mark.line + 1)
        self.active.add(key)
        try:
            value = self._build(node, path)
        finally:
            self.active.discard(key)
            self.depth -= 1
        self.done[key] = value
        return value

    def _build(self, node, path):
        tag = node.tag
        if tag in _TAGGED:
            inner = self._untagged(node, path)
            return Tagged(tag, inner)
        return self._untagged(node, path)

    def _untagged(self, node, path):
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            out = []
            for index, item in enumerate(node.value):
                self.lines.table.setdefault(path + (index,), item.start_mark.line + 1)
                out.append(self.build(item, path + (index,)))
            return out
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        raise ComposeError(f"unsupported YAML node {node!r}", file=self.filename)

    def _scalar(self, node):
        tag = node.tag
        if tag == _STR_TAG:
            return node.value
        if tag in _TAGGED:
            tag = _implicit_tag(node.value)
        convert = _SCALARS.get(tag)
        if convert is None:
            if tag.startswith("!"):
                raise ComposeError(f"unknown YAML tag {tag}", file=self.filename,
                                   line=node.start_mark.line + 1,
                                   hint="compose knows only !reset and !override")
            return node.value
        try:
            return convert(node.value)
        except ValueError:
            return node.value

    def _mapping(self, node, path):
        merged: dict = {}
        explicit: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                for source in self._merge_sources(value_node, path):
                    for k, v in source.items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, ScalarNode):
                raise ComposeError("mapping keys must be plain values, not lists or mappings",
                                   file=self.filename, line=key_node.start_mark.line + 1,
                                   path=path)
            key = self._scalar(key_node)
            if key is None:
                key = "null"
            elif isinstance(key, bool):
                key = "true" if key else "false"
            elif not isinstance(key, str):
                key = key_node.value          # compose keys are strings: keep the text
            if key in explicit:
                raise ComposeError(f"duplicate key '{key}'", file=self.filename,
                                   line=key_node.start_mark.line + 1, path=path,
                                   hint="remove one of the two entries")
            line = key_node.start_mark.line + 1
            self.lines.table.setdefault(path + (key,), line)
            explicit[key] = self.build(value_node, path + (key,))
        if not merged:
            return explicit
        for k, v in explicit.items():
            merged[k] = v
        # Keep the document's order: explicit keys first as written, then merged-in keys.
        return {**explicit, **{k: v for k, v in merged.items() if k not in explicit}}

    def _merge_sources(self, node, path):
        if isinstance(node, MappingNode):
            value = self.build(node, path)
            if isinstance(value, Tagged):
                value = value.value
            return [value] if isinstance(value, dict) else []
        if isinstance(node, SequenceNode):
            sources = []
            for item in node.value:
                if not isinstance(item, MappingNode):
                    raise ComposeError("a merge key '<<' list may only hold mappings",
                                       file=self.filename, line=item.start_mark.line + 1,
                                       path=path)
                sources.append(self.build(item, path))
            return sources
        raise ComposeError("a merge key '<<' must point at a mapping or a list of mappings",
                           file=self.filename, line=node.start_mark.line + 1, path=path)

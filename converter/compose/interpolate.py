"""Compose variable interpolation, with the semantics of docker compose v2 (compose-go).

Interpolation runs on the raw YAML tree, before schema validation, and only touches string
*values*: mapping keys, numbers, booleans and nulls are left alone (compose-go does the same;
``${X}: v`` stays a literal key).

Supported syntax, as compose-go's ``template`` package reads it:

``$$``                 a literal ``$``
``$NAME``, ``${NAME}`` the value of NAME; unset -> ``""`` plus a warning
``${NAME:-default}``   default when NAME is unset or empty
``${NAME-default}``    default when NAME is unset
``${NAME:?message}``   error when NAME is unset or empty
``${NAME?message}``    error when NAME is unset
``${NAME:+value}``     value when NAME is set and non-empty, else ``""``
``${NAME+value}``      value when NAME is set, else ``""``

A name is ``[_A-Za-z][_A-Za-z0-9]*`` (compose-go matches it case-insensitively, which also
admits U+017F and U+212A, the two non-ASCII case-folds of ``s`` and ``k``). Defaults, messages
and replacement values are interpolated themselves, so ``${A:-${B:-x}}`` works.

Behaviours copied on purpose because compose has them (each one was checked against
``docker compose config``):

* A ``$`` that is not followed by ``$``, a name or ``{`` stays a literal ``$`` (``"a$"``,
  ``"$1"``, ``"$-x"``). ``${`` followed by anything that is not a valid expression is an error
  (``${}``, ``${ x}``, ``${x }``, ``${x!}``, ``${1x}``, ``${x:=y}``, an unterminated ``${x``).
* The nested default/message/replacement is evaluated *eagerly*, even when it is not used:
  ``${SET:-${UNSET}}`` warns about UNSET, and ``${SET:-${UNSET:?boom}}`` fails.
* An expression with an operator runs to the last ``}`` of its line, then is cut at the first
  balanced ``}``; braces are counted with compose's quirky counter (every ``{`` opens a level
  and hides the character right after it). So ``${A:-{x}y}`` gives ``{x}y`` and an expression
  never spans a newline: ``${A:-x<newline>y}`` is invalid.
* When a template is invalid, the error shows the piece of text compose would show: the whole
  value, or the default/remainder being expanded when the problem is nested in it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from typing import Any

from converter.errors import ComposeError
from converter.secretnames import names_secret

__all__ = [
    "InterpolationWarning",
    "interpolate_string",
    "interpolate_tree",
    "unset_variable_message",
]

Lookup = Callable[[str], "str | None"]

_LETTERS = "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\u017f\u212a"
_NAME_START = frozenset(_LETTERS)
_NAME_CHARS = frozenset(_LETTERS + "0123456789")
_OPERATORS = frozenset("-+?")
_BRACES = re.compile(r"[{}]")

_ESCAPE_HINT = "You may need to escape any $ with another $ (write $$ for a literal $)."


def unset_variable_message(name: str) -> str:
    """The warning compose prints for a variable that is not set."""
    return f'The "{name}" variable is not set. Defaulting to a blank string.'


class InterpolationWarning(str):
    """A warning text (compare it like a ``str``) that also says where it came from.

    ``variable`` is the unset name, ``path`` the key path of the value, and ``file``/``line``
    are set when the caller knew them (``.env`` parsing sets both).
    """

    variable: str
    path: tuple
    file: str | None
    line: int | None

    def __new__(cls, variable: str, path=(), file: str | None = None, line: int | None = None):
        self = super().__new__(cls, unset_variable_message(variable))
        self.variable = variable
        self.path = tuple(path)
        self.file = file
        self.line = line
        return self


class _Context:
    """What an error or a warning needs to say where it happened."""

    __slots__ = ("file", "hide_value", "line", "lookup", "path", "warnings")

    def __init__(self, lookup: Lookup, warnings: list | None, path, file, line):
        self.hide_value = False
        self.lookup = lookup
        self.warnings = warnings
        self.path = path
        self.file = file
        self.line = line

    def path_tuple(self) -> tuple:
        path = self.path
        return path() if callable(path) else tuple(path)

    def warn(self, name: str) -> None:
        if self.warnings is not None:
            self.warnings.append(InterpolationWarning(name, self.path_tuple(), self.file, self.line))

    def invalid(self, template: str) -> ComposeError:
        path = self.path_tuple()
        name = next((p for p in reversed(path) if isinstance(p, str)), None)
        if path and isinstance(path[-1], int) and "=" in template:
            name = template.split("=", 1)[0]        # list form: `- DB_PASSWORD=...`
        if self.hide_value or (name and looks_secret_name(name)):
            # The value may be a password: say where, never what.
            shown = "(the value is not shown: its name looks like a secret)"
        else:
            shown = _quote(template)
        return ComposeError(f"invalid interpolation format: {shown}",
                            file=self.file, line=self.line, path=path, hint=_ESCAPE_HINT)

    def missing(self, name: str, reason: str) -> ComposeError:
        message = f"required variable {name} is missing a value"
        if reason:
            message += f": {reason}"
        return ComposeError(message, file=self.file, line=self.line, path=self.path_tuple())


# Errors about values whose names look secret say where the problem is but never quote them.
looks_secret_name = names_secret


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _closing_brace(s: str, start: int, end: int) -> int:
    """Index of the ``}`` that closes the expression starting at ``start``, or -1.

    Mirrors compose-go's counter exactly: a ``}`` closes a level, a ``{`` opens one and the
    character right after a ``{`` is not looked at.
    """
    depth = 0
    hidden = -1  # the position a "{" hides
    for match in _BRACES.finditer(s, start, end):
        i = match.start()
        if i == hidden:
            continue
        if s[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        else:
            depth += 1
            hidden = i + 1
    return -1


def _substitute(template: str, ctx: _Context) -> str:
    """Expand one string; raises ComposeError. ``template`` is known to contain ``$``."""
    lookup = ctx.lookup
    out: list[str] = []
    # Frames are (start, end, resume) windows over ``template``: compose expands the text
    # after an expression's closing brace (up to the end of the greedy match) as a separate
    # template before carrying on, and reports that text when it is invalid. Keeping windows
    # instead of slices keeps long lines linear.
    stack: list[tuple[int, int, int]] = []
    start, end = 0, len(template)
    pos = start
    nl_from, nl_at = -1, -1  # cache: no newline in [nl_from, nl_at), template[nl_at] is one

    while True:
        dollar = template.find("$", pos, end)
        if dollar < 0:
            out.append(template[pos:end])
            if not stack:
                break
            start, end, pos = stack.pop()
            continue
        if dollar > pos:
            out.append(template[pos:dollar])
        nxt = dollar + 1
        if nxt >= end:
            out.append("$")
            pos = nxt
            continue
        ch = template[nxt]
        if ch == "$":
            out.append("$")
            pos = nxt + 1
            continue
        if ch in _NAME_START:
            stop = nxt + 1
            while stop < end and template[stop] in _NAME_CHARS:
                stop += 1
            name = template[nxt:stop]
            value = lookup(name)
            if value is None:
                ctx.warn(name)
                value = ""
            out.append(value)
            pos = stop
            continue
        if ch != "{":
            out.append("$")
            pos = nxt
            continue

        # "${": a braced expression, or an invalid template.
        first = nxt + 1
        if first >= end or template[first] not in _NAME_START:
            raise ctx.invalid(template[start:end])
        stop = first + 1
        while stop < end and template[stop] in _NAME_CHARS:
            stop += 1
        name = template[first:stop]
        if stop < end and template[stop] == "}":
            value = lookup(name)
            if value is None:
                ctx.warn(name)
                value = ""
            out.append(value)
            pos = stop + 1
            continue
        if stop < end and template[stop] in _OPERATORS:
            op_end = stop + 1
        elif stop + 1 < end and template[stop] == ":" and template[stop + 1] in _OPERATORS:
            op_end = stop + 2
        else:
            raise ctx.invalid(template[start:end])
        # The operand runs to the last "}" before the end of the line (compose's ".*}").
        if not (nl_from <= op_end <= nl_at):
            nl_from = op_end
            nl_at = template.find("\n", op_end)
            if nl_at < 0:
                nl_at = len(template)
        line_end = min(nl_at, end)
        last = template.rfind("}", op_end, line_end)
        if last < 0:
            raise ctx.invalid(template[start:end])
        cut = _closing_brace(template, dollar, last + 1)
        if cut < 0:
            cut = last
        operator = template[stop:op_end]
        operand = template[op_end:cut]
        out.append(_apply(name, operator, operand, ctx))
        if cut < last:
            # The rest of the greedy match is expanded on its own, then we carry on after it.
            if last + 1 < end:
                stack.append((start, end, last + 1))
            start, end = cut + 1, last + 1
            pos = start
        else:
            pos = last + 1
    return "".join(out)


def _expand(text: str, ctx: _Context) -> str:
    return _substitute(text, ctx) if "$" in text else text


def _apply(name: str, operator: str, operand: str, ctx: _Context) -> str:
    # compose expands the operand before it looks at the variable, whether or not it is used
    operand = _expand(operand, ctx)
    value = ctx.lookup(name)
    if operator == ":-":
        return operand if not value else value
    if operator == "-":
        return operand if value is None else value
    if operator == ":+":
        return operand if value else (value or "")
    if operator == "+":
        return operand if value is not None else ""
    if operator == ":?":
        if not value:
            raise ctx.missing(name, operand)
        return value
    # "?"
    if value is None:
        raise ctx.missing(name, operand)
    return value


def interpolate_string(value: str, lookup: Lookup, *, path=(), warnings: list | None = None,
                       file: str | None = None, line: int | None = None,
                       hide_value: bool = False) -> str:
    """Expand the variables in one string, compose style.

    ``lookup(name)`` returns the value or ``None`` when the variable is unset. Unset plain
    references become ``""`` and append an :class:`InterpolationWarning` to ``warnings``.
    Errors are :class:`ComposeError` carrying ``path`` (and ``file``/``line`` when given).
    A string without ``$`` is returned as is.
    """
    if "$" not in value:
        return value
    ctx = _Context(lookup, warnings, path, file, line)
    ctx.hide_value = hide_value
    try:
        return _substitute(value, ctx)
    except RecursionError:
        raise ComposeError("interpolation expressions are nested too deeply",
                           file=file, line=line, path=tuple(path)) from None


def _compile_skip(skip) -> tuple:
    if skip is None:
        return ()
    patterns = []
    for pattern in skip:
        if isinstance(pattern, str):
            raise TypeError("skip patterns are tuples of keys, e.g. ('services', '*', 'labels')")
        patterns.append(tuple(pattern))
    return tuple(patterns)


def _advance(patterns: tuple, key) -> tuple:
    """The pattern suffixes still alive one level below ``key``."""
    alive = []
    for pattern in patterns:
        if not pattern:
            alive.append(pattern)  # already matched above: everything below is skipped
        elif pattern[0] == "*" or pattern[0] == key:
            alive.append(pattern[1:])
    return tuple(alive)


class _PathNode:
    """A key path built as a linked list: cheap to extend, turned into a tuple on demand."""

    __slots__ = ("key", "parent")

    def __init__(self, parent, key):
        self.parent = parent
        self.key = key

    def __call__(self) -> tuple:
        keys = []
        node = self
        while isinstance(node, _PathNode):
            keys.append(node.key)
            node = node.parent
        return tuple(node) + tuple(reversed(keys))


def interpolate_tree(tree: Any, lookup: Lookup, *, path=(), warnings: list | None = None,
                     skip: Iterable[tuple] | None = None, file: str | None = None) -> Any:
    """Return a copy of ``tree`` with every string value interpolated.

    Dicts (key order kept) and lists are rebuilt; mapping keys and non-string scalars are not
    touched; the input is never mutated. A sub-object reachable from several places (a YAML
    alias) is processed once and its result is shared the same way, so alias-heavy documents
    stay cheap; warnings and errors from a shared sub-object name the first path it was met at.

    ``skip`` is an optional collection of key-path patterns (tuples, ``"*"`` matches any key
    or list index, relative to ``path``); strings under a matching path are copied verbatim.
    """
    patterns = _compile_skip(skip)
    base_path = tuple(path)
    memo: dict = {}
    ctx = _Context(lookup, warnings, base_path, file, None)

    def walk(node, node_path, alive):
        if isinstance(node, str):
            if "$" not in node or () in alive:
                return node
            ctx.path = node_path
            return _substitute(node, ctx)
        if isinstance(node, dict):
            key = (id(node), alive) if alive else id(node)
            done = memo.get(key)
            if done is not None:
                return done[1]
            result = {} if type(node) is dict else _blank_like(node)
            memo[key] = (node, result)  # keep ``node`` alive so its id stays unique
            for k, v in node.items():
                if isinstance(v, str) and "$" not in v:
                    result[k] = v
                    continue
                sub = _advance(alive, k) if alive else alive
                result[k] = walk(v, _PathNode(node_path, k), sub)
            return result
        if isinstance(node, (list, tuple)):
            key = (id(node), alive) if alive else id(node)
            done = memo.get(key)
            if done is not None:
                return done[1]
            if isinstance(node, tuple):
                items = tuple(walk(v, _PathNode(node_path, i), _advance(alive, i) if alive else alive)
                              for i, v in enumerate(node))
                result = items if type(node) is tuple else type(node)(items)
                memo[key] = (node, result)
                return result
            result = [] if type(node) is list else _blank_like(node)
            memo[key] = (node, result)
            for i, v in enumerate(node):
                if isinstance(v, str) and "$" not in v:
                    result.append(v)
                    continue
                sub = _advance(alive, i) if alive else alive
                result.append(walk(v, _PathNode(node_path, i), sub))
            return result
        return node

    try:
        if () in patterns:
            return walk(tree, base_path, ((),))
        return walk(tree, base_path, patterns)
    except RecursionError:
        raise ComposeError("the document is nested too deeply to interpolate",
                           file=file, path=base_path) from None


def _blank_like(node):
    """An empty container of the same (sub)class as ``node``, keeping its attributes."""
    blank = copy.copy(node)
    blank.clear()
    return blank

"""YAML output that every YAML 1.1 reader (kubectl, Helm: go-yaml v2) reads back as written.

PyYAML quotes strings its own resolver would misread (`yes`, `true`, `1.5`, `2001-12-14`), but
not the ones go-yaml v2 also treats as non-strings: `y`/`n`, `1e3`, `080`, `0o14`, `1_000`,
`.5`, `12:30`... An env value `n` would reach the API server as a boolean. `Dumper` quotes every
string that any YAML 1.1 reader could take for a bool, number, null or timestamp.

Also: block style, keys in insertion order, multi-line strings as literal blocks, no aliases,
no line folding of long strings. Uses libyaml's emitter (CSafeDumper) when available.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# Plain scalars some YAML 1.1 reader resolves to something other than a string.
_AMBIGUOUS = re.compile(r"""^(?:
    [yYnN]
  | (?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)
  | (?:~|null|Null|NULL)
  | [-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
  | [-+]?0[bB][01_]+
  | [-+]?0[oO]?[0-7_]+
  | [-+]?0[xX][0-9a-fA-F_]+
  | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
  | [-+]?\.(?:inf|Inf|INF)
  | \.(?:nan|NaN|NAN)
  | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt\s].*)?
  | =
  | <<
)$""", re.VERBOSE)


def needs_quotes(text: str) -> bool:
    """True when `text` written as a plain scalar would not read back as this string."""
    return text == "" or bool(_AMBIGUOUS.match(text))


class Dumper(yaml.CSafeDumper):
    """Safe dumper: quoting for YAML 1.1 readers, literal blocks, no aliases."""

    def ignore_aliases(self, data):
        return True


def _represent_str(dumper, data: str):
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if needs_quotes(data):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


Dumper.add_representer(str, _represent_str)

_OPTIONS: dict[str, Any] = dict(Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                width=1 << 16, indent=2)


def dump(obj) -> str:
    """One YAML document."""
    text = _fast_document(obj)
    return text if text is not None else yaml.dump(obj, **_OPTIONS)


def dump_all(objects) -> str:
    """A YAML stream, documents separated by `---`; the same input gives the same bytes."""
    objects = list(objects)
    if not objects:
        return ""
    return "---\n".join(dump(obj) for obj in objects)


# --- fast path ------------------------------------------------------------------------------
# PyYAML's representer runs in Python and dominates `c2k convert` on large projects. Kubernetes
# objects are plain trees of dicts, lists, short strings, ints and bools, which this writer emits
# byte for byte as PyYAML does with the options above (a test compares them on every sample and
# corpus file). Anything it is not sure about (floats, multi-line or unusual strings) makes it
# give up on that document, which PyYAML then writes.

# Strings PyYAML writes plain, unquoted: a safe first character, then characters that never
# start an indicator sequence; no ': ', ' #', no trailing space.
_PLAIN = re.compile(r"(?:[A-Za-z0-9_./(]|-(?=[^ ]))[A-Za-z0-9_./()=+,;:#$&|<>~@%^ -]*\Z")
_SIMPLE_QUOTED = re.compile(r"[A-Za-z0-9_.+:~<=-]*\Z")


class _Unsure(Exception):
    pass


def _scalar(value) -> str:
    if type(value) is str:
        text = _strings.get(value)
        if text is None:
            text = _string(value)
            if len(_strings) < _STRINGS_MAX:
                _strings[value] = text
        if text is False:
            raise _Unsure
        return text
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    raise _Unsure


# Manifests repeat the same keys and values thousands of times: each string is judged once.
_strings: dict = {}
_STRINGS_MAX = 1 << 16


def _string(value: str):
    """How the string is written plain or quoted, or False when unsure."""
    if needs_quotes(value):
        return f'"{value}"' if _SIMPLE_QUOTED.match(value) else False
    if _PLAIN.match(value) and not value.endswith((" ", ":")) and "  " not in value \
            and ": " not in value and " #" not in value \
            and not value.startswith(("---", "...")):      # document markers
        return value
    return False


def _mapping(obj: dict, indent: str, out: list) -> None:
    for key, value in obj.items():
        if type(key) is not str:
            raise _Unsure
        k = _scalar(key)
        if type(value) is dict:
            if value:
                out.append(f"{indent}{k}:\n")
                _mapping(value, indent + "  ", out)
            else:
                out.append(f"{indent}{k}: {{}}\n")
        elif type(value) is list:
            if value:
                out.append(f"{indent}{k}:\n")
                _sequence(value, indent, out)
            else:
                out.append(f"{indent}{k}: []\n")
        elif type(value) is str and "\n" in value:
            _literal(f"{indent}{k}: ", value, indent + "  ", out)
        else:
            out.append(f"{indent}{k}: {_scalar(value)}\n")


def _sequence(items: list, indent: str, out: list) -> None:
    for item in items:
        if type(item) is dict and item:
            start = len(out)
            _mapping(item, indent + "  ", out)
            out[start] = f"{indent}- " + out[start][len(indent) + 2:]
        elif type(item) is list and item:
            start = len(out)
            _sequence(item, indent + "  ", out)
            out[start] = f"{indent}- " + out[start][len(indent) + 2:]
        elif type(item) is dict:
            out.append(f"{indent}- {{}}\n")
        elif type(item) is list:
            out.append(f"{indent}- []\n")
        elif type(item) is str and "\n" in item:
            _literal(f"{indent}- ", item, indent + "  ", out)
        else:
            out.append(f"{indent}- {_scalar(item)}\n")


# Multi-line strings the emitter writes as a literal block without an indentation indicator
# or keep-chomping: printable ASCII lines, the first not indented, no space before a line end.
_LITERAL = re.compile(r"[\x21-\x7e][\x20-\x7e\n]*\Z")


def _literal(head: str, text: str, indent: str, out: list) -> None:
    if not _LITERAL.match(text) or " \n" in text or text.endswith((" ", "\n\n")):
        raise _Unsure
    body = text[:-1] if text.endswith("\n") else text
    out.append(head + ("|\n" if body is not text else "|-\n"))
    for line in body.split("\n"):
        out.append(f"{indent}{line}\n" if line else "\n")


def _fast_document(obj) -> str | None:
    if type(obj) is not dict or not obj:
        return None
    out: list[str] = []
    try:
        _mapping(obj, "", out)
    except _Unsure:
        return None
    return "".join(out)

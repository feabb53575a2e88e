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

import yaml

_Base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

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


class Dumper(_Base):
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

_OPTIONS = dict(Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                width=1 << 16, indent=2)


def dump(obj) -> str:
    """One YAML document."""
    return yaml.dump(obj, **_OPTIONS)


def dump_all(objects) -> str:
    """A YAML stream, documents separated by `---`; the same input gives the same bytes."""
    objects = list(objects)
    if not objects:
        return ""
    return yaml.dump_all(objects, **_OPTIONS)

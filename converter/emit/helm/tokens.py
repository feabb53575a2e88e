"""Placeholders put into an object before it is dumped, and the template text each becomes.

The chart's templates are the converted objects written by `yamlio` like any manifest; what
the release or the values decide is first replaced by a placeholder string, the object is
dumped, and each placeholder is then swapped for template text. Two sorts:
- inline: anywhere in a line, even inside a longer string (`redis://<tok>:6379/0`), becomes
  `{{ expr }}`;
- line: the value of a mapping key (`key: <tok>`, `- key: <tok>`) or a key of its own
  (`<tok>: ''`, merged into the mapping around it), replaced by whole lines: an optional
  scalar, a block from `toYaml`, or any lines a callback writes.
Any `{{` already in the text (a command, a config file) is escaped first, so with the default
values the template renders the text as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# (indent, key or None, list item?) -> the lines that replace the placeholder's line
LineWriter = Callable[[str, "str | None", bool], list[str]]


def escape_braces(text: str) -> str:
    """Literal `{{` written so that Go templates print it as it is."""
    return text.replace("{{", '{{ "{{" }}')


class Tokens:
    def __init__(self, taken: str = ""):
        self.prefix = "__c2k_tok_"
        while self.prefix in taken:      # a string in the input that looks like a token
            self.prefix += "x"
        self.inline: list[str] = []
        self.lines: list[LineWriter] = []
        self._inline = re.compile(re.escape(self.prefix) + r"i(\d+)__")
        self._line = re.compile(r"^(?P<indent> *)(?P<dash>- )?(?:(?P<key>[^\s\-][^:]*): )?"
                                + re.escape(self.prefix) + r"l(\d+)__(?P<own>: (?:''|\"\"))?$")

    # ---- placing ------------------------------------------------------------------------------

    def expr(self, expr: str) -> str:
        """`{{ expr }}` where the placeholder stands, inside any string."""
        self.inline.append("{{ %s }}" % expr)
        return f"{self.prefix}i{len(self.inline) - 1}__"

    def quoted(self, expr: str) -> str:
        """A whole scalar: `{{ expr | quote }}` (a YAML string whatever the value)."""
        return self.expr(f"{expr} | quote")

    def text(self, parts: list) -> str:
        """A string made of literal parts and ("expr", e) parts."""
        if len(parts) == 1 and isinstance(parts[0], tuple):
            return self.quoted(parts[0][1])
        return "".join(p if isinstance(p, str) else self.expr(p[1]) for p in parts)

    def line(self, writer: LineWriter) -> str:
        self.lines.append(writer)
        return f"{self.prefix}l{len(self.lines) - 1}__"

    def optional(self, expr: str) -> str:
        """`key: value` only when `expr` is not empty."""
        return self.line(lambda indent, key, dash: [
            "{{- with %s }}" % expr, f"{indent}{key}: {{{{ . | quote }}}}", "{{- end }}"])

    def block(self, expr: str) -> str:
        """`key:` followed by `expr` as YAML (always written)."""
        def write(indent, key, dash):
            if dash:
                return [f"{indent}- {key}:",
                        f"{indent}    {{{{- toYaml {expr} | nindent {len(indent) + 4} }}}}"]
            return [f"{indent}{key}:",
                    f"{indent}  {{{{- toYaml {expr} | nindent {len(indent) + 2} }}}}"]
        return self.line(write)

    def optional_block(self, expr: str, *, render: str = "toYaml .") -> str:
        """`key:` and `expr` as YAML, only when `expr` is not empty."""
        return self.line(lambda indent, key, dash: [
            "{{- with %s }}" % expr, f"{indent}{key}:",
            f"{indent}  {{{{- {render} | nindent {len(indent) + 2} }}}}", "{{- end }}"])

    def merged(self, expr: str) -> str:
        """A key of its own: the entries of the mapping `expr` join the mapping it sits in."""
        return self.line(lambda indent, key, dash: [
            "{{- with %s }}" % expr, f"{indent}{{{{- toYaml . | nindent {len(indent)} }}}}",
            "{{- end }}"])

    # ---- writing ------------------------------------------------------------------------------

    def substitute(self, text: str) -> str:
        text = self._inline.sub(lambda m: self.inline[int(m.group(1))], text)
        if self.prefix not in text:
            return text
        out = []
        for line in text.split("\n"):
            found = self._line.match(line) if self.prefix in line else None
            if found is None:
                if self.prefix in line:
                    raise AssertionError(f"placeholder in an unexpected place: {line!r}")
                out.append(line)
                continue
            writer = self.lines[int(found.group(4))]
            if found.group("own"):
                out += writer(found.group("indent") + ("  " if found.group("dash") else ""),
                              None, False)
            else:
                out += writer(found.group("indent"), found.group("key"),
                              bool(found.group("dash")))
        return "\n".join(out)

"""A command string split into words exactly as docker compose splits it.

docker compose v2 turns a string `command`, `entrypoint` or hook `command` into a list with the
default parser of go-shellwords (v1.0.12, through compose-go). It is not a shell:

- quotes group words (`"a b"`, `'a b'`, `x""y` → `xy`); a backslash takes the next character
  as it is, inside double quotes too (`"a\\b"` → `ab`, `\\t` → `t`); inside single quotes it is
  a plain character;
- nothing is expanded: `$VAR`, `$(cmd)`, `` `cmd` ``, `~` and `*` stay as written (compose
  has already interpolated `${VAR}`); `#` starts no comment;
- the first unquoted `;`, `&`, `|`, `<` or `>` ends the command: `a && b` runs `a`, and
  everything from the operator on is dropped (with `2>file`, the `2` goes too);
- an unclosed quote, `$(`, `` ` ``, a trailing backslash or a `(` not after `$` is an error.

`split` returns the words and the dropped rest, so the loader can warn that part of the command
never runs.
"""

from __future__ import annotations

_SPACES = " \t\r\n"
_OPERATORS = ";&|<>"
_DIGITS = "0123456789"


class CommandLineError(ValueError):
    """The string is not a command line docker compose accepts."""


def split(text: str) -> tuple[list[str], str]:
    """(words, rest): the words docker compose runs, and the text it drops ('' if none)."""
    words: list[str] = []
    word = ""
    has_word = False                  # a word is open, even an empty quoted one ('')
    start = 0                         # where the current word begins in `text`
    escaped = single = double = backtick = dollar = False
    rest = ""
    for index, char in enumerate(text):
        if escaped:
            word += char
            escaped = False
            has_word = True
            continue
        if char == "\\":
            if single:
                word += char
            else:
                escaped = True
            continue
        if char in _SPACES:
            if single or double or backtick or dollar:
                word += char
                continue
            if has_word:
                words.append(word)
                word, has_word = "", False
            start = index + 1
            continue
        if char == "`" and not (single or double or dollar):
            backtick = not backtick
        elif char == ")" and not (single or double or backtick):
            dollar = not dollar            # go-shellwords toggles here, even on a bare ')'
        elif char == "(" and not (single or double or backtick):
            if dollar or not word.endswith("$"):
                raise CommandLineError("a '(' that does not open '$('")
            dollar = True
            word += char
            continue
        elif char == '"' and not (single or dollar):
            if double:
                has_word = True
            double = not double
            continue
        elif char == "'" and not (double or dollar):
            if single:
                has_word = True
            single = not single
            continue
        elif char in _OPERATORS and not (single or double or backtick or dollar):
            rest = text[index:]
            if char == ">" and word and word[0] in _DIGITS:
                has_word = False           # `2>file`: the descriptor goes with the redirection
                rest = text[start:]
            break
        has_word = True
        word += char
    if has_word:
        words.append(word)
    if escaped or single or double or backtick or dollar:
        raise CommandLineError("a trailing backslash" if escaped else
                               "an unclosed quote" if single or double else
                               "an unclosed `" if backtick else "an unclosed $(")
    return words, rest

"""``.env`` and service ``env_file`` parsing, with docker compose v2 (compose-go dotenv) rules.

The format, as compose reads it::

    # a comment line
    KEY=value                 unquoted: trimmed; " #" starts an inline comment
    export KEY=value          "export " is dropped
    KEY: value                yaml-style separator, same as "="
    KEY='literal $X'          single quotes: literal, only \\' is unescaped
    KEY="a\\nb ${X:-d}"       double quotes: \\n \\t \\r \\a \\b \\f \\v \\\\ \\" \\$ \\0NNN escapes,
                              then interpolation; may span several lines
    KEY=                      empty string
    KEY                       inherited: the lookup's value, or no entry at all

Keys may hold letters, digits, ``_ . - [ ]`` (``VAR.WITH.DOTS``, ``VAR-WITH-DASHES``); a key
with a space is an error. Keys starting with a digit are kept (compose keeps them in
``env_file``; only godotenv's ``Read`` helper drops them). A UTF-8 BOM is skipped; CRLF works
(the ``\\r`` is trimmed off unquoted values, and kept inside multi-line quoted ones).

``${VAR}`` references (unquoted and double-quoted values) resolve against ``lookup`` FIRST,
then against keys defined earlier in the same file; this is compose's order (an OS variable
beats an earlier line of the file, see ``TestSubstitutionsWithEnvFilePrecedence``). The
interpolation syntax is the compose one (see :mod:`converter.compose.interpolate`).

Compose quirks kept on purpose (checked with ``docker compose config``): text after a closing
quote on the same line is read as a new statement (``A="x"y=1`` also sets ``y``); ``A=x#y``
keeps the ``#`` (only `` #`` starts a comment); escapes are only processed in double quotes.

Deliberate differences, where compose produces something unusable: a bare ``KEY`` on the last
line without a newline is treated like any other bare ``KEY`` (compose turns it into a
variable with an empty name), and an empty name (``=value``) is an error instead of an
environment entry no container runtime accepts. Line numbers in errors are those of the
statement (compose sometimes reports the line where its scanner stopped).
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Callable

from converter.compose.interpolate import interpolate_string, looks_secret_name
from converter.errors import ComposeError

__all__ = ["MAX_ENV_FILE_BYTES", "parse_dotenv", "read_env_file"]

MAX_ENV_FILE_BYTES = 16 * 1024 * 1024

Lookup = Callable[[str], "str | None"]

# Go's unicode.IsSpace (statement boundaries, trimming of keys and unquoted values).
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
         "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE_SET = frozenset(_SPACE)
# The parser's own isSpace: blanks that never end a line.
_BLANK = frozenset("\t\v\f\r \x85\xa0")
_KEY_PUNCT = frozenset("_.-[]")
_EXPORT = re.compile(r"export[\t\n\f\r ]+")
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                   "v": "\v", '"': '"', "\\": "\\"}


def _no_lookup(_name: str) -> None:
    return None


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _is_key_char(ch: str) -> bool:
    if ch.isascii():
        return ch.isalnum() or ch in _KEY_PUNCT
    return unicodedata.category(ch)[0] in "LN"


def _unescape(match: re.Match) -> str:
    seq = match.group(0)
    code = seq[1]
    if code == "$":
        return "$$"  # a literal dollar for the interpolation that follows
    if code == "0":
        # compose rewrites \0NNN to the Go octal escape \NNN, and keeps the rewritten text
        # when that is not a valid escape (so "\0" -> "\", "\01" -> "\1")
        digits = seq[2:]
        if len(digits) == 3 and all("0" <= d <= "7" for d in digits) and int(digits, 8) <= 0o377:
            return chr(int(digits, 8))
        return "\\" + digits
    return _SIMPLE_ESCAPES.get(code, seq)  # "\c" is matched but stays as it is


def _expand_escapes(value: str) -> str:
    return _ESCAPE.sub(_unescape, value) if "\\" in value else value


def parse_dotenv(text: str, *, filename: str, lookup: Lookup = _no_lookup,
                 warnings: list | None = None) -> dict[str, str]:
    """Parse the text of a ``.env``/``env_file`` file into an ordered ``{key: value}`` map.

    ``lookup(name)`` gives the outside value of a variable or ``None``; it answers bare
    ``KEY`` lines and takes precedence over earlier keys of the file inside ``${...}``.
    Syntax errors and failed ``${X:?msg}`` checks raise :class:`ComposeError` with ``file``
    and ``line``; unset references append warnings to ``warnings`` (when given).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    out: dict[str, str] = {}

    def resolve(name: str) -> str | None:
        value = lookup(name)
        return value if value is not None else out.get(name)

    n = len(text)
    pos = 0
    line = 1
    while True:
        # Skip blank space and comment lines up to the next statement.
        while pos < n:
            ch = text[pos]
            if ch in _SPACE_SET:
                if ch == "\n":
                    line += 1
                pos += 1
            elif ch == "#":
                nl = text.find("\n", pos)
                pos = n if nl < 0 else nl
            else:
                break
        if pos >= n:
            break

        statement_line = line
        exported = _EXPORT.match(text, pos)
        if exported:
            line += text.count("\n", pos, exported.end())
            pos = exported.end()
        while pos < n and text[pos] in _BLANK:
            pos += 1
        key_line = line
        if pos >= n:
            raise ComposeError("expected a variable name after 'export'", file=filename,
                               line=statement_line)

        # The key runs to "=", ":" or the end of the line.
        key_start = pos
        sep = ""
        while pos < n:
            ch = text[pos]
            if ch == "=" or ch == ":" or ch == "\n":
                sep = ch
                break
            if ch in _BLANK or _is_key_char(ch):
                pos += 1
                continue
            snippet = text[key_start:pos + 1]   # the name up to the bad character, never the value
            raise ComposeError(f"unexpected character {_quote(ch)} in variable name {_quote(snippet)}",
                               file=filename, line=key_line,
                               hint="a line is KEY=VALUE, KEY alone, or a # comment")
        key = text[key_start:pos].rstrip(_SPACE)
        if " " in key:
            raise ComposeError("key cannot contain a space", file=filename, line=key_line,
                               hint="a line is KEY=VALUE, KEY alone, or a # comment")
        if not key:
            raise ComposeError(f"missing variable name before {_quote(sep)}", file=filename, line=key_line)

        if sep != "=" and sep != ":":
            # A bare KEY (also on a last line without newline): inherit it, or leave it out.
            value = lookup(key)
            if value is not None:
                out[key] = value
            if sep == "\n":
                pos += 1
                line += 1
            continue

        pos += 1
        while pos < n and text[pos] in _BLANK:
            pos += 1

        if pos < n and text[pos] in "'\"":
            quote = text[pos]
            value_line = line
            end = pos + 1
            while end < n:
                ch = text[end]
                if ch == "\\":
                    if end + 1 < n and text[end + 1] == "\n":
                        line += 1
                    end += 2
                    continue
                if ch == quote:
                    break
                if ch == "\n":
                    line += 1
                end += 1
            else:
                # Name the key, not the value: env files hold passwords.
                raise ComposeError(f"unterminated quoted value of {key} (opened with {quote})",
                                   file=filename, line=value_line,
                                   hint=f"close the value with a {quote}")
            raw = text[pos + 1:end]
            if quote == '"':
                value = interpolate_string(_expand_escapes(raw), resolve, warnings=warnings,
                                           file=filename, line=value_line,
                                           hide_value=looks_secret_name(key))
            else:
                value = raw.replace("\\'", "'")
            pos = end + 1  # anything after the quote is read as the next statement, like compose
        else:
            nl = text.find("\n", pos)
            raw = text[pos:n if nl < 0 else nl]
            comment = raw.find(" #")
            if comment >= 0:
                raw = raw[:comment]
            raw = raw.rstrip(_SPACE)
            value = interpolate_string(raw, resolve, warnings=warnings, file=filename, line=key_line,
                                       hide_value=looks_secret_name(key))
            if nl < 0:
                pos = n
            else:
                pos = nl + 1
                line += 1
        out[key] = value
    return out


def read_env_file(path: str, *, lookup: Lookup = _no_lookup, warnings: list | None = None,
                  max_bytes: int = MAX_ENV_FILE_BYTES) -> dict[str, str]:
    """Read and parse an env file; see :func:`parse_dotenv`.

    Only regular files up to ``max_bytes`` are read (``/dev/zero``, FIFOs, directories and
    sockets are refused without blocking), and the content must be UTF-8. Every failure is a
    :class:`ComposeError` naming the path.
    """
    path = os.fspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ComposeError(f"env file {path} not found", file=path,
                           hint="create it, fix the path, or mark it `required: false`") from None
    except OSError as exc:
        raise ComposeError(f"cannot read env file {path}: {exc.strerror or exc}", file=path) from None
    if not stat.S_ISREG(info.st_mode):
        raise ComposeError(f"env file {path} is not a regular file", file=path)
    if info.st_size > max_bytes:
        raise ComposeError(f"env file {path} is too large ({info.st_size} bytes, limit {max_bytes})",
                           file=path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ComposeError(f"cannot read env file {path}: {exc.strerror or exc}", file=path) from None
    try:
        info = os.fstat(fd)  # the path may have been swapped since the stat above
        if not stat.S_ISREG(info.st_mode):
            raise ComposeError(f"env file {path} is not a regular file", file=path)
        chunks = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ComposeError(f"cannot read env file {path}: {exc.strerror or exc}", file=path) from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise ComposeError(f"env file {path} is too large (limit {max_bytes} bytes)", file=path)
    data = b"".join(chunks)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        raise ComposeError(f"env file {path} is not valid UTF-8 (byte {exc.start})", file=path,
                           line=bad_line, hint="save the file as UTF-8") from None
    return parse_dotenv(text, filename=path, lookup=lookup, warnings=warnings)

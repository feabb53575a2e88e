"""What a Dockerfile copies from its build context into the image, and where.

`context_copies(text, target=..., build_args=...)` reads a Dockerfile as BuildKit does (parser
directives, the escape character, line continuations, comments, heredocs, JSON and shell forms,
`$VAR`/`${VAR}`/`${VAR:-default}`/`${VAR:+alt}` from ENV, ARG defaults and build args) and
returns the `COPY`/`ADD` instructions of the stage that is built (`target`, else the last one)
and of the stages it is built `FROM`, with each destination resolved against `WORKDIR`.

Left out, because they do not put context files at a path: `--from` copies (other stages,
images), heredocs, URLs and git sources, local archives that `ADD` unpacks, and instructions
with `--parents` or `--exclude`. An instruction that names a variable without a known value is
left out too: the answer must be certain, never guessed.
"""

from __future__ import annotations

import json
import posixpath

from .lazyre import lazy
from .records import record


@record
class Copy:
    sources: tuple[str, ...]   # context-relative, cleaned ("." is the whole context)
    dest: str                  # absolute path in the image, normalized
    into_dir: bool             # the sources land inside `dest` (not as `dest` itself)
    text: str                  # the instruction as written, for reports
    line: int


@record(frozen=False)
class _Stage:
    name: str
    base: str
    instructions: list         # (keyword, args text, line, instruction text)


_DIRECTIVE = lazy(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = lazy(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = lazy(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}"
             r"|([A-Za-z_][A-Za-z0-9_]*))")
_ARCHIVE = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz",
            ".tar.zst", ".tzst", ".tar.lz4")
_UNKNOWN = object()


def _logical_lines(text: str):
    """Yield (keyword, args, first line number, text) for every instruction."""
    escape = "\\"
    lines = text.splitlines()
    i, n = 0, len(lines)
    in_directives = True
    while i < n:
        raw = lines[i]
        stripped = raw.strip()
        if in_directives:
            match = _DIRECTIVE.match(stripped)
            if match:
                if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
                    escape = match.group(2)
                i += 1
                continue
            in_directives = False
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start = i
        parts = []
        while True:
            line = lines[i].rstrip()
            i += 1
            if line.endswith(escape):
                parts.append(line[:-1])
                while i < n and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                    i += 1
                if i < n:
                    continue
                break
            parts.append(line)
            break
        logical = " ".join(p.strip() for p in parts).strip()
        keyword, _, args = logical.partition(" ")
        keyword = keyword.upper()
        if keyword in ("RUN", "COPY", "ADD"):
            for match in _HEREDOC.finditer(args):
                strip_tabs, word = match.group(1) == "-", match.group(3)
                while i < n:
                    body = lines[i].lstrip("\t") if strip_tabs else lines[i]
                    i += 1
                    if body == word:
                        break
        yield keyword, args.strip(), start + 1, logical


def _stages(text: str) -> tuple[dict, list[_Stage]]:
    global_args: dict = {}
    stages: list[_Stage] = []
    for keyword, args, line, logical in _logical_lines(text):
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            base = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
            stages.append(_Stage(name=name.lower(), base=base, instructions=[]))
        elif not stages:
            if keyword == "ARG":
                for key, value in _assignments(args, arg=True):
                    global_args[key] = value
        else:
            stages[-1].instructions.append((keyword, args, line, logical))
    return global_args, stages


def _chain(stages: list[_Stage], target: str | None, global_args: dict) -> list[_Stage] | None:
    """The built stage and the stages it is built FROM, root first; None if target is absent."""
    if target:
        index = next((i for i, s in enumerate(stages) if s.name == target.lower()), None)
        if index is None:
            return None
    else:
        index = len(stages) - 1
    chain = []
    while index is not None and index >= 0:
        stage = stages[index]
        chain.append(stage)
        base = _expand(stage.base, global_args)
        base = base.lower() if isinstance(base, str) else ""
        parent = None
        for j in range(index):
            if stages[j].name and stages[j].name == base:
                parent = j
        if parent is None and base.isdecimal() and int(base) < index:
            parent = int(base)
        index = parent
    return chain[::-1]


def _words(text: str) -> list[str]:
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    out = []
    for word in text.split():
        if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
            word = word[1:-1]
        out.append(word)
    return out


def _assignments(text: str, *, arg: bool = False):
    """ENV/ARG pairs: `K=V ...`, `K V` (ENV's old form), `NAME` (ARG without default)."""
    words = _words(text)
    if not arg and len(words) >= 2 and "=" not in words[0]:
        yield words[0], " ".join(words[1:])
        return
    for word in words:
        key, eq, value = word.partition("=")
        yield key, (value if eq else None)


def _expand(text: str, env: dict):
    """`text` with its variables replaced; _UNKNOWN when one has no known value."""
    unknown = False

    def sub(match):
        nonlocal unknown
        name = match.group(1) or match.group(4)
        value = env.get(name, "")
        op, word = match.group(2), match.group(3)
        if value is None and not op:
            unknown = True
            return ""
        if op in (":-", "-"):
            if value is None:
                unknown = True
                return ""
            return value if (value or op == "-") else word
        if op in (":+", "+"):
            if value is None:
                unknown = True
                return ""
            return word if (value or op == "+") else ""
        return value
    out = _VAR.sub(sub, text.replace("\\$", "\0"))
    return _UNKNOWN if unknown else out.replace("\0", "$")


def _clean_source(src: str) -> str:
    path = posixpath.normpath("/" + src.replace("\\", "/")).lstrip("/")
    return path or "."


def context_copies(text: str, *, target: str | None = None,
                   build_args: dict | None = None) -> list[Copy] | None:
    """The context copies of the built stage's chain; None when `target` is not a stage."""
    global_args, stages = _stages(text)
    if not stages:
        return []
    args = {k: v for k, v in (build_args or {}).items() if v is not None}
    global_env = {k: args.get(k, v) for k, v in global_args.items()}
    chain = _chain(stages, target, global_env)
    if chain is None:
        return None
    out: list[Copy] = []
    env: dict = {}
    workdir = "/"
    for stage in chain:
        scope = dict(env)                  # ENV is inherited; ARGs are declared per stage
        for keyword, rest, line, logical in stage.instructions:
            if keyword == "ARG":
                for key, value in _assignments(rest, arg=True):
                    if key in args:
                        value = args[key]
                    elif value is None:
                        value = global_env.get(key)
                    else:
                        value = _expand(value, scope)
                    scope[key] = None if value is _UNKNOWN else value
            elif keyword == "ENV":
                for key, value in _assignments(rest):
                    value = _expand(value or "", scope)
                    scope[key] = env[key] = None if value is _UNKNOWN else value
            elif keyword == "WORKDIR":
                path = _expand(rest, scope)
                words = _words(path) if path is not _UNKNOWN else []
                if not words:
                    workdir = None               # unknown from here on
                elif workdir is not None or words[0].startswith("/"):
                    workdir = posixpath.normpath(posixpath.join(workdir or "/", words[0]))
            elif keyword in ("COPY", "ADD"):
                copy = _copy(keyword, rest, scope, workdir, line, logical)
                if copy is not None:
                    out.append(copy)
    return out


def _copy(keyword, rest, scope, workdir, line, logical) -> Copy | None:
    words = _words(rest) if not rest.startswith("--") else None
    flags = []
    if words is None:
        tokens = rest.split()
        while tokens and tokens[0].startswith("--"):
            flags.append(tokens.pop(0))
        words = _words(" ".join(tokens))
    names = {f.split("=", 1)[0].lower() for f in flags}
    if names & {"--from", "--parents", "--exclude"} or len(words) < 2 or "<<" in rest:
        return None
    expanded = [_expand(w, scope) for w in words]
    if any(w is _UNKNOWN for w in expanded):
        return None
    *sources, dest = expanded
    for src in sources:
        lower = src.lower()
        if "://" in src or lower.startswith("git@") or (
                keyword == "ADD" and lower.endswith(_ARCHIVE)):
            return None
    if not dest.startswith("/"):
        if workdir is None:
            return None
        into = dest.endswith("/") or dest in (".", "..") or dest.endswith("/.")
        dest = posixpath.join(workdir, dest)
    else:
        into = dest.endswith("/") or dest.endswith("/.")
    into = into or len(sources) > 1 or any(_is_pattern(s) for s in sources)
    return Copy(sources=tuple(_clean_source(s) for s in sources),
                dest=posixpath.normpath(dest), into_dir=into, text=logical, line=line)


def _is_pattern(path: str) -> bool:
    return any(c in path for c in "*?[")

"""compose's `develop.watch` triggers as rules, and the file poller that feeds them.

A rule matches a changed path as compose's does: under its `path`, matched by `include` when
there is one, and not matched by any ignore — the trigger's `ignore` (relative to its path),
the build context's .dockerignore (relative to the context), .git folders and editors'
temporary files. A sync rule maps the path to `target` + the path relative to `path`.

With --sync-binds, a service's bind mounts of folders inside the project become sync rules
too (their target in the container, initial sync on): on Kubernetes a bind mount is a copy
made when the image was built, and these rules keep it current.
"""

from __future__ import annotations

import os
import posixpath
import time
from typing import NamedTuple

from ..errors import C2KError
from ..images.buildcontext import IgnoreRules, ignore_patterns

SYNC_ACTIONS = ("sync", "sync+restart", "sync+exec")
ACTIONS = (*SYNC_ACTIONS, "rebuild", "restart")
# what compose never syncs: version control and editors' swap, backup and lock files
EPHEMERAL = IgnoreRules(["**/.git", "**/*~", "**/4913", "**/.*.swp", "**/.*.swx", "**/.*.swo",
                         "**/.*.swn", "**/.#*", "**/#*#", "**/*___jb_old___",
                         "**/*___jb_tmp___", "**/.idea", "**/.*.kate-swp",
                         "**/*-go-tmp-umask"])


class Rule(NamedTuple):
    service: str
    action: str
    path: str                                   # absolute, on this machine
    target: str | None                          # in the container (sync actions)
    include: IgnoreRules | None
    ignores: tuple[tuple[str, IgnoreRules], ...]  # (base folder, patterns relative to it)
    initial_sync: bool = False
    exec: dict | None = None                    # sync+exec: command, working_dir, ...

    @property
    def syncs(self) -> bool:
        return self.action in SYNC_ACTIONS

    def matches(self, path: str) -> str | None:
        """The container path of a changed host path ('' for actions that copy nothing),
        or None when the rule leaves the path alone."""
        rel = _relative(self.path, path)
        if rel is None:
            return None
        if self.include is not None and (rel == "." or not self.include.excluded(rel)):
            return None
        if EPHEMERAL.excluded(path.lstrip("/")):
            return None
        for base, rules in self.ignores:
            below = _relative(base, path)
            if below not in (None, ".") and rules.excluded(below):
                return None
        if not self.syncs:
            return ""
        target = self.target or ""
        return target if rel == "." else posixpath.join(target, rel)


def _relative(base: str, path: str) -> str | None:
    if path == base:
        return "."
    if not path.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return os.path.relpath(path, base).replace(os.sep, "/")


def rules_of(project, services=(), *, sync_binds: bool = False) -> list[Rule]:
    """The watch rules of the services (all when none is named)."""
    out = []
    for name, service in project.services.items():
        if services and name not in services:
            continue
        context = service.build.context if service.build else None
        ignores = []
        if context and os.path.isdir(context):
            patterns = ignore_patterns(context, service.build.dockerfile,
                                       service.build.dockerfile_inline)
            if patterns:
                ignores.append((context, IgnoreRules(patterns)))
        develop = (service.other or {}).get("develop") or {}
        for i, trigger in enumerate(develop.get("watch") or []):
            out.append(_rule(name, service, trigger, ignores, f"services.{name}.develop."
                                                               f"watch[{i}]"))
        if sync_binds:
            out.extend(_bind_rules(project, name, service, ignores))
    return out


def _rule(name, service, trigger: dict, ignores, where: str) -> Rule:
    action = trigger.get("action")
    if action not in ACTIONS:
        raise C2KError(f"{where}.action: {action!r} is not one of {', '.join(ACTIONS)}")
    if action in SYNC_ACTIONS and not trigger.get("target"):
        raise C2KError(f"{where}: action {action} needs a target (the path in the container)")
    if action == "rebuild" and service.build is None:
        raise C2KError(f"{where}: action rebuild needs a build section in service {name}")
    if action == "sync+exec" and not (trigger.get("exec") or {}).get("command"):
        raise C2KError(f"{where}: action sync+exec needs exec.command")
    path = os.path.normpath(trigger["path"])
    own = [(path, IgnoreRules(list(trigger.get("ignore") or [])))]
    include = IgnoreRules(list(trigger["include"])) if trigger.get("include") else None
    return Rule(name, action, path, trigger.get("target"), include, tuple(own + ignores),
                bool(trigger.get("initial_sync") or trigger.get("x-initialSync")),
                trigger.get("exec"))


def _bind_rules(project, name, service, ignores) -> list[Rule]:
    root = os.path.realpath(project.working_dir)
    out = []
    for mount in service.volumes:
        source = mount.source or ""
        if mount.type != "bind" or not os.path.isdir(source):
            continue
        if _relative(root, os.path.realpath(source)) is None:
            continue            # a system path of this machine, not the project's source
        out.append(Rule(name, "sync", os.path.realpath(source), mount.target, None,
                        tuple(ignores), initial_sync=True))
    return out


def tree(rule: Rule):
    """(host path, container path) of every entry under a sync rule's path that it syncs,
    for an initial sync or a new container; ignored folders are not walked."""
    if not os.path.isdir(rule.path):
        target = rule.matches(rule.path)
        if target is not None and os.path.exists(rule.path):
            yield rule.path, target
        return
    for folder, dirs, files in os.walk(rule.path):
        kept = []
        for entry in sorted(dirs):
            full = os.path.join(folder, entry)
            target = rule.matches(full)
            if target is not None or rule.include is not None:
                kept.append(entry)          # an include may match a file further down
                if target is not None:
                    yield full, target
        dirs[:] = kept
        for entry in sorted(files):
            full = os.path.join(folder, entry)
            target = rule.matches(full)
            if target is not None:
                yield full, target


# ---- the poller -----------------------------------------------------------------------------

def snapshot(roots) -> dict[str, tuple]:
    """{path: (kind, size, mtime_ns, inode)} of everything under the roots; .git is not
    walked (nothing in it is ever synced)."""
    out: dict[str, tuple] = {}
    for root in roots:
        _stat_into(out, root)
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d != ".git"]
            for entry in dirs + files:
                _stat_into(out, os.path.join(folder, entry))
    return out


def _stat_into(out: dict, path: str) -> None:
    try:
        st = os.lstat(path)
    except OSError:
        return
    is_dir = os.path.isdir(path) and not os.path.islink(path)
    # a folder's own times change with its entries, which are reported themselves
    out[path] = ("d", 0, 0, st.st_ino) if is_dir else ("f", st.st_size, st.st_mtime_ns,
                                                         st.st_ino)


def changed(before: dict, after: dict) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


class Poller:
    """Batches of changed paths under the roots: a batch ends when a poll finds nothing new
    (compose waits for a quiet moment the same way, so a save of many files is one sync)."""

    def __init__(self, roots, interval: float = 0.2):
        self.roots = sorted({r for r in roots if not any(
            _relative(other, r) not in (None, ".") for other in roots)})
        self.interval = interval
        self.state = snapshot(self.roots)

    def next_batch(self, stop, timeout: float = 1.0) -> set[str] | None:
        """Wait for changes: the batch, or an empty one when there was none for `timeout`
        seconds; None when stop (an Event) is set first."""
        pending: set[str] = set()
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            if not pending and time.monotonic() > deadline:
                return pending
            started = time.monotonic()
            now = snapshot(self.roots)
            found = changed(self.state, now)
            self.state = now
            if found:
                pending |= found
            elif pending:
                return pending
            # a large tree is walked less often, so polling never takes more than a fifth
            stop.wait(max(self.interval, 4 * (time.monotonic() - started)))
        return None

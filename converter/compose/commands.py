"""Commands in a service, as the lists docker compose runs: `command`, `entrypoint`, the
`post_start`/`pre_stop` hooks and `develop.watch` exec commands.

A string is split as compose splits it (shellwords.py), which is not what a shell would do:
when compose drops words (`a && b` runs `a`), `warn` says so and shows the `sh -c` form.
"""

from __future__ import annotations

import json
import shlex

from ..errors import ComposeError
from . import shellwords, units


def words(value, path, warn) -> list[str]:
    """A command as the list docker compose runs; `path` ends with the key (`command`)."""
    if not isinstance(value, str):
        return [units.scalar_text(v) for v in value]
    try:
        runs, dropped = shellwords.split(value)
    except shellwords.CommandLineError as exc:
        raise ComposeError(f"cannot split {path[-1]} {value!r} into words: {exc}", path=path,
                           hint="close the quote, or write the command as a list") from None
    if dropped:
        kept = f"only `{shlex.join(runs)}`" if runs else "none of it"
        warn(f"docker compose runs {kept}: the string is split into words, not run by a "
             f"shell, so `{dropped}` is dropped", path,
             f"to run it all through a shell, write {path[-1]}: "
             f"[\"sh\", \"-c\", {json.dumps(value.strip(), ensure_ascii=False)}]")
    return runs


def hook(value, path, warn) -> dict:
    out = dict(value)
    if out.get("command") is not None:
        out["command"] = words(out["command"], path + ("command",), warn)
    return out


def develop(value: dict, path, warn) -> dict:
    """`docker compose watch` triggers: their exec command split as any command."""
    out = dict(value)
    if isinstance(out.get("watch"), list):
        out["watch"] = [_trigger(t, path + ("watch", i), warn)
                        for i, t in enumerate(out["watch"])]
    return out


def _trigger(value: dict, path, warn) -> dict:
    trigger = dict(value)
    for key in ("include", "ignore"):
        if isinstance(trigger.get(key), str):
            trigger[key] = [trigger[key]]
    if isinstance(trigger.get("exec"), dict):
        trigger["exec"] = hook(trigger["exec"], path + ("exec",), warn)
    return trigger

"""docs/hints.md, written from the hint table (hints.py): `python3 -m converter.kube.hintdocs`.

The page is committed; a test checks that it is what this module writes, so the documentation
cannot fall behind the table.
"""

from __future__ import annotations

import sys

from .hints import HINTS, VOLUME_HINTS, Hint

INTRO = """\
# Kubernetes hints

<!-- Written by `python3 -m converter.kube.hintdocs > docs/hints.md` from the table in
converter/kube/hints.py; tests/test_hints.py fails when they differ. -->

A compose file says what to run; a hint says how to run it on Kubernetes where compose has no
word for it: a CronJob schedule, a NodePort, an Ingress, an autoscaler, a storage class. c2k
reads each hint from kompose's `kompose.*` labels, so projects prepared for kompose keep
working, or from an `x-kubernetes` block on the service (or on a top-level volume):

```yaml
services:
  web:
    image: nginx
    labels:
      kompose.service.type: nodeport
    x-kubernetes:
      service: {nodePort: 30080}
      ingress: {hosts: [example.com/api], tlsSecret: example-tls}
      autoscale: {min: 2, max: 5}
volumes:
  data:
    x-kubernetes: {size: 5Gi}
```

A service's labels are read from `labels` and `deploy.labels` (`labels` wins); when a label
and `x-kubernetes` give the same hint, `x-kubernetes` wins, hint by hint. A dotted
`x-kubernetes` key is a key in a mapping (`service.nodePort` is `service: {nodePort: ...}`).
`ingress: true` is an Ingress for any host on `/`, and an `ingress` mapping without `hosts`
is the same; an `httpGet` without a `path` probes `/`. Unknown keys in `x-kubernetes` are
errors; unknown `kompose.*` labels are listed in the conversion report as not converted.
"""


def _cell(text: str | None) -> str:
    return f"`{text}`" if text else "—"


def _row(hint: Hint) -> str:
    meaning = hint.meaning
    if hint.default not in (None, ()):
        meaning += f" (default {hint.default})"
    return (f"| {_cell(hint.key)} | {_cell(hint.label)} | {hint.value.type} | "
            f"{meaning} |")


def _table(rows: tuple[Hint, ...]) -> str:
    head = "| `x-kubernetes` | kompose label | value | meaning |\n|---|---|---|---|\n"
    return head + "\n".join(_row(hint).replace("...", "…") for hint in rows) + "\n"


def render() -> str:
    return (INTRO + "\n## Services\n\n" + _table(HINTS)
            + "\n## Top-level volumes\n\n" + _table(VOLUME_HINTS))


if __name__ == "__main__":
    sys.stdout.write(render())

"""The `x-kubernetes` extension: the kompose labels' hints as one structured block.

    services:
      web:
        x-kubernetes:
          controller: statefulset
          service: {type: NodePort, nodePort: 30080}
          ingress: {hosts: [example.com/api], tlsSecret: example-tls}
          autoscale: {min: 2, max: 5, cpu: 60}
          readiness: {httpGet: {path: /health, port: 8080}}
    volumes:
      data:
        x-kubernetes: {size: 5Gi, accessModes: [ReadWriteMany]}

The keys are the hint table's (hints.py; docs/hints.md lists them): a dotted key of the table
(`service.nodePort`) is a key in a mapping here. `read` walks a block by the table, reads each
value as the table says, and refuses a key the table does not have, naming the keys it has there.
"""

from __future__ import annotations

import difflib

from ..errors import ConversionError
from .values import mapping


def key_tree(rows) -> dict:
    """{key: row, or {key: ...} for a mapping} from the hint rows' dotted keys."""
    tree: dict = {}
    for row in rows:
        if row.key is None:
            continue
        *outer, last = row.key.split(".")
        node = tree
        for key in outer:
            node = node.setdefault(key, {})
        node[last] = row
    return tree


def read(ext, path: tuple, tree: dict, implies: dict | None = None
         ) -> tuple[list[tuple[object, object]], dict]:
    """([(row, value) for each hint in the block], {field: value} that the block's mappings
    imply: `implies` maps a dotted mapping key to the fields it implies)."""
    if not hasattr(ext, "items"):
        raise ConversionError("x-kubernetes must be a mapping", path=path)
    found: list[tuple[object, object]] = []
    implied: dict = {}
    _walk(ext, tree, path, (), implies or {}, found, implied)
    return found, implied


def _walk(block, tree: dict, path: tuple, prefix: tuple, implies: dict, found: list,
          implied: dict) -> None:
    for key, value in mapping(block, path).items():
        entry = tree.get(key)
        if entry is None:
            _unknown(key, path, tree)
        where = path + (key,)
        if not isinstance(entry, dict):
            found.append((entry, entry.value.read(value, where)))
            continue
        dotted = ".".join(prefix + (key,))
        implied.update(implies.get(dotted, {}))
        if value is True and dotted in implies:     # `ingress: true`: only what it implies
            continue
        _walk(value, entry, where, prefix + (key,), implies, found, implied)


def _unknown(key, path: tuple, tree: dict) -> None:
    keys = sorted(tree)
    close = difflib.get_close_matches(str(key), keys, n=1)
    raise ConversionError(f"unknown key {key!r}", path=path,
                          hint=(f"did you mean {close[0]!r}? " if close else "")
                          + "the keys here: " + ", ".join(keys) + " (docs/hints.md)")

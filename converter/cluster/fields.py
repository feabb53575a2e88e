"""Extract what one field manager applied from a live object, using its managedFields.

A server-side apply must send the manager's whole configuration: fields it leaves out are
released (and removed when nobody else owns them). So to change one field the way `c2k apply`
would, the verbs (scale, stop, start) rebuild c2k's applied configuration from the live object
and c2k's ``fieldsV1`` set, change the field, and apply that. The fieldsV1 format: ``f:<name>``
a map field, ``k:<json>`` a list item by key, ``v:<json>`` a set value, ``.`` the node itself; an
empty set means the whole value is owned.
"""

from __future__ import annotations

import json


def applied_fields(obj: dict, manager: str) -> dict | None:
    """The fieldsV1 of manager's Apply entry, or None when it applied nothing."""
    for entry in obj.get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply" \
                and not entry.get("subresource"):
            return entry.get("fieldsV1") or {}
    return None


def _children(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if k != "."}


def extract(value, fields: dict):
    """The part of value that fields (a fieldsV1 set) names."""
    children = _children(fields or {})
    if not children:
        return value
    if isinstance(value, dict):
        return {key[2:]: extract(value[key[2:]], sub) for key, sub in children.items()
                if key.startswith("f:") and key[2:] in value}
    if isinstance(value, list):
        keyed = [(json.loads(k[2:]), sub) for k, sub in children.items() if k.startswith("k:")]
        values = [json.loads(k[2:]) for k in children if k.startswith("v:")]
        out: list = []
        for item in value:  # in the live order
            if item in values:
                out.append(item)
                continue
            for wanted, sub in keyed:
                if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items()):
                    picked = extract(item, sub)
                    out.append({**wanted, **picked} if isinstance(picked, dict) else picked)
                    break
        return out
    return value


def applied_config(obj: dict, manager: str) -> dict | None:
    """manager's applied configuration of obj: apiVersion, kind, name, namespace + its fields."""
    fields = applied_fields(obj, manager)
    if fields is None:
        return None
    out = extract(obj, fields)
    out["apiVersion"], out["kind"] = obj["apiVersion"], obj["kind"]
    meta = dict(out.get("metadata") or {})
    meta["name"] = obj["metadata"]["name"]
    if obj["metadata"].get("namespace"):
        meta["namespace"] = obj["metadata"]["namespace"]
    out["metadata"] = meta
    return out

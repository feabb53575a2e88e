"""A Deployment that moves to the Recreate strategy (it gained a claim, or writes one now).

The API server fills in `strategy.rollingUpdate` (25% / 25%) for a Deployment applied without a
strategy, and nobody owns those defaults. A later server-side apply of `strategy: {type:
Recreate}` keeps them, and the Deployment is refused ("may not be specified when strategy
`type` is 'Recreate'"): a compose file that adds a volume to a service could not be applied.
So c2k first re-applies its own configuration of the live Deployment with the live strategy
(nothing changes, c2k now owns `rollingUpdate`), then the new one, which drops it.
"""

from __future__ import annotations

from .applyset import FIELD_MANAGER
from .fields import applied_config
from .retry import call


def _strategy(obj: dict) -> dict:
    return (obj.get("spec") or {}).get("strategy") or {}


def owned_first(conn, bodies: list[dict], namespace: str) -> dict[str, dict]:
    """{name: configuration to apply first} for the Deployments of bodies that move to
    Recreate while their live strategy carries rollingUpdate."""
    names = {b["metadata"]["name"] for b in bodies if b.get("kind") == "Deployment"
             and _strategy(b).get("type") == "Recreate"}
    if not names:
        return {}
    listed = call(conn.resource("apps/v1", "Deployment").get, namespace=namespace,
                  what="listing deployments").get("items") or []
    out = {}
    for live in listed:
        name = live["metadata"]["name"]
        if name not in names or "rollingUpdate" not in _strategy(live):
            continue
        live.setdefault("apiVersion", "apps/v1")
        live.setdefault("kind", "Deployment")
        config = applied_config(live, FIELD_MANAGER)
        if config is None:
            continue
        config.setdefault("spec", {})["strategy"] = _strategy(live)
        out[name] = config
    return out


def apply_after(config: dict | None, body: dict, send, dry_run: bool) -> dict:
    """send(config), then send(body). A dry run keeps nothing, so there body goes with the live
    strategy, and the answer shows the strategy it asks for."""
    if config is None:
        return send(body)
    if dry_run:
        merged = send({**body, "spec": {**body["spec"], "strategy": _strategy(config)}})
        merged.setdefault("spec", {})["strategy"] = _strategy(body)
        return merged
    send(config)
    return send(body)

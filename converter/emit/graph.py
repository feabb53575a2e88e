"""A picture of a conversion: compose services -> workloads, their Services and ports, the
claims they mount, Ingresses, and the wiring between services (who reaches whom on which port,
from the references the wiring check reads), with approximations marked.

`graph(project, result)` gives a neutral Graph; `mermaid()` and `dot()` render it. A workload
whose services have approximated or not-converted keys carries "⚠ n" (n: how many; the
conversion report lists them); a reference the wiring check found broken is a dashed edge
marked "✗".
"""

from __future__ import annotations

import re
from typing import Any

from .. import kinds
from ..records import field, record

FORMATS = ("mermaid", "dot")


@record
class Node:
    id: str
    label: str
    shape: str              # workload | service | claim | ingress
    marked: bool = False    # approximations in its services


@record
class Edge:
    source: str
    target: str
    label: str = ""
    style: str = "solid"    # solid | wiring | broken


@record
class Graph:
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)


def _id(prefix: str, name: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]', '_', name)}"


def _ports(spec: dict) -> str:
    shown = []
    for p in spec.get("ports") or ():
        target = p.get("targetPort", p["port"])
        text = str(p["port"]) if target == p["port"] else f"{p['port']}→{target}"
        if p.get("protocol", "TCP") != "TCP":
            text += f"/{p['protocol']}"
        if p.get("nodePort"):
            text += f" (node {p['nodePort']})"
        shown.append(text)
    return ", ".join(shown)


def _claims(obj: dict) -> list[str]:
    spec = kinds.pod_spec(obj) or {}
    names = [v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes") or ()
             if "persistentVolumeClaim" in v]
    names += [t["metadata"]["name"] for t in (obj.get("spec") or {}).get("volumeClaimTemplates")
              or ()]
    return names


def graph(project, result) -> Graph:
    g = Graph()
    objects = result.objects
    by_workload: dict[str, list[str]] = {}
    for service, workload in result.workloads.items():
        by_workload.setdefault(workload, []).append(service)
    problems: dict[str, int] = {}
    for entry in result.report.warnings:
        if entry.scope == "service" and entry.status in ("approximated", "not-converted"):
            problems[entry.name] = problems.get(entry.name, 0) + 1
    workloads: dict[str, tuple[dict[str, Any], Node]] = {}
    for obj in objects:
        kind = kinds.of(obj)
        if kind is None or not kind.workload:
            continue
        name = obj["metadata"]["name"]
        services = by_workload.get(name, [name])
        count = sum(problems.get(s, 0) for s in services)
        replicas = (obj.get("spec") or {}).get("replicas")
        label = f"{obj['kind']} {name}" + ("" if services == [name]
                                           else f" (service {', '.join(services)})")
        if isinstance(replicas, int) and replicas != 1:
            label += f" \u00d7{replicas}"  # the multiplication sign
        if count:
            label += f" ⚠ {count}"
        node = Node(_id("w", name), label, "workload", bool(count))
        g.nodes.append(node)
        workloads[name] = (obj, node)
        for claim in _claims(obj):
            claim_id = _id("pvc", claim)
            if all(n.id != claim_id for n in g.nodes):
                g.nodes.append(Node(claim_id, f"claim {claim}", "claim"))
            g.edges.append(Edge(node.id, claim_id, "mounts"))
    service_nodes: dict[str, Node] = {}
    for obj in objects:
        if obj["kind"] != "Service":
            continue
        name, spec = obj["metadata"]["name"], obj.get("spec") or {}
        headless = spec.get("clusterIP") == "None"
        ports = _ports(spec)
        label = f"Service {name}" + (" (headless)" if headless else "") \
            + (f": {ports}" if ports else "") \
            + (f" [{spec['type']}]" if spec.get("type", "ClusterIP") != "ClusterIP" else "")
        node = Node(_id("s", name), label, "service")
        g.nodes.append(node)
        service_nodes[name] = node
        selector = spec.get("selector") or {}
        for wobj, wnode in workloads.values():
            labels = ((kinds.pod_template(wobj) or {}).get("metadata") or {}).get("labels") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                g.edges.append(Edge(node.id, wnode.id))
    for obj in objects:
        if obj["kind"] != "Ingress":
            continue
        name = obj["metadata"]["name"]
        hosts = [r.get("host", "*") for r in (obj.get("spec") or {}).get("rules") or ()]
        node = Node(_id("i", name), f"Ingress {name}: {', '.join(hosts)}", "ingress")
        g.nodes.append(node)
        for rule in (obj.get("spec") or {}).get("rules") or ():
            for path in ((rule.get("http") or {}).get("paths") or ()):
                backend = (path.get("backend") or {}).get("service") or {}
                target = service_nodes.get(backend.get("name", ""))
                if target is not None:
                    port = (backend.get("port") or {}).get("number", "")
                    g.edges.append(Edge(node.id, target.id, f"{path.get('path', '/')} → {port}"))
    broken = {(f.service, f.where) for f in result.wiring}
    seen = set()
    for ref in result.references:
        source = workloads.get(result.workloads.get(ref.service, ""))
        if source is None:
            continue
        target = service_nodes.get(ref.host.lower())
        is_broken = (ref.service, ref.place) in broken
        target_id = target.id if target is not None else _id("x", ref.host)
        if target is None and all(n.id != target_id for n in g.nodes):
            g.nodes.append(Node(target_id, f"{ref.host} (no Service)", "service", True))
        key = (source[1].id, target_id, ref.port, is_broken)
        if key in seen:
            continue
        seen.add(key)
        g.edges.append(Edge(source[1].id, target_id, f"{'✗ ' if is_broken else ''}:{ref.port}",
                            "broken" if is_broken else "wiring"))
    return g


# ---- rendering ----------------------------------------------------------------------------------

_MERMAID_SHAPES = {"workload": ('["', '"]'), "service": ('(["', '"])'),
                   "claim": ('[("', '")]'), "ingress": ('{{"', '"}}')}
_MERMAID_ARROWS = {"solid": "-->", "wiring": "-.->", "broken": "-.-x"}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(g: Graph) -> str:
    lines = ["flowchart LR"]
    for n in g.nodes:
        open_, close = _MERMAID_SHAPES[n.shape]
        lines.append(f"  {n.id}{open_}{_mermaid_text(n.label)}{close}")
    for e in g.edges:
        label = f"|{_mermaid_text(e.label)}|" if e.label else ""
        lines.append(f"  {e.source} {_MERMAID_ARROWS[e.style]}{label} {e.target}")
    marked = [n.id for n in g.nodes if n.marked]
    if marked:
        lines.append("  classDef approx stroke:#d97706,stroke-width:3px")
        lines.append(f"  class {','.join(marked)} approx")
    return "\n".join(lines) + "\n"


_DOT_SHAPES = {"workload": "box", "service": "ellipse", "claim": "cylinder",
               "ingress": "hexagon"}


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(g: Graph) -> str:
    lines = ["digraph c2k {", "  rankdir=LR;", "  node [fontname=Helvetica];"]
    for n in g.nodes:
        extra = ', color="#d97706", penwidth=3' if n.marked else ""
        lines.append(f"  {n.id} [label={_dot_text(n.label)}, shape={_DOT_SHAPES[n.shape]}{extra}];")
    for e in g.edges:
        attrs = [f"label={_dot_text(e.label)}"] if e.label else []
        if e.style != "solid":
            attrs.append("style=dashed")
        if e.style == "broken":
            attrs.append('color="#dc2626"')
        lines.append(f"  {e.source} -> {e.target}" + (f" [{', '.join(attrs)}]" if attrs else "")
                     + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(g: Graph, fmt: str) -> str:
    return mermaid(g) if fmt == "mermaid" else dot(g)

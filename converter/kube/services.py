"""Kubernetes Services: every compose service is reachable by name, as on a compose network.

- Every service gets a Service named after it, whatever its workload kind (Jobs included).
  Its ports are the container's ports (see ports.py: `ports` targets and `expose`, each as
  itself, plus published ports that differ from their target), and the ports other services name
  in their configuration (`backend:8000`, see references.py): compose does not filter ports, a
  Service forwards only those it lists.
- A service with no ports at all gets a headless Service: its name resolves to the pods'
  addresses, so every port is reachable, as on a compose network.
- Type ClusterIP unless `kompose.service.type` / `x-kubernetes.service.type` says NodePort,
  LoadBalancer or Headless; `nodeport.port` fixes the nodePort of the published port;
  `external-traffic-policy` applies to NodePort and LoadBalancer.
- A StatefulSet's governing Service is headless: `<name>` when the service has no ports,
  otherwise an extra `<name>-headless` next to the regular Service.
- Network aliases, link aliases and container_name get their own Service (same selector and
  ports) when they are valid Service names, so those names resolve as in compose.
"""

from __future__ import annotations

from . import labels, names
from .ports import published_ports, service_ports


def _service(ctx, name: str, owner, selector_group: str, ports: list[dict], *,
             service_type: str | None = None, headless: bool = False,
             annotations: dict | None = None) -> dict:
    spec: dict = {}
    if service_type and service_type not in ("ClusterIP", "Headless"):
        spec["type"] = service_type
    if headless or service_type == "Headless":
        spec["clusterIP"] = "None"
    spec["selector"] = labels.selector(selector_group, ctx.project.name)
    if ports:
        spec["ports"] = ports
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": ctx.meta(name, owner, annotations=annotations), "spec": spec}


def build_services(ctx) -> None:
    report = ctx.report
    named = _named_ports(ctx)
    for svc in ctx.project.services.values():
        name = svc.name
        hints = ctx.hints[name]
        group = ctx.group_of[name]
        kname = ctx.names[name]
        stype = hints.service_type
        ports = service_ports(svc, report)
        if stype == "Headless":
            ports = _without_published(svc, ports, report)
        _report_ports(ctx, svc, ports, stype)
        if ports and stype != "Headless":
            ports = ports + _forwarded(ctx, svc, ports, named.get(name, {}))
        ctx.ports[name] = ports
        annotations = labels.split_compose_labels(svc.labels, _Silent(), name)
        owner = group.name if group.primary == name else kname
        if stype:
            report.mapped(name, "labels.kompose.service.type", f"Service type {stype}")
        if ports:
            obj = _service(ctx, kname, owner, group.name, [dict(p) for p in ports],
                           service_type=stype, annotations=annotations)
            _node_port(ctx, svc, hints, obj)
        else:
            obj = _service(ctx, kname, owner, group.name, [], headless=True,
                           annotations=annotations)
            ctx.headless.add(name)
            report.mapped(name, "ports" if svc.ports else "expose" if svc.expose else "name",
                          f"headless Service {kname}: the name resolves to the pod's address, "
                          "every port is reachable")
            if stype in ("NodePort", "LoadBalancer"):
                report.not_converted(name, "labels.kompose.service.type",
                                     f"{stype} needs ports; the service has none")
        ctx.add(obj, f"service {name!r}")
        if group.primary == name and ctx.kinds[group.name] == "StatefulSet":
            _governing(ctx, svc, group, ports)
    _aliases(ctx)


def _report_ports(ctx, svc, ports, stype) -> None:
    report, hints = ctx.report, ctx.hints[svc.name]
    if svc.ports and ports:
        report.mapped(svc.name, "ports", "Service ports " + ", ".join(
            f"{p['port']}" + (f" (to {p['targetPort']})" if p["port"] != p["targetPort"] else "")
            for p in ports))
        if any(p.published for p in svc.ports) and stype not in ("NodePort", "LoadBalancer") \
                and not hints.expose:
            report.approximated(svc.name, "ports",
                                "published ports are reachable inside the cluster only "
                                "(ClusterIP); use kompose.service.type / x-kubernetes "
                                "service.type LoadBalancer or NodePort, an Ingress "
                                "(kompose.service.expose), or kubectl port-forward")
    if svc.expose and ports:
        report.mapped(svc.name, "expose", "Service ports")


def _without_published(svc, ports: list[dict], report) -> list[dict]:
    """A headless Service does not forward: a published port cannot reach another target."""
    kept = [p for p in ports if p["port"] == p["targetPort"]]
    if len(kept) != len(ports):
        report.approximated(svc.name, "ports", "a headless Service does not forward ports: "
                                               "only the container ports are reachable, not "
                                               "the published ones")
    return kept


def _named_ports(ctx) -> dict[str, dict[int, object]]:
    """compose service -> {port named by some service's configuration -> first reference}."""
    out: dict[str, dict[int, object]] = {}
    for ref in ctx.references:
        out.setdefault(ref.target, {}).setdefault(ref.port, ref)
    return out


def _forwarded(ctx, svc, ports: list[dict], named: dict) -> list[dict]:
    """Ports other services name (`backend:8000`) that the Service would not forward."""
    have = {p["port"] for p in ports if p.get("protocol", "TCP") == "TCP"}
    used = {p["name"] for p in ports}
    out = []
    for port in sorted(set(named) - have):
        ref = named[port]
        entry_name = names.port_name(port, "TCP")
        while entry_name in used:
            entry_name = names.join("ref", entry_name, limit=15)
        used.add(entry_name)
        out.append({"name": entry_name, "port": port, "targetPort": port})
        ctx.report.approximated(svc.name, "ports" if svc.ports else "expose",
                                f"port {port} forwarded too: {ref.service} names "
                                f"{ref.shown} in {ref.place}; add it to expose to say so")
    return out


def _node_port(ctx, svc, hints, obj) -> None:
    name = svc.name
    spec = obj["spec"]
    if hints.node_port is not None:
        published = published_ports(svc)
        candidates = [p for p in spec.get("ports", [])
                      if (p["port"], p.get("protocol", "TCP")) in published] or (
            spec.get("ports", []) if not published else [])
        if spec.get("type") != "NodePort":
            ctx.report.not_converted(name, "labels.kompose.service.nodeport.port",
                                     "nodePort needs kompose.service.type nodeport")
        elif len(candidates) != 1:
            ctx.report.not_converted(name, "labels.kompose.service.nodeport.port",
                                     "a fixed nodePort needs exactly one published port")
        else:
            candidates[0]["nodePort"] = hints.node_port
            ctx.report.mapped(name, "labels.kompose.service.nodeport.port",
                              f"nodePort of port {candidates[0]['port']}")
    if hints.external_traffic_policy is not None:
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            spec["externalTrafficPolicy"] = hints.external_traffic_policy
            ctx.report.mapped(name, "labels.kompose.service.external-traffic-policy",
                              "externalTrafficPolicy")
        else:
            ctx.report.not_converted(name, "labels.kompose.service.external-traffic-policy",
                                     "only NodePort and LoadBalancer Services have one")


def _governing(ctx, svc, group, ports) -> None:
    kname = ctx.names[svc.name]
    if ctx.has("Service", kname) and ctx.objects[("Service", kname)]["spec"].get(
            "clusterIP") == "None":
        ctx.governing[group.name] = kname
        return
    gname = names.join(kname, "headless") if ports else kname
    obj = _service(ctx, gname, group.name, group.name, ports, headless=True)
    obj["spec"]["publishNotReadyAddresses"] = True
    ctx.add(obj, f"the StatefulSet {group.name!r}")
    ctx.governing[group.name] = gname


def _alias_names(ctx) -> dict[str, list[tuple[str, str, str]]]:
    """alias -> [(target service, reporting service, compose key)] in a stable order."""
    wanted: dict[str, list[tuple[str, str, str]]] = {}
    for svc in ctx.project.services.values():
        for net, attachment in svc.networks.items():
            for alias in (attachment.aliases if attachment else ()):
                wanted.setdefault(alias, []).append((svc.name, svc.name,
                                                     f"networks.{net}.aliases"))
        for link in svc.links:
            target, _, alias = link.partition(":")
            if alias and target in ctx.project.services:
                wanted.setdefault(alias, []).append((target, svc.name, "links"))
        if svc.container_name:
            wanted.setdefault(svc.container_name, []).append((svc.name, svc.name,
                                                              "container_name"))
    return wanted


def _aliases(ctx) -> None:
    """Extra Services for network aliases, link aliases and container names."""
    taken = set(ctx.names.values())
    made: dict[str, str] = {}                        # Service name -> target service
    for alias, uses in sorted(_alias_names(ctx).items()):
        kalias = alias.lower()
        for target, reporter, key in uses:
            if kalias == ctx.names[target]:
                ctx.report.mapped(reporter, key, f"{alias} is the service's own name")
            elif not names.is_dns1035(kalias):
                ctx.report.not_converted(reporter, key, f"{alias!r} is not a valid Service name "
                                                        "(a DNS label starting with a letter): "
                                                        f"it does not resolve; use "
                                                        f"{ctx.names[target]}")
            elif made.get(kalias) == target:
                ctx.report.mapped(reporter, key, f"Service {kalias} for the name {alias}")
            elif kalias in taken or kalias in made or ctx.has("Service", kalias):
                ctx.report.not_converted(reporter, key, f"{alias!r} is also the name of "
                                                        "another service or alias: it resolves "
                                                        "to that one only")
            else:
                own = ctx.objects[("Service", ctx.names[target])]["spec"]
                obj = _service(ctx, kalias, ctx.names[target], ctx.group_of[target].name,
                               [dict(p) for p in ctx.ports[target]],
                               headless=own.get("clusterIP") == "None")
                ctx.add(obj, f"the name {alias!r} of service {target!r}")
                made[kalias] = target
                ctx.report.mapped(reporter, key, f"Service {kalias} for the name {alias}")


class _Silent:
    def __getattr__(self, name):
        return lambda *a, **k: None

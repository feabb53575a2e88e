"""Kubernetes Services: one per compose service that has ports, expose, or dependants.

- A Service named after the compose service keeps compose's DNS name working. Its ports come from
  `ports` and `expose` (see ports.py); its selector is the pod's immutable labels.
- Type ClusterIP unless `kompose.service.type` / `x-kubernetes.service.type` says NodePort,
  LoadBalancer or Headless; `nodeport.port` fixes the nodePort of a single-port Service;
  `external-traffic-policy` applies to NodePort and LoadBalancer.
- A service with no ports that another service depends on or links to gets a headless Service
  (no ports) so its name resolves; the report warns that its ports are unknown.
- A StatefulSet's governing Service is headless: `<name>` when the service has no ports,
  otherwise an extra `<name>-headless` next to the regular Service.
- Network aliases and link aliases get their own Service (same selector and ports), so those names
  resolve as in compose.
"""

from __future__ import annotations

from . import labels, names
from .ports import service_ports

LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicationController")


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


def dependants(ctx) -> dict[str, set[str]]:
    """compose service -> services that depend on it or link to it."""
    out: dict[str, set[str]] = {}
    for svc in ctx.project.services.values():
        for dep in svc.depends_on:
            out.setdefault(dep, set()).add(svc.name)
        for link in svc.links:
            out.setdefault(link.split(":")[0], set()).add(svc.name)
    return out


def build_services(ctx) -> None:
    report = ctx.report
    needed = dependants(ctx)
    for svc in ctx.project.services.values():
        name = svc.name
        hints = ctx.hints[name]
        group = ctx.group_of[name]
        kind = ctx.kinds[group.name]
        kname = ctx.names[name]
        ports = service_ports(svc, report)
        ctx.ports[name] = ports
        annotations = labels.split_compose_labels(svc.labels, _Silent(), name)
        stype = hints.service_type
        if stype:
            report.mapped(name, "labels.kompose.service.type", f"Service type {stype}")
        if ports:
            if svc.ports:
                report.mapped(name, "ports", "Service ports " + ", ".join(
                    str(p["port"]) for p in ports))
                if any(p.published for p in svc.ports) and stype not in ("NodePort",
                                                                         "LoadBalancer") \
                        and not hints.expose:
                    report.approximated(name, "ports",
                                        "published ports are reachable inside the cluster only "
                                        "(ClusterIP); use kompose.service.type / x-kubernetes "
                                        "service.type LoadBalancer or NodePort, an Ingress "
                                        "(kompose.service.expose), or kubectl port-forward")
            if svc.expose:
                report.mapped(name, "expose", "Service ports")
            obj = _service(ctx, kname, group.name if group.primary == name else kname,
                           group.name, ports, service_type=stype, annotations=annotations)
            _node_port(ctx, svc, hints, obj)
            ctx.add(obj, f"service {name!r}")
        else:
            wanted = stype == "Headless" or (
                name in needed and kind in LONG_RUNNING
                and any(ctx.group_of[d].name != group.name for d in needed[name]))
            if wanted:
                obj = _service(ctx, kname, kname, group.name, [], headless=True,
                               annotations=annotations)
                ctx.add(obj, f"service {name!r}")
                ctx.headless.add(name)
                if stype != "Headless":
                    report.warning(name, "ports",
                                   "no ports or expose: a headless Service keeps the name "
                                   f"{kname} resolvable for {', '.join(sorted(needed[name]))}, "
                                   "but its ports are unknown (add expose: to wait on a port)")
            elif stype in ("NodePort", "LoadBalancer"):
                report.not_converted(name, "labels.kompose.service.type",
                                     f"{stype} needs ports; the service has none")
        if group.primary == name and kind == "StatefulSet":
            _governing(ctx, svc, group, ports)
    _aliases(ctx)


def _node_port(ctx, svc, hints, obj) -> None:
    name = svc.name
    spec = obj["spec"]
    if hints.node_port is not None:
        if spec.get("type") != "NodePort":
            report_not = "nodePort needs kompose.service.type nodeport"
            ctx.report.not_converted(name, "labels.kompose.service.nodeport.port", report_not)
        elif len(spec.get("ports", [])) != 1:
            ctx.report.not_converted(name, "labels.kompose.service.nodeport.port",
                                     "a fixed nodePort needs exactly one port")
        else:
            spec["ports"][0]["nodePort"] = hints.node_port
            ctx.report.mapped(name, "labels.kompose.service.nodeport.port", "nodePort")
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


def _aliases(ctx) -> None:
    """Extra Services for network aliases and link aliases."""
    wanted: dict[str, tuple[str, str]] = {}
    for svc in ctx.project.services.values():
        for net, attachment in svc.networks.items():
            for alias in (attachment.aliases if attachment else ()):
                wanted.setdefault(alias, (svc.name, f"networks.{net}.aliases"))
        for link in svc.links:
            target, _, alias = link.partition(":")
            if alias and target in ctx.project.services:
                wanted.setdefault(alias, (target, "links"))
    taken = set(ctx.names.values())
    for alias, (target, key) in sorted(wanted.items()):
        reporter = target if key != "links" else next(
            s.name for s in ctx.project.services.values()
            if any(lk.partition(":")[2] == alias for lk in s.links))
        if alias == target or names.dns_label(alias) == ctx.names[target]:
            ctx.report.mapped(reporter, key, f"{alias} is the service's own name")
            continue
        kalias = names.dns_label(alias)
        if kalias != alias.lower() or not names.is_dns1035(kalias):
            ctx.report.not_converted(reporter, key, f"alias {alias!r} is not a valid "
                                                    "Kubernetes Service name")
            continue
        if kalias in taken or ctx.has("Service", kalias):
            ctx.report.not_converted(reporter, key, f"alias {alias!r} clashes with another name")
            continue
        ports = ctx.ports.get(target) or []
        if not ports and target not in ctx.headless:
            ctx.report.not_converted(reporter, key, f"alias {alias!r}: {target} has no Service")
            continue
        group = ctx.group_of[target]
        obj = _service(ctx, kalias, ctx.names[target], group.name, ports, headless=not ports)
        ctx.add(obj, f"the alias {alias!r} of service {target!r}")
        taken.add(kalias)
        ctx.report.mapped(reporter, key, f"Service {kalias} for the alias {alias}")


class _Silent:
    def __getattr__(self, name):
        return lambda *a, **k: None

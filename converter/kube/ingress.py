"""Ingress from `kompose.service.expose` / `x-kubernetes.ingress`.

`true` gives one rule without a host; otherwise each comma-separated `host` or `host/path`
becomes a rule (pathType Prefix) to the service's first Service port. `tls-secret` adds a TLS
block for the hosts (`true`: TLS without a secret name, for controllers with a default
certificate); `ingress-class-name` sets ingressClassName.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Context


def build_ingresses(ctx: Context) -> None:
    for svc in ctx.project.services.values():
        hints = ctx.hints[svc.name]
        if not hints.expose:
            continue
        key = "labels.kompose.service.expose"
        ports = ctx.ports.get(svc.name) or []
        if not ports:
            ctx.report.not_converted(svc.name, key, "an Ingress needs a Service port; the "
                                                    "service has no ports")
            continue
        kname = ctx.names[svc.name]
        backend = {"service": {"name": kname, "port": {"number": ports[0]["port"]}}}
        rules: list[dict] = []
        by_host: dict[str, list[dict]] = {}
        for host, path in hints.expose:
            paths = by_host.setdefault(host, [])
            if any(p["path"] == path for p in paths):
                continue
            paths.append({"path": path, "pathType": "Prefix", "backend": backend})
        for host, paths in by_host.items():
            rule: dict = {"host": host} if host else {}
            rule["http"] = {"paths": paths}
            rules.append(rule)
        spec: dict = {}
        if hints.ingress_class:
            spec["ingressClassName"] = hints.ingress_class
            ctx.report.mapped(svc.name, "labels.kompose.service.expose.ingress-class-name",
                              "ingressClassName")
        if hints.tls:
            hosts = [h for h in by_host if h]
            tls: dict = {}
            if hosts:
                tls["hosts"] = hosts
            if hints.tls_secret:
                tls["secretName"] = hints.tls_secret
            spec["tls"] = [tls]
            ctx.report.mapped(svc.name, "labels.kompose.service.expose.tls-secret", "Ingress TLS")
        spec["rules"] = rules
        ctx.add({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                 "metadata": ctx.meta(kname, ctx.group_of[svc.name].name
                                      if ctx.group_of[svc.name].primary == svc.name else kname),
                 "spec": spec}, f"service {svc.name!r}")
        ctx.report.mapped(svc.name, key, f"Ingress {kname} to port {ports[0]['port']}")

"""NetworkPolicies for compose networks (only with --generate-network-policies, as kompose).

Each pod carries `network.c2k.io/<network>: "true"` for every compose network its services join
(`default` when none is named). One NetworkPolicy per network, `<project>-<network>` (as
kompose names it), selects those pods of the project and allows ingress from the project's pods
of the same network, which is compose's isolation. A pod with published ports
also gets `<name>-published`, allowing ingress to those ports from anywhere, as publishing does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import labels, names

if TYPE_CHECKING:
    from .context import Context


def networks_of(service) -> list[str]:
    if service.network_mode:
        return []
    return sorted(service.networks) if service.networks else ["default"]


def pod_network_labels(ctx: Context, group) -> dict:
    if not ctx.options.generate_network_policies:
        return {}
    nets = sorted({n for m in group.members for n in networks_of(ctx.project.services[m])})
    return {labels.network_label(n): "true" for n in nets}


def build_policies(ctx: Context) -> None:
    report = ctx.report
    used = sorted({n for s in ctx.project.services.values() for n in networks_of(s)})
    if not ctx.options.generate_network_policies:
        for svc in ctx.project.services.values():
            if svc.networks and any(n != "default" for n in svc.networks):
                report.approximated(svc.name, "networks", "all pods share one network; use "
                                                          "--generate-network-policies to keep "
                                                          "compose's isolation")
            elif svc.networks:
                report.mapped(svc.name, "networks", "the pod network")
        return
    for net in used:
        key = labels.network_label(net)
        # the project's pods only: another project in the namespace may name a network alike
        match = {"matchLabels": {key: "true",
                                 labels.INSTANCE: names.label_value(ctx.project.name)}}
        spec = {"podSelector": match, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": match}]}]}
        name = names.dns_label(f"{ctx.project.name}-{net}", prefix="net")
        ctx.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": ctx.meta(name, ctx.project.name), "spec": spec},
                f"network {net!r}")
        network = ctx.project.networks.get(net)
        ctx.report.add("network", net, "networks", "mapped",
                       f"NetworkPolicy {name} (ingress from the same network)")
        if network is not None and network.internal:
            ctx.report.add("network", net, "internal", "not-converted",
                           "egress to the outside world is not restricted")
    for svc in ctx.project.services.values():
        if svc.networks:
            report.mapped(svc.name, "networks", "pod labels for the NetworkPolicies")
    for group in ctx.groups.values():
        ports = []
        for member in group.members:
            svc = ctx.project.services[member]
            for p in svc.ports:
                if p.published:
                    entry: dict[str, int | str] = {"port": p.target}
                    if (p.protocol or "tcp").lower() != "tcp":
                        entry["protocol"] = p.protocol.upper()
                    if entry not in ports:
                        ports.append(entry)
        if not ports:
            continue
        ctx.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": ctx.meta(names.join(group.name, "published"), group.name),
                 "spec": {"podSelector": {"matchLabels": labels.selector(
                     group.name, ctx.project.name)},
                     "policyTypes": ["Ingress"], "ingress": [{"ports": ports}]}},
                f"the published ports of {group.name!r}")

"""Pod-level settings from compose service keys.

hostname, extra_hosts -> hostAliases, dns/dns_search/dns_opt -> dnsConfig (added to the cluster
DNS, which keeps service names resolving, as docker's embedded DNS does), sysctls, group_add ->
supplementalGroups, stop_grace_period -> terminationGracePeriodSeconds, init -> a shared process
namespace (the pod's pause process becomes PID 1 and reaps zombies, as docker's tini does),
network_mode host -> hostNetwork, pid/ipc host -> hostPID/hostIPC, platform -> nodeSelector,
deploy.placement -> node affinity and topology spread.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from . import labels, names

if TYPE_CHECKING:
    from .context import Context

SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
}
ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
        "armv7l": "arm", "arm": "arm", "ppc64le": "ppc64le", "s390x": "s390x",
        "riscv64": "riscv64", "386": "386", "i386": "386"}


def pod_settings(ctx: Context, service, spec: dict, security: dict) -> None:
    """Add `service`'s pod-level settings to `spec` / the pod `security` context."""
    report = ctx.report
    name = service.name
    if service.hostname:
        host = service.hostname.split(".")[0].lower()
        if names.is_dns_label(host) and host == service.hostname.lower():
            spec["hostname"] = host
            report.mapped(name, "hostname")
        else:
            report.not_converted(name, "hostname", f"{service.hostname!r} is not a single "
                                                   "DNS label")
    if service.domainname:
        report.not_converted(name, "domainname", "a pod's domain comes from its namespace and "
                                                 "subdomain Service")
    if service.extra_hosts:
        by_ip: dict[str, list[str]] = {}
        for host, ip in service.extra_hosts:
            if ip == "host-gateway":
                report.not_converted(name, "extra_hosts", f"{host}: host-gateway has no "
                                                          "Kubernetes equivalent")
                continue
            by_ip.setdefault(ip, [])
            if host not in by_ip[ip]:
                by_ip[ip].append(host)
        if by_ip:
            spec.setdefault("hostAliases", []).extend(
                {"ip": ip, "hostnames": hosts} for ip, hosts in by_ip.items())
            report.mapped(name, "extra_hosts", "hostAliases")
    dns: dict = {}
    if service.dns:
        dns["nameservers"] = list(service.dns)
        report.approximated(name, "dns", "added after the cluster DNS server (dnsConfig), so "
                                         "service names keep resolving")
    if service.dns_search:
        dns["searches"] = list(service.dns_search)
        report.mapped(name, "dns_search", "dnsConfig searches")
    if service.dns_opt:
        options = []
        for opt in service.dns_opt:
            k, sep, v = opt.partition(":")
            options.append({"name": k, "value": v} if sep else {"name": k})
        dns["options"] = options
        report.mapped(name, "dns_opt", "dnsConfig options")
    if dns:
        spec["dnsConfig"] = dns
    if service.sysctls:
        items = [{"name": k, "value": str(v)} for k, v in service.sysctls.items()]
        security.setdefault("sysctls", []).extend(items)
        unsafe = sorted(k for k in service.sysctls if k not in SAFE_SYSCTLS)
        if unsafe:
            report.approximated(name, "sysctls", "set on the pod; " + ", ".join(unsafe)
                                + " must be allowed by the kubelet (--allowed-unsafe-sysctls)")
        else:
            report.mapped(name, "sysctls", "pod securityContext sysctls")
    if service.group_add:
        groups = [int(g) for g in service.group_add if str(g).isdecimal()]
        other = [g for g in service.group_add if not str(g).isdecimal()]
        if groups:
            security["supplementalGroups"] = sorted(set(security.get("supplementalGroups", []))
                                                    | set(groups))
            report.mapped(name, "group_add", "supplementalGroups")
        if other:
            report.not_converted(name, "group_add", f"{', '.join(other)}: Kubernetes needs "
                                                    "numeric group ids")
    if service.stop_grace_period is not None:
        spec["terminationGracePeriodSeconds"] = max(
            spec.get("terminationGracePeriodSeconds", 0),
            int(math.ceil(service.stop_grace_period)))
        report.mapped(name, "stop_grace_period", "terminationGracePeriodSeconds")
    if service.stop_signal:
        report.not_converted(name, "stop_signal", "Kubernetes sends SIGTERM; make the image "
                                                  "handle it (STOPSIGNAL in the image is kept)")
    if service.init:
        spec["shareProcessNamespace"] = True
        report.approximated(name, "init", "shareProcessNamespace: the pod's pause process is "
                                          "PID 1 and reaps zombies, like docker's init")
    mode = service.network_mode
    if mode == "host":
        spec["hostNetwork"] = True
        report.mapped(name, "network_mode", "hostNetwork")
    elif mode in ("bridge", "default"):
        report.mapped(name, "network_mode", "the pod network")
    elif mode == "none":
        report.not_converted(name, "network_mode", "a pod always has a network")
    elif mode and not mode.startswith("service:"):
        report.not_converted(name, "network_mode", f"{mode!r} has no Kubernetes equivalent")
    for key, field in (("pid", "hostPID"), ("ipc", "hostIPC")):
        value = service.other.get(key)
        if value == "host":
            spec[field] = True
            report.mapped(name, key, field)
        elif value is not None:
            report.not_converted(name, key, f"{value!r} has no Kubernetes equivalent")
    if service.platform:
        os_name, _, arch = service.platform.partition("/")
        selector = spec.setdefault("nodeSelector", {})
        if os_name:
            selector["kubernetes.io/os"] = os_name
        arch = arch.split("/")[0]
        if arch:
            selector["kubernetes.io/arch"] = ARCH.get(arch, arch)
        report.mapped(name, "platform", "nodeSelector kubernetes.io/os and kubernetes.io/arch")
    placement = service.deploy.placement if service.deploy else None
    if placement is not None:
        _placement(ctx, service, placement, spec)


_CONSTRAINT = re.compile(r"^\s*([\w.\-/]+)\s*(==|!=)\s*(.+?)\s*$")


def _placement(ctx: Context, service, placement, spec) -> None:
    report = ctx.report
    name = service.name
    expressions: list[dict] = []
    for i, text in enumerate(placement.constraints):
        key = f"deploy.placement.constraints[{i}]"
        match = _CONSTRAINT.match(text)
        if not match:
            report.not_converted(name, key, f"cannot read {text!r}")
            continue
        field, op, value = match.groups()
        if field.startswith("node.labels."):
            label = field[len("node.labels."):]
        elif field == "node.hostname":
            label = "kubernetes.io/hostname"
        elif field == "node.platform.os":
            label = "kubernetes.io/os"
        elif field == "node.platform.arch":
            label, value = "kubernetes.io/arch", ARCH.get(value, value)
        elif field == "node.role":
            label = "node-role.kubernetes.io/control-plane"
            expressions.append({"key": label, "operator": "Exists" if (
                (op == "==") == (value == "manager")) else "DoesNotExist"})
            report.approximated(name, key, "manager nodes are control-plane nodes")
            continue
        else:
            report.not_converted(name, key, f"{field} has no Kubernetes node label")
            continue
        if not names.is_qualified_key(label) or not names.is_label_value(value):
            report.not_converted(name, key, f"{text!r} is not a valid node label selector")
            continue
        expressions.append({"key": label, "operator": "In" if op == "==" else "NotIn",
                            "values": [value]})
        report.mapped(name, key, "node affinity")
    if expressions:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": expressions}]}}}
    spreads = []
    for i, pref in enumerate(placement.preferences):
        spread = pref.get("spread", "")
        key = f"deploy.placement.preferences[{i}]"
        label = spread[len("node.labels."):] if spread.startswith("node.labels.") else None
        if not label or not names.is_qualified_key(label):
            report.not_converted(name, key, f"cannot spread over {spread!r}")
            continue
        spreads.append({"maxSkew": 1, "topologyKey": label, "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": labels.selector(
                            ctx.group_of[name].name, ctx.project.name)}})
        report.approximated(name, key, "topologySpreadConstraints (best effort)")
    if spreads:
        spec["topologySpreadConstraints"] = spreads
    if placement.max_replicas_per_node is not None:
        report.not_converted(name, "deploy.placement.max_replicas_per_node",
                             "no direct equivalent; use pod anti-affinity")

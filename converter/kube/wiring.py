"""The wiring check: every `host:port` a service names reaches a Service that forwards it.

It runs on the objects the conversion wrote, after everything else, over the references of
references.py (environment, command, mounted config files, configs and secrets). A reference
passes when a Service of the host's name exists and is headless (every port of the pods is
reachable) or lists the port. Otherwise the finding names the referring service, where it found
the reference, the service it names, what is wrong and the fix; it goes into the conversion
report as a warning and makes `--strict` fail. A reference inside a secret names the variable or
file it was found in, never its text.
"""

from __future__ import annotations

from ..records import record
from . import names


@record
class Finding:
    service: str        # the service whose configuration holds the reference
    where: str          # where: environment.X, command, volumes[0] (nginx.conf)...
    target: str         # the service it names
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"service {self.service}: {self.where}: {self.problem}; fix: {self.fix}"


def check_wiring(ctx, objects: list[dict]) -> list[Finding]:
    services = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Service"}
    findings: list[Finding] = []
    for ref in ctx.references:
        spec = services.get(ref.host.lower())
        if spec is None:
            problem, fix = _unresolved(ctx, ref)
        elif spec.get("clusterIP") == "None":
            continue
        else:
            ports = sorted({p["port"] for p in spec.get("ports") or ()})
            if ref.port in ports:
                continue
            problem = (f"names {ref.shown}, but Service {ref.host.lower()} (service "
                       f"{ref.target}) forwards only port(s) "
                       + ", ".join(str(p) for p in ports))
            fix = f'add "{ref.port}" to the expose of {ref.target}'
        finding = Finding(ref.service, ref.place, ref.target, problem, fix)
        findings.append(finding)
        ctx.report.warning(ref.service, ref.where, f"wiring: {problem}; fix: {fix}")
    return findings


def _unresolved(ctx, ref) -> tuple[str, str]:
    kname = ctx.names[ref.target]
    use = f"use {kname}:{ref.port} in {ref.place}"
    if ref.via == "service":
        return (f"names {ref.shown}, but service {ref.target} is named {kname} on Kubernetes "
                f"({ref.host} is not a valid Service name)",
                f"{use}, or rename the service to {kname}")
    why = ("is not a valid Service name (a DNS label starting with a letter)"
           if not names.is_dns1035(ref.host.lower()) else "is also another service's name")
    return (f"names {ref.shown}, but the {ref.via.replace('_', ' ')} {ref.host} of service "
            f"{ref.target} has no Service: it {why}", use)

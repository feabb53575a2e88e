"""depends_on -> init containers that wait, with no extra RBAC.

For `service_started` and `service_healthy` the pod gets one init container per dependency
(image `busybox`, see ConvertOptions.wait_image) running a shell loop until the dependency's
Service accepts a TCP connection (`nc -z <service> <first port>`). A ClusterIP Service only
forwards to ready pods, and readiness comes from the dependency's healthcheck, so this waits for
"healthy" when the dependency has a healthcheck and for "started and listening" otherwise. A
dependency without ports gets a headless Service (services.py); the wait is then for its name to
resolve (`nslookup`), which happens once one of its pods is ready.

`service_completed_successfully` cannot be awaited from inside a pod without API access (and so
RBAC); the dependency becomes a Job, and the report says the dependant starts without waiting
(containers that fail without the Job's work restart until it is done). `restart: true` (restart
dependants when the dependency restarts) has no Kubernetes equivalent and is reported.
"""

from __future__ import annotations

from . import names


def _script(host: str, port: int | None) -> str:
    if port is None:
        return (f"until nslookup {host} >/dev/null 2>&1; do echo waiting for {host}; "
                "sleep 2; done")
    return (f"until nc -z -w 2 {host} {port}; do echo waiting for {host}:{port}; "
            "sleep 2; done")


def wait_containers(ctx, group) -> list[dict]:
    report = ctx.report
    out: list[dict] = []
    done: set[str] = set()
    used = names.NameSet()
    for member in group.members:
        svc = ctx.project.services[member]
        for dep in sorted(svc.depends_on):
            cond = svc.depends_on[dep]
            key = f"depends_on.{dep}"
            if cond.restart:
                report.not_converted(member, f"{key}.restart",
                                     "Kubernetes does not restart dependants when a dependency "
                                     "restarts")
            if dep not in ctx.project.services:
                report.not_converted(member, key, f"{dep} is not part of the converted project "
                                                  "(disabled profile?)")
                continue
            if ctx.group_of[dep].name == group.name:
                report.mapped(member, key, f"{dep} runs in the same pod")
                continue
            kdep = ctx.names[dep]
            dep_kind = ctx.kinds[ctx.group_of[dep].name]
            if cond.condition == "service_completed_successfully":
                report.approximated(member, key,
                                    f"waiting for {dep} to complete needs API access; {dep} is "
                                    f"a {dep_kind} and {member} starts without waiting for it "
                                    "(it restarts until its dependency's work is done)")
                continue
            ports = [p for p in ctx.ports.get(dep) or [] if "protocol" not in p]
            if not ports and dep not in ctx.headless:
                report.approximated(member, key, f"{dep} ({dep_kind}) has no Service with a TCP "
                                                 f"port to wait for; {member} starts without "
                                                 "waiting")
                continue
            if kdep in done:
                report.mapped(member, key, f"waits with the init container for {kdep}")
                continue
            done.add(kdep)
            port = ports[0]["port"] if ports else None
            cname = used.take(names.join("wait-for", kdep))
            out.append({"name": cname, "image": ctx.options.wait_image,
                        "command": ["sh", "-c", _script(kdep, port)]})
            what = f"{kdep}:{port} accepts connections" if port else f"{kdep} resolves"
            gate = " (its readiness probe from the healthcheck gates this)" if (
                cond.condition == "service_healthy") else ""
            report.mapped(member, key, f"init container {cname} waits until {what}{gate}")
    return out

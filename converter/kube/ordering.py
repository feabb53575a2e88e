"""depends_on -> init containers that wait, as docker compose waits before starting a service.

For `service_started` and `service_healthy` the pod gets one init container per dependency
(image `busybox`, see ConvertOptions.wait_image) running a shell loop until the dependency's
Service accepts a TCP connection (`nc -z <service> <first port>`). A ClusterIP Service only
forwards to ready pods, and readiness comes from the dependency's healthcheck, so this waits for
"healthy" when the dependency has a healthcheck and for "started and listening" otherwise. A
dependency without ports has a headless Service (services.py); the wait is then for its name to
resolve (`nslookup`), which happens once one of its pods is ready.

For `service_completed_successfully` the dependency is a Job (workloads.py) and the init
container asks the API server whether it has completed (jobwait.py: its image, RBAC and
token). `c2k up` also applies the dependants only once the Job has completed
(cluster/startorder.py). `restart: true` (restart dependants when the dependency restarts) has no
Kubernetes equivalent and is reported.
"""

from __future__ import annotations

from . import jobwait, names


def _script(host: str, port: int | None) -> str:
    if port is None:
        return (f"until nslookup {host} >/dev/null 2>&1; do echo waiting for {host}; "
                "sleep 2; done")
    return (f"until nc -z -w 2 {host} {port}; do echo waiting for {host}:{port}; "
            "sleep 2; done")


def wait_containers(ctx, group, pod) -> list[dict]:
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
            completes = cond.condition == "service_completed_successfully" and dep_kind == "Job"
            ctx.starts_after.setdefault(group.name, set()).add(
                (ctx.group_of[dep].name, "completed" if completes else "started"))
            if cond.condition == "service_completed_successfully":
                if not completes:
                    report.approximated(member, key,
                                        f"{dep} is a {dep_kind}, not a Job: {member} starts "
                                        "without waiting for it to complete")
                    continue
                job = ctx.group_of[dep].name
                waited = ctx.job_waits.setdefault(group.name, [])
                if job not in waited:
                    waited.append(job)
                    cname = used.take(names.join("wait-for", job, "job"))
                    out.append(jobwait.wait_container(ctx, pod, job, ctx.names[member], cname))
                report.mapped(member, key, f"init container waits until Job {job} has "
                                           "completed: it asks the API server, with the image "
                                           f"{ctx.options.job_wait_image} (sh and curl) and the "
                                           f"Role {jobwait.account_name(ctx)} (get on the Job)")
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

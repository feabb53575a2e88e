"""The compose verbs on a deployed project, by service name: ps, scale, restart, kill, stop,
start, run, rm, exec, events, port, logs, top (and pause/unpause, which say why not)."""

from __future__ import annotations

import click

from ..commandline import command, options, warn
from ..errors import C2KError
from .cli import CLUSTER_PARAMS, connect, parse_timeout


def _project_conn(settings, kubeconfig, context, namespace):
    """(connection, project name) for the verbs that act on a deployed project."""
    conn = connect(settings, kubeconfig, context, namespace)
    return conn, settings.load_name()


@command("ps")
@options(*CLUSTER_PARAMS)
@click.argument("services", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def ps_cmd(settings, kubeconfig, context, namespace, services, fmt):
    """List the pods of each service: status, ready containers, restarts, age."""
    import json as _json
    from .verbs import ps, table
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    rows = ps(conn, project, services)
    if fmt == "json":
        click.echo(_json.dumps(rows, indent=2))
    else:
        click.echo(table(rows, ("service", "name", "status", "ready", "restarts", "age")),
                   nl=False)


def _replicas_spec(ctx, param, value):
    service, sep, number = value.partition("=")
    if not sep or not service or not number.isdigit():
        raise click.BadParameter(f"{value!r} is not SERVICE=N (e.g. web=3)")
    return service, int(number)


@command("scale")
@options(*CLUSTER_PARAMS)
@click.argument("specs", nargs=-1, required=True, metavar="SERVICE=N...")
def scale_cmd(settings, kubeconfig, context, namespace, specs):
    """Set the number of replicas of services (the next apply resets them to the compose file)."""
    from .verbs import scale
    pairs = [_replicas_spec(None, None, spec) for spec in specs]
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    for service, replicas in pairs:
        for line in scale(conn, project, service, replicas):
            click.echo(line)


def _verb(name: str, doc: str) -> click.Command:
    """A verb of verbs.py that takes service names and prints a line per object it changed."""
    @command(name, help=doc)
    @options(*CLUSTER_PARAMS)
    @click.argument("services", nargs=-1)
    def verb_cmd(settings, kubeconfig, context, namespace, services):
        from . import verbs
        conn, project = _project_conn(settings, kubeconfig, context, namespace)
        for line in getattr(verbs, name)(conn, project, services):
            click.echo(line)
    return verb_cmd


VERBS = [_verb("restart", "Restart the pods of services (a rollout restart, as kubectl)."),
         _verb("kill", "Delete the pods of services at once; their controllers start new ones."),
         _verb("stop", "Scale services to zero, remembering their replicas for start."),
         _verb("start", "Bring stopped services back to the replicas they had.")]


@command("run", context_settings={"allow_interspersed_args": False})
@options(*CLUSTER_PARAMS)
@click.argument("service")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("-d", "--detach", is_flag=True, help="Do not wait for the one-off Job.")
@click.option("--rm", "remove", is_flag=True, help="Delete the Job once it has finished.")
@click.option("--timeout", default="5m", show_default=True, callback=parse_timeout,
              help="How long to wait for the Job.")
def run_cmd(settings, kubeconfig, context, namespace, service, command, detach, remove,
            timeout):
    """Run a one-off command as a Job made from the service's pod template; show its output
    and exit with its exit code (with -d: print the Job's name and return)."""
    from .oneoff import run
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    job, code = run(conn, project, service, command, wait=not detach, timeout=timeout,
                    remove=remove and not detach, out=lambda text: click.echo(text, nl=False),
                    warn=warn)
    name = job["metadata"]["name"]
    if detach:
        click.echo(f"job.batch/{name} created")
        return
    if not settings.quiet:
        ended = "complete" if not code else f"failed (exit {code})"
        kept = "removed" if remove else f"kept: kubectl logs -n {conn.namespace} job/{name}"
        click.echo(f"job.batch/{name} {ended}; {kept}", err=True)
    if code:
        raise SystemExit(code)


@command("rm")
@options(*CLUSTER_PARAMS)
@click.argument("services", nargs=-1)
@click.option("--force", is_flag=True, help="Also remove one-off Jobs still running.")
def rm_cmd(settings, kubeconfig, context, namespace, services, force):
    """Remove stopped things: finished `c2k run` Jobs and the services' ended pods."""
    from .oneoff import rm
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    for line in rm(conn, project, services, force_running=force):
        click.echo(line)


@command("exec", context_settings={"allow_interspersed_args": False})
@options(*CLUSTER_PARAMS)
@click.argument("service")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--index", type=click.IntRange(min=1), default=1, show_default=True,
              help="Which of the service's running pods.")
@click.option("-c", "--container", metavar="NAME", help="Container in the pod.")
def exec_cmd(settings, kubeconfig, context, namespace, service, command, index, container):
    """Run a command in a running pod of the service (no stdin/tty); exit with its code."""
    from .oneoff import exec_in
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    code = exec_in(conn, project, service, command, index=index, container=container,
                   out=lambda text: click.echo(text, nl=False),
                   err=lambda text: click.echo(text, nl=False, err=True))
    if code:
        raise SystemExit(code)


@command("pause", hidden=True)   # kept for compose habits: says why not
@options(*CLUSTER_PARAMS)
@click.argument("services", nargs=-1)
def pause_cmd(settings, services, **_cluster):
    """Not available on Kubernetes: containers cannot be frozen (use stop)."""
    raise C2KError("Kubernetes cannot pause (freeze) containers",
                   hint="c2k stop scales services to zero and c2k start brings them back")


@command("unpause", hidden=True)   # kept for compose habits: says why not
@options(*CLUSTER_PARAMS)
@click.argument("services", nargs=-1)
def unpause_cmd(settings, services, **_cluster):
    """Not available on Kubernetes: containers cannot be frozen (use start)."""
    raise C2KError("Kubernetes cannot pause (freeze) containers, so nothing is paused",
                   hint="c2k start brings stopped services back")


@command("events")
@options(*CLUSTER_PARAMS)
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line (time, type, action, id, service, attributes).")
def events_cmd(settings, kubeconfig, context, namespace, services, as_json):
    """Print the cluster's events about the project's objects and pods."""
    from .observe import dumps, event_line, events
    from .verbs import select, service_of
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    wanted = {service_of(obj) for _, obj in select(conn, project, services)} if services \
        else None
    for event in events(conn, project):
        if wanted is None or event["service"] in wanted:
            click.echo(dumps(event) if as_json else event_line(event))


@command("port")
@options(*CLUSTER_PARAMS)
@click.argument("service")
@click.argument("private_port", type=click.IntRange(1, 65535), metavar="PORT")
@click.option("--protocol", type=click.Choice(["tcp", "udp", "sctp"]), default="tcp",
              show_default=True)
def port_cmd(settings, kubeconfig, context, namespace, service, private_port, protocol):
    """Print the address at which a service's port is reached."""
    from .observe import port
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    found = port(conn, project, service, private_port, protocol)
    click.echo(found["cluster"])
    if not settings.quiet:
        if found.get("external"):
            click.echo(f"external: {found['external']}", err=True)
        if found.get("node_port"):
            click.echo(f"node port: {found['node_port']} on every node", err=True)
        click.echo(f"from this machine: {found['forward']}", err=True)


@command("logs")
@options(*CLUSTER_PARAMS)
@click.argument("services", nargs=-1)
@click.option("--tail", type=click.IntRange(min=0), metavar="N",
              help="Only the last N lines of each container.")
@click.option("-t", "--timestamps", is_flag=True, help="Show timestamps.")
@click.option("--follow", is_flag=True,
              help="Keep streaming new lines (Ctrl-C to stop); -f is the compose file here.")
def logs_cmd(settings, kubeconfig, context, namespace, services, tail, timestamps, follow):
    """Print the logs of the services' pods, each line prefixed by its pod."""
    from .observe import follow_logs, logs
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    if follow:
        problems = []
        opened = follow_logs(conn, project, services, tail=tail, timestamps=timestamps,
                             emit=click.echo, problem=problems.append)
        _log_problems(settings, problems, bool(opened), "followed")
        return
    lines, problems = logs(conn, project, services, tail=tail, timestamps=timestamps)
    for line in lines:
        click.echo(line)
    _log_problems(settings, problems, bool(lines), "read")


def _log_problems(settings, problems: list[str], got_some: bool, verb: str) -> None:
    """A container whose log was unavailable is a warning; when none was, the error says so
    with the first reason, instead of a warning per container before it."""
    if problems and not got_some:
        count = f"the {len(problems)} containers" if len(problems) > 1 else "the container"
        raise C2KError(f"no logs could be {verb} from {count}: {problems[0]}",
                       hint="the nodes' kubelets must serve logs; simulated (kwok) nodes "
                            "do not")
    if not settings.quiet:
        for problem in problems:
            warn(problem)


@command("top")
@options(*CLUSTER_PARAMS)
@click.argument("services", nargs=-1)
def top_cmd(settings, kubeconfig, context, namespace, services):
    """Show the CPU and memory of the services' pods (needs the metrics API)."""
    from .observe import top
    from .verbs import table
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    click.echo(table(top(conn, project, services),
                     ("service", "name", "container", "cpu", "memory")), nl=False)


COMMANDS = [ps_cmd, scale_cmd, *VERBS, run_cmd, rm_cmd, exec_cmd, pause_cmd, unpause_cmd,
            events_cmd, port_cmd, logs_cmd, top_cmd]

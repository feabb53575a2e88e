"""The foreground of the development loop: `c2k up` attached (logs, forwards, --watch),
`c2k watch` (compose's develop.watch) and `c2k port-forward`. session.py holds the loop."""

from __future__ import annotations

import os
import sys

import click

from ..commandline import Settings, command, options, warn
from ..errors import C2KError
from ..images.cli import BUILD, PUSH
from ..kube.cli import CONVERT_PARAMS
from .cli import CLUSTER_PARAMS, _apply, connect, parse_timeout, progress_lines
from .upoptions import SYNC_BINDS


def _note(settings):
    if settings.quiet:
        return lambda text: None
    return lambda text: click.echo(text, err=True)


def _colour(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def bind_forwards(settings: Settings, services: tuple[str, ...] = ()) -> list:
    """The published ports, listening already (a port taken fails before anything is
    applied, as compose fails before it starts a container)."""
    from .forward import bind, published
    forwards, warnings = published(settings.load(show_warnings=False).project, services)
    if not settings.quiet:
        for line in warnings:
            warn(line)
    return bind(forwards)


def up_attached(settings, conn, project, bound, *, attach, no_attach, no_log_prefix, no_color,
                timestamps, abort_on_container_exit, exit_code_from, watch, sync_binds,
                rebuild_options) -> None:
    """After up's apply and wait: logs, forwards and (with --watch) develop.watch until
    Ctrl-C, then the workloads stopped as compose stops its containers."""
    from ..kube.names import dns_label
    from .attach import Attacher, LogPrinter
    from .session import Session
    note = _note(settings)
    session = Session(conn, project.name, note=note)
    known = session.pods.service_names()

    def label(name):
        if name in known or dns_label(name) in known:
            return name if name in known else dns_label(name)
        raise C2KError(f"no service {name!r} in project {project.name}",
                       hint="services: " + ", ".join(sorted(known)))
    attach, no_attach = [label(n) for n in attach], [label(n) for n in no_attach]
    exit_code_from = label(exit_code_from) if exit_code_from else None
    quiet = {dns_label(n) for n, s in project.services.items() if s.other.get("attach") is False}
    shown = set(attach or (known - quiet)) - set(no_attach)
    printer = LogPrinter(click.echo, colour=_colour(no_color), prefix=not no_log_prefix)
    abort = abort_on_container_exit or bool(exit_code_from)
    captured: list = []

    def exited(service, name, code):
        if exit_code_from == service and not captured:
            captured.append(code)
        if abort:
            session.abort(code)
    attacher = Attacher(conn, printer, attached=shown, timestamps=timestamps, on_exit=exited,
                        problem=lambda text: warn(text))
    session.on_poll(attacher.update)
    session.report_problems(warn)
    if not watch:
        session.end_with_containers()
    note("Attaching to " + ", ".join(session.pods.expected(shown)))
    _serve(settings, conn, session, project, bound, watch=watch, sync_binds=sync_binds,
           rebuild_options=rebuild_options, printer=printer)
    if not session.ended:
        session.stop_workloads()
    code = captured[0] if captured else session.exit_code if abort else 0
    if code:
        raise SystemExit(code)


def _serve(settings, conn, session, project, bound, *, watch, sync_binds, rebuild_options,
           printer=None) -> None:
    """Forwards and develop.watch around session.run()."""
    from .forward import Forwarder
    note = _note(settings)
    conn.websocket_core()   # imports the client's CoreV1Api (seconds) now, not at the first use
    forwarder = None
    if bound:
        forwarder = Forwarder(conn, session.pods, bound, note=note)
        forwarder.start()
        for forward, address in forwarder.addresses():
            note(f"Forwarding {address} -> {forward.service}:{forward.target}")
    try:
        if watch:
            _watcher(settings, conn, session, project, sync_binds, rebuild_options,
                     printer).start(session.stop)
        session.run()
    finally:
        if forwarder:
            forwarder.close()


def _watcher(settings, conn, session, project, sync_binds, rebuild_options, printer):
    from .develop import DevWatch
    from .verbs import restart
    from .watchrules import rules_of
    rules = rules_of(project, sync_binds=sync_binds)
    if not rules:
        raise C2KError("none of the services is configured for watch",
                       hint="add a develop.watch section to a service, or pass --sync-binds "
                            "to sync its bind-mounted folders")
    note = _note(settings)

    def rebuild(services):
        from ..kube.cli import convert_project
        from .apply import apply_objects
        given = dict(rebuild_options)
        given["build"] = "local"
        _, conversion = convert_project(settings, given, namespace=conn.namespace)
        apply_objects(conn, project.name, conversion.objects, progress=None)

    def output(service, text):
        for line in text.splitlines():
            if printer:
                printer.line(service, service, line)
            else:
                click.echo(line)
    if any(r.action == "rebuild" for r in rules) and not rebuild_options.get("push"):
        warn("develop.watch rebuild without --push: the nodes see the new image only when "
             "they share this Docker engine")
    session.pods.poll()
    return DevWatch(conn, session.pods, rules, note=note, rebuild=rebuild,
                    restart=lambda services: restart(conn, project.name, services),
                    output=output)


@command("watch")
@options(*CLUSTER_PARAMS, *CONVERT_PARAMS, BUILD, PUSH, SYNC_BINDS)
@click.option("--no-up", is_flag=True, help="Do not apply the project first.")
@click.option("--timeout", default="5m", show_default=True, callback=parse_timeout,
              help="How long the first up waits for the workloads.")
def watch_cmd(settings, kubeconfig, context, namespace, sync_binds, no_up, timeout, **convert):
    """Apply the project (as up --detach), then keep its containers in step with this
    machine's files as develop.watch says: sync, rebuild, sync+restart, sync+exec."""
    from .session import Session
    rebuild_options = dict(convert)
    if no_up:
        conn = connect(settings, kubeconfig, context, namespace)
        project = settings.load(show_warnings=False).project
    else:
        conn, project = _apply(settings, kubeconfig, context, namespace, "none", False, False,
                               True, timeout, convert, out=progress_lines(settings))
    session = Session(conn, project.name, note=_note(settings))
    _serve(settings, conn, session, project, [], watch=True, sync_binds=sync_binds,
           rebuild_options=rebuild_options)


@command("port-forward")
@options(*CLUSTER_PARAMS)
@click.argument("services", nargs=-1)
def port_forward_cmd(settings, kubeconfig, context, namespace, services):
    """Forward the services' published ports to this machine (127.0.0.1 unless host_ip) as
    docker compose publishes them, until Ctrl-C; each connection goes to a running pod."""
    from .session import Session
    bound = bind_forwards(settings, services)
    project = settings.load(show_warnings=False).project
    if not bound:
        raise C2KError("no published TCP port to forward",
                       hint="ports: in the compose file publishes them")
    conn = connect(settings, kubeconfig, context, namespace)
    session = Session(conn, project.name, note=_note(settings), services=services)
    _serve(settings, conn, session, project, bound, watch=False, sync_binds=False,
           rebuild_options={})


COMMANDS = [watch_cmd, port_forward_cmd]

"""The commands that deploy to a cluster: apply, diff, up, down; and what every cluster command
takes (--kubeconfig, --context, -n) and does first (connect). The compose verbs that act on a
deployed project are in verbs_cli.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..commandline import Settings, command, options, warn
from ..errors import C2KError
from ..images.cli import BUILD, PUSH
from ..kube.cli import CONVERT_PARAMS, convert_project
from .upoptions import ATTACH_PARAMS

if TYPE_CHECKING:
    from ..model import Project
    from .kubeconfig import Connection
    from .startorder import StartOrder

Progress = Callable[[str], None] | None      # where progress lines go (None: nowhere)

CLUSTER_PARAMS = [
    click.Option(["--kubeconfig"], metavar="FILE",
                 help="kubeconfig file (default: KUBECONFIG, then ~/.kube/config)."),
    click.Option(["--context"], metavar="NAME", help="kubeconfig context (default: the current)."),
    click.Option(["-n", "--namespace"], metavar="NS",
                 help="Namespace (default: the context's, else default); created if missing."),
]


# apply and up (diff has its own words for them)
PRUNE = click.Option(["--prune"], is_flag=True,
                     help="Delete objects of this project's ApplySet that it no longer contains "
                          "(claims are kept, with their data).")
PRUNE_VOLUMES = click.Option(["--prune-volumes"], is_flag=True,
                             help="--prune, and also delete the claims (and so the data) of "
                                  "volumes the project no longer has.")
FORCE_CONFLICTS = click.Option(["--force-conflicts"], is_flag=True,
                               help="Take over fields another field manager owns.")


def parse_timeout(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """--timeout: a duration (durations.py), in seconds."""
    from ..durations import parse_duration
    try:
        seconds = parse_duration(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise click.BadParameter(f"{value!r} is not a duration like 5m, 90s or 1h")
    return seconds


def connect(settings: Settings, kubeconfig: str | None, context: str | None,
            namespace: str | None) -> Connection:
    from .kubeconfig import connect as open_connection
    conn = open_connection(kubeconfig=kubeconfig, context=context, namespace=namespace)
    if not settings.quiet:
        for line in conn.warnings:
            warn(line)
    return conn


def progress_lines(settings: Settings) -> Progress:
    """Where progress lines go: stderr, or nowhere with -q."""
    if settings.quiet:
        return None
    return lambda line: click.echo(line, err=True)


def progress_board(settings: Settings) -> Progress:
    """up's progress: docker compose's live block on a terminal (status.py), else the lines."""
    if settings.quiet:
        return None
    from ..images.progress import LiveReporter, make_reporter
    reporter = make_reporter("auto")
    if isinstance(reporter, LiveReporter):
        from .status import Board
        return Board(reporter)
    return progress_lines(settings)


def _apply(settings: Settings, kubeconfig: str | None, context: str | None,
           namespace: str | None, dry_run: str, prune: bool, force_conflicts: bool, wait: bool,
           timeout: float, convert: dict[str, Any], *, out: Progress,
           prune_volumes: bool = False, settle: bool = True) -> tuple[Connection, Project]:
    """Convert and apply (and wait: in compose's start order, then, when `settle`, until
    everything is rolled out); returns (the connection, the project)."""
    from .apply import apply_objects, prepare
    from .applyset import ApplySet
    conn = connect(settings, kubeconfig, context, namespace)
    project, conversion = convert_project(settings, convert, namespace=conn.namespace)
    objects = conversion.objects
    if dry_run == "client":
        from ..emit.yamlio import dump_all
        from .apply import split_namespace
        _, rest = split_namespace(objects)
        click.echo(dump_all(prepare(rest, ApplySet(conn, project.name, conn.namespace))),
                   nl=False)
        return conn, project
    order: StartOrder | None = None
    if wait and dry_run != "server":
        # start as docker compose does: one-shots complete before their dependants
        from .startorder import StartOrder
        order = StartOrder(conn, conversion.start_after, timeout, progress=out)
    from .lock import ProjectLock
    tell = None if settings.quiet else getattr(out, "warn", warn)   # above a live block
    with ProjectLock(conn, project.name, click.get_current_context().info_name or "apply",
                     warn=tell) as lock:
        result = apply_objects(conn, project.name, objects, prune=prune or prune_volumes,
                               prune_volumes=prune_volumes, force=force_conflicts,
                               dry_run=dry_run == "server", progress=out, warn=tell,
                               order=order, lock=lock)
        if order is not None and settle:
            order.wait_rest([obj for obj, _ in result.applied])
    return conn, project


@command("apply")
@options(*CLUSTER_PARAMS, *CONVERT_PARAMS, BUILD, PUSH)
@click.option("--dry-run", type=click.Choice(["none", "server", "client"]), default="none",
              show_default=True,
              help="server: the API server checks without persisting; client: print the "
                   "objects that would be sent.")
@options(PRUNE, PRUNE_VOLUMES, FORCE_CONFLICTS)
@click.option("--wait", is_flag=True,
              help="Wait until workloads are rolled out and Jobs complete.")
@click.option("--timeout", default="5m", show_default=True, callback=parse_timeout,
              help="How long --wait waits (5m, 90s, 1h).")
def apply_cmd(settings: Settings, kubeconfig: str | None, context: str | None,
              namespace: str | None, dry_run: str, prune: bool, prune_volumes: bool,
              force_conflicts: bool, wait: bool, timeout: float, **convert: Any) -> None:
    """Server-side apply the project to the cluster (field manager c2k, as an ApplySet)."""
    _apply(settings, kubeconfig, context, namespace, dry_run, prune, force_conflicts, wait,
           timeout, convert, out=lambda line: click.echo(line), prune_volumes=prune_volumes)


@command("diff")
@options(*CLUSTER_PARAMS, *CONVERT_PARAMS)
@click.option("--prune", is_flag=True, help="Also show the objects apply --prune would delete.")
@click.option("--force-conflicts", is_flag=True, help="Diff as apply --force-conflicts would.")
def diff_cmd(settings: Settings, kubeconfig: str | None, context: str | None,
             namespace: str | None, prune: bool, force_conflicts: bool, **convert: Any) -> None:
    """Show how apply would change the cluster; exit 0 same, 1 different, 2 error.

    As kubectl diff, KUBECTL_EXTERNAL_DIFF names another program (e.g. "diff -r -u"); it gets
    the LIVE and MERGED folders.
    """
    try:
        from .diff import compare, external, unified
        conn = connect(settings, kubeconfig, context, namespace)
        project, conversion = convert_project(settings, convert, namespace=conn.namespace)
        pairs = compare(conn, project.name, conversion.objects, prune=prune,
                        force=force_conflicts)
        program = os.environ.get("KUBECTL_EXTERNAL_DIFF")
        if program:
            code = external(program, pairs)
            raise SystemExit(code if code in (0, 1) else 2)
        text = "".join(unified(name, before, after) for name, before, after in pairs)
    except C2KError as exc:
        if settings.debug:
            raise
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    if text:
        click.echo(text, nl=False)
        raise SystemExit(1)


@command("down")
@options(*CLUSTER_PARAMS)
@click.option("-v", "--volumes", is_flag=True,
              help="Also delete the PersistentVolumeClaims (and so the data).")
@click.option("--timeout", default="5m", show_default=True, callback=parse_timeout,
              help="How long to wait for the objects to go.")
def down_cmd(settings: Settings, kubeconfig: str | None, context: str | None,
             namespace: str | None, volumes: bool, timeout: float) -> None:
    """Delete exactly this project's objects from the cluster; keep claims unless --volumes."""
    from .down import down
    conn = connect(settings, kubeconfig, context, namespace)
    project = settings.load_name()
    deleted, kept = down(conn, project, volumes=volumes, timeout=timeout,
                         progress=progress_lines(settings),
                         warn=None if settings.quiet else warn)
    if not deleted and not kept and not settings.quiet:
        click.echo(f"nothing of project {project} in namespace {conn.namespace}", err=True)


@command("up")
@options(*CLUSTER_PARAMS, *CONVERT_PARAMS, BUILD, PUSH, PRUNE, PRUNE_VOLUMES, FORCE_CONFLICTS,
         *ATTACH_PARAMS)
@click.option("--timeout", default="5m", show_default=True, callback=parse_timeout,
              help="How long to wait for the workloads (attached: for the one-shots that "
                   "others start after).")
def up_cmd(settings: Settings, kubeconfig: str | None, context: str | None,
           namespace: str | None, prune: bool, prune_volumes: bool, force_conflicts: bool,
           timeout: float, **convert: Any) -> None:
    """Apply the project in compose's start order; then, as docker compose up, stay attached:
    every service's logs, its published ports on 127.0.0.1, develop.watch with --watch; Ctrl-C
    stops the workloads. -d: wait until every workload is rolled out and return."""
    from .dev_cli import bind_forwards, up_attached
    attached = {p.name: convert.pop(p.name) for p in ATTACH_PARAMS}
    detach = attached.pop("detach")
    if detach and (attached["watch"] or attached["sync_binds"]):
        raise click.UsageError("--watch and --sync-binds need up attached (no -d)")
    bound = [] if detach else bind_forwards(settings)
    rebuild_options = dict(convert)          # the conversion takes its options out of convert
    out = progress_board(settings)
    try:
        conn, project = _apply(settings, kubeconfig, context, namespace, "none", prune,
                               force_conflicts, True, timeout, convert, out=out,
                               prune_volumes=prune_volumes,
                               # attached, as compose: logs from the start, a crash at once
                               settle=detach)
    finally:
        close = getattr(out, "close", None)
        if close is not None:
            close()
    if not detach:
        up_attached(settings, conn, project, bound, rebuild_options=rebuild_options,
                    **attached)


COMMANDS = [apply_cmd, diff_cmd, down_cmd, up_cmd]

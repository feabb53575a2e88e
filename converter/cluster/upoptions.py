"""The options of `c2k up` attached, and --sync-binds, which `c2k watch` takes too."""

from __future__ import annotations

import click

SYNC_BINDS = click.Option(["--sync-binds"], is_flag=True,
                          help="Also keep the services' bind-mounted project folders in sync "
                               "(on Kubernetes a bind mount is what the image holds).")
ATTACH_PARAMS = [
    click.Option(["-d", "--detach"], is_flag=True,
                 help="Return once the workloads are rolled out (no logs, no forwards)."),
    click.Option(["--attach"], multiple=True, metavar="SERVICE",
                 help="Show the logs of these services only (repeatable)."),
    click.Option(["--no-attach"], multiple=True, metavar="SERVICE",
                 help="Do not show the logs of these services (repeatable)."),
    click.Option(["--no-log-prefix"], is_flag=True, help="Print log lines without prefix."),
    click.Option(["--no-color"], is_flag=True, help="Log prefixes without colours."),
    click.Option(["-t", "--timestamps"], is_flag=True, help="Show timestamps in the logs."),
    click.Option(["--abort-on-container-exit"], is_flag=True,
                 help="Stop every workload when a container ends."),
    click.Option(["--exit-code-from"], metavar="SERVICE",
                 help="Exit with this service's container's exit code "
                      "(implies --abort-on-container-exit)."),
    click.Option(["-w", "--watch"], is_flag=True,
                 help="Also run develop.watch (see c2k watch) while attached."),
    SYNC_BINDS,
]

"""`c2k config`: the project as the compose loader reads it, like `docker compose config`."""

from __future__ import annotations

import click

from ..commandline import command, nothing_left_to_clean, write_text


@command("config")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml",
              show_default=True, help="Output format.")
@click.option("--services", is_flag=True, help="Print the service names, one per line.")
@click.option("--volumes", is_flag=True, help="Print the volume names, one per line.")
@click.option("--profiles", is_flag=True, help="Print the profile names, one per line.")
@click.option("--images", is_flag=True, help="Print the image names, one per line.")
@click.option("--no-interpolate", is_flag=True, help="Do not interpolate variables.")
@click.option("--no-consistency", is_flag=True,
              help="Do not check that referenced services, volumes, networks exist.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
def config_cmd(settings, fmt, services, volumes, profiles, images, no_interpolate,
               no_consistency, output):
    """Print the normalized compose project, like `docker compose config`."""
    from .render import render_config
    result = settings.load(interpolate=not no_interpolate, consistency=not no_consistency)
    text = render_config(result, fmt=fmt, services=services, volumes=volumes,
                         profiles=profiles, images=images, interpolated=not no_interpolate)
    write_text(text, output)
    nothing_left_to_clean()


COMMANDS = [config_cmd]

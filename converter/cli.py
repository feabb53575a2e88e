"""The c2k command line: a click group and thin commands.

Commands parse options and hand off to the stage modules, which are imported lazily inside each
command so that `c2k --help` and `c2k config` never pay for docker or kubernetes.

The compose options (-f, -p, --env-file, --profile, --project-directory) are accepted before the
command (`c2k -f a.yaml config`, as docker compose) and after it (`c2k convert -f a.yaml`, as
kompose); values given in both places add up.
"""

from __future__ import annotations

import functools
import gc
import os
import signal
import sys


def _interrupted(signum, frame):
    """Ctrl-C: one line and exit 130, wherever it lands (even inside an import, where Python
    would print a traceback or swallow a KeyboardInterrupt). Every step c2k takes is safe to
    stop between: a re-run converges (apply is server-side and idempotent). The line goes
    straight to the file descriptor, after a newline in case a message was cut mid-line."""
    try:
        os.write(2, b"\ninterrupted\n")
    finally:
        os._exit(130)


def _tune_gc() -> None:
    """c2k's imports and conversions build trees of small objects (~10^6 for 500 services) and
    keep them to the end: the default thresholds rescan them over and over for almost no
    garbage (a fifth of a 500-service convert). Young objects are still collected, the whole
    heap almost never."""
    gc.set_threshold(10_000, 100, 100)


if __name__ == "__main__" or "c2k" in os.path.basename(sys.argv[0] or ""):
    signal.signal(signal.SIGINT, _interrupted)
    _tune_gc()      # before the imports below, which are a third of a small conversion

import click  # noqa: E402  (after the handler, so an early Ctrl-C is clean too)

from . import __version__
from .errors import C2KError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Settings:
    """The global options, merged from before and after the command."""

    def __init__(self):
        self.files: list[str] = []
        self.project_name: str | None = None
        self.env_files: list[str] = []
        self.profiles: list[str] = []
        self.project_directory: str | None = None
        self.debug = False
        self.quiet = False

    def update(self, *, file=(), project_name=None, env_file=(), profile=(),
               project_directory=None, debug=False, quiet=False, **_):
        self.files.extend(file or ())
        self.env_files.extend(env_file or ())
        self.profiles.extend(profile or ())
        self.project_name = project_name or self.project_name
        self.project_directory = project_directory or self.project_directory
        self.debug = self.debug or debug
        self.quiet = self.quiet or quiet

    def load_options(self, **extra):
        from .compose.loader import LoadOptions
        return LoadOptions(files=tuple(self.files), project_name=self.project_name,
                           env_files=tuple(self.env_files), profiles=tuple(self.profiles),
                           project_directory=self.project_directory, **extra)

    def load(self, *, show_warnings: bool = True, **extra):
        """Load the compose project; warnings go to stderr (unless -q, or show_warnings is
        False)."""
        from .compose.loader import load_project
        result = load_project(self.load_options(**extra))
        if show_warnings and not self.quiet:
            for warning in result.warnings:
                warn(warning)
        return result

    def load_name(self) -> str:
        """The project's name, for the commands that act on a deployed project (ps, logs,
        down...): the files' warnings were said when it was converted or applied, and are not
        repeated by every one of them."""
        return self.load(show_warnings=False).project.name


# Built once and shared by the group and every command (parameters keep no per-command state):
# 25 commands each building their own seven options cost ~3 ms of every start.
GLOBAL_PARAMS = [
    click.Option(["-f", "--file"], multiple=True, metavar="FILE",
                 help="Compose file (repeatable; default: compose.yaml etc. as docker compose)."),
    click.Option(["-p", "--project-name"], metavar="NAME", help="Project name."),
    click.Option(["--env-file"], multiple=True, metavar="FILE",
                 help="Environment file for interpolation (repeatable)."),
    click.Option(["--profile"], multiple=True, metavar="PROFILE",
                 help="Enable a profile (repeatable; '*' enables all)."),
    click.Option(["--project-directory"], metavar="DIR",
                 help="Project directory (default: the first compose file's folder)."),
    click.Option(["--debug"], is_flag=True, help="Show tracebacks for errors."),
    click.Option(["-q", "--quiet"], is_flag=True,
                 help="Print only errors on stderr: no warnings, progress or notes."),
]


def global_options(command: click.Command) -> click.Command:
    """Put the global options first in the command's parameters."""
    command.params[:0] = GLOBAL_PARAMS
    return command


def compose_command(group, name, **kwargs):
    """Register a command that also takes the global options after its name."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kw):
            settings = click.get_current_context().find_object(Settings)
            settings.update(**{k: kw.pop(k) for k in _GLOBAL_NAMES if k in kw})
            return func(settings, *args, **kw)
        return global_options(group.command(name, **kwargs)(wrapper))
    return decorate


_GLOBAL_NAMES = ("file", "project_name", "env_file", "profile", "project_directory", "debug",
                 "quiet")


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _image_progress(settings, progress="auto"):
    """What builds and pushes show on stderr: with -q nothing, warnings included."""
    if settings.quiet:
        from .images.progress import QuietReporter
        return QuietReporter()
    return progress


@global_options
@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="c2k")   # not package_name: importlib.metadata
                                                      # costs ~25 ms
@click.pass_context
def cli(ctx, **options):
    """c2k takes a Docker Compose project to Kubernetes.

    It loads compose files with docker compose's semantics, converts them into Kubernetes
    manifests (YAML, JSON, Helm chart, Kustomize), builds and pushes the images, and applies
    the result to a cluster.
    """
    settings = ctx.ensure_object(Settings)
    settings.update(**options)
    if os.environ.get("C2K_DEBUG"):
        settings.debug = True


@compose_command(cli, "config")
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
    from .compose.render import render_config
    result = settings.load(interpolate=not no_interpolate, consistency=not no_consistency)
    text = render_config(result, fmt=fmt, services=services, volumes=volumes,
                         profiles=profiles, images=images, interpolated=not no_interpolate)
    _write_text(text, output)
    _nothing_left_to_clean()


def _write_text(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)


# ---- images: build, push, images (converter/images/) ------------------------------------------

IMAGE_OPTIONS = [
    click.option("--registry", metavar="R",
                 help="Registry (host[:port][/path]) that prefixes or replaces the registry of "
                      "the built images' names."),
    click.option("--tag", metavar="T", help="Tag for the built images (default: the image's "
                                             "tag, else latest)."),
]
PARALLEL_OPTIONS = [
    click.option("--parallel", type=click.IntRange(min=1), metavar="N",
                 help="Build or push N images at a time (default: 8)."),
    click.option("--progress", type=click.Choice(["auto", "plain", "none"]), default="auto",
                 show_default=True,
                 help="Progress on stderr: a live line per service on a terminal, or plain "
                      "prefixed lines."),
]


def image_options(func, *, parallel=True):
    for option in reversed(IMAGE_OPTIONS + (PARALLEL_OPTIONS if parallel else [])):
        func = option(func)
    return func


@compose_command(cli, "build")
@click.argument("services", nargs=-1)
@image_options
@click.option("--no-cache", is_flag=True, help="Do not use the build cache.")
@click.option("--pull", is_flag=True, help="Always try to pull newer base images.")
@click.option("--push", "and_push", is_flag=True, help="Push the images after building them.")
@click.option("--builder", type=click.Choice(["auto", "buildkit", "classic"]), default="auto",
              show_default=True,
              help="The engine's builder: BuildKit, or the classic one (auto: BuildKit unless "
                   "DOCKER_BUILDKIT=0).")
def build_cmd(settings, services, registry, tag, parallel, progress, no_cache, pull, and_push,
              builder):
    """Build the images of services that have a build section; print their names."""
    from .images import build_images, push_images
    project = settings.load().project
    progress = _image_progress(settings, progress)
    built = build_images(project, services or None, registry=registry, tag=tag,
                         parallel=parallel, progress=progress, no_cache=no_cache, pull=pull,
                         builder=builder)
    if and_push:
        built = push_images(project, services or None, registry=registry, tag=tag,
                            parallel=parallel, progress=progress)
        for image in built.values():
            click.echo(image.pinned)
    else:
        for image in built.values():
            click.echo(image.ref)
    _nothing_left_to_clean()        # the build threads are joined, the contexts removed


@compose_command(cli, "push")
@click.argument("services", nargs=-1)
@image_options
def push_cmd(settings, services, registry, tag, parallel, progress):
    """Push the built images; print each as name:tag@sha256:digest."""
    from .images import push_images
    project = settings.load().project
    pushed = push_images(project, services or None, registry=registry, tag=tag,
                         parallel=parallel, progress=_image_progress(settings, progress))
    for image in pushed.values():
        click.echo(image.pinned)
    _nothing_left_to_clean()


@compose_command(cli, "images")
@click.argument("services", nargs=-1)
@functools.partial(image_options, parallel=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def images_cmd(settings, services, registry, tag, fmt):
    """List each service's image, tag, local image id and registry digest."""
    from .images import describe, list_images
    project = settings.load().project
    click.echo(describe(list_images(project, services or None, registry=registry, tag=tag),
                        fmt), nl=False)


# ---- convert (converter/kube, converter/emit) --------------------------------------------------

# Options of every command that converts (convert, apply, diff, up).
CHECK_OPTIONS = [
    click.option("--strict", is_flag=True,
                 help="Fail (exit 1) when the wiring check finds a host:port a service names "
                      "that no Service forwards."),
    click.option("--wait-image", metavar="IMAGE",
                 help="Image of the init containers that wait for a dependency's port "
                      "(sh, nc, nslookup; default busybox:1.36)."),
    click.option("--job-wait-image", metavar="IMAGE",
                 help="Image of the init containers that ask the API server whether a one-shot "
                      "Job has completed (sh, curl; default curlimages/curl:8.11.1)."),
]


def check_options(func):
    for option in reversed(CHECK_OPTIONS):
        func = option(func)
    return func


def _converted(settings, project, options):
    """Convert and print the report's warnings."""
    from .emit.report import stderr_lines
    from .kube.transform import to_manifests
    result = to_manifests(project, options)
    if not settings.quiet:
        for line in stderr_lines(result.report):
            warn(line)
    return result


def _strict(settings, result) -> None:
    """--strict: fail when the wiring check found references no Service forwards."""
    if result.wiring:
        count = len(result.wiring)
        lines = "" if not settings.quiet else ":\n" + "\n".join(
            f"  {finding}" for finding in result.wiring)
        raise C2KError(f"--strict: the wiring check found {count} reference(s) that no Service "
                       f"forwards{lines}",
                       hint="see the warnings starting with 'wiring:' for each fix")


def _image_options(convert: dict) -> dict:
    """--wait-image / --job-wait-image as ConvertOptions keywords (only when given)."""
    return {key: convert[key] for key in ("wait_image", "job_wait_image") if convert.get(key)}


@compose_command(cli, "convert")
@click.option("-o", "--out", "--output", "out", metavar="PATH",
              help="Write to PATH: a folder (trailing '/' or existing) gets one file per object; "
                   "otherwise one file. Default: stdout.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print to stdout (the default).")
@click.option("-j", "--json", "as_json", is_flag=True, help="JSON (a v1 List) instead of YAML.")
@click.option("--controller", metavar="KIND",
              type=click.Choice(["deployment", "statefulset", "daemonset",
                                 "replicationcontroller"], case_sensitive=False),
              help="Workload kind for long-running services (default: deployment).")
@click.option("--volumes", "volumes_mode", default="persistentVolumeClaim", show_default=True,
              type=click.Choice(["persistentVolumeClaim", "emptyDir", "hostPath", "configMap"],
                                case_sensitive=False),
              help="How volumes are converted.")
@click.option("--replicas", type=click.IntRange(min=0), help="Replicas for every workload.")
@click.option("--pvc-request-size", default="100Mi", show_default=True, metavar="SIZE",
              help="Storage requested by each PersistentVolumeClaim without a size hint.")
@click.option("-n", "--namespace", metavar="NS",
              help="Put every object in NS and add the Namespace object.")
@click.option("--generate-network-policies", is_flag=True,
              help="One NetworkPolicy per compose network (compose's isolation).")
@click.option("--registry", metavar="R",
              help="Registry for images built from a build section (as c2k build/push).")
@click.option("--secret-env", is_flag=True,
              help="Move secret-looking environment variables into a Secret.")
@click.option("--service-group-mode", type=click.Choice(["label", "volume"]),
              help="Run services in one pod: by kompose.service.group label, or when they "
                   "share volumes.")
@click.option("--service-group-name", metavar="NAME",
              help="Name of the pod of services grouped by shared volumes.")
@click.option("--build", "do_build", is_flag=True, help="Build the images first.")
@click.option("--push", "do_push", is_flag=True,
              help="Build and push the images first, and pin their digests.")
@click.option("--report", "report_file", metavar="FILE",
              help="Write the full conversion report (YAML, or JSON for *.json) to FILE.")
@click.option("--format", "out_format", default="manifests", show_default=True,
              type=click.Choice(["manifests", "helm", "kustomize"]),
              help="manifests; or a Helm chart / a Kustomize base with overlays in -o DIR.")
@check_options
def convert_cmd(settings, out, to_stdout, as_json, controller, volumes_mode, replicas,
                pvc_request_size, namespace, generate_network_policies, registry, secret_env,
                service_group_mode, service_group_name, do_build, do_push, report_file,
                out_format, strict, **images):
    """Convert the compose project into Kubernetes manifests."""
    from .emit.manifests import write_output, written_files
    from .emit.report import write_report
    from .kube.options import ConvertOptions
    from .kube.quantities import is_quantity
    if not is_quantity(pvc_request_size):
        raise click.BadParameter(f"{pvc_request_size!r} is not a size like 1Gi",
                                 param_hint="--pvc-request-size")
    project = settings.load().project
    overrides = {}
    if do_build or do_push:
        from .images import build_and_push
        overrides = build_and_push(project, build=True, push=do_push, registry=registry,
                                   progress=_image_progress(settings))
    options = ConvertOptions(namespace=namespace, controller=controller, volumes=volumes_mode,
                             replicas=replicas, pvc_request_size=pvc_request_size,
                             generate_network_policies=generate_network_policies,
                             registry=registry, image_overrides=overrides,
                             secret_env=secret_env, service_group_mode=service_group_mode,
                             service_group_name=service_group_name, **_image_options(images))
    result = _converted(settings, project, options)
    if report_file:
        write_report(result.report, report_file)
    if strict:
        _strict(settings, result)
    if out_format != "manifests":
        _write_format(out_format, result.objects, project.name, out, settings.quiet)
        return
    text = write_output(result.objects, output=None if to_stdout else out, json=as_json)
    if text is not None:
        click.echo(text, nl=False)
    elif not settings.quiet:
        paths = written_files(result.objects, out, json=as_json)
        where = out if len(paths) != 1 else paths[0]
        click.echo(f"wrote {len(result.objects)} object(s) to {where}", err=True)
    _nothing_left_to_clean()     # a build or push has joined its threads by now


def _write_format(out_format, objects, project_name, out, quiet) -> None:
    """convert --format helm|kustomize: a folder (converter/emit/helm.py, kustomize.py)."""
    if not out or out == "-":
        raise click.UsageError(f"--format {out_format} writes a folder: give -o DIR")
    stem, suffix = os.path.splitext(out.rstrip("/"))
    if suffix.lower() in (".yaml", ".yml", ".json") and not os.path.isdir(out):
        # Not a folder named k.yaml: surely a file was meant, which this format does not write.
        raise click.UsageError(f"--format {out_format} writes a folder, and -o {out} names a "
                               f"file: give -o {stem}/ (or leave out --format for one file "
                               f"of manifests)")
    if out_format == "helm":
        from .emit.helm import write_chart as write
    else:
        from .emit.kustomize import write_kustomize as write
    paths = write(objects, project_name=project_name, output=out)
    if not quiet:
        click.echo(f"wrote {out_format} ({len(paths)} files) to {out}", err=True)


# ---- bundle (converter/emit/bundle.py) ----------------------------------------------------------

@compose_command(cli, "bundle")
@click.option("-o", "--output", metavar="FILE",
              help="Write the bundle to FILE ('-' for stdout). Default: <project>.dab.")
@click.option("--push", "do_push", is_flag=True,
              help="Build and push the images with a build section first, to pin their "
                   "registry digests.")
@click.option("--registry", metavar="R",
              help="Registry for the images built from a build section (as c2k push).")
def bundle_cmd(settings, output, do_push, registry):
    """Write the Distributed Application Bundle (.dab) with every image pinned by digest."""
    from .emit.bundle import make_bundle, resolve_digests
    project = settings.load().project
    problems: list[str] = []
    digests = resolve_digests(project, push=do_push, registry=registry, problems=problems,
                              progress=_image_progress(settings))
    bundle = make_bundle(project, digests, why="; ".join(problems) or None)
    if not settings.quiet:
        for line in bundle.report:
            warn(line)
    output = output or f"{project.name}.dab"
    if output == "-":
        click.echo(bundle.text(), nl=False)
        return
    _write_text(bundle.text(), output)
    if not settings.quiet:
        click.echo(f"wrote bundle to {output}", err=True)


# ---- cluster: apply, diff, down, up and the compose verbs (converter/cluster) ----------------

CLUSTER_OPTIONS = [
    click.option("--kubeconfig", metavar="FILE",
                 help="kubeconfig file (default: KUBECONFIG, then ~/.kube/config)."),
    click.option("--context", metavar="NAME", help="kubeconfig context (default: the current)."),
    click.option("-n", "--namespace", metavar="NS",
                 help="Namespace (default: the context's, else default); created if missing."),
]
APPLY_CONVERT_OPTIONS = [
    click.option("--controller", metavar="KIND",
                 type=click.Choice(["deployment", "statefulset", "daemonset",
                                    "replicationcontroller"], case_sensitive=False),
                 help="Workload kind for long-running services (as convert)."),
    click.option("--volumes", "volumes_mode", default="persistentVolumeClaim",
                 show_default=True, help="How volumes are converted (as convert).",
                 type=click.Choice(["persistentVolumeClaim", "emptyDir", "hostPath",
                                    "configMap"], case_sensitive=False)),
    click.option("--replicas", type=click.IntRange(min=0), help="Replicas for every workload."),
    click.option("--pvc-request-size", default="100Mi", show_default=True, metavar="SIZE",
                 help="Storage requested by each claim without a size hint."),
    click.option("--generate-network-policies", is_flag=True,
                 help="One NetworkPolicy per compose network."),
    click.option("--registry", metavar="R", help="Registry for built images (as convert)."),
    click.option("--secret-env", is_flag=True,
                 help="Move secret-looking environment variables into a Secret."),
    *CHECK_OPTIONS,
]


def _options(options):
    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


def _timeout(ctx, param, value):
    from .cluster.wait import parse_duration
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _connect(settings, kubeconfig, context, namespace):
    from .cluster.kubeconfig import connect
    conn = connect(kubeconfig=kubeconfig, context=context, namespace=namespace)
    if not settings.quiet:
        for line in conn.warnings:
            warn(line)
    return conn


def _cluster_objects(settings, conn, convert, *, build=False, push=False):
    """Load and convert the project into conn.namespace; returns (project, conversion)."""
    from .kube.options import ConvertOptions
    project = settings.load().project
    overrides = {}
    if build or push:
        from .images import build_and_push
        overrides = build_and_push(project, build=True, push=push,
                                   registry=convert.get("registry"),
                                   progress=_image_progress(settings))
    options = ConvertOptions(namespace=conn.namespace, controller=convert.get("controller"),
                             volumes=convert.get("volumes_mode") or "persistentVolumeClaim",
                             replicas=convert.get("replicas"),
                             pvc_request_size=convert.get("pvc_request_size") or "100Mi",
                             generate_network_policies=bool(
                                 convert.get("generate_network_policies")),
                             registry=convert.get("registry"), image_overrides=overrides,
                             secret_env=bool(convert.get("secret_env")),
                             **_image_options(convert))
    result = _converted(settings, project, options)
    if convert.get("strict"):
        _strict(settings, result)
    return project, result


def _progress(settings):
    if settings.quiet:
        return None
    return lambda line: click.echo(line, err=True)


def _apply(settings, kubeconfig, context, namespace, dry_run, prune, force_conflicts, wait,
           timeout, build, push, convert, *, out):
    from .cluster.apply import apply_objects, prepare
    from .cluster.applyset import ApplySet
    conn = _connect(settings, kubeconfig, context, namespace)
    project, conversion = _cluster_objects(settings, conn, convert, build=build, push=push)
    objects = conversion.objects
    if dry_run == "client":
        from .cluster.apply import split_namespace
        from .emit.yamlio import dump_all
        _, rest = split_namespace(objects)
        click.echo(dump_all(prepare(rest, ApplySet(conn, project.name, conn.namespace))),
                   nl=False)
        return
    waiting = wait and dry_run != "server"
    order = None
    if waiting:     # start as docker compose does: one-shots complete before their dependants
        from .cluster.startorder import StartOrder
        order = StartOrder(conn, conversion.start_after, timeout, progress=out)
    result = apply_objects(conn, project.name, objects, prune=prune, force=force_conflicts,
                           dry_run=dry_run == "server", progress=out, order=order)
    if waiting:
        order.wait_rest([obj for obj, _ in result.applied])


@compose_command(cli, "apply")
@_options(CLUSTER_OPTIONS + APPLY_CONVERT_OPTIONS)
@click.option("--dry-run", type=click.Choice(["none", "server", "client"]), default="none",
              show_default=True,
              help="server: the API server checks without persisting; client: print the "
                   "objects that would be sent.")
@click.option("--prune", is_flag=True,
              help="Delete objects of this project's ApplySet that it no longer contains.")
@click.option("--force-conflicts", is_flag=True,
              help="Take over fields another field manager owns.")
@click.option("--wait", is_flag=True,
              help="Wait until workloads are rolled out and Jobs complete.")
@click.option("--timeout", default="5m", show_default=True, callback=_timeout,
              help="How long --wait waits (5m, 90s, 1h).")
@click.option("--build", "do_build", is_flag=True, help="Build the images first.")
@click.option("--push", "do_push", is_flag=True, help="Build and push the images first.")
def apply_cmd(settings, kubeconfig, context, namespace, dry_run, prune, force_conflicts, wait,
              timeout, do_build, do_push, **convert):
    """Server-side apply the project to the cluster (field manager c2k, as an ApplySet)."""
    _apply(settings, kubeconfig, context, namespace, dry_run, prune, force_conflicts, wait,
           timeout, do_build, do_push, convert, out=lambda line: click.echo(line))


@compose_command(cli, "diff")
@_options(CLUSTER_OPTIONS + APPLY_CONVERT_OPTIONS)
@click.option("--prune", is_flag=True, help="Also show the objects apply --prune would delete.")
@click.option("--force-conflicts", is_flag=True, help="Diff as apply --force-conflicts would.")
def diff_cmd(settings, kubeconfig, context, namespace, prune, force_conflicts, **convert):
    """Show how apply would change the cluster; exit 0 same, 1 different, 2 error.

    As kubectl diff, KUBECTL_EXTERNAL_DIFF names another program (e.g. "diff -r -u"); it gets
    the LIVE and MERGED folders.
    """
    try:
        from .cluster.diff import compare, external, unified
        conn = _connect(settings, kubeconfig, context, namespace)
        project, conversion = _cluster_objects(settings, conn, convert)
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


@compose_command(cli, "down")
@_options(CLUSTER_OPTIONS)
@click.option("-v", "--volumes", is_flag=True,
              help="Also delete the PersistentVolumeClaims (and so the data).")
@click.option("--timeout", default="5m", show_default=True, callback=_timeout,
              help="How long to wait for the objects to go.")
def down_cmd(settings, kubeconfig, context, namespace, volumes, timeout):
    """Delete exactly this project's objects from the cluster; keep claims unless --volumes."""
    from .cluster.down import down
    conn = _connect(settings, kubeconfig, context, namespace)
    project = settings.load_name()
    deleted, kept = down(conn, project, volumes=volumes, timeout=timeout,
                         progress=_progress(settings))
    if not deleted and not kept and not settings.quiet:
        click.echo(f"nothing of project {project} in namespace {conn.namespace}", err=True)


@compose_command(cli, "up")
@_options(CLUSTER_OPTIONS + APPLY_CONVERT_OPTIONS)
@click.option("--prune", is_flag=True,
              help="Delete objects of this project's ApplySet that it no longer contains.")
@click.option("--force-conflicts", is_flag=True,
              help="Take over fields another field manager owns.")
@click.option("--timeout", default="5m", show_default=True, callback=_timeout,
              help="How long to wait for the workloads.")
@click.option("--build", "do_build", is_flag=True, help="Build the images first.")
@click.option("--push", "do_push", is_flag=True, help="Build and push the images first.")
def up_cmd(settings, kubeconfig, context, namespace, prune, force_conflicts, timeout, do_build,
           do_push, **convert):
    """Apply the project and wait until every workload is rolled out (progress on stderr)."""
    _apply(settings, kubeconfig, context, namespace, "none", prune, force_conflicts, True,
           timeout, do_build, do_push, convert, out=_progress(settings))


def _project_conn(settings, kubeconfig, context, namespace):
    """(connection, project name) for the verbs that act on a deployed project."""
    conn = _connect(settings, kubeconfig, context, namespace)
    return conn, settings.load_name()


@compose_command(cli, "ps")
@_options(CLUSTER_OPTIONS)
@click.argument("services", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def ps_cmd(settings, kubeconfig, context, namespace, services, fmt):
    """List the pods of each service: status, ready containers, restarts, age."""
    import json as _json
    from .cluster.verbs import ps, table
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


@compose_command(cli, "scale")
@_options(CLUSTER_OPTIONS)
@click.argument("specs", nargs=-1, required=True, metavar="SERVICE=N...")
def scale_cmd(settings, kubeconfig, context, namespace, specs):
    """Set the number of replicas of services (the next apply resets them to the compose file)."""
    from .cluster.verbs import scale
    pairs = [_replicas_spec(None, None, spec) for spec in specs]
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    for service, replicas in pairs:
        for line in scale(conn, project, service, replicas):
            click.echo(line)


def _verb(name, doc):
    @compose_command(cli, name, help=doc)
    @_options(CLUSTER_OPTIONS)
    @click.argument("services", nargs=-1)
    def command(settings, kubeconfig, context, namespace, services):
        from .cluster import verbs
        conn, project = _project_conn(settings, kubeconfig, context, namespace)
        for line in getattr(verbs, name)(conn, project, services):
            click.echo(line)
    return command


_verb("restart", "Restart the pods of services (a rollout restart, as kubectl).")
_verb("kill", "Delete the pods of services at once; their controllers start new ones.")
_verb("stop", "Scale services to zero, remembering their replicas for start.")
_verb("start", "Bring stopped services back to the replicas they had.")


@compose_command(cli, "run", context_settings={"allow_interspersed_args": False})
@_options(CLUSTER_OPTIONS)
@click.argument("service")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("-d", "--detach", is_flag=True, help="Do not wait for the one-off Job.")
@click.option("--rm", "remove", is_flag=True, help="Delete the Job once it has finished.")
@click.option("--timeout", default="5m", show_default=True, callback=_timeout,
              help="How long to wait for the Job.")
def run_cmd(settings, kubeconfig, context, namespace, service, command, detach, remove,
            timeout):
    """Run a one-off command as a Job made from the service's pod template; show its output
    and exit with its exit code (with -d: print the Job's name and return)."""
    from .cluster.oneoff import run
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


@compose_command(cli, "rm")
@_options(CLUSTER_OPTIONS)
@click.argument("services", nargs=-1)
@click.option("--force", is_flag=True, help="Also remove one-off Jobs still running.")
def rm_cmd(settings, kubeconfig, context, namespace, services, force):
    """Remove stopped things: finished `c2k run` Jobs and the services' ended pods."""
    from .cluster.oneoff import rm
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    for line in rm(conn, project, services, force_running=force):
        click.echo(line)


@compose_command(cli, "exec", context_settings={"allow_interspersed_args": False})
@_options(CLUSTER_OPTIONS)
@click.argument("service")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--index", type=click.IntRange(min=1), default=1, show_default=True,
              help="Which of the service's running pods.")
@click.option("-c", "--container", metavar="NAME", help="Container in the pod.")
def exec_cmd(settings, kubeconfig, context, namespace, service, command, index, container):
    """Run a command in a running pod of the service (no stdin/tty); exit with its code."""
    from .cluster.oneoff import exec_in
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    code = exec_in(conn, project, service, command, index=index, container=container,
                   out=lambda text: click.echo(text, nl=False),
                   err=lambda text: click.echo(text, nl=False, err=True))
    if code:
        raise SystemExit(code)


@compose_command(cli, "pause", hidden=True)   # kept for compose habits: says why not
@_options(CLUSTER_OPTIONS)
@click.argument("services", nargs=-1)
def pause_cmd(settings, services, **_cluster):
    """Not available on Kubernetes: containers cannot be frozen (use stop)."""
    raise C2KError("Kubernetes cannot pause (freeze) containers",
                   hint="c2k stop scales services to zero and c2k start brings them back")


@compose_command(cli, "unpause", hidden=True)   # kept for compose habits: says why not
@_options(CLUSTER_OPTIONS)
@click.argument("services", nargs=-1)
def unpause_cmd(settings, services, **_cluster):
    """Not available on Kubernetes: containers cannot be frozen (use start)."""
    raise C2KError("Kubernetes cannot pause (freeze) containers, so nothing is paused",
                   hint="c2k start brings stopped services back")


@compose_command(cli, "events")
@_options(CLUSTER_OPTIONS)
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line (time, type, action, id, service, attributes).")
def events_cmd(settings, kubeconfig, context, namespace, services, as_json):
    """Print the cluster's events about the project's objects and pods."""
    from .cluster.observe import dumps, event_line, events
    from .cluster.verbs import select, service_of
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    wanted = {service_of(obj) for _, obj in select(conn, project, services)} if services \
        else None
    for event in events(conn, project):
        if wanted is None or event["service"] in wanted:
            click.echo(dumps(event) if as_json else event_line(event))


@compose_command(cli, "port")
@_options(CLUSTER_OPTIONS)
@click.argument("service")
@click.argument("private_port", type=click.IntRange(1, 65535), metavar="PORT")
@click.option("--protocol", type=click.Choice(["tcp", "udp", "sctp"]), default="tcp",
              show_default=True)
def port_cmd(settings, kubeconfig, context, namespace, service, private_port, protocol):
    """Print the address at which a service's port is reached."""
    from .cluster.observe import port
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    found = port(conn, project, service, private_port, protocol)
    click.echo(found["cluster"])
    if not settings.quiet:
        if found.get("external"):
            click.echo(f"external: {found['external']}", err=True)
        if found.get("node_port"):
            click.echo(f"node port: {found['node_port']} on every node", err=True)
        click.echo(f"from this machine: {found['forward']}", err=True)


@compose_command(cli, "logs")
@_options(CLUSTER_OPTIONS)
@click.argument("services", nargs=-1)
@click.option("--tail", type=click.IntRange(min=0), metavar="N",
              help="Only the last N lines of each container.")
@click.option("-t", "--timestamps", is_flag=True, help="Show timestamps.")
@click.option("--follow", is_flag=True,
              help="Keep streaming new lines (Ctrl-C to stop); -f is the compose file here.")
def logs_cmd(settings, kubeconfig, context, namespace, services, tail, timestamps, follow):
    """Print the logs of the services' pods, each line prefixed by its pod."""
    from .cluster.observe import follow_logs, logs
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


@compose_command(cli, "top")
@_options(CLUSTER_OPTIONS)
@click.argument("services", nargs=-1)
def top_cmd(settings, kubeconfig, context, namespace, services):
    """Show the CPU and memory of the services' pods (needs the metrics API)."""
    from .cluster.observe import top
    from .cluster.verbs import table
    conn, project = _project_conn(settings, kubeconfig, context, namespace)
    click.echo(table(top(conn, project, services),
                     ("service", "name", "container", "cpu", "memory")), nl=False)


_quick_exit = False


def _nothing_left_to_clean() -> None:
    """Called by commands whose work is over once their output is written: no thread still
    running, no temporary or open file left, every engine connection closed."""
    global _quick_exit
    _quick_exit = True


def _exit_now() -> None:
    """End the program without tearing the interpreter down: freeing a conversion's objects
    one by one (and every module) costs ~10 ms on a small file and ~0.1 s on a large one, and
    changes nothing. Output is flushed first; a reader that left is not an error."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    except OSError as exc:
        os.write(2, f"error: writing the output: {exc.strerror or exc}\n".encode())
        os._exit(1)
    os._exit(0)


def main(argv=None) -> None:
    """Entry point: run the CLI, turning known errors into one message and exit 1."""
    signal.signal(signal.SIGINT, _interrupted)
    _tune_gc()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("C2K_DEBUG"))
    try:
        cli.main(args=args, prog_name="c2k", standalone_mode=False)
        # The program itself (not a caller of main()), and no profiler or coverage tracer
        # waiting to write its results at exit.
        if _quick_exit and argv is None and sys.getprofile() is None and sys.gettrace() is None:
            _exit_now()
    except C2KError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        # `c2k convert | head`: the reader left; that is not an error.
        sys.stderr.close()
        sys.exit(0)
    except RecursionError:
        if debug:
            raise
        click.echo("error: input is nested too deeply", err=True)
        sys.exit(1)
    except MemoryError:
        click.echo("error: out of memory while processing the input", err=True)
        sys.exit(1)
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # an internal bug: short message, traceback only with --debug
        if debug:
            raise
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}\n"
                   "  hint: run again with --debug for a traceback and report it", err=True)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()

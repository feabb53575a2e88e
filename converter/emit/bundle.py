"""`c2k bundle`: the Distributed Application Bundle (.dab) that `docker-compose bundle` wrote.

The format (docker/cli `bundlefile.go`): ``{"Version": "0.1", "Services": {name: service}}``,
each service with ``Image`` pinned by digest and, when set, ``Command``, ``Args``, ``Env``,
``Labels``, ``Ports`` (container side only, ``{"Port", "Protocol"}``), ``WorkingDir``, ``User``
and ``Networks`` (always written). JSON with indent 2 and sorted keys, as compose v1 wrote it.

Compose v1's rules (``compose/bundle.py``): ``Command`` is entrypoint + command when there is an
entrypoint, otherwise the command is ``Args``; ``Env`` is ``KEY=VALUE`` for set, non-empty values;
``Ports`` are the container ports of ``ports`` then ``expose``, without duplicates;
``Networks`` is the service's networks, ``["default"]`` when none, ``[]`` with ``network_mode``.

Digests: an image already pinned ``@sha256:`` is used as it is; otherwise the digest comes from
``resolve`` (local RepoDigests through docker, or a build and push with ``--push``). A service
left without a digest is an error naming it and saying how to fix it. Every compose key the
format cannot carry is reported (returned as messages; the CLI prints them on stderr).
"""

from __future__ import annotations

import json
import re

from .. import records
from ..errors import C2KError, ImageError
from ..imagerefs import split_reference
from ..model import Service

VERSION = "0.1"
# Service fields the format carries (build only names the image; name is the key).
CARRIED = {"name", "image", "build", "command", "entrypoint", "environment", "ports", "expose",
           "networks", "network_mode", "working_dir", "user", "labels"}
_EXPOSE = re.compile(r"^(\d+)(?:-(\d+))?(?:/([a-zA-Z]+))?$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@records.record(frozen=False)
class Bundle:
    data: dict
    report: list[str]

    def text(self) -> str:
        return json.dumps(self.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def is_pinned(ref: str | None) -> bool:
    return bool(ref and _DIGEST.search(ref))


def make_bundle(project, digests: dict[str, str], *, why: str | None = None) -> Bundle:
    """The bundle of `project`; `digests` maps a service to its pinned image reference (services
    whose `image` is already pinned need no entry). Raises C2KError naming every service
    without a digest (`why`: what kept the digests from being found, e.g. no engine)."""
    missing = [s for s in project.services.values()
               if not is_pinned(digests.get(s.name)) and not is_pinned(s.image)]
    if missing:
        raise missing_digests_error(missing, why=why)
    report: list[str] = []
    services = {}
    for svc in project.services.values():
        services[svc.name] = service_entry(svc, digests.get(svc.name) or svc.image, report)
    for kind in ("volumes", "secrets", "configs"):
        for name in getattr(project, kind):
            report.append(f"top-level {kind}.{name}: a bundle has no {kind}; not converted")
    for name, network in project.networks.items():
        settings = [f for f in ("driver", "external", "internal") if getattr(network, f)]
        if settings or network.labels:
            report.append(f"networks.{name}: only the network's name is carried; "
                          f"{', '.join(settings + (['labels'] if network.labels else []))} "
                          "not converted")
    return Bundle({"Version": VERSION, "Services": services}, report)


def service_entry(svc: Service, image: str, report: list[str]) -> dict:
    out: dict = {"Image": image}
    entrypoint = list(svc.entrypoint or ())
    command = list(svc.command or ())
    if entrypoint:
        out["Command"] = entrypoint + command
    elif command:
        out["Args"] = command
    env = []
    for key, value in svc.environment.items():
        if value:
            env.append(f"{key}={value}")
        else:
            report.append(f"service {svc.name}: environment.{key} has no value; a bundle "
                          "carries only set variables; left out")
    if env:
        out["Env"] = env
    if svc.labels:
        out["Labels"] = {str(k): str(v) for k, v in svc.labels.items()}
    ports = _ports(svc, report)
    if ports:
        out["Ports"] = ports
    if svc.working_dir:
        out["WorkingDir"] = svc.working_dir
    if svc.user:
        out["User"] = svc.user
    out["Networks"] = _networks(svc, report)
    _report_uncarried(svc, report)
    return out


def _ports(svc: Service, report: list[str]) -> list[dict]:
    ports: list[dict] = []

    def add(port: int, protocol: str) -> None:
        spec = {"Port": int(port), "Protocol": (protocol or "tcp").lower()}
        if spec not in ports:
            ports.append(spec)

    published = False
    for port in svc.ports:
        add(port.target, port.protocol)
        published = published or bool(port.published) or bool(port.host_ip)
    if published:
        report.append(f"service {svc.name}: ports: only container ports are carried; the "
                      "published (host) ports are chosen at deploy time")
    for item in svc.expose:
        match = _EXPOSE.match(str(item).strip())
        if not match:
            report.append(f"service {svc.name}: expose {item!r} is not a port; left out")
            continue
        first = int(match.group(1))
        last = int(match.group(2) or first)
        for number in range(first, last + 1):
            add(number, match.group(3) or "tcp")
    return ports


def _networks(svc: Service, report: list[str]) -> list[str]:
    if svc.network_mode:
        report.append(f"service {svc.name}: network_mode {svc.network_mode!r} is not carried; "
                      "the service gets no networks")
        return []
    if not svc.networks:
        return ["default"]
    for name, attachment in svc.networks.items():
        if attachment is None:
            continue
        settings = [f.name for f in records.fields(attachment)
                    if getattr(attachment, f.name) not in (None, ())]
        if settings:
            report.append(f"service {svc.name}: networks.{name}: {', '.join(settings)} not "
                          "carried (a bundle aliases each service by its name)")
    return sorted(svc.networks)


def _report_uncarried(svc: Service, report: list[str]) -> None:
    for f in records.fields(Service):
        if f.name in CARRIED or f.name in ("extensions", "other"):
            continue
        value = getattr(svc, f.name)
        if value != records.default_of(f) and value not in ((), None):
            report.append(f"service {svc.name}: {f.name} is not part of the bundle format; "
                          "not converted")
    for key in svc.other:
        report.append(f"service {svc.name}: {key} is not part of the bundle format; "
                      "not converted")


def missing_digests_error(services: list[Service], *, why: str | None = None) -> C2KError:
    names = ", ".join(s.name for s in services)
    built = [s.name for s in services if s.build is not None]
    pulled = [s for s in services if s.build is None]
    fixes = []
    if built:
        fixes.append(f"push the built images and bundle again: `c2k push {' '.join(built)}` "
                     "(or `c2k bundle --push`)")
    for s in pulled:
        fixes.append(f"pin {s.name}'s image by digest (image: {s.image or 'NAME'}@sha256:...) "
                     f"or pull it so the engine records its digest: `docker pull {s.image}`")
    if why:
        fixes.append(f"(local digests could not be read: {why})")
    return ImageError(f"no image digest for service(s) {names}: a bundle pins every image by "
                      "digest", hint="\n  hint: ".join(fixes))


def resolve_digests(project, *, push: bool = False, registry: str | None = None,
                    problems: list[str] | None = None, progress="auto") -> dict[str, str]:
    """{service: image@sha256:...} for the services whose image is not pinned: pushed digests
    (with ``push``, for services with a build section), else the engine's RepoDigests. Services
    without any digest are left out (make_bundle names them); why the engine could not be asked
    goes to `problems`. docker is imported only here."""
    from .. import images
    todo = [s for s in project.services.values() if not is_pinned(s.image)]
    if not todo:
        return {}
    found: dict[str, str] = {}
    if push:
        to_push = [s.name for s in todo if s.build is not None]
        if to_push:
            pushed = images.build_and_push(project, build=True, push=True, registry=registry,
                                           services=to_push, progress=progress)
            for name, ref in pushed.items():
                found[name] = _repo_digest(ref)
    rest = [s.name for s in todo if s.name not in found]
    if rest:
        try:
            rows = images.list_images(project, rest, registry=registry)
        except ImageError as exc:  # no engine: those services are reported without digest
            rows = []
            if problems is not None:
                problems.append(exc.message)
        for row in rows:
            if row.digest:
                found[row.service] = f"{row.name}@{row.digest}"
    return found


def _repo_digest(ref: str) -> str:
    """`name:tag@sha256:x` -> `name@sha256:x`, the form compose v1 wrote."""
    name, _, digest = split_reference(ref)
    return f"{name}@{digest}"


def write_bundle(bundle: Bundle, output: str) -> None:
    with open(output, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(bundle.text())


__all__ = ["Bundle", "make_bundle", "resolve_digests", "write_bundle", "is_pinned",
           "missing_digests_error", "VERSION"]

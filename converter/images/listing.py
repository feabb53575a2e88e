"""`c2k images`: each service's image name and tag, its local id and registry digest."""

from __future__ import annotations

import json
from contextlib import closing

from ..imagerefs import digests_of, image_name
from .api import FAILURES, NotFound
from .engine import Engine, connect, engine_error
from .jobs import BuiltImage, check_service_names


def list_images(project, services=None, *, registry=None, tag=None,
                engine: Engine | None = None) -> list[BuiltImage]:
    """Each service's image name and tag, with the local image id and the registry digest the
    engine recorded for that name (after a push or pull), None where there is none."""
    names = services or list(project.services)
    check_service_names(project, names)
    engine = engine or connect()
    rows = []
    with closing(engine.session()) as session:
        for service_name in dict.fromkeys(names):
            service = project.services[service_name]
            if service.image is None and service.build is None:
                continue
            name, tag_ = image_name(project, service, registry=registry, tag=tag)
            image_id = digest = None
            try:
                info = session.inspect_image(f"{name}:{tag_}")
                image_id = info["Id"]
                digest = next(iter(digests_of(name, info.get("RepoDigests") or ())), None)
            except NotFound:
                pass
            except FAILURES as exc:
                raise engine_error(exc, engine) from None
            rows.append(BuiltImage(service.name, name, tag_, image_id, digest))
    return rows


def describe(images, fmt: str = "table") -> str:
    """Render list_images() rows for `c2k images`."""
    if fmt == "json":
        return json.dumps([{"service": i.service, "image": i.name, "tag": i.tag,
                            "id": i.image_id, "digest": i.digest} for i in images],
                          indent=2) + "\n"
    rows = [("SERVICE", "IMAGE", "TAG", "IMAGE ID", "DIGEST")]
    for i in images:
        rows.append((i.service, i.name, i.tag,
                     i.image_id.removeprefix("sha256:")[:12] if i.image_id else "<none>",
                     i.digest or "<none>"))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    return "".join("   ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "   " + r[-1]
                   .rstrip() + "\n" for r in rows)

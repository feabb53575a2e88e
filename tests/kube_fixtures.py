"""Builders for conversion tests: model objects in a line, a fake file reader, a checked convert."""

from __future__ import annotations

from converter.kube.files import HostPath
from converter.kube.options import ConvertOptions
from converter.kube.transform import to_manifests
from converter.model import Project, Service, frozen_map

import k8s_schema

WORKDIR = "/proj"


def svc(name: str, **kw) -> Service:
    kw.setdefault("image", "nginx:1.27")
    for key in ("environment", "labels", "depends_on", "networks", "sysctls", "annotations",
                "extensions", "other"):
        if key in kw and isinstance(kw[key], dict):
            kw[key] = frozen_map(kw[key])
    return Service(name=name, **kw)


def project(*services: Service, name: str = "demo", **kw) -> Project:
    for key in ("volumes", "networks", "secrets", "configs", "environment", "extensions"):
        if key in kw and isinstance(kw[key], dict):
            kw[key] = frozen_map(kw[key])
    return Project(name=name, working_dir=kw.pop("working_dir", WORKDIR),
                   services=frozen_map({s.name: s for s in sorted(services,
                                                                  key=lambda s: s.name)}), **kw)


class FakeReader:
    """path -> bytes (a file) or {relative path: bytes} (a folder); anything else is missing.

    `executable` names the paths (a file's, or a folder's relative ones) with an x bit."""

    def __init__(self, tree: dict | None = None, executable=()):
        self.tree = tree or {}
        self.executable = set(executable)
        self.calls: list[str] = []

    def __call__(self, path: str) -> HostPath:
        self.calls.append(path)
        node = self.tree.get(path)
        if node is None:
            return HostPath("missing")
        if isinstance(node, bytes):
            name = path.rsplit("/", 1)[-1]
            return HostPath("file", files=((name, node),), count=1, size=len(node),
                            executable=(name,) if path in self.executable else ())
        if node == "big":
            return HostPath("dir", count=40, reason="has more than 32 files")
        files = tuple(sorted(node.items()))
        return HostPath("dir", files=files, count=len(files),
                        executable=tuple(sorted(p for p in node if p in self.executable)))


def convert(proj: Project, *, reader=None, **options):
    """(objects, report) after checking every object against the strict schema."""
    result = to_manifests(proj, ConvertOptions(**options), reader=reader or FakeReader())
    k8s_schema.assert_valid(result.objects)
    return result.objects, result.report


def find(objects, kind: str, name: str | None = None) -> dict:
    found = [o for o in objects if o["kind"] == kind
             and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found among " + ", ".join(
        f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    return found[0]


def kinds(objects) -> list[tuple[str, str]]:
    return [(o["kind"], o["metadata"]["name"]) for o in objects]


def pod(workload: dict) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def container(workload: dict, index: int = 0) -> dict:
    return pod(workload)["containers"][index]


def statuses(report, service: str, key: str) -> set[str]:
    return report.statuses("service", service, key)

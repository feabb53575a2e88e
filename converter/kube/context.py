"""The state one conversion shares between the transform modules.

`Context` holds the inputs (project, options, report, file reader), what earlier steps decided
(Kubernetes names, hints, pod groups, workload kinds, Service ports) and the objects produced so
far. Objects are added through `add`, which refuses two different objects with the same kind and
name, and silently keeps one copy of identical objects (two services mounting the same file).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ConversionError
from ..model import Project
from ..records import field, record
from .labels import metadata
from .report import Report

if TYPE_CHECKING:                     # each imports this module, or is heavy to import
    from .files import HostPath
    from .hints import Hints
    from .options import ConvertOptions
    from .references import Reference
    from .sharing import StoragePlan


@record(frozen=False)
class PodGroup:
    """Services that run as containers of one pod (network_mode: service:x, service groups)."""
    name: str                 # Kubernetes name of the workload
    primary: str              # compose name of the service whose pod settings win
    members: list[str]        # compose names, primary first


@record(frozen=False)
class Context:
    project: Project
    options: ConvertOptions
    report: Report
    reader: Callable[[str], HostPath]                   # files.read_host_path, or a stand-in
    names: dict[str, str] = field(default_factory=dict)  # compose service -> Kubernetes name
    hints: dict[str, Hints] = field(default_factory=dict)         # compose service -> Hints
    groups: dict[str, PodGroup] = field(default_factory=dict)     # workload name -> PodGroup
    group_of: dict[str, PodGroup] = field(default_factory=dict)   # compose service -> PodGroup
    kinds: dict[str, str] = field(default_factory=dict)           # workload name -> kind
    ports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # -> Service ports
    headless: set[str] = field(default_factory=set)   # compose services with a headless Service
    references: list[Reference] = field(default_factory=list)     # host:port (references.py)
    # service -> {condition -> dependants}
    waiters: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    job_waits: dict[str, list[str]] = field(default_factory=dict)  # workload -> Jobs it awaits
    # workload -> {(workload, "started" | "completed")}
    starts_after: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    job_wait_accounts: set[str] = field(default_factory=set)     # ServiceAccounts of those pods
    governing: dict[str, str] = field(default_factory=dict)      # StatefulSet -> governing Service
    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (kind, name)
    origins: dict[tuple[str, str], str] = field(default_factory=dict)   # -> what produced it
    storage_plan: StoragePlan | None = None                      # made on first use (sharing.py)

    @property
    def project_name(self) -> str:
        return self.project.name

    def meta(self, name: str, owner: str, **kw: Any) -> dict[str, Any]:
        return metadata(name, owner, self.project.name, **kw)

    def add(self, obj: dict[str, Any], origin: str) -> dict[str, Any]:
        key = (obj["kind"], obj["metadata"]["name"])
        existing = self.objects.get(key)
        if existing is not None:
            if existing == obj:
                return existing
            raise ConversionError(
                f"{origin} and {self.origins[key]} both need a {key[0]} named {key[1]!r}",
                hint="rename one of them (names are lowercased and `_` becomes `-`)")
        self.objects[key] = obj
        self.origins[key] = origin
        return obj

    def has(self, kind: str, name: str) -> bool:
        return (kind, name) in self.objects

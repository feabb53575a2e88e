"""The state one conversion shares between the transform modules.

`Context` holds the inputs (project, options, report, file reader), what earlier steps decided
(Kubernetes names, hints, pod groups, workload kinds, Service ports) and the objects produced so
far. Objects are added through `add`, which refuses two different objects with the same kind and
name, and silently keeps one copy of identical objects (two services mounting the same file).
"""

from __future__ import annotations

from typing import Callable

from ..errors import ConversionError
from ..records import field, record
from .labels import metadata
from .report import Report


@record(frozen=False)
class PodGroup:
    """Services that run as containers of one pod (network_mode: service:x, service groups)."""
    name: str                 # Kubernetes name of the workload
    primary: str              # compose name of the service whose pod settings win
    members: list[str]        # compose names, primary first


@record(frozen=False)
class Context:
    project: object
    options: object
    report: Report
    reader: Callable
    names: dict = field(default_factory=dict)          # compose service -> Kubernetes name
    hints: dict = field(default_factory=dict)          # compose service -> Hints
    groups: dict = field(default_factory=dict)         # workload name -> PodGroup
    group_of: dict = field(default_factory=dict)       # compose service -> PodGroup
    kinds: dict = field(default_factory=dict)          # workload name -> kind
    ports: dict = field(default_factory=dict)          # compose service -> Service ports
    headless: set = field(default_factory=set)         # compose services with a headless Service
    references: list = field(default_factory=list)     # host:port references (references.py)
    waiters: dict = field(default_factory=dict)        # service -> {condition -> dependants}
    job_waits: dict = field(default_factory=dict)      # workload -> Jobs its pods wait for
    starts_after: dict = field(default_factory=dict)   # workload -> {(workload, how)}
    job_wait_accounts: set = field(default_factory=set)  # ServiceAccounts of those pods
    governing: dict = field(default_factory=dict)      # StatefulSet name -> governing Service
    objects: dict = field(default_factory=dict)        # (kind, name) -> object
    origins: dict = field(default_factory=dict)        # (kind, name) -> what produced it
    storage_plan: object | None = None                 # sharing.StoragePlan (lazy)

    @property
    def project_name(self) -> str:
        return self.project.name

    def meta(self, name: str, owner: str, **kw) -> dict:
        return metadata(name, owner, self.project.name, **kw)

    def add(self, obj: dict, origin: str) -> dict:
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

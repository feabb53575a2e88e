"""The conversion report: for every service and compose key, what became of it.

Each entry is one of
- ``mapped``: converted with the same meaning;
- ``approximated``: converted, but the meaning differs (``detail`` says how);
- ``not-converted``: left out (``detail`` says why);
- ``warning``: something the user should look at (a name change, a missing file...).

Entries never carry secret values: callers pass key names and reasons only.
"""

from __future__ import annotations

from ..records import field, record

MAPPED = "mapped"
APPROXIMATED = "approximated"
NOT_CONVERTED = "not-converted"
WARNING = "warning"
STATUSES = (MAPPED, APPROXIMATED, NOT_CONVERTED, WARNING)


@record
class Entry:
    scope: str        # "service", "volume", "network", "secret", "config", "project"
    name: str         # the compose name (service name, volume name, ...); "" for the project
    key: str          # the compose key, e.g. "ports" or "labels.kompose.service.type"
    status: str
    detail: str = ""

    def as_dict(self) -> dict:
        out = {"scope": self.scope, "name": self.name, "key": self.key, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        return out

    def __str__(self) -> str:
        where = f"{self.scope} {self.name}" if self.name else self.scope
        text = f"{where}: {self.key}: {self.status}"
        return f"{text}: {self.detail}" if self.detail else text


@record(frozen=False)
class Report:
    entries: list[Entry] = field(default_factory=list)
    # Indexes keep add/covered/of constant-time: a 500-service project has ~10,000 entries.
    _seen: set = field(default_factory=set, repr=False, compare=False)
    _by_owner: dict = field(default_factory=dict, repr=False, compare=False)
    # (scope, name, key) for every entry's key and each of its parents ("a.b[0]" -> "a.b", "a").
    _covered: set = field(default_factory=set, repr=False, compare=False)

    def add(self, scope: str, name: str, key: str, status: str, detail: str = "") -> None:
        entry = Entry(scope, name, key, status, detail)
        if entry not in self._seen:
            self._seen.add(entry)
            self.entries.append(entry)
            self._by_owner.setdefault((scope, name), []).append(entry)
            covered = self._covered
            covered.add((scope, name, key))
            if "." in key or "[" in key:
                for i, char in enumerate(key):
                    if char == "." or char == "[":
                        covered.add((scope, name, key[:i]))

    # Service-scoped shorthands: most entries are about one service's key.
    def mapped(self, service: str, key: str, detail: str = "") -> None:
        self.add("service", service, key, MAPPED, detail)

    def approximated(self, service: str, key: str, detail: str) -> None:
        self.add("service", service, key, APPROXIMATED, detail)

    def not_converted(self, service: str, key: str, detail: str) -> None:
        self.add("service", service, key, NOT_CONVERTED, detail)

    def warning(self, service: str, key: str, detail: str) -> None:
        self.add("service", service, key, WARNING, detail)

    def covered(self, scope: str, name: str, key: str) -> bool:
        """True when some entry speaks about `key` (or one of its sub-keys)."""
        return (scope, name, key) in self._covered

    def of(self, scope: str, name: str) -> list[Entry]:
        return list(self._by_owner.get((scope, name), ()))

    def statuses(self, scope: str, name: str, key: str) -> set[str]:
        return {e.status for e in self._by_owner.get((scope, name), ()) if e.key == key}

    @property
    def warnings(self) -> list[Entry]:
        """What the user should read: warnings, approximations and what was not converted."""
        return [e for e in self.sorted() if e.status != MAPPED]

    def sorted(self) -> list[Entry]:
        order = {"project": 0, "service": 1, "volume": 2, "network": 3, "secret": 4, "config": 5}
        return sorted(self.entries, key=lambda e: (order.get(e.scope, 9), e.name, e.key,
                                                   STATUSES.index(e.status), e.detail))

    def as_list(self) -> list[dict]:
        return [e.as_dict() for e in self.sorted()]


@record
class ConversionResult:
    objects: list[dict]
    report: Report
    wiring: tuple = ()          # wiring.Finding: references no Service forwards (--strict)
    # workload -> ((workload it depends on, "completed" | "started"), ...): docker compose's
    # start order; `c2k up` applies a workload once the Jobs it needs "completed" have.
    start_after: dict = field(default_factory=dict)

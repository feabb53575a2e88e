"""What a release renames: every object of the chart, and every field that names one.

Each object `c2k convert` writes is named `{{ prefix }}<name>` in the chart (helpers.py:
`<fullname>-web`, or compose's own names with keepComposeNames); the project-wide ones c2k
names `<project>-<what>` (the job waiter's account, the NetworkPolicies of the compose
networks) take the release's full name in place of the project's. CronJobs keep to 52
characters (their Jobs add 11). What names another object of the chart follows it: a
StatefulSet's serviceName, volumes and env references to ConfigMaps, Secrets and claims, the
Ingress backend, the autoscaler's target, the Role's Jobs and the RoleBinding's Role and
accounts. Names of objects the chart does not make (an existing Secret, an external volume's
claim, `kube-root-ca.crt`, pull secrets) stay as they are.

Labels: instance is `{{ .Release.Name }}` (in every selector too, so two releases select only
their own pods), managed-by `{{ .Release.Service }}`, plus `helm.sh/chart` (not where Kubernetes
forbids changes: selectors, claim templates, a Job's pod template).
"""

from __future__ import annotations

from ...kube import labels as kube_labels
from .tokens import Tokens

LIMITS = {"CronJob": 52}
CHART_LABEL = "helm.sh/chart"


class Naming:
    def __init__(self, chart: str, project_label: str, owned: set, tokens: Tokens):
        self.chart = chart
        self.owned = owned                   # (kind, name) of every object of the chart
        self.scoped = project_label + "-"
        self.tokens = tokens
        by_kind: dict[str, set[str]] = {}
        for kind, name in owned:
            by_kind.setdefault(kind, set()).add(name)
        self._by_kind = by_kind

    def expr(self, kind: str, name: str) -> str:
        """The template expression of the name of the object (kind, name) in this release."""
        rest = name[len(self.scoped):] if name.startswith(self.scoped) else None
        if rest and kind in ("ServiceAccount", "Role", "RoleBinding", "NetworkPolicy") \
                and rest not in self._by_kind.get(kind, ()):
            return f'include "{self.chart}.projectName" (list $ "{rest}")'
        limit = LIMITS.get(kind)
        extra = f" {limit}" if limit else ""
        return f'include "{self.chart}.resourceName" (list $ "{name}"{extra})'

    def name(self, kind: str, name: str) -> str:
        """A placeholder for the name, when the chart makes that object; else the name."""
        if (kind, name) in self.owned:
            return self.tokens.expr(self.expr(kind, name))
        return name

    # ---- labels -------------------------------------------------------------------------------

    def labels(self, labels: dict, *, chart_label: bool = True) -> dict:
        out = dict(labels)
        if kube_labels.INSTANCE in out:
            out[kube_labels.INSTANCE] = self.tokens.quoted("$.Release.Name")
        if kube_labels.MANAGED_BY in out:
            out[kube_labels.MANAGED_BY] = self.tokens.quoted("$.Release.Service")
        if chart_label and kube_labels.INSTANCE in out:
            out[CHART_LABEL] = self.tokens.quoted(f'include "{self.chart}.chart" $')
        return out

    def selector(self, labels: dict) -> dict:
        return self.labels(labels, chart_label=False)

    def metadata(self, meta: dict, kind: str, *, chart_label: bool = True) -> dict:
        out = dict(meta)
        out["name"] = self.name(kind, meta["name"])
        if "namespace" in out:
            out["namespace"] = self.tokens.quoted("$.Release.Namespace")
        if "labels" in out:
            out["labels"] = self.labels(out["labels"], chart_label=chart_label)
        return out

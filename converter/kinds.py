"""The Kubernetes kinds c2k writes, applies, waits for and deletes: one table, read by every stage.

A row says where the kind's objects live (API version, REST plural, namespaced or not) and what
c2k does with them: whether conversion writes it, where its pod template is, whether it has
`spec.replicas`, whether a new pod template rolls its pods, whether c2k can tell when it is rolled
out (cluster/wait.py). The rows are in apply order (what others refer to first: namespaces,
accounts and RBAC, configuration, claims, Services, then workloads, then what points at them);
`down` deletes in the reverse order, and conversion sorts its output by it.

A new kind: one row here, then the code that writes it (kube/) and what it means to the verbs.
"""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    name: str                   # Deployment
    api_version: str            # apps/v1
    plural: str                 # deployments (the REST resource; kubectl get)
    namespaced: bool = True
    converted: bool = False     # conversion may write it
    template: tuple[str, ...] = ()   # path to the pod template; () when it has none
    scalable: bool = False      # spec.replicas: scale, stop/start, autoscaling, replica overlays
    rolls: bool = False         # a changed pod template replaces the pods (rollout restart)
    waits: bool = False         # its rollout status is known (cluster/wait.py)

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def group_kind(self) -> str:
        """`Deployment.apps`, `Service`: as ApplySets list their members' kinds."""
        return f"{self.name}.{self.group}" if self.group else self.name

    @property
    def workload(self) -> bool:
        """It runs pods from a template of its own."""
        return bool(self.template)


_POD = ("spec", "template")
KINDS = (
    Kind("Namespace", "v1", "namespaces", namespaced=False, converted=True),
    Kind("CustomResourceDefinition", "apiextensions.k8s.io/v1", "customresourcedefinitions",
         namespaced=False),
    Kind("PriorityClass", "scheduling.k8s.io/v1", "priorityclasses", namespaced=False),
    Kind("StorageClass", "storage.k8s.io/v1", "storageclasses", namespaced=False),
    Kind("ServiceAccount", "v1", "serviceaccounts", converted=True),
    Kind("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
    Kind("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings",
         namespaced=False),
    Kind("Role", "rbac.authorization.k8s.io/v1", "roles", converted=True),
    Kind("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings", converted=True),
    Kind("Secret", "v1", "secrets", converted=True),
    Kind("ConfigMap", "v1", "configmaps", converted=True),
    Kind("PersistentVolume", "v1", "persistentvolumes", namespaced=False),
    Kind("PersistentVolumeClaim", "v1", "persistentvolumeclaims", converted=True),
    Kind("Service", "v1", "services", converted=True),
    Kind("Deployment", "apps/v1", "deployments", converted=True, template=_POD, scalable=True,
         rolls=True, waits=True),
    Kind("StatefulSet", "apps/v1", "statefulsets", converted=True, template=_POD, scalable=True,
         rolls=True, waits=True),
    Kind("DaemonSet", "apps/v1", "daemonsets", converted=True, template=_POD, rolls=True,
         waits=True),
    Kind("ReplicationController", "v1", "replicationcontrollers", converted=True,
         template=_POD, scalable=True, waits=True),
    Kind("ReplicaSet", "apps/v1", "replicasets", template=_POD, scalable=True),
    Kind("Pod", "v1", "pods"),
    Kind("Job", "batch/v1", "jobs", converted=True, template=_POD, waits=True),
    Kind("CronJob", "batch/v1", "cronjobs", converted=True,
         template=("spec", "jobTemplate", "spec", "template")),
    Kind("Ingress", "networking.k8s.io/v1", "ingresses", converted=True),
    Kind("HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers",
         converted=True),
    Kind("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets"),
    Kind("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", converted=True),
)
BY_NAME = {kind.name: kind for kind in KINDS}
_RANK = {kind.name: i for i, kind in enumerate(KINDS)}


def get(name: str) -> Kind | None:
    return BY_NAME.get(name)


def of(obj: dict) -> Kind | None:
    """The row of an object, when its kind and API group are the table's."""
    kind = BY_NAME.get(obj.get("kind", ""))
    api_version = obj.get("apiVersion", "")
    group = api_version.rpartition("/")[0]
    return kind if kind is not None and kind.group == group else None


def rank(name: str) -> int:
    """Apply order; kinds not in the table go after every kind in it."""
    return _RANK.get(name, len(KINDS))


def api_version(name: str) -> str:
    return BY_NAME[name].api_version


def where(test) -> tuple[Kind, ...]:
    """The rows for which test(kind) is true, in apply order."""
    return tuple(kind for kind in KINDS if test(kind))


def pod_template(obj: dict) -> dict | None:
    """The object's pod template (a CronJob's is in its job template); None when it has none."""
    kind = BY_NAME.get(obj.get("kind", ""))
    if kind is None or not kind.template:
        return None
    node = obj
    for key in kind.template:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
    return node if isinstance(node, dict) else None


def pod_spec(obj: dict) -> dict | None:
    template = pod_template(obj)
    spec = template.get("spec") if template is not None else None
    return spec if isinstance(spec, dict) else None


def containers(obj: dict, *, init: bool = False) -> list[dict]:
    """The pod template's containers (init containers first, with init=True)."""
    spec = pod_spec(obj) or {}
    return (list(spec.get("initContainers") or []) if init else []) + \
        list(spec.get("containers") or [])


def selector_labels(obj: dict) -> dict:
    """The labels the workload selects its pods by (a ReplicationController's selector is the
    map itself, the others' are under matchLabels)."""
    selector = (obj.get("spec") or {}).get("selector") or {}
    if obj.get("kind") == "ReplicationController":
        return dict(selector.get("matchLabels", selector))
    return dict(selector.get("matchLabels") or {})

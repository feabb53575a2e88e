"""Where names live in the converted objects: the pod spec of a workload, and the fields of a
pod spec that name other objects of the chart."""

from __future__ import annotations

from ... import kinds

# the kinds conversion writes with a pod template of their own (kinds.py)
WORKLOADS = tuple(k.name for k in kinds.where(lambda k: k.converted and k.workload))


def pod_of(obj: dict) -> dict:
    """The pod spec of a workload ({} for other objects)."""
    return kinds.pod_spec(obj) or {}


def containers(pod: dict) -> list[dict]:
    return list(pod.get("initContainers") or ()) + list(pod.get("containers") or ())


def name_refs(pod: dict):
    """((kind, name), holder, key) for every ConfigMap, Secret, claim and ServiceAccount name
    in a pod spec; `holder[key]` is the name."""
    for vol in pod.get("volumes") or ():
        if "configMap" in vol:
            yield ("ConfigMap", vol["configMap"]["name"]), vol["configMap"], "name"
        if "secret" in vol:
            yield ("Secret", vol["secret"]["secretName"]), vol["secret"], "secretName"
        if "persistentVolumeClaim" in vol:
            claim = vol["persistentVolumeClaim"]
            yield ("PersistentVolumeClaim", claim["claimName"]), claim, "claimName"
        for source in (vol.get("projected") or {}).get("sources") or ():
            for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                if key in source and "name" in source[key]:
                    yield (kind, source[key]["name"]), source[key], "name"
    for c in containers(pod):
        env_list = c.get("env")
        for env in env_list if isinstance(env_list, list) else ():
            ref = env.get("valueFrom") or {}
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if key in ref:
                    yield (kind, ref[key]["name"]), ref[key], "name"
        for source in c.get("envFrom") or ():
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in source:
                    yield (kind, source[key]["name"]), source[key], "name"
    if "serviceAccountName" in pod:
        yield ("ServiceAccount", pod["serviceAccountName"]), pod, "serviceAccountName"

"""values.schema.json: the values' shape, so that Helm rejects a typo before rendering.

Sections c2k writes have fixed keys (`additionalProperties: false`): the top level, each
service, image, service, ingress and its hosts, persistence entries, secrets, global. Maps
Kubernetes defines (resources, securityContext, affinity, labels and annotations...) are open
objects, checked by the API server.
"""

from __future__ import annotations

SERVICE_TYPES = ["", "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
PULL_POLICIES = ["", "Always", "IfNotPresent", "Never"]
_QUANTITY = r"^[0-9]+(\.[0-9]+)?([EPTGMK]i?|[mkMGTPE])?$"
_DIGEST = r"^(|[a-z0-9]+:[0-9a-fA-F]{32,})$"
# a Kubernetes name, or empty (none)
_NAME = r"^(|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$"
_STRING, _OBJECT = {"type": "string"}, {"type": "object"}


def closed(properties: dict, **extra) -> dict:
    return {"type": "object", "additionalProperties": False, "properties": properties, **extra}


IMAGE = closed({"registry": _STRING, "repository": {"type": "string", "minLength": 1},
                "tag": {"type": ["string", "integer", "number"]},
                "digest": {"type": "string", "pattern": _DIGEST},
                "pullPolicy": {"type": "string", "enum": PULL_POLICIES}})
ENV = {"type": "array", "items": {"type": "object", "required": ["name"],
                                  "properties": {"name": {"type": "string", "minLength": 1}}}}
PORTS = {"type": "array", "items": {"type": "object", "required": ["port"]}}
INGRESS = closed({
    "enabled": {"type": "boolean"}, "className": _STRING,
    "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    "hosts": {"type": "array", "items": closed({
        "host": _STRING,
        "paths": {"type": "array", "items": closed({
            "path": _STRING,
            "pathType": {"type": "string", "enum": ["Prefix", "Exact",
                                                     "ImplementationSpecific"]}},
            required=["path", "pathType"])}}, required=["paths"])},
    "tls": {"type": "array", "items": _OBJECT}})
CLAIM = closed({"size": {"type": "string", "pattern": _QUANTITY},
                "storageClass": _STRING, "existingClaim": {"type": "string", "pattern": _NAME}})
ACCOUNT = closed({"create": {"type": "boolean"}, "name": {"type": "string", "pattern": _NAME},
                  "annotations": {"type": "object", "additionalProperties": {"type": "string"}}})
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
KNOWN = {
    "image": IMAGE, "replicaCount": {"type": "integer", "minimum": 0}, "env": ENV,
    "resources": _OBJECT, "securityContext": _OBJECT, "podSecurityContext": _OBJECT,
    "podAnnotations": STRING_MAP, "podLabels": STRING_MAP, "nodeSelector": STRING_MAP,
    "tolerations": {"type": "array", "items": _OBJECT}, "affinity": _OBJECT,
    "serviceAccount": ACCOUNT,
    "service": closed({"type": {"type": "string", "enum": SERVICE_TYPES}, "ports": PORTS}),
    "ingress": INGRESS,
    "autoscaling": closed({"enabled": {"type": "boolean"},
                           "minReplicas": {"type": "integer", "minimum": 1},
                           "maxReplicas": {"type": "integer", "minimum": 1}}),
}
GLOBAL = closed({"imageRegistry": _STRING,
                 "imagePullSecrets": {"type": "array", "items": {"type": "string",
                                                                  "pattern": _NAME}},
                 "storageClass": _STRING})


def _section(section: dict) -> dict:
    props = {}
    for key, value in section.items():
        if key == "persistence":
            props[key] = closed(dict.fromkeys(value, CLAIM))
        elif key == "containers":
            props[key] = closed({k: _section(v) for k, v in value.items()})
        else:
            props[key] = KNOWN[key]
    return closed(props)


def _secrets(chart) -> dict:
    out = {}
    for key, data_keys in chart.secrets.data_keys.items():
        out[key] = closed({"existingSecret": {"type": "string", "pattern": _NAME},
                           "data": closed(dict.fromkeys(data_keys, _STRING))})
    return closed(out)


def schema(chart) -> dict:
    props: dict = {"global": GLOBAL, "nameOverride": _STRING, "fullnameOverride": _STRING,
                   "keepComposeNames": {"type": "boolean"}}
    for key, value in chart.all_values().items():
        if key in props:
            continue
        if key in ("waitImage", "jobWaitImage"):
            props[key] = IMAGE
        elif key == "secrets":
            props[key] = _secrets(chart)
        elif key == "persistence":
            props[key] = closed(dict.fromkeys(value, CLAIM))
        else:
            props[key] = _section(value)
    return {"$schema": "https://json-schema.org/draft-07/schema#",
            "title": f"Values of the {chart.name} chart", **closed(props)}

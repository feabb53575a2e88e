"""The `x-kubernetes` extension: the same hints as the kompose labels, as one structured block.

Users migrating from kompose keep their labels; new projects can write the same hints as one
structured block. When both give a hint, `x-kubernetes` wins. Schema of the service extension
(every key optional; the kompose label it replaces in brackets)::

    services:
      web:
        x-kubernetes:
          name: web-frontend             # object names  [kompose.service.name_override]
          controller: statefulset        # deployment|statefulset|daemonset|replicationcontroller
                                         #               [kompose.controller.type]
          group: frontend                # services sharing a group run in one pod
                                         # [kompose.service.group, which applies only with
                                         #  --service-group-mode label, as in kompose]
          schedule: "*/5 * * * *"        # a CronJob     [kompose.cronjob.schedule]
          concurrencyPolicy: Forbid      # Allow|Forbid|Replace [kompose.cronjob.concurrency_policy]
          backoffLimit: 3                #               [kompose.cronjob.backoff_limit]
          service:
            type: LoadBalancer           # ClusterIP|NodePort|LoadBalancer|Headless
                                         #               [kompose.service.type]
            nodePort: 30080              #               [kompose.service.nodeport.port]
            externalTrafficPolicy: Local #               [kompose.service.external-traffic-policy]
          ingress:
            hosts: [example.com, example.com/api]   # or `true` for a rule without host
                                         #               [kompose.service.expose]
            tlsSecret: example-tls       # or `true`: TLS without a secret name
                                         #               [kompose.service.expose.tls-secret]
            className: nginx             #               [kompose.service.expose.ingress-class-name]
          autoscale: {min: 1, max: 5, cpu: 60, memory: 80}   # utilisation %  [kompose.hpa.*]
          initContainers:                #               [kompose.init.containers.*]
            - {name: init, image: busybox, command: [echo, hi]}
          imagePullPolicy: Always        #               [kompose.image-pull-policy]
          imagePullSecrets: [regcred]    #               [kompose.image-pull-secret]
          serviceAccountName: app        #               [kompose.serviceaccount-name]
          fsGroup: 1000                  #               [kompose.security-context.fsgroup]
          ephemeralStorage: {limit: 1Gi, request: 500Mi}  # [kompose.ephemeral-storage.*]
          volumes: {type: emptyDir, size: 1Gi, storageClassName: fast, subPath: data}
                                         #               [kompose.volume.*]
          readiness: {disable: false, test: [CMD, curl, -f, http://localhost/], interval: 10s,
                      timeout: 2s, retries: 3, startPeriod: 30s,
                      httpGet: {path: /health, port: 8080}, tcpPort: 8080}
                                         #               [kompose.service.healthcheck.readiness.*]
          liveness: {httpGet: {path: /health, port: 8080}, tcpPort: 8080}
                                         #               [kompose.service.healthcheck.liveness.*]
          hostPorts: true                # containerPorts get hostPort [kompose.controller.port.expose]

A top-level volume accepts ``x-kubernetes: {size, storageClassName, accessModes, selector}`` and
the labels ``kompose.volume.size`` / ``kompose.volume.storage-class-name`` /
``kompose.volume.selector``.
"""

from __future__ import annotations

from ..errors import ConversionError
from .values import (
    CONCURRENCY,
    HPA_DEFAULTS,
    PROBE_LABELS,
    PULL_POLICIES,
    SERVICE_TYPES,
    TRAFFIC_POLICIES,
    ProbeHints,
    as_bool,
    as_int,
    choice,
    command,
    controller,
    expose_hosts,
    mapping,
    quantity,
    unknown,
    volume_type,
)


def service_extension(ext, path) -> dict:
    if not isinstance(ext, dict) and not hasattr(ext, "items"):
        raise ConversionError("x-kubernetes must be a mapping", path=path)
    out: dict = {}
    for key, value in ext.items():
        p = path + (key,)
        if key == "name":
            out["name"] = str(value)
        elif key == "controller":
            out["controller"] = controller(value, p)
        elif key == "group":
            out["group"] = str(value)
        elif key == "schedule":
            out["schedule"] = str(value)
        elif key == "concurrencyPolicy":
            out["concurrency_policy"] = choice(value, CONCURRENCY, p)
        elif key == "backoffLimit":
            out["backoff_limit"] = as_int(value, p, low=0)
        elif key == "service":
            for k, v in mapping(value, p).items():
                if k == "type":
                    out["service_type"] = choice(v, SERVICE_TYPES, p + (k,))
                elif k == "nodePort":
                    out["node_port"] = as_int(v, p + (k,), low=1, high=65535)
                elif k == "externalTrafficPolicy":
                    out["external_traffic_policy"] = choice(v, TRAFFIC_POLICIES, p + (k,))
                else:
                    unknown(k, p)
        elif key == "ingress":
            if value is True:
                out["expose"] = (("", "/"),)
                continue
            for k, v in mapping(value, p).items():
                if k == "hosts":
                    out["expose"] = expose_hosts(v, p + (k,))
                elif k == "tlsSecret":
                    out["tls"] = bool(v)
                    if isinstance(v, str) and v.lower() != "true":
                        out["tls_secret"] = v
                elif k == "className":
                    out["ingress_class"] = str(v)
                else:
                    unknown(k, p)
            out.setdefault("expose", (("", "/"),))
        elif key == "autoscale":
            hpa = dict(HPA_DEFAULTS)
            for k, v in mapping(value, p).items():
                if k not in hpa:
                    unknown(k, p)
                hpa[k] = as_int(v, p + (k,), low=0)
            out["hpa"] = hpa
        elif key == "initContainers":
            if not isinstance(value, (list, tuple)):
                raise ConversionError("initContainers must be a list", path=p)
            items = []
            for i, item in enumerate(value):
                item = mapping(item, p + (i,))
                if "image" not in item:
                    raise ConversionError("an init container needs an image", path=p + (i,))
                items.append({"name": str(item.get("name", f"init-{i + 1}")),
                              "image": str(item["image"]),
                              "command": command(item.get("command", ()), p + (i, "command"))})
            out["init_containers"] = tuple(items)
        elif key == "imagePullPolicy":
            out["image_pull_policy"] = choice(value, PULL_POLICIES, p)
        elif key == "imagePullSecrets":
            items = value if isinstance(value, (list, tuple)) else [value]
            out["image_pull_secrets"] = tuple(str(v) for v in items)
        elif key == "serviceAccountName":
            out["service_account"] = str(value)
        elif key == "fsGroup":
            out["fs_group"] = as_int(value, p, low=0)
        elif key == "ephemeralStorage":
            for k, v in mapping(value, p).items():
                if k in ("limit", "request"):
                    out[f"ephemeral_{k}"] = quantity(v, p + (k,))
                else:
                    unknown(k, p)
        elif key == "volumes":
            for k, v in mapping(value, p).items():
                if k == "type":
                    out["volume_type"] = volume_type(v, p + (k,))
                elif k == "size":
                    out["volume_size"] = quantity(v, p + (k,))
                elif k == "storageClassName":
                    out["storage_class"] = str(v)
                elif k == "subPath":
                    out["volume_subpath"] = str(v)
                else:
                    unknown(k, p)
        elif key in ("readiness", "liveness"):
            out[key] = _probe_extension(value, p)
        elif key == "hostPorts":
            out["host_ports"] = as_bool(value, p)
        else:
            unknown(key, path)
    return out


def _probe_extension(value, path) -> ProbeHints:
    fields: dict = {}
    names = {"disable": "disable", "test": "test", "interval": "interval", "timeout": "timeout",
             "retries": "retries", "startPeriod": "start_period", "tcpPort": "tcp_port"}
    for k, v in mapping(value, path).items():
        if k == "httpGet":
            get = mapping(v, path + (k,))
            fields["http_get_path"] = str(get.get("path", "/"))
            if "port" in get:
                fields["http_get_port"] = as_int(get["port"], path + (k, "port"), low=1,
                                               high=65535)
        elif k in names:
            label = names[k]
            fields[label] = PROBE_LABELS[label][1](v, path + (k,))
        else:
            unknown(k, path)
    return ProbeHints(**fields)


def volume_hints(volume) -> dict:
    """size / storage_class / access_modes / selector for a top-level named volume."""
    out: dict = {}
    path = ("volumes", volume.name)
    labels = volume.labels
    if "kompose.volume.size" in labels:
        out["size"] = quantity(labels["kompose.volume.size"], path + ("labels",))
    if "kompose.volume.storage-class-name" in labels:
        out["storage_class"] = str(labels["kompose.volume.storage-class-name"])
    if "kompose.volume.selector" in labels:
        out["selector"] = str(labels["kompose.volume.selector"])
    ext = volume.extensions.get("x-kubernetes")
    if ext is not None:
        p = path + ("x-kubernetes",)
        for k, v in mapping(ext, p).items():
            if k == "size":
                out["size"] = quantity(v, p + (k,))
            elif k == "storageClassName":
                out["storage_class"] = str(v)
            elif k == "accessModes":
                modes = v if isinstance(v, (list, tuple)) else [v]
                allowed = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
                for mode in modes:
                    if mode not in allowed:
                        raise ConversionError(f"unknown access mode {mode!r}", path=p + (k,),
                                              hint="use one of: " + ", ".join(allowed))
                out["access_modes"] = tuple(str(m) for m in modes)
            elif k == "selector":
                out["selector"] = str(v)
            else:
                unknown(k, p)
    return out

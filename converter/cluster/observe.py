"""The compose verbs that look at a deployed project: events, port, logs, top."""

from __future__ import annotations

import json

from ..errors import ClusterError
from .applyset import ApplySet
from .retry import call, is_not_found
from .verbs import NAME, pod_selector, pods_of, select, service_of


# ---- events, port, logs, top -----------------------------------------------------------------

def events(conn, project: str) -> list[dict]:
    """The namespace's events about the project's objects and pods, oldest first, as
    docker compose events --json objects."""
    owners: dict[str, str] = {}
    applyset = ApplySet(conn, project, conn.namespace)
    parent = applyset.fetch_parent()
    if parent is None:
        raise ClusterError(f"project {project} is not deployed in namespace {conn.namespace}")
    for _, obj in applyset.members(applyset.group_kinds(parent)):
        owners[obj["metadata"]["name"]] = service_of(obj)
    for _, obj in select(conn, project):
        for pod in pods_of(conn, obj):
            owners[pod["metadata"]["name"]] = service_of(obj)
        if obj["kind"] == "Deployment":
            listed = call(conn.resource("apps/v1", "ReplicaSet").get, namespace=conn.namespace,
                          label_selector=pod_selector(obj), what="listing replica sets")
            for rs in listed.get("items") or []:
                owners[rs["metadata"]["name"]] = service_of(obj)
    listed = call(conn.resource("v1", "Event").get, namespace=conn.namespace,
                  what="listing events")
    out = []
    for event in listed.get("items") or []:
        involved = event.get("involvedObject") or {}
        name = involved.get("name", "")
        service = owners.get(name)
        if service is None and involved.get("kind") == "Pod":
            # a pod that is gone: <replicaset|job|statefulset>-<suffix>
            service = owners.get(name.rsplit("-", 1)[0])
        if service is None:
            continue
        when = event.get("lastTimestamp") or event.get("eventTime") or \
            event.get("firstTimestamp") or event["metadata"].get("creationTimestamp")
        out.append({"time": when, "type": (involved.get("kind") or "").lower(),
                    "action": event.get("reason", ""), "id": involved.get("uid", ""),
                    "service": service,
                    "attributes": {"name": involved.get("name", ""),
                                   "namespace": conn.namespace,
                                   "level": event.get("type", ""),
                                   "message": (event.get("message") or "").strip(),
                                   "count": str(event.get("count") or 1)}})
    out.sort(key=lambda e: (str(e["time"]), e["attributes"]["name"]))
    return out


def event_line(event: dict) -> str:
    a = event["attributes"]
    return (f"{event['time']} {event['type']} {event['action']} {a['name']} "
            f"(service={event['service']}): {a['message']}")


def port(conn, project: str, service: str, number: int, protocol: str = "TCP") -> dict:
    """How to reach a service's port: the in-cluster address, and node/load balancer ones."""
    label = service_of(select(conn, project, [service])[0][1])
    services = call(conn.resource("v1", "Service").get, namespace=conn.namespace,
                    label_selector=f"{NAME}={label}", what="listing services")
    for svc in services.get("items") or []:
        ports = [p for p in (svc.get("spec") or {}).get("ports") or []
                 if p.get("protocol", "TCP") == protocol.upper()
                 and number in (p.get("port"), p.get("targetPort"))]
        if not ports:
            continue
        # the published port of container port `number` first, as docker compose port answers
        p = min(ports, key=lambda p: (p.get("targetPort") != number, p.get("port") == number))
        name = svc["metadata"]["name"]
        out = {"cluster": f"{name}.{conn.namespace}.svc.cluster.local:{p['port']}",
               "service": name, "port": p["port"],
               "forward": f"kubectl port-forward -n {conn.namespace} svc/{name} "
                          f"{p['port']}:{p['port']}"}
        if p.get("nodePort"):
            out["node_port"] = p["nodePort"]
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")
        if ingress:
            host = ingress[0].get("ip") or ingress[0].get("hostname")
            out["external"] = f"{host}:{p['port']}"
        return out
    raise ClusterError(f"service {service!r} does not publish port {number}/{protocol.lower()}",
                       hint="only ports and expose of the compose file become Service ports")


def logs(conn, project: str, services=(), tail: int | None = None,
         timestamps: bool = False) -> tuple[list[str], list[str]]:
    """(lines prefixed by pod/container, problems): every container of every pod."""
    lines, problems = [], []
    for pod, container, prefix in _containers(conn, project, services):
        kwargs = {"container": container}
        if tail is not None:
            kwargs["tailLines"] = tail
        if timestamps:
            kwargs["timestamps"] = True
        try:
            text = _read_log(conn, pod, kwargs, what=f"{prefix}: logs unavailable")
        except ClusterError as exc:
            problems.append(exc.message)
            continue
        except Exception as exc:
            if is_not_found(exc):
                problems.append(f"{prefix}: the pod is gone")
                continue
            raise
        for line in text.splitlines():
            lines.append(f"{prefix} | {line}")
    return lines, problems


def _containers(conn, project: str, services):
    """(pod name, container name, log prefix) for every container of every pod of the
    selected services; the prefix names the container only when the pod has several."""
    for _, obj in select(conn, project, services):
        for pod in pods_of(conn, obj):
            name = pod["metadata"]["name"]
            containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
            for container in containers:
                yield name, container, name + (f"/{container}" if len(containers) > 1 else "")


def _read_log(conn, pod: str, params: dict, *, what: str) -> str:
    from kubernetes import client
    core = client.CoreV1Api(conn.api)
    kwargs = {"container": params["container"], "_request_timeout": 20}
    if "tailLines" in params:
        kwargs["tail_lines"] = params["tailLines"]
    if params.get("timestamps"):
        kwargs["timestamps"] = True
    return call(core.read_namespaced_pod_log, pod, conn.namespace, what=what, attempts=2,
                **kwargs)


def top(conn, project: str, services=()) -> list[dict]:
    """CPU and memory per container: from the metrics API (metrics.k8s.io) when the cluster
    has one, else from the stats summary of the kubelets that run the pods."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
    try:
        metrics = conn.dynamic.resources.get(api_version="metrics.k8s.io/v1beta1",
                                             kind="PodMetrics")
    except (ResourceNotFoundError, Exception) as exc:
        if isinstance(exc, ResourceNotFoundError) or getattr(exc, "status", None) == 404:
            return _top_from_kubelets(conn, project, services)
        raise
    rows = []
    for _, obj in select(conn, project, services):
        selector = pod_selector(obj)
        listed = call(metrics.get, namespace=conn.namespace, label_selector=selector,
                      what="reading pod metrics")
        for item in listed.get("items") or []:
            for c in item.get("containers") or []:
                rows.append({"service": service_of(obj), "name": item["metadata"]["name"],
                             "container": c.get("name"), "cpu": c["usage"].get("cpu"),
                             "memory": c["usage"].get("memory")})
    return rows


def _top_from_kubelets(conn, project: str, services) -> list[dict]:
    """top without a metrics API: each node's /stats/summary, through the API server."""
    pods = [(service_of(obj), pod) for _, obj in select(conn, project, services)
            for pod in pods_of(conn, obj)
            if (pod.get("status") or {}).get("phase") == "Running"]
    summaries: dict[str, dict] = {}
    rows = []
    for service, pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node not in summaries:
            summaries[node] = _stats_summary(conn, node)
        name = pod["metadata"]["name"]
        for stats in summaries[node].get("pods") or []:
            ref = stats.get("podRef") or {}
            if (ref.get("name"), ref.get("namespace")) != (name, conn.namespace):
                continue
            for c in sorted(stats.get("containers") or [], key=lambda c: c.get("name", "")):
                cpu = (c.get("cpu") or {}).get("usageNanoCores")
                memory = (c.get("memory") or {}).get("workingSetBytes")
                rows.append({"service": service, "name": name, "container": c.get("name"),
                             "cpu": "-" if cpu is None else f"{round(cpu / 1e6)}m",
                             "memory": "-" if memory is None else f"{memory // 2**20}Mi"})
    return rows


def _stats_summary(conn, node: str) -> dict:
    from kubernetes import client
    core = client.CoreV1Api(conn.api)
    try:
        response = call(core.connect_get_node_proxy_with_path, node, "stats/summary",
                        _preload_content=False, _request_timeout=20,
                        what=f"reading the stats of node {node}", attempts=2)
        return json.loads(response.data)
    except (ClusterError, ValueError) as exc:
        detail = exc.message if isinstance(exc, ClusterError) else "not JSON"
        raise ClusterError(f"no CPU and memory figures: the cluster has no metrics API "
                           f"(metrics.k8s.io) and node {node} serves no stats ({detail})",
                           hint="install metrics-server; simulated (kwok) nodes have no "
                                "stats") from None


def dumps(event: dict) -> str:
    return json.dumps(event, sort_keys=False)


def follow_logs(conn, project: str, services=(), tail: int | None = None,
                timestamps: bool = False, *, emit, problem, open_stream=None) -> int:
    """`logs --follow`: stream every container of every pod at once, each line prefixed by its
    pod (and container), until the streams end (pods gone) or the user presses Ctrl-C.
    Returns how many streams could be opened."""
    import threading
    opener = open_stream or _open_log_stream
    lock = threading.Lock()
    threads = []
    opened = 0
    for pod, container, prefix in _containers(conn, project, services):
        what = f"{prefix}: logs unavailable"
        try:
            stream = opener(conn, pod, container, tail, timestamps, what=what)
        except Exception as exc:  # noqa: BLE001 - reported per container
            problem(exc.message if isinstance(exc, ClusterError) else f"{what}: {exc}")
            continue
        opened += 1

        def pump(stream=stream, prefix=prefix):
            for line in stream:
                with lock:
                    emit(f"{prefix} | {line}")
        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return opened


def _open_log_stream(conn, pod: str, container: str, tail, timestamps, *, what: str):
    """An iterator of decoded lines of one container's log, following it."""
    from kubernetes import client
    core = client.CoreV1Api(conn.api)
    kwargs = {"container": container, "follow": True, "_preload_content": False}
    if tail is not None:
        kwargs["tail_lines"] = tail
    if timestamps:
        kwargs["timestamps"] = True
    response = call(core.read_namespaced_pod_log, pod, conn.namespace, what=what, attempts=2,
                    **kwargs)

    def lines():
        buffer = b""
        try:
            for chunk in response.stream(4096):
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                for line in complete:
                    yield line.decode("utf-8", "replace")
            if buffer:
                yield buffer.decode("utf-8", "replace")
        finally:
            response.release_conn()
    return lines()

"""The test cluster's real node (tests/cluster/node): real containers from the local registry,
their logs and exec, Services by name through CoreDNS and kube-proxy, the API server from a pod
with its ServiceAccount token, claims whose data is on this machine's disk and shared, and no
way off the machine."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from cluster_util import delete_namespace, get_json, kubectl, real_namespace_name, wait_until
from conftest_cluster import real_node_name

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]

BUSYBOX = "busybox:latest"          # .ci/docker-up's busybox, served by the local registry
PYTHON = "python:3.6"               # .ci/images/python: Debian 12's Python
# Debian's busybox 1.35 wget crashes with -T; bound it with the timeout applet instead.
WGET = "busybox timeout 5 busybox wget -qO-"


@pytest.fixture(scope="module")
def ns(real_node):
    name = real_namespace_name()
    kubectl(real_node, "create", "namespace", name)
    wait_until(lambda: kubectl(real_node, "-n", name, "get", "sa", "default",
                               check=False).returncode == 0)
    yield real_node, name
    delete_namespace(real_node, name)


def apply(ns, text: str) -> None:
    kubeconfig, name = ns
    kubectl(kubeconfig, "-n", name, "apply", "-f", "-", stdin=textwrap.dedent(text))


def kc(ns, *args, check=True):
    kubeconfig, name = ns
    return kubectl(kubeconfig, "-n", name, *args, check=check)


def sh(ns, pod: str, script: str, check=True):
    return kc(ns, "exec", pod, "--", "sh", "-c", script, check=check)


def pod(name: str, image: str, script: str, claim: str = "") -> str:
    """A pod running script with sh; with claim, the claim is mounted at /data."""
    volume = f"""
        volumeMounts: [{{name: data, mountPath: /data}}]
      volumes: [{{name: data, persistentVolumeClaim: {{claimName: {claim}}}}}]""" if claim else ""
    return f"""
    apiVersion: v1
    kind: Pod
    metadata: {{name: {name}, labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: {image}
        command: [sh, -c, {json.dumps(script)}]{volume}
    """


@pytest.fixture(scope="module")
def client(ns):
    apply(ns, pod("client", BUSYBOX, "echo hello-from-a-real-container; exec sleep 3600"))
    kc(ns, "wait", "--for=condition=Ready", "pod/client", "--timeout=120s")
    return "client"


def test_pods_run_on_the_real_node_with_logs_and_exec(ns, client):
    live = get_json(ns[0], "pod", client, "-n", ns[1])
    assert live["spec"]["nodeName"] == real_node_name()
    assert live["status"]["podIP"].startswith("10.244.0.")
    assert kc(ns, "logs", client).stdout == "hello-from-a-real-container\n"
    assert sh(ns, client, "echo exec-$((6*7))").stdout == "exec-42\n"
    failed = sh(ns, client, "exit 3", check=False)
    assert failed.returncode == 3


def test_services_by_name_through_dns_and_kube_proxy(ns, client):
    apply(ns, """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: httpd
            image: busybox:latest
            command: [sh, -c, 'mkdir -p /www && busybox hostname > /www/index.html && exec busybox httpd -f -p 8080 -h /www']
            readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
    """)
    kc(ns, "rollout", "status", "deployment/web", "--timeout=120s")
    names = {sh(ns, client, f"{WGET} http://web/").stdout.strip() for _ in range(10)}
    assert len(names) == 2 and all(n.startswith("web-") for n in names), names
    fqdn = f"web.{ns[1]}.svc.cluster.local"
    assert sh(ns, client, f"{WGET} http://{fqdn}/").stdout.strip() in names
    # CoreDNS answers the cluster's names and nothing else: no query leaves the machine.
    outside = sh(ns, client, "busybox nslookup example.com", check=False)
    assert outside.returncode != 0 and "NXDOMAIN" in outside.stdout + outside.stderr


def test_pods_have_no_route_off_the_machine(ns, client):
    routes = sh(ns, client, "cat /proc/net/route").stdout.splitlines()[1:]
    destinations = {line.split()[1] for line in routes}
    assert "00000000" not in destinations, routes     # no default route


def test_pods_reach_the_api_server_with_their_token(ns):
    script = textwrap.dedent("""
        import json, ssl, urllib.error, urllib.request
        sa = "/var/run/secrets/kubernetes.io/serviceaccount/"
        ctx = ssl.create_default_context(cafile=sa + "ca.crt")
        req = urllib.request.Request(
            "https://kubernetes.default.svc/apis/authentication.k8s.io/v1/selfsubjectreviews",
            data=b'{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
            headers={"Authorization": "Bearer " + open(sa + "token").read(),
                     "Content-Type": "application/json"}, method="POST")
        print(json.load(urllib.request.urlopen(req, context=ctx))["status"]["userInfo"]["username"])
    """)
    apply(ns, f"""
    apiVersion: v1
    kind: Pod
    metadata: {{name: whoami}}
    spec:
      restartPolicy: Never
      containers:
      - {{name: main, image: {PYTHON}, command: [python3, -c, {json.dumps(script)}]}}
    """)
    kc(ns, "wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/whoami", "--timeout=120s")
    assert kc(ns, "logs", "whoami").stdout.strip() == f"system:serviceaccount:{ns[1]}:default"


def test_a_shared_claim_is_on_this_machines_disk(ns):
    apply(ns, """
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {name: shared}
    spec:
      accessModes: [ReadWriteMany]
      resources: {requests: {storage: 10Mi}}
    """)
    for name in ("writer", "reader"):
        apply(ns, pod(name, BUSYBOX, "exec sleep 3600", claim="shared"))
    for name in ("writer", "reader"):
        kc(ns, "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s")
    sh(ns, "writer", "echo written-by-writer > /data/note")
    assert sh(ns, "reader", "cat /data/note").stdout == "written-by-writer\n"
    pv = get_json(ns[0], "pv", get_json(ns[0], "pvc", "shared", "-n", ns[1])["spec"]["volumeName"])
    on_disk = Path(pv["spec"]["hostPath"]["path"]) / "note"
    assert on_disk.read_text() == "written-by-writer\n"
    on_disk.write_text("written-on-the-host\n")
    assert sh(ns, "reader", "cat /data/note").stdout == "written-on-the-host\n"


def test_node_stats_are_served(ns, client):
    summary = json.loads(kubectl(ns[0], "get", "--raw",
                                 f"/api/v1/nodes/{real_node_name()}/proxy/stats/summary").stdout)
    pods = {p["podRef"]["name"]: p for p in summary["pods"] if p["podRef"]["namespace"] == ns[1]}
    assert pods[client]["containers"][0]["memory"]["workingSetBytes"] > 0


def test_the_bridge_and_rules_are_the_nodes_own():
    out = subprocess.run(["iptables", "-w", "-S", "FORWARD"], capture_output=True, text=True)
    assert "c2k-real-node" in out.stdout
    assert Path("/sys/class/net/c2k0/bridge").is_dir()


def test_the_bridge_keeps_its_mac_as_ports_come_and_go():
    # Pods cache the node IP's MAC (their DNS server): a bridge that followed its lowest port's
    # MAC, as Linux bridges do unless one is set, would cut them off the node for seconds each
    # time a pod with the lowest MAC went away. 02:00:00:00:00:00 is below any random MAC.
    address = Path("/sys/class/net/c2k0/address")
    before = address.read_text()
    ip = ["ip", "link"]
    subprocess.run([*ip, "add", "c2ktest0", "address", "02:00:00:00:00:00", "type", "veth",
                    "peer", "name", "c2ktest1"], check=True)
    try:
        subprocess.run([*ip, "set", "c2ktest0", "master", "c2k0", "up"], check=True)
        during = address.read_text()
    finally:
        subprocess.run([*ip, "del", "c2ktest0"], check=True)
    assert (before, during) == (address.read_text(),) * 2

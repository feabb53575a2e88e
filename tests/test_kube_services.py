"""Services, Ingress, NetworkPolicies and depends_on waits."""

import pytest

from converter.model import Dependency, Healthcheck, NetworkAttachment, Port

from kube_fixtures import container, convert, find, kinds, pod, project, statuses, svc


def test_ports_become_a_clusterip_service():
    objs, report = convert(project(svc("web", ports=(
        Port(target=80, published="8080"), Port(target=443), Port(target=53, protocol="udp",
                                                                  published="5353")))))
    spec = find(objs, "Service", "web")["spec"]
    assert "type" not in spec
    # the container ports as themselves (web:80 as on a compose network), then the published
    # ports that differ, forwarding to their target
    assert spec["ports"] == [{"name": "80", "port": 80, "targetPort": 80},
                             {"name": "443", "port": 443, "targetPort": 443},
                             {"name": "53-udp", "port": 53, "targetPort": 53,
                              "protocol": "UDP"},
                             {"name": "8080", "port": 8080, "targetPort": 80},
                             {"name": "5353-udp", "port": 5353, "targetPort": 53,
                              "protocol": "UDP"}]
    assert container(find(objs, "Deployment"))["ports"] == [
        {"containerPort": 80}, {"containerPort": 443}, {"containerPort": 53, "protocol": "UDP"}]
    assert "approximated" in statuses(report, "web", "ports")


def test_same_port_tcp_and_udp_and_unique_names():
    objs, _ = convert(project(svc("dns", ports=(Port(target=53, published="53"),
                                                Port(target=53, published="53", protocol="udp"),
                                                Port(target=53, published="53",
                                                     host_ip="127.0.0.1")))))
    ports = find(objs, "Service", "dns")["spec"]["ports"]
    assert [p["name"] for p in ports] == ["53", "53-udp"]


def test_published_range_and_host_ip_are_reported():
    objs, report = convert(project(svc("web", ports=(
        Port(target=80, published="8000-8010"), Port(target=81, host_ip="127.0.0.1")))))
    assert [(p["port"], p["targetPort"]) for p in find(objs, "Service")["spec"]["ports"]] == [
        (80, 80), (81, 81), (8000, 80)]
    assert "approximated" in statuses(report, "web", "ports[0]")
    assert "approximated" in statuses(report, "web", "ports[1]")


def test_expose_adds_ports_and_ranges_expand():
    objs, report = convert(project(svc("web", ports=(Port(target=80, published="80"),),
                                       expose=("80", "9000-9002", "7000/udp"))))
    ports = find(objs, "Service")["spec"]["ports"]
    assert [(p["port"], p.get("protocol", "TCP")) for p in ports] == [
        (80, "TCP"), (9000, "TCP"), (9001, "TCP"), (9002, "TCP"), (7000, "UDP")]
    assert "mapped" in statuses(report, "web", "expose")


def test_named_port_and_app_protocol():
    objs, _ = convert(project(svc("web", ports=(Port(target=80, name="HTTP",
                                                     app_protocol="http"),))))
    assert find(objs, "Service")["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 80, "appProtocol": "http"}]


def test_every_service_gets_a_service_headless_without_ports():
    objs, report = convert(project(svc("worker"), svc("migrate", restart="no")))
    for name in ("worker", "migrate"):
        spec = find(objs, "Service", name)["spec"]
        assert spec["clusterIP"] == "None" and "ports" not in spec
        assert spec["selector"]["app.kubernetes.io/name"] == name
    assert find(objs, "Job", "migrate")
    assert "warning" not in statuses(report, "worker", "name")


def test_linked_service_gets_headless_service_and_link_alias():
    objs, report = convert(project(svc("db", expose=("5432",)), svc("web", links=("db:database",))))
    alias = find(objs, "Service", "database")
    assert alias["spec"]["selector"]["app.kubernetes.io/name"] == "db"
    assert alias["spec"]["ports"][0]["port"] == 5432
    assert "mapped" in statuses(report, "web", "links")


def test_network_aliases_get_services():
    objs, _ = convert(project(svc("db", expose=("5432",), networks={
        "back": NetworkAttachment(aliases=("postgres", "db", "Bad_Alias"))})))
    assert ("Service", "postgres") in kinds(objs)
    assert ("Service", "bad-alias") not in kinds(objs)


@pytest.mark.parametrize("value, expected", [("nodeport", "NodePort"),
                                             ("LoadBalancer", "LoadBalancer")])
def test_service_type_labels(value, expected):
    objs, report = convert(project(svc("web", ports=(Port(target=80, published="80"),), labels={
        "kompose.service.type": value, "kompose.service.external-traffic-policy": "local"})))
    spec = find(objs, "Service")["spec"]
    assert spec["type"] == expected and spec["externalTrafficPolicy"] == "Local"
    assert "approximated" not in statuses(report, "web", "ports")


def test_headless_type_and_nodeport_port():
    objs, _ = convert(project(svc("web", expose=("80",), labels={
        "kompose.service.type": "headless"})))
    assert find(objs, "Service")["spec"]["clusterIP"] == "None"
    objs, _ = convert(project(svc("web", ports=(Port(target=80),), extensions={
        "x-kubernetes": {"service": {"type": "NodePort", "nodePort": 30080}}})))
    assert find(objs, "Service")["spec"]["ports"][0]["nodePort"] == 30080


def test_nodeport_needs_single_port():
    _, report = convert(project(svc("web", ports=(Port(target=80), Port(target=81)), labels={
        "kompose.service.type": "nodeport", "kompose.service.nodeport.port": "30080"})))
    assert "not-converted" in statuses(report, "web", "labels.kompose.service.nodeport.port")


def test_host_ports_with_controller_port_expose():
    objs, _ = convert(project(svc("web", ports=(Port(target=80, published="8080"),), labels={
        "kompose.controller.port.expose": "true"})))
    assert container(find(objs, "Deployment"))["ports"] == [{"containerPort": 80,
                                                             "hostPort": 8080}]


def test_ingress_from_expose_labels():
    objs, report = convert(project(svc("web", ports=(Port(target=80, published="8080"),), labels={
        "kompose.service.expose": "example.com,example.com/api,other.org",
        "kompose.service.expose.tls-secret": "web-tls",
        "kompose.service.expose.ingress-class-name": "nginx"})))
    spec = find(objs, "Ingress", "web")["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": ["example.com", "other.org"], "secretName": "web-tls"}]
    assert [r["host"] for r in spec["rules"]] == ["example.com", "other.org"]
    paths = spec["rules"][0]["http"]["paths"]
    assert [p["path"] for p in paths] == ["/", "/api"]
    assert paths[0]["backend"] == {"service": {"name": "web", "port": {"number": 80}}}


def test_ingress_true_and_tls_without_secret():
    objs, _ = convert(project(svc("web", expose=("80",), labels={
        "kompose.service.expose": "true", "kompose.service.expose.tls-secret": "true"})))
    spec = find(objs, "Ingress")["spec"]
    assert "host" not in spec["rules"][0] and spec["tls"] == [{}]


def test_ingress_without_ports_is_reported():
    objs, report = convert(project(svc("web", labels={"kompose.service.expose": "true"})))
    assert not [o for o in objs if o["kind"] == "Ingress"]
    assert "not-converted" in statuses(report, "web", "labels.kompose.service.expose")


def test_network_policies_per_network():
    proj = project(svc("web", ports=(Port(target=80, published="80"),),
                       networks={"front": None, "back": None}),
                   svc("db", networks={"back": None}), svc("lone"))
    objs, report = convert(proj, generate_network_policies=True)
    assert [n for k, n in kinds(objs) if k == "NetworkPolicy"] == [
        "demo-back", "demo-default", "demo-front", "web-published"]
    back = find(objs, "NetworkPolicy", "demo-back")["spec"]
    assert back["podSelector"] == {"matchLabels": {"network.c2k.io/back": "true"}}
    assert back["ingress"] == [{"from": [{"podSelector": back["podSelector"]}]}]
    web_labels = find(objs, "Deployment", "web")["spec"]["template"]["metadata"]["labels"]
    assert web_labels["network.c2k.io/front"] == "true"
    assert web_labels["network.c2k.io/back"] == "true"
    published = find(objs, "NetworkPolicy", "web-published")["spec"]
    assert published["ingress"] == [{"ports": [{"port": 80}]}]
    objs, report = convert(proj)
    assert not [o for o in objs if o["kind"] == "NetworkPolicy"]
    assert "approximated" in statuses(report, "web", "networks")


def test_depends_on_waits_with_init_container():
    proj = project(svc("db", expose=("5432",), healthcheck=Healthcheck(test=("CMD", "true"))),
                   svc("cache", expose=("6379",)),
                   svc("web", depends_on={"db": Dependency(condition="service_healthy"),
                                          "cache": Dependency()}))
    objs, report = convert(proj)
    init = pod(find(objs, "Deployment", "web"))["initContainers"]
    assert [c["name"] for c in init] == ["wait-for-cache", "wait-for-db"]
    assert init[1]["image"] == "busybox:1.36"
    assert init[1]["command"] == ["sh", "-c", "until nc -z -w 2 db 5432; do echo waiting for "
                                              "db:5432; sleep 2; done"]
    assert "mapped" in statuses(report, "web", "depends_on.db")


def test_depends_on_completed_successfully_waits_for_the_job_through_the_api():
    proj = project(svc("migrate", restart="no"), svc("web", depends_on={
        "migrate": Dependency(condition="service_completed_successfully", restart=True)}))
    objs, report = convert(proj, job_wait_image="reg.local/curl:1")
    web = pod(find(objs, "Deployment", "web"))
    [wait] = web["initContainers"]
    assert wait["name"] == "wait-for-migrate-job" and wait["image"] == "reg.local/curl:1"
    assert "/apis/batch/v1/namespaces/`cat $d/namespace`/jobs/migrate" in wait["command"][2]
    assert "mapped" in statuses(report, "web", "depends_on.migrate")
    assert "not-converted" in statuses(report, "web", "depends_on.migrate.restart")


def test_depends_on_headless_waits_for_dns():
    objs, _ = convert(project(svc("db"), svc("web", depends_on={"db": Dependency()})))
    init = pod(find(objs, "Deployment", "web"))["initContainers"]
    assert "nslookup db" in init[0]["command"][2]

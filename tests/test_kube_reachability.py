"""Every service is reachable by name on its container's ports, as on a compose network
(issue 18, item 1): Service ports, headless Services, published ports, kompose's Service types,
aliases and container names."""

import pytest

from converter.model import Dependency, NetworkAttachment, Port

from kube_fixtures import convert, find, kinds, project, statuses, svc


def ports_of(objs, name):
    return [(p["port"], p["targetPort"], p.get("protocol", "TCP"))
            for p in find(objs, "Service", name)["spec"]["ports"]]


def test_minio_repro_container_port_reachable_and_published_port_kept():
    objs, report = convert(project(
        svc("minio", image="minio/minio", ports=(Port(target=9000, published="9090"),)),
        svc("app", environment={"S3_ENDPOINT": "http://minio:9000"})))
    spec = find(objs, "Service", "minio")["spec"]
    assert "clusterIP" not in spec and "type" not in spec
    assert spec["ports"] == [{"name": "9000", "port": 9000, "targetPort": 9000},
                             {"name": "9090", "port": 9090, "targetPort": 9000}]
    assert "Service ports 9000, 9090 (to 9000)" in [
        e.detail for e in report.of("service", "minio") if e.key == "ports"]
    assert not [e for e in report.of("service", "app") if "wiring" in e.detail]


def test_cache_repro_portless_service_gets_a_headless_service():
    objs, report = convert(project(svc("web", environment={"REDIS_URL": "redis://cache:6379"}),
                                   svc("cache", image="redis")))
    spec = find(objs, "Service", "cache")["spec"]
    assert spec == {"clusterIP": "None", "selector": {
        "app.kubernetes.io/name": "cache", "app.kubernetes.io/instance": "demo"}}
    assert "mapped" in statuses(report, "cache", "name")
    # web is a Service too, though nobody names it
    assert find(objs, "Service", "web")["spec"]["clusterIP"] == "None"


def test_jobs_and_cronjobs_are_reachable_too():
    objs, _ = convert(project(
        svc("seed", restart="no"),
        svc("probe", restart="no", labels={"kompose.cronjob.schedule": "* * * * *"}),
        svc("task", restart="no", ports=(Port(target=7000),)),
        svc("api", depends_on={"seed": Dependency(
            condition="service_completed_successfully")})))
    assert ("Job", "seed") in kinds(objs) and ("CronJob", "probe") in kinds(objs)
    assert find(objs, "Service", "seed")["spec"]["clusterIP"] == "None"
    assert find(objs, "Service", "probe")["spec"]["clusterIP"] == "None"
    # ports make `task` a server in spite of restart: "no"; its Service forwards 7000
    assert ports_of(objs, "task") == [(7000, 7000, "TCP")]


def test_every_container_port_once_then_every_published_port_that_differs():
    objs, report = convert(project(svc("web", ports=(
        Port(target=80, published="80"), Port(target=80, published="8080"),
        Port(target=80, published="8081"), Port(target=443),
        Port(target=53, published="5353", protocol="udp")), expose=("9000", "443"))))
    assert ports_of(objs, "web") == [
        (80, 80, "TCP"), (443, 443, "TCP"), (53, 53, "UDP"), (9000, 9000, "TCP"),
        (8080, 80, "TCP"), (8081, 80, "TCP"), (5353, 53, "UDP")]
    assert not [e for e in report.of("service", "web") if e.status == "not-converted"]


def test_published_port_that_is_another_container_port_is_reported():
    objs, report = convert(project(svc("web", ports=(
        Port(target=80, published="8080"), Port(target=8080, published="80")))))
    # inside the cluster web:8080 is the container's 8080 and web:80 its 80, as in compose
    assert ports_of(objs, "web") == [(80, 80, "TCP"), (8080, 8080, "TCP")]
    details = [e.detail for e in report.of("service", "web") if e.status == "approximated"]
    assert any("published port 8080 is also a container port" in d for d in details)
    assert any("published port 80 is also a container port" in d for d in details)


@pytest.mark.parametrize("label, kind", [("nodeport", "NodePort"),
                                         ("loadbalancer", "LoadBalancer")])
def test_kompose_service_types_keep_working(label, kind):
    objs, report = convert(project(svc("minio", ports=(Port(target=9000, published="9090"),),
                                       labels={"kompose.service.type": label})))
    spec = find(objs, "Service", "minio")["spec"]
    assert spec["type"] == kind
    assert [(p["port"], p["targetPort"]) for p in spec["ports"]] == [(9000, 9000), (9090, 9000)]
    assert "approximated" not in statuses(report, "minio", "ports")


def test_fixed_node_port_goes_to_the_published_port():
    objs, report = convert(project(svc("minio", ports=(Port(target=9000, published="9090"),),
                                       labels={"kompose.service.type": "nodeport",
                                               "kompose.service.nodeport.port": "30090"})))
    ports = find(objs, "Service", "minio")["spec"]["ports"]
    assert ports == [{"name": "9000", "port": 9000, "targetPort": 9000},
                     {"name": "9090", "port": 9090, "targetPort": 9000, "nodePort": 30090}]
    assert "mapped" in statuses(report, "minio", "labels.kompose.service.nodeport.port")
    # with no published port, a single container port takes it (kompose's case)
    objs, _ = convert(project(svc("web", expose=("80",), labels={
        "kompose.service.type": "nodeport", "kompose.service.nodeport.port": "30080"})))
    assert find(objs, "Service", "web")["spec"]["ports"][0]["nodePort"] == 30080
    # two published ports: which one is meant is unknown
    _, report = convert(project(svc("web", ports=(
        Port(target=80, published="8080"), Port(target=443, published="8443")), labels={
        "kompose.service.type": "nodeport", "kompose.service.nodeport.port": "30080"})))
    assert "not-converted" in statuses(report, "web", "labels.kompose.service.nodeport.port")


def test_headless_label_keeps_container_ports_and_reports_published_ones():
    objs, report = convert(project(svc("minio", ports=(Port(target=9000, published="9090"),),
                                       labels={"kompose.service.type": "headless"})))
    spec = find(objs, "Service", "minio")["spec"]
    assert spec["clusterIP"] == "None"
    assert spec["ports"] == [{"name": "9000", "port": 9000, "targetPort": 9000}]
    assert "approximated" in statuses(report, "minio", "ports")


def test_ingress_label_reaches_the_container_port():
    objs, _ = convert(project(svc("web", ports=(Port(target=80, published="8080"),),
                                  labels={"kompose.service.expose": "shop.example"})))
    backend = find(objs, "Ingress", "web")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"service": {"name": "web", "port": {"number": 80}}}


def test_aliases_links_and_container_names_that_are_dns_labels_resolve():
    objs, report = convert(project(
        svc("db", expose=("5432",), container_name="Pg-Main", networks={
            "back": NetworkAttachment(aliases=("postgres", "db", "db.internal", "Bad_Alias"))}),
        svc("cache", container_name="shop_cache"),
        svc("web", links=("db:database", "cache:memo"))))
    for name in ("postgres", "database", "pg-main"):
        spec = find(objs, "Service", name)["spec"]
        assert spec["selector"]["app.kubernetes.io/name"] == "db"
        assert spec["ports"] == [{"name": "5432", "port": 5432, "targetPort": 5432}]
    # an alias of a headless service is headless too
    assert find(objs, "Service", "memo")["spec"]["clusterIP"] == "None"
    services = {n for k, n in kinds(objs) if k == "Service"}
    assert services == {"db", "cache", "web", "postgres", "database", "pg-main", "memo"}
    not_converted = [e.detail for e in report.entries if e.status == "not-converted"]
    for name in ("db.internal", "Bad_Alias", "shop_cache"):
        assert any(repr(name) in d and "does not resolve" in d for d in not_converted), name
    assert "mapped" in statuses(report, "db", "container_name")
    assert "mapped" in statuses(report, "web", "links")


def test_an_alias_that_is_another_service_name_is_reported():
    objs, report = convert(project(svc("db", networks={"n": NetworkAttachment(
        aliases=("cache",))}), svc("cache")))
    assert find(objs, "Service", "cache")["spec"]["selector"]["app.kubernetes.io/name"] == \
        "cache"
    assert "not-converted" in statuses(report, "db", "networks.n.aliases")


def test_a_port_another_service_names_is_forwarded_too():
    # compose does not filter ports: nginx reaches mattermost:8065 though only 8443 is declared
    objs, report = convert(project(
        svc("mattermost", ports=(Port(target=8443, published="8443"),)),
        svc("nginx", command=("nginx", "-g", "upstream=mattermost:8065"))))
    assert ports_of(objs, "mattermost") == [(8443, 8443, "TCP"), (8065, 8065, "TCP")]
    [detail] = [e.detail for e in report.of("service", "mattermost")
                if e.status == "approximated" and "forwarded too" in e.detail]
    assert "nginx names mattermost:8065 in command" in detail

"""Containers: image, command/args, env, user, security, probes, resources, pod settings."""

import base64

import pytest
from kube_fixtures import container, convert, find, pod, project, statuses, svc

from converter.kube.containers import escape, looks_secret
from converter.kube.quantities import bytes_quantity, cpu_quantity
from converter.model import BuildConfig, Deploy, Healthcheck, ResourceSpec, frozen_map


def one(service, **options):
    objs, report = convert(project(service), **options)
    return container(find(objs, "Deployment")), objs, report


def test_image_and_pull_policy():
    c, _, report = one(svc("web", image="nginx:1.27", pull_policy="always"))
    assert c["image"] == "nginx:1.27" and c["imagePullPolicy"] == "Always"
    c, _, _ = one(svc("web", pull_policy="missing",
                      labels={"kompose.image-pull-policy": "Never"}))
    assert c["imagePullPolicy"] == "Never"


def test_built_image_names():
    service = svc("Api", image=None, build=BuildConfig(context="/proj/api"))
    c, _, report = one(service)
    assert c["image"] == "demo-api:latest"
    assert "approximated" in statuses(report, "Api", "build")
    c, _, _ = one(service, registry="registry.example.com/team")
    assert c["image"] == "registry.example.com/team/demo-api:latest"
    # with an image name too, the registry replaces the image's registry (as c2k push does)
    c, _, _ = one(svc("api", image="docker.io/library/app:2", build=BuildConfig(
        context="/proj/api")), registry="localhost:5000")
    assert c["image"] == "localhost:5000/app:2"
    c, _, _ = one(service, image_overrides={"Api": "reg/demo-api@sha256:" + "a" * 64})
    assert c["image"].endswith("a" * 64)


def test_entrypoint_is_command_and_command_is_args():
    c, _, _ = one(svc("web", entrypoint=("/bin/sh", "-c"), command=("echo $(date) $$HOME",)))
    assert c["command"] == ["/bin/sh", "-c"]
    assert c["args"] == ["echo $$(date) $$$HOME"]


@pytest.mark.parametrize("raw, escaped", [
    ("plain", "plain"), ("$(VAR)", "$$(VAR)"), ("a$$b", "a$$$b"), ("$$(X)", "$$$$(X)"),
    ("$HOME", "$HOME"), ("cost: 5$", "cost: 5$"), ("${X}", "${X}"),
])
def test_escape_survives_kubernetes_expansion(raw, escaped):
    assert escape(raw) == escaped
    assert _k8s_expand(escaped) == raw


def _k8s_expand(text):
    """Kubernetes' $(VAR) expansion with no variables defined (third_party expansion rules)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    out.append(text[i:end + 1])  # undefined: kept as written
                    i = end + 1
                    continue
                out.append("$(")
                i += 2
                continue
            out.append("$" + nxt)
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def test_environment_values_are_strings_and_escaped():
    c, _, report = one(svc("web", environment={"A": "1", "B": "$(x)", "C": "", "D": None,
                                               "E": "yes"}))
    assert c["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "$$(x)"},
                        {"name": "C", "value": ""}, {"name": "E", "value": "yes"}]
    assert "approximated" in statuses(report, "web", "environment")


def test_env_file_is_reported_as_merged():
    _, _, report = one(svc("web", environment={"A": "1"}, env_files=("/proj/.env.web",)))
    assert "mapped" in statuses(report, "web", "env_file")


@pytest.mark.parametrize("name, secret", [
    ("DB_PASSWORD", True), ("API_KEY", True), ("GITHUB_TOKEN", True), ("SECRET_KEY", True),
    ("POSTGRES_PASSWORD_FILE", False), ("PWD", False), ("HOME", False), ("REDIS_PASS", True),
])
def test_secret_looking_names(name, secret):
    assert looks_secret(name) is secret


def test_secret_env_moves_values_into_a_secret():
    service = svc("db", environment={"POSTGRES_PASSWORD": "hunter2", "POSTGRES_DB": "app"})
    c, objs, report = one(service, secret_env=True)
    assert {"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "db-env", "key": "POSTGRES_PASSWORD"}}} in c["env"]
    sec = find(objs, "Secret", "db-env")
    assert base64.b64decode(sec["data"]["POSTGRES_PASSWORD"]) == b"hunter2"
    assert "hunter2" not in str(report.entries)
    for obj in objs:
        if obj["kind"] != "Secret":
            assert "hunter2" not in str(obj)


def test_secret_env_off_warns_without_value():
    _, _, report = one(svc("db", environment={"POSTGRES_PASSWORD": "hunter2"}))
    assert "warning" in statuses(report, "db", "environment")
    assert "hunter2" not in str(report.as_list())


@pytest.mark.parametrize("user, expected, status", [
    ("1000:1000", {"runAsUser": 1000, "runAsGroup": 1000}, "mapped"),
    ("1000", {"runAsUser": 1000}, "mapped"),
    ("root", {"runAsUser": 0}, "mapped"),
    ("www-data", None, "not-converted"),
    ("1000:staff", {"runAsUser": 1000}, "not-converted"),
])
def test_user(user, expected, status):
    c, _, report = one(svc("web", user=user))
    assert c.get("securityContext") == expected
    assert status in statuses(report, "web", "user")


def test_security_settings():
    c, objs, report = one(svc("web", cap_add=("NET_ADMIN",), cap_drop=("ALL",), privileged=True,
                              read_only=True, security_opt=("no-new-privileges:true",
                                                            "seccomp:unconfined", "label:type:x",
                                                            "systempaths=unconfined"),
                              stdin_open=True, tty=True, working_dir="/app"))
    sc = c["securityContext"]
    assert sc["capabilities"] == {"add": ["NET_ADMIN"], "drop": ["ALL"]}
    assert sc["privileged"] and sc["readOnlyRootFilesystem"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["seccompProfile"] == {"type": "Unconfined"}
    assert sc["seLinuxOptions"] == {"type": "x"}
    assert c["stdin"] and c["tty"] and c["workingDir"] == "/app"
    assert "not-converted" in statuses(report, "web", "security_opt[3]")


def test_pod_settings():
    service = svc("web", hostname="web1", extra_hosts=(("db.local", "10.0.0.2"),
                                                       ("cache.local", "10.0.0.2"),
                                                       ("gw", "host-gateway")),
                  dns=("8.8.8.8",), dns_search=("example.com",), dns_opt=("ndots:2",),
                  sysctls={"net.core.somaxconn": "1024"}, group_add=("100", "audio"),
                  stop_grace_period=12.5, init=True, platform="linux/arm64",
                  other={"pid": "host"})
    c, objs, report = one(service)
    spec = pod(find(objs, "Deployment"))
    assert spec["hostname"] == "web1"
    assert spec["hostAliases"] == [{"ip": "10.0.0.2", "hostnames": ["db.local", "cache.local"]}]
    assert spec["dnsConfig"] == {"nameservers": ["8.8.8.8"], "searches": ["example.com"],
                                 "options": [{"name": "ndots", "value": "2"}]}
    assert spec["securityContext"]["sysctls"] == [{"name": "net.core.somaxconn",
                                                   "value": "1024"}]
    assert spec["securityContext"]["supplementalGroups"] == [100]
    assert spec["terminationGracePeriodSeconds"] == 13
    assert spec["shareProcessNamespace"] is True
    assert spec["hostPID"] is True
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"}
    assert "not-converted" in statuses(report, "web", "extra_hosts")
    assert "approximated" in statuses(report, "web", "sysctls")
    assert "not-converted" in statuses(report, "web", "group_add")


def test_kompose_pod_labels():
    objs, report = convert(project(svc("web", labels={
        "kompose.serviceaccount-name": "runner", "kompose.image-pull-secret": "regcred",
        "kompose.security-context.fsgroup": "2000", "kompose.init.containers.name": "prep",
        "kompose.init.containers.image": "busybox", "kompose.init.containers.command":
            '["echo", "hi"]'})))
    spec = pod(find(objs, "Deployment"))
    assert spec["serviceAccountName"] == "runner"
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["securityContext"]["fsGroup"] == 2000
    assert spec["initContainers"] == [{"name": "prep", "image": "busybox",
                                       "command": ["echo", "hi"]}]


# ---- resources -------------------------------------------------------------------------------

@pytest.mark.parametrize("size, text", [(268435456, "256Mi"), (1 << 30, "1Gi"), (1536, "1536"),
                                        (1500, "1500"), (1024, "1Ki"), (3 << 40, "3Ti"),
                                        (0, "0")])
def test_bytes_quantity(size, text):
    assert bytes_quantity(size) == text


@pytest.mark.parametrize("cpus, text", [(0.5, "500m"), (2, "2"), (1.0, "1"), (0.25, "250m"),
                                        (0.0001, "1m"), (1.5, "1500m"), (0.333, "333m")])
def test_cpu_quantity(cpus, text):
    assert cpu_quantity(cpus) == text


def test_deploy_resources():
    c, _, report = one(svc("web", deploy=Deploy(
        limits=ResourceSpec(cpus=0.5, memory=512 << 20),
        reservations=ResourceSpec(cpus=0.25, memory=1 << 30)),
        labels={"kompose.ephemeral-storage.limit": "2Gi"}))
    assert c["resources"] == {"limits": {"cpu": "500m", "memory": "512Mi",
                                         "ephemeral-storage": "2Gi"},
                              "requests": {"cpu": "250m", "memory": "512Mi"}}
    assert "approximated" in statuses(report, "web", "deploy.resources.reservations.memory")


def test_v2_resource_keys():
    c, _, _ = one(svc("web", mem_limit=1 << 30, cpus=1.5, mem_reservation=256 << 20))
    # a limit reserves nothing under docker compose: the CPU request is 0, not the limit
    assert c["resources"] == {"limits": {"cpu": "1500m", "memory": "1Gi"},
                              "requests": {"cpu": "0", "memory": "256Mi"}}


def test_a_limit_alone_reserves_nothing():
    c, _, _ = one(svc("web", deploy=Deploy(limits=ResourceSpec(cpus=2, memory=1 << 30))))
    assert c["resources"] == {"limits": {"cpu": "2", "memory": "1Gi"},
                              "requests": {"cpu": "0", "memory": "0"}}


def test_ephemeral_storage_from_deploy_labels():
    c, _, report = one(svc("web", deploy=Deploy(labels=frozen_map({
        "kompose.ephemeral-storage.request": "1Gi"}))))
    assert c["resources"] == {"requests": {"ephemeral-storage": "1Gi"}}
    assert report.covered("service", "web", "deploy.labels.kompose.ephemeral-storage.request")


def test_gpu_reservation():
    c, _, report = one(svc("ml", deploy=Deploy(reservations=ResourceSpec(devices=(
        frozen_map({"driver": "nvidia", "count": 2, "capabilities": ["gpu"]}),)))))
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "2"


# ---- probes ----------------------------------------------------------------------------------

def test_cmd_healthcheck_gives_exec_probes_with_docker_defaults():
    c, _, report = one(svc("web", healthcheck=Healthcheck(test=("CMD", "curl", "-f", "http://x"))))
    expected = {"exec": {"command": ["curl", "-f", "http://x"]}, "periodSeconds": 30,
                "timeoutSeconds": 30, "failureThreshold": 3}
    assert c["livenessProbe"] == expected and c["readinessProbe"] == expected
    assert "startupProbe" not in c


def test_cmd_shell_runs_through_sh_and_timings_round_up():
    c, _, _ = one(svc("web", healthcheck=Healthcheck(test=("CMD-SHELL", "pg_isready || exit 1"),
                                                     interval=0.5, timeout=2.2, retries=5)))
    assert c["livenessProbe"] == {"exec": {"command": ["sh", "-c", "pg_isready || exit 1"]},
                                  "periodSeconds": 1, "timeoutSeconds": 3,
                                  "failureThreshold": 5}


def test_start_period_gives_startup_probe():
    c, _, _ = one(svc("web", healthcheck=Healthcheck(test=("CMD", "true"), interval=10,
                                                     start_period=60, start_interval=2)))
    assert c["startupProbe"]["periodSeconds"] == 2
    assert c["startupProbe"]["failureThreshold"] == 30 + 3


@pytest.mark.parametrize("hc", [Healthcheck(test=("NONE",)), Healthcheck(disable=True)])
def test_disabled_healthcheck_gives_no_probes(hc):
    c, _, report = one(svc("web", healthcheck=hc))
    assert not {"livenessProbe", "readinessProbe"} & set(c)
    assert "mapped" in statuses(report, "web", "healthcheck")


def test_healthcheck_without_test_is_reported():
    c, _, report = one(svc("web", healthcheck=Healthcheck(interval=5)))
    assert "livenessProbe" not in c
    assert "not-converted" in statuses(report, "web", "healthcheck")


def test_kompose_probe_labels():
    c, _, _ = one(svc("web", healthcheck=Healthcheck(test=("CMD", "true"), interval=10),
                      labels={"kompose.service.healthcheck.liveness.http_get_path": "/health",
                              "kompose.service.healthcheck.liveness.http_get_port": "8080",
                              "kompose.service.healthcheck.readiness.tcp_port": "8080",
                              "kompose.service.healthcheck.readiness.interval": "5s"}))
    assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": 8080}
    assert c["livenessProbe"]["periodSeconds"] == 10
    assert c["readinessProbe"]["tcpSocket"] == {"port": 8080}
    assert c["readinessProbe"]["periodSeconds"] == 5


def test_kompose_readiness_test_and_disable():
    c, _, _ = one(svc("web", labels={
        "kompose.service.healthcheck.readiness.test": "CMD-SHELL curl -f localhost",
        "kompose.service.healthcheck.readiness.retries": "2"}))
    assert c["readinessProbe"]["exec"]["command"] == ["sh", "-c", "curl -f localhost"]
    assert c["readinessProbe"]["failureThreshold"] == 2
    c, _, _ = one(svc("web", healthcheck=Healthcheck(test=("CMD", "true")), labels={
        "kompose.service.healthcheck.readiness.disable": "true"}))
    assert "readinessProbe" not in c and "livenessProbe" in c


def test_lifecycle_hooks_and_gpus():
    c, _, report = one(svc("web", other={"post_start": [{"command": ["touch", "/ready"]}],
                                         "pre_stop": [{"command": ["nginx", "-s", "quit"],
                                                       "user": "x"}],
                                         "gpus": "all"}))
    assert c["lifecycle"] == {"postStart": {"exec": {"command": ["touch", "/ready"]}},
                              "preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}}
    assert "approximated" in statuses(report, "web", "pre_stop")
    assert c["resources"]["limits"] == {"nvidia.com/gpu": "1"}

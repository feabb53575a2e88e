"""Bind mounts: host system paths, host folders shared by services, writable project files and
mounts of a build context the image already holds."""

import os
import shutil
import subprocess

import pytest

from converter.kube.hostpaths import HOST_PATH, LEAVE_OUT, SCRATCH, host_rule
from converter.kube.podvolumes import COPY_CONTAINER
from converter.model import BuildConfig, Dependency, Mount

from kube_fixtures import FakeReader, container, convert, find, kinds, pod, project, statuses, svc


def bind(source, target, ro=False, propagation=None):
    return Mount(type="bind", source=source, target=target, read_only=ro,
                 propagation=propagation)


def workload(objs, name):
    return [o for o in objs if o["metadata"]["name"] == name
            and o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")][0]


def mounts_and_volumes(objs, name="web"):
    w = workload(objs, name)
    return container(w).get("volumeMounts", []), {v["name"]: v for v in pod(w).get("volumes", [])}


def source_at(objs, name, target):
    """(the pod volume's source, the mount) at `target` in workload `name`."""
    mounts, vols = mounts_and_volumes(objs, name)
    mount = [m for m in mounts if m["mountPath"] == target][0]
    vol = vols[mount["name"]]
    return {k: v for k, v in vol.items() if k != "name"}, mount


# ---- host system paths ------------------------------------------------------------------------

@pytest.mark.parametrize("path, action, kind, forced_ro", [
    ("/etc/localtime", HOST_PATH, "File", True),
    ("/usr/share/zoneinfo/Europe/Paris", HOST_PATH, "", True),
    ("/etc/timezone", LEAVE_OUT, "", False),
    ("/var/run/docker.sock", LEAVE_OUT, "", False),
    ("/run/docker.sock", LEAVE_OUT, "", False),
    ("//var/run/docker.sock", LEAVE_OUT, "", False),
    ("/var/lib/docker/containers", LEAVE_OUT, "", False),
    ("/run/containerd/containerd.sock", LEAVE_OUT, "", False),
    ("/var/run/tailscale/tailscaled.sock", LEAVE_OUT, "", False),
    ("/proc", HOST_PATH, "Directory", False),
    ("/sys/fs/cgroup", HOST_PATH, "", False),
    ("/dev/dri", HOST_PATH, "", False),
    ("/lib/modules", HOST_PATH, "Directory", True),
    ("/", HOST_PATH, "Directory", False),
    ("/etc/ssl/certs", LEAVE_OUT, "", False),
    ("/etc/hosts", LEAVE_OUT, "", False),
    ("/tmp", SCRATCH, "", False),
    ("/tmp/.X11-unix", LEAVE_OUT, "", False),
])
def test_host_rules(path, action, kind, forced_ro):
    rule = host_rule(path)
    assert (rule.action, rule.kind, rule.read_only) == (action, kind, forced_ro)


@pytest.mark.parametrize("path", ["/srv/data", "/root/.jitsi-meet-cfg/web", "/etc/letsencrypt",
                                  "/tmp/myapp", "/var/log/app", "/devices", "/procfs"])
def test_data_outside_the_project_has_no_rule(path):
    assert host_rule(path) is None


def test_system_paths_never_become_claims():
    proj = project(svc("web", volumes=(
        bind("/etc/localtime", "/etc/localtime"),
        bind("/etc/timezone", "/etc/timezone", ro=True),
        bind("/var/run/docker.sock", "/var/run/docker.sock"),
        bind("/run/docker.sock", "/run/docker.sock"),
        bind("/proc", "/host/proc", ro=True),
        bind("/sys/fs/cgroup", "/sys/fs/cgroup"),
        bind("/dev/dri", "/dev/dri"),
        bind("/", "/rootfs", ro=True, propagation="rslave"),
        bind("/lib/modules", "/lib/modules"),
        bind("/tmp", "/tmp"),
        bind("/etc/ssl/certs", "/etc/ssl/certs", ro=True))))
    for mode in ("persistentVolumeClaim", "hostPath", "emptyDir", "configMap"):
        objs, report = convert(proj, volumes=mode)
        assert not [o for o in objs if o["kind"] == "PersistentVolumeClaim"], mode
        mounts, _ = mounts_and_volumes(objs)
        assert {m["mountPath"] for m in mounts} == {
            "/etc/localtime", "/host/proc", "/sys/fs/cgroup", "/dev/dri", "/rootfs",
            "/lib/modules", "/tmp"}
    objs, report = convert(proj)
    src, mount = source_at(objs, "web", "/etc/localtime")
    assert src == {"hostPath": {"path": "/etc/localtime", "type": "File"}}
    assert mount["readOnly"] is True                     # compose mounted it rw
    src, mount = source_at(objs, "web", "/host/proc")
    assert src == {"hostPath": {"path": "/proc", "type": "Directory"}} and mount["readOnly"]
    src, mount = source_at(objs, "web", "/sys/fs/cgroup")
    assert src == {"hostPath": {"path": "/sys/fs/cgroup"}} and "readOnly" not in mount
    src, mount = source_at(objs, "web", "/rootfs")
    assert mount["mountPropagation"] == "HostToContainer"
    assert source_at(objs, "web", "/lib/modules")[1]["readOnly"] is True
    assert source_at(objs, "web", "/tmp")[0] == {"emptyDir": {}}
    for i, word in ((1, "timezone"), (2, "containerd"), (3, "containerd"), (10, "CA cert")):
        assert statuses(report, "web", f"volumes[{i}]") == {"not-converted"}
        assert word in str([e for e in report.of("service", "web")
                            if e.key == f"volumes[{i}]"])


def test_bidirectional_propagation_needs_a_privileged_container():
    mount = bind("/mnt/shared", "/mnt", propagation="rshared")
    proj = project(svc("web", volumes=(mount,)))
    objs, report = convert(proj, volumes="hostPath")
    assert source_at(objs, "web", "/mnt")[1]["mountPropagation"] == "HostToContainer"
    assert statuses(report, "web", "volumes[0].bind.propagation") == {"approximated"}
    objs, report = convert(project(svc("web", volumes=(mount,), privileged=True)),
                           volumes="hostPath")
    assert source_at(objs, "web", "/mnt")[1]["mountPropagation"] == "Bidirectional"


# ---- host folders shared by services -----------------------------------------------------------

def test_a_host_folder_several_services_mount_is_one_claim():
    proj = project(
        svc("web", volumes=(bind("/proj/public/system", "/mastodon/public/system"),)),
        svc("sidekiq", volumes=(bind("/proj/public/system", "/mastodon/public/system"),)),
        svc("backup", volumes=(bind("/srv/backups", "/b"),)),
        svc("cron", volumes=(bind("/srv/backups/", "/backups", ro=True),)),
        svc("db", volumes=(bind("/proj/db", "/var/lib/postgresql/data"),)))
    objs, report = convert(proj)
    claims = {o["metadata"]["name"]: o for o in objs if o["kind"] == "PersistentVolumeClaim"}
    assert sorted(claims) == ["db-claim0", "public-system", "srv-backups"]
    assert claims["public-system"]["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claims["db-claim0"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    for name, target, claim in (("web", "/mastodon/public/system", "public-system"),
                                ("sidekiq", "/mastodon/public/system", "public-system"),
                                ("backup", "/b", "srv-backups"), ("cron", "/backups", "srv-backups")):
        src, _ = source_at(objs, name, target)
        assert src == {"persistentVolumeClaim": {"claimName": claim}}
    assert source_at(objs, "cron", "/backups")[1]["readOnly"] is True
    assert "shared with sidekiq" in str(report.of("service", "web"))


def test_shared_path_names_never_hold_this_machines_folders():
    objs, _ = convert(project(
        svc("a", volumes=(bind("/home/alice/.jitsi/web", "/w"), bind("/proj", "/src"))),
        svc("b", volumes=(bind("/home/alice/.jitsi/web", "/w"), bind("/proj", "/src")))),
        reader=FakeReader({"/proj": "big"}))
    assert sorted(n for k, n in kinds(objs) if k == "PersistentVolumeClaim") == [
        "jitsi-web", "project"]
    objs, _ = convert(project(svc("a", volumes=(bind("/proj/data", "/d"),))),
                      volumes="hostPath")
    assert source_at(objs, "a", "/d")[1]["name"] == "host-data"


def test_a_host_folder_mounted_twice_by_one_service_is_one_claim():
    objs, _ = convert(project(svc("web", volumes=(bind("/srv/x", "/a"), bind("/srv/x", "/b")))))
    assert [n for k, n in kinds(objs) if k == "PersistentVolumeClaim"] == ["web-claim0"]
    assert source_at(objs, "web", "/a")[0] == source_at(objs, "web", "/b")[0]


def test_a_read_only_project_folder_several_services_mount_is_one_configmap():
    reader = FakeReader({"/proj/configuration": {"configuration.py": b"X = 1\n"}})
    mount = bind("/proj/configuration", "/etc/netbox/config", ro=True)
    objs, report = convert(project(svc("netbox", volumes=(mount,)),
                                   svc("worker", volumes=(mount,))), reader=reader)
    assert [n for k, n in kinds(objs) if k == "ConfigMap"] == ["configuration"]
    for name in ("netbox", "worker"):
        src, m = source_at(objs, name, "/etc/netbox/config")
        assert src == {"configMap": {"name": "configuration"}} and m["readOnly"]
        assert "initContainers" not in pod(workload(objs, name))


# ---- writable project files --------------------------------------------------------------------

def test_a_read_write_project_folder_gets_a_writable_copy():
    reader = FakeReader({"/proj/searxng": {"settings.yml": b"a: 1\n", "bin/run": b"#!/bin/sh\n"}},
                        executable={"bin/run"})
    objs, report = convert(project(svc("web", volumes=(bind("/proj/searxng", "/etc/searxng"),),
                                       user="977:977")), reader=reader)
    cm = find(objs, "ConfigMap", "web-cm0")
    assert cm["data"] == {"settings.yml": "a: 1\n", "bin_run": "#!/bin/sh\n"}
    spec = pod(workload(objs, "web"))
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["web-cm0-source"]["configMap"] == {"name": "web-cm0", "items": [
        {"key": "bin_run", "path": "bin/run", "mode": 0o755},
        {"key": "settings.yml", "path": "settings.yml"}]}
    assert vols["project-files"] == {"name": "project-files", "emptyDir": {}}
    src, mount = source_at(objs, "web", "/etc/searxng")
    assert mount == {"name": "project-files", "mountPath": "/etc/searxng", "subPath": "web-cm0"}
    init = spec["initContainers"][0]
    assert init["name"] == COPY_CONTAINER and init["image"] == "busybox:1.36"
    assert init["command"][-2:] == ["/c2k/from/0", "/c2k/to/0"]
    assert init["volumeMounts"] == [
        {"name": "web-cm0-source", "mountPath": "/c2k/from/0", "readOnly": True},
        {"name": "project-files", "mountPath": "/c2k/to/0", "subPath": "web-cm0"}]
    assert init["securityContext"] == {"runAsUser": 977, "runAsGroup": 977}
    assert "lost when the pod is replaced" in str(report.of("service", "web"))


def test_a_read_write_file_is_copied_and_mounted_through_subpath():
    reader = FakeReader({"/proj/init-data.sh": b"#!/bin/sh\n"}, executable={"/proj/init-data.sh"})
    objs, _ = convert(project(svc("db", volumes=(
        bind("/proj/init-data.sh", "/docker-entrypoint-initdb.d/init-data.sh"),))),
        reader=reader)
    src, mount = source_at(objs, "db", "/docker-entrypoint-initdb.d/init-data.sh")
    assert mount["subPath"] == "db-cm0/init-data.sh" and "readOnly" not in mount
    vols = {v["name"]: v for v in pod(workload(objs, "db"))["volumes"]}
    assert vols["db-cm0-source"]["configMap"]["items"] == [
        {"key": "init-data.sh", "path": "init-data.sh", "mode": 0o755}]


def test_read_only_and_config_map_mode_keep_the_read_only_configmap():
    reader = FakeReader({"/proj/conf": {"a.conf": b"a"}})
    objs, report = convert(project(svc("web", volumes=(bind("/proj/conf", "/etc/app", ro=True),))),
                           reader=reader)
    assert source_at(objs, "web", "/etc/app") == (
        {"configMap": {"name": "web-cm0"}},
        {"name": "web-cm0", "mountPath": "/etc/app", "readOnly": True})
    assert statuses(report, "web", "volumes[0]") == {"mapped"}
    objs, report = convert(project(svc("web", volumes=(bind("/proj/conf", "/etc/app"),))),
                           reader=reader, volumes="configMap")
    assert source_at(objs, "web", "/etc/app")[1]["readOnly"] is True
    assert "initContainers" not in pod(workload(objs, "web"))
    assert statuses(report, "web", "volumes[0]") == {"approximated"}


def test_a_read_write_folder_several_pods_mount_is_one_claim_filled_by_each_pod():
    reader = FakeReader({"/proj/sentry": {"sentry.conf.py": b"x = 1\n",
                                          "entrypoint.sh": b"#!/bin/sh\n"}},
                        executable={"entrypoint.sh"})
    objs, report = convert(project(
        svc("web", volumes=(bind("/proj/sentry", "/etc/sentry"),)),
        svc("worker", volumes=(bind("/proj/sentry", "/etc/sentry", ro=True),))),
        reader=reader)
    assert [n for k, n in kinds(objs) if k in ("ConfigMap", "PersistentVolumeClaim")] == [
        "sentry", "sentry"]
    assert find(objs, "PersistentVolumeClaim", "sentry")["spec"]["accessModes"] == [
        "ReadWriteMany"]
    for name, ro in (("web", False), ("worker", True)):
        spec = pod(workload(objs, name))
        vols = {v["name"]: v for v in spec["volumes"]}
        src, mount = source_at(objs, name, "/etc/sentry")
        assert src == {"persistentVolumeClaim": {"claimName": "sentry"}}
        assert mount.get("readOnly", False) is ro and "subPath" not in mount
        init = spec["initContainers"][0]
        assert init["name"] == COPY_CONTAINER
        assert vols[init["volumeMounts"][0]["name"]]["configMap"]["name"] == "sentry"
        assert init["volumeMounts"][1] == {"name": mount["name"], "mountPath": "/c2k/to/0"}


def test_the_copy_runs_before_the_waits_and_kompose_init_containers():
    reader = FakeReader({"/proj/conf": {"a": b"a"}})
    objs, _ = convert(project(
        svc("web", volumes=(bind("/proj/conf", "/conf"),),
            depends_on={"db": Dependency(condition="service_started")},
            labels={"kompose.init.containers.name": "migrate",
                    "kompose.init.containers.image": "busybox"}),
        svc("db", expose=("5432",))), reader=reader)
    names = [c["name"] for c in pod(workload(objs, "web"))["initContainers"]]
    assert names[0] == COPY_CONTAINER and names[1:] == ["migrate", "wait-for-db"]


def test_configmap_keys_never_collide():
    reader = FakeReader({"/proj/d": {"a/b": b"1", "a_b": b"2"}})
    objs, _ = convert(project(svc("web", volumes=(bind("/proj/d", "/d", ro=True),))),
                      reader=reader)
    cm = find(objs, "ConfigMap", "web-cm0")
    assert sorted(cm["data"].values()) == ["1", "2"] and len(cm["data"]) == 2


@pytest.mark.parametrize("shell", ["sh", "busybox"])
def test_the_copy_script_copies_over_the_configmap_layout(tmp_path, shell):
    """Runs the init container's script on the folder layout the kubelet writes for a
    ConfigMap volume (`..data` links): project files replace theirs, the app's stay."""
    if shell == "busybox" and not shutil.which("busybox"):
        if os.environ.get("CI") == "true":
            pytest.fail("busybox is needed in CI (the init container runs busybox)")
        pytest.skip("busybox is not installed")
    reader = FakeReader({"/proj/conf": {"a.conf": b"new\n", "sub/b.conf": b"b\n",
                                        "run.sh": b"#!/bin/sh\n"}}, executable={"run.sh"})
    objs, _ = convert(project(svc("web", volumes=(bind("/proj/conf", "/conf"),))),
                      reader=reader)
    init = pod(workload(objs, "web"))["initContainers"][0]
    source = tmp_path / "from"
    stamp = source / "..2025_01_01_00_00_00.1"
    (stamp / "sub").mkdir(parents=True)
    (stamp / "a.conf").write_text("new\n")
    (stamp / "sub" / "b.conf").write_text("b\n")
    (stamp / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(stamp / "run.sh", 0o755)
    os.symlink(stamp.name, source / "..data")
    for entry in ("a.conf", "sub", "run.sh"):
        os.symlink(f"..data/{entry}", source / entry)
    target = tmp_path / "to"
    target.mkdir()
    (target / "a.conf").write_text("old\n")
    (target / "written-by-app").write_text("keep\n")
    _, script, name, *_ = init["command"][1:]
    argv = ([shutil.which("busybox"), "sh"] if shell == "busybox" else ["sh"])
    subprocess.run([*argv, "-c", script, name, str(source), str(target)], check=True,
                   timeout=30)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert files == ["a.conf", "run.sh", "sub/b.conf", "written-by-app"]
    assert (target / "a.conf").read_text() == "new\n"
    assert (target / "written-by-app").read_text() == "keep\n"
    assert os.stat(target / "run.sh").st_mode & 0o111


# ---- mounts of a build context -----------------------------------------------------------------

def built(name, context="/proj", dockerfile=None, target=None, **kw):
    return svc(name, build=BuildConfig(context=context, dockerfile=dockerfile, target=target),
               **kw)


def test_a_mount_the_image_holds_at_the_same_path_is_dropped():
    reader = FakeReader({
        "/proj": {"manage.py": b"x"},
        "/proj/Dockerfile": b"FROM python:3.6\nRUN mkdir /music_service\n"
                            b"WORKDIR /music_service\nADD . /music_service/\n"})
    objs, report = convert(project(built("web", volumes=(bind("/proj", "/music_service"),))),
                           reader=reader)
    assert "volumeMounts" not in container(workload(objs, "web"))
    assert statuses(report, "web", "volumes[0]") == {"approximated"}
    assert "ADD . /music_service/" in str(report.of("service", "web"))


@pytest.mark.parametrize("dockerfile, source, target, held", [
    ("FROM x\nWORKDIR /app\nCOPY . .\n", "/proj", "/app", True),
    ("FROM x\nWORKDIR /app\nCOPY . .\n", "/proj/src", "/app/src", True),
    ("FROM x\nWORKDIR /app\nCOPY . .\n", "/proj/src", "/src", False),
    ("FROM x\nCOPY src /app/src\n", "/proj/src", "/app/src", True),
    ("FROM x\nCOPY src/ /app/code\n", "/proj/src/lib", "/app/code/lib", True),
    ("FROM x\nCOPY package.json ./\nCOPY src ./src\n", "/proj", "/", False),
    ("FROM x AS build\nCOPY . /app\nFROM y\nCOPY --from=build /app /app\n", "/proj", "/app",
     False),
    ("FROM x\nCOPY conf/nginx.conf /etc/nginx/nginx.conf\n", "/proj/conf/nginx.conf",
     "/etc/nginx/nginx.conf", True),
    ("FROM x\nCOPY conf/nginx.conf /etc/nginx/\n", "/proj/conf/nginx.conf",
     "/etc/nginx/nginx.conf", True),
    ("FROM x\nCOPY *.conf /etc/app/\n", "/proj/a.conf", "/etc/app/a.conf", True),
])
def test_what_the_dockerfile_puts_where(dockerfile, source, target, held):
    tree = {"/proj/Dockerfile": dockerfile.encode(), "/proj": {"x": b"x"},
            "/proj/src": {"x": b"x"}, "/proj/src/lib": {"x": b"x"},
            "/proj/conf/nginx.conf": b"x", "/proj/a.conf": b"x"}
    objs, report = convert(project(built("web", volumes=(bind(source, target),))),
                           reader=FakeReader(tree))
    mounted = [m["mountPath"] for m in container(workload(objs, "web")).get("volumeMounts", [])]
    assert (target not in mounted) is held, str(report.of("service", "web"))


def test_dockerignore_target_stage_and_a_service_using_the_built_image():
    tree = {"/proj/api/docker/Dockerfile": b"FROM x AS dev\nWORKDIR /app\nCOPY . .\n"
                                           b"FROM x AS prod\nCOPY dist /srv\n",
            "/proj/api/.dockerignore": b"secrets\n",
            "/proj/api": {"x": b"x"}, "/proj/api/secrets": {"k": b"k"}}
    dockerfile = "docker/Dockerfile"
    proj = project(
        built("dev", "/proj/api", dockerfile, "dev", image="shop/api:dev",
              volumes=(bind("/proj/api", "/app"), bind("/proj/api/secrets", "/app/secrets"))),
        built("prod", "/proj/api", dockerfile, "prod", volumes=(bind("/proj/api", "/app"),)),
        svc("worker", image="shop/api:dev", volumes=(bind("/proj/api", "/app"),)),
        svc("stock", image="node:20", volumes=(bind("/proj/api", "/app"),)))
    objs, report = convert(proj, reader=FakeReader(tree))

    def mounted(name):
        return [m["mountPath"] for m in container(workload(objs, name)).get("volumeMounts", [])]
    assert mounted("dev") == ["/app/secrets"]          # .dockerignore keeps secrets out
    assert ".dockerignore" in str(report.of("service", "dev")[1:])
    assert mounted("prod") == ["/app"]                 # the prod stage copies only dist
    assert mounted("worker") == []                     # runs the image `dev` builds
    assert mounted("stock") == ["/app"]                # a stock image holds none of it


def test_sentry_mounts_its_build_context_where_the_image_does_not_hold_it():
    tree = {"/proj/sentry": {"sentry.conf.py": b"x = 1\n"},
            "/proj/sentry/Dockerfile": b"ARG SENTRY_IMAGE\nFROM ${SENTRY_IMAGE}\n"
                                       b"COPY . /usr/src/sentry\n"}
    objs, report = convert(project(built("web", "/proj/sentry",
                                         volumes=(bind("/proj/sentry", "/etc/sentry", ro=True),))),
                           reader=FakeReader(tree))
    src, mount = source_at(objs, "web", "/etc/sentry")
    assert src == {"configMap": {"name": "web-cm0"}}
    assert "at /usr/src/sentry (`COPY . /usr/src/sentry`), not at /etc/sentry" in str(
        report.of("service", "web"))
    objs, report = convert(project(built("web", "/proj/sentry", volumes=(
        bind("/proj/sentry", "/etc/sentry", ro=True),))), reader=FakeReader(
        {"/proj/sentry": {"sentry.conf.py": b"x = 1\n"}}))
    assert source_at(objs, "web", "/etc/sentry")[0] == {"configMap": {"name": "web-cm0"}}
    assert "cannot be read" in str(report.of("service", "web"))


def test_project_files_holding_secrets_travel_as_a_secret():
    from converter.model import FileObject
    reader = FakeReader({"/proj/app": {"settings.py": b"DEBUG = False\n", ".env": b"KEY=s3cr3t\n"},
                         "/proj/certs": {"tls.key": b"-----BEGIN PRIVATE KEY-----\n"},
                         "/proj/pw.txt": b"hunter2\n",
                         "/proj/conf": {"a.conf": b"a"}})
    objs, report = convert(project(
        svc("web", volumes=(bind("/proj/app", "/app"), bind("/proj/certs", "/certs", ro=True),
                            bind("/proj/pw.txt", "/pw", ro=True), bind("/proj/conf", "/conf")),
            secrets=()),
        secrets={"pw": FileObject(name="pw", file="/proj/pw.txt")}), reader=reader)
    assert [n for k, n in kinds(objs) if k == "Secret"] == [
        "pw", "web-secret0", "web-secret1", "web-secret2"]
    assert [n for k, n in kinds(objs) if k == "ConfigMap"] == ["web-cm0"]
    for obj in objs:
        if obj["kind"] != "Secret":
            assert "s3cr3t" not in str(obj) and "hunter2" not in str(obj)
    src, mount = source_at(objs, "web", "/certs")
    assert src == {"secret": {"secretName": "web-secret1"}} and mount["readOnly"]
    init = pod(workload(objs, "web"))["initContainers"][0]
    vols = {v["name"]: v for v in pod(workload(objs, "web"))["volumes"]}
    copied = [vols[m["name"]] for m in init["volumeMounts"] if m["mountPath"].startswith(
        "/c2k/from/")]
    assert [v.get("secret", v.get("configMap")) for v in copied] == [
        {"secretName": "web-secret0"}, {"name": "web-cm0"}]
    assert sorted(find(objs, "Secret", "web-secret0")["data"]) == [".env", "settings.py"]
    assert "it holds .env" in str(report.of("service", "web"))
    assert "s3cr3t" not in str(report.as_list())

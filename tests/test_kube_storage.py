"""Volumes, bind mounts, tmpfs, shm, secrets and configs, and the host file reader."""

import base64
import os

import pytest

from converter.kube.files import read_host_path
from converter.model import FileObject, FileRef, Mount, Volume, frozen_map

from kube_fixtures import FakeReader, container, convert, find, kinds, pod, project, statuses, svc


def mounts_and_volumes(objs, name="web"):
    dep = [o for o in objs if o["kind"] in ("Deployment", "StatefulSet")
           and o["metadata"]["name"] == name][0]
    return container(dep).get("volumeMounts", []), pod(dep).get("volumes", [])


def test_named_volume_becomes_pvc_with_size_and_class():
    proj = project(svc("db", volumes=(Mount(type="volume", source="db_data", target="/data"),),
                       labels={"kompose.volume.storage-class-name": "fast"}),
                   volumes={"db_data": Volume(name="db_data", labels=frozen_map({
                       "kompose.volume.size": "5Gi"}))})
    objs, report = convert(proj)
    pvc = find(objs, "PersistentVolumeClaim", "db-data")
    assert pvc["spec"] == {"accessModes": ["ReadWriteOnce"],
                           "resources": {"requests": {"storage": "5Gi"}},
                           "storageClassName": "fast"}
    mounts, vols = mounts_and_volumes(objs, "db")
    assert mounts == [{"name": "db-data", "mountPath": "/data"}]
    assert vols == [{"name": "db-data", "persistentVolumeClaim": {"claimName": "db-data"}}]


def test_pvc_request_size_option_and_x_kubernetes_on_volume():
    proj = project(svc("db", volumes=(Mount(type="volume", source="a", target="/a"),
                                      Mount(type="volume", source="b", target="/b",
                                            read_only=True, subpath="sub"))),
                   volumes={"a": Volume(name="a"), "b": Volume(name="b", extensions=frozen_map({
                       "x-kubernetes": {"size": "1Gi", "storageClassName": "nfs",
                                        "accessModes": ["ReadWriteMany"]}}))})
    objs, _ = convert(proj, pvc_request_size="2Gi")
    assert find(objs, "PersistentVolumeClaim", "a")["spec"]["resources"]["requests"] == {
        "storage": "2Gi"}
    b = find(objs, "PersistentVolumeClaim", "b")["spec"]
    assert b["accessModes"] == ["ReadWriteMany"] and b["storageClassName"] == "nfs"
    mounts, _ = mounts_and_volumes(objs, "db")
    assert mounts[1] == {"name": "b", "mountPath": "/b", "subPath": "sub", "readOnly": True}


def workload(objs, name):
    return [o for o in objs if o["metadata"]["name"] == name
            and o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")][0]


def claim_of(objs, name, target):
    """The claim (or 'emptyDir'...) mounted at `target` in workload `name`."""
    spec = pod(workload(objs, name))
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mount = [m for m in container(workload(objs, name))["volumeMounts"]
             if m["mountPath"] == target][0]
    vol = vols.get(mount["name"])
    if vol is None:
        return "template:" + mount["name"]
    return vol["persistentVolumeClaim"]["claimName"] if "persistentVolumeClaim" in vol else \
        next(k for k in vol if k != "name")


def test_shared_volume_is_one_read_write_many_claim_reported():
    mount = Mount(type="volume", source="shared", target="/s")
    objs, report = convert(project(svc("a", volumes=(mount,)), svc("b", volumes=(mount,)),
                                   volumes={"shared": Volume(name="shared")}))
    assert [k for k in kinds(objs) if k[0] == "PersistentVolumeClaim"] == [
        ("PersistentVolumeClaim", "shared")]
    assert find(objs, "PersistentVolumeClaim", "shared")["spec"]["accessModes"] == [
        "ReadWriteMany"]
    assert claim_of(objs, "a", "/s") == claim_of(objs, "b", "/s") == "shared"
    assert "strategy" not in workload(objs, "a")["spec"]   # pods on any node: rolling updates
    warnings = [e.detail for e in report.of("project", "") if e.status == "warning"]
    assert any("claim shared" in w and "ReadWriteMany" in w for w in warnings)
    assert "shared with b" in str(report.of("service", "a"))


def test_one_pod_gets_read_write_once_and_recreate():
    objs, report = convert(project(svc("db", volumes=(Mount(type="volume", source="d",
                                                            target="/d"),)),
                                   volumes={"d": Volume(name="d")}))
    assert find(objs, "PersistentVolumeClaim", "d")["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert workload(objs, "db")["spec"]["strategy"] == {"type": "Recreate"}
    assert not [e for e in report.of("project", "") if e.status == "warning"]


@pytest.mark.parametrize("how", ["replicas", "daemonset", "option"])
def test_several_pods_of_one_service_share_one_read_write_many_claim(how):
    kw = {"scale": 3} if how == "replicas" else {}
    if how == "daemonset":
        kw["labels"] = {"kompose.controller.type": "daemonset"}
    options = {"replicas": 2} if how == "option" else {}
    objs, _ = convert(project(svc("web", volumes=(Mount(type="volume", source="up",
                                                        target="/up"),), **kw),
                              volumes={"up": Volume(name="up")}), **options)
    assert find(objs, "PersistentVolumeClaim", "up")["spec"]["accessModes"] == ["ReadWriteMany"]


def test_access_modes_on_the_volume_win_and_sizes_of_all_users_are_read():
    mount = Mount(type="volume", source="shared", target="/s")
    objs, report = convert(project(
        svc("a", volumes=(mount,), labels={"kompose.volume.size": "1Gi"}),
        svc("b", volumes=(mount,), labels={"kompose.volume.size": "3Gi",
                                           "kompose.volume.storage-class-name": "nfs"}),
        svc("c", volumes=(Mount(type="volume", source="one", target="/o"),)),
        svc("d", volumes=(Mount(type="volume", source="one", target="/o"),)),
        volumes={"shared": Volume(name="shared"), "one": Volume(
            name="one", extensions=frozen_map({"x-kubernetes": {
                "accessModes": ["ReadWriteOnce"]}}))}))
    spec = find(objs, "PersistentVolumeClaim", "shared")["spec"]
    assert spec["resources"]["requests"]["storage"] == "3Gi"
    assert spec["storageClassName"] == "nfs"
    assert find(objs, "PersistentVolumeClaim", "one")["spec"]["accessModes"] == [
        "ReadWriteOnce"]
    warnings = " ".join(e.detail for e in report.of("project", ""))
    assert "claim shared" in warnings and "claim one" not in warnings


def test_statefulset_templates_only_what_it_alone_mounts():
    own = Mount(type="volume", source="own", target="/own")
    shared = Mount(type="volume", source="shared", target="/shared")
    objs, report = convert(project(
        svc("db", volumes=(own, shared), scale=2,
            labels={"kompose.controller.type": "statefulset"}),
        svc("backup", volumes=(Mount(type="volume", source="shared", target="/shared",
                                     read_only=True),)),
        volumes={"own": Volume(name="own"), "shared": Volume(name="shared")}))
    sts = workload(objs, "db")
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["own"]
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim_of(objs, "db", "/own") == "template:own"
    assert claim_of(objs, "db", "/shared") == claim_of(objs, "backup", "/shared") == "shared"
    assert find(objs, "PersistentVolumeClaim", "shared")["spec"]["accessModes"] == [
        "ReadWriteMany"]
    # compose shares `own` between the two replicas; a StatefulSet gives each its claim
    assert "approximated" in statuses(report, "db", "volumes[0]")


def test_empty_dir_mode_says_a_shared_volume_is_no_longer_shared():
    mount = Mount(type="volume", source="shared", target="/s")
    objs, report = convert(project(svc("a", volumes=(mount,)), svc("b", volumes=(mount,)),
                                   volumes={"shared": Volume(name="shared")}),
                           volumes="emptyDir")
    assert claim_of(objs, "a", "/s") == claim_of(objs, "b", "/s") == "emptyDir"
    assert "not shared with b" in str(report.of("service", "a"))


def test_tmpfs_volume_nfs_volume_and_bound_volume_from_driver_opts():
    objs, report = convert(project(
        svc("kong", volumes=(Mount(type="volume", source="prefix", target="/var/run/kong"),
                             Mount(type="volume", source="nfs", target="/n"),
                             Mount(type="volume", source="bound", target="/b"))),
        svc("other", volumes=(Mount(type="volume", source="prefix", target="/p"),)),
        volumes={"prefix": Volume(name="prefix", driver_opts=frozen_map({
                     "type": "tmpfs", "device": "tmpfs", "o": "size=100m,uid=1000"})),
                 "nfs": Volume(name="nfs", driver_opts=frozen_map({
                     "type": "nfs", "o": "addr=10.0.0.5,rw,nfsvers=4", "device": ":/exports/a"})),
                 "bound": Volume(name="bound", driver_opts=frozen_map({
                     "type": "none", "o": "bind", "device": "/srv/data"}))}))
    _, vols = mounts_and_volumes(objs, "kong")
    by_name = {v["name"]: v for v in vols}
    assert by_name["prefix"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "100Mi"}
    assert by_name["nfs"]["nfs"] == {"server": "10.0.0.5", "path": "/exports/a"}
    assert by_name["bound"]["persistentVolumeClaim"] == {"claimName": "bound"}
    assert [n for k, n in kinds(objs) if k == "PersistentVolumeClaim"] == ["bound"]
    assert "not shared with other" in str(report.of("service", "kong"))
    assert "bound to /srv/data" in str(report.of("service", "kong"))


def test_external_volume_references_existing_claim():
    objs, report = convert(project(
        svc("db", volumes=(Mount(type="volume", source="data", target="/d"),)),
        volumes={"data": Volume(name="data", external=True, external_name="prod_data")}))
    assert not [o for o in objs if o["kind"] == "PersistentVolumeClaim"]
    _, vols = mounts_and_volumes(objs, "db")
    assert vols[0]["persistentVolumeClaim"] == {"claimName": "prod-data"}


@pytest.mark.parametrize("how", ["flag", "label"])
def test_empty_dir_mode(how):
    kw = {"labels": {"kompose.volume.type": "emptyDir"}} if how == "label" else {}
    options = {"volumes": "emptyDir"} if how == "flag" else {}
    objs, report = convert(project(svc("db", volumes=(Mount(type="volume", source="d",
                                                            target="/d"),), **kw),
                                   volumes={"d": Volume(name="d")}), **options)
    assert not [o for o in objs if o["kind"] == "PersistentVolumeClaim"]
    _, vols = mounts_and_volumes(objs, "db")
    assert vols == [{"name": "d", "emptyDir": {}}]


def test_anonymous_volume_is_a_service_claim():
    objs, report = convert(project(svc("web", volumes=(Mount(type="volume", target="/cache"),))))
    _, vols = mounts_and_volumes(objs)
    assert vols[0]["persistentVolumeClaim"] == {"claimName": "web-claim0"}
    assert find(objs, "PersistentVolumeClaim", "web-claim0")
    assert "approximated" in statuses(report, "web", "volumes[0]")
    objs, _ = convert(project(svc("web", volumes=(Mount(type="volume", target="/cache"),))),
                      volumes="emptyDir")
    assert mounts_and_volumes(objs)[1][0]["emptyDir"] == {}


def test_tmpfs_and_shm_size():
    objs, report = convert(project(svc("web", tmpfs=("/run:size=64m,mode=1750,exec",),
                                       shm_size=1 << 30, volumes=(
        Mount(type="tmpfs", target="/tmp", tmpfs_size=16 << 20, tmpfs_mode=0o1777),
        Mount(type="tmpfs", target="/cache")))))
    mounts, vols = mounts_and_volumes(objs)
    by_path = {m["mountPath"]: m["name"] for m in mounts}
    sources = {v["name"]: v["emptyDir"] for v in vols}
    assert sources[by_path["/tmp"]] == {"medium": "Memory", "sizeLimit": "16Mi"}
    assert sources[by_path["/cache"]] == {"medium": "Memory"}
    assert sources[by_path["/run"]] == {"medium": "Memory", "sizeLimit": "64Mi"}
    assert sources[by_path["/dev/shm"]] == {"medium": "Memory", "sizeLimit": "1Gi"}
    assert statuses(report, "web", "volumes[1]") == {"mapped"}
    # an emptyDir's mode is always 0777 and it takes no mount flags
    assert statuses(report, "web", "volumes[0]") == {"approximated"}
    assert "mode=1750,exec" in str(report.of("service", "web"))


def test_anonymous_volume_of_several_replicas_is_each_pods_own():
    objs, report = convert(project(svc("web", scale=2, volumes=(
        Mount(type="volume", target="/cache"),))))
    assert not [o for o in objs if o["kind"] == "PersistentVolumeClaim"]
    assert mounts_and_volumes(objs)[1][0]["emptyDir"] == {}
    assert statuses(report, "web", "volumes[0]") == {"approximated"}


def bind(source, target, ro=False):
    return Mount(type="bind", source=source, target=target, read_only=ro)


def test_bind_file_becomes_configmap_with_subpath():
    reader = FakeReader({"/proj/conf/nginx.conf": b"events {}\n"})
    objs, report = convert(project(svc("web", volumes=(
        bind("/proj/conf/nginx.conf", "/etc/nginx/nginx.conf", ro=True),))), reader=reader)
    cm = find(objs, "ConfigMap", "web-cm0")
    assert cm["data"] == {"nginx.conf": "events {}\n"}
    mounts, vols = mounts_and_volumes(objs)
    assert mounts == [{"name": "web-cm0", "mountPath": "/etc/nginx/nginx.conf",
                       "subPath": "nginx.conf", "readOnly": True}]
    assert vols == [{"name": "web-cm0", "configMap": {"name": "web-cm0"}}]
    assert "mapped" in statuses(report, "web", "volumes[0]")


def test_bind_folder_becomes_configmap_with_items_and_binary_data():
    reader = FakeReader({"/proj/conf.d": {"a.conf": b"a", "sub/b.conf": b"b",
                                          "logo.png": b"\x89PNG\xff"}})
    objs, report = convert(project(svc("web", volumes=(bind("/proj/conf.d", "/etc/conf.d"),))),
                           reader=reader)
    cm = find(objs, "ConfigMap", "web-cm0")
    assert cm["data"] == {"a.conf": "a", "sub_b.conf": "b"}
    assert base64.b64decode(cm["binaryData"]["logo.png"]) == b"\x89PNG\xff"
    _, vols = mounts_and_volumes(objs)
    assert {"key": "sub_b.conf", "path": "sub/b.conf"} in vols[0]["configMap"]["items"]
    assert "approximated" in statuses(report, "web", "volumes[0]")  # rw became read-only


def test_other_bind_mounts():
    reader = FakeReader({"/proj/big": "big"})
    proj = project(svc("web", volumes=(bind("/var/run/docker.sock", "/var/run/docker.sock"),
                                       bind("/srv/data", "/data"), bind("/proj/big", "/big"),
                                       bind("/proj/missing", "/m"))))
    objs, report = convert(proj, reader=reader)
    assert "not-converted" in statuses(report, "web", "volumes[0]")
    for i in (1, 2, 3):
        assert "approximated" in statuses(report, "web", f"volumes[{i}]")
    assert [n for k, n in kinds(objs) if k == "PersistentVolumeClaim"] == [
        "web-claim0", "web-claim1", "web-claim2"]
    assert "/srv/data" not in reader.calls  # never read outside the project
    objs, report = convert(proj, reader=reader, volumes="hostPath")
    _, vols = mounts_and_volumes(objs)
    assert {"path": "/srv/data"} in [v.get("hostPath") for v in vols]
    # the Docker socket stays out in every mode: a hostPath would make a folder in its place
    assert "/var/run/docker.sock" not in str(vols)


def test_secrets_and_configs_are_mounted_where_compose_puts_them():
    reader = FakeReader({"/proj/pw.txt": b"hunter2\n", "/proj/app.ini": b"[app]\n"})
    proj = project(
        svc("web", secrets=(FileRef(source="db_pw"), FileRef(source="token", target="api",
                                                             mode=0o400)),
            configs=(FileRef(source="app_ini"), FileRef(source="inline", target="/etc/x.conf"))),
        secrets={"db_pw": FileObject(name="db_pw", file="/proj/pw.txt"),
                 "token": FileObject(name="token", environment="TOKEN")},
        configs={"app_ini": FileObject(name="app_ini", file="/proj/app.ini"),
                 "inline": FileObject(name="inline", content="x=1\n")},
        environment={"TOKEN": "t0k3n"})
    objs, report = convert(proj, reader=reader)
    assert base64.b64decode(find(objs, "Secret", "db-pw")["data"]["db_pw"]) == b"hunter2\n"
    assert base64.b64decode(find(objs, "Secret", "token")["data"]["token"]) == b"t0k3n"
    assert find(objs, "ConfigMap", "inline")["data"] == {"inline": "x=1\n"}
    mounts, vols = mounts_and_volumes(objs)
    assert [(m["mountPath"], m.get("subPath")) for m in mounts] == [
        ("/run/secrets/db_pw", "db_pw"), ("/run/secrets/api", "token"),
        ("/app_ini", "app_ini"), ("/etc/x.conf", "inline")]
    token = [v for v in vols if v.get("secret", {}).get("secretName") == "token"][0]
    assert token["secret"]["items"] == [{"key": "token", "path": "token", "mode": 0o400}]
    text = str(report.as_list())
    assert "hunter2" not in text and "t0k3n" not in text
    for obj in objs:
        if obj["kind"] != "Secret":
            assert "t0k3n" not in str(obj) and "aHVudGVyMgo" not in str(obj)


def test_external_secret_references_existing_secret():
    proj = project(svc("web", secrets=(FileRef(source="cert"),)),
                   secrets={"cert": FileObject(name="cert", external=True)})
    objs, report = convert(proj)
    assert not [o for o in objs if o["kind"] == "Secret"]
    mounts, vols = mounts_and_volumes(objs)
    assert vols[0]["secret"] == {"secretName": "cert", "items": [{"key": "cert",
                                                                  "path": "cert"}]}
    assert report.statuses("secret", "cert", "external") == {"approximated"}


def test_missing_secret_file_is_reported():
    proj = project(svc("web", secrets=(FileRef(source="s"),)),
                   secrets={"s": FileObject(name="s", file="/proj/nope")})
    objs, report = convert(proj)
    assert report.statuses("secret", "s", "file") == {"not-converted"}
    assert "not-converted" in statuses(report, "web", "secrets[0]")


# ---- the real reader -------------------------------------------------------------------------

def test_reader_file_dir_missing_and_limits(tmp_path):
    (tmp_path / "a.conf").write_text("x")
    assert read_host_path(str(tmp_path / "a.conf")).files == (("a.conf", b"x"),)
    assert read_host_path(str(tmp_path / "nope")).kind == "missing"
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "one").write_bytes(b"1")
    (d / "sub" / "two").write_bytes(b"22")
    info = read_host_path(str(d))
    assert info.kind == "dir" and info.files == (("one", b"1"), ("sub/two", b"22"))
    assert read_host_path(str(d), max_files=1).files is None
    assert read_host_path(str(d), max_bytes=2).files is None
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100)
    assert read_host_path(str(big), max_bytes=10).files is None
    os.chmod(d / "one", 0o755)
    assert read_host_path(str(d)).executable == ("one",)
    assert read_host_path(str(d / "one")).executable == ("one",)
    assert read_host_path(str(d / "sub" / "two")).executable == ()


def test_reader_refuses_symlinks_and_special_files(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    os.symlink("/etc/passwd", d / "link")
    assert read_host_path(str(d)).files is None
    os.mkfifo(tmp_path / "fifo")
    assert read_host_path(str(tmp_path / "fifo")).kind == "other"

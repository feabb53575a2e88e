"""`c2k convert --format kustomize`: `kustomize build base` gives exactly what convert writes;
the dev and prod overlays build and change what they say they change."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from conftest_tools import OPTION_SETS, SAMPLES, objects_by_key, run_tool
from corpus import CORPUS, compose_files, corpus_dir
from converter.compose.loader import LoadOptions, load_project
from converter.emit import kustomize
from converter.errors import C2KError
from converter.kube.options import ConvertOptions
from converter.kube.transform import to_manifests
from helpers import REPO, run_c2k, write


def tree(tmp_path, folder: Path, options=None, *files):
    project = load_project(LoadOptions(files=files, cwd=str(folder), environ={})).project
    objects = to_manifests(project, options or ConvertOptions()).objects
    out = tmp_path / "kz"
    kustomize.write_kustomize(objects, project_name=project.name, output=str(out))
    return project, objects, out


def build(kustomize_bin, folder) -> dict:
    return objects_by_key(run_tool(kustomize_bin, "build", folder).stdout)


# ---- unit ---------------------------------------------------------------------------------------

def test_layout(tmp_path):
    project, objects, out = tree(tmp_path, REPO / "samples" / "storefront")
    base = yaml.safe_load((out / "base" / "kustomization.yaml").read_text())
    assert base["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert base["kind"] == "Kustomization"
    assert base["resources"] == [f"{o['metadata']['name']}-{o['kind'].lower()}.yaml"
                                 for o in objects]
    for name in base["resources"]:
        assert yaml.safe_load((out / "base" / name).read_text()) in objects
    assert {"name": "storefront-web", "newTag": "1.4.2"} in base["images"]
    dev = yaml.safe_load((out / "overlays" / "dev" / "kustomization.yaml").read_text())
    assert dev["namespace"] == "storefront-dev"
    assert {"name": "worker", "count": 1} in dev["replicas"]
    prod = yaml.safe_load((out / "overlays" / "prod" / "kustomization.yaml").read_text())
    assert {"name": "cache", "count": 2} in prod["replicas"]
    assert {"name": "worker", "count": 3} in prod["replicas"]


def test_image_entries_only_where_they_change_nothing():
    def deployment(name, *images):
        return {"kind": "Deployment", "metadata": {"name": name}, "spec": {"template": {
            "spec": {"containers": [{"name": f"c{i}", "image": im}
                                    for i, im in enumerate(images)]}}}}
    objects = [deployment("a", "redis:7", "pg:15", "x@sha256:" + "a" * 64, "plain"),
               deployment("b", "pg:16", "y:1@sha256:" + "b" * 64)]
    assert kustomize.image_entries(objects) == [
        {"name": "redis", "newTag": "7"}, {"name": "x", "digest": "sha256:" + "a" * 64}]


def test_same_bytes_twice(tmp_path):
    project, objects, out = tree(tmp_path, REPO / "samples" / "music-service")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    kustomize.write_kustomize(objects, project_name=project.name, output=str(out))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_cli_format_kustomize(tmp_path):
    compose = write(tmp_path, "compose.yaml", """
        name: demo
        services:
          web:
            image: nginx:1.27
    """)
    proc = run_c2k("convert", "-f", compose, "--format", "kustomize", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "base" / "web-deployment.yaml").is_file()
    (tmp_path / "file").write_text("")
    with pytest.raises(C2KError):
        kustomize.write_kustomize([], project_name="p", output=str(tmp_path / "file"))


# ---- kustomize build ---------------------------------------------------------------------------

@pytest.mark.tools
@pytest.mark.parametrize("options", OPTION_SETS, ids=list(OPTION_SETS))
@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_sample_base_builds_convert_and_overlays_build(tmp_path, kustomize_bin, sample, options):
    project, objects, out = tree(tmp_path, sample, OPTION_SETS[options])
    assert build(kustomize_bin, out / "base") == objects_by_key(objects)
    dev = build(kustomize_bin, out / "overlays" / "dev")
    prod = build(kustomize_bin, out / "overlays" / "prod")
    assert len(prod) == len(objects)
    for (kind, ns, name), obj in prod.items():
        if kind == "Deployment" and "replicas" in obj["spec"]:
            assert obj["spec"]["replicas"] >= 2
    for (kind, ns, name), obj in dev.items():
        if kind in kustomize.SCALABLE and "replicas" in obj["spec"]:
            assert obj["spec"]["replicas"] == 1
        if OPTION_SETS[options].namespace is None and kind != "Namespace":
            assert ns == f"{project.name}-dev", (kind, name)


@pytest.mark.tools
def test_overlays_change_only_replicas_and_namespace(tmp_path, kustomize_bin):
    project, objects, out = tree(tmp_path, REPO / "samples" / "storefront")
    expected = objects_by_key(copy.deepcopy(objects))
    for key in ("api", "cache", "web"):
        expected[("Deployment", None, key)]["spec"]["replicas"] = 2
    assert build(kustomize_bin, out / "overlays" / "prod") == expected
    dev = build(kustomize_bin, out / "overlays" / "dev")
    namespace = dev.pop(("Namespace", None, "storefront-dev"))
    assert namespace["apiVersion"] == "v1"
    want = {}
    for (kind, _, name), obj in objects_by_key(copy.deepcopy(objects)).items():
        obj["metadata"] = {"name": name, "namespace": "storefront-dev",
                           **{k: v for k, v in obj["metadata"].items() if k != "name"}}
        if kind in ("Deployment", "StatefulSet"):
            obj["spec"]["replicas"] = 1
        if kind == "RoleBinding":
            for subject in obj["subjects"]:
                subject["namespace"] = "storefront-dev"
        want[(kind, "storefront-dev", name)] = obj
    # kustomize also moves the Ingress/Service references and the RoleBinding's ServiceAccount
    # subjects along; names stay as they are
    assert dev == want


@pytest.mark.tools
def test_new_tag_in_the_base_changes_only_that_image(tmp_path, kustomize_bin):
    project, objects, out = tree(tmp_path, REPO / "samples" / "storefront")
    path = out / "base" / "kustomization.yaml"
    base = yaml.safe_load(path.read_text())
    for entry in base["images"]:
        if entry["name"] == "storefront-web":
            entry["newTag"] = "2.0.0"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    expected = objects_by_key(copy.deepcopy(objects))
    expected[("Deployment", None, "web")]["spec"]["template"]["spec"]["containers"][0][
        "image"] = "storefront-web:2.0.0"
    assert build(kustomize_bin, out / "base") == expected


@pytest.mark.corpus
@pytest.mark.tools
@pytest.mark.parametrize("path", compose_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_base_builds_convert(tmp_path, kustomize_bin, path):
    corpus_dir()
    try:
        project = load_project(LoadOptions(files=(str(path),), environ={})).project
        objects = to_manifests(project, ConvertOptions()).objects
    except C2KError:
        pytest.skip("the loader or the conversion rejects this file")
    out = tmp_path / "kz"
    kustomize.write_kustomize(objects, project_name=project.name, output=str(out))
    assert build(kustomize_bin, out / "base") == objects_by_key(objects)
    build(kustomize_bin, out / "overlays" / "dev")
    build(kustomize_bin, out / "overlays" / "prod")


@pytest.mark.cluster
@pytest.mark.tools
def test_base_applies_with_kubectl_k(tmp_path, cluster_kubeconfig):
    from cluster_util import KINDS, delete_namespace, get_json, kubectl, new_namespace_name
    project, objects, out = tree(tmp_path, REPO / "samples" / "storefront")
    ns = new_namespace_name()
    try:
        kubectl(cluster_kubeconfig, "create", "namespace", ns)
        kubectl(cluster_kubeconfig, "apply", "--server-side", "-n", ns, "-k", out / "base")
        live = {(o["kind"], o["metadata"]["name"])
                for o in get_json(cluster_kubeconfig, KINDS, "-n", ns)["items"]}
        assert {(o["kind"], o["metadata"]["name"]) for o in objects} <= live
    finally:
        delete_namespace(cluster_kubeconfig, ns)

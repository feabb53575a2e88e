"""`c2k migrate`: the Kustomize layout of a project's environments.

Every overlay of every case, built by kustomize, is what `c2k convert` writes for that
environment's files (names of generated objects aside: kustomize appends a content hash); no
secret value of the inputs is in the layout; `--check` sees an edited compose file; the
environments are found by their file names; the JSON patches turn the base into the
environment; `c2k graph` draws the conversion.
"""

from __future__ import annotations

import base64
import copy
import random
import re
import shutil
from pathlib import Path

import helm_util
import pytest
import yaml
from conftest_tools import run_tool
from corpus import CORPUS, corpus_dir

from converter.emit import helm
from converter.migrate import delta as deltas
from converter.migrate import environments
from converter.migrate.generators import kustomize_env
from helpers import REPO, run_c2k_here, write

SAMPLES = REPO / "samples"
ENV_FILE = re.compile(r"^(?:docker-)?compose\.([a-z0-9-]+)\.ya?ml$")
MAIN_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")

# A project that uses every way a value reaches the cluster: an env_file, a secret from a
# variable of .env, a secret file, a config from content, a bind-mounted config file; each
# environment changes something else (ports, an added service, an image, a secret file).
MIXED = {
    ".env": "TOKEN=tok-7f3a9c1e55\nTAG=1.0\n",
    "app.env": "MODE=served\nGREETING=hello world\n",
    "secrets/db.txt": "pw-0b5e8d2c77\n",
    "secrets/db.staging.txt": "pw-staging-91ac4f\n",
    "conf/site.conf": "listen 8080;\n",
    "compose.yaml": """\
        services:
          app:
            image: example/app:${TAG}
            env_file: app.env
            environment:
              DB_URL: postgres://db:5432/app
            secrets: [token, db]
            configs: [banner]
            volumes: ["./conf/site.conf:/etc/site.conf:ro"]
            ports: ["8080:8080"]
          db:
            image: postgres:15
            secrets: [db]
            expose: ["5432"]
            volumes: [data:/var/lib/postgresql/data]
        volumes:
          data: {}
        secrets:
          token:
            environment: TOKEN
          db:
            file: ./secrets/db.txt
        configs:
          banner:
            content: welcome
        """,
    "compose.override.yaml": """\
        services:
          app:
            ports: !override ["9090:8080"]
            environment:
              DEBUG: "1"
          mail:
            image: example/mailcatcher:1
            expose: ["1025"]
        """,
    "compose.staging.yaml": """\
        services:
          app:
            image: example/app:2.0
            deploy:
              replicas: 3
              resources:
                limits: {cpus: "1", memory: 256M}
        secrets:
          db:
            file: ./secrets/db.staging.txt
        """,
}


def mixed(folder: Path) -> Path:
    for name, text in MIXED.items():
        write(folder, name, text)
    return folder


def sample(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(SAMPLES / name, folder)
    return folder


def migrate(folder: Path, *args) -> Path:
    out = folder / "k8s"
    proc = run_c2k_here("migrate", *args, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return out


def expected_environments(folder: Path) -> dict[str, list[str]]:
    """The environments and their files, found here as a reader of the issue would: the main
    file is the base; compose.override.* is dev; compose.<env>.* is <env>."""
    main = next(f for f in MAIN_FILES if (folder / f).is_file())
    envs = {"base": [main]}
    for path in sorted(folder.iterdir()):
        match = ENV_FILE.match(path.name)
        if match:
            envs["dev" if match.group(1) == "override" else match.group(1)] = [main, path.name]
    return envs


def convert(folder: Path, files: list[str]) -> dict | None:
    """{(kind, name): object} of `c2k convert` of `files`; None when they do not load."""
    args = [a for f in files for a in ("-f", f)]
    proc = run_c2k_here(*args, "-q", "convert", cwd=folder)
    if proc.returncode != 0:
        return None
    return {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(proc.stdout) if o}


def without_hashes(docs: list[dict]) -> dict:
    """Built objects keyed as convert's: kustomize's `<name>-<hash>` of generated Secrets and
    ConfigMaps back to `<name>`, in their names and in every reference to them."""
    renamed = {}
    for obj in docs:
        match = re.fullmatch(r"(.+)-[a-z0-9]{10}", obj["metadata"]["name"])
        if obj["kind"] in ("Secret", "ConfigMap") and match:
            renamed[obj["metadata"]["name"]] = match.group(1)

    def fix(value):
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return renamed.get(value, value) if isinstance(value, str) else value
    return {(o["kind"], fix(o["metadata"]["name"])): fix(o) for o in docs}


def build(kustomize_bin: str, folder: Path) -> dict:
    proc = run_tool(kustomize_bin, "build", "--load-restrictor", "LoadRestrictionsNone", folder)
    return without_hashes([d for d in yaml.safe_load_all(proc.stdout) if d])


def layout_text(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


# ---- which cases --------------------------------------------------------------------------------

def realworld_with_environments() -> list[Path]:
    root = CORPUS / "realworld"
    if not root.exists():
        return []
    return [p for p in sorted(root.iterdir()) if p.is_dir()
            and any(ENV_FILE.match(f.name) for f in p.iterdir())
            and any((p / m).is_file() for m in MAIN_FILES)]


CASES = ["storefront", "music-service", "django-postgres", "mixed"]


def case_folder(case: str, tmp_path: Path) -> Path:
    if case == "mixed":
        return mixed(tmp_path / "mixed")
    return sample(case, tmp_path)


# ---- kustomize build == c2k convert, for every environment --------------------------------------

def check_every_environment(kustomize_bin, folder: Path, out: Path, *, cwd: Path) -> list[str]:
    envs = expected_environments(folder)
    layout_envs = {"base"} | {p.name for p in (out / "overlays").iterdir()} \
        if (out / "overlays").is_dir() else {"base"}
    assert layout_envs == set(envs)
    for name, files in envs.items():
        want = convert(cwd, [str(folder / f) for f in files])
        if want is None:        # the common file is no project alone: the base is dev's
            assert name == "base"
            want = convert(cwd, [str(folder / f) for f in envs["dev"]])
        got = build(kustomize_bin, out / ("base" if name == "base" else f"overlays/{name}"))
        assert sorted(got) == sorted(want), name
        for key in want:
            assert got[key] == want[key], (name, key)
    return sorted(envs)


@pytest.mark.tools
@pytest.mark.parametrize("case", CASES)
def test_every_overlay_builds_what_convert_writes(tmp_path, kustomize_bin, case):
    folder = case_folder(case, tmp_path)
    out = migrate(folder)
    envs = check_every_environment(kustomize_bin, folder, out, cwd=folder)
    assert {"storefront": ["base", "prod"], "music-service": ["base", "prod"],
            "django-postgres": ["base"],
            "mixed": ["base", "dev", "staging"]}[case] == envs


@pytest.mark.tools
@pytest.mark.parametrize("project", realworld_with_environments(), ids=lambda p: p.name)
def test_realworld_projects_with_several_files_migrate_and_build(tmp_path, kustomize_bin,
                                                                 project):
    folder = corpus_dir("realworld", project.name)
    out = tmp_path / "k8s"
    proc = run_c2k_here("migrate", "-o", out, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert len(check_every_environment(kustomize_bin, folder, out, cwd=folder)) >= 2


def test_the_corpus_has_realworld_projects_with_environments():
    corpus_dir("realworld")
    assert {p.name for p in realworld_with_environments()} >= {"zulip-docker-zulip",
                                                               "mattermost-docker"}


@pytest.mark.tools
def test_committed_sample_layouts_build(kustomize_bin):
    """outputs/<sample>/migrate builds where it is committed (its generators read samples/)."""
    for name in ("storefront", "music-service"):
        out = REPO / "outputs" / name / "migrate"
        prod = build(kustomize_bin, out / "overlays" / "prod")
        want = convert(SAMPLES / name, [str(SAMPLES / name / f)
                                        for f in expected_environments(SAMPLES / name)["prod"]])
        assert prod == want


# ---- what the layout holds ----------------------------------------------------------------------

def secret_values(folder: Path, files_per_env) -> set[str]:
    """Every value of a Secret c2k convert writes for any environment, and every secret file."""
    values = set()
    for files in files_per_env:
        for obj in (convert(folder, files) or {}).values():
            if obj["kind"] == "Secret":
                values |= {base64.b64decode(v).decode("utf-8", "replace").strip()
                           for v in (obj.get("data") or {}).values()}
    for path in (folder / "secrets").glob("*") if (folder / "secrets").is_dir() else ():
        values.add(path.read_text().strip())
    return {v for v in values if len(v) >= 6}


@pytest.mark.parametrize("case", CASES)
def test_no_secret_value_in_the_layout(tmp_path, case):
    folder = case_folder(case, tmp_path)
    out = migrate(folder)
    values = secret_values(folder, [[str(folder / f) for f in files]
                                    for files in expected_environments(folder).values()])
    if case in ("storefront", "django-postgres", "mixed"):
        assert values, "the case has secrets"
    text = layout_text(out)
    assert [v for v in values if v in text] == []


def test_no_secret_value_of_a_realworld_dotenv_in_the_layout(tmp_path):
    folder = corpus_dir("realworld", "zulip-docker-zulip")
    out = tmp_path / "k8s"
    assert run_c2k_here("migrate", "-o", out, cwd=folder).returncode == 0
    values = secret_values(folder, [[str(folder / "compose.yaml"),
                                     str(folder / "compose.override.yaml")]])
    assert len(values) >= 5
    text = layout_text(out)
    assert [v for v in values if v in text] == []
    kustomization = yaml.safe_load((out / "base" / "kustomization.yaml").read_text())
    assert kustomization["replacements"]            # the values come from .env at build time


def test_layout_of_the_mixed_project(tmp_path):
    folder = mixed(tmp_path / "p")
    out = migrate(folder)
    base = yaml.safe_load((out / "base" / "kustomization.yaml").read_text())
    generated = {g["name"]: g for g in base["secretGenerator"] + base["configMapGenerator"]}
    assert generated["db"]["files"] == ["db=../../secrets/db.txt"]
    assert generated["app-env"]["envs"] == ["../../app.env"]
    assert "literals" in generated["token"] and base["replacements"][0]["source"][
        "fieldPath"] == "data.TOKEN"
    assert "banner-configmap.yaml" in base["resources"]      # content: is in the compose file
    staging = yaml.safe_load((out / "overlays" / "staging" / "kustomization.yaml").read_text())
    assert staging["replicas"] == [{"name": "app", "count": 3}]
    assert staging["secretGenerator"] == [{"name": "db", "behavior": "replace",
                                           "files": ["db=../../../secrets/db.staging.txt"],
                                           "type": "Opaque", "options": {"labels": generated[
                                               "db"]["options"]["labels"]}}]
    dev = yaml.safe_load((out / "overlays" / "dev" / "kustomization.yaml").read_text())
    assert "mail-deployment.yaml" in dev["resources"]
    # no absolute path, nothing of this machine
    assert str(tmp_path) not in layout_text(out)
    notes = (out / "MIGRATION.md").read_text()
    for part in ("## Checklist", "```mermaid", "overlays/staging", "--check", "`TAG`",
                 "LoadRestrictionsNone", "rolls the pods", "/secrets/db.txt"):
        assert part in notes, part


def test_migrate_is_deterministic_and_check_passes_on_what_it_wrote(tmp_path):
    folder = sample("storefront", tmp_path)
    out = migrate(folder)
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    migrate(folder)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == first
    proc = run_c2k_here("migrate", "--check", cwd=folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_shows_what_an_edited_compose_file_changes(tmp_path):
    folder = sample("music-service", tmp_path)
    out = migrate(folder)
    before = layout_text(out)
    prod = folder / "docker-compose.prod.yml"
    prod.write_text(prod.read_text().replace('DJANGO_DEBUG: "0"',
                                             'DJANGO_DEBUG: "0"\n      LOG_LEVEL: warning'))
    proc = run_c2k_here("migrate", "--check", cwd=folder)
    assert proc.returncode == 1
    assert "+++ b/overlays/prod/patches/web-deployment.yaml" in proc.stdout
    assert "+  - name: LOG_LEVEL" in proc.stdout
    assert "is not what the compose files give" in proc.stderr
    assert layout_text(out) == before                 # --check writes nothing


def test_check_ignores_a_changed_secret_file_the_layout_only_reads(tmp_path):
    folder = sample("storefront", tmp_path)
    migrate(folder)
    (folder / "secrets" / "db_password.txt").write_text("another-password\n")
    assert run_c2k_here("migrate", "--check", cwd=folder).returncode == 0


def test_a_removed_environment_file_removes_its_overlay(tmp_path):
    folder = mixed(tmp_path / "p")
    out = migrate(folder)
    (folder / "compose.staging.yaml").unlink()
    assert run_c2k_here("migrate", "--check", cwd=folder).returncode == 1
    migrate(folder)
    assert not (out / "overlays" / "staging" / "kustomization.yaml").exists()


def test_env_option_names_the_environments(tmp_path):
    folder = mixed(tmp_path / "p")
    out = migrate(folder, "--env", "qa=compose.staging.yaml")
    assert sorted(p.name for p in (out / "overlays").iterdir()) == ["qa"]
    assert "--env qa=compose.staging.yaml" in (out / "MIGRATION.md").read_text()
    bad = run_c2k_here("migrate", "--env", "Bad_Name=compose.staging.yaml", cwd=folder)
    assert bad.returncode == 1 and "not usable as a folder name" in bad.stderr
    missing = run_c2k_here("migrate", "--env", "qa", cwd=folder)
    assert missing.returncode == 1 and "NAME=FILE" in missing.stderr


# ---- environments -------------------------------------------------------------------------------

def test_environments_are_found_by_their_file_names(tmp_path):
    for name in ("compose.yaml", "compose.override.yml", "compose.prod.yaml",
                 "docker-compose.staging.yml", "compose.override.yaml.example", "compose.txt"):
        write(tmp_path, name, "services: {}\n")
    found = environments.detect([str(tmp_path / "compose.yaml")])
    assert [(e.name, [Path(f).name for f in e.files]) for e in found] == [
        ("dev", ["compose.yaml", "compose.override.yml"]),
        ("prod", ["compose.yaml", "compose.prod.yaml"]),
        ("staging", ["compose.yaml", "docker-compose.staging.yml"])]
    # a common file is not an environment
    both = [str(tmp_path / "compose.yaml"), str(tmp_path / "compose.prod.yaml")]
    assert [e.name for e in environments.detect(both)] == ["dev", "staging"]


def test_two_files_of_one_environment_are_an_error(tmp_path):
    for name in ("compose.yaml", "compose.prod.yaml", "compose.prod.yml"):
        write(tmp_path, name, "services: {}\n")
    with pytest.raises(environments.C2KError, match="several files"):
        environments.detect([str(tmp_path / "compose.yaml")])


def test_kustomize_env_reads_env_files_as_kustomize_does():
    assert kustomize_env(b"A=1\n  B = two\nC=\"q\"\n# c\n\nD=x # y\n") == {
        "A": "1", "B ": " two", "C": '"q"', "D": "x # y"}
    assert kustomize_env(b"A=1\nNOVALUE\n") is None


# ---- JSON Patch ---------------------------------------------------------------------------------

def apply_patch(doc, ops):
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        if not parts:
            doc = op["value"]
            continue
        if op["op"] == "test":
            node = doc
            for p in parts:
                node = node[int(p)] if isinstance(node, list) else node[p]
            assert node == op["value"], op
            continue
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op["op"] == "remove":
                del parent[index]
            elif op["op"] == "add":
                parent.insert(index, op["value"])
            else:
                parent[index] = op["value"]
        elif op["op"] == "remove":
            del parent[last]
        else:
            parent[last] = op["value"]
    return doc


def random_doc(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice([1, 2, "a", "b", True, None, "x/y", "t~"])
    if roll < 0.65:
        return {rng.choice(["a", "b", "c/d", "e~f", "name"]): random_doc(rng, depth + 1)
                for _ in range(rng.randint(0, 4))}
    return [random_doc(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_json_patch_turns_before_into_after():
    rng = random.Random(24)
    for _ in range(3000):
        before, after = random_doc(rng), random_doc(rng)
        if rng.random() < 0.5 and isinstance(before, (dict, list)):
            after = copy.deepcopy(before)       # a small change of the same document
            if isinstance(after, dict):
                after[rng.choice(["a", "z/1"])] = random_doc(rng)
            else:
                after.insert(rng.randint(0, len(after)), random_doc(rng))
        ops = deltas.diff(before, after)
        assert apply_patch(before, ops) == after, (before, after)
        assert apply_patch(before, deltas.guarded(before, ops)) == after, (before, after)


def test_a_changed_list_item_is_patched_in_place():
    before = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    after = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]}
    ops = deltas.diff(before, after)
    assert ops == [{"op": "replace", "path": "/env/1/value", "value": "3"}]
    assert deltas.guarded(before, ops) == [{"op": "test", "path": "/env/1/name", "value": "B"},
                                           *ops]


def merge_values(base: dict, override: dict) -> dict:
    """Helm's merge of a values file over another: maps key by key, null deletes."""
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


def test_values_override_is_what_helm_merges_over_the_base_values():
    rng = random.Random(4)
    for _ in range(2000):
        before, after = random_doc(rng), random_doc(rng)
        if not isinstance(before, dict) or not isinstance(after, dict):
            continue
        after = without_nulls(after)                # null is Helm's delete, never a value
        override = deltas.values_override(before, after)
        assert merge_values(before, override) == after, (before, after)
    assert deltas.values_override({"web": {"replicas": 1, "image": "a"}, "old": 1},
                                  {"web": {"replicas": 3, "image": "a"}}) == {
        "web": {"replicas": 3}, "old": None}


# ---- --format helm: the chart and a values-<env>.yaml per environment ---------------------------

def helm_render(helm_bin, folder: Path, files: list[str], chart_dir: Path, tmp_path: Path,
                *values_files) -> tuple[dict, dict]:
    """(what `helm template` renders of `chart_dir` with `values_files`, what it renders of the
    chart `c2k convert --format helm` writes for `files`), both with the secrets of `files`
    given, as the release named like the project, Helm's chart label left out."""
    project, result, chart, own = helm_util.make_chart(tmp_path / "own", folder, None, *files,
                                                       environ={})
    secrets = helm_util.secret_values(chart, result, tmp_path / "secrets.yaml")
    release = helm.chart_name(project.name)[:53]
    args = [a for f in values_files for a in ("-f", f)]
    got = helm_util.template(helm_bin, chart_dir, release, *args, "-f", secrets)
    want = helm_util.template(helm_bin, own, release, "-f", secrets)
    # and the environment's own chart renders convert's objects, the release's names put back
    assert helm_util.renamed_back(helm_util.without_helm_labels(want), result.objects,
                                  release) == helm_util.as_helm_writes(result.objects, release)
    return got, want


def check_helm_environments(helm_bin, folder: Path, tmp_path: Path) -> None:
    """`c2k migrate --format helm` of `folder` lints and renders, with each values-<env>.yaml,
    what the chart of that environment's own files renders."""
    out = tmp_path / "chart"
    proc = run_c2k_here("migrate", "--format", "helm", "-o", out, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    envs = expected_environments(folder)
    assert sorted(p.name for p in out.glob("values-*.yaml")) == sorted(
        f"values-{e}.yaml" for e in envs if e != "base")
    if convert(folder, [str(folder / f) for f in envs["base"]]) is None:
        envs["base"] = envs["dev"]      # the common file is no project alone: the base is dev's
    for name, files in envs.items():
        values = [] if name == "base" else [out / f"values-{name}.yaml"]
        helm_util.lint(helm_bin, out, *[a for f in values for a in ("-f", f)])
        got, want = helm_render(helm_bin, folder, [str(folder / f) for f in files], out,
                                tmp_path / name, *values)
        assert sorted(got) == sorted(want), name
        for key in want:
            assert got[key] == want[key], (name, key)


@pytest.mark.tools
@pytest.mark.parametrize("case", ["storefront", "music-service", "mixed"])
def test_helm_values_of_each_environment_render_its_own_chart(tmp_path, helm_bin, case):
    check_helm_environments(helm_bin, case_folder(case, tmp_path), tmp_path)


@pytest.mark.tools
@pytest.mark.parametrize("project", realworld_with_environments(), ids=lambda p: p.name)
def test_helm_values_of_realworld_environments_render_their_own_charts(tmp_path, helm_bin,
                                                                       project):
    check_helm_environments(helm_bin, corpus_dir("realworld", project.name), tmp_path)


def test_helm_reports_what_its_values_do_not_carry(tmp_path):
    """Differences outside values (an object only in one environment, a config file's text, a
    tmpfs size, a container's name) are warnings and the chart README's checklist."""
    expected = {
        "storefront": ["prod: templates/app-settings-configmap.yaml (app-settings-configmap) "
                       "differs beyond the values (now `feature.reviews=true`, `cache.ttl=300`)",
                       "prod: templates/db-statefulset.yaml (db-statefulset) differs beyond "
                       "the values (now `sizeLimit: 256Mi`)"],
        "music-service": ["prod: templates/web-deployment.yaml (web-deployment) differs "
                          "beyond the values (now `- name: web`)",
                          "prod: templates/web-ingress.yaml (web-ingress) is not in prod"],
        "mixed": ["dev: templates/mail-deployment.yaml (mail-deployment) is only in dev"],
    }
    for case, lines in expected.items():
        folder = case_folder(case, tmp_path)
        out = tmp_path / case / "chart"
        proc = run_c2k_here("migrate", "--format", "helm", "-o", out, cwd=folder)
        assert proc.returncode == 0, proc.stderr
        readme = (out / "README.md").read_text()
        for line in lines:
            assert f"warning: {line}" in proc.stderr, (case, line, proc.stderr)
            assert f"- [ ] {line}" in readme, (case, line)
        assert "values-prod.yaml" in readme or case == "mixed"


@pytest.mark.parametrize("case", ["storefront", "mixed"])
def test_no_secret_value_in_the_chart_or_its_environments(tmp_path, case):
    folder = case_folder(case, tmp_path)
    out = tmp_path / "chart"
    assert run_c2k_here("migrate", "--format", "helm", "-o", out, cwd=folder).returncode == 0
    values = secret_values(folder, [[str(folder / f) for f in files]
                                    for files in expected_environments(folder).values()])
    assert values
    text = layout_text(out)
    assert list(out.glob("values-*.yaml")) and [v for v in values if v in text] == []


def test_helm_migrate_is_deterministic_and_check_passes_on_what_it_wrote(tmp_path):
    folder = sample("music-service", tmp_path)
    proc = run_c2k_here("migrate", "--format", "helm", "-o", "chart", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    first = {p: p.read_bytes() for p in (folder / "chart").rglob("*") if p.is_file()}
    assert run_c2k_here("migrate", "--format", "helm", "-o", "chart", cwd=folder).returncode == 0
    assert {p: p.read_bytes() for p in (folder / "chart").rglob("*") if p.is_file()} == first
    assert run_c2k_here("migrate", "--format", "helm", "-o", "chart", "--check",
                   cwd=folder).returncode == 0
    prod = folder / "docker-compose.prod.yml"
    prod.write_text(prod.read_text().replace('DJANGO_DEBUG: "0"', 'DJANGO_DEBUG: "2"'))
    proc = run_c2k_here("migrate", "--format", "helm", "-o", "chart", "--check", cwd=folder)
    assert proc.returncode == 1
    assert "+++ b/values-prod.yaml" in proc.stdout and "value: \"2\"" in proc.stdout
    assert "c2k migrate -o chart --format helm" in proc.stderr


# ---- graph --------------------------------------------------------------------------------------

def test_graph_draws_services_workloads_ports_claims_and_wiring():
    folder = SAMPLES / "storefront"
    proc = run_c2k_here("graph", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("flowchart LR\n")
    assert 'w_db["StatefulSet db' in text and "w_db -->|mounts| pvc_db_data" in text
    assert 's_web(["Service web: 80, 8080→80 [NodePort]"])' in text
    assert "s_api --> w_api" in text
    assert "w_api -.->|:6379| s_cache" in text               # CACHE_URL: redis://cache:6379/0
    assert "class " in text and "⚠" in text                  # approximations marked
    dot = run_c2k_here("graph", "--format", "dot", cwd=folder).stdout
    assert dot.startswith("digraph c2k {") and "w_api -> s_cache [label=\":6379\"" in dot


def test_graph_marks_a_reference_no_service_forwards(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          app:
            image: app:1
            environment:
              DB: main_db:5432
          main_db:
            image: postgres:15
            expose: ["5432"]
        """)
    # main_db is named main-db on Kubernetes: `main_db` resolves to nothing there
    text = run_c2k_here("-q", "graph", cwd=tmp_path).stdout
    assert 'x_main_db(["main_db (no Service)"])' in text
    assert "w_app -.-x|✗ :5432| x_main_db" in text
    dot = run_c2k_here("-q", "graph", "--format", "dot", cwd=tmp_path).stdout
    assert 'w_app -> x_main_db [label="✗ :5432", style=dashed, color="#dc2626"];' in dot


def test_a_secret_from_the_shell_is_a_file_the_user_supplies(tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          app:
            image: app:1
            secrets: [token]
        secrets:
          token:
            environment: TOKEN
        """)
    proc = run_c2k_here("migrate", cwd=tmp_path, env={"TOKEN": "shell-secret-5d1e"})
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "k8s"
    assert "shell-secret-5d1e" not in layout_text(out)
    assert (out / ".gitignore").read_text().splitlines()[1:] == ["/secrets/token/token"]
    base = yaml.safe_load((out / "base" / "kustomization.yaml").read_text())
    assert base["secretGenerator"][0]["files"] == ["token=../secrets/token/token"]
    assert "`secrets/token/token` (you supply it)" in (out / "MIGRATION.md").read_text()


# ---- values from .env stay references to it -----------------------------------------------------

# Each way a .env value reaches an object: a whole env value, an image's tag, a replica count,
# a word of a command; and each way it cannot stay a reference: glued into a longer word (HOST),
# taken from the shell (REGION), parsed by compose (DATA, a bind mount's path); prod adds a
# service whose image tag is the same variable.
REFERENCED = {
    ".env": "TAG=1.0\nDB_NAME=shop\nREPLICAS=2\nHOST=db\nDATA=./data\n",
    "compose.yaml": """\
        services:
          app:
            image: example/app:${TAG}
            command: ["serve", "--db", "${DB_NAME}"]
            environment:
              DB_NAME: ${DB_NAME}
              DB_URL: postgres://${HOST}x:5432/app
              REGION: ${REGION}
            deploy:
              replicas: ${REPLICAS}
            volumes: ["${DATA}:/data"]
        """,
    "compose.prod.yaml": """\
        services:
          worker:
            image: example/worker:${TAG}
            environment:
              DB_NAME: ${DB_NAME}
        """,
}


def referenced(folder: Path) -> Path:
    for name, text in REFERENCED.items():
        write(folder, name, text)
    (folder / "data").mkdir()
    return folder


def containers(objects: dict, name: str) -> dict:
    spec = objects[("Deployment", name)]["spec"]
    return {c["name"]: c for c in spec["template"]["spec"]["containers"]}


@pytest.mark.tools
def test_a_changed_dotenv_value_reaches_the_build_without_migrating_again(tmp_path,
                                                                          kustomize_bin):
    folder = referenced(tmp_path / "p")
    shell = {"REGION": "eu-1"}
    out = tmp_path / "p" / "k8s"
    assert run_c2k_here("migrate", cwd=folder, env=shell).returncode == 0
    app = (out / "base" / "app-deployment.yaml").read_text()
    assert "image: example/app:${TAG}" in app and "value: ${DB_NAME}" in app
    (folder / ".env").write_text(REFERENCED[".env"].replace("TAG=1.0", "TAG=2.5")
                                 .replace("DB_NAME=shop", "DB_NAME=orders")
                                 .replace("REPLICAS=2", "REPLICAS=4"))
    for env, files in (("base", ["compose.yaml"]), ("prod", ["compose.yaml",
                                                             "compose.prod.yaml"])):
        got = build(kustomize_bin, out / ("base" if env == "base" else f"overlays/{env}"))
        args = [a for f in files for a in ("-f", f)]
        proc = run_c2k_here(*args, "-q", "convert", cwd=folder, env=shell)
        want = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(proc.stdout)
                if o}
        assert got == want, env
        app = containers(got, "app")["app"]
        assert app["image"] == "example/app:2.5"
        assert app["args"][-1] == "orders"
        assert {e["name"]: e["value"] for e in app["env"]}["DB_NAME"] == "orders"
        assert got[("Deployment", "app")]["spec"]["replicas"] == 4
        # the ConfigMap of .env is kustomize's alone: never in its output
        assert not [key for key in got if key[1].startswith(("c2k-vars", "c2k-dotenv"))]
    assert containers(got, "worker")["worker"]["image"] == "example/worker:2.5"
    # the layout holds the references, not the values (a number keeps its value: kustomize
    # keeps a target's type, and MIGRATION.md counts the replicas)
    (folder / ".env").write_text((folder / ".env").read_text().replace("REPLICAS=4",
                                                                         "REPLICAS=2"))
    assert run_c2k_here("migrate", "--check", cwd=folder, env=shell).returncode == 0


def test_what_cannot_stay_a_reference_is_written_in_with_the_reason(tmp_path):
    folder = referenced(tmp_path / "p")
    assert run_c2k_here("migrate", cwd=folder, env={"REGION": "eu-1"}).returncode == 0
    out = folder / "k8s"
    app = (out / "base" / "app-deployment.yaml").read_text()
    assert "postgres://dbx:5432/app" in app and "value: eu-1" in app
    notes = (out / "MIGRATION.md").read_text()
    section = notes[notes.index("## Values from the environment"):notes.index("## Checklist")]
    kept, written = section.split("These were written into the layout")
    for var in ("TAG", "DB_NAME", "REPLICAS"):
        assert f"| `{var}` | `.env` |" in kept, var
    assert "(item 1 of its split at `:`)" in kept
    assert "- `HOST`: Deployment app `spec.template.spec.containers.[name=app].env." \
           "[name=DB_URL].value` holds it converted, or inside a longer value" in written
    assert "- `REGION`: it comes from the shell's environment" in written
    assert "- `DATA`: the project does not load with another value in its place" in written
    base = yaml.safe_load((out / "base" / "kustomization.yaml").read_text())
    local = next(g for g in base["configMapGenerator"] if g["name"] == "c2k-vars-base-1")
    assert local == {"name": "c2k-vars-base-1", "envs": ["../../.env"], "options": {
        "annotations": {"config.kubernetes.io/local-config": "true"}}}
    tag = next(r for r in base["replacements"] if r["source"]["fieldPath"] == "data.TAG")
    assert tag["targets"] == [{"select": {"kind": "Deployment", "name": "app"},
                               "fieldPaths": ["spec.template.spec.containers.[name=app].image"],
                               "options": {"delimiter": ":", "index": 1}}]
    prod = yaml.safe_load((out / "overlays" / "prod" / "kustomization.yaml").read_text())
    assert {t["select"]["name"] for r in prod["replacements"] for t in r["targets"]} == {
        "worker"}                       # the base's references are the base's


def test_an_equal_value_is_no_reference(tmp_path):
    """A field that only happens to hold a variable's value stays as written."""
    write(tmp_path, ".env", "TAG=1.0\n")
    write(tmp_path, "compose.yaml", """\
        services:
          app:
            image: example/app:1.0
            environment:
              VERSION: "1.0"
              TAGGED: ${TAG}
        """)
    assert run_c2k_here("migrate", cwd=tmp_path).returncode == 0
    app = (tmp_path / "k8s" / "base" / "app-deployment.yaml").read_text()
    assert "image: example/app:1.0" in app and "value: \"1.0\"" in app
    assert "value: ${TAG}" in app


def test_a_variable_is_a_reference_only_where_every_field_it_changes_holds_it():
    from converter.migrate import references

    def deployment(name="web", image="app:1.0", replicas=2, url="db1.0x"):
        return {"kind": "Deployment", "metadata": {"name": name}, "spec": {
            "replicas": replicas, "template": {"spec": {"containers": [
                {"name": "web", "image": image, "env": [{"name": "URL", "value": url}]}]}}}}

    def compare(after, value="1.0", marker="c2kmarker7q"):
        return references._compare([deployment()], [after], "V", value, marker, "/p/.env")

    refs, reason = compare(deployment(image="app:c2kmarker7q"))
    assert reason == "" and [(r.field_path, r.delimiter, r.index) for r in refs] == [
        ("spec.template.spec.containers.[name=web].image", ":", 1)]
    refs, reason = references._compare([deployment()], [deployment(replicas=3)], "N", "2",
                                       "3", "/p/.env")
    assert [(r.field_path, r.delimiter) for r in refs] == [("spec.replicas", "")]
    assert compare(deployment(url="dbc2kmarker7qx"))[1].startswith(
        "Deployment web `spec.template.spec.containers.[name=web].env.[name=URL].value` holds "
        "it converted")
    assert compare(deployment(name="c2kmarker7q"))[1].startswith("it is part of an object's")
    named = deployment()
    named["spec"]["template"]["spec"]["containers"][0]["name"] = "c2kmarker7q"
    assert compare(named)[1].startswith("it names the list item Deployment web")
    assert compare(deployment(image="app:c2kmarker7q", url="db1.0x"))[1] == ""
    shape = deployment(image="app:c2kmarker7q")
    shape["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "B", "value": ""})
    assert compare(shape)[1].startswith("it changes the shape of Deployment web")
    # a delimiter inside the value would move the part kustomize replaces: no reference
    assert references._compare([deployment(image="app:1:0")], [deployment(image="app:x")],
                               "V", "1:0", "x", "/p/.env")[1].endswith("sets it apart")

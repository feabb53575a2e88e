"""`c2k convert --format helm`: a chart scoped to its release that Helm accepts.

- with keepComposeNames, the release named like the project and the secrets given, `helm
  template` renders exactly what `convert` writes (Helm's labels apart);
- any other release names every object after itself and every reference follows: the objects
  a release renders name only objects of that release, and the hosts its services name are its
  own Services (`dangling`);
- values in the conventional shape, checked by the schema; secrets never in the chart;
  one-shots as hooks where compose's order allows it; `helm lint --strict` clean.
The unit tests need nothing; the `tools` tests run helm built by tests/tools/build (skipped
with the reason when it cannot be built, failing when CI=true). The two releases on a real
cluster are in test_helm_cluster.py.
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from conftest_tools import OPTION_SETS, SAMPLES, run_tool
from helm_util import (
    HOOKED,
    convert,
    dangling,
    external_refs,
    lint,
    make_chart,
    renamed_back,
    rendered_equals_convert,
    secret_values,
    template,
    without_helm_labels,
)

from converter.emit import helm
from converter.emit.helm import hooks, hosts, pods
from converter.emit.yamlio import dump_all
from converter.errors import C2KError
from helpers import REPO, c2k_in_process, run_c2k, write

STOREFRONT = REPO / "samples" / "storefront"


# ---- unit: no helm needed ---------------------------------------------------------------------

def test_names_and_expressions():
    assert helm.camel("my-web") == "myWeb"
    assert helm.chart_name("My_Project") == "my-project"
    assert helm.chart_name("1st") == "c2k-1st"
    assert helm.values_expr(["", "web", "image"]) == "$.Values.web.image"
    assert helm.values_expr(["", "1st", "image"]) == '(index $.Values "1st" "image")'
    assert pods.split_image("reg:5000/a/b:1.0@sha256:ab") == {
        "registry": "reg:5000", "repository": "a/b", "tag": "1.0", "digest": "sha256:ab"}
    assert pods.split_image("redis") == {"registry": "", "repository": "redis", "tag": "",
                                         "digest": ""}


@pytest.mark.parametrize("key, value, rewritten", [
    ("DATABASE_HOST", "db", "<db>"),
    ("PGHOST", "db", "<db>"),
    ("MEMCACHED_SERVERS", "cache:11211,db:11211", "<cache>:11211,<db>:11211"),
    ("CACHE_URL", "redis://cache:6379/0", "redis://<cache>:6379/0"),
    ("API", "http://web/", "http://<web>/"),                    # a URL without a port
    ("DSN", "postgres://u:p@db:5432/x", "postgres://u:p@<db>:5432/x"),
    ("UPSTREAM", "web:80 and db:5432", "<web>:80 and <db>:5432"),
    ("POSTGRES_USER", "db", None),                               # not a host variable
    ("DATABASE_HOST", "db.example.com", None),                   # not a Service
    ("DATABASE_HOST", "db,elsewhere", None),                     # not all items are Services
    ("QUEUE", "cache", None),
])
def test_which_environment_values_follow_the_release(key, value, rewritten):
    rewriter = hosts.HostRewriter({"db", "cache", "web"}, lambda host: host)
    parts = rewriter.env_parts(key, value)
    text = None if parts is None else "".join(
        p if isinstance(p, str) else f"<{p[1]}>" for p in parts)
    assert text == rewritten


def test_files_keep_bare_urls_an_upstream_may_name():
    rewriter = hosts.HostRewriter({"web"}, lambda host: host)
    parts = rewriter.parts("upstream web { server web:8000; }\nproxy_pass http://web;",
                           portless=False)
    assert "".join(p if isinstance(p, str) else f"<{p[1]}>" for p in parts) == \
        "upstream web { server <web>:8000; }\nproxy_pass http://web;"


def test_hook_plan_follows_composes_order(tmp_path):
    write(tmp_path, "compose.yaml", HOOKED)
    project, result = convert(tmp_path, environ={"TOKEN": "t"})
    plan = hooks.HookPlan(result.objects, result.start_after)
    assert plan.weights == {"setup": 0, "seed": 1}
    # migrate waits for db, which the release starts; prep writes the claim web reads
    assert plan.why_not == {
        "migrate": "it waits for db, which the release starts",
        "prep": "it mounts the claim shared, which the release creates"}
    assert plan.copies == {("ConfigMap", "settings"): "settings-hook",
                           ("Secret", "setup-env"): "setup-env-hook",
                           ("Secret", "token"): "token-hook"}
    objects = plan.drop_waits(copy.deepcopy(result.objects))
    web = next(o for o in objects if o["kind"] == "Deployment"
               and o["metadata"]["name"] == "web")["spec"]["template"]["spec"]
    assert [c["name"] for c in web["initContainers"]] == ["wait-for-migrate-job",
                                                          "wait-for-prep-job"]
    role = next(o for o in objects if o["kind"] == "Role")
    assert role["rules"][0]["resourceNames"] == ["migrate", "prep"]


def test_values_layout_and_no_secret_in_the_chart(tmp_path):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    meta = yaml.safe_load((out / "Chart.yaml").read_text())
    assert (meta["apiVersion"], meta["name"], meta["appVersion"]) == ("v2", "storefront",
                                                                      "1.4.2")
    values = yaml.safe_load((out / "values.yaml").read_text())
    assert values["global"] == {"imageRegistry": "", "imagePullSecrets": [], "storageClass": ""}
    assert values["keepComposeNames"] is False
    web = values["web"]
    assert web["image"] == {"registry": "", "repository": "storefront-web", "tag": "1.4.2",
                            "digest": "", "pullPolicy": ""}
    assert web["replicaCount"] == 2
    assert web["service"]["type"] == "NodePort"
    assert web["ingress"]["hosts"] == [{"host": "shop.example.com",
                                        "paths": [{"path": "/", "pathType": "Prefix"}]}]
    assert web["resources"]["limits"] == {"cpu": "250m", "memory": "64Mi"}
    assert list(web) == ["image", "replicaCount", "env", "resources", "securityContext",
                         "podAnnotations", "podLabels", "podSecurityContext", "nodeSelector",
                         "tolerations", "affinity", "serviceAccount", "service", "ingress"]
    api_env = {e["name"]: e["value"] for e in values["api"]["env"]}
    assert api_env["DATABASE_HOST"] == '{{ include "storefront.resourceName" (list $ "db") }}'
    assert api_env["CACHE_URL"] == \
        'redis://{{ include "storefront.resourceName" (list $ "cache") }}:6379/0'
    assert values["api"]["securityContext"]["readOnlyRootFilesystem"] is True
    assert values["db"]["persistence"] == {"dbData": {"size": "5Gi", "storageClass": ""}}
    assert "replicaCount" not in values["reports"]          # a CronJob has no replicas
    assert values["secrets"] == {"apiToken": {"existingSecret": ""},
                                 "dbPassword": {"existingSecret": ""}}
    secrets = [p.read_text().strip() for p in (STOREFRONT / "secrets").iterdir()]
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not [s for s in secrets if s in text], path
    schema = json.loads((out / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert schema["properties"]["web"]["additionalProperties"] is False
    assert schema["properties"]["web"]["properties"]["image"]["additionalProperties"] is False


def test_same_bytes_twice_and_stale_templates_removed(tmp_path):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "templates" / "gone-service.yaml").write_text("# Generated by c2k from Service gone\n")
    (out / "templates" / "mine.yaml").write_text("# my own template\n")
    helm.write_chart(result, project, str(out))
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert not (out / "templates" / "gone-service.yaml").exists()
    del after[out / "templates" / "mine.yaml"]
    assert after == before


def test_a_file_is_not_a_chart_folder(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    project, result = convert(STOREFRONT)
    with pytest.raises(C2KError):
        helm.write_chart(result, project, str(target))


@pytest.mark.slow
def test_cli_format_helm(tmp_path):
    compose = write(tmp_path, "compose.yaml", """
        name: demo
        services:
          web:
            image: nginx:1.27
            ports: ["8080:80"]
            environment:
              API_KEY: k-123
    """)
    proc = run_c2k("convert", "-f", compose, "--format", "helm", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "wrote helm" in proc.stderr
    # a chart never holds a secret value, with or without --secret-env
    assert "k-123" not in "".join(p.read_text() for p in (tmp_path / "out").rglob("*")
                                  if p.is_file())
    proc = run_c2k("convert", "-f", compose, "--format", "helm")
    assert proc.returncode == 2 and "-o DIR" in proc.stderr


@pytest.mark.slow
def test_references_a_release_cannot_follow_are_reported(tmp_path):
    write(tmp_path, "secrets/url.txt", "postgres://app:pw@db:5432/app\n")
    compose = write(tmp_path, "compose.yaml", """
        name: leaky
        services:
          db:
            image: postgres:16
            expose: ["5432"]
          app:
            image: busybox
            secrets: [url]
            environment:
              DB_PASSWORD_URL: postgres://app:pw@db:5432/app
              DATABASE_HOST: db
        secrets:
          url:
            file: ./secrets/url.txt
    """)
    proc = run_c2k("convert", "-f", compose, "--format", "helm", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "service app, secrets[0] (url.txt): db on port 5432 (in a secret)" in readme
    assert "service app, environment.DB_PASSWORD_URL: db on port 5432 (in a secret)" in readme
    assert "environment.DATABASE_HOST" not in readme
    assert "secrets[0]" in proc.stderr and "release" in proc.stderr


@pytest.mark.parametrize("fmt", ["helm", "kustomize"])
@pytest.mark.parametrize("name", ["k.yaml", "chart.yml", "out.JSON"])
def test_a_file_name_for_a_folder_format_is_refused_with_the_folder_to_give(
        tmp_path, capsys, fmt, name):
    compose = write(tmp_path, "compose.yaml", "services: {web: {image: nginx}}\n")
    out = tmp_path / name
    code, stdout, stderr = c2k_in_process(capsys, "-f", compose, "convert", "--format", fmt,
                                          "-o", out)
    assert code == 2 and stdout == ""
    assert f"--format {fmt} writes a folder, and -o {out} names a file" in stderr
    assert f"give -o {out.with_suffix('')}/" in stderr
    assert not out.exists()
    # A folder that happens to be named so is what the user asked for.
    out.mkdir()
    assert c2k_in_process(capsys, "-q", "-f", compose, "convert", "--format", fmt,
                          "-o", out)[0] == 0
    assert any(out.iterdir())


# ---- helm lint and helm template --------------------------------------------------------------

@pytest.mark.tools
@pytest.mark.parametrize("options", OPTION_SETS, ids=list(OPTION_SETS))
@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_sample_chart_lints_and_renders_convert(tmp_path, helm_bin, sample, options):
    project, result, chart, out = make_chart(tmp_path, sample, OPTION_SETS[options])
    lint(helm_bin, out)
    args = ("--namespace", OPTION_SETS[options].namespace) if OPTION_SETS[options].namespace \
        else ()
    rendered, expected = rendered_equals_convert(helm_bin, chart, result, out, tmp_path, *args)
    assert rendered == expected
    # the default values, the release named like the project: convert's objects once the
    # release's names are put back
    values = secret_values(chart, result, tmp_path / "secrets.yaml")
    release = helm.chart_name(project.name)
    renamed = renamed_back(without_helm_labels(template(helm_bin, out, release, "-f", values,
                                                        *args)), result.objects, release)
    assert renamed == expected


@pytest.mark.tools
@pytest.mark.parametrize("options", OPTION_SETS, ids=list(OPTION_SETS))
@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_a_release_names_only_its_own_objects(tmp_path, helm_bin, sample, options):
    project, result, chart, out = make_chart(tmp_path, sample, OPTION_SETS[options])
    values = secret_values(chart, result, tmp_path / "secrets.yaml")
    compose_names = {o["metadata"]["name"] for o in result.objects if o["kind"] == "Service"}
    releases = {}
    for release in ("blue", "green-" + "x" * 47):
        rendered = template(helm_bin, out, release, "-f", values)
        assert dangling(rendered, compose_names, external=external_refs(result.objects)) == []
        assert all(name.startswith(release[:20]) for _, _, name in rendered), list(rendered)
        assert all(len(name) <= 63 for _, _, name in rendered)
        releases[release] = {(kind, name) for kind, _, name in rendered}
        kinds = sorted(k for k, _ in releases[release])
        assert kinds == sorted(o["kind"] for o in result.objects if o["kind"] != "Namespace")
    blue, green = releases.values()
    assert not blue & green


@pytest.mark.tools
def test_the_release_renames_every_reference(tmp_path, helm_bin):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    values = secret_values(chart, result, tmp_path / "secrets.yaml")
    rendered = template(helm_bin, out, "shop", "-f", values)
    api = rendered[("Deployment", None, "shop-storefront-api")]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in api["containers"][0]["env"]}
    assert env["DATABASE_HOST"] == "shop-storefront-db"
    assert env["CACHE_URL"] == "redis://shop-storefront-cache:6379/0"
    waits = {c["name"]: c["command"][2] for c in api["initContainers"]}
    assert "nc -z -w 2 shop-storefront-db 5432" in waits["wait-for-db"]
    assert "/jobs/shop-storefront-migrate?pretty=false\n" in waits["wait-for-migrate-job"]
    assert api["serviceAccountName"] == "shop-storefront-job-waiter"
    role = rendered[("Role", None, "shop-storefront-job-waiter")]
    assert role["rules"][0]["resourceNames"] == ["shop-storefront-migrate"]
    assert {v["name"]: v.get("secret", v.get("configMap")) for v in api["volumes"]}[
        "secret-db-password"]["secretName"] == "shop-storefront-db-password"
    ingress = rendered[("Ingress", None, "shop-storefront-web")]["spec"]["rules"][0]
    assert ingress["http"]["paths"][0]["backend"]["service"]["name"] == "shop-storefront-web"
    db = rendered[("StatefulSet", None, "shop-storefront-db")]
    assert db["spec"]["serviceName"] == "shop-storefront-db-headless"
    assert db["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "db",
                                                     "app.kubernetes.io/instance": "shop"}
    labels = rendered[("Service", None, "shop-storefront-web")]["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "Helm"
    assert labels["helm.sh/chart"] == "storefront-0.1.0"
    # a release whose name holds the chart's is the full name; fullnameOverride wins
    assert ("Service", None, "storefront-db") in template(helm_bin, out, "storefront", "-f",
                                                          values)
    assert ("Service", None, "mine-db") in template(helm_bin, out, "x", "-f", values, "--set",
                                                    "fullnameOverride=mine")


@pytest.mark.tools
def test_a_release_name_that_cannot_begin_a_service_name_is_refused(tmp_path, helm_bin):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    values = secret_values(chart, result, tmp_path / "secrets.yaml")
    proc = template(helm_bin, out, "1st", "-f", values, check=False)
    assert proc.returncode == 1
    assert "the release's full name \"1st-storefront\" cannot begin Kubernetes names" in \
        proc.stderr


@pytest.mark.tools
def test_overrides_change_exactly_what_they_name(tmp_path, helm_bin):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    rendered, expected = rendered_equals_convert(
        helm_bin, chart, result, out, tmp_path,
        "--set", "web.replicaCount=5", "--set", "web.image.tag=2.0.0",
        "--set", "global.imageRegistry=registry.local:5000",
        "--set", "web.service.type=LoadBalancer", "--set", "cache.service.type=NodePort",
        "--set", "db.image.digest=sha256:" + "a" * 64, "--set", "web.image.pullPolicy=Always",
        "--set", "worker.nodeSelector.disk=ssd", "--set", "worker.podLabels.team=shop",
        "--set", "worker.podAnnotations.note=x", "--set", "api.serviceAccount.create=true",
        "--set", "db.persistence.dbData.size=50Gi", "--set", "global.storageClass=fast")

    def pod(kind, name):
        return expected[(kind, None, name)]["spec"]["template"]

    for obj in expected.values():
        spec = obj.get("spec", {})
        template_ = spec.get("jobTemplate", {}).get("spec", spec).get("template")
        for c in (template_ or {}).get("spec", {}).get("containers", []) + \
                (template_ or {}).get("spec", {}).get("initContainers", []):
            c["image"] = "registry.local:5000/" + c["image"]
    expected[("Deployment", None, "web")]["spec"]["replicas"] = 5
    web = pod("Deployment", "web")["spec"]["containers"][0]
    web["image"] = "registry.local:5000/storefront-web:2.0.0"
    web["imagePullPolicy"] = "Always"
    expected[("Service", None, "web")]["spec"]["type"] = "LoadBalancer"
    expected[("Service", None, "cache")]["spec"] = {
        "type": "NodePort", **expected[("Service", None, "cache")]["spec"]}
    pod("StatefulSet", "db")["spec"]["containers"][0]["image"] += "@sha256:" + "a" * 64
    worker = pod("Deployment", "worker")
    worker["spec"]["nodeSelector"] = {"disk": "ssd"}
    worker["metadata"]["labels"]["team"] = "shop"
    worker["metadata"]["annotations"] = {"note": "x"}
    pod("Deployment", "api")["spec"]["serviceAccountName"] = "api"
    expected[("ServiceAccount", None, "api")] = {
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
            "name": "api", "labels": expected[("Deployment", None, "api")]["metadata"][
                "labels"]}}
    claim = expected[("StatefulSet", None, "db")]["spec"]["volumeClaimTemplates"][0]["spec"]
    claim["resources"]["requests"]["storage"] = "50Gi"
    claim["storageClassName"] = "fast"
    # the job waiter's Role is bound to the account api now runs as
    binding = expected[("RoleBinding", None, "storefront-job-waiter")]
    binding["subjects"] = [{"kind": "ServiceAccount", "name": "api"}]
    assert rendered == expected


@pytest.mark.tools
def test_values_file_sets_env_resources_ports_ingress_and_storage(tmp_path, helm_bin):
    project, result, chart, out = make_chart(tmp_path, REPO / "samples" / "django-postgres")
    mine = tmp_path / "prod.yaml"
    mine.write_text(dump_all([{  # yamlio: `n` stays a string for helm (YAML 1.1)
        "web": {"env": [{"name": "MODE", "value": "n"},
                        {"name": "DB", "value": '{{ include "django-postgres.resourceName" '
                                                '(list $ "db") }}:5432'}],
                "resources": {"limits": {"memory": "1Gi"}},
                "service": {"ports": [{"name": "http", "port": 80, "targetPort": 8000}]},
                "ingress": {"enabled": True, "className": "nginx",
                            "hosts": [{"host": "app.example.org",
                                       "paths": [{"path": "/", "pathType": "Prefix"}]}]}},
        "persistence": {"dbData": {"size": "50Gi", "storageClass": "fast"}},
    }]))
    rendered, expected = rendered_equals_convert(helm_bin, chart, result, out, tmp_path,
                                                 "-f", mine)
    web = expected[("Deployment", None, "web")]["spec"]["template"]["spec"]["containers"][0]
    web["env"] = [{"name": "MODE", "value": "n"}, {"name": "DB", "value": "db:5432"}]
    web["resources"] = {"limits": {"memory": "1Gi"}}
    expected[("Service", None, "web")]["spec"]["ports"] = [
        {"name": "http", "port": 80, "targetPort": 8000}]
    claim = expected[("PersistentVolumeClaim", None, "db-data")]["spec"]
    claim["resources"]["requests"]["storage"] = "50Gi"
    claim["storageClassName"] = "fast"
    ingress = rendered.pop(("Ingress", None, "web"))
    assert ingress["spec"] == {"ingressClassName": "nginx", "rules": [{
        "host": "app.example.org", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 8000}}}}]}}]}
    assert rendered == expected


@pytest.mark.tools
def test_existing_secret_and_claim_replace_the_charts(tmp_path, helm_bin):
    project, result, chart, out = make_chart(tmp_path, REPO / "samples" / "django-postgres")
    rendered = template(helm_bin, out, "app", "--set",
                        "secrets.postgresPassword.existingSecret=vault-pg", "--set",
                        "persistence.dbData.existingClaim=old-data")
    assert not [k for k in rendered if k[0] in ("Secret", "PersistentVolumeClaim")]
    volumes = {v["name"]: v for d in ("app-django-postgres-db", "app-django-postgres-web")
               for v in rendered[("Deployment", None, d)]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["secret-postgres-password"]["secret"]["secretName"] == "vault-pg"
    assert volumes["db-data"]["persistentVolumeClaim"]["claimName"] == "old-data"


@pytest.mark.tools
def test_a_missing_secret_stops_the_install_naming_the_value(tmp_path, helm_bin):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    proc = template(helm_bin, out, "shop", check=False)
    assert proc.returncode == 1
    assert ("secrets.dbPassword.data.db_password is required: the compose secret db_password; "
            "set it (--set-file secrets.dbPassword.data.db_password=./secrets/db_password.txt) "
            "or name an existing Secret with the key db_password in "
            "secrets.dbPassword.existingSecret") in proc.stderr


@pytest.mark.tools
@pytest.mark.parametrize("bad, message", [
    ("web.replicaCont=2", "additional properties 'replicaCont' not allowed"),
    ("web.image.tagg=2", "additional properties 'tagg' not allowed"),
    ("globall.imageRegistry=x", "additional properties 'globall' not allowed"),
    ("web.replicaCount=-1", "minimum"),
    ("web.service.type=Bogus", "value must be one of"),
    ("db.persistence.dbData.size=lots", "does not match pattern"),
    ("secrets.dbPassword.data.db_pasword=x", "additional properties 'db_pasword' not allowed"),
])
def test_the_schema_rejects_typos(tmp_path, helm_bin, bad, message):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    proc = run_tool(helm_bin, "template", "x", out, "--set", bad, check=False)
    assert proc.returncode == 1 and "values don't meet the specifications of the schema" in \
        proc.stderr and message in proc.stderr, proc.stderr
    proc = run_tool(helm_bin, "lint", out, "--set", bad, check=False)
    assert proc.returncode == 1 and message in proc.stdout, proc.stdout


@pytest.mark.tools
def test_one_shots_run_as_hooks(tmp_path, helm_bin):
    write(tmp_path, "compose.yaml", HOOKED)
    project, result, chart, out = make_chart(tmp_path, tmp_path, environ={"TOKEN": "t"})
    lint(helm_bin, out)
    values = secret_values(chart, result, tmp_path / "secrets.yaml")
    rendered = template(helm_bin, out, "r1", "-f", values)
    annotations = {name: obj["metadata"].get("annotations", {})
                   for (kind, _, name), obj in rendered.items()}
    assert annotations["r1-hooked-setup"] == {
        "helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "0",
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded"}
    assert annotations["r1-hooked-seed"]["helm.sh/hook-weight"] == "1"
    assert annotations["r1-hooked-settings-hook"]["helm.sh/hook-weight"] == "-1"
    assert annotations["r1-hooked-migrate"] == {}           # waits for db: a Job of the release
    setup = rendered[("Job", None, "r1-hooked-setup")]["spec"]["template"]["spec"]
    assert {v["name"]: v for v in setup["volumes"]}["config-settings"]["configMap"][
        "name"] == "r1-hooked-settings-hook"
    env = {e["name"]: e for e in setup["containers"][0]["env"]}
    assert env["API_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "r1-hooked-setup-env-hook"
    assert env["TARGET"]["value"] == "http://r1-hooked-web:80/"
    web = rendered[("Deployment", None, "r1-hooked-web")]["spec"]["template"]["spec"]
    assert [c["name"] for c in web["initContainers"]] == ["wait-for-migrate-job",
                                                          "wait-for-prep-job"]
    assert dangling(rendered, {"setup", "seed", "web", "db", "migrate", "prep"}) == []


@pytest.mark.tools
def test_braces_and_odd_names_render_literally(tmp_path, helm_bin):
    compose = write(tmp_path, "compose.yaml", """
        name: odd
        services:
          1st-app:
            image: busybox@sha256:%s
            command: ["sh", "-c", "echo '{{ .Values }}' {{{x}}} __c2k_tok_i0__ my_web:80"]
            environment:
              FLAG: "n"
              EMPTY: ""
              TPL: "{{ .Release.Name }}"
            expose: ["80"]
          my_web:
            image: localhost:5000/web
            ports: ["80"]
    """ % ("b" * 64))
    project, result, chart, out = make_chart(tmp_path, tmp_path, None, str(compose))
    lint(helm_bin, out)
    rendered, expected = rendered_equals_convert(helm_bin, chart, result, out, tmp_path)
    assert rendered == expected


# ---- the real-world projects ------------------------------------------------------------------

def _realworld():
    from corpus import corpus_cases
    return [p for p in corpus_cases("realworld") if p.is_dir()]


@pytest.mark.corpus
@pytest.mark.tools
@pytest.mark.parametrize("folder", _realworld(), ids=lambda p: p.name)
def test_realworld_chart_lints_renders_convert_and_renames(tmp_path, helm_bin, folder):
    from corpus import corpus_dir
    from test_realworld_wiring import project_args
    corpus_dir("realworld")
    files = [folder / a for a in project_args(folder) if a != "-f"]
    try:
        project, result, chart, out = make_chart(tmp_path, folder, None, *files)
    except C2KError as exc:
        pytest.skip(f"{folder.name} does not convert: {exc}")
    lint(helm_bin, out)
    rendered, expected = rendered_equals_convert(helm_bin, chart, result, out, tmp_path)
    assert rendered == expected
    values = secret_values(chart, result, tmp_path / "secrets.yaml")
    release = helm.chart_name(project.name)[:53]
    assert renamed_back(without_helm_labels(template(helm_bin, out, release, "-f", values)),
                        result.objects, release) == expected
    other = template(helm_bin, out, "other", "-f", values)
    compose_names = {o["metadata"]["name"] for o in result.objects if o["kind"] == "Service"}
    assert dangling(other, compose_names, external=external_refs(result.objects)) == []


def test_helpers_file_is_the_charts(tmp_path):
    project, result, chart, out = make_chart(tmp_path, STOREFRONT)
    text = (out / "templates" / "_helpers.tpl").read_text()
    for name in ("name", "fullname", "chart", "prefix", "limit", "resourceName", "projectName",
                 "image", "serviceAccountName", "pullSecrets"):
        assert f'{{{{- define "storefront.{name}" -}}}}' in text


# ---- every corpus file ------------------------------------------------------------------------

def _corpus_chart(tmp_path, path):
    from helm_util import chart_options

    from converter.compose.loader import LoadOptions, load_project
    from converter.kube.transform import to_manifests
    try:
        project = load_project(LoadOptions(files=(str(path),), environ={})).project
        result = to_manifests(project, chart_options())
    except C2KError:
        return None
    out = tmp_path / "chart"
    chart, _ = helm.write_chart(result, project, str(out))
    return project, result, chart, out


def _compose_files():
    from corpus import compose_files
    return compose_files()


def _corpus_id(path) -> str:
    from corpus import CORPUS
    return str(path.relative_to(CORPUS))


@pytest.mark.corpus
@pytest.mark.tools
@pytest.mark.parametrize("path", _compose_files(), ids=_corpus_id)
def test_corpus_chart_lints_and_renders_convert(tmp_path, helm_bin, path):
    from corpus import corpus_dir
    corpus_dir()
    made = _corpus_chart(tmp_path, path)
    if made is None:
        pytest.skip("the loader or the conversion rejects this file")
    project, result, chart, out = made
    lint(helm_bin, out)
    rendered, expected = rendered_equals_convert(helm_bin, chart, result, out, tmp_path)
    assert rendered == expected

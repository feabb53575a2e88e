"""Property-based tests (hypothesis) over interpolation, merge, normalization and the loader.

The properties:
- any input either works or raises c2k's own error type (C2KError), never another exception;
- every compose document the loader accepts converts to objects that pass strict Kubernetes
  schema validation (tests/k8s_schema.py);
- conversion is deterministic: loading and converting twice gives the same bytes.

Example counts come from two settings profiles registered here: `c2k-fuzz-ci` (selected when
CI=true; every test's weight adds up to more than 10,000 examples per run) and `c2k-fuzz-dev`
(the default; a twentieth of that, for quick local runs). C2K_FUZZ_PROFILE picks one by name.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, event, given, settings, strategies as st

from converter.compose import units
from converter.compose.interpolate import interpolate_string, interpolate_tree
from converter.compose.loader import LoadOptions, load_project
from converter.compose.merge import enforce_unicity, merge_services
from converter.compose.mounts import normalize_mount
from converter.compose.ports import MAX_PORTS_PER_SPEC, normalize_ports, parse_port
from converter.compose.yamlfile import parse
from converter.emit.yamlio import dump_all
from converter.errors import C2KError
from converter.kube.options import ConvertOptions
from converter.kube.transform import to_manifests
from tests import k8s_schema

pytestmark = pytest.mark.slow  # property tests with many generated examples

# No example database and no explain phase: nothing is written into the repository.
_COMMON = dict(deadline=None, print_blob=True, derandomize=False, database=None,
               phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
# CI explores the same 13,000+ examples on every run of a commit (derandomized), so a red CI is
# reproducible; local runs draw new examples each time and find what CI has not seen yet.
settings.register_profile("c2k-fuzz-ci", max_examples=1000, **{**_COMMON, "derandomize": True})
settings.register_profile("c2k-fuzz-dev", max_examples=50, **_COMMON)
PROFILE_NAME = os.environ.get("C2K_FUZZ_PROFILE") or (
    "c2k-fuzz-ci" if os.environ.get("CI", "").lower() in ("true", "1", "yes") else "c2k-fuzz-dev")
PROFILE = settings.get_profile(PROFILE_NAME)

# Examples per test = weight x the profile's max_examples (1,000 in CI). The weights add up to
# more than 10 (test_profile_gives_enough_examples checks it), so a CI run makes more than
# 10,000 examples; `pytest --hypothesis-show-statistics` prints the counts.
WEIGHTS: dict[str, float] = {}


def property_test(weight: float, *strategies):
    """@given(*strategies) under the profile, with max_examples scaled by `weight`."""
    def decorate(func):
        WEIGHTS[func.__name__] = weight
        examples = max(1, int(PROFILE.max_examples * weight))
        return settings(PROFILE, max_examples=examples)(given(*strategies)(func))
    return decorate


# --- strategies -------------------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
VAR_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)
SHORT_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)

# interpolation templates: literal text, $$ escapes, $VAR, ${VAR}, ${VAR<op>operand}, and junk
_OPERATORS = st.sampled_from([":-", "-", ":?", "?", ":+", "+", "", ":", "="])
_TEMPLATE_PIECE = st.recursive(
    st.one_of(
        st.text(st.sampled_from("ab $\\{}:-?+_=\n\"'0"), max_size=6),
        st.just("$$"),
        VAR_NAMES.map(lambda n: f"${n}"),
        VAR_NAMES.map(lambda n: f"${{{n}}}"),
        st.sampled_from(["$", "${", "${}", "}", "${ A}", "${1}", "$-", "${A", "${A:-"]),
    ),
    lambda inner: st.tuples(VAR_NAMES, _OPERATORS, st.lists(inner, max_size=3)).map(
        lambda t: f"${{{t[0]}{t[1]}{''.join(t[2])}}}"),
    max_leaves=6,
)
TEMPLATES = st.lists(_TEMPLATE_PIECE, max_size=6).map("".join)
ENVIRON = st.dictionaries(VAR_NAMES, st.text(max_size=8), max_size=5)

# ports: short syntax built from plausible and absurd pieces
_PORT_NUMBER = st.one_of(st.sampled_from(["0", "1", "80", "443", "8080", "65535", "65536",
                                          "70000", "-1", "", "x", "08"]),
                         st.integers(1, 65535).map(str))
_PORT_RANGE = st.one_of(_PORT_NUMBER, st.tuples(_PORT_NUMBER, _PORT_NUMBER).map("-".join),
                        st.tuples(st.integers(1, 65535), st.integers(0, 40000)).map(
                            lambda t: f"{t[0]}-{t[0] + t[1]}"))
PORT_SPECS = st.one_of(
    st.integers(-5, 70000),
    st.builds(lambda ip, pub, target, proto: "".join([ip, pub, target, proto]),
              st.sampled_from(["", "127.0.0.1:", "[::1]:", "::1:", "0.0.0.0:", "[::1", "a:b:"]),
              st.one_of(st.just(""), _PORT_RANGE.map(lambda p: p + ":")),
              _PORT_RANGE,
              st.sampled_from(["", "/tcp", "/udp", "/sctp", "/UDP", "/icmp", "/"])),
    TEXT,
    st.fixed_dictionaries({"target": st.one_of(st.integers(-1, 70000), _PORT_NUMBER)},
                          optional={"published": st.one_of(_PORT_RANGE, st.integers(0, 70000)),
                                    "protocol": st.sampled_from(["tcp", "udp", "x"]),
                                    "host_ip": st.sampled_from(["127.0.0.1", "::1"]),
                                    "mode": st.sampled_from(["ingress", "host"])}),
)
PLAUSIBLE_PORTS = st.one_of(
    st.integers(1, 65535),
    st.builds(lambda pub, target, proto: f"{pub}{target}{proto}",
              st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f"{p}:")),
              st.integers(1, 65535), st.sampled_from(["", "/tcp", "/udp"])),
    st.integers(1, 60000).map(lambda p: f"{p}-{p + 3}:{p}-{p + 3}"),
)

_SOURCES = st.sampled_from(["./data", "/srv/data", "data", "~/cache", "", "C:\\data", "../up",
                            ".", "named_vol", "a b"])
_TARGETS = st.sampled_from(["/data", "/a/b/", "rel", "", "/", "//x", "/c:d"])
_MODES = st.sampled_from(["ro", "rw", "z", "Z", "nocopy", "rprivate", "ro,z", "bogus", ""])
VOLUME_SPECS = st.one_of(
    st.tuples(_SOURCES, _TARGETS).map(":".join),
    st.tuples(_SOURCES, _TARGETS, _MODES).map(":".join),
    _TARGETS,
    TEXT,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["bind", "volume", "tmpfs", "npipe", "cluster", "bogus"])},
        optional={"source": _SOURCES, "target": _TARGETS, "read_only": st.booleans(),
                  "tmpfs": st.fixed_dictionaries({}, optional={"size": st.one_of(
                      st.integers(-1, 10**9), st.sampled_from(["1g", "10m", "x"]))}),
                  "volume": st.fixed_dictionaries({}, optional={"nocopy": st.booleans()}),
                  "bind": st.fixed_dictionaries({}, optional={
                      "propagation": st.sampled_from(["rprivate", "shared", "x"]),
                      "create_host_path": st.booleans()})}),
)
PLAUSIBLE_VOLUMES = st.one_of(
    st.sampled_from(["./data:/data", "./conf:/etc/conf:ro", "cache:/cache", "/tmp",
                     "/var/run/docker.sock:/var/run/docker.sock"]),
    st.fixed_dictionaries({"type": st.just("tmpfs"), "target": st.just("/scratch")},
                          optional={"tmpfs": st.just({"size": "64m"})}),
)

DURATIONS = st.one_of(
    st.from_regex(r"-?(\d{1,5}(\.\d{1,3})?(ns|us|µs|ms|s|m|h)){1,3}", fullmatch=True),
    st.integers(-10, 10**12), st.floats(allow_nan=True, allow_infinity=True), SHORT_TEXT)
SIZES = st.one_of(
    st.from_regex(r"-?\d{1,12}(\.\d{1,2})?\s?([bkmgtBKMGT][bB]?|[kKmMgG]i[bB]?)?", fullmatch=True),
    st.integers(-10, 10**15), st.floats(allow_nan=True, allow_infinity=True), SHORT_TEXT)
PLAUSIBLE_DURATIONS = st.sampled_from(["1s", "30s", "1m30s", "500ms", "2h", "10s"])
PLAUSIBLE_SIZES = st.sampled_from(["64m", "1g", "512M", "100k", "1073741824", "2gb"])

# compose-like values, for merge pairs
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), SHORT_TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(SHORT_TEXT, inner, max_size=3)), max_leaves=8)
_MERGE_KEYS = ["image", "command", "entrypoint", "environment", "labels", "ports", "volumes",
               "expose", "dns", "depends_on", "networks", "build", "healthcheck", "deploy",
               "env_file", "secrets", "configs", "extra_hosts", "ulimits", "logging", "sysctls",
               "devices", "cap_add", "profiles", "x-custom"]
_MERGE_VALUES = {
    "image": st.one_of(SHORT_TEXT, SCALARS),
    "command": st.one_of(SHORT_TEXT, st.lists(SHORT_TEXT, max_size=3)),
    "entrypoint": st.one_of(SHORT_TEXT, st.lists(SHORT_TEXT, max_size=3)),
    "environment": st.one_of(st.dictionaries(VAR_NAMES, SCALARS, max_size=3),
                             st.lists(st.tuples(VAR_NAMES, SHORT_TEXT).map("=".join),
                                      max_size=3), VAR_NAMES.map(lambda n: [n])),
    "labels": st.one_of(st.dictionaries(NAMES, SCALARS, max_size=3),
                        st.lists(st.tuples(NAMES, SHORT_TEXT).map("=".join), max_size=3)),
    "ports": st.lists(PORT_SPECS, max_size=3),
    "volumes": st.lists(VOLUME_SPECS, max_size=3),
    "depends_on": st.one_of(st.lists(NAMES, max_size=3), st.dictionaries(
        NAMES, st.fixed_dictionaries({"condition": st.sampled_from(
            ["service_started", "service_healthy", "bogus"])}), max_size=2)),
    "build": st.one_of(SHORT_TEXT, st.fixed_dictionaries({}, optional={
        "context": SHORT_TEXT, "args": st.dictionaries(VAR_NAMES, SCALARS, max_size=2)})),
    "healthcheck": st.fixed_dictionaries({}, optional={
        "test": st.one_of(st.lists(SHORT_TEXT, max_size=3), SHORT_TEXT),
        "interval": DURATIONS, "retries": SCALARS}),
}


def _merge_value(key):
    return _MERGE_VALUES.get(key, VALUES)


_TYPED = {**_MERGE_VALUES, "ports": st.lists(PLAUSIBLE_PORTS, max_size=3),
          "volumes": st.lists(PLAUSIBLE_VOLUMES, max_size=3),
          "expose": st.lists(st.integers(1, 65535), max_size=2),
          "dns": st.lists(st.sampled_from(["1.1.1.1", "8.8.8.8"]), max_size=2),
          "cap_add": st.lists(st.sampled_from(["NET_ADMIN", "SYS_TIME"]), max_size=2)}
TYPED_SERVICE_DICTS = st.sets(st.sampled_from(sorted(_TYPED)), max_size=6).flatmap(
    lambda keys: st.fixed_dictionaries({k: _TYPED[k] for k in sorted(keys)}))
SERVICE_DICTS = st.sets(st.sampled_from(_MERGE_KEYS), max_size=6).flatmap(
    lambda keys: st.fixed_dictionaries({k: _merge_value(k) for k in sorted(keys)}))


def _service(plausible: bool):
    ports = PLAUSIBLE_PORTS if plausible else PORT_SPECS
    volumes = PLAUSIBLE_VOLUMES if plausible else VOLUME_SPECS
    durations = PLAUSIBLE_DURATIONS if plausible else DURATIONS
    sizes = PLAUSIBLE_SIZES if plausible else SIZES
    env_values = st.one_of(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",),
                                                 exclude_characters="$"), max_size=12),
                           st.integers(-5, 5), st.booleans(), st.none())
    healthcheck = st.fixed_dictionaries({}, optional={
        "test": st.one_of(st.just([]), st.just(["NONE"]), st.just(""),
                          st.lists(st.sampled_from(["CMD", "CMD-SHELL", "curl", "-f",
                                                    "http://localhost/"]), max_size=4),
                          st.just("curl -f http://localhost/ || exit 1")),
        "interval": durations, "timeout": durations, "start_period": durations,
        "start_interval": durations, "retries": st.integers(0 if plausible else -3, 10),
        "disable": st.booleans()})
    deploy = st.fixed_dictionaries({}, optional={
        "replicas": st.integers(0 if plausible else -2, 5),
        "mode": st.sampled_from(["replicated", "global"] + ([] if plausible else ["bogus"])),
        "resources": st.fixed_dictionaries({}, optional={
            "limits": st.fixed_dictionaries({}, optional={
                "cpus": st.one_of(st.sampled_from(["0.5", "2", "0.001"]),
                                  st.floats(0.01, 64) if plausible
                                  else st.floats(allow_nan=True)),
                "memory": sizes, "pids": st.integers(1 if plausible else -1, 100)}),
            "reservations": st.fixed_dictionaries({}, optional={
                "cpus": st.sampled_from(["0.25", "1"]), "memory": sizes})}),
        "restart_policy": st.fixed_dictionaries({}, optional={
            "condition": st.sampled_from(["none", "on-failure", "any"]
                                         + ([] if plausible else ["bogus"])),
            "max_attempts": st.integers(0, 5), "delay": durations}),
        "labels": st.dictionaries(NAMES, st.text(max_size=5), max_size=2)})
    return st.fixed_dictionaries(
        {"image": st.sampled_from(["nginx:1.25", "redis:7", "busybox", "ghcr.io/a/b@sha256:"
                                   + "a" * 64] + ([] if plausible else ["", "UPPER:case"]))},
        optional={
            "ports": st.lists(ports, max_size=3),
            "expose": st.lists(st.one_of(st.integers(1, 65535), st.just("9000-9002"))
                               if plausible else st.one_of(PORT_SPECS, TEXT), max_size=2),
            "environment": st.one_of(st.dictionaries(VAR_NAMES, env_values, max_size=4),
                                     st.lists(st.tuples(VAR_NAMES, st.text(
                                         st.characters(codec="utf-8", exclude_categories=("Cs",),
                                                       exclude_characters="$"),
                                         max_size=6)).map("=".join), max_size=3)),
            "volumes": st.lists(volumes, max_size=3),
            "healthcheck": healthcheck,
            "deploy": deploy,
            "command": st.one_of(st.just("sleep 1"), st.lists(st.sampled_from(
                ["sh", "-c", "echo $$HOME", "x y", "'q'"]), max_size=3)),
            "restart": st.sampled_from(["no", "always", "on-failure", "unless-stopped"]
                                       + ([] if plausible else ["sometimes"])),
            "labels": st.dictionaries(st.from_regex(r"[a-z][a-z.]{0,8}", fullmatch=True),
                                      st.text(st.characters(codec="utf-8",
                                                            exclude_categories=("Cs",),
                                                            exclude_characters="$"),
                                              max_size=6), max_size=2),
            "stop_grace_period": durations,
            "shm_size": sizes,
            "mem_limit": sizes,
            "user": st.sampled_from(["1000", "1000:1000", "root", "nobody"]),
            "working_dir": st.sampled_from(["/app", "/"]),
            "read_only": st.booleans(),
            "tmpfs": st.one_of(st.just("/run"), st.just(["/tmp:size=64m"])),
        })


def _documents(plausible: bool):
    def build(services, deps, volumes_top, extra):
        names = sorted(services)
        for name, targets in deps.items():
            if name in services and names:
                services[name]["depends_on"] = [names[i % len(names)] for i in targets
                                                if names[i % len(names)] != name or not plausible]
        doc = {"services": services}
        if volumes_top:
            doc["volumes"] = {v: {} for v in volumes_top}
        doc.update(extra)
        return doc

    return st.builds(
        build,
        st.dictionaries(NAMES, _service(plausible), min_size=1, max_size=4),
        st.dictionaries(NAMES, st.lists(st.integers(0, 3), max_size=2), max_size=2),
        st.lists(st.sampled_from(["cache", "named_vol", "db"]), max_size=3),
        st.just({}) if plausible else st.dictionaries(
            st.sampled_from(["x-extra", "networks", "version", "name", "secrets"]),
            VALUES, max_size=2),
    )


PLAUSIBLE_DOCS = _documents(True)
HOSTILE_DOCS = _documents(False)


# --- a scratch project folder (loader calls are in-process and cheap) ---------------------------

_WORK = tempfile.mkdtemp(prefix="c2k-fuzz-")
atexit.register(shutil.rmtree, _WORK, True)
os.makedirs(os.path.join(_WORK, "data"), exist_ok=True)
with open(os.path.join(_WORK, "data", "app.conf"), "w") as _fh:
    _fh.write("key=value\n")
_ENVIRON = {"HOME": _WORK, "PATH": "/usr/bin"}


def _load_text(text: str):
    path = os.path.join(_WORK, "compose.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return load_project(LoadOptions(files=("compose.yaml",), cwd=_WORK, environ=_ENVIRON,
                                     project_name="fuzz"))


def _dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


# --- interpolation --------------------------------------------------------------------------

@property_test(2.5, TEMPLATES, ENVIRON)
def test_interpolation_returns_text_or_c2k_error(template, environ):
    try:
        out = interpolate_string(template, environ.get)
    except C2KError as exc:
        event("interpolation: error")
        assert str(exc)
        return
    event("interpolation: ok")
    assert isinstance(out, str)


@property_test(1.0, st.text(st.characters(codec="utf-8", exclude_categories=("Cs",),
                                          exclude_characters="$"), max_size=30), ENVIRON)
def test_text_without_dollar_is_unchanged_and_escapes_give_one_dollar(text, environ):
    assert interpolate_string(text, environ.get) == text
    assert interpolate_string(text.replace("a", "$$"), environ.get) == text.replace("a", "$")


@property_test(1.0, VAR_NAMES, st.text(max_size=10),
               st.text(st.characters(codec="utf-8", exclude_categories=("Cs",),
                                     exclude_characters="$}\n"), max_size=10))
def test_variables_and_defaults(name, value, default):
    # (a default spanning lines is invalid, as in compose: the operand ends at the line's end)
    env = {name: value}
    assert interpolate_string(f"${{{name}}}", env.get) == value
    assert interpolate_string(f"${name}", env.get) == value
    assert interpolate_string(f"${{{name}:-{default}}}", {}.get) == default
    assert interpolate_string(f"${{{name}-{default}}}", {name: ""}.get) == ""
    assert interpolate_string(f"${{{name}:-{default}}}", {name: ""}.get) == default
    assert interpolate_string(f"${{{name}:+{default}}}", env.get) == (default if value else "")


@property_test(0.5, st.recursive(TEMPLATES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(SHORT_TEXT, inner, max_size=3)),
    max_leaves=10), ENVIRON)
def test_interpolate_tree_returns_same_shape_or_c2k_error(tree, environ):
    try:
        out = interpolate_tree(tree, environ.get)
    except C2KError:
        return

    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(v) for v in value]
        return type(value).__name__
    assert shape(out) == shape(tree)


# --- merge ----------------------------------------------------------------------------------

@property_test(1.5, SERVICE_DICTS, SERVICE_DICTS)
def test_merge_returns_a_mapping_or_c2k_error(base, override):
    try:
        merged = merge_services(base, override)
    except C2KError:
        event("merge: error")
        return
    event("merge: ok")
    assert isinstance(merged, dict)
    assert set(override) <= set(merged) | {k for k, v in override.items() if v is None}
    for key, value in override.items():
        if key in ("image",) and isinstance(value, str):
            assert merged[key] == value          # scalars: the override wins


@property_test(0.5, TYPED_SERVICE_DICTS, TYPED_SERVICE_DICTS)
def test_merge_is_idempotent_once_unicity_is_enforced(base, override):
    """Applying the same override twice (extends of extends, -f a.yaml -f a.yaml) changes
    nothing after the loader's unicity step (merge_services itself appends sequences)."""
    def unique(service):
        return enforce_unicity({"services": {"s": service}})["services"]["s"]
    try:
        once = unique(merge_services(base, override))
        twice = unique(merge_services(once, override))
    except C2KError:
        return
    assert twice == once


# --- normalization --------------------------------------------------------------------------

@property_test(1.5, st.lists(PORT_SPECS, max_size=4))
def test_ports_normalize_or_c2k_error(specs):
    try:
        ports = normalize_ports(specs, ("services", "web", "ports"))
    except C2KError as exc:
        event("ports: error")
        assert exc.path[:3] == ("services", "web", "ports")
        return
    event("ports: ok")
    assert len(ports) <= MAX_PORTS_PER_SPEC
    for port in ports:
        assert 1 <= port["target"] <= 65535
        # the short syntax knows tcp/udp/sctp; the long form takes any string, as compose
        # does (the conversion reports unknown ones as not converted)
        assert isinstance(port["protocol"], str)
    if not any(isinstance(spec, dict) for spec in specs):
        assert all(port["protocol"] in ("tcp", "udp", "sctp") for port in ports)


@property_test(0.3, PLAUSIBLE_PORTS)
def test_plausible_ports_always_normalize(spec):
    assert parse_port(spec)


@property_test(1.0, VOLUME_SPECS)
def test_volumes_normalize_or_c2k_error(spec):
    try:
        mount = normalize_mount(spec, ("services", "web", "volumes", 0),
                                lambda message, path, hint=None: None)
    except C2KError:
        event("volume: error")
        return
    event("volume: ok")
    assert isinstance(mount, dict) and "type" in mount


@property_test(0.5, DURATIONS)
def test_durations_parse_or_c2k_error(value):
    try:
        seconds = units.parse_duration(value)
    except C2KError:
        return
    assert isinstance(seconds, (int, float))
    if seconds >= 0 and seconds < 10**9:
        assert units.parse_duration(units.format_duration(seconds)) == pytest.approx(
            seconds, rel=1e-6, abs=1e-6)


@property_test(0.5, SIZES)
def test_sizes_parse_or_c2k_error(value):
    try:
        size = units.parse_bytes(value)
    except C2KError:
        return
    assert isinstance(size, int)


# --- the whole loader ------------------------------------------------------------------------

@property_test(0.3, st.one_of(st.text(max_size=200),
                              st.lists(st.sampled_from(
                                  ["services:", "\n", "  ", "- ", "web:", "image: x", "&a ",
                                   "*a", "<<: ", "{", "}", "[", "]", ",", ": ", "!reset ",
                                   "!override ", "!!binary ", "? ", "---\n", "...\n", "'", '"',
                                   "#", "|\n", ">-\n", "%YAML 1.2\n", "\t", "${X}", "~"]),
                                  max_size=40).map("".join)))
def test_yaml_parser_on_arbitrary_text(text):
    try:
        parse(text, "fuzz.yaml")
    except C2KError:
        pass


@property_test(1.2, st.one_of(HOSTILE_DOCS, PLAUSIBLE_DOCS))
def test_loader_loads_or_raises_c2k_error(doc):
    try:
        result = _load_text(_dump(doc))
    except C2KError as exc:
        event("loader: error")
        assert str(exc)
        return
    event("loader: ok")
    try:
        to_manifests(result.project, ConvertOptions())
    except C2KError:
        event("convert: error")


@property_test(0.8, PLAUSIBLE_DOCS, st.sampled_from([
    {}, {"controller": "statefulset"}, {"volumes": "emptyDir"}, {"volumes": "hostPath"},
    {"volumes": "configMap"}, {"namespace": "fuzz-ns", "generate_network_policies": True},
    {"secret_env": True, "replicas": 2}, {"controller": "daemonset"}]))
def test_valid_documents_convert_to_schema_valid_deterministic_objects(doc, options):
    text = _dump(doc)
    try:
        first = _load_text(text)
    except C2KError as exc:
        event("plausible document refused")
        assume(False)
        raise AssertionError("unreachable") from exc
    event("plausible document loaded")
    try:
        converted = to_manifests(first.project, ConvertOptions(**options))
    except C2KError:
        event("conversion refused")
        return
    problems = k8s_schema.validate_all(converted.objects)
    assert not problems, "\n".join(problems) + "\n---\n" + text
    out = dump_all(converted.objects)
    again = dump_all(to_manifests(_load_text(text).project, ConvertOptions(**options)).objects)
    assert out == again, "conversion is not deterministic"


def test_profile_gives_enough_examples():
    """The CI profile is sized for at least 10,000 examples per run."""
    total = sum(int(1000 * w) for w in WEIGHTS.values())
    assert total >= 10_000, total
    if PROFILE_NAME == "c2k-fuzz-ci":
        assert PROFILE.max_examples == 1000

"""YAML output: YAML 1.1 safe quoting, key order, literal blocks, no aliases; output targets."""

import json
import os

import pytest
import yaml

from converter.emit import manifests, yamlio

# Strings a YAML 1.1 reader (go-yaml v2 as used by kubectl, or PyYAML) could take for a
# bool, number, null or timestamp if written plain.
AMBIGUOUS = ["y", "Y", "n", "N", "yes", "No", "ON", "off", "true", "False", "1e3", "1E-3",
             "080", "0o14", "0x1f", "0b101", "1_000", ".5", "-.5", "+1", "-1", "1.", "1.0",
             "~", "null", "NULL", "", "12:30", "1:20:30", "190:20:30.15", ".inf", "-.Inf",
             ".nan", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "<<", "0", "8080"]
PLAIN = ["plain", "nginx:1.27", "a b", "web-1", "ClusterIP", "1.2.3", "v1", "ya", "none",
         "10s", "100Mi", "é"]
SPECIAL = [" lead", "trail ", "#x", "a: b", "- x", "[x]", "{x}", "@x", "*x", "&x", "!x",
           "%x", "|", ">", "?", ":", "-", "a #b", "'q'", '"q"', "\ttab", "\\", "x\x00y"]
MULTILINE = ["a\nb\n", "a\nb", "line\n\nwith trailing   \n", "x\n  indented\n", "\nlead\n"]


@pytest.mark.parametrize("text", AMBIGUOUS + PLAIN + SPECIAL + MULTILINE)
def test_round_trips_through_yaml11_reader(text):
    doc = {"k": text, "list": [text]}
    out = yamlio.dump(doc)
    assert yaml.safe_load(out) == doc
    assert yaml.load(out, Loader=yaml.BaseLoader) == doc  # no implicit typing at all


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_ambiguous_strings_are_quoted(text):
    line = yamlio.dump({"k": text}).splitlines()[0]
    assert line == f'k: "{text}"'


@pytest.mark.parametrize("text", PLAIN)
def test_ordinary_strings_stay_plain(text):
    assert yamlio.dump({"k": text}) == f"k: {text}\n"


def test_multiline_strings_are_literal_blocks():
    out = yamlio.dump({"script": "set -e\necho hi\n"})
    assert out == "script: |\n  set -e\n  echo hi\n"
    assert yamlio.dump({"s": "a\nb"}) == "s: |-\n  a\nb\n".replace("\nb", "\n  b")


def test_key_order_kept_and_numbers_unquoted():
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
           "spec": {"z": 1, "a": True, "m": None, "f": 1.5}}
    out = yamlio.dump(obj)
    assert out.splitlines()[:3] == ["apiVersion: v1", "kind: Service", "metadata:"]
    assert "z: 1\n" in out and "a: true\n" in out and "m: null\n" in out
    assert list(yaml.safe_load(out)["spec"]) == ["z", "a", "m", "f"]


def test_no_aliases_for_shared_objects():
    shared = {"app": "x"}
    out = yamlio.dump({"a": shared, "b": shared})
    assert "&" not in out and "*" not in out
    assert yaml.safe_load(out) == {"a": shared, "b": shared}


def test_long_strings_are_not_folded():
    text = "word " * 100 + "end"
    out = yamlio.dump({"k": text})
    assert out.count("\n") == 1


def test_dump_all_is_deterministic_stream():
    objs = [{"kind": "A", "n": "1"}, {"kind": "B", "n": "yes"}]
    first = yamlio.dump_all(objs)
    assert first == yamlio.dump_all([dict(o) for o in objs])
    assert first == 'kind: A\n"n": "1"\n---\nkind: B\n"n": "yes"\n'  # keys too
    assert list(yaml.safe_load_all(first)) == objs
    assert yamlio.dump_all([]) == ""


OBJECTS = [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}},
]


def test_write_output_stdout_yaml_and_json():
    text = manifests.write_output(OBJECTS, output=None)
    assert list(yaml.safe_load_all(text)) == OBJECTS
    data = json.loads(manifests.write_output(OBJECTS, output=None, json=True))
    assert data == {"apiVersion": "v1", "kind": "List", "items": OBJECTS}


def test_write_output_directory(tmp_path):
    target = str(tmp_path / "out") + "/"
    assert manifests.write_output(OBJECTS, output=target) is None
    assert sorted(os.listdir(target)) == ["web-deployment.yaml", "web-service.yaml"]
    assert yaml.safe_load((tmp_path / "out" / "web-service.yaml").read_text()) == OBJECTS[0]
    # an existing folder without the trailing slash is a folder too
    manifests.write_output(OBJECTS, output=str(tmp_path / "out"), json=True)
    assert json.loads((tmp_path / "out" / "web-deployment.json").read_text()) == OBJECTS[1]


def test_write_output_single_file_is_stable(tmp_path):
    path = tmp_path / "sub" / "all.yaml"
    manifests.write_output(OBJECTS, output=str(path))
    first = path.read_bytes()
    manifests.write_output(OBJECTS, output=str(path))
    assert path.read_bytes() == first
    assert list(yaml.safe_load_all(first)) == OBJECTS
    assert manifests.written_files(OBJECTS, str(path)) == [str(path)]

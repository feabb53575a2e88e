"""The options of the commands that convert are declared once and stay the same set; kompose's
`convert` flags that apply to c2k work on `c2k convert`."""

from __future__ import annotations

import shlex

import click
import pytest
import yaml

from converter.cli import cli
from converter.images.cli import BUILD, PUSH, REGISTRY
from converter.kube.cli import CONVERT_PARAMS
from converter.kube.options import FLAGS, ConvertOptions
from corpus import corpus_dir
from helpers import REPO, c2k_in_process, write

SAMPLES = REPO / "samples"

CONVERTING = ("convert", "apply", "diff", "up")
# Options several of those commands take with a meaning of their own (declared per command).
OWN = {"namespace", "prune", "force_conflicts", "timeout"}


def params(name: str) -> list[click.Parameter]:
    return cli.commands[name].params


def test_every_command_that_converts_takes_the_same_convert_options():
    for name in CONVERTING:
        shared = [p for p in params(name) if any(p is q for q in CONVERT_PARAMS)]
        assert shared == CONVERT_PARAMS, name
    names = {p.name for p in CONVERT_PARAMS}
    assert {"service_group_mode", "service_group_name", "strict", "wait_image",
            "job_wait_image", "no_interpolate", "registry"} <= names


def test_an_option_several_commands_take_is_declared_once():
    seen: dict[str, click.Parameter] = {}
    for name in (*CONVERTING, "bundle", "build", "push", "images"):
        for param in params(name):
            if isinstance(param, click.Option) and param.name not in OWN | {"help"}:
                assert seen.setdefault(param.name, param) is param, (name, param.name)


def test_the_image_options_of_the_commands_that_pin_images():
    for name in ("convert", "apply", "up"):
        assert BUILD in params(name) and PUSH in params(name), name
    assert PUSH in params("bundle") and REGISTRY in params("bundle")
    assert BUILD not in params("diff") and PUSH not in params("diff")   # diff changes nothing
    for name in ("build", "push", "images"):
        assert REGISTRY in params(name)


def test_every_convert_option_has_its_flag():
    fields = set(ConvertOptions.__annotations__)
    set_otherwise = {"namespace", "registry", "image_overrides", "config_max_bytes",
                     "config_max_files"}
    assert {flag.field for flag in FLAGS} == fields - set_otherwise


def test_the_defaults_are_the_options_own():
    defaults = ConvertOptions()
    by_name = {p.name: p for p in CONVERT_PARAMS}
    for flag in FLAGS:
        assert by_name[flag.field].default == getattr(defaults, flag.field), flag.field


@pytest.mark.parametrize("command", ["apply", "diff", "up"])
def test_the_cluster_commands_group_services_as_convert_does(command):
    # apply, diff and up once lacked --service-group-mode/--service-group-name: they deployed
    # something else than what convert printed.
    ctx = cli.commands[command].make_context(command, ["--service-group-mode", "volume",
                                                       "--service-group-name", "pod",
                                                       "--strict", "--no-interpolate"])
    assert ctx.params["service_group_mode"] == "volume"
    assert ctx.params["service_group_name"] == "pod" and ctx.params["strict"]


# ---- kompose's convert flags ----------------------------------------------------------------

def test_no_interpolate_keeps_the_variables(tmp_path, capsys):
    compose = write(tmp_path, "compose.yaml", """
        services:
          web:
            image: "nginx:${TAG:-1.27}"
            environment:
              DB_URL: postgres://${DB_HOST}/app
    """)
    code, out, err = c2k_in_process(capsys, "-f", compose, "convert", "--no-interpolate")
    assert code == 0, err
    container = [d for d in yaml.safe_load_all(out) if d["kind"] == "Deployment"][0][
        "spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:${TAG:-1.27}"
    assert {"name": "DB_URL", "value": "postgres://${DB_HOST}/app"} in container["env"]
    code, out, _ = c2k_in_process(capsys, "-f", compose, "convert")
    assert "nginx:1.27" in out and "postgres:///app" in out


def test_no_interpolate_refuses_a_port_that_is_a_variable(tmp_path, capsys):
    compose = write(tmp_path, "compose.yaml", """
        services:
          web:
            image: nginx
            ports: ["${PORT:-8080}:80"]
    """)
    code, _, err = c2k_in_process(capsys, "-f", compose, "convert", "--no-interpolate")
    assert code == 1
    assert "port '${PORT:-8080}:80' holds a variable, and a port must be a number" in err


def test_chart_is_format_helm(tmp_path, capsys):
    compose = str(SAMPLES / "music-service" / "docker-compose.yml")
    code, _, err = c2k_in_process(capsys, "-f", compose, "convert", "-c", "-o",
                                  tmp_path / "chart")
    assert code == 0, err
    assert (tmp_path / "chart" / "Chart.yaml").is_file()
    assert "wrote helm" in err
    code, _, err = c2k_in_process(capsys, "-f", compose, "convert", "-c", "--format",
                                  "kustomize", "-o", tmp_path / "k")
    assert code == 2 and "--chart is --format helm, not --format kustomize" in err


def test_push_image_registry_is_registry(capsys):
    compose = str(SAMPLES / "music-service" / "docker-compose.yml")
    _, by_kompose, _ = c2k_in_process(capsys, "-q", "-f", compose, "convert",
                                      "--push-image-registry", "reg.example:5000/team")
    _, by_c2k, _ = c2k_in_process(capsys, "-q", "-f", compose, "convert", "--registry",
                                  "reg.example:5000/team")
    assert by_kompose == by_c2k and "reg.example:5000/team/" in by_c2k


def test_kompose_annotations_false_is_what_c2k_does(capsys):
    compose = str(SAMPLES / "music-service" / "docker-compose.yml")
    _, plain, _ = c2k_in_process(capsys, "-q", "-f", compose, "convert")
    code, out, _ = c2k_in_process(capsys, "-q", "-f", compose, "convert",
                                  "--with-kompose-annotation=false")
    assert code == 0 and out == plain
    for asked in (["--with-kompose-annotation"], ["--with-kompose-annotation=true"]):
        code, _, err = c2k_in_process(capsys, "-q", "-f", compose, "convert", *asked)
        assert code == 2 and "c2k does not write kompose.cmd and kompose.version" in err


@pytest.mark.parametrize("args, build, push", [
    ([], "none", False), (["--build"], "local", False), (["--build", "local"], "local", False),
    (["--build=local"], "local", False), (["--build", "none"], "none", False),
    (["--build", "-o", "out/"], "local", False), (["--push-image"], "none", True),
    (["--push"], "none", True)])
def test_build_takes_komposes_values_and_push_image_is_push(args, build, push):
    ctx = cli.commands["convert"].make_context("convert", list(args))
    assert (ctx.params["build"], ctx.params["push"]) == (build, push)


# Flags of kompose's own test command lines that c2k does not take, and why.
NOT_TAKEN = {
    "--provider": "OpenShift is not a target of c2k",
    "--emptyvols": "deprecated by kompose for --volumes emptyDir, which c2k takes",
}


def _kompose_command_lines() -> list[list[str]]:
    index = corpus_dir("kompose") / "INDEX.tsv"
    rows = [line.split("\t") for line in index.read_text().splitlines()[1:]]
    lines = []
    for row in rows:
        if len(row) < 7 or row[3] != "kubernetes" or row[6] != "active":
            continue
        args = shlex.split(row[4])
        if any(a.split("=")[0] in NOT_TAKEN for a in args):
            continue
        if "build-config" in args or "--build=build-config" in args:
            continue        # an OpenShift BuildConfig
        if args not in lines:
            lines.append(args)
    return lines


@pytest.mark.corpus
def test_komposes_own_convert_command_lines_parse():
    lines = _kompose_command_lines()
    assert len(lines) > 10
    for args in lines:
        cli.commands["convert"].make_context("convert", list(args))   # raises when refused

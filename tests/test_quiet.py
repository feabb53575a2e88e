"""`c2k -q`: stderr carries errors only. Every warning, report line, progress line and "wrote"
note the commands print is left out; without -q the same runs do print them (so the test can
fail). The cluster commands' share is in test_cluster_verbs.py."""

from __future__ import annotations

import io

import pytest

from converter import images
from converter.model import Project, Service, frozen_map
from converter.images.progress import QuietReporter, make_reporter
from helpers import c2k_in_process, write

# Warnings of every kind: the loader's (obsolete version, unset variable), the conversion's
# (approximated keys, shared by two services).
COMPOSE = """\
version: "3.8"
services:
  web:
    image: nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    environment: ["VERSION=${TAG}"]
    ports: ["8080:80"]
    networks: [front]
  api:
    image: api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    networks: [front]
networks: {front: {}}
"""


@pytest.mark.parametrize("args", [
    ["config"], ["convert"], ["convert", "-o", "{tmp}/out/"], ["convert", "-o", "{tmp}/all.yaml"],
    ["convert", "--format", "helm", "-o", "{tmp}/chart"],
    ["convert", "--format", "kustomize", "-o", "{tmp}/kustomize"],
    ["bundle", "-o", "{tmp}/app.dab"],      # nginx pinned by digest: no engine needed
], ids=lambda args: " ".join(args).replace("{tmp}/", ""))
def test_quiet_leaves_stderr_to_errors(tmp_path, capsys, monkeypatch, args):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")   # never the real engine
    monkeypatch.delenv("TAG", raising=False)
    write(tmp_path, "compose.yaml", COMPOSE)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, stderr = c2k_in_process(capsys, "-f", tmp_path / "compose.yaml", *args)
    assert code == 0 and stderr.strip(), "the case prints nothing on stderr even without -q"
    code, _, stderr = c2k_in_process(capsys, "-q", "-f", tmp_path / "compose.yaml", *args)
    assert code == 0 and stderr == ""


def test_quiet_is_honoured_after_the_command_too(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TAG", raising=False)
    write(tmp_path, "compose.yaml", COMPOSE)
    code, _, stderr = c2k_in_process(capsys, "convert", "-q", "-f", tmp_path / "compose.yaml")
    assert code == 0 and stderr == ""


def test_errors_still_show_under_quiet(tmp_path, capsys):
    write(tmp_path, "compose.yaml", "services: {web: {image: [x]}}\n")
    code, stdout, stderr = c2k_in_process(capsys, "-q", "-f", tmp_path / "compose.yaml",
                                          "convert")
    assert code == 1 and stdout == "" and stderr.startswith("error: ")


def test_a_quiet_build_shows_neither_progress_nor_warnings(tmp_path):
    # What `c2k -q build` hands the image functions: a reporter that shows nothing.
    out = io.StringIO()
    reporter = QuietReporter(out)
    assert make_reporter(reporter) is reporter
    project = Project(name="p", working_dir=str(tmp_path),
                      services=frozen_map({"db": Service(name="db", image="postgres")}))
    assert images.build_images(project, ["db"], progress=reporter, engine=object()) == {}
    for event in ("start", "status", "log", "done", "fail"):
        getattr(reporter, event)("web", "text")
    reporter.warn("careful")
    assert out.getvalue() == ""

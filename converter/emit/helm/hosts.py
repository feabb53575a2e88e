"""Which names of services in free text follow the release's Service names, and how.

A release renames every Service (`db` -> `<release>-<chart>-db`), so the text that names one
must name the new one. What is rewritten, in the pods' environment, commands, arguments and
probes, and in the files mounted from ConfigMaps:
- `host:port` and `scheme://host:port` (references.py's scanner: what the wiring check reads);
- `scheme://host` without a port, in the environment and commands only (in a file it may name
  an nginx upstream block, `proxy_pass http://app;`, rather than a host);
- a bare host name in the environment (`DATABASE_HOST: db`, `MEMCACHED_SERVERS: a,b:11211`)
  when the variable's name says it holds hosts (a word HOST, HOSTNAME, HOSTS, SERVER, SERVERS,
  ADDR, ADDRESS, ENDPOINT, BROKER, BROKERS, NODES or PEERS, or one ending in HOST: `PGHOST`)
  and every item of the value is a Service name. `POSTGRES_USER: postgres` stays as it is.
A host counts when a Service of its name (case-insensitive, as DNS) is in the chart: the rule
the wiring check applies. Everything else stays as written: bare names in files and commands
(c2k cannot tell `db` the host from `db` the word), secret values (the user provides them),
binary data; `unrewritten` lists the references the wiring check found that none of this
reached, for the chart's README.
"""

from __future__ import annotations

import re

from ...kube.references import host_spans

_HOST_KEY = re.compile(r"(?:^|[_.-])(?:[A-Z0-9]*HOST|HOSTS|HOSTNAME|SERVERS?|ADDR|ADDRESS|"
                       r"ENDPOINT|BROKERS?|NODES|PEERS)(?:$|[_.-])", re.IGNORECASE)
_ITEMS = re.compile(r"[^,;\s]+")


class HostRewriter:
    """Splits strings into literal text and the Service names a release renames."""

    def __init__(self, services: set[str], name_expr):
        self.services = services          # Service names in the chart (lowercase)
        self.name_expr = name_expr        # Service name -> template expression of its name
        self.rewritten: set[tuple[str, int | None]] = set()   # (host, port) rewritten somewhere

    def parts(self, text: str, *, portless: bool) -> list | None:
        """[literal, ("expr", e), literal, ...] for `text`, or None when nothing is renamed."""
        spans = [(start, end, host.lower(), port)
                 for start, end, host, port, _ in host_spans(text, portless=portless)
                 if host.lower() in self.services]
        return self._split(text, spans)

    def env_parts(self, key: str, value: str) -> list | None:
        """parts() for an environment value, plus bare host names where `key` says hosts."""
        if _HOST_KEY.search(key):
            spans: list = []
            for item in _ITEMS.finditer(value):
                host, _, port = item.group().partition(":")
                if host.lower() not in self.services or (port and not port.isdigit()):
                    spans = []
                    break
                spans.append((item.start(), item.start() + len(host), host.lower(),
                              int(port) if port else None))
            if spans:
                return self._split(value, spans)
        return self.parts(value, portless=True)

    def _split(self, text: str, spans) -> list | None:
        if not spans:
            return None
        out: list = []
        at = 0
        for start, end, host, port in sorted(spans):
            if start < at:
                continue
            if start > at:
                out.append(text[at:start])
            out.append(("expr", self.name_expr(host)))
            self.rewritten.add((host, port))
            at = end
        if at < len(text):
            out.append(text[at:])
        return out


def unrewritten(references, rewriter: HostRewriter) -> list:
    """The wiring check's references that a release does not follow."""
    out = []
    for ref in references:
        host = ref.host.lower()
        if host not in rewriter.services:
            continue             # no Service of that name: the wiring check reports it
        if ref.secret or (host, ref.port) not in rewriter.rewritten:
            out.append(ref)
    return out

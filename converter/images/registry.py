"""The registry's own answer: the digest it serves for a tag (HEAD on the manifest).

c2k pins the digest the engine's push stream reports, and checks it here when the registry can
be reached from this machine: plain HTTP for loopback registries (the engine treats 127.0.0.0/8
as insecure too), HTTPS otherwise; Basic or Bearer-token authentication with the credentials of
the Docker config.
"""

from __future__ import annotations

import base64
import json
import re

from ..errors import ImageError
from ..imagerefs import canonical


MANIFEST_ACCEPT = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
))


# ---- the registry -----------------------------------------------------------------------------

def registry_digest(name: str, tag: str, *, auth: dict | None = None,
                    timeout: float = 5.0) -> str | None:
    """The digest the registry serves for name:tag (HEAD on the manifest), or None when the
    registry cannot be asked from here. Raises ImageError when it answers that the tag does not
    exist."""
    host, path = canonical(name)
    if host == "docker.io":
        host = "registry-1.docker.io"         # where Docker Hub serves the registry API
    local = host.split(":")[0] in ("localhost", "127.0.0.1", "[::1]") or \
        host.startswith("127.")
    url = f"{'http' if local else 'https'}://{host}/v2/{path}/manifests/{tag}"
    headers = {"Accept": MANIFEST_ACCEPT}
    try:
        status, reply = _head(url, headers, timeout)
        if status == 401:
            authorization = _authorization(reply.get("Www-Authenticate", ""), auth, path, timeout)
            if authorization is None:
                return None
            status, reply = _head(url, {**headers, "Authorization": authorization}, timeout)
    except (OSError, ValueError):
        return None
    if status == 404:
        raise ImageError(f"registry {host} has no manifest for {path}:{tag}")
    if status != 200:
        return None
    return reply.get("Docker-Content-Digest")


def _head(url, headers, timeout):
    # urllib.request here, not at the top: only pushes ask a registry, and it is ~5 ms of
    # every `c2k build` (hashlib's OpenSSL start-up, the HTTP handlers).
    import urllib.error
    import urllib.request
    request = urllib.request.Request(url, headers=headers, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def _authorization(challenge: str, auth: dict | None, path: str, timeout: float) -> str | None:
    user = (auth or {}).get("username") or (auth or {}).get("Username")
    password = (auth or {}).get("password") or (auth or {}).get("Password")
    token = (auth or {}).get("identitytoken") or (auth or {}).get("IdentityToken")
    basic = None
    if user and password:
        basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    scheme, _, params = challenge.partition(" ")
    if scheme.lower() == "basic":
        return basic
    if scheme.lower() != "bearer":
        return None
    fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
    realm = fields.get("realm")
    if not realm:
        return None
    import urllib.parse
    import urllib.request
    query = urllib.parse.urlencode({k: v for k, v in (
        ("service", fields.get("service")), ("scope", f"repository:{path}:pull")) if v})
    request = urllib.request.Request(f"{realm}?{query}")
    if basic:
        request.add_header("Authorization", basic)
    elif token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = json.loads(response.read())
    value = body.get("token") or body.get("access_token")
    return f"Bearer {value}" if value else None




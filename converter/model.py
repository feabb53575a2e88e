"""The typed, immutable model of a loaded compose project.

The loader produces a canonical dict (the shape `docker compose config --format json` prints) and
builds these frozen records (records.py) from it. Later stages (kube/, emit/, images/,
cluster/) read only this model. Sequences are tuples and mappings are read-only views, so nothing
downstream can change what was loaded.

Units are normalised once here: durations are seconds (float), sizes are bytes (int), CPU counts
are floats. ``None`` always means "not set in the compose file".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from .records import field, record

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenMap(Mapping[_K, _V]):
    """A read-only, hashable mapping that keeps insertion order."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[_K, _V] | None = None):
        self._data = dict(data or {})
        self._hash: int | None = None

    def __getitem__(self, key: _K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple((k, _hashable(v)) for k, v in self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


def _hashable(value: object) -> object:
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


EMPTY: Mapping[str, Any] = FrozenMap()


def frozen_map(data: Mapping[str, _V] | None) -> Mapping[str, _V]:
    """A read-only mapping that keeps insertion order."""
    return FrozenMap(data) if data else EMPTY


@record(kw_only=True)
class Port:
    target: int
    published: str | None = None      # a number or a range ("8000-8010") as compose keeps it
    protocol: str = "tcp"
    host_ip: str | None = None
    mode: str = "ingress"
    name: str | None = None
    app_protocol: str | None = None


@record(kw_only=True)
class Mount:
    type: str                          # volume | bind | tmpfs | image | npipe | cluster
    target: str
    source: str | None = None          # volume name, absolute host path, or image reference
    read_only: bool = False
    subpath: str | None = None
    nocopy: bool = False
    tmpfs_size: int | None = None      # bytes
    tmpfs_mode: int | None = None
    create_host_path: bool = True
    propagation: str | None = None
    consistency: str | None = None


@record(kw_only=True)
class BuildConfig:
    context: str                       # absolute path or a remote URL
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    args: Mapping[str, str | None] = EMPTY
    target: str | None = None
    labels: Mapping[str, str] = EMPTY
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    network: str | None = None
    shm_size: int | None = None
    extra_hosts: tuple[tuple[str, str], ...] = ()
    platforms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    pull: bool = False
    no_cache: bool = False
    secrets: tuple[FileRef, ...] = ()
    ssh: tuple[str, ...] = ()
    additional_contexts: Mapping[str, str] = EMPTY


@record(kw_only=True)
class Healthcheck:
    test: tuple[str, ...] | None = None  # ("CMD", ...), ("CMD-SHELL", cmd) or ("NONE",)
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None
    start_interval: float | None = None
    disable: bool = False


@record(kw_only=True)
class ResourceSpec:
    cpus: float | None = None
    memory: int | None = None          # bytes
    pids: int | None = None
    devices: tuple[Mapping[str, Any], ...] = ()


@record(kw_only=True)
class RestartPolicy:
    condition: str | None = None       # none | on-failure | any
    delay: float | None = None
    max_attempts: int | None = None
    window: float | None = None


@record(kw_only=True)
class UpdateConfig:
    parallelism: int | None = None
    delay: float | None = None
    failure_action: str | None = None
    monitor: float | None = None
    max_failure_ratio: float | None = None
    order: str | None = None


@record(kw_only=True)
class Placement:
    constraints: tuple[str, ...] = ()
    preferences: tuple[Mapping[str, str], ...] = ()
    max_replicas_per_node: int | None = None


@record(kw_only=True)
class Deploy:
    mode: str | None = None            # replicated | global | replicated-job | global-job
    replicas: int | None = None
    labels: Mapping[str, str] = EMPTY
    limits: ResourceSpec = field(default_factory=ResourceSpec)
    reservations: ResourceSpec = field(default_factory=ResourceSpec)
    restart_policy: RestartPolicy | None = None
    placement: Placement | None = None
    update_config: UpdateConfig | None = None
    rollback_config: UpdateConfig | None = None
    endpoint_mode: str | None = None


@record(kw_only=True)
class Dependency:
    condition: str = "service_started"  # service_started | service_healthy | service_completed_successfully
    required: bool = True
    restart: bool = False


@record(kw_only=True)
class FileRef:
    """A service's use of a top-level secret or config."""
    source: str
    target: str | None = None
    uid: str | None = None
    gid: str | None = None
    mode: int | None = None


@record(kw_only=True)
class NetworkAttachment:
    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    priority: int | None = None


@record(kw_only=True)
class Service:
    name: str
    image: str | None = None
    build: BuildConfig | None = None
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    environment: Mapping[str, str | None] = EMPTY
    env_files: tuple[str, ...] = ()
    ports: tuple[Port, ...] = ()
    expose: tuple[str, ...] = ()
    volumes: tuple[Mount, ...] = ()
    tmpfs: tuple[str, ...] = ()
    healthcheck: Healthcheck | None = None
    deploy: Deploy | None = None
    depends_on: Mapping[str, Dependency] = EMPTY
    restart: str | None = None
    labels: Mapping[str, str] = EMPTY
    annotations: Mapping[str, str] = EMPTY
    container_name: str | None = None
    hostname: str | None = None
    domainname: str | None = None
    user: str | None = None
    working_dir: str | None = None
    networks: Mapping[str, NetworkAttachment | None] = EMPTY
    network_mode: str | None = None
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    read_only: bool = False
    security_opt: tuple[str, ...] = ()
    sysctls: Mapping[str, str] = EMPTY
    stdin_open: bool = False
    tty: bool = False
    init: bool | None = None
    extra_hosts: tuple[tuple[str, str], ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_opt: tuple[str, ...] = ()
    shm_size: int | None = None
    stop_grace_period: float | None = None
    stop_signal: str | None = None
    pull_policy: str | None = None
    mem_limit: int | None = None
    mem_reservation: int | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    scale: int | None = None
    profiles: tuple[str, ...] = ()
    secrets: tuple[FileRef, ...] = ()
    configs: tuple[FileRef, ...] = ()
    links: tuple[str, ...] = ()
    ulimits: Mapping[str, Any] = EMPTY
    group_add: tuple[str, ...] = ()
    platform: str | None = None
    extensions: Mapping[str, Any] = EMPTY   # x-* keys, x-kubernetes among them
    other: Mapping[str, Any] = EMPTY        # canonical keys the typed fields above do not carry

    @property
    def replicas(self) -> int | None:
        """compose's precedence: deploy.replicas, then scale."""
        if self.deploy and self.deploy.replicas is not None:
            return self.deploy.replicas
        return self.scale


@record(kw_only=True)
class Volume:
    name: str                          # the key in the compose file
    external_name: str | None = None   # `name:` (the real volume name)
    driver: str | None = None
    driver_opts: Mapping[str, str] = EMPTY
    external: bool = False
    labels: Mapping[str, str] = EMPTY
    extensions: Mapping[str, Any] = EMPTY


@record(kw_only=True)
class Network:
    name: str
    external_name: str | None = None
    driver: str | None = None
    external: bool = False
    internal: bool = False
    labels: Mapping[str, str] = EMPTY
    extensions: Mapping[str, Any] = EMPTY


@record(kw_only=True)
class FileObject:
    """A top-level secret or config: exactly one source (file, content, environment) or external."""
    name: str
    external_name: str | None = None
    file: str | None = None            # absolute path
    content: str | None = None
    environment: str | None = None     # the variable name
    external: bool = False
    labels: Mapping[str, str] = EMPTY
    extensions: Mapping[str, Any] = EMPTY


@record(kw_only=True)
class Project:
    name: str
    working_dir: str
    services: Mapping[str, Service] = EMPTY    # sorted by name
    volumes: Mapping[str, Volume] = EMPTY
    networks: Mapping[str, Network] = EMPTY
    secrets: Mapping[str, FileObject] = EMPTY
    configs: Mapping[str, FileObject] = EMPTY
    extensions: Mapping[str, Any] = EMPTY
    compose_files: tuple[str, ...] = ()
    disabled_services: tuple[str, ...] = ()    # left out by profiles
    # The variables interpolation saw (OS environment, .env, --env-file). Kept for secrets and
    # configs whose source is `environment:`; never printed (repr=False).
    environment: Mapping[str, str] = field(default=EMPTY, repr=False)

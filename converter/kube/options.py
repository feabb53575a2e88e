"""What the user chose on the command line for a conversion (kompose's `convert` flags).

The model says what the compose file asks for; these options say how to express it in
Kubernetes where there is a choice. Per-service hints (kompose labels, `x-kubernetes`) override
the project-wide options here.
"""

from __future__ import annotations

from typing import Mapping

from ..errors import ConversionError
from ..model import EMPTY, frozen_map
from ..records import record

CONTROLLERS = ("deployment", "statefulset", "daemonset", "replicationcontroller")
VOLUME_MODES = ("persistentVolumeClaim", "emptyDir", "hostPath", "configMap")
SERVICE_GROUP_MODES = ("label", "volume")

# The busybox image the dependency-wait init containers run (nc, nslookup, sh).
WAIT_IMAGE = "busybox:1.36"
# The image that waits for one-shot Jobs through the API (sh, curl; see jobwait.py).
JOB_WAIT_IMAGE = "curlimages/curl:8.11.1"


@record(kw_only=True)
class ConvertOptions:
    namespace: str | None = None              # -n: adds a Namespace object, sets metadata.namespace
    controller: str | None = None             # --controller: default workload kind
    volumes: str = "persistentVolumeClaim"    # --volumes: how named volumes / bind mounts map
    replicas: int | None = None               # --replicas: overrides deploy.replicas and scale
    pvc_request_size: str = "100Mi"           # --pvc-request-size: default PVC size
    generate_network_policies: bool = False   # --generate-network-policies
    registry: str | None = None               # --registry: image for built services without image
    image_overrides: Mapping[str, str] = EMPTY  # service -> pinned image ref (from build/push)
    secret_env: bool = False                  # --secret-env: secret-looking env vars -> Secret
    service_group_mode: str | None = None     # --service-group-mode: label | volume
    service_group_name: str | None = None     # --service-group-name (volume mode)
    wait_image: str = WAIT_IMAGE              # image of the depends_on init containers
    job_wait_image: str = JOB_WAIT_IMAGE      # image that asks the API about one-shot Jobs
    config_max_bytes: int = 1024 * 1024       # bind mounts/files above this are not inlined
    config_max_files: int = 32                # a bind-mounted folder with more files is not inlined

    def __post_init__(self):
        if self.controller is not None:
            controller = normalize_controller(self.controller)
            if controller is None:
                raise ConversionError(
                    f"unknown controller {self.controller!r}",
                    hint="use one of: " + ", ".join(CONTROLLERS))
            object.__setattr__(self, "controller", controller)
        mode = normalize_volume_mode(self.volumes)
        if mode is None:
            raise ConversionError(f"unknown volumes mode {self.volumes!r}",
                                  hint="use one of: " + ", ".join(VOLUME_MODES))
        object.__setattr__(self, "volumes", mode)
        if self.service_group_mode not in (None, *SERVICE_GROUP_MODES):
            raise ConversionError(f"unknown service group mode {self.service_group_mode!r}",
                                  hint="use label or volume")
        if self.replicas is not None and self.replicas < 0:
            raise ConversionError(f"replicas must be >= 0, not {self.replicas}")
        if not isinstance(self.image_overrides, type(EMPTY)):
            object.__setattr__(self, "image_overrides", frozen_map(self.image_overrides))


def normalize_controller(value: str) -> str | None:
    """`daemonSet`, `DaemonSet`, `daemonset` -> `daemonset`; None when unknown."""
    key = str(value).strip().lower().replace("-", "").replace("_", "")
    return key if key in CONTROLLERS else None


def normalize_volume_mode(value: str) -> str | None:
    key = str(value).strip().lower().replace("-", "").replace("_", "")
    for mode in VOLUME_MODES:
        if mode.lower() == key:
            return mode
    return None

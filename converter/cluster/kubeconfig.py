"""Connect to a cluster: kubeconfig file, context and namespace, as kubectl chooses them.

Precedence (kubectl's): ``--kubeconfig``, then ``KUBECONFIG`` (a ``:``-separated list, merged),
then ``~/.kube/config``, then the in-cluster service account. The namespace is ``-n``, else the
context's namespace, else ``default``. The configuration is loaded into a private
``Configuration`` (never the library's global one), so two connections never mix.

Everything here raises ``ClusterError`` with one readable line; ``explain`` turns an API error
into such a line (RBAC denials, field-manager conflicts, invalid objects, unreachable servers).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from ..errors import ClusterError
from ..records import field, record


@record(frozen=False)
class Connection:
    """An API client for one context, with the namespace commands act on."""

    api: Any                     # kubernetes.client.ApiClient (the client is untyped)
    dynamic: Any                 # kubernetes.dynamic.DynamicClient
    namespace: str
    context: str | None
    server: str
    warnings: list = field(default_factory=list)    # about the configuration: said once
    _resources: dict = field(default_factory=dict)

    def websocket_core(self) -> Any:
        """A CoreV1Api for exec and port-forward on an ApiClient of its own: the client's
        stream() swaps its ApiClient's request method for a websocket one while it connects,
        which would break any other thread's call on a shared client (logs, pod lists)."""
        from kubernetes import client
        return client.CoreV1Api(client.ApiClient(self.api.configuration))

    def resource(self, api_version: str, kind: str) -> Any:
        """The DynamicClient resource for apiVersion + kind (discovery is cached)."""
        key = (api_version, kind)
        if key not in self._resources:
            from kubernetes.dynamic.exceptions import ResourceNotFoundError
            try:
                self._resources[key] = self.dynamic.resources.get(api_version=api_version,
                                                                   kind=kind)
            except ResourceNotFoundError:
                raise ClusterError(f"the cluster does not serve {kind} ({api_version})",
                                   hint="is the API enabled on this cluster?") from None
        return self._resources[key]


def kubeconfig_files(kubeconfig: str | None) -> str | None:
    """The kubeconfig path(s) kubectl would read, or None when there is none."""
    if kubeconfig:
        if not Path(kubeconfig).is_file():
            raise ClusterError(f"kubeconfig {kubeconfig} not found",
                               hint="pass an existing file with --kubeconfig")
        return kubeconfig
    env = os.environ.get("KUBECONFIG", "")
    paths = [p for p in env.split(os.pathsep) if p]
    if paths:
        existing = [p for p in paths if Path(p).is_file()]
        if not existing:
            raise ClusterError(f"KUBECONFIG names no existing file ({env})")
        return os.pathsep.join(existing)
    default = Path.home() / ".kube" / "config"
    return str(default) if default.is_file() else None


def connect(kubeconfig: str | None = None, context: str | None = None,
            namespace: str | None = None) -> Connection:
    """Load the configuration and open a client; raise ClusterError with the reason."""
    from kubernetes import client, config, dynamic
    from kubernetes.config.config_exception import ConfigException

    cfg = client.Configuration()
    files = kubeconfig_files(kubeconfig)
    context_ns = None
    if files is None:
        if context:
            raise ClusterError(f"context {context!r} given but no kubeconfig found",
                               hint="pass --kubeconfig or set KUBECONFIG")
        try:
            config.load_incluster_config(client_configuration=cfg)
        except ConfigException:
            raise ClusterError("no kubeconfig found and not running inside a cluster",
                               hint="pass --kubeconfig FILE, set KUBECONFIG, or create "
                                    "~/.kube/config") from None
    else:
        try:
            contexts, current = config.list_kube_config_contexts(config_file=files)
        except (ConfigException, ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ClusterError(f"invalid kubeconfig {files}: {_first_line(exc)}") from None
        except Exception as exc:  # yaml errors and the like
            raise ClusterError(f"invalid kubeconfig {files}: {_first_line(exc)}") from None
        by_name = {c.get("name"): c for c in contexts or []}
        if context:
            if context not in by_name:
                raise ClusterError(f"context {context!r} not found in {files}",
                                   hint="contexts: " + (", ".join(sorted(by_name)) or "none"))
            chosen = by_name[context]
        else:
            if not current:
                raise ClusterError(f"{files} has no current context",
                                   hint="pass --context NAME")
            chosen = current
        context = chosen.get("name")
        context_ns = (chosen.get("context") or {}).get("namespace")
        try:
            config.load_kube_config(config_file=files, context=context,
                                    client_configuration=cfg, persist_config=False)
        except ConfigException as exc:
            raise ClusterError(f"invalid kubeconfig {files} (context {context!r}): "
                               f"{_first_line(exc)}") from None
        except OSError as exc:
            raise ClusterError(f"kubeconfig {files} (context {context!r}): {exc}") from None
    cfg.retries = 1
    said = []
    if not cfg.verify_ssl:
        # urllib3 would warn at every request (a dozen times for one `c2k ps`): once, here.
        import urllib3

        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        said.append(f"the API server at {cfg.host} is not authenticated: context "
                    f"{context or '(in-cluster)'} skips TLS verification "
                    "(insecure-skip-tls-verify)")
    api = client.ApiClient(cfg)
    try:
        dyn = dynamic.DynamicClient(api)
    except Exception as exc:
        raise explain(exc, f"cannot reach the API server at {cfg.host}") from None
    return Connection(api=api, dynamic=dyn, namespace=namespace or context_ns or "default",
                      context=context, server=cfg.host, warnings=said)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def status_of(exc: BaseException) -> int | None:
    status: int | None = getattr(exc, "status", None)
    return status


def api_message(exc: BaseException) -> tuple[str, dict]:
    """The server's message and the whole Status body, from an API exception."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body) if body else {}
    except (TypeError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    message = data.get("message") or (body if isinstance(body, str) and body else None)
    return (message or f"{status_of(exc)} {getattr(exc, 'reason', '')}".strip()), data


def conflict_managers(data: dict) -> list[tuple[str, str]]:
    """[(manager, field), ...] from the Status of a server-side apply conflict."""
    out = []
    for cause in (data.get("details") or {}).get("causes") or []:
        message = cause.get("message", "")
        manager = message.split('"')[1] if message.count('"') >= 2 else message
        out.append((manager, cause.get("field", "")))
    return out


def explain(exc: BaseException, what: str) -> ClusterError:
    """A ClusterError saying what failed and why, from any exception a call raised."""
    status = status_of(exc)
    if status is None:
        reason = _first_line(exc)
        if "Max retries" in reason or "Connection" in type(exc).__name__ or \
                "NewConnectionError" in reason or "refused" in reason:
            reason = reason.split("Caused by", 1)[-1].strip(" ()") if "Caused by" in reason \
                else reason
            return ClusterError(f"{what}: cannot reach the API server ({reason})",
                                hint="is the cluster running, and the kubeconfig's server "
                                     "address right?")
        return ClusterError(f"{what}: {reason}")
    message, data = api_message(exc)
    if status == 401:
        return ClusterError(f"{what}: the API server rejected the credentials (401 Unauthorized)",
                            hint="the context's token or client certificate is wrong or has "
                                 "expired: log in again or refresh the kubeconfig")
    if status == 403:
        return ClusterError(f"{what}: permission denied: {message}",
                            hint="ask for RBAC rights, or check with kubectl auth can-i")
    if status == 409 and conflict_managers(data):
        parts = [f"{f} (owned by {m!r})" if f else m for m, f in conflict_managers(data)]
        managers = sorted({m for m, _ in conflict_managers(data)})
        return ClusterError(
            f"{what}: conflict with field manager(s) {', '.join(repr(m) for m in managers)}: "
            + "; ".join(parts),
            hint="another tool changed these fields; --force-conflicts takes them over")
    if status == 404:
        return ClusterError(f"{what}: not found: {message}")
    if status == 422:
        return ClusterError(f"{what}: invalid: {message}")
    return ClusterError(f"{what}: {message} ({status})")

"""Probes from a compose healthcheck (and kompose's healthcheck labels).

- `CMD args...` -> an exec probe running `args`; `CMD-SHELL cmd` -> `["sh", "-c", cmd]` (docker
  runs CMD-SHELL through the image's shell); `NONE` or `disable: true` -> no probes.
- Timings use docker's defaults when unset (interval 30s, timeout 30s, retries 3), not
  Kubernetes' (10s, 1s, 3), so a slow check keeps passing. Seconds round up, at least 1.
- `start_period` becomes a **startupProbe** running the same check every `start_interval`
  (default 5s) for up to start_period plus `retries` attempts; liveness and readiness begin once
  it succeeds. This matches docker, where failures in the start period do not count and the first
  success ends it. (initialDelaySeconds would delay even a fast-starting container.)
- The same check gives the readinessProbe (docker's "healthy", which gates depends_on and here
  gates the Service endpoints) and the livenessProbe (swarm replaces unhealthy tasks; Kubernetes
  restarts the container).
"""

from __future__ import annotations

import math

from .quantities import seconds

DOCKER_INTERVAL = 30.0
DOCKER_TIMEOUT = 30.0
DOCKER_RETRIES = 3
DOCKER_START_INTERVAL = 5.0


def _handler(test, hints, kind) -> dict | None:
    """The probe handler: httpGet / tcpSocket from hints, else exec from the test."""
    if hints is not None and hints.http_get_path is not None:
        port = hints.http_get_port
        if port is None:
            return None
        return {"httpGet": {"path": hints.http_get_path, "port": port}}
    if hints is not None and hints.tcp_port is not None:
        return {"tcpSocket": {"port": hints.tcp_port}}
    if not test:
        return None
    if test[0] == "CMD":
        return {"exec": {"command": list(test[1:])}} if len(test) > 1 else None
    if test[0] == "CMD-SHELL":
        cmd = " ".join(test[1:])
        return {"exec": {"command": ["sh", "-c", cmd]}} if cmd.strip() else None
    return None


def _timing(interval, timeout, retries) -> dict:
    return {
        "periodSeconds": seconds(interval if interval is not None else DOCKER_INTERVAL),
        "timeoutSeconds": seconds(timeout if timeout is not None else DOCKER_TIMEOUT),
        "failureThreshold": max(1, retries if retries is not None else DOCKER_RETRIES),
    }


def probes(service, hints, report) -> dict:
    """{livenessProbe, readinessProbe, startupProbe} for one container (keys only when set)."""
    name = service.name
    hc = service.healthcheck
    out: dict = {}
    disabled = hc is not None and (hc.disable or (hc.test and hc.test[0] == "NONE"))
    test = None if hc is None or disabled else hc.test
    if hc is not None:
        if disabled:
            report.mapped(name, "healthcheck", "disabled: no probes")
        elif not test:
            report.not_converted(name, "healthcheck",
                                 "the test comes from the image's HEALTHCHECK, which c2k cannot "
                                 "see; add `test:` to get probes")
        elif test[0] not in ("CMD", "CMD-SHELL") or _handler(test, None, "") is None:
            report.not_converted(name, "healthcheck.test", f"unsupported test form {test[0]!r}")
            test = None

    live_hints = hints.liveness
    liveness = _handler(test, live_hints, "liveness")
    if liveness is not None and hc is not None and not disabled:
        liveness.update(_timing(hc.interval, hc.timeout, hc.retries))
        out["livenessProbe"] = liveness
        what = "httpGet/tcpSocket from kompose labels" if live_hints else (
            "exec probe" if test and test[0] == "CMD" else "exec probe through sh -c")
        report.mapped(name, "healthcheck", f"livenessProbe and readinessProbe ({what})")
    elif liveness is not None and live_hints is not None:
        liveness.update(_timing(None, None, None))
        out["livenessProbe"] = liveness
    if live_hints is not None:
        report.mapped(name, "labels.kompose.service.healthcheck.liveness", "livenessProbe")

    ready_hints = hints.readiness
    if ready_hints is not None:
        report.mapped(name, "labels.kompose.service.healthcheck.readiness", "readinessProbe")
        if not ready_hints.disable:
            rtest = ready_hints.test or test
            if rtest and rtest[0] == "NONE":
                rtest = None
            readiness = _handler(rtest, ready_hints, "readiness")
            if readiness is not None:
                readiness.update(_timing(
                    ready_hints.interval if ready_hints.interval is not None
                    else (hc.interval if hc else None),
                    ready_hints.timeout if ready_hints.timeout is not None
                    else (hc.timeout if hc else None),
                    ready_hints.retries if ready_hints.retries is not None
                    else (hc.retries if hc else None)))
                if ready_hints.start_period:
                    readiness["initialDelaySeconds"] = seconds(ready_hints.start_period)
                out["readinessProbe"] = readiness
    elif test and not disabled:
        readiness = _handler(test, None, "readiness")
        assert readiness is not None        # test passed _handler above
        readiness.update(_timing(hc.interval, hc.timeout, hc.retries))
        out["readinessProbe"] = readiness

    if test and not disabled and hc.start_period:
        startup = _handler(test, None, "startup")
        assert startup is not None
        every = hc.start_interval if hc.start_interval else DOCKER_START_INTERVAL
        retries = hc.retries if hc.retries is not None else DOCKER_RETRIES
        startup.update({
            "periodSeconds": seconds(every),
            "timeoutSeconds": seconds(hc.timeout if hc.timeout is not None else DOCKER_TIMEOUT),
            "failureThreshold": int(math.ceil(hc.start_period / max(every, 1))) + max(retries, 1),
        })
        out["startupProbe"] = startup
        report.mapped(name, "healthcheck.start_period",
                      "startupProbe (liveness and readiness start after it succeeds)")
        if hc.start_interval:
            report.mapped(name, "healthcheck.start_interval", "startupProbe periodSeconds")
    elif hc is not None and hc.start_interval and not hc.start_period:
        report.not_converted(name, "healthcheck.start_interval",
                             "only used during start_period, which is not set")
    return out

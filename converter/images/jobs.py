"""What builds and pushes share: the image record, the choice of services, and the thread pool
that runs their jobs and stops at the first failure."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from ..errors import ImageError
from ..records import record
from .progress import Reporter


def default_parallel() -> int:
    """Builds and pushes run in the engine (BuildKit schedules its own work); the client only
    streams their output, so the client's CPU count is not the limit. docker compose starts
    every build at once; measured on 2 cores, 8 services: 8 at a time matches it, 4 or 2 at a
    time are 1.3x and 1.6x slower. So: up to 8 at a time."""
    return 8


@record
class BuiltImage:
    """A service's image: repository name (with its registry), tag, local id, registry digest."""
    service: str
    name: str
    tag: str
    image_id: str | None = None
    digest: str | None = None        # set only from a push (or, for `images`, RepoDigests)
    verified: bool = False           # the registry's manifest HEAD confirmed the digest

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.tag}"

    @property
    def pinned(self) -> str:
        if not self.digest:
            raise ImageError(f"service {self.service!r}: image {self.ref} has no pushed digest")
        return f"{self.ref}@{self.digest}"


# ---- selecting services -----------------------------------------------------------------------

def check_service_names(project, names) -> None:
    unknown = [n for n in names if n not in project.services]
    if unknown:
        raise ImageError(f"no such service: {', '.join(unknown)}",
                         hint=f"services: {', '.join(project.services) or '(none)'}")


def select_services(project, names, reporter: Reporter, verb: str) -> list:
    services = project.services
    if names:
        check_service_names(project, names)
        chosen = [services[n] for n in dict.fromkeys(names)]
    else:
        chosen = list(services.values())
    picked = []
    for service in chosen:
        if service.build is None:
            if names:
                reporter.warn(f"service {service.name!r} has no build section; not {verb}")
            continue
        picked.append(service)
    return picked


# ---- the pool ---------------------------------------------------------------------------------

def run_pool(jobs, worker, parallel, stop: threading.Event, prepare=None) -> dict:
    """Run worker(job) for each job, `parallel` at a time, and merge the dicts the workers
    return, in job order. On the first failure, start no more jobs, let the running ones
    stop, and raise that failure.

    ``prepare(job)``, when given, runs in the calling thread just before the job is handed to
    the pool, and the worker is called as worker(job, prepared); once a job has failed, the
    later ones are handed over unprepared (None), for the worker to see `stop` and report that
    they were not run. Build contexts are archived this way: one after another while the first
    builds already run, instead of by every worker at once, where the archivers and the threads
    sending builds fight over the interpreter lock and the last build of a small project starts
    ~30 ms later.
    """
    results: dict = {}
    if not jobs:
        return results
    if len(jobs) == 1:
        return _run_here(jobs[0], worker, stop, prepare)
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
    workers = max(1, min(parallel or default_parallel(), len(jobs)))
    errors: list = []          # (job index, exception)

    def failed(future):
        if not future.cancelled() and future.exception() is not None:
            stop.set()           # a failure: prepare nothing more

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="c2k-image") as pool:
        futures: dict = {}
        try:
            for i, job in enumerate(jobs):
                if prepare is None:
                    future = pool.submit(worker, job)
                else:
                    prepared = None
                    if not stop.is_set():
                        try:
                            prepared = prepare(job)
                        except Exception as exc:     # noqa: BLE001 - re-raised below
                            stop.set()
                            errors.append((i, exc))
                            continue
                    future = pool.submit(worker, job, prepared)
                future.add_done_callback(failed)
                futures[future] = i
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                try:
                    results[futures[future]] = future.result()
                except Cancelled:
                    pass
                except Exception as exc:     # noqa: BLE001 - re-raised below
                    stop.set()
                    errors.append((futures[future], exc))
        except BaseException:
            stop.set()
            raise
    if errors:
        errors = [exc for _, exc in sorted(errors, key=lambda pair: pair[0])]
        first = next((e for e in errors if isinstance(e, ImageError)), errors[0])
        others = [e for e in errors if e is not first and isinstance(e, ImageError)]
        if others and isinstance(first, ImageError):
            first.message += "\n(also failed: " + "; ".join(o.message.splitlines()[0]
                                                            for o in others) + ")"
        raise first
    merged: dict = {}
    for index in sorted(results):
        merged.update(results[index])
    return merged


def _run_here(job, worker, stop: threading.Event, prepare) -> dict:
    """run_pool of one job, in the calling thread: a pool would only hand it over, and
    concurrent.futures (with logging) is ~5 ms of the start of a one-image build."""
    try:
        result = worker(job) if prepare is None else worker(job, prepare(job))
    except Cancelled:
        return {}
    except BaseException:
        stop.set()
        raise
    return dict(result)


class Cancelled(Exception):
    pass


def skip_if_stopped(stop: threading.Event, reporter: Reporter, services, why: str) -> None:
    """Before a job starts: once another job has failed, mark its services and cancel it."""
    if stop.is_set():
        for service in services:
            reporter.fail(service.name, why)
        raise Cancelled()


@contextmanager
def failures_reported(reporter: Reporter, services):
    """A job's failure: its services' progress lines say "failed", and the error, raised on,
    says why (once: c2k prints it as the command's error)."""
    try:
        yield
    except Cancelled:
        for service in services:
            reporter.fail(service.name, "stopped: another one failed")
        raise
    except ImageError as exc:
        for service in services:
            reporter.fail(service.name, "failed")
        raise

"""Scheduled jobs: a registry of plain functions, run one at a time, each run recorded.

Apps register their jobs from `AppConfig.ready()`; `config/schedule.py` says when each runs;
`run_job` runs one now (from beat, the API, a command or the admin). The same job never runs twice
at once: on PostgreSQL a session advisory lock (released by the server if the worker dies), and on
every database a partial unique constraint on the running JobRun row.
"""

from __future__ import annotations

import hashlib
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from core import clock
from core.errors import Conflict, NotFound
from core.models import JobRun

logger = logging.getLogger(__name__)

# On databases without advisory locks, a running row older than this is taken as abandoned.
STALE_AFTER = timedelta(hours=2)


class JobContext:
    """Handed to a job: count what it did and report progress (stored on its JobRun)."""

    def __init__(self, run: JobRun, out: Callable[[str], None] | None = None) -> None:
        self.run = run
        self.counts: dict[str, int] = {}
        self._out = out

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def progress(self, message: str) -> None:
        if self._out is not None:
            self._out(message)
        JobRun.objects.filter(pk=self.run.pk).update(progress=message[:255], counts=self.counts, updated_at=clock.now())


@dataclass(frozen=True)
class Job:
    name: str
    fn: Callable[[JobContext], Any]
    description: str
    # False for jobs that run every few seconds: a scheduled or kicked run that found nothing to
    # do leaves no JobRun row (runs that did work, failed, or were started by a person always do).
    record_idle: bool = True


_JOBS: dict[str, Job] = {}


def register_job(name: str, fn: Callable[[JobContext], Any], description: str, *, record_idle: bool = True) -> None:
    _JOBS[name] = Job(name=name, fn=fn, description=description, record_idle=record_idle)


def job_registry() -> dict[str, Job]:
    return dict(sorted(_JOBS.items()))


def get_job(name: str) -> Job:
    try:
        return _JOBS[name]
    except KeyError:
        raise NotFound(f"No job named '{name}'. Jobs: {', '.join(sorted(_JOBS)) or 'none'}.") from None


class JobAlreadyRunning(Conflict):
    slug = "job-already-running"
    title = "Job already running"

    def __init__(self, job: str, run: JobRun | None) -> None:
        if run is not None:
            detail = (
                f"The job '{job}' is already running: run {run.id} started at "
                f"{run.started_at.isoformat()} ({run.trigger})."
            )
        else:
            detail = f"The job '{job}' is already running."
        super().__init__(detail)
        self.run = run


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"job:{name}".encode()).digest()[:8], "big", signed=True)


def _try_lock(name: str) -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(name)])
        return bool(cursor.fetchone()[0])


def _unlock(name: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(name)])


def _running(name: str) -> JobRun | None:
    return JobRun.objects.filter(job=name, status=JobRun.Status.RUNNING).order_by("-started_at").first()


def _lock_holder(name: str, wait: float = 1.0) -> JobRun | None:
    """The run holding the lock: one that has just taken it writes its row a moment later."""
    deadline = time.monotonic() + wait
    while (run := _running(name)) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return run


def _start(name: str, trigger: str, user: Any, locked: bool) -> JobRun:
    now = clock.now()
    stale = _running(name)
    if stale is not None and (locked and connection.vendor == "postgresql" or stale.started_at < now - STALE_AFTER):
        # We hold the lock, so whoever left this row running is gone.
        JobRun.objects.filter(pk=stale.pk).update(
            status=JobRun.Status.ABANDONED, finished_at=now, error="The worker running it stopped.", updated_at=now
        )
    try:
        with transaction.atomic():
            return JobRun.objects.create(
                job=name,
                trigger=trigger,
                triggered_by=user if getattr(user, "is_authenticated", False) else None,
                started_at=now,
            )
    except IntegrityError:
        raise JobAlreadyRunning(name, _running(name)) from None


def run_job(
    name: str,
    *,
    trigger: str = JobRun.Trigger.COMMAND,
    user: Any = None,
    out: Callable[[str], None] | None = None,
    body: Callable[[JobContext], Any] | None = None,
) -> JobRun:
    """Run a registered job now and return its finished JobRun (status `succeeded` or `failed`,
    with the error). Raises JobAlreadyRunning (409) when another run of the job holds the lock.
    `body` runs instead of the job's own function under the same lock and run record (a backfill
    over a date range is a run of the daily job that covers more days)."""
    if connection.in_atomic_block:
        raise RuntimeError("Jobs run outside transactions (they commit their own work).")
    job = get_job(name)
    if not _try_lock(name):
        raise JobAlreadyRunning(name, _lock_holder(name))
    try:
        run = _start(name, trigger, user, locked=True)
        context = JobContext(run, out)
        try:
            (body or job.fn)(context)
        except Exception as exc:  # noqa: BLE001 - a failed job is recorded on its run, not raised
            logger.exception("Job %s failed", name)
            JobRun.objects.filter(pk=run.pk).update(
                status=JobRun.Status.FAILED,
                finished_at=clock.now(),
                counts=context.counts,
                error="".join(traceback.format_exception_only(type(exc), exc)).strip()[:5000],
                updated_at=clock.now(),
            )
            run.refresh_from_db()
            return run
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.SUCCEEDED, finished_at=clock.now(), counts=context.counts, updated_at=clock.now()
        )
        run.refresh_from_db()
        idle = not any(context.counts.values())
        if idle and not job.record_idle and trigger in (JobRun.Trigger.BEAT, JobRun.Trigger.KICK):
            JobRun.objects.filter(pk=run.pk).delete()
        return run
    finally:
        _unlock(name)

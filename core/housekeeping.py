"""The `housekeeping` job: forget what no longer needs keeping."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from core import clock
from core.jobs import JobContext
from core.models import IdempotencyRecord, JobRun

JOB_RUNS_KEPT = timedelta(days=30)


def housekeeping(context: JobContext) -> None:
    now = clock.now()
    expired = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=expired).delete()
    context.count("idempotency_keys_deleted", deleted)
    deleted, _ = JobRun.objects.filter(finished_at__lt=now - JOB_RUNS_KEPT).delete()
    context.count("job_runs_deleted", deleted)

"""The `conferencing_sync` job (every minute): synchronise the meetings of sessions whose sync is
due: changes not yet pushed to the provider (the worker was down, or the kick was lost) and
retries after a provider error, once their backoff has passed.

Safe to run twice at once and next to the per-session Celery task: each session is claimed with
SKIP LOCKED and a lease before its provider is called, so no meeting is synchronised twice."""

from __future__ import annotations

import time
from typing import Any

from django.db.models import F, Q

from core import clock
from core.jobs import JobContext
from scheduling.enums import IntegrationStatus
from scheduling.models import Session

BATCH = 200
# Leaves time before the next run; what is left over stays due for it.
TIME_BUDGET_SECONDS = 45.0


def due_session_ids(now: Any, *, limit: int = BATCH) -> list[Any]:
    """Pending sessions whose next try is due, oldest first."""
    return list(
        Session.objects.filter(
            Q(integration_retry_at__isnull=True) | Q(integration_retry_at__lte=now),
            integration_status=IntegrationStatus.PENDING,
        )
        .order_by(F("integration_retry_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )


def conferencing_sync(context: JobContext) -> None:
    from scheduling.services.conferencing import meeting_sync

    started = time.monotonic()
    for session_id in due_session_ids(clock.now()):
        if time.monotonic() - started > TIME_BUDGET_SECONDS:
            context.count("deferred")
            break
        outcome = meeting_sync(session_id=session_id)
        context.count(outcome)
        if outcome in ("retry", "failed"):
            session = Session.objects.only("integration_error").get(pk=session_id)
            context.progress(f"session {session_id}: {outcome}: {session.integration_error}")
    if any(context.counts.values()):
        context.progress(
            "conferencing sync done: "
            + ", ".join(f"{key}={context.counts.get(key, 0)}" for key in ("synced", "retry", "failed", "skipped"))
        )

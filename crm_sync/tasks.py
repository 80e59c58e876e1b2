"""Celery tasks: thin wrappers taking ids, calling the services."""

import contextlib

from celery import shared_task


@shared_task(name="crm_sync.dispatch_kick", ignore_result=True)
def dispatch_kick() -> None:
    """Run the dispatcher now because new outbox rows were committed; if it is already running,
    that run (or the next scheduled one) picks them up."""
    from core.jobs import JobAlreadyRunning, run_job
    from core.models import JobRun

    with contextlib.suppress(JobAlreadyRunning):
        run_job("crm_dispatch", trigger=JobRun.Trigger.KICK)


@shared_task(name="crm_sync.process_inbound_event", ignore_result=True)
def process_inbound_event(event_id: str) -> None:
    from crm_sync.services import inbound_process

    inbound_process(event_id=event_id)

"""Celery task: synchronise one session's meeting right after the change commits."""

from celery import shared_task


@shared_task(name="scheduling.conferencing_sync_session", ignore_result=True)
def conferencing_sync_session(session_id: str) -> None:
    """Idempotent: a session that is not due (already synced, or being synchronised by another
    worker) is left alone; a failure is recorded on the session and retried by the job."""
    from scheduling.services.conferencing import meeting_sync

    meeting_sync(session_id=session_id)

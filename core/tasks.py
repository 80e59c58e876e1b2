import contextlib

from celery import shared_task


@shared_task(name="core.run_job", ignore_result=True)
def run_job_task(job: str, trigger: str = "beat") -> None:
    """Beat's entry point for every scheduled job. A run already in progress makes this one a
    no-op: the schedule fires again soon."""
    from core.jobs import JobAlreadyRunning, run_job

    with contextlib.suppress(JobAlreadyRunning):
        run_job(job, trigger=trigger)

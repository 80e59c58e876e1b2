"""Scheduled jobs of scheduling.

- `cohort_transitions` (hourly): planned cohorts become active on their start date and active
  cohorts complete after their end date, both judged in the program's time zone. Completion
  settles the members (see `scheduling.services.cohort_complete`). Idempotent: a second run finds
  nothing due.
- `session_reminders` (hourly at least; every 10 minutes suggested): sends the session reminders
  due now, exactly once per (session, person, offset, schedule); see
  `scheduling.services.reminders` for the due rule. Safe to run twice at once and to retry.
"""

from __future__ import annotations

from core import clock
from core.errors import DomainError, IllegalTransition
from core.jobs import JobContext
from scheduling.enums import CohortStatus
from scheduling.selectors import cohorts_due_to_complete, cohorts_due_to_start, program_local_date
from scheduling.services import cohort_complete, cohort_set_status, reminders


def cohort_transitions(context: JobContext) -> None:
    now = clock.now()
    for cohort in cohorts_due_to_start(now):
        today = program_local_date(cohort.program.timezone, now)
        try:
            cohort_set_status(
                cohort=cohort,
                status=CohortStatus.ACTIVE,
                reason=f"starts on {cohort.starts_on.isoformat()} ({cohort.program.timezone} date {today.isoformat()})",
            )
        except IllegalTransition:  # changed by an operator since it was read
            context.count("skipped")
            continue
        except DomainError as exc:
            context.count("failed")
            context.progress(f"cohort '{cohort.name}' ({cohort.pk}) could not start: {exc.detail}")
            continue
        context.count("activated")
        context.progress(f"started cohort '{cohort.name}' ({cohort.pk})")
    # Read after the starts: a cohort that was planned and has also ended completes in this run.
    for cohort in cohorts_due_to_complete(now):
        today = program_local_date(cohort.program.timezone, now)
        try:
            result = cohort_complete(
                cohort=cohort,
                reason=f"ended on {cohort.ends_on.isoformat()} ({cohort.program.timezone} date {today.isoformat()})",
            )
        except IllegalTransition:
            context.count("skipped")
            continue
        except DomainError as exc:
            context.count("failed")
            context.progress(f"cohort '{cohort.name}' ({cohort.pk}) could not complete: {exc.detail}")
            continue
        context.count("completed")
        context.count("members_completed", result.completed)
        context.count("members_dropped", result.dropped)
        context.progress(
            f"completed cohort '{cohort.name}' ({cohort.pk}): {result.completed} member(s) completed, "
            f"{result.dropped} dropped"
        )
    context.progress(
        "cohort transitions done: "
        + ", ".join(f"{key}={context.counts.get(key, 0)}" for key in ("activated", "completed", "skipped", "failed"))
    )


def session_reminders(context: JobContext) -> None:
    """Send the session reminders due now. Counts: `sent`, `already_sent` (claimed by a run or a
    dispatch at the same time), `skipped` (the session or the registration changed since it was
    read), `sessions` (sessions with a reminder due). Progress after every committed batch."""
    totals = {"sent": 0, "already_sent": 0, "skipped": 0}

    def on_batch(result: reminders.BatchResult) -> None:
        for key in totals:
            value = getattr(result, key)
            totals[key] += value
            if value:
                context.count(key, value)
        context.progress(f"{totals['sent']} session reminder(s) sent so far")

    run = reminders.send_due_reminders(on_batch=on_batch)
    if run.sessions:
        context.count("sessions", run.sessions)
    offsets = ", ".join(f"{hours} h: {sent}" for hours, sent in sorted(run.by_offset.items(), reverse=True))
    context.progress(
        f"session reminders done: sent={run.sent}, already_sent={run.already_sent}, skipped={run.skipped} "
        f"({run.sessions} session(s) due{'; ' + offsets if offsets else ''})"
    )

"""Snooze and check-in tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from coaching.enums import OPEN_STATES, CheckInOutcome, CheckInStatus, CoachState
from coaching.models import CheckInTask, CoachSettings, Pursuit
from core import clock
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed


def nearest_deadline(user: Any, now: datetime) -> datetime | None:
    return (
        Pursuit.objects.filter(user=user, coach_state__in=OPEN_STATES, deadline__gt=now)
        .order_by("deadline")
        .values_list("deadline", flat=True)
        .first()
    )


@transaction.atomic
def snooze_set(*, user: Any, until: datetime | None) -> CoachSettings:
    """Hold micro-task nudges back until a time before the nearest open pursuit's deadline
    (None clears the snooze)."""
    now = clock.now()
    settings_row, _ = CoachSettings.objects.select_for_update().get_or_create(user=user)
    if until is not None:
        if not isinstance(until, datetime) or until.tzinfo is None:
            raise ValidationFailed(errors={"until": "Give the time with its UTC offset."})
        if until <= now:
            raise ValidationFailed(errors={"until": "Snooze until a time in the future."})
        nearest = nearest_deadline(user, now)
        if nearest is not None and until >= nearest:
            raise ValidationFailed(
                errors={"until": f"Snooze ends before your nearest deadline ({nearest.isoformat()})."}
            )
    settings_row.snoozed_until = until
    settings_row.save(update_fields=["snoozed_until", "updated_at"])
    audit_record(
        actor=user, action="coach.snoozed", target=settings_row, changes={"until": until.isoformat() if until else None}
    )
    return settings_row


def _task(task: CheckInTask, user: Any) -> CheckInTask:
    locked = (
        CheckInTask.objects.select_for_update(of=("self",))
        .select_related("pursuit")
        .filter(pk=task.pk, user=user)
        .first()
    )
    if locked is None:
        raise NotFound("No such check-in of yours.")
    if locked.status != CheckInStatus.PENDING:
        raise Conflict(f"This check-in is {locked.status}.")
    return locked


@transaction.atomic
def checkin_complete(*, task: CheckInTask, user: Any, outcome: str) -> CheckInTask:
    """Answer "Have you heard back?": won (the person's own word: a confirmed win), lost, or
    still waiting (the pursuit is outcome pending)."""
    from coaching.services.pursuits import refresh_momentum

    if outcome not in CheckInOutcome.values:
        raise ValidationFailed(errors={"outcome": f"Use one of: {', '.join(CheckInOutcome.values)}."})
    task = _task(task, user)
    now = clock.now()
    pursuit = Pursuit.objects.select_for_update(of=("self",)).get(pk=task.pursuit_id)
    if outcome == CheckInOutcome.WON and pursuit.application_id and pursuit.pending_state != CoachState.WON:
        raise Conflict("The program has not accepted this application yet; it tells you when it does.")
    state = {CheckInOutcome.WON: CoachState.WON, CheckInOutcome.LOST: CoachState.LOST}.get(
        outcome, CoachState.OUTCOME_PENDING
    )
    if pursuit.coach_state != state:
        pursuit.coach_state = state
        pursuit.last_progress_at = now
    if state == CoachState.WON:
        pursuit.confirmed_at = now
        pursuit.pending_state = ""
    refresh_momentum(pursuit, now)
    pursuit.save()
    task.status, task.outcome, task.completed_at = CheckInStatus.COMPLETED, outcome, now
    task.save(update_fields=["status", "outcome", "completed_at", "updated_at"])
    audit_record(actor=user, action="coach.check_in_completed", target=pursuit, changes={"outcome": outcome})
    return task


@transaction.atomic
def checkin_dismiss(*, task: CheckInTask, user: Any) -> CheckInTask:
    task = _task(task, user)
    task.status, task.completed_at = CheckInStatus.DISMISSED, clock.now()
    task.save(update_fields=["status", "completed_at", "updated_at"])
    return task

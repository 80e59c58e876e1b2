"""Read use-cases of the coach: the game plan (four queries)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, Sum

from coaching.enums import OPEN_STATES, CheckInStatus, CoachState
from coaching.models import CheckInTask, CoachSettings, Pursuit

TOP = 3
STALE_AFTER = timedelta(hours=48)  # no progress for this long ...
NEAR_DEADLINE = timedelta(days=7)  # ... with the deadline this close: a micro-task
MICRO_TASKS = {
    "essay": "Write the first 150 words of your essay for {title}.",
    "form": "Fill in one section of the form for {title}.",
    "mixed": "Draft one short answer for {title}.",
    "": "Spend 20 minutes on {title}.",
}


def _rank_key(pursuit: Pursuit):
    deadline = pursuit.deadline.timestamp() if pursuit.deadline else float("inf")
    return (-(pursuit.momentum_score or 0.0), deadline, str(pursuit.pk))


def micro_task_for(pursuits: list[Pursuit], now: datetime) -> dict[str, Any] | None:
    """The micro-task for the most urgent stale pursuit: open, no progress for 48 h, deadline
    within 7 days (and not passed)."""
    stale = [
        p
        for p in pursuits
        if p.coach_state in OPEN_STATES
        and p.deadline is not None
        and now < p.deadline <= now + NEAR_DEADLINE
        and p.last_progress_at <= now - STALE_AFTER
    ]
    if not stale:
        return None
    pursuit = min(stale, key=lambda p: (p.deadline, str(p.pk)))
    return {
        "pursuit_id": str(pursuit.pk),
        "title": pursuit.title,
        "deadline": pursuit.deadline,
        "text": MICRO_TASKS.get(pursuit.application_type, MICRO_TASKS[""]).format(title=pursuit.title),
    }


def game_plan(user: Any, now: datetime) -> dict[str, Any]:
    """`top` (3 open pursuits by momentum, ties by nearest deadline), `check_ins` (pending and
    due), `to_confirm` (wins waiting for the person), `micro_task`, `snoozed_until`, `total_won`
    (per currency, confirmed wins only)."""
    # One query for the open pursuits and the wins waiting for confirmation.
    live = list(
        Pursuit.objects.filter(user=user).filter(
            Q(Q(deadline__gt=now) | Q(deadline__isnull=True), coach_state__in=OPEN_STATES) | ~Q(pending_state="")
        )
    )
    open_pursuits = [p for p in live if p.coach_state in OPEN_STATES and (p.deadline is None or p.deadline > now)]
    to_confirm = sorted(
        (p for p in live if p.pending_state),
        key=lambda p: (p.deadline is None, p.deadline.timestamp() if p.deadline else 0, str(p.pk)),
    )
    ranked = sorted((p for p in open_pursuits if p.momentum_score is not None), key=_rank_key)
    check_ins = list(
        CheckInTask.objects.filter(
            user=user,
            status=CheckInStatus.PENDING,
            due_at__lte=now,
            # A pursuit confirmed won (or lost) meanwhile needs no "Have you heard back?".
            pursuit__coach_state__in=(CoachState.SUBMITTED, CoachState.OUTCOME_PENDING),
        )
        .select_related("pursuit")
        .order_by("due_at", "pk")
    )
    snoozed_until = CoachSettings.objects.filter(user=user).values_list("snoozed_until", flat=True).first()
    won = (
        Pursuit.objects.filter(
            user=user, coach_state=CoachState.WON, confirmed_at__isnull=False, award_amount__isnull=False
        )
        .values("award_currency")
        .annotate(amount=Sum("award_amount"))
        .order_by("award_currency")
    )
    return {
        "top": ranked[:TOP],
        "check_ins": check_ins,
        "to_confirm": to_confirm,
        "micro_task": micro_task_for(open_pursuits, now),
        "snoozed_until": snoozed_until if snoozed_until and snoozed_until > now else None,
        "total_won": [{"amount": row["amount"], "currency": row["award_currency"]} for row in won],
    }

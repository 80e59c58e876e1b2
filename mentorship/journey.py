"""The journey flags mentorship adds to a person's record (source 001), always derived from
matches, check-ins, feedback, milestones and activities, never incremented:

- `match_count`: matches that started (active or ended), `match_active`: one is active now;
- `events_attended`, `checkins_completed` (check-ins they logged), `milestones_reached`;
- `checkin_due`: an active match of theirs has had no check-in for the program's
  `checkins.interval_days` (default 7) since the last one, or since it started;
- `feedback_pending`: a match of theirs ended and they have not rated it;
- `last_checkin_at`: their pairs' latest check-in (ISO date-time) or null.

People with no started match, event, check-in or milestone carry none of these keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q

from core import clock
from mentorship.enums import ActivityKind, MatchStatus
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone
from mentorship.services.common import checkin_interval_days

KEYS = (
    "match_count",
    "match_active",
    "events_attended",
    "checkins_completed",
    "milestones_reached",
    "checkin_due",
    "feedback_pending",
    "last_checkin_at",
)


def mentorship_flags(user_id: Any) -> dict[str, Any]:
    now = clock.now()
    mine = Match.objects.filter(Q(mentor_id=user_id) | Q(mentee_id=user_id))
    started = list(
        mine.filter(status__in=[MatchStatus.ACTIVE, MatchStatus.ENDED])
        .annotate(
            last_checkin=Max("checkins__at"),
            rated=Exists(Feedback.objects.filter(match=OuterRef("pk"), author_id=user_id)),
        )
        .values_list("status", "started_at", "last_checkin", "rated", "program__config")
    )
    due = False
    pending = False
    latest = None
    for status, started_at, last_checkin, rated, config in started:
        if last_checkin is not None and (latest is None or last_checkin > latest):
            latest = last_checkin
        if status == MatchStatus.ACTIVE:
            if (last_checkin or started_at) <= now - timedelta(days=checkin_interval_days(config)):
                due = True
        elif not rated:
            pending = True
    events = Activity.objects.filter(user_id=user_id, kind=ActivityKind.EVENT).count()
    checkins = CheckIn.objects.filter(by_id=user_id).count()
    milestones = Milestone.objects.filter(user_id=user_id).count()
    if not (started or events or checkins or milestones):
        return {}  # people who take no part in mentorship carry none of its flags
    return {
        "match_count": len(started),
        "match_active": any(row[0] == MatchStatus.ACTIVE for row in started),
        "events_attended": events,
        "checkins_completed": checkins,
        "milestones_reached": milestones,
        "checkin_due": due,
        "feedback_pending": pending,
        "last_checkin_at": latest.isoformat() if latest else None,
    }

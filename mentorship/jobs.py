"""Scheduled jobs of mentorship.

- `mentorship_checkins` (weekly, Monday 09:00 UTC): refreshes the journey flags of everyone in
  an active match, so `checkin_due` turns on after the program's interval without a check-in
  (and off again), and nudges both people of each pair that is due. A nudge is sent at most once
  per pair, person and ISO week (dedupe key), and the `nudge` group's rate limits and quiet
  hours apply. Safe to run twice: a second run in the same week finds the week's nudges and
  counts them as `already_nudged`; `nudges` counts the nudges that went out (one per person and
  pair due; those held back by a rate limit, an opt-out or an inactive account do not count).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from core import clock
from core.jobs import JobContext
from enrollments.services import journey_flags_refresh
from mentorship import notices
from mentorship.enums import MatchStatus
from mentorship.models import Match
from mentorship.services.common import checkin_interval_days
from notifications.models import Notification
from notifications.services import notify


def mentorship_checkins(context: JobContext) -> None:
    now = clock.now()
    year, week, _ = now.isocalendar()
    matches = list(
        Match.objects.filter(status=MatchStatus.ACTIVE)
        .annotate(last_checkin=Max("checkins__at"))
        .select_related("program")
        .order_by("pk")
    )
    people = {m.mentor_id for m in matches} | {m.mentee_id for m in matches}
    users = get_user_model().objects.in_bulk(people)
    for position, user_id in enumerate(sorted(people, key=str), start=1):
        with transaction.atomic():  # the refresh locks the person's flags row
            journey_flags_refresh(user_id=user_id)
        context.count("flags_refreshed")
        if position % 500 == 0:
            context.progress(f"flags refreshed for {position} of {len(people)} people")
    stamp = f"{year}-W{week:02d}"
    this_week = Notification.objects.filter(kind=notices.CHECKIN_DUE, dedupe_key__contains=f":{stamp}:")
    sent = {key.rsplit(":", 1)[0] for key in this_week.values_list("dedupe_key", flat=True)}  # without the channel
    for match in matches:
        interval = checkin_interval_days(match.program.config)
        last = match.last_checkin or match.started_at
        if last > now - timedelta(days=interval):
            continue
        context.count("pairs_due")
        days = (now - last).days
        for user_id, other_id in ((match.mentor_id, match.mentee_id), (match.mentee_id, match.mentor_id)):
            dedupe_key = f"{notices.CHECKIN_DUE}:{match.pk}:{user_id}:{stamp}"
            if dedupe_key in sent:
                context.count("already_nudged")
                continue
            other = users[other_id]
            rows = notify(
                user=users[user_id],
                kind=notices.CHECKIN_DUE,
                context={
                    "program_name": match.program.name,
                    "other": other.get_full_name() or other.email,
                    "days": days,
                    "matches_url": notices.my_matches_url(),
                },
                dedupe_key=dedupe_key,
                related=[match],
            )
            if any(row.status != "suppressed" for row in rows):
                context.count("nudges")
    context.progress(f"{context.counts.get('pairs_due', 0)} pairs due a check-in")

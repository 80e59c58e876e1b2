"""Mentorship metrics (docs/kpis.md, "Mentorship"), in four aggregate queries whatever the data size.

Scope: matches and mentee profiles of the scope's programs; a campaign keeps pairs whose mentee is
enrolled in the match's program through that campaign, a cohort pairs whose mentee is a member of
that cohort. Dates: see each key in the docs (matches started before the end of the range,
durations of matches that ended in it, check-ins and feedback given in it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Greatest

from analytics.metrics.sessions import ratio
from analytics.scope import Scope
from analytics.sql import EpochSeconds
from core import clock
from enrollments.models import Enrollment
from mentorship.enums import MatchStatus, ProfileKind
from mentorship.models import CheckIn, Feedback, Match, Profile
from scheduling.models import CohortMember

STARTED = (MatchStatus.ACTIVE, MatchStatus.ENDED)
WEEK_SECONDS = 7 * 24 * 3600


def _mentee_filter(scope: Scope, user: str, program: str) -> Q:
    """Campaign and cohort conditions on a mentee given by the paths `user` and `program`."""
    q = Q()
    if scope.campaign_id:
        q &= Q(
            Exists(
                Enrollment.objects.filter(
                    user_id=OuterRef(user), program_id=OuterRef(program), campaign_id=scope.campaign_id
                )
            )
        )
    if scope.cohort_id:
        q &= Q(Exists(CohortMember.objects.filter(enrollment__user_id=OuterRef(user), cohort_id=scope.cohort_id)))
    return q


def match_queryset(scope: Scope, prefix: str = ""):
    """Matches in the scope's programs (and campaign/cohort); no date condition."""
    matches = Match.objects.all()
    if scope.program_ids:
        matches = matches.filter(program_id__in=scope.program_ids)
    return matches.filter(_mentee_filter(scope, "mentee_id", "program_id"))


def compute(scope: Scope) -> dict[str, Any]:
    now = clock.now()
    until = min(now, scope.end) if scope.end else now
    matches = match_queryset(scope)
    started_before_end = Q(started_at__lt=until)
    active = Q(status=MatchStatus.ACTIVE) & started_before_end
    ended_in_range = Q(status=MatchStatus.ENDED)
    if scope.start:
        ended_in_range &= Q(ended_at__gte=scope.start)
    if scope.end:
        ended_in_range &= Q(ended_at__lt=scope.end)
    window_start = Greatest(F("started_at"), Value(scope.start)) if scope.start else F("started_at")
    duration = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    agg = matches.aggregate(
        active=Count("id", filter=active),
        # each active match counts at least one week, so a match started an hour ago with one
        # check-in reads as one check-in per week, not 168
        active_seconds=Sum(
            Greatest(EpochSeconds(Value(until), window_start), Value(float(WEEK_SECONDS))), filter=active
        ),
        ended=Count("id", filter=ended_in_range),
        avg_duration=Avg(duration, filter=ended_in_range),
    )

    checkins = CheckIn.objects.filter(match__in=matches.filter(active).values("id"))
    feedback = Feedback.objects.filter(match__in=matches.values("id"))
    if scope.start:
        checkins = checkins.filter(at__gte=Greatest(F("match__started_at"), Value(scope.start)))
        feedback = feedback.filter(at__gte=scope.start)
    if scope.end:
        checkins = checkins.filter(at__lt=scope.end)
        feedback = feedback.filter(at__lt=scope.end)
    checkin_count = checkins.count()
    rating = feedback.aggregate(avg=Avg("rating"), n=Count("id"))

    mentees = Profile.objects.filter(kind=ProfileKind.MENTEE)
    if scope.program_ids:
        mentees = mentees.filter(program_id__in=scope.program_ids)
    mentees = mentees.filter(_mentee_filter(scope, "user_id", "program_id"))
    has_match = Exists(
        Match.objects.filter(
            mentee_id=OuterRef("user_id"), program_id=OuterRef("program_id"), status__in=STARTED, started_at__lt=until
        )
    )
    share = mentees.aggregate(total=Count("id"), matched=Count("id", filter=Q(has_match)))

    avg_days = agg["avg_duration"]
    active_weeks = float(agg["active_seconds"] or 0) / WEEK_SECONDS
    return {
        "matches_active": agg["active"],
        "matches_ended": agg["ended"],
        "avg_match_duration_days": round(avg_days / timedelta(days=1), 4) if avg_days is not None else None,
        "checkins_on_active_matches": checkin_count,
        "checkins_per_active_match_week": ratio(checkin_count, active_weeks),
        "feedback_count": rating["n"],
        "avg_feedback_rating": round(float(rating["avg"]), 4) if rating["avg"] is not None else None,
        "mentee_profiles": share["total"],
        "mentees_matched": share["matched"],
        "mentees_matched_share": ratio(share["matched"], share["total"]),
    }

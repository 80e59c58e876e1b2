"""Session metrics (docs/kpis.md, "Sessions"), in two aggregate queries whatever the data size.

Scope: sessions of the scope's programs that start in the date range; a cohort keeps that
cohort's sessions; a campaign keeps the attendance rows of people enrolled in the session's
program through that campaign (session counts are not narrowed by a campaign: sessions belong
to programs and cohorts, not to campaigns)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum

from analytics.scope import Scope
from enrollments.models import Enrollment
from scheduling.enums import AttendanceStatus, SessionStatus
from scheduling.models import Attendance, Session


def ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """`numerator / denominator` rounded to 4 places, None without a denominator."""
    if not denominator:
        return None
    return round(float(numerator or 0) / float(denominator), 4)


def session_filter(scope: Scope, prefix: str = "") -> Q:
    """The scope as a filter on sessions (`prefix` = the path to the session, e.g. "session__")."""
    q = Q()
    if scope.program_ids:
        q &= Q(**{f"{prefix}program_id__in": scope.program_ids})
    if scope.start:
        q &= Q(**{f"{prefix}starts_at__gte": scope.start})
    if scope.end:
        q &= Q(**{f"{prefix}starts_at__lt": scope.end})
    if scope.cohort_id:
        q &= Q(**{f"{prefix}cohort_id": scope.cohort_id})
    return q


def attendance_queryset(scope: Scope):
    """Attendance rows recorded for delivered sessions in scope."""
    rows = Attendance.objects.filter(session_filter(scope, "session__"), session__status=SessionStatus.DELIVERED)
    if scope.campaign_id:
        rows = rows.filter(
            Exists(
                Enrollment.objects.filter(
                    user_id=OuterRef("user_id"),
                    program_id=OuterRef("session__program_id"),
                    campaign_id=scope.campaign_id,
                )
            )
        )
    return rows


def attendance_counts(scope: Scope) -> dict[str, int]:
    """One query: recorded rows, per status, and distinct participants. Rows are grouped per person
    first and the groups added up (`SELECT COUNT(*), SUM(..) FROM (.. GROUP BY user_id)`): the same
    figures as `COUNT(DISTINCT user_id)` beside the counts, but PostgreSQL hashes the people in
    parallel instead of sorting every row."""
    statuses = {
        "present": AttendanceStatus.PRESENT,
        "late": AttendanceStatus.LATE,
        "absent": AttendanceStatus.ABSENT,
        "excused": AttendanceStatus.EXCUSED,
    }
    per_person = (
        attendance_queryset(scope)
        .order_by()
        .values("user_id")
        .annotate(
            rows=Count("id"),
            **{f"n_{key}": Count("id", filter=Q(status=status)) for key, status in statuses.items()},
        )
    )
    totals = per_person.aggregate(
        participants=Count("user_id"),
        recorded=Sum("rows"),
        **{key: Sum(f"n_{key}") for key in statuses},
    )
    counts = {key: int(totals[key] or 0) for key in ("recorded", *statuses, "participants")}
    return counts


def compute(scope: Scope) -> dict[str, Any]:
    sessions = Session.objects.filter(session_filter(scope)).aggregate(
        scheduled=Count("id", filter=Q(status=SessionStatus.SCHEDULED)),
        delivered=Count("id", filter=Q(status=SessionStatus.DELIVERED)),
        cancelled=Count("id", filter=Q(status=SessionStatus.CANCELLED)),
    )
    counts = attendance_counts(scope)
    attended = counts["present"] + counts["late"]
    return {
        "sessions_scheduled": sessions["scheduled"],
        "sessions_delivered": sessions["delivered"],
        "sessions_cancelled": sessions["cancelled"],
        "cancellation_rate": ratio(sessions["cancelled"], sessions["delivered"] + sessions["cancelled"]),
        "attendance_recorded": counts["recorded"],
        "attendance_present": counts["present"],
        "attendance_late": counts["late"],
        "attendance_absent": counts["absent"],
        "attendance_excused": counts["excused"],
        "attendance_rate": ratio(attended, counts["recorded"]),
        "no_show_rate": ratio(counts["absent"], counts["recorded"]),
        "participants": counts["participants"],
        "avg_attendance_per_participant": ratio(attended, counts["participants"]),
    }

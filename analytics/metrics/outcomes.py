"""Outcome metrics (docs/kpis.md, "Outcomes"): outcomes by type and value, cross-program
participation and journey-flag roll-ups, in three aggregate queries whatever the data size.

Scope: outcomes of the scope's programs that occurred in the date range (a campaign or cohort
keeps those of enrollments through that campaign / members of that cohort). Cross-program
participation and journey flags describe people as they are now: the population is everyone with
an active enrollment in the scope's programs (and campaign / cohort); dates do not apply."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Sum

from analytics.metrics.sessions import ratio
from analytics.scope import Scope
from enrollments.enums import EnrollmentStatus
from enrollments.models import Enrollment, JourneyFlags, Outcome

# Boolean journey flags counted where true (source 001 and the mentorship contributor).
ROLLUP_FLAGS = ("match_active", "checkin_due", "feedback_pending")
# Numeric journey flags summed and counted where above zero.
ROLLUP_COUNTERS = ("programs_count", "match_count", "events_attended", "checkins_completed", "milestones_reached")


def _enrollment_filter(scope: Scope, prefix: str = "") -> Q:
    q = Q()
    if scope.program_ids:
        q &= Q(**{f"{prefix}program_id__in": scope.program_ids})
    if scope.campaign_id:
        q &= Q(**{f"{prefix}campaign_id": scope.campaign_id})
    if scope.cohort_id:
        q &= Q(**{f"{prefix}cohort_memberships__cohort_id": scope.cohort_id})
    return q


def outcomes_by_type(scope: Scope) -> list[dict[str, Any]]:
    """One query: per outcome type, the count and the summed amounts per currency (Decimal strings)."""
    rows = Outcome.objects.filter(_enrollment_filter(scope, "enrollment__"))
    if scope.program_ids:
        rows = rows.filter(program_id__in=scope.program_ids)
    if scope.date_from:
        rows = rows.filter(occurred_on__gte=scope.date_from)
    if scope.date_to:
        rows = rows.filter(occurred_on__lte=scope.date_to)
    grouped = (
        rows.values("outcome_type", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), with_amount=Count("amount"))
        .order_by("outcome_type", "currency")
    )
    by_type: dict[str, dict[str, Any]] = {}
    for row in grouped:
        entry = by_type.setdefault(
            row["outcome_type"], {"outcome_type": row["outcome_type"], "count": 0, "amounts": {}}
        )
        entry["count"] += row["n"]
        if row["with_amount"]:
            currency = row["currency"] or ""
            total = entry["amounts"].get(currency, Decimal("0")) + row["total"]
            entry["amounts"][currency] = total
    for entry in by_type.values():
        entry["amounts"] = {
            currency: str(total.quantize(Decimal("0.01"))) for currency, total in entry["amounts"].items()
        }
    return list(by_type.values())


def _population(scope: Scope):
    """User ids with an active enrollment in scope."""
    return (
        Enrollment.objects.filter(_enrollment_filter(scope), status=EnrollmentStatus.ACTIVE)
        .order_by()
        .values("user_id")
        .distinct()
    )


def _pairs(scope: Scope):
    """Distinct (user, program) of active enrollments, of the people with an active enrollment in
    scope (their programs anywhere)."""
    in_scope = Enrollment.objects.filter(
        _enrollment_filter(scope), status=EnrollmentStatus.ACTIVE, user_id=OuterRef("user_id")
    )
    return (
        Enrollment.objects.filter(Exists(in_scope), status=EnrollmentStatus.ACTIVE)
        .order_by()
        .values("user_id", "program_id")
        .distinct()
    )


def cross_program(scope: Scope) -> dict[str, Any]:
    """Source 001's query (active enrollments grouped by user, `HAVING COUNT(*) > 1`, here counting
    distinct programs since one person may hold two roles in a program), over the people with an
    active enrollment in scope; their programs are counted across all programs. One query (distinct
    pairs first, then grouped per person: hashing instead of sorting for COUNT(DISTINCT))."""
    pairs_sql, params = _pairs(scope).query.sql_with_params()
    sql = f"""
        SELECT COUNT(*), COUNT(*) FILTER (WHERE programs > 1), COALESCE(SUM(programs) FILTER (WHERE programs > 1), 0)
        FROM (
            SELECT pairs.user_id, COUNT(*) AS programs FROM ({pairs_sql}) AS pairs GROUP BY pairs.user_id
        ) AS per_user
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        users, in_several, their_programs = cursor.fetchone()
    return {
        "participants": users,
        "multi_program_participants": in_several,
        "multi_program_share": ratio(in_several, users),
        "avg_programs_of_multi_program_participants": ratio(their_programs, in_several),
    }


def journey_rollup(scope: Scope) -> dict[str, Any]:
    """One query over the journey flags of the population."""
    flags = JourneyFlags.objects.filter(user_id__in=_population(scope))
    aggregates: dict[str, Any] = {"people": Count("id")}
    for key in ROLLUP_FLAGS:
        aggregates[key] = Count("id", filter=Q(**{f"flags__{key}": True}))
    for key in ROLLUP_COUNTERS:
        aggregates[f"{key}_people"] = Count("id", filter=Q(**{f"flags__{key}__gt": 0}))
    return flags.aggregate(**aggregates)


def compute(scope: Scope) -> dict[str, Any]:
    return {
        "outcomes_by_type": outcomes_by_type(scope),
        "cross_program": cross_program(scope),
        "journey_flags": journey_rollup(scope),
    }

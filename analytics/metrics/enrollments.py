"""Enrollments by status, completion and drop rates, cohort fill and campaign progress.

Formulas: docs/kpis.md, "Enrollments". Three queries whatever the number of rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from analytics.metrics.funnel import enrollments_in, rate
from analytics.scope import Scope
from enrollments.enums import HOLDS_A_PLACE, EnrollmentStatus
from programs.models import Campaign
from scheduling.enums import CohortMemberStatus
from scheduling.models import Cohort


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def compute(scope: Scope) -> dict[str, Any]:
    counts = enrollments_in(scope).aggregate(
        total=Count("id"),
        **{status.value: Count("id", filter=Q(status=status)) for status in EnrollmentStatus},
    )
    total = counts.pop("total")

    cohorts = Cohort.objects.all()
    if scope.program_ids:
        cohorts = cohorts.filter(program_id__in=scope.program_ids)
    if scope.cohort_id:
        cohorts = cohorts.filter(pk=scope.cohort_id)
    cohort_fill = [
        {
            "cohort_id": str(row["id"]),
            "cohort_name": row["name"],
            "capacity": row["capacity"],
            "members": row["members_active"],
            "fill_rate": rate(row["members_active"], row["capacity"]),
        }
        for row in cohorts.annotate(
            members_active=Count("members", filter=Q(members__status=CohortMemberStatus.ACTIVE))
        )
        .values("id", "name", "capacity", "members_active")
        .order_by("starts_on", "name", "id")
    ]

    campaigns = Campaign.objects.all()
    if scope.program_ids:
        campaigns = campaigns.filter(program_id__in=scope.program_ids)
    if scope.campaign_id:
        campaigns = campaigns.filter(pk=scope.campaign_id)
    campaign_progress = []
    for row in (
        campaigns.annotate(taken=Count("enrollments", filter=Q(enrollments__status__in=HOLDS_A_PLACE)))
        .values("id", "name", "target_enrollment", "max_enrollment", "budget_amount", "budget_currency", "taken")
        .order_by("name", "id")
    ):
        budget = row["budget_amount"]
        campaign_progress.append(
            {
                "campaign_id": str(row["id"]),
                "campaign_name": row["name"],
                "enrolled": row["taken"],
                "target_enrollment": row["target_enrollment"],
                "max_enrollment": row["max_enrollment"],
                "target_progress": rate(row["taken"], row["target_enrollment"]),
                "max_fill_rate": rate(row["taken"], row["max_enrollment"]),
                "budget_amount": _money(budget),
                "budget_currency": row["budget_currency"] or None,
                "budget_per_enrollment": (
                    _money(budget / row["taken"]) if budget is not None and row["taken"] else None
                ),
            }
        )

    return {
        "enrollments_total": total,
        "enrollments_by_status": counts,
        # Source 001: SUM(status = 'completed') / COUNT(*) over every enrollment, active ones included.
        "completion_rate": rate(counts[EnrollmentStatus.COMPLETED.value], total),
        "drop_rate": rate(counts[EnrollmentStatus.DROPPED.value], total),
        "cohort_fill": cohort_fill,
        "campaign_progress": campaign_progress,
    }

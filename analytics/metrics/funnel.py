"""Application-to-completion funnel, acceptance rate, time to decision and review SLA compliance.

Formulas: docs/kpis.md, "Funnel". Every value comes from SQL aggregates: five queries whatever
the number of rows (applications, enrollments, reviews, per campaign, per cohort).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q

from analytics.scope import Scope
from analytics.sql import EpochSeconds, PercentileCont, percentile_cont
from applications.enums import DECIDED, ApplicationStatus
from applications.models import Application, Review
from enrollments.enums import EnrollmentStatus
from enrollments.models import Enrollment
from scheduling.models import CohortMember

STAGES = ("applied", "submitted", "reviewed", "accepted", "enrolled", "active", "completed")
SECONDS_PER_DAY = 86400


def rate(numerator: int | float, denominator: int | float) -> float | None:
    """`numerator / denominator` rounded to 4 places; None when there is no denominator."""
    return round(numerator / denominator, 4) if denominator else None


def _decision_seconds():
    """Seconds from submission to decision: NULL unless both are set."""
    return EpochSeconds(F("decided_at"), F("submitted_at"))


def applications_in(scope: Scope):
    """Applications of the scope's programs started (created) within its date range. Campaign and
    cohort do not apply: an application belongs to a program, not to a campaign or cohort."""
    qs = Application.objects.all()
    if scope.program_ids:
        qs = qs.filter(program_id__in=scope.program_ids)
    if scope.start:
        qs = qs.filter(created_at__gte=scope.start)
    if scope.end:
        qs = qs.filter(created_at__lt=scope.end)
    return qs


def enrollments_in(scope: Scope):
    """Enrollments of the scope's programs (and campaign, and cohort through its members, when
    given) enrolled within its date range."""
    qs = Enrollment.objects.all()
    if scope.program_ids:
        qs = qs.filter(program_id__in=scope.program_ids)
    if scope.campaign_id:
        qs = qs.filter(campaign_id=scope.campaign_id)
    if scope.cohort_id:
        qs = qs.filter(Exists(CohortMember.objects.filter(enrollment_id=OuterRef("pk"), cohort_id=scope.cohort_id)))
    if scope.start:
        qs = qs.filter(enrolled_at__gte=scope.start)
    if scope.end:
        qs = qs.filter(enrolled_at__lt=scope.end)
    return qs


def _enrollment_counts() -> dict[str, Any]:
    return {
        "enrolled": Count("id"),
        "active": Count("id", filter=Q(status=EnrollmentStatus.ACTIVE)),
        "completed": Count("id", filter=Q(status=EnrollmentStatus.COMPLETED)),
    }


def _days(seconds: float | None) -> float | None:
    return round(seconds / SECONDS_PER_DAY, 4) if seconds is not None else None


def compute(scope: Scope) -> dict[str, Any]:
    decided = Q(status__in=DECIDED, submitted_at__isnull=False, decided_at__isnull=False)
    apps = applications_in(scope).aggregate(
        applied=Count("id"),
        submitted=Count("id", filter=Q(submitted_at__isnull=False)),
        reviewed=Count("id", filter=Q(Exists(Review.objects.filter(application_id=OuterRef("pk"))))),
        accepted=Count("id", filter=Q(status=ApplicationStatus.ACCEPTED)),
        decided=Count("id", filter=Q(status__in=DECIDED)),
        median_seconds=PercentileCont(_decision_seconds(), 0.5, filter=decided),
        p90_seconds=PercentileCont(_decision_seconds(), 0.9, filter=decided),
    )
    if connection.vendor != "postgresql":  # no percentile_cont: the same interpolation in Python
        seconds = list(
            applications_in(scope).filter(decided).annotate(s=_decision_seconds()).values_list("s", flat=True)
        )
        apps["median_seconds"], apps["p90_seconds"] = percentile_cont(seconds, 0.5), percentile_cont(seconds, 0.9)
    enrollments = enrollments_in(scope)
    enrolled = enrollments.aggregate(**_enrollment_counts())

    counts = {**apps, **enrolled}
    funnel = [{"stage": stage, "count": counts[stage]} for stage in STAGES]
    conversion = [
        {
            "stage": stage["stage"],
            "rate": None if index == 0 else rate(stage["count"], funnel[index - 1]["count"]),
        }
        for index, stage in enumerate(funnel)
    ]

    reviews = Review.objects.all()
    if scope.program_ids:
        reviews = reviews.filter(application__program_id__in=scope.program_ids)
    if scope.start:
        reviews = reviews.filter(submitted_at__gte=scope.start)
    if scope.end:
        reviews = reviews.filter(submitted_at__lt=scope.end)
    sla = reviews.aggregate(
        submitted=Count("id"), on_time=Count("id", filter=Q(submitted_at__lte=F("assignment__due_at")))
    )

    by_campaign = [
        {
            "campaign_id": str(row["campaign_id"]) if row["campaign_id"] else None,
            "campaign_name": row["campaign__name"],
            **{key: row[key] for key in ("enrolled", "active", "completed")},
        }
        for row in enrollments.values("campaign_id", "campaign__name")
        .annotate(**_enrollment_counts())
        .order_by("campaign__name", "campaign_id")
    ]
    by_cohort = [
        {
            "cohort_id": str(row["cohort_memberships__cohort_id"]),
            "cohort_name": row["cohort_memberships__cohort__name"],
            **{key: row[key] for key in ("enrolled", "active", "completed")},
        }
        for row in enrollments.filter(cohort_memberships__isnull=False)
        .filter(**({"cohort_memberships__cohort_id": scope.cohort_id} if scope.cohort_id else {}))
        .values("cohort_memberships__cohort_id", "cohort_memberships__cohort__name")
        .annotate(**_enrollment_counts())
        .order_by("cohort_memberships__cohort__name", "cohort_memberships__cohort_id")
    ]

    return {
        "funnel": funnel,
        "conversion": conversion,
        "acceptance_rate": rate(apps["accepted"], apps["decided"]),
        "decided": apps["decided"],
        "time_to_decision_days": {"median": _days(apps["median_seconds"]), "p90": _days(apps["p90_seconds"])},
        "review_sla_compliance": rate(sla["on_time"], sla["submitted"]),
        "reviews_submitted": sla["submitted"],
        "reviews_on_time": sla["on_time"],
        "funnel_by_campaign": by_campaign,
        "funnel_by_cohort": by_cohort,
    }

"""Read use-cases of cohorts: lists with their active member counts, members, due transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q, QuerySet

from core.middleware import valid_timezone
from scheduling.enums import CohortMemberStatus, CohortStatus
from scheduling.models import Cohort, CohortMember


def cohort_list() -> QuerySet[Cohort]:
    """Cohorts with `active_members` counted in the same query."""
    return Cohort.objects.annotate(
        active_members=Count("members", filter=Q(members__status=CohortMemberStatus.ACTIVE))
    ).order_by("starts_on", "name", "id")


def cohorts_of_program(program_id) -> QuerySet[Cohort]:
    return cohort_list().filter(program_id=program_id)


def cohort_member_list(cohort: Cohort) -> QuerySet[CohortMember]:
    return CohortMember.objects.filter(cohort=cohort).select_related("enrollment").order_by("joined_at", "id")


def program_local_date(timezone_name: str, now: datetime) -> date:
    """The calendar date at `now` where the program is (UTC if its zone is unknown)."""
    zone = valid_timezone(timezone_name)
    return now.astimezone(zone or UTC).date()


def _horizon(now: datetime) -> date:
    # No time zone is more than a day ahead of UTC (UTC+14), so no cohort due anywhere starts
    # (or ends) after tomorrow's UTC date; the exact check per program happens in Python.
    return now.astimezone(UTC).date() + timedelta(days=1)


def cohorts_due_to_start(now: datetime) -> list[Cohort]:
    """Planned cohorts whose start date has come in their program's time zone."""
    candidates = Cohort.objects.select_related("program").filter(
        status=CohortStatus.PLANNED, starts_on__lte=_horizon(now)
    )
    return [
        c for c in candidates.order_by("starts_on", "id") if c.starts_on <= program_local_date(c.program.timezone, now)
    ]


def cohorts_due_to_complete(now: datetime) -> list[Cohort]:
    """Active cohorts whose end date has passed in their program's time zone."""
    candidates = Cohort.objects.select_related("program").filter(status=CohortStatus.ACTIVE, ends_on__lt=_horizon(now))
    return [c for c in candidates.order_by("ends_on", "id") if c.ends_on < program_local_date(c.program.timezone, now)]

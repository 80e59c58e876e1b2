"""Company reporting: the headline figures of each campaign a company runs, and their totals.

A campaign is a company's deployment of a program, so every figure of a campaign row is the
program's analytics narrowed to that campaign (`program_analytics` with the campaign in the scope;
formulas: docs/kpis.md). Application stages (`applied`, `submitted`, `reviewed`, `accepted`) and
`acceptance_rate` are `None` on every row and in the totals: an application belongs to a program,
not to a campaign, so the program-wide counts would describe other companies' applicants too.

Totals: `program_analytics` takes one campaign at a time, so the totals are not a second metric
run. Enrollment counts are summed over the rows (each enrollment belongs to exactly one campaign,
so the sums are the pooled counts), and the rates are recomputed from them as docs/kpis.md defines
them: `completion_rate` = completed / enrolled, `drop_rate` = dropped / enrolled. The attendance
rate is recomputed by one extra aggregate over the union of the campaigns' attendance rows (a
person enrolled in one program through two of the company's campaigns counts under both rows but
once in the totals). `target_progress` of the totals is the places taken over the summed targets.

Query count: one for the campaigns, one `program_analytics` run per campaign, one for the totals'
attendance: it grows with the number of campaigns, never with the number of rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from analytics.metrics.funnel import rate
from analytics.metrics.sessions import attendance_queryset, ratio
from analytics.scope import Scope
from analytics.selectors import STAGE_COLUMNS, program_analytics
from enrollments.models import Enrollment
from programs.models import Campaign
from scheduling.enums import AttendanceStatus

APPLICATION_STAGES = ("applied", "submitted", "reviewed", "accepted")
ENROLLMENT_STAGES = ("enrolled", "active", "completed", "dropped")
RATES = ("completion_rate", "drop_rate", "acceptance_rate", "attendance_rate")
TARGETS = ("target_enrollment", "max_enrollment", "places_taken", "target_progress")
IDENTITY = ("campaign_id", "campaign_name", "program_id", "program_name")
# The columns of a row, in order (also the CSV header).
COLUMNS = (*IDENTITY, *STAGE_COLUMNS, *RATES, *TARGETS)


def company_campaigns(*, company: Any, campaign_id: Any = None):
    """The company's campaigns (only `campaign_id` when given), ordered by program name, campaign
    name, id."""
    campaigns = Campaign.objects.filter(company=company)
    if campaign_id:
        campaigns = campaigns.filter(pk=campaign_id)
    return campaigns.order_by("program__name", "name", "id")


def campaign_of_company(*, company: Any, campaign_id: Any) -> bool:
    return Campaign.objects.filter(company=company, pk=campaign_id).exists()


def _campaign_row(campaign: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    by_status = values.get("enrollments_by_status", {})
    counts = {
        **dict.fromkeys(APPLICATION_STAGES),
        "enrolled": sum(by_status.get(stage, 0) for stage in ("active", "completed", "dropped")),
        **{stage: by_status.get(stage, 0) for stage in ("active", "completed", "dropped")},
    }
    progress = next(
        (row for row in values.get("campaign_progress", []) if row["campaign_id"] == str(campaign["id"])), {}
    )
    places = progress.get("enrolled", 0)
    return {
        "campaign_id": str(campaign["id"]),
        "campaign_name": campaign["name"],
        "program_id": str(campaign["program_id"]),
        "program_name": campaign["program__name"],
        **counts,
        "completion_rate": values.get("completion_rate"),
        "drop_rate": values.get("drop_rate"),
        "acceptance_rate": None,
        "attendance_rate": values.get("attendance_rate"),
        "target_enrollment": campaign["target_enrollment"],
        "max_enrollment": campaign["max_enrollment"],
        "places_taken": places,
        "target_progress": rate(places, campaign["target_enrollment"]),
    }


def _attendance_rate(*, rows: list[dict[str, Any]], date_from: date | None, date_to: date | None) -> float | None:
    """(present + late) / recorded over the attendance rows of delivered sessions in the range of
    people enrolled in the session's program through any of the rows' campaigns (one query)."""
    if not rows:
        return None
    program_ids = tuple(sorted({row["program_id"] for row in rows}))
    campaign_ids = [row["campaign_id"] for row in rows]
    scope = Scope(program_ids=program_ids, date_from=date_from, date_to=date_to)
    counts = (
        attendance_queryset(scope)
        .filter(
            Exists(
                Enrollment.objects.filter(
                    user_id=OuterRef("user_id"),
                    program_id=OuterRef("session__program_id"),
                    campaign_id__in=campaign_ids,
                )
            )
        )
        .aggregate(
            recorded=Count("id"),
            attended=Count("id", filter=Q(status__in=(AttendanceStatus.PRESENT, AttendanceStatus.LATE))),
        )
    )
    return ratio(counts["attended"], counts["recorded"])


def _totals(rows: list[dict[str, Any]], *, date_from: date | None, date_to: date | None) -> dict[str, Any]:
    sums = {key: sum(row[key] for row in rows) for key in (*ENROLLMENT_STAGES, *TARGETS[:3])}
    return {
        **dict.fromkeys(APPLICATION_STAGES),
        **{key: sums[key] for key in ENROLLMENT_STAGES},
        "completion_rate": rate(sums["completed"], sums["enrolled"]),
        "drop_rate": rate(sums["dropped"], sums["enrolled"]),
        "acceptance_rate": None,
        "attendance_rate": _attendance_rate(rows=rows, date_from=date_from, date_to=date_to),
        "target_enrollment": sums["target_enrollment"],
        "max_enrollment": sums["max_enrollment"],
        "places_taken": sums["places_taken"],
        "target_progress": rate(sums["places_taken"], sums["target_enrollment"]),
    }


def company_report(
    *, company: Any, date_from: date | None = None, date_to: date | None = None, campaign_id: Any = None
) -> dict[str, Any]:
    """One row per campaign of `company` (only `campaign_id` when given; ordered by program name,
    campaign name, id) over the date range, and the totals over those rows (see the module
    docstring for how the totals are pooled).

    Each row: `campaign_id`, `campaign_name`, `program_id`, `program_name`; the stage counts
    `applied`, `submitted`, `reviewed`, `accepted` (always `None`: applications belong to a program,
    not a campaign), `enrolled`, `active`, `completed`, `dropped` (enrollments through the campaign
    enrolled in the range); `completion_rate`, `drop_rate`, `acceptance_rate` (`None`),
    `attendance_rate`; `target_enrollment`, `max_enrollment`, `places_taken` (enrollments holding a
    place now, active or completed: the date range does not apply) and `target_progress` =
    places_taken / target_enrollment (`None` without a target)."""
    rows = []
    campaigns = company_campaigns(company=company, campaign_id=campaign_id).values(
        "id", "name", "program_id", "program__name", "target_enrollment", "max_enrollment"
    )
    for campaign in campaigns:
        values = program_analytics(
            Scope(
                program_ids=(campaign["program_id"],),
                campaign_id=campaign["id"],
                date_from=date_from,
                date_to=date_to,
            )
        )
        rows.append(_campaign_row(campaign, values))
    return {
        "company_id": str(company.pk),
        "company_name": company.name,
        "date_from": date_from,
        "date_to": date_to,
        "campaigns": rows,
        "totals": _totals(rows, date_from=date_from, date_to=date_to),
    }


def report_lines(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a report as table lines: one per campaign, then the totals line (`Total`)."""
    total = {"campaign_id": "", "campaign_name": "Total", "program_id": "", "program_name": "", **report["totals"]}
    return [*report["campaigns"], total]

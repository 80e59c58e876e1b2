"""Daily snapshots: each program's headline figures as they stood at the end of a day (UTC), for
the whole program and for each of its campaigns and cohorts, so trends are read from one small
table instead of being recomputed over every row.

A snapshot of day D is `program_analytics` over everything that started by the end of D
(`Scope(date_to=D)`: applications started, enrollments enrolled, sessions held by then), reduced to
`SNAPSHOT_KEYS`. Flow figures (applied, enrolled, sessions delivered, ...) are exact for any past
day; stock figures (enrollments by status, active matches) are the state at the time of the run,
which is why the daily job runs just after midnight for the day that ended, and why rows computed
later for a past day are marked `backfilled`.

Writing is idempotent per day: the rows of (day, program) are replaced in one transaction, so a
rerun or a backfill over days already written leaves exactly one row per (day, program, campaign,
cohort). Runs go through `core.jobs.run_job`, so the daily job and a backfill never overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from analytics.models import Snapshot
from analytics.scope import Scope
from analytics.selectors import HEADLINE, STAGE_COLUMNS, program_analytics
from core import clock
from core.jobs import JobContext
from programs.models import Campaign, Program
from scheduling.models import Cohort

# Counts and rates stored per snapshot row (docs/kpis.md, "Snapshots").
COUNT_KEYS = (*STAGE_COLUMNS, "sessions_delivered", "matches_active", "outcomes")
SNAPSHOT_KEYS = (*COUNT_KEYS, *HEADLINE)
MAX_BACKFILL_DAYS = 3660


def snapshot_metrics(values: dict[str, Any]) -> dict[str, Any]:
    """The snapshot figures out of a `program_analytics` result."""
    stages = {row["stage"]: row["count"] for row in values.get("funnel", [])}
    by_status = values.get("enrollments_by_status", {})
    metrics: dict[str, Any] = {key: stages.get(key, by_status.get(key, 0)) for key in STAGE_COLUMNS}
    metrics["sessions_delivered"] = values.get("sessions_delivered", 0)
    metrics["matches_active"] = values.get("matches_active", 0)
    metrics["outcomes"] = sum(row["count"] for row in values.get("outcomes_by_type", []))
    metrics.update({key: values.get(key) for key in HEADLINE})
    return metrics


def _dimensions(program_id: Any) -> list[tuple[Any, Any]]:
    """(campaign id, cohort id) of every row a program's snapshot has: the program itself, then
    each campaign, then each cohort."""
    campaigns = Campaign.objects.filter(program_id=program_id).order_by("name", "id").values_list("id", flat=True)
    cohorts = (
        Cohort.objects.filter(program_id=program_id).order_by("starts_on", "name", "id").values_list("id", flat=True)
    )
    return [(None, None), *((c, None) for c in campaigns), *((None, c) for c in cohorts)]


def snapshot_day(*, day: date, program_ids: Iterable[Any] | None = None, backfilled: bool = False) -> int:
    """Compute and write the snapshot rows of `day` for the given programs (default: every
    program that existed by the end of that day); returns the number of rows written."""
    programs = Program.objects.all().order_by("name", "id")
    if program_ids is not None:
        programs = programs.filter(pk__in=list(program_ids))
    written = 0
    for program_id in programs.values_list("id", flat=True):
        rows = [
            Snapshot(
                day=day,
                program_id=program_id,
                campaign_id=campaign_id,
                cohort_id=cohort_id,
                backfilled=backfilled,
                metrics=snapshot_metrics(
                    program_analytics(
                        Scope(program_ids=(program_id,), date_to=day, campaign_id=campaign_id, cohort_id=cohort_id)
                    )
                ),
            )
            for campaign_id, cohort_id in _dimensions(program_id)
        ]
        with transaction.atomic():
            Snapshot.objects.filter(day=day, program_id=program_id).delete()
            Snapshot.objects.bulk_create(rows)
        written += len(rows)
    return written


def snapshot_range(
    *,
    date_from: date,
    date_to: date,
    program_ids: Iterable[Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Backfill: `snapshot_day` for every day from `date_from` to `date_to` (inclusive). Days
    before today are marked backfilled. Returns the number of rows written."""
    if date_from > date_to:
        raise ValueError("The first day is after the last.")
    days = (date_to - date_from).days + 1
    if days > MAX_BACKFILL_DAYS:
        raise ValueError(f"At most {MAX_BACKFILL_DAYS} days at once.")
    ids = list(program_ids) if program_ids is not None else None
    today = clock.now().date()
    written = 0
    for n in range(days):
        day = date_from + timedelta(days=n)
        written += snapshot_day(day=day, program_ids=ids, backfilled=day < today - timedelta(days=1))
        if progress is not None:
            progress(f"{day.isoformat()}: {n + 1}/{days} days, {written} rows")
    return written


def analytics_snapshots(context: JobContext) -> None:
    """The daily job: the snapshot of the day that ended (yesterday, UTC)."""
    day = clock.now().date() - timedelta(days=1)
    rows = snapshot_day(day=day)
    context.count("rows", rows)
    context.progress(f"{day.isoformat()}: {rows} rows")


def program_series(scope: Scope) -> list[dict[str, Any]]:
    """The snapshot rows of one program (scope.program_ids[0]) over the scope's date range, for the
    scope's campaign or cohort when given (else the whole program), ordered by day: one dict per
    day with `day` and the `SNAPSHOT_KEYS`. One query."""
    if not scope.program_ids:
        return []
    rows = Snapshot.objects.filter(
        program_id=scope.program_ids[0], campaign_id=scope.campaign_id, cohort_id=scope.cohort_id
    )
    if scope.date_from:
        rows = rows.filter(day__gte=scope.date_from)
    if scope.date_to:
        rows = rows.filter(day__lte=scope.date_to)
    return [
        {"day": day, **{key: metrics.get(key) for key in SNAPSHOT_KEYS}}
        for day, metrics in rows.order_by("day").values_list("day", "metrics")
    ]

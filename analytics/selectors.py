"""Read models of the analytics app: every metric family merged into one dictionary."""

from __future__ import annotations

import importlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q

from analytics.scope import Scope
from programs.models import Campaign, Program
from scheduling.models import Cohort

# Metric modules under analytics/metrics/, merged in this order; a family not written yet is skipped.
# The sessions family (the attendance aggregate) is the slowest: first, so that when families run
# side by side it starts at once and the others share the second connection.
FAMILIES = ["sessions", "funnel", "enrollments", "mentorship", "outcomes"]

# Keys the API promises even when the family that computes them is absent.
DEFAULTS: dict[str, Any] = {"attendance_rate": None}


def metric_modules() -> list[Any]:
    modules = []
    for name in FAMILIES:
        try:
            modules.append(importlib.import_module(f"analytics.metrics.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"analytics.metrics.{name}":
                raise  # the module exists but one of its imports is missing: a bug, not an absent family
    return modules


def _compute_on_own_connection(module: Any, scope: Scope) -> dict[str, Any]:
    try:
        return module.compute(scope)
    finally:
        connection.close()  # this worker thread's connection


def _side_by_side() -> bool:
    """Families run on two connections at once on PostgreSQL outside a transaction (a request, a
    job); inside one (a test case, an atomic block) they must see its uncommitted rows, so they run
    one after the other on its connection."""
    return (
        getattr(settings, "ANALYTICS_PARALLEL_CONNECTIONS", 2) > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def program_analytics(scope: Scope) -> dict[str, Any]:
    """Every metric of every available family over `scope`. The families are independent read
    queries: outside a transaction on PostgreSQL they run on `ANALYTICS_PARALLEL_CONNECTIONS` (2)
    connections side by side, so the slowest family bounds the time instead of the sum of all."""
    modules = metric_modules()
    if _side_by_side():
        with ThreadPoolExecutor(max_workers=settings.ANALYTICS_PARALLEL_CONNECTIONS) as pool:
            results = list(pool.map(lambda module: _compute_on_own_connection(module, scope), modules))
    else:
        results = [module.compute(scope) for module in modules]
    result: dict[str, Any] = dict(DEFAULTS)
    for values in results:
        result.update(values)
    return result


def scope_errors(*, program: Program | None, campaign_id: Any = None, cohort_id: Any = None) -> dict[str, str]:
    """Field errors for a campaign or cohort that does not exist (in the program, when given)."""
    errors: dict[str, str] = {}
    program_filter = Q(program_id=program.pk) if program is not None else Q()
    where = " in this program" if program is not None else ""
    if campaign_id and not Campaign.objects.filter(program_filter, pk=campaign_id).exists():
        errors["campaign"] = f"No campaign with this id{where}."
    if cohort_id and not Cohort.objects.filter(program_filter, pk=cohort_id).exists():
        errors["cohort"] = f"No cohort with this id{where}."
    return errors


def cross_program_analytics(scope: Scope) -> dict[str, Any]:
    """One row per program (the headline figures of `program_analytics`, over the date range;
    campaign and cohort belong to one program and do not apply here) and the totals over all of
    them. Each family is computed once per program, so the query count grows with programs (not
    with rows)."""
    programs = Program.objects.all().order_by("name", "id")
    if scope.program_ids:
        programs = programs.filter(pk__in=scope.program_ids)
    rows = []
    for program in programs.values("id", "name"):
        values = program_analytics(
            Scope(
                program_ids=(program["id"],),
                date_from=scope.date_from,
                date_to=scope.date_to,
            )
        )
        rows.append({"program_id": str(program["id"]), "program_name": program["name"], **_headline(values)})
    ids = tuple(row["program_id"] for row in rows)
    if not ids:
        return {"programs": [], "totals": _headline(dict(DEFAULTS))}
    totals = program_analytics(Scope(program_ids=ids, date_from=scope.date_from, date_to=scope.date_to))
    return {"programs": rows, "totals": _headline(totals)}


HEADLINE = ("completion_rate", "drop_rate", "acceptance_rate", "attendance_rate", "review_sla_compliance")
STAGE_COLUMNS = ("applied", "submitted", "reviewed", "accepted", "enrolled", "active", "completed", "dropped")


def _headline(values: dict[str, Any]) -> dict[str, Any]:
    stages = {row["stage"]: row["count"] for row in values.get("funnel", [])}
    by_status = values.get("enrollments_by_status", {})
    counts = {column: stages.get(column, by_status.get(column, 0)) for column in STAGE_COLUMNS}
    return {**counts, **{key: values.get(key) for key in HEADLINE}}

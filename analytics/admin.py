"""The operators' analytics screens in the admin: charts first, tables and CSV behind them.

- Snapshots: the daily read-model rows, read-only (nobody adds, changes or deletes them here; the
  `analytics_snapshots` job writes them).
- Dashboards (`admin/analytics/snapshot/dashboard/`): the cross-program overview, a date filter,
  a chart comparing the programs' completion and attendance rates and their enrollments, and the
  table of `cross_program_analytics` with totals; each program opens its dashboard.
- A program's dashboard (`dashboard/<program id>/`): filters (from, to, campaign, cohort), then the
  funnel, enrollments and attendance rate over time (from the daily snapshots), the attendance
  breakdown, matches and outcomes by type as SVG charts, then the tables (headline rates, funnel,
  attendance, cohort fill, campaign progress, outcomes, volunteer impact, social return, daily
  figures).

Every table downloads as CSV from the same page with `?export=<table>` (the filters of the page
apply). Bad filter input is shown as field errors on the form, never as a server error. Who may
view snapshots (operators) may open the dashboards; anyone else gets 403. Each page costs a
constant number of queries whatever the number of rows (the overview: a constant number per
program).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from analytics.charts import Series, bar_chart, fmt_percent, line_chart
from analytics.dashboard import (
    ATTENDANCE_LABELS,
    ATTENDANCE_STATUSES,
    DAILY_LABELS,
    HEADLINE_ROWS,
    PROGRAM_COLUMNS,
    RATE_KEYS,
    STAGE_LABELS,
    Column,
    DashboardFilterForm,
    Table,
    amounts_text,
    headline_value,
    number_cell,
    outcome_label,
    rate_cell,
)
from analytics.impact import program_impact
from analytics.models import Snapshot
from analytics.scope import Scope
from analytics.selectors import cross_program_analytics, program_analytics
from analytics.snapshots import SNAPSHOT_KEYS, program_series
from core.admin import pretty_json
from programs.models import Program

# --- admin ------------------------------------------------------------------------------------


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    """Daily snapshots, read-only; the dashboards hang on this admin."""

    list_display = ("day", "program", "campaign", "cohort", "backfilled")
    list_filter = ("program", "day", "backfilled")
    list_select_related = ("program", "campaign", "cohort")
    date_hierarchy = "day"
    fields = ("day", "program", "campaign", "cohort", "backfilled", "metrics_pretty", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="Figures")
    def metrics_pretty(self, obj):
        return pretty_json(obj.metrics)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dashboard_url": reverse("admin:analytics_dashboard")}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        custom = [
            path("dashboard/", self.admin_site.admin_view(self.overview_view), name="analytics_dashboard"),
            path(
                "dashboard/<uuid:program_id>/",
                self.admin_site.admin_view(self.program_view),
                name="analytics_program_dashboard",
            ),
        ]
        return custom + super().get_urls()

    # --- shared -----------------------------------------------------------------------------------

    def _check(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    @staticmethod
    def _export_url(request, table: str) -> str:
        query = request.GET.copy()
        query.pop("export", None)
        query["export"] = table
        return "?" + query.urlencode()

    def _render(self, request, template: str, context: dict[str, Any]) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        return TemplateResponse(request, f"admin/analytics/snapshot/{template}", context)

    def _export(self, request, tables: list[Table], filename: Callable[[str], str]) -> HttpResponse | None:
        name = request.GET.get("export")
        if name is None:
            return None
        for table in tables:
            if table.key == name:
                return table.csv_response(filename(table.key))
        raise Http404("No such table.")

    # --- the overview -----------------------------------------------------------------------------

    def overview_view(self, request):
        self._check(request)
        form = DashboardFilterForm(request.GET or None)
        context: dict[str, Any] = {"title": "Analytics: all programs", "form": form, "charts": [], "tables": []}
        if form.is_bound and not form.is_valid():
            return self._render(request, "dashboard.html", context)
        scope = form.scope() if form.is_bound else Scope()
        data = cross_program_analytics(scope)
        rows = data["programs"]
        date_query = {k: request.GET[k] for k in ("from", "to") if request.GET.get(k)}
        suffix = f"?{urlencode(date_query)}" if date_query else ""
        table = Table(
            key="programs",
            title="Programs",
            columns=PROGRAM_COLUMNS,
            rows=rows,
            empty="No programs yet.",
            links={
                i: reverse("admin:analytics_program_dashboard", args=[row["program_id"]]) + suffix
                for i, row in enumerate(rows)
            },
            footer={"program_id": "", "program_name": "Total", **data["totals"]},
        )
        table.export_url = self._export_url(request, table.key)
        exported = self._export(request, [table], lambda key: "analytics-programs.csv")
        if exported is not None:
            return exported
        names = [row["program_name"] for row in rows]
        charts = []
        if rows:
            charts = [
                (
                    "rates",
                    bar_chart(
                        title="Completion and attendance rate by program",
                        labels=names,
                        series=[
                            Series("Completion rate", [row["completion_rate"] for row in rows]),
                            Series("Attendance rate", [row["attendance_rate"] for row in rows]),
                        ],
                        value_format=fmt_percent,
                        scale_max=1,
                    ),
                ),
                (
                    "enrollments",
                    bar_chart(
                        title="Enrollments by program and status",
                        labels=names,
                        series=[
                            Series(STAGE_LABELS[status], [row[status] for row in rows])
                            for status in ("active", "completed", "dropped")
                        ],
                    ),
                ),
            ]
        context.update({"charts": charts, "tables": [table], "scope": scope})
        return self._render(request, "dashboard.html", context)

    # --- one program ------------------------------------------------------------------------------

    def program_view(self, request, program_id):
        self._check(request)
        program = get_object_or_404(Program.objects.select_related("template"), pk=program_id)
        form = DashboardFilterForm(request.GET or None, program=program)
        context: dict[str, Any] = {
            "title": f"Analytics: {program.name}",
            "program": program,
            "form": form,
            "overview_url": reverse("admin:analytics_dashboard"),
            "charts": [],
            "tables": [],
        }
        if form.is_bound and not form.is_valid():
            return self._render(request, "program_dashboard.html", context)
        scope = form.scope() if form.is_bound else Scope(program_ids=(program.pk,))
        values = program_analytics(scope)
        series = program_series(scope)
        impact = program_impact(scope)
        tables = self._program_tables(program, values, series, impact)
        for table in tables:
            table.export_url = self._export_url(request, table.key)
        exported = self._export(request, tables, lambda key: f"analytics-{program.pk}-{key}.csv")
        if exported is not None:
            return exported
        context.update(
            {
                "charts": self._program_charts(program, values, series),
                "tables": tables,
                "scope": scope,
                "snapshot_days": len(series),
            }
        )
        return self._render(request, "program_dashboard.html", context)

    @staticmethod
    def _shows_matches(program: Program, values: dict[str, Any]) -> bool:
        keys = ("matches_active", "matches_ended", "mentee_profiles")
        return bool(program.template.supports_matching or any(values.get(key) for key in keys))

    def _program_charts(
        self, program: Program, values: dict[str, Any], series: list[dict[str, Any]]
    ) -> list[tuple[str, Any]]:
        charts: list[tuple[str, Any]] = []
        funnel = values.get("funnel", [])
        rates = {row["stage"]: row["rate"] for row in values.get("conversion", [])}
        notes = [
            f"{fmt_percent(rates.get(row['stage']))} of {STAGE_LABELS[funnel[i - 1]['stage']].lower()}"
            if i and rates.get(row["stage"]) is not None
            else ""
            for i, row in enumerate(funnel)
        ]
        charts.append(
            (
                "funnel",
                bar_chart(
                    title="Funnel: application to completion",
                    labels=[STAGE_LABELS.get(row["stage"], row["stage"]) for row in funnel],
                    series=[Series("People", [row["count"] for row in funnel], notes)],
                ),
            )
        )
        days = [row["day"] for row in series]
        charts.append(
            (
                "enrollments-over-time",
                line_chart(
                    title="Enrollments over time",
                    days=days,
                    series=[
                        Series(STAGE_LABELS[key], [row[key] for row in series])
                        for key in ("enrolled", "active", "completed", "dropped")
                    ],
                    y_label="People",
                    integer=True,
                ),
            )
        )
        charts.append(
            (
                "attendance-over-time",
                line_chart(
                    title="Attendance rate over time",
                    days=days,
                    series=[Series("Attendance rate", [row["attendance_rate"] for row in series])],
                    y_label="Present or late",
                    value_format=fmt_percent,
                    y_max=1,
                ),
            )
        )
        recorded = values.get("attendance_recorded") or 0
        counts = [values.get(f"attendance_{status}") or 0 for status, _ in ATTENDANCE_STATUSES]
        charts.append(
            (
                "attendance",
                bar_chart(
                    title="Attendance by status",
                    labels=[label for _, label in ATTENDANCE_STATUSES],
                    series=[
                        Series(
                            "Records",
                            counts,
                            [f"{fmt_percent(n / recorded)} of records" if recorded else "" for n in counts],
                        )
                    ]
                    if recorded
                    else [Series("Records", [])],
                ),
            )
        )
        if self._shows_matches(program, values):
            share = values.get("mentees_matched_share")
            charts.append(
                (
                    "matches",
                    bar_chart(
                        title="Matches",
                        labels=["Active matches", "Matches ended", "Mentees matched"],
                        series=[
                            Series(
                                "Matches",
                                [
                                    values.get("matches_active") or 0,
                                    values.get("matches_ended") or 0,
                                    values.get("mentees_matched") or 0,
                                ],
                                [
                                    "",
                                    "in the range",
                                    f"{fmt_percent(share)} of {values.get('mentee_profiles') or 0} mentees"
                                    if share is not None
                                    else "",
                                ],
                            )
                        ],
                    ),
                )
            )
        outcomes = values.get("outcomes_by_type", [])
        charts.append(
            (
                "outcomes",
                bar_chart(
                    title="Outcomes by type",
                    labels=[outcome_label(row["outcome_type"]) for row in outcomes],
                    series=[
                        Series(
                            "Outcomes",
                            [row["count"] for row in outcomes],
                            [amounts_text(row["amounts"]) for row in outcomes],
                        )
                    ],
                ),
            )
        )
        return charts

    def _program_tables(
        self, program: Program, values: dict[str, Any], series: list[dict[str, Any]], impact: dict[str, Any]
    ) -> list[Table]:
        decision = values.get("time_to_decision_days") or {}
        flat = {
            **values,
            "time_to_decision_median_days": decision.get("median"),
            "time_to_decision_p90_days": decision.get("p90"),
        }
        headline = Table(
            key="headline",
            title="Headline figures",
            columns=(
                Column("metric", "Key", shown=False),
                Column("label", "Figure"),
                Column("value", "Value", headline_value),
            ),
            rows=[
                {"metric": key, "label": label, "value": flat.get(key), "_fmt": fmt}
                for key, label, fmt in HEADLINE_ROWS
            ],
        )
        rates = {row["stage"]: row["rate"] for row in values.get("conversion", [])}
        funnel = Table(
            key="funnel",
            title="Funnel",
            columns=(
                Column("stage", "Stage", lambda value, row: STAGE_LABELS.get(value, value)),
                Column("count", "People", number_cell),
                Column("conversion", "From the stage before", rate_cell),
            ),
            rows=[{**row, "conversion": rates.get(row["stage"])} for row in values.get("funnel", [])],
        )
        recorded = values.get("attendance_recorded") or 0
        attendance = Table(
            key="attendance",
            title="Attendance",
            columns=(
                Column("status", "Status", lambda value, row: ATTENDANCE_LABELS[value]),
                Column("count", "Records", number_cell),
                Column("share", "Share", rate_cell),
            ),
            rows=[
                {
                    "status": status,
                    "count": values.get(f"attendance_{status}") or 0,
                    "share": round((values.get(f"attendance_{status}") or 0) / recorded, 4) if recorded else None,
                }
                for status, _ in ATTENDANCE_STATUSES
            ],
        )
        cohorts = Table(
            key="cohorts",
            title="Cohort fill",
            columns=(
                Column("cohort_id", "Cohort id", shown=False),
                Column("cohort_name", "Cohort"),
                Column("capacity", "Capacity", number_cell),
                Column("members", "Active members", number_cell),
                Column("fill_rate", "Fill", rate_cell),
            ),
            rows=values.get("cohort_fill", []),
            empty="No cohorts.",
        )
        campaigns = Table(
            key="campaigns",
            title="Campaign progress",
            columns=(
                Column("campaign_id", "Campaign id", shown=False),
                Column("campaign_name", "Campaign"),
                Column("enrolled", "Holding a place", number_cell),
                Column("target_enrollment", "Target", number_cell),
                Column("max_enrollment", "Maximum", number_cell),
                Column("target_progress", "Of target", rate_cell),
                Column("max_fill_rate", "Of maximum", rate_cell),
                Column("budget_amount", "Budget"),
                Column("budget_currency", "Currency"),
                Column("budget_per_enrollment", "Budget per place"),
            ),
            rows=values.get("campaign_progress", []),
            empty="No campaigns.",
        )
        outcomes = Table(
            key="outcomes",
            title="Outcomes by type",
            columns=(
                Column("outcome_type", "Type", lambda value, row: outcome_label(value)),
                Column("count", "Outcomes", number_cell),
                Column("amounts", "Amounts"),
            ),
            rows=[{**row, "amounts": amounts_text(row["amounts"])} for row in values.get("outcomes_by_type", [])],
            empty="No outcomes in this range.",
        )
        volunteers = Table(
            key="volunteers",
            title="Volunteer impact (VIS)",
            columns=(
                Column("user_id", "User id", shown=False),
                Column("email", "Volunteer"),
                Column("hours", "Hours", number_cell),
                Column("weighted_hours", "Weighted hours", number_cell),
                Column("quality", "Quality", number_cell),
                Column("outcome_lift", "Outcome lift", number_cell),
                Column("vis", "VIS", number_cell),
            ),
            rows=[row for row in impact.get("volunteers", []) if row.get("program_id") == str(program.pk)],
            empty="No volunteer activity in this range.",
        )
        sroi_rows: list[dict[str, Any]] = []
        footer = None
        for entry in impact.get("sroi", {}).get("programs", []):
            if str(entry["program_id"]) != str(program.pk):
                continue
            sroi_rows = [{**dimension, "currency": entry["currency"]} for dimension in entry["dimensions"]]
            if sroi_rows:
                footer = {"dimension": "total", "value": entry["total"], "currency": entry["currency"]}
        sroi = Table(
            key="sroi",
            title="Social return (SROI)",
            columns=(
                Column("dimension", "Dimension"),
                Column("units", "Units"),
                Column("coefficient", "Value per unit"),
                Column("value", "Value"),
                Column("currency", "Currency"),
            ),
            rows=sroi_rows,
            footer=footer,
            empty="No SROI coefficients configured for this program.",
        )
        daily = Table(
            key="daily",
            title="Daily figures (snapshots)",
            columns=(
                Column("day", "Day"),
                *(
                    Column(key, DAILY_LABELS[key], rate_cell if key in RATE_KEYS else number_cell)
                    for key in SNAPSHOT_KEYS
                ),
            ),
            rows=[{**row, "day": row["day"].isoformat()} for row in series],
            empty="No snapshots in this range yet.",
        )
        return [headline, funnel, attendance, cohorts, campaigns, outcomes, volunteers, sroi, daily]

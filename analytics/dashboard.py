"""Building blocks of the analytics dashboards (admin/analytics): the filter form, the table model
with its CSV download, and the labels and formats of the figures. The screens themselves are in
`analytics/admin.py`."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import HttpResponse

from analytics.charts import fmt_number, fmt_percent
from analytics.scope import Scope
from analytics.selectors import STAGE_COLUMNS
from enrollments.enums import OutcomeType
from programs.models import Campaign, Program
from scheduling.models import Cohort

# --- filters ----------------------------------------------------------------------------------


def _date_field(label: str, help_text: str) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=help_text
    )


class _ChoiceOfProgram(forms.ModelChoiceField):
    """A campaign or cohort of the program by id; anything else (not a UUID, another program's)
    is the same field error."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None

    def label_from_instance(self, obj) -> str:
        return obj.name


class DashboardFilterForm(forms.Form):
    """The query of a dashboard under the API's names: `from` and `to` (both days included, UTC)
    and, on a program's dashboard, one of its campaigns or one of its cohorts."""

    def __init__(self, *args, program: Program | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword: the fields are declared here under their query names.
        self.fields["from"] = _date_field("From", "First day included (UTC).")
        self.fields["to"] = _date_field("To", "Last day included (UTC).")
        if program is not None:
            self.fields["campaign"] = _ChoiceOfProgram(
                label="Campaign",
                queryset=Campaign.objects.filter(program=program).order_by("name", "id"),
                required=False,
                empty_label="All campaigns",
                error_messages={"invalid_choice": "No campaign with this id in this program."},
            )
            self.fields["cohort"] = _ChoiceOfProgram(
                label="Cohort",
                queryset=Cohort.objects.filter(program=program).order_by("starts_on", "name", "id"),
                required=False,
                empty_label="All cohorts",
                error_messages={"invalid_choice": "No cohort with this id in this program."},
            )
        self.program = program

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "Must not be before the first day.")
        if cleaned.get("campaign") and cleaned.get("cohort"):
            self.add_error("cohort", "Choose a campaign or a cohort, not both.")
        return cleaned

    def scope(self) -> Scope:
        """The scope of the valid form."""
        data = self.cleaned_data
        campaign, cohort = data.get("campaign"), data.get("cohort")
        return Scope(
            program_ids=(self.program.pk,) if self.program is not None else (),
            date_from=data.get("from"),
            date_to=data.get("to"),
            campaign_id=campaign.pk if campaign else None,
            cohort_id=cohort.pk if cohort else None,
        )


# --- tables -----------------------------------------------------------------------------------

Formatter = Callable[[Any, dict[str, Any]], str]


def number_cell(value: Any, row: dict[str, Any]) -> str:
    return "–" if value is None or value == "" else fmt_number(value)


def rate_cell(value: Any, row: dict[str, Any]) -> str:
    return "–" if value is None else fmt_percent(value)


def text_cell(value: Any, row: dict[str, Any]) -> str:
    return "–" if value is None or value == "" else str(value)


@dataclass(frozen=True)
class Column:
    key: str  # the CSV header and the row's key
    header: str  # the page's column heading
    fmt: Formatter = text_cell
    shown: bool = True  # False: in the CSV only (ids)


@dataclass
class Table:
    """One table of a dashboard: the same rows on the page (formatted) and in the CSV (raw)."""

    key: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    empty: str = "Nothing in this range."
    links: dict[int, str] = field(default_factory=dict)  # row index -> URL of its first shown cell
    footer: dict[str, Any] | None = None  # a totals row, shown and exported last
    export_url: str = ""

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns if c.shown]

    def _cells(self, row: dict[str, Any]) -> list[str]:
        return [c.fmt(row.get(c.key), row) for c in self.columns if c.shown]

    @property
    def body(self) -> list[dict[str, Any]]:
        return [{"cells": self._cells(row), "link": self.links.get(i, "")} for i, row in enumerate(self.rows)]

    @property
    def foot(self) -> list[str] | None:
        return self._cells(self.footer) if self.footer is not None else None

    def csv_response(self, filename: str) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response, lineterminator="\r\n")
        writer.writerow([c.key for c in self.columns])
        for row in [*self.rows, *([self.footer] if self.footer is not None else [])]:
            writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in self.columns])
        return response


HEADLINE_COLUMNS = (
    Column("completion_rate", "Completion", rate_cell),
    Column("drop_rate", "Drop", rate_cell),
    Column("acceptance_rate", "Acceptance", rate_cell),
    Column("attendance_rate", "Attendance", rate_cell),
    Column("review_sla_compliance", "Review SLA", rate_cell),
)
STAGE_LABELS = {
    "applied": "Applied",
    "submitted": "Submitted",
    "reviewed": "Reviewed",
    "accepted": "Accepted",
    "enrolled": "Enrolled",
    "active": "Active",
    "completed": "Completed",
    "dropped": "Dropped",
}
PROGRAM_COLUMNS = (
    Column("program_id", "Program id", shown=False),
    Column("program_name", "Program"),
    *(Column(stage, STAGE_LABELS[stage], number_cell) for stage in STAGE_COLUMNS),
    *HEADLINE_COLUMNS,
)

# Headline figures of a program: (key, label, formatter).
HEADLINE_ROWS: tuple[tuple[str, str, Formatter], ...] = (
    ("enrollments_total", "Enrollments", number_cell),
    ("completion_rate", "Completion rate", rate_cell),
    ("drop_rate", "Drop rate", rate_cell),
    ("acceptance_rate", "Acceptance rate", rate_cell),
    ("time_to_decision_median_days", "Days to decision (median)", number_cell),
    ("time_to_decision_p90_days", "Days to decision (90th percentile)", number_cell),
    ("review_sla_compliance", "Reviews on time (SLA)", rate_cell),
    ("sessions_delivered", "Sessions delivered", number_cell),
    ("attendance_rate", "Attendance rate", rate_cell),
    ("no_show_rate", "No-show rate", rate_cell),
    ("matches_active", "Active matches", number_cell),
    ("matches_ended", "Matches ended", number_cell),
    ("mentees_matched_share", "Mentees matched", rate_cell),
)
ATTENDANCE_STATUSES = (("present", "Present"), ("late", "Late"), ("absent", "Absent"), ("excused", "Excused"))
ATTENDANCE_LABELS = dict(ATTENDANCE_STATUSES)
DAILY_LABELS = {
    **STAGE_LABELS,
    "sessions_delivered": "Sessions",
    "matches_active": "Active matches",
    "outcomes": "Outcomes",
    "completion_rate": "Completion",
    "drop_rate": "Drop",
    "acceptance_rate": "Acceptance",
    "attendance_rate": "Attendance",
    "review_sla_compliance": "Review SLA",
}
RATE_KEYS = {"completion_rate", "drop_rate", "acceptance_rate", "attendance_rate", "review_sla_compliance"}


def headline_value(value: Any, row: dict[str, Any]) -> str:
    return row["_fmt"](value, row)


def amounts_text(amounts: dict[str, str]) -> str:
    return "; ".join(f"{currency} {amount}".strip() for currency, amount in sorted(amounts.items()))


def outcome_label(outcome_type: str) -> str:
    try:
        return OutcomeType(outcome_type).label
    except ValueError:
        return outcome_type.replace("_", " ").capitalize()

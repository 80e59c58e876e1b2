"""The analytics dashboards in the admin, as an operator with the Django test client: the
cross-program overview and a program's dashboard with exact figures on a hand-built dataset
(`tests.analytics.build` plus one session, two outcomes and daily snapshots), the filters, field
errors for bad input (200, never 500), every table as CSV, 403 for a reviewer, and a query count
that does not grow with the rows."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.models import Snapshot
from enrollments.models import Outcome
from scheduling.models import Attendance, Session
from tests.analytics import at, build, grow
from tests.scheduling.test_pages import Node, page

pytestmark = pytest.mark.django_db

OVERVIEW = "/admin/analytics/snapshot/dashboard/"
DAILY_COLUMNS = [
    "day",
    "applied",
    "submitted",
    "reviewed",
    "accepted",
    "enrolled",
    "active",
    "completed",
    "dropped",
    "sessions_delivered",
    "matches_active",
    "outcomes",
    "completion_rate",
    "drop_rate",
    "acceptance_rate",
    "attendance_rate",
    "review_sla_compliance",
]


def dashboard(program) -> str:
    return f"/admin/analytics/snapshot/dashboard/{program.pk}/"


def _session(program, when, host, status="delivered") -> Session:
    return Session.objects.create(
        program=program,
        kind="cohort_session",
        title="Session",
        starts_at=when,
        ends_at=when + timedelta(hours=1),
        timezone="UTC",
        status=status,
        host=host,
    )


def _snapshot(program, day: date, campaign=None, **metrics) -> Snapshot:
    return Snapshot.objects.create(day=day, program=program, campaign=campaign, metrics=metrics)


@pytest.fixture
def data(program, make_program, mentorship_template, company, make_user):
    """`tests.analytics.build` (see its docstring), and in P:
    - session S delivered 03-15 10:00-11:00, hosted by H (host@example.org): E1 present, E2 late,
      E3 absent, E4 excused (E1, E3, E4 came through campaign C);
    - outcomes: E3 placed 03-20 (1500.00 EUR), E2 completed 03-25 (no amount);
    - snapshots of the whole program on 03-10, 03-11, 03-12 and of campaign C on 03-10 and 03-12.
    """
    other = make_program(mentorship_template, name="Other program")
    d = build(program=program, other_program=other, company=company, make_user=make_user)
    d.host = make_user(email="host@example.org")
    session = _session(program, at(3, 15, 10), d.host)
    users = {key: d.enrollments[key].user for key in ("E1", "E2", "E3", "E4")}
    Attendance.objects.bulk_create(
        [
            Attendance(session=session, user=users["E1"], status="present"),
            Attendance(session=session, user=users["E2"], status="late"),
            Attendance(session=session, user=users["E3"], status="absent"),
            Attendance(session=session, user=users["E4"], status="excused"),
        ]
    )
    Outcome.objects.create(
        program=program,
        enrollment=d.enrollments["E3"],
        outcome_type="placed",
        amount=Decimal("1500.00"),
        currency="EUR",
        occurred_on=date(2026, 3, 20),
    )
    Outcome.objects.create(
        program=program, enrollment=d.enrollments["E2"], outcome_type="completed", occurred_on=date(2026, 3, 25)
    )
    _snapshot(program, date(2026, 3, 10), enrolled=1, active=1, completed=0, dropped=0, attendance_rate=None)
    _snapshot(program, date(2026, 3, 11), enrolled=2, active=2, completed=0, dropped=0, attendance_rate=0.5)
    _snapshot(program, date(2026, 3, 12), enrolled=3, active=2, completed=1, dropped=0, attendance_rate=0.75)
    _snapshot(program, date(2026, 3, 10), d.campaign, enrolled=1, active=1, completed=0, dropped=0)
    _snapshot(program, date(2026, 3, 12), d.campaign, enrolled=2, active=1, completed=1, dropped=0)
    return d


@pytest.fixture
def ops(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def rows(root: Node, table: str) -> list[list[str]]:
    """The cells of a dashboard table (body, then the totals row), as shown."""
    [node] = root.all(f"table-{table}")
    return [
        [cell.text() for cell in tr.children if isinstance(cell, Node) and cell.tag in ("th", "td")]
        for section in node.all(tag="tbody") + node.all(tag="tfoot")
        for tr in section.all(tag="tr")
    ]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def field_errors(root: Node, name: str) -> list[str]:
    return [li.text() for li in root.one(f"filter-{name}").all(tag="li")]


def chart_svgs(root: Node) -> list[Node]:
    """The charts (the admin's own icons are SVG too)."""
    return [svg for svg in root.all(tag="svg") if svg.attrs.get("role") == "img"]


def charts(root: Node) -> dict[str, Node]:
    return {fig.attrs["data-testid"]: fig.all(tag="svg")[0] for fig in root.all(tag="figure")}


def bar_texts(svg: Node) -> dict[str, str]:
    """Category label -> the value label written after its bar (single-series charts)."""
    return {
        g.attrs["data-label"]: [t for t in g.all(tag="text")][0].text()
        for g in svg.all(tag="g")
        if "bar" in g.attrs.get("class", "").split()
    }


# --- the overview -----------------------------------------------------------------------------


def test_overview_table_and_totals(ops, data):
    root = page(ops.get(OVERVIEW))
    # P: funnel 8 6 4 2 5, enrollments 2 active 2 completed 1 dropped (of 5): completion 2/5,
    # drop 1/5, acceptance 2 accepted / 4 decided, attendance (1 present + 1 late) / 4 recorded,
    # reviews on time A3 A5 A6 of A3 A4 A5 A6 = 3/4.
    # Q: A8 accepted (1 of 1 decided), its review late (0/1); E6 active.
    # Totals: applied 9, ..., completion 2/6, drop 1/6, acceptance 3/5, attendance 2/4, SLA 3/5.
    assert rows(root, "programs") == [
        ["Mentorship 2026", "8", "6", "4", "2", "5", "2", "2", "1", "40%", "20%", "50%", "50%", "75%"],
        ["Other program", "1", "1", "1", "1", "1", "1", "0", "0", "0%", "0%", "100%", "–", "0%"],
        ["Total", "9", "7", "5", "3", "6", "3", "2", "1", "33.3%", "16.7%", "60%", "50%", "60%"],
    ]
    [link] = root.one("table-programs").all(tag="a")[1:2]
    assert link.attrs["href"] == reverse("admin:analytics_program_dashboard", args=[data.program.pk])
    figures = charts(root)
    assert sorted(figures) == ["chart-enrollments", "chart-rates"]
    rates = figures["chart-rates"]
    assert rates.attrs["role"] == "img"
    assert rates.attrs["aria-label"] == "Completion and attendance rate by program"
    values = {
        (g.attrs["data-label"], g.attrs["data-series"]): g.all(tag="text")[0].text()
        for g in rates.all(tag="g")
        if g.attrs.get("class") == "bar"
    }
    assert values == {
        ("Mentorship 2026", "Completion rate"): "40%",
        ("Mentorship 2026", "Attendance rate"): "50%",
        ("Other program", "Completion rate"): "0%",
        ("Other program", "Attendance rate"): "n/a",
    }


def test_overview_date_filter_and_links_keep_it(ops, data):
    root = page(ops.get(OVERVIEW, {"from": "2026-03-01", "to": "2026-03-31"}))
    # P in March: A1..A7 (A9 started 02-20), E1..E4 (E5 enrolled 02-15): completed E3 1/4, dropped E4 1/4.
    assert rows(root, "programs")[0] == [
        "Mentorship 2026",
        "7",
        "6",
        "4",
        "2",
        "4",
        "2",
        "1",
        "1",
        "25%",
        "25%",
        "50%",
        "50%",
        "75%",
    ]
    link = root.one("table-programs").all(tag="a")[1]
    assert link.attrs["href"].endswith(f"/{data.program.pk}/?from=2026-03-01&to=2026-03-31")


def test_overview_csv(ops, data):
    got = csv_rows(ops.get(OVERVIEW, {"export": "programs"}))
    header = ["program_id", "program_name", "applied", "submitted", "reviewed", "accepted", "enrolled", "active"]
    header += ["completed", "dropped", "completion_rate", "drop_rate", "acceptance_rate", "attendance_rate"]
    assert got == [
        [*header, "review_sla_compliance"],
        [str(data.program.pk), "Mentorship 2026", "8", "6", "4", "2", "5", "2", "2", "1"]
        + ["0.4", "0.2", "0.5", "0.5", "0.75"],
        [str(data.other_program.pk), "Other program", "1", "1", "1", "1", "1", "1", "0", "0"]
        + ["0.0", "0.0", "1.0", "", "0.0"],
        ["", "Total", "9", "7", "5", "3", "6", "3", "2", "1", "0.3333", "0.1667", "0.6", "0.5", "0.6"],
    ]
    response = ops.get(OVERVIEW, {"export": "programs"})
    assert response["Content-Disposition"] == 'attachment; filename="analytics-programs.csv"'


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "Enter a valid date."),
        ({"to": "yesterday", "export": "programs"}, "to", "Enter a valid date."),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "Must not be before the first day."),
    ],
)
def test_overview_bad_filters_are_field_errors(ops, data, params, field, message):
    response = ops.get(OVERVIEW, params)
    root = page(response)  # 200, the page (not a CSV)
    assert field_errors(root, field) == [message]
    assert root.all("table-programs") == [] and chart_svgs(root) == []


# --- a program's dashboard --------------------------------------------------------------------


def test_program_charts_come_first(ops, data):
    response = ops.get(dashboard(data.program))
    html = response.content.decode()
    root = page(response)
    figures = charts(root)
    assert list(figures) == [
        "chart-funnel",
        "chart-enrollments-over-time",
        "chart-attendance-over-time",
        "chart-attendance",
        "chart-matches",
        "chart-outcomes",
    ]
    assert html.index('data-testid="chart-outcomes"') < html.index('data-testid="table-headline"')
    for svg in figures.values():
        assert svg.attrs["role"] == "img" and svg.attrs["aria-label"]
    assert bar_texts(figures["chart-funnel"]) == {
        "Applied": "8",
        "Submitted": "6 · 75% of applied",
        "Reviewed": "4 · 66.7% of submitted",
        "Accepted": "2 · 50% of reviewed",
        "Enrolled": "5 · 250% of accepted",
        "Active": "2 · 40% of enrolled",
        "Completed": "2 · 100% of active",
    }
    assert bar_texts(figures["chart-attendance"]) == {
        "Present": "1 · 25% of records",
        "Late": "1 · 25% of records",
        "Absent": "1 · 25% of records",
        "Excused": "1 · 25% of records",
    }
    assert bar_texts(figures["chart-matches"]) == {
        "Active matches": "0",
        "Matches ended": "0 · in the range",
        "Mentees matched": "0",
    }
    assert bar_texts(figures["chart-outcomes"]) == {
        "Completed the program": "1",
        "Placed (job, internship)": "1 · EUR 1500.00",
    }
    # Three snapshot days: one line per status, the y axis up to 3 people.
    over_time = figures["chart-enrollments-over-time"]
    assert [g.attrs["data-series"] for g in over_time.all(tag="g") if g.attrs.get("class") == "series"] == [
        "Enrolled",
        "Active",
        "Completed",
        "Dropped",
    ]
    ticks = [g for g in over_time.all(tag="g") if g.attrs.get("class") == "x-axis"][0]
    assert [t.text() for t in ticks.all(tag="text")] == ["2026-03-10", "2026-03-11", "2026-03-12"]
    # 03-10 has no attendance rate: the line starts on 03-11.
    attendance = figures["chart-attendance-over-time"]
    [circle_titles] = [
        [c.all(tag="title")[0].text() for c in g.all(tag="circle")]
        for g in attendance.all(tag="g")
        if g.attrs.get("class") == "series"
    ]
    assert circle_titles == ["Attendance rate, 2026-03-11: 50%", "Attendance rate, 2026-03-12: 75%"]


def test_program_tables(ops, data):
    root = page(ops.get(dashboard(data.program)))
    # Days to decision A7 1, A4 2, A5 4, A6 10: median 3; p90 = 4 + 0.7 * (10 - 4) = 8.2.
    assert rows(root, "headline") == [
        ["Enrollments", "5"],
        ["Completion rate", "40%"],
        ["Drop rate", "20%"],
        ["Acceptance rate", "50%"],
        ["Days to decision (median)", "3"],
        ["Days to decision (90th percentile)", "8.2"],
        ["Reviews on time (SLA)", "75%"],
        ["Sessions delivered", "1"],
        ["Attendance rate", "50%"],
        ["No-show rate", "25%"],
        ["Active matches", "0"],
        ["Matches ended", "0"],
        ["Mentees matched", "–"],
    ]
    assert rows(root, "funnel") == [
        ["Applied", "8", "–"],
        ["Submitted", "6", "75%"],
        ["Reviewed", "4", "66.7%"],
        ["Accepted", "2", "50%"],
        ["Enrolled", "5", "250%"],
        ["Active", "2", "40%"],
        ["Completed", "2", "100%"],
    ]
    assert rows(root, "attendance") == [
        ["Present", "1", "25%"],
        ["Late", "1", "25%"],
        ["Absent", "1", "25%"],
        ["Excused", "1", "25%"],
    ]
    # K1: E1 and E2 active members of 4 places; K2 empty.
    assert rows(root, "cohorts") == [["K1", "4", "2", "50%"], ["K2", "2", "0", "0%"]]
    # C holds E1 (active) and E3 (completed): 2 of target 3 and maximum 5, 1500.00 / 2 per place.
    assert rows(root, "campaigns") == [["Campaign C", "2", "3", "5", "66.7%", "40%", "1500.00", "EUR", "750.00"]]
    assert rows(root, "outcomes") == [
        ["Completed the program", "1", "–"],
        ["Placed (job, internship)", "1", "EUR 1500.00"],
    ]
    # H hosted one delivered hour: weighted 1.5 x 1 h, quality 0.6 (nobody rated H), no lift: VIS 0.9.
    assert rows(root, "volunteers") == [["host@example.org", "1", "1.5", "0.6", "0", "0.9"]]
    # Mentorship template coefficients (EUR): integration 400 per milestone (none), job readiness
    # 1200 per placement (E3).
    assert rows(root, "sroi") == [
        ["integration_score", "0", "400", "0.00", "EUR"],
        ["job_readiness", "1", "1200", "1200.00", "EUR"],
        ["total", "–", "–", "1200.00", "EUR"],
    ]
    daily = rows(root, "daily")
    assert [row[:9] for row in daily] == [
        ["2026-03-10", "–", "–", "–", "–", "1", "1", "0", "0"],
        ["2026-03-11", "–", "–", "–", "–", "2", "2", "0", "0"],
        ["2026-03-12", "–", "–", "–", "–", "3", "2", "1", "0"],
    ]
    assert [row[15] for row in daily] == ["–", "50%", "75%"]


def test_campaign_filter(ops, data):
    root = page(ops.get(dashboard(data.program), {"campaign": str(data.campaign.pk)}))
    # Applications are not narrowed by a campaign; enrollments through C: E1 active, E3 completed,
    # E4 dropped. Attendance of people who came through C: E1 present, E3 absent, E4 excused.
    assert rows(root, "funnel") == [
        ["Applied", "8", "–"],
        ["Submitted", "6", "75%"],
        ["Reviewed", "4", "66.7%"],
        ["Accepted", "2", "50%"],
        ["Enrolled", "3", "150%"],
        ["Active", "1", "33.3%"],
        ["Completed", "1", "100%"],
    ]
    assert rows(root, "attendance") == [
        ["Present", "1", "33.3%"],
        ["Late", "0", "0%"],
        ["Absent", "1", "33.3%"],
        ["Excused", "1", "33.3%"],
    ]
    assert rows(root, "outcomes") == [["Placed (job, internship)", "1", "EUR 1500.00"]]
    assert [row[:9] for row in rows(root, "daily")] == [
        ["2026-03-10", "–", "–", "–", "–", "1", "1", "0", "0"],
        ["2026-03-12", "–", "–", "–", "–", "2", "1", "1", "0"],
    ]
    select = root.one("filter-campaign").all(tag="select")[0]
    assert [(o.attrs.get("value"), o.text(), "selected" in o.attrs) for o in select.all(tag="option")] == [
        ("", "All campaigns", False),
        (str(data.campaign.pk), "Campaign C", True),
    ]


def test_date_and_cohort_filters(ops, data):
    root = page(ops.get(dashboard(data.program), {"cohort": str(data.k1.pk), "from": "2026-03-11"}))
    # No application started from 03-11; members of K1 enrolled from 03-11: E2 (active), E3 (completed).
    assert rows(root, "funnel") == [
        ["Applied", "0", "–"],
        ["Submitted", "0", "–"],
        ["Reviewed", "0", "–"],
        ["Accepted", "0", "–"],
        ["Enrolled", "2", "–"],
        ["Active", "1", "50%"],
        ["Completed", "1", "100%"],
    ]
    assert rows(root, "cohorts") == [["K1", "4", "2", "50%"]]
    # No snapshots of K1: both time charts say so.
    figures = charts(root)
    for key in ("chart-enrollments-over-time", "chart-attendance-over-time"):
        [text] = [t for t in figures[key].all(tag="text") if t.attrs.get("class") == "no-data"]
        assert text.text() == "No data yet"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "Enter a valid date."),
        ({"from": "2026-03-02", "to": "2026-03-01", "export": "funnel"}, "to", "Must not be before the first day."),
        ({"campaign": "nope"}, "campaign", "No campaign with this id in this program."),
        ({"cohort": "00000000-0000-0000-0000-000000000000"}, "cohort", "No cohort with this id in this program."),
    ],
)
def test_bad_filters_are_field_errors(ops, data, params, field, message):
    response = ops.get(dashboard(data.program), params)
    root = page(response)
    assert field_errors(root, field) == [message]
    assert chart_svgs(root) == [] and root.all("table-funnel") == []


def test_campaign_of_another_program_and_both_dimensions(ops, data):
    root = page(ops.get(dashboard(data.other_program), {"campaign": str(data.campaign.pk)}))
    assert field_errors(root, "campaign") == ["No campaign with this id in this program."]
    root = page(ops.get(dashboard(data.program), {"campaign": str(data.campaign.pk), "cohort": str(data.k1.pk)}))
    assert field_errors(root, "cohort") == ["Choose a campaign or a cohort, not both."]


def test_unknown_program_and_table(ops, data):
    assert ops.get("/admin/analytics/snapshot/dashboard/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert ops.get(dashboard(data.program), {"export": "nope"}).status_code == 404


def test_program_csv_exports(ops, data):
    def export(table: str, **params) -> list[list[str]]:
        response = ops.get(dashboard(data.program), {**params, "export": table})
        assert response["Content-Disposition"] == f'attachment; filename="analytics-{data.program.pk}-{table}.csv"'
        return csv_rows(response)

    assert export("headline") == [
        ["metric", "label", "value"],
        ["enrollments_total", "Enrollments", "5"],
        ["completion_rate", "Completion rate", "0.4"],
        ["drop_rate", "Drop rate", "0.2"],
        ["acceptance_rate", "Acceptance rate", "0.5"],
        ["time_to_decision_median_days", "Days to decision (median)", "3.0"],
        ["time_to_decision_p90_days", "Days to decision (90th percentile)", "8.2"],
        ["review_sla_compliance", "Reviews on time (SLA)", "0.75"],
        ["sessions_delivered", "Sessions delivered", "1"],
        ["attendance_rate", "Attendance rate", "0.5"],
        ["no_show_rate", "No-show rate", "0.25"],
        ["matches_active", "Active matches", "0"],
        ["matches_ended", "Matches ended", "0"],
        ["mentees_matched_share", "Mentees matched", ""],
    ]
    assert export("funnel") == [
        ["stage", "count", "conversion"],
        ["applied", "8", ""],
        ["submitted", "6", "0.75"],
        ["reviewed", "4", "0.6667"],
        ["accepted", "2", "0.5"],
        ["enrolled", "5", "2.5"],
        ["active", "2", "0.4"],
        ["completed", "2", "1.0"],
    ]
    assert export("attendance") == [
        ["status", "count", "share"],
        ["present", "1", "0.25"],
        ["late", "1", "0.25"],
        ["absent", "1", "0.25"],
        ["excused", "1", "0.25"],
    ]
    assert export("cohorts") == [
        ["cohort_id", "cohort_name", "capacity", "members", "fill_rate"],
        [str(data.k1.pk), "K1", "4", "2", "0.5"],
        [str(data.k2.pk), "K2", "2", "0", "0.0"],
    ]
    assert export("campaigns") == [
        ["campaign_id", "campaign_name", "enrolled", "target_enrollment", "max_enrollment", "target_progress"]
        + ["max_fill_rate", "budget_amount", "budget_currency", "budget_per_enrollment"],
        [str(data.campaign.pk), "Campaign C", "2", "3", "5", "0.6667", "0.4", "1500.00", "EUR", "750.00"],
    ]
    assert export("outcomes") == [
        ["outcome_type", "count", "amounts"],
        ["completed", "1", ""],
        ["placed", "1", "EUR 1500.00"],
    ]
    assert export("volunteers") == [
        ["user_id", "email", "hours", "weighted_hours", "quality", "outcome_lift", "vis"],
        [str(data.host.pk), "host@example.org", "1.0", "1.5", "0.6", "0.0", "0.9"],
    ]
    assert export("sroi") == [
        ["dimension", "units", "coefficient", "value", "currency"],
        ["integration_score", "0", "400", "0.00", "EUR"],
        ["job_readiness", "1", "1200", "1200.00", "EUR"],
        ["total", "", "", "1200.00", "EUR"],
    ]
    assert export("daily", campaign=str(data.campaign.pk)) == [
        DAILY_COLUMNS,
        ["2026-03-10", "", "", "", "", "1", "1", "0", "0", "", "", "", "", "", "", "", ""],
        ["2026-03-12", "", "", "", "", "2", "1", "1", "0", "", "", "", "", "", "", "", ""],
    ]
    # The filters of the page apply to its CSV: outcomes through campaign C only.
    assert export("outcomes", campaign=str(data.campaign.pk)) == [
        ["outcome_type", "count", "amounts"],
        ["placed", "1", "EUR 1500.00"],
    ]


def test_csv_links_keep_the_filters(ops, data):
    root = page(ops.get(dashboard(data.program), {"campaign": str(data.campaign.pk), "from": "2026-03-01"}))
    links = {a.attrs["data-testid"]: a.attrs["href"] for a in root.all(tag="a") if "data-testid" in a.attrs}
    assert links["csv-funnel"] == f"?campaign={data.campaign.pk}&from=2026-03-01&export=funnel"
    assert sorted(key for key in links if key.startswith("csv-")) == [
        "csv-attendance",
        "csv-campaigns",
        "csv-cohorts",
        "csv-daily",
        "csv-funnel",
        "csv-headline",
        "csv-outcomes",
        "csv-sroi",
        "csv-volunteers",
    ]


def test_svg_is_well_formed(ops, data):
    html = ops.get(dashboard(data.program)).content.decode()
    svgs = [chunk.split("</svg>")[0] + "</svg>" for chunk in html.split("<svg")[1:] if 'role="img"' in chunk[:200]]
    assert len(svgs) == 6
    for svg in svgs:
        ET.fromstring("<svg" + svg)


# --- who may look ---------------------------------------------------------------------------


def test_reviewer_gets_403_and_anonymous_signs_in(make_user, data):
    reviewer = make_user(email="staff-reviewer@example.org", role="reviewer", is_staff=True)
    client = Client()
    client.force_login(reviewer)
    for url in (OVERVIEW, dashboard(data.program), dashboard(data.program) + "?export=funnel"):
        assert client.get(url).status_code == 403
    response = Client().get(OVERVIEW)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_snapshots_are_read_only(ops, data):
    changelist = ops.get("/admin/analytics/snapshot/")
    root = page(changelist)
    assert root.one("dashboard-link").attrs["href"] == OVERVIEW
    # Five snapshot rows of P (three of the program, two of campaign C).
    assert changelist.content.decode().count('<td class="field-program') == 5
    assert ops.get("/admin/analytics/snapshot/add/").status_code == 403
    snapshot = Snapshot.objects.filter(program=data.program, campaign=None).first()
    response = ops.get(f"/admin/analytics/snapshot/{snapshot.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert ops.post(f"/admin/analytics/snapshot/{snapshot.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Snapshot.objects.filter(pk=snapshot.pk).exists()
    app_index = page(ops.get("/admin/analytics/"))
    assert app_index.one("analytics-dashboards").all(tag="a")[0].attrs["href"] == OVERVIEW


# --- cost -------------------------------------------------------------------------------------


def _more_rows(data, n: int = 3) -> None:
    """Rows of every kind the dashboard reads, n more of each, in P."""
    grow(data, n)
    for i in range(n):
        host = data.user()
        session = _session(data.program, at(3, 16 + i, 10), host)
        enrollment = data.enrollments["E1"]
        Attendance.objects.create(session=session, user=enrollment.user, status="present")
        Outcome.objects.create(
            program=data.program, enrollment=enrollment, outcome_type="funded", occurred_on=date(2026, 3, 21 + i)
        )
        _snapshot(data.program, date(2026, 3, 13 + i), enrolled=4 + i, active=3, completed=1, dropped=0)
        _snapshot(data.program, date(2026, 3, 13 + i), data.campaign, enrolled=3, active=2, completed=1, dropped=0)


@pytest.mark.parametrize("params", [{}, {"campaign": "C"}])
def test_query_count_does_not_grow_with_rows(ops, data, django_assert_num_queries, params):
    query = {key: str(data.campaign.pk) for key in params}

    def load():
        response = ops.get(dashboard(data.program), query)
        assert response.status_code == 200
        return response

    load()  # warm the caches (content types, sessions)
    with CaptureQueriesContext(connection) as before:
        first = load()
    _more_rows(data)
    with django_assert_num_queries(len(before.captured_queries)):
        second = load()
    # The rows did land on the page.
    assert len(rows(page(second), "volunteers")) == len(rows(page(first), "volunteers")) + 3
    assert len(rows(page(second), "daily")) == len(rows(page(first), "daily")) + 3


def test_overview_query_count_does_not_grow_with_rows(ops, data, django_assert_num_queries):
    ops.get(OVERVIEW)
    with CaptureQueriesContext(connection) as before:
        ops.get(OVERVIEW)
    _more_rows(data)
    with django_assert_num_queries(len(before.captured_queries)):
        assert ops.get(OVERVIEW).status_code == 200


def test_the_admin_index_links_the_dashboards_for_operators_only(ops, make_user):
    page = ops.get("/admin/").content.decode()
    assert 'data-testid="admin-dashboards"' in page
    assert f'href="{reverse("admin:analytics_dashboard")}"' in page
    reviewer = make_user(email="index-reviewer@example.org", role="reviewer", is_staff=True)
    client = Client()
    client.force_login(reviewer)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert 'data-testid="admin-dashboards"' not in response.content.decode()

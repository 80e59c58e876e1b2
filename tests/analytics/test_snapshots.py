"""Daily snapshots: values of a day computed by hand on the dataset of tests/analytics/__init__.py,
one row per (day, program, campaign, cohort) whatever the reruns, backfill of a range, the daily
job, the backfill command, and the series in the API (JSON and CSV)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from io import StringIO

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from analytics.models import Snapshot
from analytics.scope import Scope
from analytics.snapshots import SNAPSHOT_KEYS, program_series, snapshot_day, snapshot_range
from core import clock
from core.jobs import _lock_key, run_job
from core.models import JobRun
from enrollments.models import Enrollment
from tests.analytics import build


@pytest.fixture
def data(program, make_program, mentorship_template, company, make_user):
    other = make_program(mentorship_template, name="Other program")
    return build(program=program, other_program=other, company=company, make_user=make_user)


def _row(data, day, campaign=None, cohort=None) -> dict:
    return Snapshot.objects.get(day=day, program=data.program, campaign=campaign, cohort=cohort).metrics


def test_a_day_of_one_program(data, django_assert_max_num_queries):
    written = snapshot_day(day=date(2026, 3, 12), program_ids=[data.program.pk])
    # The program, campaign C, cohorts K1 and K2.
    assert written == 4
    assert Snapshot.objects.filter(day=date(2026, 3, 12)).count() == 4
    whole = _row(data, date(2026, 3, 12))
    assert set(whole) == set(SNAPSHOT_KEYS)
    # Started by the end of 03-12: applications A1..A7 and A9 (8); enrollments E5 (02-15), E1, E2, E3
    # (E4 came on 03-13): active E1, E2; completed E3, E5 -> completion 2 / 4, drops 0 / 4.
    assert (whole["applied"], whole["enrolled"], whole["active"], whole["completed"], whole["dropped"]) == (
        8,
        4,
        2,
        2,
        0,
    )
    assert (whole["completion_rate"], whole["drop_rate"]) == (0.5, 0.0)
    # Decided: A4, A7 accepted, A5 rejected, A6 waitlisted -> 2 / 4.
    assert whole["acceptance_rate"] == 0.5
    assert (whole["sessions_delivered"], whole["matches_active"], whole["outcomes"]) == (0, 0, 0)
    # Campaign C by 03-12: E1 (active), E3 (completed).
    campaign = _row(data, date(2026, 3, 12), campaign=data.campaign)
    assert (campaign["enrolled"], campaign["active"], campaign["completed"], campaign["completion_rate"]) == (
        2,
        1,
        1,
        0.5,
    )
    # K1: E1, E2 active, E3 completed; K2 has nobody (rates undefined).
    k1 = _row(data, date(2026, 3, 12), cohort=data.k1)
    assert (k1["enrolled"], k1["active"], k1["completed"]) == (3, 2, 1)
    k2 = _row(data, date(2026, 3, 12), cohort=data.k2)
    assert (k2["enrolled"], k2["completion_rate"], k2["drop_rate"]) == (0, None, None)


def test_rerunning_a_day_replaces_its_rows(data):
    day = date(2026, 3, 13)
    snapshot_day(day=day, program_ids=[data.program.pk])
    assert _row(data, day)["dropped"] == 1  # E4
    Enrollment.objects.filter(pk=data.enrollments["E2"].pk).update(status="dropped")
    assert snapshot_day(day=day, program_ids=[data.program.pk]) == 4
    assert Snapshot.objects.filter(day=day, program=data.program).count() == 4
    # E2 dropped too: 2 of E1..E5.
    assert (_row(data, day)["dropped"], _row(data, day)["drop_rate"]) == (2, 0.4)


def test_backfill_and_series(data, django_assert_num_queries):
    assert snapshot_range(date_from=date(2026, 3, 10), date_to=date(2026, 3, 13), program_ids=[data.program.pk]) == 16
    assert set(Snapshot.objects.values_list("backfilled", flat=True)) == {True}
    with django_assert_num_queries(1):
        series = program_series(Scope(program_ids=(data.program.pk,), date_from=date(2026, 3, 11)))
    # Enrolled by the end of each day: E5 + E1 (03-10), + E2, + E3, + E4.
    assert [(point["day"], point["enrolled"]) for point in series] == [
        (date(2026, 3, 11), 3),
        (date(2026, 3, 12), 4),
        (date(2026, 3, 13), 5),
    ]
    campaign = program_series(Scope(program_ids=(data.program.pk,), campaign_id=data.campaign.pk))
    assert [point["enrolled"] for point in campaign] == [1, 1, 2, 3]  # E1; E1; E1, E3; E1, E3, E4
    cohort = program_series(Scope(program_ids=(data.program.pk,), cohort_id=data.k1.pk, date_to=date(2026, 3, 11)))
    assert [point["enrolled"] for point in cohort] == [1, 2]  # E1; E1, E2
    assert program_series(Scope(program_ids=(data.other_program.pk,))) == []


def test_backfill_bounds(data):
    with pytest.raises(ValueError, match="after"):
        snapshot_range(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))
    with pytest.raises(ValueError, match="At most"):
        snapshot_range(date_from=date(2000, 1, 1), date_to=date(2026, 3, 1))


@pytest.mark.django_db(transaction=True)
def test_the_daily_job_writes_yesterday(data, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 13, 0, 40, tzinfo=UTC))
    run = run_job("analytics_snapshots")
    assert run.status == JobRun.Status.SUCCEEDED, run.error
    # P: program + campaign + 2 cohorts; Q: the program alone.
    assert run.counts == {"rows": 5}
    assert set(Snapshot.objects.values_list("day", flat=True)) == {date(2026, 3, 12)}
    assert Snapshot.objects.filter(backfilled=False).count() == 5
    assert _row(data, date(2026, 3, 12))["enrolled"] == 4
    again = run_job("analytics_snapshots")
    assert again.counts == {"rows": 5}
    assert Snapshot.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_backfill_command(data):
    out = StringIO()
    call_command(
        "analytics_backfill", "--from", "2026-03-10", "--to", "2026-03-11", "--program", data.program.program_key,
        stdout=out,
    )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0] == "Backfilling snapshots 2026-03-10 .. 2026-03-11 ..."
    assert lines[1:3] == ["  2026-03-10: 1/2 days, 4 rows", "  2026-03-11: 2/2 days, 8 rows"]
    assert lines[3].startswith("Wrote 8 snapshot rows for 2 days; run ")
    run = JobRun.objects.get(job="analytics_snapshots")
    assert (run.status, run.counts, run.progress) == (
        "succeeded",
        {"rows": 8, "days": 2},
        "2026-03-11: 2/2 days, 8 rows",
    )
    assert Snapshot.objects.count() == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-03-32", "--to", "2026-04-01"], "'2026-03-32' is not a date (YYYY-MM-DD)."),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "--from is after --to."),
        (["--from", "2000-01-01", "--to", "2026-03-01"], "At most 3660 days at once."),
        (
            ["--from", "2026-03-01", "--to", "2026-03-01", "--program", "no-such-program"],
            "No program with the id or key",
        ),
    ],
)
def test_backfill_command_refuses_bad_input(db, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("analytics_backfill", *args, stdout=StringIO())
    assert Snapshot.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_backfill_never_overlaps_the_daily_job(data):
    # Another process holds the job's lock (a daily run in progress).
    dsn = settings.DATABASES["default"]
    with psycopg.connect(
        host=dsn["HOST"], port=dsn["PORT"] or 5432, user=dsn["USER"], dbname=dsn["NAME"], autocommit=True
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [_lock_key("analytics_snapshots")])
        with pytest.raises(CommandError, match="already running"):
            call_command("analytics_backfill", "--from", "2026-03-10", "--to", "2026-03-10", stdout=StringIO())
    assert Snapshot.objects.count() == 0


def test_series_in_the_api(operator_api, data):
    snapshot_range(date_from=date(2026, 3, 10), date_to=date(2026, 3, 11), program_ids=[data.program.pk])
    url = f"/api/v1/admin/programs/{data.program.pk}/analytics"
    body = operator_api.get(url, {"campaign": str(data.campaign.pk)}).json()
    assert [(point["day"], point["enrolled"], point["active"]) for point in body["series"]] == [
        ("2026-03-10", 1, 1),
        ("2026-03-11", 1, 1),
    ]
    response = operator_api.get(url, {"format": "csv", "table": "series", "to": "2026-03-10"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="analytics-{data.program.pk}-series.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["day", *SNAPSHOT_KEYS]
    # 03-10: applied 8, submitted 6, reviewed 4, accepted 2; enrolled E5, E1; active E1; completed E5.
    assert rows[1][:9] == ["2026-03-10", "8", "6", "4", "2", "2", "1", "1", "0"]
    assert len(rows) == 2

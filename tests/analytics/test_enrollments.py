"""Enrollment metrics on the hand-built dataset of tests/analytics/__init__.py (expected values by hand)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.metrics import enrollments
from analytics.scope import Scope
from analytics.selectors import program_analytics
from tests.analytics import build, grow


@pytest.fixture
def data(program, make_program, mentorship_template, company, make_user):
    other = make_program(mentorship_template, name="Other program")
    return build(program=program, other_program=other, company=company, make_user=make_user)


def test_status_and_rates_follow_source_001(data):
    result = enrollments.compute(Scope(program_ids=(data.program.pk,)))
    # P: E1, E2 active; E3, E5 completed; E4 dropped (E6 is the other program's).
    assert result["enrollments_by_status"] == {"active": 2, "completed": 2, "dropped": 1}
    assert result["enrollments_total"] == 5
    # Source 001: completed / COUNT(*) = 2 / 5; dropped / COUNT(*) = 1 / 5.
    assert result["completion_rate"] == 0.4
    assert result["drop_rate"] == 0.2


def test_filters(data):
    march = enrollments.compute(
        Scope(program_ids=(data.program.pk,), date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    )
    # E1..E4: 2 active, 1 completed, 1 dropped -> 1/4, 1/4.
    assert march["enrollments_by_status"] == {"active": 2, "completed": 1, "dropped": 1}
    assert (march["completion_rate"], march["drop_rate"]) == (0.25, 0.25)
    campaign = enrollments.compute(Scope(program_ids=(data.program.pk,), campaign_id=data.campaign.pk))
    # E1 active, E3 completed, E4 dropped -> 1/3 = 0.3333 each.
    assert campaign["enrollments_by_status"] == {"active": 1, "completed": 1, "dropped": 1}
    assert (campaign["completion_rate"], campaign["drop_rate"]) == (0.3333, 0.3333)
    cohort = enrollments.compute(Scope(program_ids=(data.program.pk,), cohort_id=data.k1.pk))
    # K1: E1, E2 active, E3 completed -> 1/3 completed, 0/3 dropped.
    assert cohort["enrollments_by_status"] == {"active": 2, "completed": 1, "dropped": 0}
    assert (cohort["completion_rate"], cohort["drop_rate"]) == (0.3333, 0.0)
    assert [row["cohort_name"] for row in cohort["cohort_fill"]] == ["K1"]


def test_cohort_fill_and_campaign_progress(data):
    result = enrollments.compute(Scope(program_ids=(data.program.pk,)))
    # K1: active members E1, E2 (E3 completed the cohort) / capacity 4 = 0.5; K2: 0 / 2.
    assert result["cohort_fill"] == [
        {"cohort_id": str(data.k1.pk), "cohort_name": "K1", "capacity": 4, "members": 2, "fill_rate": 0.5},
        {"cohort_id": str(data.k2.pk), "cohort_name": "K2", "capacity": 2, "members": 0, "fill_rate": 0.0},
    ]
    # Campaign C places taken (active or completed): E1, E3 = 2 (E4 dropped frees its place).
    # 2 / target 3 = 0.6667; 2 / max 5 = 0.4; budget 1500.00 / 2 = 750.00.
    assert result["campaign_progress"] == [
        {
            "campaign_id": str(data.campaign.pk),
            "campaign_name": "Campaign C",
            "enrolled": 2,
            "target_enrollment": 3,
            "max_enrollment": 5,
            "target_progress": 0.6667,
            "max_fill_rate": 0.4,
            "budget_amount": "1500.00",
            "budget_currency": "EUR",
            "budget_per_enrollment": "750.00",
        }
    ]


def test_empty_program(program):
    result = enrollments.compute(Scope(program_ids=(program.pk,)))
    assert result["enrollments_by_status"] == {"active": 0, "completed": 0, "dropped": 0}
    assert (result["completion_rate"], result["drop_rate"]) == (None, None)
    assert result["cohort_fill"] == [] and result["campaign_progress"] == []


def test_query_counts_are_constant(data, monkeypatch):
    # This file's families only (the others have their own tests); a family not written is skipped.
    monkeypatch.setattr("analytics.selectors.FAMILIES", ["funnel", "enrollments", "not_written_yet"])
    scope = Scope(program_ids=(data.program.pk,))
    with CaptureQueriesContext(connection) as before:
        enrollments.compute(scope)
    with CaptureQueriesContext(connection) as merged_before:
        program_analytics(scope)
    grow(data, n=5)
    with CaptureQueriesContext(connection) as after:
        result = enrollments.compute(scope)
    with CaptureQueriesContext(connection) as merged_after:
        merged = program_analytics(scope)
    # by status, cohort fill, campaign progress.
    assert len(before) == len(after) == 3
    assert len(merged_before) == len(merged_after) == 5 + 3
    assert result["enrollments_by_status"]["active"] == 2 + 5
    assert merged["completion_rate"] == result["completion_rate"]
    assert merged["attendance_rate"] is None

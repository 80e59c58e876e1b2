"""Funnel metrics on the hand-built dataset of tests/analytics/__init__.py (expected values by hand)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.metrics import funnel
from analytics.scope import Scope
from tests.analytics import build, grow


@pytest.fixture
def data(program, make_program, mentorship_template, company, make_user):
    other = make_program(mentorship_template, name="Other program")
    return build(program=program, other_program=other, company=company, make_user=make_user)


def stages(result):
    return [(row["stage"], row["count"]) for row in result["funnel"]]


def test_funnel_of_the_program(data):
    result = funnel.compute(Scope(program_ids=(data.program.pk,)))
    # applied: A1..A7 and A9 = 8; submitted: A2..A7 = 6; reviewed: A3, A4, A5, A6 = 4;
    # accepted: A4, A7 = 2; enrolled: E1..E5 = 5; active: E1, E2 = 2; completed: E3, E5 = 2.
    assert stages(result) == [
        ("applied", 8),
        ("submitted", 6),
        ("reviewed", 4),
        ("accepted", 2),
        ("enrolled", 5),
        ("active", 2),
        ("completed", 2),
    ]
    # 6/8 = 0.75; 4/6 = 0.66666 -> 0.6667; 2/4 = 0.5; 5/2 = 2.5; 2/5 = 0.4; 2/2 = 1.0.
    assert [row["rate"] for row in result["conversion"]] == [None, 0.75, 0.6667, 0.5, 2.5, 0.4, 1.0]
    # accepted / decided = (A4, A7) / (A4, A5, A6, A7) = 2 / 4.
    assert result["acceptance_rate"] == 0.5
    assert result["decided"] == 4
    # Days to decision: A7 1, A4 2, A5 4, A6 10. Median (continuous) = (2 + 4) / 2 = 3;
    # p90: position 0.9 * (4 - 1) = 2.7 -> 4 + 0.7 * (10 - 4) = 8.2.
    assert result["time_to_decision_days"] == {"median": 3.0, "p90": 8.2}
    # Reviews of P: A3 on time, A4 late (12:00 after a 00:00 due), A5 on time (at the due instant),
    # A6 on time -> 3 / 4; A8's late review is in the other program.
    assert (result["reviews_submitted"], result["reviews_on_time"]) == (4, 3)
    assert result["review_sla_compliance"] == 0.75


def test_dimensions(data):
    result = funnel.compute(Scope(program_ids=(data.program.pk,)))
    # Campaign C: E1 (active), E3 (completed), E4 (dropped); no campaign: E2 (active), E5 (completed).
    assert result["funnel_by_campaign"] == [
        {
            "campaign_id": str(data.campaign.pk),
            "campaign_name": "Campaign C",
            "enrolled": 3,
            "active": 1,
            "completed": 1,
        },
        {"campaign_id": None, "campaign_name": None, "enrolled": 2, "active": 1, "completed": 1},
    ]
    # K1 members: E1, E2 (active), E3 (completed); K2 has none.
    assert result["funnel_by_cohort"] == [
        {"cohort_id": str(data.k1.pk), "cohort_name": "K1", "enrolled": 3, "active": 2, "completed": 1}
    ]


def test_date_range(data):
    result = funnel.compute(
        Scope(program_ids=(data.program.pk,), date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    )
    # A9 (02-20) and E5 (02-15) fall out: applied 7, enrolled 4 (E1..E4), completed 1 (E3).
    assert stages(result) == [
        ("applied", 7),
        ("submitted", 6),
        ("reviewed", 4),
        ("accepted", 2),
        ("enrolled", 4),
        ("active", 2),
        ("completed", 1),
    ]
    # 6/7 = 0.857142 -> 0.8571; 4/6 -> 0.6667; 2/4; 4/2 = 2.0; 2/4 = 0.5; 1/2 = 0.5.
    assert [row["rate"] for row in result["conversion"]] == [None, 0.8571, 0.6667, 0.5, 2.0, 0.5, 0.5]
    # Only 03-05: A5 (created 03-05) -> applied 1, submitted 1, reviewed 1; decided 1 in 4 days.
    one_day = funnel.compute(
        Scope(program_ids=(data.program.pk,), date_from=date(2026, 3, 5), date_to=date(2026, 3, 5))
    )
    assert stages(one_day)[:4] == [("applied", 1), ("submitted", 1), ("reviewed", 1), ("accepted", 0)]
    assert one_day["acceptance_rate"] == 0.0
    assert one_day["time_to_decision_days"] == {"median": 4.0, "p90": 4.0}
    # Reviews submitted on 03-05: A3's (on time) and A4's (late) -> 1 / 2.
    assert one_day["review_sla_compliance"] == 0.5


def test_campaign_and_cohort_narrow_the_enrollment_stages(data):
    by_campaign = funnel.compute(Scope(program_ids=(data.program.pk,), campaign_id=data.campaign.pk))
    # E1, E3, E4 -> enrolled 3, active 1, completed 1; application stages stay the program's.
    assert stages(by_campaign)[3:] == [("accepted", 2), ("enrolled", 3), ("active", 1), ("completed", 1)]
    by_cohort = funnel.compute(Scope(program_ids=(data.program.pk,), cohort_id=data.k1.pk))
    # K1: E1, E2, E3 -> enrolled 3, active 2, completed 1.
    assert stages(by_cohort)[4:] == [("enrolled", 3), ("active", 2), ("completed", 1)]
    assert [row["cohort_name"] for row in by_cohort["funnel_by_cohort"]] == ["K1"]


def test_empty_program_has_no_rates(program):
    result = funnel.compute(Scope(program_ids=(program.pk,)))
    assert [row["count"] for row in result["funnel"]] == [0] * 7
    assert [row["rate"] for row in result["conversion"]] == [None] * 7
    assert result["acceptance_rate"] is None
    assert result["review_sla_compliance"] is None
    assert result["time_to_decision_days"] == {"median": None, "p90": None}


def test_query_count_is_constant(data):
    scope = Scope(program_ids=(data.program.pk,))
    with CaptureQueriesContext(connection) as before:
        funnel.compute(scope)
    grow(data, n=5)
    with CaptureQueriesContext(connection) as after:
        result = funnel.compute(scope)
    # applications, enrollments, reviews, per campaign, per cohort.
    assert len(before) == len(after) == 5
    assert result["funnel"][0]["count"] == 8 + 5

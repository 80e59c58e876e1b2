"""Outcome metrics on a hand-built dataset; expected values computed by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from analytics.metrics import outcomes
from analytics.scope import Scope
from enrollments.models import Enrollment, JourneyFlags, Outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(program, make_program, builtin_templates, make_user):
    q = make_program(builtin_templates["buddy-standard"], name="Buddy")
    r = make_program(builtin_templates["language-tutoring"], name="Language")
    u1, u2, u3, u4, u5 = (make_user() for _ in range(5))

    def enroll(user, on, status="active"):
        return Enrollment.objects.create(
            user=user,
            program=on,
            beneficiary_group=on.beneficiary_group,
            program_type=on.program_type,
            role="mentee",
            status=status,
            enrolled_at=datetime(2026, 1, 5, tzinfo=UTC),
            dropped_at=datetime(2026, 2, 1, tzinfo=UTC) if status == "dropped" else None,
        )

    e1, e2, e3 = enroll(u1, program), enroll(u2, program), enroll(u3, program)
    enroll(u1, q)
    enroll(u2, q)
    enroll(u2, r)
    enroll(u4, program, "dropped")
    enroll(u4, q)
    eq5 = enroll(u5, q)
    enroll(u5, r)

    def outcome(enrollment, kind, day, amount=None, currency=""):
        Outcome.objects.create(
            program=enrollment.program,
            enrollment=enrollment,
            outcome_type=kind,
            occurred_on=day,
            amount=Decimal(amount) if amount else None,
            currency=currency,
        )

    outcome(e1, "placed", date(2026, 3, 1), "1000.00", "EUR")
    outcome(e2, "placed", date(2026, 3, 15), "500.50", "EUR")
    outcome(e3, "placed", date(2026, 4, 2))
    outcome(e1, "funded", date(2026, 3, 10), "2000", "USD")
    outcome(e2, "funded", date(2026, 3, 11), "250.25", "EUR")
    outcome(e3, "completed", date(2026, 3, 20))
    outcome(eq5, "placed", date(2026, 3, 1), "99", "EUR")  # another program

    for user, flags in (
        (u1, {"match_active": True, "checkin_due": True, "programs_count": 2, "match_count": 1}),
        (u2, {"match_active": True, "checkin_due": False, "feedback_pending": True, "programs_count": 3,
              "milestones_reached": 2}),
        (u3, {"programs_count": 1}),
        (u5, {"match_active": True, "programs_count": 2}),
    ):  # fmt: skip
        JourneyFlags.objects.update_or_create(user=user, defaults={"flags": flags})
    return {"program": program}


def test_whole_program(dataset, django_assert_num_queries):
    with django_assert_num_queries(3):
        got = outcomes.compute(Scope(program_ids=(dataset["program"].pk,)))
    assert got["outcomes_by_type"] == [
        {"outcome_type": "completed", "count": 1, "amounts": {}},
        {"outcome_type": "funded", "count": 2, "amounts": {"EUR": "250.25", "USD": "2000.00"}},
        # 1000.00 + 500.50 = 1500.50; the third has no amount
        {"outcome_type": "placed", "count": 3, "amounts": {"EUR": "1500.50"}},
    ]
    # population: active in the program = u1, u2, u3 (u4 dropped it); u1 in 2 programs, u2 in 3
    assert got["cross_program"] == {
        "participants": 3,
        "multi_program_participants": 2,
        "multi_program_share": 0.6667,  # 2 / 3
        "avg_programs_of_multi_program_participants": 2.5,  # (2 + 3) / 2
    }
    assert got["journey_flags"] == {
        "people": 3,  # u1, u2, u3 (u5 is not in the program)
        "match_active": 2,  # u1, u2
        "checkin_due": 1,  # u1
        "feedback_pending": 1,  # u2
        "programs_count_people": 3,
        "match_count_people": 1,
        "events_attended_people": 0,
        "checkins_completed_people": 0,
        "milestones_reached_people": 1,
    }


def test_date_range_and_all_programs(dataset):
    march = outcomes.outcomes_by_type(
        Scope(program_ids=(dataset["program"].pk,), date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    )
    # the April placement drops out
    assert {row["outcome_type"]: row["count"] for row in march} == {"completed": 1, "funded": 2, "placed": 2}
    everyone = outcomes.cross_program(Scope())
    # active anywhere: u1 (2), u2 (3), u3 (1), u4 (1: the buddy program), u5 (2)
    assert everyone == {
        "participants": 5,
        "multi_program_participants": 3,
        "multi_program_share": 0.6,  # 3 / 5
        "avg_programs_of_multi_program_participants": 2.3333,  # (2 + 3 + 2) / 3
    }

"""Session metrics on a hand-built dataset; expected values computed by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from analytics.metrics import sessions
from analytics.scope import Scope
from enrollments.models import Enrollment
from scheduling.models import Attendance, Cohort, Session

pytestmark = pytest.mark.django_db


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _session(program, day: date, status: str, cohort=None) -> Session:
    start = _at(day)
    return Session.objects.create(
        program=program,
        cohort=cohort,
        kind="cohort_session",
        title=f"Session {day}",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        timezone="UTC",
        status=status,
    )


@pytest.fixture
def dataset(program, make_program, builtin_templates, make_user, campaign):
    other = make_program(builtin_templates["buddy-standard"], name="Buddy noise")
    cohort = Cohort.objects.create(
        program=program, name="Spring", starts_on=date(2026, 3, 1), ends_on=date(2026, 6, 30), capacity=10
    )
    u1, u2, u3, u4 = (make_user() for _ in range(4))
    s1 = _session(program, date(2026, 3, 2), "delivered", cohort=cohort)
    s2 = _session(program, date(2026, 3, 9), "delivered")
    _session(program, date(2026, 3, 16), "cancelled")
    s4 = _session(program, date(2026, 3, 23), "scheduled")
    s5 = _session(program, date(2026, 4, 6), "delivered")
    s6 = _session(other, date(2026, 3, 4), "delivered")
    rows = [
        (s1, u1, "present"),
        (s1, u2, "late"),
        (s1, u3, "absent"),
        (s1, u4, "excused"),
        (s2, u1, "present"),
        (s2, u2, "absent"),
        (s4, u1, "present"),  # not delivered: never counted
        (s5, u1, "present"),
        (s6, u1, "absent"),  # another program
    ]
    Attendance.objects.bulk_create([Attendance(session=s, user=u, status=st) for s, u, st in rows])
    # u1 is enrolled in the program through the campaign; u2 without a campaign.
    for user, camp in ((u1, campaign), (u2, None)):
        Enrollment.objects.create(
            user=user,
            program=program,
            campaign=camp,
            beneficiary_group=program.beneficiary_group,
            program_type=program.program_type,
            role="mentee",
            enrolled_at=_at(date(2026, 1, 5)),
        )
    return {"program": program, "cohort": cohort, "campaign": campaign}


def test_whole_program(dataset, django_assert_num_queries):
    with django_assert_num_queries(2):
        got = sessions.compute(Scope(program_ids=(dataset["program"].pk,)))
    # delivered s1, s2, s5 = 3; cancelled 1; scheduled 1 (s4)
    # recorded rows of delivered sessions: s1 4 + s2 2 + s5 1 = 7
    # present: u1@s1, u1@s2, u1@s5 = 3; late: u2@s1 = 1; absent: u3@s1, u2@s2 = 2; excused: u4@s1 = 1
    assert got == {
        "sessions_scheduled": 1,
        "sessions_delivered": 3,
        "sessions_cancelled": 1,
        "cancellation_rate": 0.25,  # 1 / (3 + 1)
        "attendance_recorded": 7,
        "attendance_present": 3,
        "attendance_late": 1,
        "attendance_absent": 2,
        "attendance_excused": 1,
        "attendance_rate": 0.5714,  # (3 + 1) / 7 = 0.571428...
        "no_show_rate": 0.2857,  # 2 / 7 = 0.285714...
        "participants": 4,  # u1..u4
        "avg_attendance_per_participant": 1.0,  # 4 attended / 4 participants
    }


def test_date_range(dataset):
    got = sessions.compute(
        Scope(program_ids=(dataset["program"].pk,), date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    )
    # s5 (April) drops out: delivered 2, recorded 6, present 2, late 1, absent 2
    assert got["sessions_delivered"] == 2
    assert got["attendance_recorded"] == 6
    assert got["attendance_rate"] == 0.5  # 3 / 6
    assert got["no_show_rate"] == 0.3333  # 2 / 6
    assert got["avg_attendance_per_participant"] == 0.75  # 3 attended / 4 participants


def test_cohort_and_campaign(dataset):
    program_id = dataset["program"].pk
    by_cohort = sessions.compute(Scope(program_ids=(program_id,), cohort_id=dataset["cohort"].pk))
    # only s1: 4 rows, present 1 + late 1
    assert (by_cohort["sessions_delivered"], by_cohort["attendance_recorded"]) == (1, 4)
    assert by_cohort["attendance_rate"] == 0.5  # 2 / 4
    by_campaign = sessions.compute(Scope(program_ids=(program_id,), campaign_id=dataset["campaign"].pk))
    # only u1's rows (enrolled through the campaign): s1, s2, s5 all present
    assert by_campaign["attendance_recorded"] == 3
    assert by_campaign["attendance_rate"] == 1.0
    assert by_campaign["no_show_rate"] == 0.0
    assert by_campaign["sessions_delivered"] == 3  # session counts are not narrowed by a campaign


def test_empty_scope_has_no_rates(db, program):
    got = sessions.compute(Scope(program_ids=(program.pk,)))
    assert got["attendance_rate"] is None
    assert got["no_show_rate"] is None
    assert got["sessions_delivered"] == 0

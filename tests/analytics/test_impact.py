"""VIS and SROI on a hand-built dataset; expected values computed by hand in the comments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from analytics.impact import sroi, vis_by_program, vis_for_volunteers
from analytics.scope import Scope
from enrollments.models import Enrollment, Outcome
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone
from programs.models import Program
from scheduling.models import Attendance, Session

pytestmark = pytest.mark.django_db


def _d(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def dataset(program, make_program, builtin_templates, make_user):
    buddy = make_program(builtin_templates["buddy-standard"], name="Buddy")
    config = {**buddy.config, "vis": {"weights": {"event": 2.0}, "checkin_minutes": 30}}
    Program.objects.filter(pk=buddy.pk).update(config=config)
    v1, v2, other_host, e1, e2, e3, p1, p2, p3 = (make_user() for _ in range(9))

    def session(on, start, minutes, status="delivered", host=None):
        return Session.objects.create(
            program=on,
            kind="cohort_session",
            title="S",
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            timezone="UTC",
            status=status,
            host=host,
        )

    s1 = session(program, _d(3, 2), 120, host=v1)  # hosted, 2 h
    session(program, _d(3, 3), 60, "cancelled", host=v1)  # not delivered
    session(program, _d(3, 4), 60, "scheduled", host=v1)  # not delivered
    s2 = session(program, _d(3, 5), 60, host=other_host)
    s3 = session(program, _d(3, 6), 90, host=other_host)
    s4 = session(program, _d(3, 7), 60, host=other_host)
    sb = session(buddy, _d(3, 8), 60, host=other_host)
    Attendance.objects.bulk_create(
        [
            Attendance(session=s1, user=v1, status="present"),  # their own session: counted as hosted only
            Attendance(session=s2, user=v1, status="present", minutes_attended=45),  # 0.75 h
            Attendance(session=s3, user=v1, status="late"),  # the session's 1.5 h
            Attendance(session=s4, user=v1, status="absent"),  # not attended
            Attendance(session=sb, user=p1, status="present"),
            Attendance(session=sb, user=p2, status="late"),
            Attendance(session=sb, user=p3, status="absent"),
        ]
    )
    for on, kind, minutes in ((program, "event", 90), (program, "session", 30), (buddy, "event", 120)):
        Activity.objects.create(program=on, user=v1, kind=kind, duration_minutes=minutes, occurred_at=_d(3, 9))

    m1 = Match.objects.create(program=program, mentor=v1, mentee=e1, status="active", started_at=_d(3, 1, 0))
    m2 = Match.objects.create(
        program=program, mentor=v1, mentee=e2, status="ended", started_at=_d(1, 1, 0), ended_at=_d(2, 1, 0),
        end_reason="completed",
    )  # fmt: skip
    m3 = Match.objects.create(program=buddy, mentor=v1, mentee=e3, status="active", started_at=_d(3, 1, 0))
    for match, count in ((m1, 4), (m3, 2)):
        for i in range(count):
            CheckIn.objects.create(match=match, by=v1, mood=4, at=_d(3, 10 + i))
    CheckIn.objects.create(match=m1, by=e1, mood=4, at=_d(3, 20))  # the mentee's, not the volunteer's
    for match, author, rating in ((m1, e1, 4), (m2, e2, 5), (m1, v1, 1)):
        Feedback.objects.create(match=match, author=author, rating=rating, at=_d(3, 15))
    for user, on, key, when in (
        (e1, program, "before", _d(2, 15)),  # before m1 started: not lift
        (e1, program, "a", _d(3, 5)),
        (e1, program, "b", _d(3, 10)),
        (e2, program, "c", _d(1, 15)),
        (e2, program, "after", _d(2, 10)),  # after m2 ended: not lift
        (e1, buddy, "d", _d(3, 12)),  # another program than m1's
    ):
        Milestone.objects.create(user=user, program=on, key=key, reached_at=when)

    enrollment = Enrollment.objects.create(
        user=e1,
        program=program,
        beneficiary_group=program.beneficiary_group,
        program_type=program.program_type,
        role="mentee",
        enrolled_at=_d(1, 5),
    )
    for kind in ("placed", "promoted", "funded"):
        Outcome.objects.create(program=program, enrollment=enrollment, outcome_type=kind, occurred_on=_d(3, 30).date())
    return {"program": program, "buddy": buddy, "v1": v1, "v2": v2}


def test_vis_per_volunteer_and_program(dataset, django_assert_num_queries):
    v1, v2, program, buddy = dataset["v1"], dataset["v2"], dataset["program"], dataset["buddy"]
    many = [v1.pk, v2.pk, *(uuid.uuid4() for _ in range(998))]  # 1,000 volunteers
    with django_assert_num_queries(7):
        vis = vis_for_volunteers(many, Scope())
    assert len(vis) == 1000
    assert vis[v2.pk] == {"programs": [], "total": {"weighted_hours": 0.0, "hours": 0.0, "checkins": 0, "vis": 0.0}}
    by_program = {row["program_id"]: row for row in vis[v1.pk]["programs"]}
    # Mentorship program, default weights:
    # hosted 2 h x 1.5 = 3.0; attended 0.75 + 1.5 = 2.25 h x 1.0; event 1.5 h; session 0.5 h;
    # check-ins 4 x 15 min = 1.0 h -> weighted 3.0 + 2.25 + 1.5 + 0.5 + 1.0 = 8.25
    # quality: ratings received 4 and 5 (their own 1 is not counted) -> 4.5 / 5 = 0.9
    # lift: milestones a, b (m1) + c (m2) = 3 over 2 matches = 1.5
    # vis = 8.25 x 0.9 x (1 + 1.5) = 18.5625
    assert by_program[program.pk] == {
        "program_id": program.pk,
        "program": program.name,
        "hours": {"hosted": 2.0, "attended": 2.25, "event": 1.5, "session": 0.5, "checkin": 1.0},
        "checkins": 4,
        "weighted_hours": 8.25,
        "ratings": 2,
        "quality": 0.9,
        "matches": 2,
        "milestones": 3,
        "outcome_lift": 1.5,
        "vis": 18.5625,
    }
    # Buddy program, config weights event 2.0 and 30 min per check-in:
    # event 2 h x 2.0 = 4.0; check-ins 2 x 30 min = 1.0 h -> weighted 5.0
    # quality: nobody rated -> 0.6 (the default); lift: 1 match (m3, mentee e3) and e3 reached
    # nothing (milestone d is e1's) -> 0 / 1 = 0
    # vis = 5.0 x 0.6 x (1 + 0) = 3.0
    got = by_program[buddy.pk]
    assert (got["weighted_hours"], got["quality"], got["matches"], got["milestones"], got["vis"]) == (
        5.0,
        0.6,
        1,
        0,
        3.0,
    )
    assert got["hours"] == {"hosted": 0.0, "attended": 0.0, "event": 2.0, "session": 0.0, "checkin": 1.0}


def test_vis_totals_and_program_roll_up(dataset):
    v1, program, buddy = dataset["v1"], dataset["program"], dataset["buddy"]
    vis = vis_for_volunteers([v1.pk])
    # hours: mentorship 2 + 2.25 + 1.5 + 0.5 + 1.0 = 7.25, buddy 2 + 1 = 3 -> 10.25
    # weighted 8.25 + 5.0 = 13.25; check-ins 4 + 2 = 6; vis 18.5625 + 3.0 = 21.5625
    assert vis[v1.pk]["total"] == {"weighted_hours": 13.25, "hours": 10.25, "checkins": 6, "vis": 21.5625}
    # programs by VIS, highest first
    assert vis_by_program(vis) == [
        {"program_id": program.pk, "program": program.name, "volunteers": 1, "weighted_hours": 8.25, "vis": 18.5625},
        {"program_id": buddy.pk, "program": buddy.name, "volunteers": 1, "weighted_hours": 5.0, "vis": 3.0},
    ]


def test_vis_date_range(dataset):
    v1 = dataset["v1"]
    # February only: nothing hosted, attended, logged or rated; m2 overlaps February and its
    # mentee reached "after" (02-10) after m2 ended (02-01): no lift either
    vis = vis_for_volunteers(
        [v1.pk], Scope(date_from=datetime(2026, 2, 1).date(), date_to=datetime(2026, 2, 28).date())
    )
    assert vis[v1.pk]["programs"][0]["weighted_hours"] == 0.0
    assert vis[v1.pk]["programs"][0]["milestones"] == 0
    assert vis[v1.pk]["total"]["vis"] == 0.0


def test_sroi(dataset, django_assert_num_queries):
    program, buddy = dataset["program"], dataset["buddy"]
    with django_assert_num_queries(5):
        got = sroi(Scope(program_ids=(program.pk, buddy.pk)))
    rows = {row["program_id"]: row for row in got["programs"]}
    # Mentorship (EUR; job_readiness 1200, integration_score 400; language off in the template):
    # integration: milestones in the program = before, a, b, c, after = 5 x 400 = 2000.00
    # job readiness: placed + promoted outcomes = 2 x 1200 = 2400.00 (funded does not count)
    assert rows[program.pk]["dimensions"] == [
        {"dimension": "integration_score", "units": "5", "coefficient": "400", "value": "2000.00"},
        {"dimension": "job_readiness", "units": "2", "coefficient": "1200", "value": "2400.00"},
    ]
    assert rows[program.pk]["total"] == "4400.00"
    # Buddy (EUR; integration 350, language 500, job 250):
    # integration: milestone d = 1 x 350 = 350.00; job readiness 0 x 250 = 0.00;
    # language: 0.1 x attended rows of delivered buddy sessions (p1 present, p2 late) = 0.2 x 500 = 100.00
    assert rows[buddy.pk]["dimensions"] == [
        {"dimension": "integration_score", "units": "1", "coefficient": "350", "value": "350.00"},
        {"dimension": "job_readiness", "units": "0", "coefficient": "250", "value": "0.00"},
        {"dimension": "language_proficiency", "units": "0.2", "coefficient": "500", "value": "100.00"},
    ]
    assert rows[buddy.pk]["total"] == "450.00"
    assert got["totals"] == {"EUR": "4850.00"}  # 4400.00 + 450.00
    assert Decimal(got["totals"]["EUR"]) == Decimal("4400.00") + Decimal("450.00")


def test_program_impact(dataset, django_assert_num_queries):
    from analytics.impact import program_impact

    program, v1 = dataset["program"], dataset["v1"]
    other_host = Session.objects.filter(program=program).exclude(host=v1).first().host
    # volunteers 4 + VIS 7 + e-mails 1 + SROI 5
    with django_assert_num_queries(17):
        got = program_impact(Scope(program_ids=(program.pk,)))
    # Volunteers of the mentorship program: the hosts of its sessions (v1 and other_host); nobody is
    # enrolled in a volunteer role and nobody has a mentor profile.
    # other_host hosted S2, S3, S4 in the program: 1 + 1.5 + 1 = 3.5 h x 1.5 = 5.25 weighted, nobody
    # rated them (0.6), no matches -> 5.25 x 0.6 = 3.15. v1: 18.5625 (test above).
    assert [(row["email"], row["weighted_hours"], row["quality"], row["vis"]) for row in got["volunteers"]] == [
        (v1.email, 8.25, 0.9, 18.5625),
        (other_host.email, 5.25, 0.6, 3.15),
    ]
    assert got["volunteers"][0]["hours"] == 7.25  # 2 + 2.25 + 1.5 + 0.5 + 1.0
    assert got["programs"] == [
        {
            "program_id": str(program.pk),
            "program": program.name,
            "volunteers": 2,
            "weighted_hours": 13.5,
            "vis": 21.7125,
        }
    ]
    assert got["sroi"]["totals"] == {"EUR": "4400.00"}


def test_volunteers_include_volunteer_roles_and_mentor_profiles(dataset, make_user):
    from analytics.impact import volunteer_ids
    from mentorship.models import Profile

    buddy = dataset["buddy"]
    role = next(r["role"] for r in buddy.template.roles if r["platform_role"] == "volunteer")
    other_role = next(r["role"] for r in buddy.template.roles if r["platform_role"] != "volunteer")
    enrolled, beneficiary, mentor = make_user(), make_user(), make_user()
    for user, as_role in ((enrolled, role), (beneficiary, other_role)):
        Enrollment.objects.create(
            user=user,
            program=buddy,
            beneficiary_group=buddy.beneficiary_group,
            program_type=buddy.program_type,
            role=as_role,
            enrolled_at=_d(3, 1),
        )
    Profile.objects.create(user=mentor, program=buddy, kind="mentor", capacity=1)
    Profile.objects.create(user=beneficiary, program=buddy, kind="mentee")
    host = Session.objects.get(program=buddy).host  # other_host
    assert set(volunteer_ids(Scope(program_ids=(buddy.pk,)))) == {enrolled.pk, mentor.pk, host.pk}


def test_sroi_access_of_a_fee_waiver(builtin_templates, make_program, make_user):
    from analytics.impact import sroi as compute_sroi
    from applications.models import Application
    from applications.services import application_form_publish

    waiver = make_program(builtin_templates["fee-waiver"], name="Waivers")
    form = application_form_publish(
        program=waiver, fields=[{"key": "why", "label": "Why", "type": "short_text", "required": True}]
    )
    for status, decided in (
        ("accepted", _d(3, 10)),
        ("accepted", _d(3, 11)),
        ("accepted", _d(4, 2)),
        ("rejected", _d(3, 12)),
    ):
        Application.objects.create(
            applicant=make_user(), program=waiver, form=form, status=status, submitted_at=_d(3, 1), decided_at=decided
        )
    # The template's waiver is 50 USD and `access` is worth 1 USD per USD waived: 3 granted x 50 = 150.
    got = compute_sroi(Scope(program_ids=(waiver.pk,)))
    assert got["programs"][0]["dimensions"] == [
        {"dimension": "access", "units": "150", "coefficient": "1", "value": "150.00"}
    ]
    assert got["totals"] == {"USD": "150.00"}
    # March only: the waivers granted on 03-10 and 03-11.
    march = compute_sroi(Scope(program_ids=(waiver.pk,), date_from=_d(3, 1).date(), date_to=_d(3, 31).date()))
    assert march["totals"] == {"USD": "100.00"}

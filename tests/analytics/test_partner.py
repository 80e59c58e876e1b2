"""Company reporting (`analytics.partner.company_report`) on a hand-built dataset of two companies
whose campaigns run in two programs; every expected value is computed by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import company_create
from analytics.partner import COLUMNS, company_report, report_lines
from analytics.scope import Scope
from analytics.selectors import program_analytics
from applications.enums import ApplicationStatus
from applications.services import application_form_publish
from enrollments.models import Enrollment
from programs.services import campaign_create
from scheduling.models import Attendance, Session
from tests.analytics import FIELDS, _application


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _enroll(program, user, *, enrolled, status="active", campaign=None, role="mentee") -> Enrollment:
    return Enrollment.objects.create(
        user=user,
        program=program,
        campaign=campaign,
        beneficiary_group=program.beneficiary_group,
        program_type=program.program_type,
        role=role,
        status=status,
        enrolled_at=enrolled,
        completed_at=enrolled + timedelta(days=30) if status == "completed" else None,
        dropped_at=enrolled + timedelta(days=5) if status == "dropped" else None,
    )


def _session(program, when: datetime, status: str = "delivered") -> Session:
    return Session.objects.create(
        program=program,
        kind="cohort_session",
        title=f"Session {when:%m-%d}",
        starts_at=when,
        ends_at=when + timedelta(hours=1),
        timezone="UTC",
        status=status,
    )


def partner_dataset(*, program, make_program, mentorship_template, company, make_user) -> SimpleNamespace:
    """Companies Acme (`company`) and Globex; programs P "Mentorship 2026" and Q "Buddy circle".

    Campaigns (target / max):
      Acme   C1 "Acme spring"      in P, 4 / 6
      Acme   C2 "Acme autumn"      in P, 0 / 3 (no target)
      Acme   C3 "Acme buddies"     in Q, 2 / 2
      Globex G1 "Globex mentoring" in P, 3 / 5
    Acme's report orders them Q before P (program name), then by campaign name: C3, C2, C1.

    Enrollments (enrolled on, status):
      C1: e1 u1 03-10 active, e2 u2 03-12 completed, e3 u3 04-05 dropped
      C2: e4 u4 04-10 active, e10 u1 (as mentor) 04-12 active
      C3: e5 u5 03-15 completed, e6 u6 03-20 active
      G1: e7 u7 03-10 active, e8 u8 03-11 dropped
      P without a campaign: e9 u9 03-10 active
    Sessions (all delivered but s4) and attendance:
      s1 P 03-16: u1 present, u2 late, u9 absent, u7 absent
      s2 P 04-14: u1 absent, u4 present
      s3 Q 03-25: u5 present, u6 absent
      s4 P 03-18 scheduled: u1 present (never counted)
    Applications of P: one accepted (a program's, never a campaign's).
    """
    other = make_program(mentorship_template, name="Buddy circle")
    globex = company_create(key="globex", name="Globex")
    c1 = campaign_create(program=program, company=company, name="Acme spring", target_enrollment=4, max_enrollment=6)
    c2 = campaign_create(program=program, company=company, name="Acme autumn", target_enrollment=0, max_enrollment=3)
    c3 = campaign_create(program=other, company=company, name="Acme buddies", target_enrollment=2, max_enrollment=2)
    g1 = campaign_create(
        program=program, company=globex, name="Globex mentoring", target_enrollment=3, max_enrollment=5
    )
    u = {i: make_user(email=f"partner{i}@example.org") for i in range(1, 10)}
    _enroll(program, u[1], enrolled=at(3, 10), campaign=c1)
    _enroll(program, u[2], enrolled=at(3, 12), status="completed", campaign=c1)
    _enroll(program, u[3], enrolled=at(4, 5), status="dropped", campaign=c1)
    _enroll(program, u[4], enrolled=at(4, 10), campaign=c2)
    _enroll(program, u[1], enrolled=at(4, 12), campaign=c2, role="mentor")
    _enroll(other, u[5], enrolled=at(3, 15), status="completed", campaign=c3)
    _enroll(other, u[6], enrolled=at(3, 20), campaign=c3)
    _enroll(program, u[7], enrolled=at(3, 10), campaign=g1)
    _enroll(program, u[8], enrolled=at(3, 11), status="dropped", campaign=g1)
    _enroll(program, u[9], enrolled=at(3, 10))
    s1 = _session(program, at(3, 16))
    s2 = _session(program, at(4, 14))
    s3 = _session(other, at(3, 25))
    s4 = _session(program, at(3, 18), status="scheduled")
    rows = [
        (s1, 1, "present"),
        (s1, 2, "late"),
        (s1, 9, "absent"),
        (s1, 7, "absent"),
        (s2, 1, "absent"),
        (s2, 4, "present"),
        (s3, 5, "present"),
        (s3, 6, "absent"),
        (s4, 1, "present"),
    ]
    Attendance.objects.bulk_create([Attendance(session=s, user=u[i], status=st) for s, i, st in rows])
    form = application_form_publish(program=program, fields=FIELDS)
    _application(
        program,
        form,
        make_user(email="partner-applicant@example.org"),
        created=at(3, 1),
        status=ApplicationStatus.ACCEPTED,
        submitted=at(3, 1),
        decided=at(3, 3),
    )
    return SimpleNamespace(
        program=program, other=other, acme=company, globex=globex, c1=c1, c2=c2, c3=c3, g1=g1, users=u, s1=s1
    )


@pytest.fixture
def data(program, make_program, mentorship_template, company, make_user):
    return partner_dataset(
        program=program,
        make_program=make_program,
        mentorship_template=mentorship_template,
        company=company,
        make_user=make_user,
    )


NO_APPLICATIONS = {"applied": None, "submitted": None, "reviewed": None, "accepted": None, "acceptance_rate": None}


def row(campaign, program, **values):
    return {
        "campaign_id": str(campaign.pk),
        "campaign_name": campaign.name,
        "program_id": str(program.pk),
        "program_name": program.name,
        **NO_APPLICATIONS,
        **values,
    }


def test_whole_history(data):
    report = company_report(company=data.acme)
    assert (report["company_id"], report["company_name"]) == (str(data.acme.pk), "Acme Corporation")
    assert report["campaigns"] == [
        # C3: e5 completed, e6 active -> 1/2 completed, 0/2 dropped; s3: u5 present, u6 absent -> 1/2;
        # places 2 (both hold one) / target 2 = 1.0.
        row(
            data.c3,
            data.other,
            enrolled=2,
            active=1,
            completed=1,
            dropped=0,
            completion_rate=0.5,
            drop_rate=0.0,
            attendance_rate=0.5,
            target_enrollment=2,
            max_enrollment=2,
            places_taken=2,
            target_progress=1.0,
        ),
        # C2: e4, e10 active -> 0/2, 0/2; rows of u4 and u1 (enrolled in P through C2):
        # s1 u1 present, s2 u1 absent, s2 u4 present -> 2/3 = 0.6667; places 2, no target -> None.
        row(
            data.c2,
            data.program,
            enrolled=2,
            active=2,
            completed=0,
            dropped=0,
            completion_rate=0.0,
            drop_rate=0.0,
            attendance_rate=0.6667,
            target_enrollment=0,
            max_enrollment=3,
            places_taken=2,
            target_progress=None,
        ),
        # C1: e1 active, e2 completed, e3 dropped -> 1/3 = 0.3333 each; rows of u1, u2, u3:
        # s1 u1 present, s1 u2 late, s2 u1 absent -> 2/3; places e1 + e2 = 2 / 4 = 0.5.
        row(
            data.c1,
            data.program,
            enrolled=3,
            active=1,
            completed=1,
            dropped=1,
            completion_rate=0.3333,
            drop_rate=0.3333,
            attendance_rate=0.6667,
            target_enrollment=4,
            max_enrollment=6,
            places_taken=2,
            target_progress=0.5,
        ),
    ]
    # Pooled: enrolled 2 + 2 + 3 = 7, active 1 + 2 + 1 = 4, completed 2, dropped 1 -> 2/7, 1/7.
    # Attendance over the union of rows (u1's counted once, though C1 and C2 both include them):
    # s1 u1 present, u2 late; s2 u1 absent, u4 present; s3 u5 present, u6 absent -> 4/6 = 0.6667
    # (summing the rows' counts would give 5/8 = 0.625). Places 6 / targets 6 = 1.0; max 11.
    assert report["totals"] == {
        **NO_APPLICATIONS,
        "enrolled": 7,
        "active": 4,
        "completed": 2,
        "dropped": 1,
        "completion_rate": 0.2857,
        "drop_rate": 0.1429,
        "attendance_rate": 0.6667,
        "target_enrollment": 6,
        "max_enrollment": 11,
        "places_taken": 6,
        "target_progress": 1.0,
    }


def test_date_range(data):
    report = company_report(company=data.acme, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    got = {
        r["campaign_name"]: (r["enrolled"], r["active"], r["completed"], r["dropped"], r["completion_rate"])
        + (r["drop_rate"], r["attendance_rate"], r["places_taken"], r["target_progress"])
        for r in report["campaigns"]
    }
    assert got == {
        # e5, e6 in March; s3 (03-25): 1/2. Places and progress ignore dates.
        "Acme buddies": (2, 1, 1, 0, 0.5, 0.0, 0.5, 2, 1.0),
        # e4 and e10 enrolled in April: nothing to divide; March sessions: s1 u1 present -> 1/1.
        "Acme autumn": (0, 0, 0, 0, None, None, 1.0, 2, None),
        # e1, e2 in March (e3 in April) -> 1/2 completed, 0/2 dropped; s1 u1 present, u2 late -> 2/2.
        "Acme spring": (2, 1, 1, 0, 0.5, 0.0, 1.0, 2, 0.5),
    }
    totals = report["totals"]
    # enrolled 4, completed 2, dropped 0; attendance s1 u1, u2 attended, s3 u5 present, u6 absent -> 3/4.
    assert (totals["enrolled"], totals["completed"], totals["completion_rate"], totals["drop_rate"]) == (
        4,
        2,
        0.5,
        0.0,
    )
    assert (totals["attendance_rate"], totals["places_taken"], totals["target_progress"]) == (0.75, 6, 1.0)
    assert (report["date_from"], report["date_to"]) == (date(2026, 3, 1), date(2026, 3, 31))


def test_one_campaign_and_the_other_company(data):
    report = company_report(company=data.acme, campaign_id=data.c1.pk)
    assert [r["campaign_name"] for r in report["campaigns"]] == ["Acme spring"]
    # The totals of one campaign are its row; attendance over its rows alone: 2/3.
    assert (report["totals"]["enrolled"], report["totals"]["attendance_rate"]) == (3, 0.6667)
    globex = company_report(company=data.globex)
    # G1: e7 active, e8 dropped -> 0/2, 1/2; s1 u7 absent -> 0/1; places 1 / 3 = 0.3333.
    assert [r["campaign_name"] for r in globex["campaigns"]] == ["Globex mentoring"]
    g1 = globex["campaigns"][0]
    assert (g1["enrolled"], g1["dropped"], g1["drop_rate"], g1["attendance_rate"], g1["target_progress"]) == (
        2,
        1,
        0.5,
        0.0,
        0.3333,
    )
    # A campaign of another company is not part of the report.
    assert company_report(company=data.acme, campaign_id=data.g1.pk)["campaigns"] == []


def test_company_without_campaigns(db, django_assert_num_queries):
    from accounts.services import company_create as create

    empty = create(key="empty", name="Empty")
    with django_assert_num_queries(1):
        report = company_report(company=empty)
    assert report["campaigns"] == []
    assert report["totals"] == {
        **NO_APPLICATIONS,
        "enrolled": 0,
        "active": 0,
        "completed": 0,
        "dropped": 0,
        "completion_rate": None,
        "drop_rate": None,
        "attendance_rate": None,
        "target_enrollment": 0,
        "max_enrollment": 0,
        "places_taken": 0,
        "target_progress": None,
    }


def test_report_lines_end_with_the_totals(data):
    lines = report_lines(company_report(company=data.acme))
    assert [line["campaign_name"] for line in lines] == ["Acme buddies", "Acme autumn", "Acme spring", "Total"]
    assert (lines[-1]["campaign_id"], lines[-1]["program_id"], lines[-1]["program_name"]) == ("", "", "")
    assert all(set(line) == set(COLUMNS) for line in lines)


def test_query_count_grows_with_campaigns_only(data, make_user, django_assert_num_queries):
    # The cost of one campaign row: one program_analytics run (every installed family).
    with CaptureQueriesContext(connection) as one_run:
        program_analytics(Scope(program_ids=(data.program.pk,), campaign_id=data.c1.pk))
    per_campaign = len(one_run)
    assert per_campaign > 0
    # 1 (campaigns) + 3 runs + 1 (totals' attendance).
    with django_assert_num_queries(1 + 3 * per_campaign + 1):
        company_report(company=data.acme)
    # More rows (enrollments, sessions, attendance) in the same campaigns: the same count.
    for i in range(4):
        user = make_user(email=f"partner-more{i}@example.org")
        _enroll(data.program, user, enrolled=at(3, 20), campaign=data.c1)
        session = _session(data.program, at(3, 21 + i))
        Attendance.objects.create(session=session, user=user, status="present")
    with django_assert_num_queries(1 + 3 * per_campaign + 1):
        report = company_report(company=data.acme)
    assert report["campaigns"][2]["enrolled"] == 3 + 4
    # One more campaign: one more run.
    campaign_create(program=data.other, company=data.acme, name="Acme extra", target_enrollment=1, max_enrollment=1)
    with django_assert_num_queries(1 + 4 * per_campaign + 1):
        report = company_report(company=data.acme)
    assert len(report["campaigns"]) == 4

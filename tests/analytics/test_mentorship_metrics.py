"""Mentorship metrics on a hand-built dataset; expected values computed by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from analytics.metrics import mentorship
from analytics.scope import Scope
from core import clock
from enrollments.models import Enrollment
from mentorship.models import CheckIn, Feedback, Match, Profile

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def _d(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.fixture
def dataset(program, make_program, builtin_templates, make_user, campaign, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    other = make_program(builtin_templates["buddy-standard"], name="Buddy noise")
    m1, m2, e1, e2, e3, e4, x1, x2 = (make_user() for _ in range(8))
    for user in (e1, e2, e3, e4):
        Profile.objects.create(user=user, program=program, kind="mentee")
    Profile.objects.create(user=x2, program=other, kind="mentee")  # another program
    for user in (m1, m2):
        Profile.objects.create(user=user, program=program, kind="mentor")

    def match(mentor, mentee, status, started=None, ended=None, on=program):
        return Match.objects.create(
            program=on,
            mentor=mentor,
            mentee=mentee,
            status=status,
            started_at=started,
            ended_at=ended,
            end_reason="completed" if ended else "",
        )

    a = match(m1, e1, "active", _d(3, 4))  # active 28 days to NOW = 4 weeks
    b = match(m2, e2, "active", _d(3, 18))  # active 14 days = 2 weeks
    c = match(m1, e3, "ended", _d(1, 1), _d(1, 31))  # 30 days
    match(m2, e3, "ended", _d(2, 1), _d(2, 11))  # 10 days
    match(m1, e4, "proposed")  # never started
    f = match(x1, x2, "active", _d(3, 1), on=other)  # another program

    for m, at in ((a, _d(3, 10)), (a, _d(3, 17)), (a, _d(3, 24)), (b, _d(3, 25)), (c, _d(1, 10)), (c, _d(1, 20))):
        CheckIn.objects.create(match=m, by=m.mentor, mood=4, at=at)
    CheckIn.objects.create(match=f, by=x1, mood=4, at=_d(3, 5))
    for m, author, rating, at in (
        (c, e3, 4, _d(2, 1)),
        (c, m1, 5, _d(2, 1)),
        (a, e1, 3, _d(3, 20)),
        (f, x2, 1, _d(3, 20)),
    ):
        Feedback.objects.create(match=m, author=author, rating=rating, at=at)
    # e1 is enrolled through the campaign
    Enrollment.objects.create(
        user=e1,
        program=program,
        campaign=campaign,
        beneficiary_group=program.beneficiary_group,
        program_type=program.program_type,
        role="mentee",
        enrolled_at=_d(1, 5),
    )
    return {"program": program, "campaign": campaign}


def test_whole_program(dataset, django_assert_num_queries):
    with django_assert_num_queries(4):
        got = mentorship.compute(Scope(program_ids=(dataset["program"].pk,)))
    assert got == {
        "matches_active": 2,  # a, b
        "matches_ended": 2,  # c, d
        "avg_match_duration_days": 20.0,  # (30 + 10) / 2
        "checkins_on_active_matches": 4,  # a 3 + b 1 (c's 2 are on an ended match)
        "checkins_per_active_match_week": 0.6667,  # 4 / (4 + 2 weeks) = 0.6666...
        "feedback_count": 3,
        "avg_feedback_rating": 4.0,  # (4 + 5 + 3) / 3
        "mentee_profiles": 4,  # e1..e4
        "mentees_matched": 3,  # e1 (a), e2 (b), e3 (c, d); e4 only proposed
        "mentees_matched_share": 0.75,  # 3 / 4
    }


def test_date_range(dataset):
    got = mentorship.compute(
        Scope(program_ids=(dataset["program"].pk,), date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    )
    # window March 1 .. April 1 (= NOW): a 4 weeks, b 2 weeks; nothing ended in March
    assert got["matches_active"] == 2
    assert got["matches_ended"] == 0
    assert got["avg_match_duration_days"] is None
    assert got["checkins_per_active_match_week"] == 0.6667  # 4 / 6
    assert got["avg_feedback_rating"] == 3.0  # only a's feedback (March 20)
    # a window that starts mid-match: March 18 .. March 31 -> a 2 weeks, b 2 weeks; check-ins a 03-24, b 03-25
    late = mentorship.compute(
        Scope(program_ids=(dataset["program"].pk,), date_from=date(2026, 3, 18), date_to=date(2026, 3, 31))
    )
    assert late["checkins_on_active_matches"] == 2
    assert late["checkins_per_active_match_week"] == 0.5  # 2 / (2 + 2)


def test_campaign(dataset):
    got = mentorship.compute(Scope(program_ids=(dataset["program"].pk,), campaign_id=dataset["campaign"].pk))
    # only pairs whose mentee (e1) is enrolled through the campaign: a
    assert got["matches_active"] == 1
    assert got["checkins_per_active_match_week"] == 0.75  # 3 check-ins / 4 weeks
    assert got["avg_feedback_rating"] == 3.0
    assert (got["mentee_profiles"], got["mentees_matched"]) == (1, 1)


def test_a_match_younger_than_a_week_counts_one_week(dataset):
    # Window March 29 .. March 31 (until = April 1): a and b active 3 days each in it, each counted as
    # one week; no check-in in the window -> 0 / 2 weeks. Then one check-in on March 30 -> 1 / 2.
    scope = Scope(program_ids=(dataset["program"].pk,), date_from=date(2026, 3, 29), date_to=date(2026, 3, 31))
    assert mentorship.compute(scope)["checkins_per_active_match_week"] == 0.0
    match = Match.objects.get(program=dataset["program"], started_at=_d(3, 4))
    CheckIn.objects.create(match=match, by=match.mentor, mood=5, at=_d(3, 30))
    assert mentorship.compute(scope)["checkins_per_active_match_week"] == 0.5

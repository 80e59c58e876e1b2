"""Journey flags mentorship contributes (exact values, on a frozen clock) and the weekly
`mentorship_checkins` job: it turns `checkin_due` on after the program's interval without a
check-in and nudges each person once a week, within the nudge group's rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config import schedule as config_schedule
from core import clock
from core.jobs import job_registry, run_job
from core.models import JobRun
from enrollments.models import JourneyFlags
from enrollments.services import journey_flags_refresh
from mentorship.services import (
    activity_record,
    checkin_log,
    feedback_give,
    match_create_manual,
    match_end,
    matches_approve,
    matches_propose,
    milestone_reach,
)
from notifications.models import Notification, RateLimitPolicy

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, when the weekly job runs
JOB = "mentorship_checkins"
MENTORSHIP_KEYS = (
    "match_count",
    "match_active",
    "events_attended",
    "checkins_completed",
    "milestones_reached",
    "checkin_due",
    "feedback_pending",
    "last_checkin_at",
)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    state = {"now": START}
    monkeypatch.setattr(clock, "now", lambda: state["now"])
    return lambda value: state.__setitem__("now", value)


def _flags(user_id, *, refresh: bool = False) -> dict:
    if refresh:
        journey_flags_refresh(user_id=user_id)
    flags = JourneyFlags.objects.get(user_id=user_id).flags
    return {key: flags[key] for key in MENTORSHIP_KEYS}


def _pair(program, mentor, mentee, operator):
    return match_create_manual(
        program=program, mentor=mentor.user, mentee=mentee.user, reason="Test pair.", actor=operator
    )


# --- Flags --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_flags_follow_a_match_from_start_to_feedback(program, mentor_profile, mentee_profile, operator, frozen):
    mira, ada = mentor_profile("mira@example.org"), mentee_profile("ada@example.org")
    match = _pair(program, mira, ada, operator)
    assert _flags(ada.user_id) == {
        "match_count": 1,
        "match_active": True,
        "events_attended": 0,
        "checkins_completed": 0,
        "milestones_reached": 0,
        "checkin_due": False,
        "feedback_pending": False,
        "last_checkin_at": None,
    }

    # checkin_due: 7 days (the default interval) after the start without a check-in.
    frozen(START + timedelta(days=7) - timedelta(seconds=1))
    assert _flags(ada.user_id, refresh=True)["checkin_due"] is False
    frozen(START + timedelta(days=7))
    assert _flags(ada.user_id, refresh=True)["checkin_due"] is True
    assert _flags(mira.user_id, refresh=True)["checkin_due"] is True

    # A check-in by either of them resets the clock for both.
    checked_at = START + timedelta(days=8)
    frozen(checked_at)
    checkin_log(match=match, by=mira.user, mood=4)
    activity_record(program=program, user=ada.user, kind="event", occurred_at=checked_at, title="Meetup")
    milestone_reach(user=ada.user, program=program, key="cv-ready")
    assert _flags(ada.user_id) == {
        "match_count": 1,
        "match_active": True,
        "events_attended": 1,
        "checkins_completed": 0,
        "milestones_reached": 1,
        "checkin_due": False,
        "feedback_pending": False,
        "last_checkin_at": "2026-03-10T09:00:00+00:00",
    }
    assert _flags(mira.user_id)["checkins_completed"] == 1
    frozen(checked_at + timedelta(days=7))
    assert _flags(ada.user_id, refresh=True)["checkin_due"] is True

    # The end: no match active, nothing due, feedback pending until given.
    match_end(match=match, end_reason="completed", actor=operator)
    assert _flags(ada.user_id) == {
        "match_count": 1,
        "match_active": False,
        "events_attended": 1,
        "checkins_completed": 0,
        "milestones_reached": 1,
        "checkin_due": False,
        "feedback_pending": True,
        "last_checkin_at": "2026-03-10T09:00:00+00:00",
    }
    match.refresh_from_db()
    feedback_give(match=match, author=ada.user, rating=5)
    assert _flags(ada.user_id)["feedback_pending"] is False
    assert _flags(mira.user_id)["feedback_pending"] is True


@pytest.mark.django_db
def test_match_count_counts_started_matches_in_every_program(
    program, buddy_program, mentor_profile, mentee_profile, operator
):
    ada = mentee_profile("ada@example.org")
    mentor_profile("mira@example.org")
    [proposal] = matches_propose(program=program, actor=operator).matches.all()
    journey_flags_refresh(user_id=ada.user_id)
    # A proposal is no part in mentorship yet: no mentorship flags at all.
    assert "match_count" not in JourneyFlags.objects.get(user_id=ada.user_id).flags
    [first] = matches_approve(program=program, proposal_ids=[proposal.pk], actor=operator)
    assert _flags(ada.user_id)["match_count"] == 1
    match_end(match=first, end_reason="rematched", actor=operator)
    _pair(program, mentor_profile("otto@example.org"), ada, operator)
    mentee_profile_in_buddy = mentee_profile("ada@example.org", in_program=buddy_program)
    buddy = mentor_profile("buddy@example.org", in_program=buddy_program)
    _pair(buddy_program, buddy, mentee_profile_in_buddy, operator)
    assert (_flags(ada.user_id)["match_count"], _flags(ada.user_id)["match_active"]) == (3, True)


@pytest.mark.django_db
def test_the_check_in_interval_comes_from_the_program(
    make_program, buddy_template, mentor_profile, mentee_profile, operator, frozen
):
    fortnightly = make_program(
        buddy_template, name="Fortnightly buddies", config_overrides={"checkins": {"interval_days": 14}}
    )
    buddy = mentor_profile("buddy@example.org", in_program=fortnightly)
    newcomer = mentee_profile("newcomer@example.org", in_program=fortnightly)
    _pair(fortnightly, buddy, newcomer, operator)
    frozen(START + timedelta(days=13))
    assert _flags(newcomer.user_id, refresh=True)["checkin_due"] is False
    frozen(START + timedelta(days=14))
    assert _flags(newcomer.user_id, refresh=True)["checkin_due"] is True


# --- The weekly job -----------------------------------------------------------------------------


@pytest.fixture
def nudge_limits(transactional_db):
    """The policies migration 0002 seeds (a transactional test flushed them): one e-mail and one
    dashboard nudge per user per 24 hours."""
    for channel in ("email", "dashboard"):
        RateLimitPolicy.objects.get_or_create(group="nudge", channel=channel, defaults={"max_count": 1})


def _run(frozen, at: datetime) -> JobRun:
    frozen(at)
    run = run_job(JOB)
    assert (run.status, run.error) == ("succeeded", "")
    return run


def _nudges(**filters) -> list[tuple[str, str, str, str]]:
    rows = Notification.objects.filter(kind="mentorship_checkin_due", **filters).select_related("user")
    return sorted((n.user.email, n.channel, n.status, n.suppressed_reason) for n in rows)


def test_the_job_is_registered_and_scheduled_weekly():
    assert JOB in job_registry()
    assert config_schedule.SCHEDULE[JOB] == {"crontab": "0 9 * * 1"}


@pytest.mark.django_db(transaction=True)
def test_the_weekly_job_flags_due_pairs_and_nudges_each_person_once_a_week(
    program, mentor_profile, mentee_profile, operator, frozen, nudge_limits
):
    mira = mentor_profile("mira@example.org", capacity=2)
    ada, ben = mentee_profile("ada@example.org"), mentee_profile("ben@example.org")
    otto, cat = mentor_profile("otto@example.org"), mentee_profile("cat@example.org")
    with_ada = _pair(program, mira, ada, operator)
    _pair(program, mira, ben, operator)
    with_cat = _pair(program, otto, cat, operator)
    frozen(START + timedelta(days=5))
    checkin_log(match=with_cat, by=cat.user, mood=5)

    run = _run(frozen, START + timedelta(days=7))
    # Mira's two pairs are due; Otto and Cat checked in two days ago.
    assert run.counts == {"flags_refreshed": 5, "pairs_due": 2, "nudges": 3}
    assert {p.user.email: _flags(p.user_id)["checkin_due"] for p in (mira, ada, ben, otto, cat)} == {
        "mira@example.org": True,
        "ada@example.org": True,
        "ben@example.org": True,
        "otto@example.org": False,
        "cat@example.org": False,
    }
    # One nudge per person: Mira's second (for her other pair) is held back by the nudge limit.
    assert _nudges(status="queued") == [
        ("ada@example.org", "dashboard", "queued", ""),
        ("ada@example.org", "email", "queued", ""),
        ("ben@example.org", "dashboard", "queued", ""),
        ("ben@example.org", "email", "queued", ""),
        ("mira@example.org", "dashboard", "queued", ""),
        ("mira@example.org", "email", "queued", ""),
    ]
    assert _nudges(status="suppressed") == [
        ("mira@example.org", "dashboard", "suppressed", "rate_limited"),
        ("mira@example.org", "email", "suppressed", "rate_limited"),
    ]
    ada_email = Notification.objects.get(kind="mentorship_checkin_due", user=ada.user, channel="email")
    assert ada_email.context["days"] == 7
    assert ada_email.context["other"] == "mira@example.org"

    # A second run in the same week sends nothing more.
    total = Notification.objects.count()
    again = _run(frozen, START + timedelta(days=7, hours=3))
    assert again.counts == {"flags_refreshed": 5, "pairs_due": 2, "already_nudged": 4}
    assert Notification.objects.count() == total

    # Rows are stamped by the database's clock, not the product's frozen one: date them to when
    # they were written in the test's time, so next week's rate-limit window sees them as past.
    Notification.objects.update(created_at=START + timedelta(days=7))

    # A check-in ends one pair's nudges; next week the other pair is nudged again.
    frozen(START + timedelta(days=8))
    checkin_log(match=with_ada, by=ada.user, mood=3)
    week_two = _run(frozen, START + timedelta(days=14))
    # Otto and Cat are due now (9 days since their check-in); Ada and Mira checked in 6 days ago.
    assert week_two.counts == {"flags_refreshed": 5, "pairs_due": 2, "nudges": 4}
    assert _nudges(dedupe_key__contains=":2026-W12:") == [
        ("ben@example.org", "dashboard", "queued", ""),
        ("ben@example.org", "email", "queued", ""),
        ("cat@example.org", "dashboard", "queued", ""),
        ("cat@example.org", "email", "queued", ""),
        ("mira@example.org", "dashboard", "queued", ""),
        ("mira@example.org", "email", "queued", ""),
        ("otto@example.org", "dashboard", "queued", ""),
        ("otto@example.org", "email", "queued", ""),
    ]
    assert {p.user.email: _flags(p.user_id)["checkin_due"] for p in (mira, ada, ben, otto, cat)} == {
        "mira@example.org": True,
        "ada@example.org": False,
        "ben@example.org": True,
        "otto@example.org": True,
        "cat@example.org": True,
    }


@pytest.mark.django_db(transaction=True)
def test_the_job_with_nothing_due_sends_nothing(
    program, mentor_profile, mentee_profile, operator, frozen, nudge_limits
):
    _pair(program, mentor_profile("mira@example.org"), mentee_profile("ada@example.org"), operator)
    run = _run(frozen, START + timedelta(days=6))
    assert run.counts == {"flags_refreshed": 2}
    assert Notification.objects.filter(kind="mentorship_checkin_due").count() == 0

"""Progress of a match: check-ins (active matches only on the platform), feedback (one per
author, given again it updates), milestones (once per key) and activities (once per partner id)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import AuditEntry
from enrollments.models import JourneyFlags
from mentorship.models import Activity, CheckIn, Feedback, Milestone
from mentorship.services import (
    activity_record,
    checkin_log,
    feedback_give,
    match_create_manual,
    match_end,
    matches_propose,
    milestone_reach,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    state = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: state["now"])
    return lambda value: state.__setitem__("now", value)


@pytest.fixture
def match(program, mentor_profile, mentee_profile, operator):
    mira, ada = mentor_profile("mira@example.org"), mentee_profile("ada@example.org")
    return match_create_manual(program=program, mentor=mira.user, mentee=ada.user, reason="Test pair.", actor=operator)


def _flags(user_id) -> dict:
    return JourneyFlags.objects.get(user_id=user_id).flags


# --- Check-ins ----------------------------------------------------------------------------------


def test_a_check_in_is_logged_audited_and_counted(match):
    at = NOW - timedelta(hours=2)
    checkin = checkin_log(match=match, by=match.mentee, mood=4, notes="Good talk about CVs.", at=at)
    checkin.refresh_from_db()
    assert (checkin.match_id, checkin.by_id, checkin.mood, checkin.notes, checkin.at, checkin.source) == (
        match.pk,
        match.mentee_id,
        4,
        "Good talk about CVs.",
        at,
        "platform",
    )
    entry = AuditEntry.objects.get(action="match.checkin_logged")
    assert (entry.actor_id, entry.target_id, entry.changes) == (match.mentee_id, str(match.pk), {"mood": 4})
    assert (_flags(match.mentee_id)["checkins_completed"], _flags(match.mentor_id)["checkins_completed"]) == (1, 0)
    # Both people's latest check-in moves.
    assert _flags(match.mentor_id)["last_checkin_at"] == at.isoformat()


def test_a_check_in_without_a_time_is_now(match):
    checkin = checkin_log(match=match, by=match.mentor, mood=3)
    assert (checkin.at, checkin.notes) == (NOW, "")


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"mood": 0}, {"mood": "A whole number from 1 to 5."}),
        ({"mood": 6}, {"mood": "A whole number from 1 to 5."}),
        ({"mood": True}, {"mood": "A whole number from 1 to 5."}),
        ({"mood": "4"}, {"mood": "A whole number from 1 to 5."}),
        ({"mood": 3, "notes": "x" * 5001}, {"notes": "A text of at most 5,000 characters."}),
        ({"mood": 3, "notes": "a\x00b"}, {"notes": "A text of at most 5,000 characters."}),
        ({"mood": 3, "at": NOW + timedelta(seconds=1)}, {"at": "It cannot be in the future."}),
        ({"mood": 3, "at": datetime(2026, 3, 1, 12, 0)}, {"at": "Give the time with its UTC offset."}),
        (
            {"mood": 9, "notes": 5},
            {"mood": "A whole number from 1 to 5.", "notes": "A text of at most 5,000 characters."},
        ),
    ],
)
def test_check_in_field_errors(match, fields, errors):
    with pytest.raises(ValidationFailed) as excinfo:
        checkin_log(match=match, by=match.mentee, **fields)
    assert excinfo.value.errors == errors
    assert CheckIn.objects.count() == 0


def test_check_ins_on_the_platform_need_an_active_match(program, match, mentor_profile, mentee_profile, operator):
    mentor_profile("otto@example.org")
    mentee_profile("ben@example.org")
    [proposal] = matches_propose(program=program, actor=operator).matches.select_related("mentor", "mentee")
    with pytest.raises(Conflict) as excinfo:
        checkin_log(match=proposal, by=proposal.mentee, mood=3)
    assert str(excinfo.value) == "Check-ins are logged on active matches; this one is proposed."
    match_end(match=match, end_reason="completed", actor=operator)
    match.refresh_from_db()
    with pytest.raises(Conflict) as excinfo:
        checkin_log(match=match, by=match.mentee, mood=3)
    assert str(excinfo.value) == "Check-ins are logged on active matches; this one is ended."
    # A partner's history may bring check-ins of matches that have ended since.
    imported = checkin_log(
        match=match, by=match.mentee, mood=5, at=NOW - timedelta(days=3), source="buddy", external_id="c-1"
    )
    assert (imported.source, imported.external_id) == ("buddy", "c-1")


def test_only_the_pair_logs_check_ins(match, make_user):
    with pytest.raises(NotFound) as excinfo:
        checkin_log(match=match, by=make_user(), mood=3)
    assert str(excinfo.value) == "No such match of yours."


# --- Feedback -----------------------------------------------------------------------------------


def test_feedback_is_one_per_author_and_giving_it_again_updates(match, frozen):
    first, created = feedback_give(match=match, author=match.mentee, rating=4, comment="Helpful.")
    assert created is True
    frozen(NOW + timedelta(days=1))
    again, created = feedback_give(match=match, author=match.mentee, rating=2, comment="Went quiet.")
    assert (created, again.pk) == (False, first.pk)
    again.refresh_from_db()
    assert (again.rating, again.comment, again.at) == (2, "Went quiet.", NOW + timedelta(days=1))
    mentor_row, created = feedback_give(match=match, author=match.mentor, rating=5)
    assert created is True
    assert sorted(Feedback.objects.values_list("author_id", "rating")) == sorted(
        [(match.mentee_id, 2), (match.mentor_id, 5)]
    )
    assert list(
        AuditEntry.objects.filter(action="match.feedback_given")
        .order_by("created_at")
        .values_list("changes", flat=True)
    ) == [{"rating": 4}, {"rating": 2}, {"rating": 5}]


def test_feedback_rules(program, match, make_user, mentor_profile, mentee_profile, operator):
    with pytest.raises(ValidationFailed) as excinfo:
        feedback_give(match=match, author=match.mentee, rating=0, comment=None)
    assert excinfo.value.errors == {
        "rating": "A whole number from 1 to 5.",
        "comment": "A text of at most 5,000 characters.",
    }
    with pytest.raises(NotFound):
        feedback_give(match=match, author=make_user(), rating=3)
    mentor_profile("otto@example.org")
    mentee_profile("ben@example.org")
    [proposal] = matches_propose(program=program, actor=operator).matches.select_related("mentee")
    with pytest.raises(Conflict) as excinfo:
        feedback_give(match=proposal, author=proposal.mentee, rating=3)
    assert str(excinfo.value) == "Feedback is given on active or ended matches; this one is proposed."
    # After the end, feedback is welcome (and clears feedback_pending).
    match_end(match=match, end_reason="completed", actor=operator)
    match.refresh_from_db()
    assert _flags(match.mentee_id)["feedback_pending"] is True
    feedback_give(match=match, author=match.mentee, rating=5)
    assert (_flags(match.mentee_id)["feedback_pending"], _flags(match.mentor_id)["feedback_pending"]) == (False, True)
    assert Feedback.objects.count() == 1


# --- Milestones ---------------------------------------------------------------------------------


def test_a_milestone_is_reached_once_per_key(program, match, operator, frozen):
    first_at = NOW - timedelta(days=1)
    milestone, created = milestone_reach(
        user=match.mentee, program=program, key="first-interview", title="First interview", at=first_at, actor=operator
    )
    assert created is True
    assert (milestone.key, milestone.title, milestone.reached_at, milestone.source) == (
        "first-interview",
        "First interview",
        first_at,
        "platform",
    )
    again, created = milestone_reach(user=match.mentee, program=program, key="first-interview", title="Again")
    assert (created, again.pk, again.title, again.reached_at) == (False, milestone.pk, "First interview", first_at)
    milestone_reach(user=match.mentee, program=program, key="job-offer")
    assert Milestone.objects.filter(user=match.mentee).count() == 2
    assert AuditEntry.objects.filter(action="milestone.reached").count() == 2
    assert _flags(match.mentee_id)["milestones_reached"] == 2


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"key": "First interview!"}, {"key": "A short key of letters, digits, '-' and '_' (at most 80)."}),
        ({"key": ""}, {"key": "A short key of letters, digits, '-' and '_' (at most 80)."}),
        ({"key": "k" * 81}, {"key": "A short key of letters, digits, '-' and '_' (at most 80)."}),
        ({"key": "cv", "title": "t" * 201}, {"title": "A text of at most 200 characters."}),
        ({"key": "cv", "at": NOW + timedelta(minutes=1)}, {"reached_at": "It cannot be in the future."}),
    ],
)
def test_milestone_field_errors(program, match, fields, errors):
    with pytest.raises(ValidationFailed) as excinfo:
        milestone_reach(user=match.mentee, program=program, **fields)
    assert excinfo.value.errors == errors
    assert Milestone.objects.count() == 0


# --- Activities ---------------------------------------------------------------------------------


def test_activities_are_recorded_once_per_partner_id_and_events_counted(program, match):
    at = NOW - timedelta(days=2)
    event, created = activity_record(
        program=program,
        user=match.mentee,
        kind="event",
        occurred_at=at,
        title="Picnic",
        source="buddy",
        external_id="e1",
    )
    assert created is True
    again, created = activity_record(
        program=program,
        user=match.mentee,
        kind="event",
        occurred_at=at,
        title="Picnic",
        source="buddy",
        external_id="e1",
    )
    assert (created, again.pk) == (False, event.pk)
    # The same partner event for another person is their own row.
    activity_record(program=program, user=match.mentor, kind="event", occurred_at=at, source="buddy", external_id="e1")
    activity_record(
        program=program, user=match.mentee, kind="session", occurred_at=at, duration_minutes=45, match=match
    )
    assert Activity.objects.count() == 3
    assert (_flags(match.mentee_id)["events_attended"], _flags(match.mentor_id)["events_attended"]) == (1, 1)
    with pytest.raises(ValidationFailed) as excinfo:
        activity_record(program=program, user=match.mentee, kind="party", occurred_at=at)
    assert excinfo.value.errors == {"kind": "Use one of: event, session."}

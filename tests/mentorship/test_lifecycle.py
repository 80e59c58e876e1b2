"""The match lifecycle and source 001's enrollment rules, case by case: what ending a match does
to each person's enrollment, reactivation by a new match, and the events a match emits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.errors import Conflict, ValidationFailed
from core.models import AuditEntry
from crm_sync.models import OutboxEvent
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from mentorship.models import Match
from mentorship.services import match_create_manual, match_end, matches_approve, matches_propose, settle_enrollment
from notifications.models import Notification

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """The product's clock, fixed at START; `frozen(at)` moves it."""
    state = {"now": START}
    monkeypatch.setattr(clock, "now", lambda: state["now"])

    def _set(value: datetime) -> None:
        state["now"] = value

    return _set


@pytest.fixture
def pair(program, mentor_profile, mentee_profile, operator):
    """Match people by hand (active at once) in `program` or another program."""

    def _pair(mentor, mentee, *, in_program=None, reason: str = "Paired for the test.") -> Match:
        return match_create_manual(
            program=in_program or program, mentor=mentor.user, mentee=mentee.user, reason=reason, actor=operator
        )

    return _pair


def _enrollment(profile, program) -> tuple[str, str]:
    enrollment = Enrollment.objects.get(user_id=profile.user_id, program=program)
    return enrollment.role, enrollment.status


def test_the_last_active_match_ending_completed_completes_both_enrollments(
    program, mentor_profile, mentee_profile, pair, operator, frozen
):
    mira, ada = mentor_profile("mira@example.org"), mentee_profile("ada@example.org")
    match = pair(mira, ada)
    assert (_enrollment(mira, program), _enrollment(ada, program)) == (("mentor", "active"), ("mentee", "active"))
    frozen(START + timedelta(days=90))
    match_end(match=match, end_reason="completed", actor=operator, note="Finished the plan.")
    match.refresh_from_db()
    assert (match.status, match.end_reason, match.ended_at, match.reason) == (
        "ended",
        "completed",
        START + timedelta(days=90),
        "Finished the plan.",
    )
    assert (_enrollment(mira, program), _enrollment(ada, program)) == (
        ("mentor", "completed"),
        ("mentee", "completed"),
    )
    enrollment = Enrollment.objects.get(user_id=ada.user_id, program=program)
    assert (enrollment.reason, enrollment.completed_at) == (
        "Their last match ended completed.",
        START + timedelta(days=90),
    )
    entry = AuditEntry.objects.get(action="match.ended", target_id=str(match.pk))
    assert (entry.reason, entry.changes["status"], entry.changes["end_reason"]) == (
        "Finished the plan.",
        ["active", "ended"],
        ["", "completed"],
    )
    assert sorted(Notification.objects.filter(kind="mentorship_match_ended").values_list("user__email", "channel")) == [
        ("ada@example.org", "dashboard"),
        ("ada@example.org", "email"),
        ("mira@example.org", "dashboard"),
        ("mira@example.org", "email"),
    ]


@pytest.mark.parametrize("reason", ["mentor_left", "mentee_left", "no_show", "rematched", "other"])
def test_all_matches_ended_and_the_last_not_completed_drops(
    program, mentor_profile, mentee_profile, pair, operator, frozen, reason
):
    mira, ada = mentor_profile("mira@example.org"), mentee_profile("ada@example.org")
    match = pair(mira, ada)
    frozen(START + timedelta(days=10))
    match_end(match=match, end_reason=reason, actor=operator)
    assert (_enrollment(mira, program), _enrollment(ada, program)) == (("mentor", "dropped"), ("mentee", "dropped"))
    enrollment = Enrollment.objects.get(user_id=ada.user_id, program=program)
    assert (enrollment.reason, enrollment.dropped_at) == (
        f"All their matches ended; the last as {reason}.",
        START + timedelta(days=10),
    )


def test_a_mentor_with_two_mentees_stays_active_until_both_end(
    program, mentor_profile, mentee_profile, pair, operator, frozen
):
    mira = mentor_profile("mira@example.org", capacity=2)
    ada, ben = mentee_profile("ada@example.org"), mentee_profile("ben@example.org")
    with_ada, with_ben = pair(mira, ada), pair(mira, ben)
    frozen(START + timedelta(days=30))
    match_end(match=with_ada, end_reason="completed", actor=operator)
    # Another match of Mira's is still active: her enrollment is unchanged; Ada's completes.
    assert (_enrollment(mira, program), _enrollment(ada, program), _enrollment(ben, program)) == (
        ("mentor", "active"),
        ("mentee", "completed"),
        ("mentee", "active"),
    )
    frozen(START + timedelta(days=40))
    match_end(match=with_ben, end_reason="mentee_left", actor=operator)
    # Now all of Mira's matches ended and the last (Ben's) did not complete.
    assert (_enrollment(mira, program), _enrollment(ben, program)) == (("mentor", "dropped"), ("mentee", "dropped"))


def test_the_last_match_is_the_one_that_ended_last_not_the_one_recorded_last(
    program, mentor_profile, mentee_profile, pair, operator, frozen
):
    mira = mentor_profile("mira@example.org", capacity=2)
    ada, ben = mentee_profile("ada@example.org"), mentee_profile("ben@example.org")
    with_ada, with_ben = pair(mira, ada), pair(mira, ben)
    frozen(START + timedelta(days=60))
    match_end(match=with_ada, end_reason="completed", actor=operator)
    # Ben's end is recorded afterwards but dated earlier: Ada's completion is Mira's last.
    match_end(match=with_ben, end_reason="mentee_left", actor=operator, ended_at=START + timedelta(days=20))
    assert (_enrollment(mira, program), _enrollment(ben, program)) == (("mentor", "completed"), ("mentee", "dropped"))


def test_a_dropped_enrollment_is_reactivated_by_a_new_match(
    program, mentor_profile, mentee_profile, pair, operator, frozen
):
    mira, otto = mentor_profile("mira@example.org"), mentor_profile("otto@example.org")
    ada = mentee_profile("ada@example.org")
    frozen(START)
    first = pair(mira, ada)
    frozen(START + timedelta(days=7))
    match_end(match=first, end_reason="mentor_left", actor=operator)
    assert _enrollment(ada, program) == ("mentee", "dropped")

    frozen(START + timedelta(days=8))
    [proposal] = matches_propose(program=program, actor=operator).matches.all()
    assert proposal.mentor_id == otto.user_id  # Mira left: that pair is never proposed again
    matches_approve(program=program, proposal_ids=[proposal.pk], actor=operator)
    enrollment = Enrollment.objects.get(user_id=ada.user_id, program=program)
    assert (enrollment.status, enrollment.reason, enrollment.dropped_at) == ("active", "A new match started.", None)
    assert Enrollment.objects.filter(user_id=ada.user_id, program=program).count() == 1


def test_a_completed_enrollment_stays_completed(program, mentor_profile, mentee_profile, pair, operator, frozen):
    mira, otto = mentor_profile("mira@example.org"), mentor_profile("otto@example.org")
    ada = mentee_profile("ada@example.org")
    first = pair(mira, ada)
    frozen(START + timedelta(days=90))
    match_end(match=first, end_reason="completed", actor=operator)
    second = pair(otto, ada, reason="A follow-up mentor.")
    assert _enrollment(ada, program) == ("mentee", "completed")
    assert _enrollment(otto, program) == ("mentor", "active")
    frozen(START + timedelta(days=100))
    match_end(match=second, end_reason="mentee_left", actor=operator)
    assert _enrollment(ada, program) == ("mentee", "completed")
    assert _enrollment(otto, program) == ("mentor", "dropped")


def test_an_existing_enrollment_is_used_not_duplicated(program, mentor_profile, mentee_profile, pair, operator):
    mira, ada = mentor_profile("mira@example.org"), mentee_profile("ada@example.org")
    enrolled = enrollment_create(user=ada.user, program=program, role="mentee", reason="Accepted application.")
    pair(mira, ada)
    assert list(Enrollment.objects.filter(user_id=ada.user_id).values_list("pk", "status")) == [(enrolled.pk, "active")]


def test_rematching_after_the_end_drops_then_reactivates(
    program, mentor_profile, mentee_profile, pair, operator, frozen
):
    mira, otto = mentor_profile("mira@example.org"), mentor_profile("otto@example.org")
    ada = mentee_profile("ada@example.org")
    first = pair(mira, ada)
    frozen(START + timedelta(days=14))
    match_end(match=first, end_reason="rematched", actor=operator, note="Ada needs a designer.")
    assert _enrollment(ada, program) == ("mentee", "dropped")
    second = pair(otto, ada, reason="Rematched with a designer.")
    assert _enrollment(ada, program) == ("mentee", "active")
    assert second.status == "active"
    # A rematched pair is not a bad end: it may be proposed again later.
    from mentorship.services.matching import blocked_pairs

    assert (str(ada.user_id), str(mira.user_id)) not in blocked_pairs(program)
    statuses = list(
        AuditEntry.objects.filter(target_id=str(Enrollment.objects.get(user_id=ada.user_id).pk))
        .order_by("created_at")
        .values_list("action", "changes")
    )
    assert [changes.get("status") for _, changes in statuses] == [None, ["active", "dropped"], ["dropped", "active"]]


def test_rematching_before_the_end_leaves_the_enrollment_active(
    program, mentor_profile, mentee_profile, pair, operator, frozen
):
    mira, otto = mentor_profile("mira@example.org"), mentor_profile("otto@example.org")
    ada = mentee_profile("ada@example.org")
    first = pair(mira, ada)
    pair(otto, ada, reason="Rematched with a designer; Mira's ends.")
    frozen(START + timedelta(days=14))
    match_end(match=first, end_reason="rematched", actor=operator)
    # Another match of Ada's is active: unchanged; Mira has no other match: dropped.
    assert (_enrollment(ada, program), _enrollment(mira, program)) == (("mentee", "active"), ("mentor", "dropped"))


def test_settle_enrollment_answers_what_it_did(program, mentor_profile, mentee_profile, pair, operator):
    mira, ada = mentor_profile("mira@example.org"), mentee_profile("ada@example.org")
    pair(mira, ada)
    # An active match: nothing to settle.
    assert settle_enrollment(user_id=ada.user_id, program=program, kind="mentee", actor=operator) is None
    # No match at all on this side: nothing either.
    assert settle_enrollment(user_id=ada.user_id, program=program, kind="mentor", actor=operator) is None


def test_buddy_programs_enroll_in_their_own_roles(buddy_program, mentor_profile, mentee_profile, pair, operator):
    buddy = mentor_profile("buddy@example.org", in_program=buddy_program)
    newcomer = mentee_profile("newcomer@example.org", in_program=buddy_program)
    match = pair(buddy, newcomer, in_program=buddy_program)
    assert (_enrollment(buddy, buddy_program), _enrollment(newcomer, buddy_program)) == (
        ("buddy", "active"),
        ("participant", "active"),
    )
    match_end(match=match, end_reason="completed", actor=operator)
    assert (_enrollment(buddy, buddy_program), _enrollment(newcomer, buddy_program)) == (
        ("buddy", "completed"),
        ("participant", "completed"),
    )


def test_ending_refuses_bad_input(program, mentor_profile, mentee_profile, pair, operator, frozen):
    mira, ada = mentor_profile("mira@example.org"), mentee_profile("ada@example.org")
    match = pair(mira, ada)
    with pytest.raises(ValidationFailed) as excinfo:
        match_end(match=match, end_reason="bored", actor=operator)
    assert excinfo.value.errors == {
        "end_reason": "Use one of: completed, mentor_left, mentee_left, no_show, rematched, other."
    }
    for when in (START + timedelta(minutes=1), START - timedelta(minutes=1)):
        with pytest.raises(ValidationFailed) as excinfo:
            match_end(match=match, end_reason="completed", actor=operator, ended_at=when)
        assert excinfo.value.errors == {"ended_at": "A match ends between its start and now."}
    match_end(match=match, end_reason="completed", actor=operator)
    with pytest.raises(Conflict) as excinfo:
        match_end(match=match, end_reason="completed", actor=operator)
    assert str(excinfo.value) == "Only an active match can end; this one is ended."


def _event(event_type: str, match: Match) -> OutboxEvent:
    return OutboxEvent.objects.get(event_type=event_type, subject_type="match", subject_id=str(match.pk))


def test_match_events_carry_the_registered_payloads(program, mentor_profile, mentee_profile, operator, frozen):
    mira = mentor_profile("mira@example.org", timezone="UTC")
    ada = mentee_profile("ada@example.org", timezone="UTC")
    [proposal] = matches_propose(program=program, actor=operator).matches.all()
    frozen(START + timedelta(hours=1))
    [match] = matches_approve(program=program, proposal_ids=[proposal.pk], actor=operator)
    created = _event("mentorship.match.created", match)
    assert (created.schema_version, created.occurred_at, created.producer, created.actor) == (
        1,
        START + timedelta(hours=1),
        "platform",
        f"user:{operator.pk}",
    )
    assert created.payload == {
        "match_id": str(match.pk),
        "program_id": str(program.pk),
        "mentor_id": str(mira.user_id),
        "mentee_id": str(ada.user_id),
        "source": "proposal",
        "score": 1.0,
        "started_at": "2026-03-02T10:30:00+00:00",
    }

    frozen(START + timedelta(days=30))
    match_end(match=match, end_reason="mentee_left", actor=operator, ended_at=START + timedelta(days=29))
    ended = _event("mentorship.match.ended", match)
    assert (ended.occurred_at, ended.actor) == (START + timedelta(days=29), f"user:{operator.pk}")
    assert ended.payload == {
        "match_id": str(match.pk),
        "program_id": str(program.pk),
        "mentor_id": str(mira.user_id),
        "mentee_id": str(ada.user_id),
        "end_reason": "mentee_left",
        "started_at": "2026-03-02T10:30:00+00:00",
        "ended_at": "2026-03-31T09:30:00+00:00",
    }
    assert OutboxEvent.objects.filter(event_type__startswith="mentorship.match.").count() == 2


def test_a_manual_match_without_a_mentee_profile_emits_a_null_score(program, mentor_profile, make_user, operator):
    mira = mentor_profile("mira@example.org")
    walk_in = make_user("walkin@example.org")
    match = match_create_manual(program=program, mentor=mira.user, mentee=walk_in, reason="Walk-in.", actor=operator)
    payload = _event("mentorship.match.created", match).payload
    assert (payload["source"], payload["score"], payload["started_at"]) == ("manual", None, START.isoformat())

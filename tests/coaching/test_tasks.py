# ruff: noqa: F811
# (the fixtures of tests/applications/conftest.py are imported by name)
"""The snooze (before the nearest open deadline) and the check-in tasks ("Have you heard back?":
won, lost, still waiting, or dismissed; answered once; an internal win only after acceptance)."""

from datetime import datetime, timedelta

import pytest

from applications.services import decision_make
from coaching.models import CheckInTask, CoachSettings, Pursuit
from coaching.services import (
    checkin_complete,
    checkin_dismiss,
    pursuit_confirm,
    pursuit_create_external,
    pursuit_update,
    snooze_set,
)
from core.audit import audit_entries_for
from core.errors import Conflict, NotFound, ValidationFailed
from programs.services import program_update
from tests.applications.conftest import FROZEN, applicant, apply, form, frozen, tracks  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(make_user):
    return make_user(email="ada@example.org", role="writer")


def _external(user, days=None, **data):
    deadline = FROZEN + timedelta(days=days) if days is not None else None
    return pursuit_create_external(user=user, data={"title": f"Grant {days}", "deadline": deadline, **data})


def _nearest_message(deadline):
    return f"Snooze ends before your nearest deadline ({deadline.isoformat()})."


# Snooze.


def test_snooze_without_deadlines(user, frozen):
    until = FROZEN + timedelta(days=100)
    row = snooze_set(user=user, until=until)
    assert CoachSettings.objects.get(user=user).snoozed_until == until == row.snoozed_until
    (entry,) = audit_entries_for(row)
    assert (entry.action, entry.actor, entry.changes) == ("coach.snoozed", user, {"until": until.isoformat()})


def test_snooze_before_the_nearest_open_deadline(user, frozen):
    _external(user, 10)
    _external(user, 5)
    nearest = FROZEN + timedelta(days=5)
    for until in (nearest, nearest + timedelta(seconds=1), FROZEN + timedelta(days=7)):
        with pytest.raises(ValidationFailed) as caught:
            snooze_set(user=user, until=until)
        assert caught.value.errors == {"until": "Snooze ends before your nearest deadline (2026-03-07T09:30:00+00:00)."}
        assert caught.value.errors == {"until": _nearest_message(nearest)}
    assert list(CoachSettings.objects.values_list("snoozed_until", flat=True)) == []  # rolled back
    row = snooze_set(user=user, until=nearest - timedelta(seconds=1))
    assert row.snoozed_until == nearest - timedelta(seconds=1)


def test_snooze_ignores_closed_past_and_others_pursuits(user, make_user, frozen):
    submitted = _external(user, 2)
    pursuit_confirm(pursuit=submitted, user=user, state="submitted")
    lost = _external(user, 3)
    pursuit_update(pursuit=lost, user=user, data={"coach_state": "lost"})
    _external(user, 1)  # passes before the snooze is set
    _external(make_user(email="bob@example.org"), 1)
    _external(user, 20)
    frozen.advance(days=1)
    with pytest.raises(ValidationFailed) as caught:
        snooze_set(user=user, until=FROZEN + timedelta(days=20))
    assert caught.value.errors == {"until": _nearest_message(FROZEN + timedelta(days=20))}
    row = snooze_set(user=user, until=FROZEN + timedelta(days=19))
    assert row.snoozed_until == FROZEN + timedelta(days=19)


def test_snooze_counts_internal_deadlines(apply, program, frozen):
    program_update(program=program, data={"closes_at": FROZEN + timedelta(days=4)})
    application = apply(submit=False)
    with pytest.raises(ValidationFailed) as caught:
        snooze_set(user=application.applicant, until=FROZEN + timedelta(days=4, hours=1))
    assert caught.value.errors == {"until": _nearest_message(FROZEN + timedelta(days=4))}


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (datetime(2026, 3, 5, 12, 0), "Give the time with its UTC offset."),
        ("2026-03-05T12:00:00Z", "Give the time with its UTC offset."),
        (FROZEN, "Snooze until a time in the future."),
        (FROZEN - timedelta(hours=1), "Snooze until a time in the future."),
    ],
)
def test_snooze_validation(user, frozen, until, message):
    with pytest.raises(ValidationFailed) as caught:
        snooze_set(user=user, until=until)
    assert caught.value.errors == {"until": message}


def test_snooze_is_replaced_and_cleared(user, frozen):
    snooze_set(user=user, until=FROZEN + timedelta(days=1))
    snooze_set(user=user, until=FROZEN + timedelta(days=2))
    assert list(CoachSettings.objects.values_list("user", "snoozed_until")) == [(user.pk, FROZEN + timedelta(days=2))]
    row = snooze_set(user=user, until=None)
    assert (row.snoozed_until, CoachSettings.objects.get().snoozed_until) == (None, None)
    assert audit_entries_for(row).first().changes == {"until": None}
    # Clearing needs no deadline check, and works for someone who never snoozed.
    _external(user, 1)
    assert snooze_set(user=user, until=None).snoozed_until is None


# Check-in tasks.


def _submitted(user, frozen, **data):
    pursuit = _external(user, 10, award_amount="500", award_currency="EUR", **data)
    pursuit_confirm(pursuit=pursuit, user=user, state="submitted")
    pursuit.refresh_from_db()
    return pursuit


def _task(pursuit):
    # The daily check-in job's row: due 21 days after the submission.
    return CheckInTask.objects.create(
        pursuit=pursuit, user=pursuit.user, due_at=pursuit.submitted_at + timedelta(days=21)
    )


def test_check_in_won(user, frozen):
    task = _task(_submitted(user, frozen))
    frozen.advance(days=21)
    done = checkin_complete(task=task, user=user, outcome="won")
    row = CheckInTask.objects.get()
    assert (row.status, row.outcome, row.completed_at) == ("completed", "won", FROZEN + timedelta(days=21))
    assert (done.status, done.outcome) == ("completed", "won")
    pursuit = Pursuit.objects.get()
    assert (pursuit.coach_state, pursuit.confirmed_at, pursuit.last_progress_at, pursuit.submitted_at) == (
        "won",
        FROZEN + timedelta(days=21),
        FROZEN + timedelta(days=21),
        FROZEN,
    )
    entry = audit_entries_for(pursuit).filter(action="coach.check_in_completed").get()
    assert (entry.actor, entry.changes) == (user, {"outcome": "won"})


def test_check_in_lost(user, frozen):
    task = _task(_submitted(user, frozen))
    frozen.advance(days=22)
    checkin_complete(task=task, user=user, outcome="lost")
    pursuit = Pursuit.objects.get()
    assert (pursuit.coach_state, pursuit.last_progress_at, pursuit.momentum_score) == (
        "lost",
        FROZEN + timedelta(days=22),
        None,
    )
    assert pursuit.confirmed_at == FROZEN  # the submission's confirmation; a loss needs none
    assert CheckInTask.objects.values_list("status", "outcome").get() == ("completed", "lost")


def test_check_in_still_waiting(user, frozen):
    task = _task(_submitted(user, frozen))
    frozen.advance(days=21)
    checkin_complete(task=task, user=user, outcome="waiting")
    pursuit = Pursuit.objects.get()
    assert (pursuit.coach_state, pursuit.last_progress_at) == ("outcome_pending", FROZEN + timedelta(days=21))
    assert CheckInTask.objects.values_list("status", "outcome").get() == ("completed", "waiting")
    # A later "won" goes through the confirmation.
    assert pursuit_confirm(pursuit=pursuit, user=user, state="won").coach_state == "won"


def test_check_in_waiting_keeps_outcome_pending_progress(user, frozen):
    pursuit = _submitted(user, frozen)
    frozen.advance(days=1)
    pursuit_update(pursuit=pursuit, user=user, data={"coach_state": "outcome_pending"})
    task = _task(pursuit)
    frozen.advance(days=20)
    checkin_complete(task=task, user=user, outcome="waiting")
    assert Pursuit.objects.values_list("coach_state", "last_progress_at").get() == (
        "outcome_pending",
        FROZEN + timedelta(days=1),
    )


def test_dismiss(user, frozen):
    task = _task(_submitted(user, frozen))
    frozen.advance(days=23)
    done = checkin_dismiss(task=task, user=user)
    assert (done.status, done.outcome) == ("dismissed", "")
    assert CheckInTask.objects.values_list("status", "outcome", "completed_at").get() == (
        "dismissed",
        "",
        FROZEN + timedelta(days=23),
    )
    assert Pursuit.objects.values_list("coach_state", "last_progress_at").get() == ("submitted", FROZEN)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("won", "lost", "This check-in is completed."),
        ("waiting", "won", "This check-in is completed."),
        ("lost", "dismiss", "This check-in is completed."),
        ("dismiss", "won", "This check-in is dismissed."),
        ("dismiss", "dismiss", "This check-in is dismissed."),
    ],
)
def test_answered_once(user, frozen, first, second, message):
    task = _task(_submitted(user, frozen))

    def answer(outcome):
        if outcome == "dismiss":
            return checkin_dismiss(task=task, user=user)
        return checkin_complete(task=task, user=user, outcome=outcome)

    answer(first)
    before = (
        CheckInTask.objects.values_list("status", "outcome").get(),
        Pursuit.objects.values_list("coach_state").get(),
    )
    with pytest.raises(Conflict) as caught:
        answer(second)
    assert caught.value.detail == message
    after = (
        CheckInTask.objects.values_list("status", "outcome").get(),
        Pursuit.objects.values_list("coach_state").get(),
    )
    assert after == before


@pytest.mark.parametrize("outcome", ["", "awarded", "Won", "submitted", None])
def test_unknown_outcome(user, frozen, outcome):
    task = _task(_submitted(user, frozen))
    with pytest.raises(ValidationFailed) as caught:
        checkin_complete(task=task, user=user, outcome=outcome)
    assert caught.value.errors == {"outcome": "Use one of: won, lost, waiting."}
    assert CheckInTask.objects.values_list("status").get() == ("pending",)


def test_someone_elses_check_in_is_not_found(user, make_user, frozen):
    task = _task(_submitted(user, frozen))
    other = make_user(email="bob@example.org")
    with pytest.raises(NotFound, match="No such check-in of yours."):
        checkin_complete(task=task, user=other, outcome="won")
    with pytest.raises(NotFound, match="No such check-in of yours."):
        checkin_dismiss(task=task, user=other)
    assert CheckInTask.objects.values_list("status").get() == ("pending",)


def test_internal_won_only_after_acceptance(apply, program, operator, frozen):
    program_update(program=program, data={"closes_at": FROZEN + timedelta(days=30)})
    application = apply()
    ada = application.applicant
    pursuit = Pursuit.objects.get(application=application)
    task = _task(pursuit)
    frozen.advance(days=21)
    with pytest.raises(Conflict) as caught:
        checkin_complete(task=task, user=ada, outcome="won")
    assert caught.value.detail == "The program has not accepted this application yet; it tells you when it does."
    assert CheckInTask.objects.values_list("status").get() == ("pending",)
    assert Pursuit.objects.values_list("coach_state", "confirmed_at").get() == ("submitted", None)

    decision_make(application=application, decision="accepted", reason="Strong", actor=operator)
    frozen.advance(hours=1)
    checkin_complete(task=task, user=ada, outcome="won")
    assert Pursuit.objects.values_list("coach_state", "pending_state", "confirmed_at").get() == (
        "won",
        "",
        FROZEN + timedelta(days=21, hours=1),
    )
    assert CheckInTask.objects.values_list("status", "outcome").get() == ("completed", "won")

# ruff: noqa: F811
# (the fixtures of tests/applications/conftest.py are imported by name)
"""Pursuits: external ones (create/update validation, PATCH semantics, confirmations with a
person in the loop, audit rows) and internal ones, kept in step with their application through
the real application services."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from applications.services import (
    application_request_info,
    application_submit,
    application_withdraw,
    decision_make,
)
from coaching.models import Pursuit
from coaching.services import pursuit_confirm, pursuit_create_external, pursuit_update
from core.audit import audit_entries_for
from core.errors import Conflict, NotFound, ValidationFailed
from programs.services import program_update
from tests.applications.conftest import FROZEN, applicant, apply, form, frozen, tracks  # noqa: F401

pytestmark = pytest.mark.django_db

TITLE = "A title of 1 to 200 characters."
URL = "An http(s) address of at most 500 characters."
OFFSET = "Give the deadline with its UTC offset."
PASSED = "The deadline has passed."
AMOUNT = "An amount of at least 0 with at most two decimals."
CURRENCY = "An ISO 4217 code, e.g. EUR."
NO_CURRENCY = "Give the currency of the award amount."
KIND = "Use one of: essay, form, mixed."
TRUST = "A number from 0 to 1."
FOLLOWS = "This pursuit follows your application on the platform; change the application instead."


def _actions(pursuit):
    return [e.action for e in audit_entries_for(pursuit).order_by("created_at", "id")]


@pytest.fixture
def user(make_user):
    return make_user(email="ada@example.org", role="writer")


@pytest.fixture
def grant(user, frozen):
    return pursuit_create_external(
        user=user,
        data={
            "title": "  Film Grant ",
            "url": "https://grants.example.org/film",
            "deadline": FROZEN + timedelta(days=30),
            "award_amount": "1500.50",
            "award_currency": "EUR",
            "application_type": "essay",
            "trust_score": 0.5,
        },
    )


# External pursuits: create.


def test_create_external(grant, user, frozen):
    row = Pursuit.objects.get()
    assert (row.user, row.application, row.title, row.url) == (
        user,
        None,
        "Film Grant",
        "https://grants.example.org/film",
    )
    assert (row.deadline, row.award_amount, row.award_currency, row.application_type, row.trust_score) == (
        FROZEN + timedelta(days=30),
        Decimal("1500.50"),
        "EUR",
        "essay",
        0.5,
    )
    assert (row.coach_state, row.pending_state, row.momentum_score) == ("tracked", "", 0.5)
    assert (row.last_progress_at, row.submitted_at, row.confirmed_at) == (FROZEN, None, None)
    (entry,) = audit_entries_for(row)
    assert (entry.action, entry.actor, entry.changes) == (
        "pursuit.created",
        user,
        {
            "title": "Film Grant",
            "url": "https://grants.example.org/film",
            "deadline": "2026-04-01 09:30:00+00:00",
            "award_amount": "1500.50",
            "award_currency": "EUR",
            "application_type": "essay",
            "trust_score": 0.5,
        },
    )


def test_create_with_title_only(user, frozen):
    pursuit = pursuit_create_external(user=user, data={"title": "Residency"})
    assert (pursuit.deadline, pursuit.url, pursuit.award_amount, pursuit.award_currency) == (None, "", None, "")
    assert (pursuit.application_type, pursuit.trust_score, pursuit.momentum_score) == ("", None, 0.2)


DEADLINE = FROZEN + timedelta(days=10)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"title": TITLE}),
        ({"title": None}, {"title": TITLE}),
        ({"title": "   "}, {"title": TITLE}),
        ({"title": "x" * 201}, {"title": TITLE}),
        ({"title": 42}, {"title": TITLE}),
        ({"title": "Bad\x00name"}, {"title": TITLE}),
        ({"title": "T", "url": "grants.example.org"}, {"url": URL}),
        ({"title": "T", "url": "ftp://grants.example.org/x"}, {"url": URL}),
        ({"title": "T", "url": "https://example.org/" + "a" * 481}, {"url": URL}),
        ({"title": "T", "url": 7}, {"url": URL}),
        ({"title": "T", "deadline": datetime(2026, 5, 1, 12, 0)}, {"deadline": OFFSET}),
        ({"title": "T", "deadline": "2026-05-01T12:00:00Z"}, {"deadline": OFFSET}),
        ({"title": "T", "deadline": FROZEN}, {"deadline": PASSED}),
        ({"title": "T", "deadline": FROZEN - timedelta(days=1)}, {"deadline": PASSED}),
        ({"title": "T", "award_amount": "-1", "award_currency": "EUR"}, {"award_amount": AMOUNT}),
        ({"title": "T", "award_amount": "10.005", "award_currency": "EUR"}, {"award_amount": AMOUNT}),
        ({"title": "T", "award_amount": "lots", "award_currency": "EUR"}, {"award_amount": AMOUNT}),
        ({"title": "T", "award_amount": "NaN", "award_currency": "EUR"}, {"award_amount": AMOUNT}),
        ({"title": "T", "award_amount": "1e10", "award_currency": "EUR"}, {"award_amount": AMOUNT}),
        ({"title": "T", "award_amount": "100"}, {"award_currency": NO_CURRENCY}),
        ({"title": "T", "award_amount": 100, "award_currency": ""}, {"award_currency": NO_CURRENCY}),
        ({"title": "T", "award_amount": 100, "award_currency": "eur"}, {"award_currency": CURRENCY}),
        ({"title": "T", "award_amount": 100, "award_currency": "EURO"}, {"award_currency": CURRENCY}),
        ({"title": "T", "award_amount": 100, "award_currency": "E1R"}, {"award_currency": CURRENCY}),
        ({"title": "T", "award_currency": 978}, {"award_currency": CURRENCY}),
        ({"title": "T", "application_type": "video"}, {"application_type": KIND}),
        ({"title": "T", "application_type": "Essay"}, {"application_type": KIND}),
        ({"title": "T", "trust_score": 1.01}, {"trust_score": TRUST}),
        ({"title": "T", "trust_score": -0.1}, {"trust_score": TRUST}),
        ({"title": "T", "trust_score": "0.5"}, {"trust_score": TRUST}),
        ({"title": "T", "trust_score": True}, {"trust_score": TRUST}),
        ({"title": "T", "trust_score": float("nan")}, {"trust_score": TRUST}),
        (
            {"title": "", "deadline": FROZEN, "award_amount": "-5", "application_type": "x", "trust_score": 2},
            {
                "title": TITLE,
                "deadline": PASSED,
                "award_amount": AMOUNT,
                "application_type": KIND,
                "trust_score": TRUST,
            },
        ),
    ],
)
def test_create_validation(user, frozen, data, errors):
    with pytest.raises(ValidationFailed) as caught:
        pursuit_create_external(user=user, data=data)
    assert caught.value.errors == errors
    assert Pursuit.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        ({"award_amount": 0, "award_currency": "USD"}, (Decimal("0"), "USD")),
        ({"award_amount": "9999999999.99", "award_currency": "JPY"}, (Decimal("9999999999.99"), "JPY")),
        ({"award_amount": 12.5, "award_currency": "GBP"}, (Decimal("12.50"), "GBP")),
        ({"award_amount": None, "award_currency": "EUR"}, (None, "EUR")),
        ({"trust_score": 0}, (None, "")),
        ({"trust_score": 1}, (None, "")),
        ({"url": "", "application_type": "", "deadline": None}, (None, "")),
    ],
)
def test_create_accepts_edge_values(user, frozen, data, stored):
    pursuit = pursuit_create_external(user=user, data={"title": "T", **data})
    pursuit.refresh_from_db()
    assert (pursuit.award_amount, pursuit.award_currency) == stored


# External pursuits: PATCH.


def test_update_changes_only_what_is_given(grant, user, frozen):
    frozen.advance(hours=5)
    updated = pursuit_update(
        pursuit=grant, user=user, data={"title": "Film Grant 2026", "deadline": FROZEN + timedelta(days=15)}
    )
    row = Pursuit.objects.get()
    assert (row.title, row.deadline, row.url, row.award_amount, row.trust_score) == (
        "Film Grant 2026",
        FROZEN + timedelta(days=15),
        "https://grants.example.org/film",
        Decimal("1500.50"),
        0.5,
    )
    # Details are no progress; momentum is recomputed (15 days left, 5 hours on).
    assert (row.last_progress_at, row.coach_state) == (FROZEN, "tracked")
    assert row.momentum_score == updated.momentum_score == round(0.6 * (1 - (15 - 5 / 24) / 60) + 0.2, 4) == 0.6521
    entry = audit_entries_for(row).filter(action="pursuit.updated").get()
    assert entry.changes == {
        "title": ["Film Grant", "Film Grant 2026"],
        "deadline": ["2026-04-01 09:30:00+00:00", "2026-03-17 09:30:00+00:00"],
    }


def test_update_without_change_records_nothing(grant, user):
    pursuit_update(pursuit=grant, user=user, data={"title": "Film Grant", "award_currency": "EUR"})
    pursuit_update(pursuit=grant, user=user, data={})
    assert _actions(grant) == ["pursuit.created"]


def test_update_state_moves_progress(grant, user, frozen):
    frozen.advance(hours=3)
    pursuit = pursuit_update(pursuit=grant, user=user, data={"coach_state": "drafting"})
    assert (pursuit.coach_state, pursuit.last_progress_at) == ("drafting", FROZEN + timedelta(hours=3))
    frozen.advance(hours=3)
    pursuit = pursuit_update(pursuit=grant, user=user, data={"coach_state": "review"})
    assert (pursuit.coach_state, pursuit.last_progress_at) == ("review", FROZEN + timedelta(hours=6))
    assert audit_entries_for(grant).filter(action="pursuit.updated").first().changes == {
        "coach_state": ["drafting", "review"]
    }


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"title": ""}, {"title": TITLE}),
        ({"title": None}, {"title": TITLE}),
        ({"deadline": FROZEN - timedelta(minutes=1)}, {"deadline": PASSED}),
        ({"deadline": datetime(2026, 6, 1)}, {"deadline": OFFSET}),
        ({"award_currency": ""}, {"award_currency": NO_CURRENCY}),  # the stored amount needs one
        ({"award_currency": None}, {"award_currency": NO_CURRENCY}),
        ({"award_amount": "1.234"}, {"award_amount": AMOUNT}),
        ({"url": "javascript:alert(1)"}, {"url": URL}),
        ({"application_type": "poem"}, {"application_type": KIND}),
        ({"trust_score": 5}, {"trust_score": TRUST}),
        (
            {"coach_state": "submitted"},
            {"coach_state": "'submitted' needs your confirmation: POST .../confirm with this state."},
        ),
        ({"coach_state": "won"}, {"coach_state": "'won' needs your confirmation: POST .../confirm with this state."}),
        ({"coach_state": "awarded"}, {"coach_state": "Use one of: tracked, drafting, review, outcome_pending, lost."}),
        ({"coach_state": ""}, {"coach_state": "Use one of: tracked, drafting, review, outcome_pending, lost."}),
        (
            {"coach_state": "outcome_pending"},
            {"coach_state": "An outcome is pending only after a submission: confirm 'submitted' first."},
        ),
    ],
)
def test_update_validation(grant, user, frozen, data, errors):
    with pytest.raises(ValidationFailed) as caught:
        pursuit_update(pursuit=grant, user=user, data=data)
    assert caught.value.errors == errors
    row = Pursuit.objects.get()
    assert (row.title, row.coach_state, row.award_currency, row.deadline) == (
        "Film Grant",
        "tracked",
        "EUR",
        FROZEN + timedelta(days=30),
    )


def test_update_clears_amount_and_currency_together(grant, user):
    pursuit = pursuit_update(pursuit=grant, user=user, data={"award_amount": None, "award_currency": ""})
    assert (pursuit.award_amount, pursuit.award_currency) == (None, "")


def test_update_ignores_unknown_keys(grant, user):
    pursuit = pursuit_update(pursuit=grant, user=user, data={"user": 99, "momentum_score": 1, "confirmed_at": None})
    assert (pursuit.momentum_score, pursuit.user_id) == (0.5, user.pk)


def test_someone_elses_pursuit_is_not_found(grant, make_user):
    other = make_user(email="bob@example.org")
    with pytest.raises(NotFound, match="No such pursuit of yours."):
        pursuit_update(pursuit=grant, user=other, data={"title": "Mine"})
    with pytest.raises(NotFound, match="No such pursuit of yours."):
        pursuit_confirm(pursuit=grant, user=other, state="submitted")


# Human in the loop.


def test_confirm_submitted_then_won(grant, user, frozen):
    frozen.advance(days=2)
    submitted_at = frozen.now
    pursuit = pursuit_confirm(pursuit=grant, user=user, state="submitted")
    row = Pursuit.objects.get()
    assert (row.coach_state, row.pending_state, row.momentum_score) == ("submitted", "", None)
    assert (row.submitted_at, row.confirmed_at, row.last_progress_at) == (submitted_at, submitted_at, submitted_at)
    assert pursuit.coach_state == "submitted"
    frozen.advance(days=20)
    pursuit_confirm(pursuit=grant, user=user, state="won")
    row = Pursuit.objects.get()
    assert (row.coach_state, row.submitted_at, row.confirmed_at, row.last_progress_at) == (
        "won",
        submitted_at,
        frozen.now,
        frozen.now,
    )
    assert _actions(grant) == ["pursuit.created", "pursuit.confirmed_submitted", "pursuit.confirmed_won"]
    entries = audit_entries_for(grant).order_by("created_at", "id")
    assert [(e.actor, e.changes) for e in entries[1:]] == [
        (user, {"coach_state": ["tracked", "submitted"]}),
        (user, {"coach_state": ["submitted", "won"]}),
    ]


def test_confirm_won_from_outcome_pending(grant, user, frozen):
    pursuit_confirm(pursuit=grant, user=user, state="submitted")
    pursuit_update(pursuit=grant, user=user, data={"coach_state": "outcome_pending"})
    frozen.advance(days=1)
    pursuit = pursuit_confirm(pursuit=grant, user=user, state="won")
    assert (pursuit.coach_state, pursuit.confirmed_at, pursuit.submitted_at) == ("won", frozen.now, FROZEN)


@pytest.mark.parametrize("state", ["drafting", "review"])
def test_confirm_submitted_from_any_open_state(grant, user, state):
    pursuit_update(pursuit=grant, user=user, data={"coach_state": state})
    assert pursuit_confirm(pursuit=grant, user=user, state="submitted").coach_state == "submitted"


@pytest.mark.parametrize(
    ("path", "state", "message"),
    [
        ([], "won", "This pursuit is tracked; a win is confirmed after submission."),
        (["drafting"], "won", "This pursuit is drafting; a win is confirmed after submission."),
        (
            ["confirm:submitted"],
            "submitted",
            "This pursuit is submitted; only one still being prepared can be confirmed as submitted.",
        ),
        (
            ["confirm:submitted", "outcome_pending"],
            "submitted",
            "This pursuit is outcome_pending; only one still being prepared can be confirmed as submitted.",
        ),
        (
            ["confirm:submitted", "confirm:won"],
            "won",
            "This pursuit is won; a win is confirmed after submission.",
        ),
        (
            ["confirm:submitted", "confirm:won"],
            "submitted",
            "This pursuit is won; only one still being prepared can be confirmed as submitted.",
        ),
        (["lost"], "won", "This pursuit is lost; a win is confirmed after submission."),
        (
            ["lost"],
            "submitted",
            "This pursuit is lost; only one still being prepared can be confirmed as submitted.",
        ),
    ],
)
def test_illegal_confirmations_conflict(grant, user, path, state, message):
    for step in path:
        if step.startswith("confirm:"):
            pursuit_confirm(pursuit=grant, user=user, state=step.split(":")[1])
        else:
            pursuit_update(pursuit=grant, user=user, data={"coach_state": step})
    before = Pursuit.objects.values_list("coach_state", "confirmed_at").get()
    with pytest.raises(Conflict) as caught:
        pursuit_confirm(pursuit=grant, user=user, state=state)
    assert caught.value.detail == message
    assert Pursuit.objects.values_list("coach_state", "confirmed_at").get() == before


@pytest.mark.parametrize("state", ["lost", "tracked", "outcome_pending", "awarded", ""])
def test_confirm_only_submitted_or_won(grant, user, state):
    with pytest.raises(ValidationFailed) as caught:
        pursuit_confirm(pursuit=grant, user=user, state=state)
    assert caught.value.errors == {"state": "Confirm 'submitted' or 'won'."}


def test_lost_needs_no_confirmation(grant, user, frozen):
    frozen.advance(hours=1)
    pursuit = pursuit_update(pursuit=grant, user=user, data={"coach_state": "lost"})
    row = Pursuit.objects.get()
    assert (row.coach_state, row.confirmed_at, row.submitted_at, row.momentum_score, row.last_progress_at) == (
        "lost",
        None,
        None,
        None,
        FROZEN + timedelta(hours=1),
    )
    assert pursuit.coach_state == "lost"
    assert _actions(grant) == ["pursuit.created", "pursuit.updated"]


def test_submitted_pursuit_may_be_marked_lost(grant, user):
    pursuit_confirm(pursuit=grant, user=user, state="submitted")
    assert pursuit_update(pursuit=grant, user=user, data={"coach_state": "lost"}).coach_state == "lost"


# Internal pursuits follow their application.


@pytest.fixture
def window(program, frozen):
    return program_update(program=program, data={"closes_at": FROZEN + timedelta(days=30)})


def _pursuit(application):
    return Pursuit.objects.get(application=application)


def test_internal_pursuit_follows_the_application(apply, program, window, operator, frozen):
    application = apply(submit=False)
    pursuit = _pursuit(application)
    assert (pursuit.user, pursuit.title, pursuit.deadline, pursuit.is_internal) == (
        application.applicant,
        "Mentorship 2026",
        FROZEN + timedelta(days=30),
        True,
    )
    assert (pursuit.coach_state, pursuit.pending_state, pursuit.submitted_at, pursuit.momentum_score) == (
        "drafting",
        "",
        None,
        0.62,  # 30 days left, program trust 0.8
    )
    assert (pursuit.last_progress_at, pursuit.trust_score) == (FROZEN, None)

    frozen.advance(hours=2)
    application = application_submit(application=application, actor=application.applicant)
    pursuit = _pursuit(application)
    assert (pursuit.coach_state, pursuit.submitted_at, pursuit.last_progress_at, pursuit.momentum_score) == (
        "submitted",
        FROZEN + timedelta(hours=2),
        FROZEN + timedelta(hours=2),
        None,
    )
    assert pursuit.confirmed_at is None  # submitting on the platform is the person's own act

    frozen.advance(hours=2)
    application = application_request_info(application=application, message="Add a sample.", actor=operator)
    pursuit = _pursuit(application)
    assert (pursuit.coach_state, pursuit.last_progress_at, pursuit.submitted_at) == (
        "review",
        FROZEN + timedelta(hours=4),
        FROZEN + timedelta(hours=2),
    )
    assert pursuit.momentum_score == round(0.6 * (1 - (30 - 4 / 24) / 60) + 0.4 * 0.8, 4) == 0.6217

    frozen.advance(hours=2)
    application = application_submit(application=application, actor=application.applicant)
    assert (_pursuit(application).coach_state, _pursuit(application).submitted_at) == (
        "outcome_pending",
        FROZEN + timedelta(hours=2),
    )

    frozen.advance(hours=2)
    application = decision_make(application=application, decision="accepted", reason="Strong", actor=operator)
    pursuit = _pursuit(application)
    assert (pursuit.coach_state, pursuit.pending_state, pursuit.confirmed_at) == ("outcome_pending", "won", None)

    frozen.advance(hours=2)
    pursuit = pursuit_confirm(pursuit=pursuit, user=application.applicant, state="won")
    row = _pursuit(application)
    assert (row.coach_state, row.pending_state, row.confirmed_at, row.last_progress_at) == (
        "won",
        "",
        FROZEN + timedelta(hours=10),
        FROZEN + timedelta(hours=10),
    )
    assert _actions(row) == [
        "pursuit.synced",
        "pursuit.synced",
        "pursuit.synced",
        "pursuit.synced",
        "pursuit.synced",
        "pursuit.confirmed_won",
    ]
    synced = [e.changes for e in audit_entries_for(row).filter(action="pursuit.synced").order_by("created_at", "id")]
    assert synced == [
        {"coach_state": ["tracked", "drafting"], "application_status": "draft"},
        {"coach_state": ["drafting", "submitted"], "application_status": "submitted"},
        {"coach_state": ["submitted", "review"], "application_status": "info_requested"},
        {"coach_state": ["review", "outcome_pending"], "application_status": "under_review"},
        {"pending_state": ["", "won"], "application_status": "accepted"},
    ]
    assert Pursuit.objects.count() == 1


def test_submitted_at_once(apply, window, frozen):
    application = apply()
    pursuit = _pursuit(application)
    assert (pursuit.coach_state, pursuit.submitted_at) == ("submitted", FROZEN)


@pytest.mark.parametrize(("decision", "state"), [("rejected", "lost"), ("waitlisted", "outcome_pending")])
def test_internal_decisions(apply, window, operator, decision, state):
    application = apply()
    decision_make(application=application, decision=decision, reason="Round one", actor=operator)
    pursuit = _pursuit(application)
    assert (pursuit.coach_state, pursuit.pending_state, pursuit.confirmed_at) == (state, "", None)


def test_waitlisted_then_accepted_waits_for_confirmation(apply, window, operator):
    application = apply()
    decision_make(application=application, decision="waitlisted", reason="Full", actor=operator)
    decision_make(application=application, decision="accepted", reason="A place freed", actor=operator)
    assert (_pursuit(application).coach_state, _pursuit(application).pending_state) == ("outcome_pending", "won")


@pytest.mark.parametrize("submit", [False, True])
def test_withdrawn_is_lost(apply, window, frozen, submit):
    application = apply(submit=submit)
    frozen.advance(hours=1)
    application_withdraw(application=application, actor=application.applicant)
    pursuit = _pursuit(application)
    assert (pursuit.coach_state, pursuit.last_progress_at, pursuit.momentum_score) == (
        "lost",
        FROZEN + timedelta(hours=1),
        None,
    )


def test_declining_an_unconfirmed_place_clears_the_pending_win(apply, window, operator):
    application = apply()
    decision_make(application=application, decision="accepted", reason="Strong", actor=operator)
    application_withdraw(application=application, actor=application.applicant, reason="Moved abroad")
    pursuit = _pursuit(application)
    assert (pursuit.coach_state, pursuit.pending_state) == ("lost", "")
    assert audit_entries_for(pursuit).filter(action="pursuit.synced").first().changes == {
        "coach_state": ["outcome_pending", "lost"],
        "pending_state": ["won", ""],
        "application_status": "withdrawn",
    }
    with pytest.raises(Conflict, match="This pursuit is lost; a win is confirmed after submission."):
        pursuit_confirm(pursuit=pursuit, user=application.applicant, state="won")


def test_program_without_window_has_no_deadline(apply):
    pursuit = _pursuit(apply(submit=False))
    assert (pursuit.deadline, pursuit.momentum_score) == (None, 0.32)


def test_internal_pursuit_refuses_patch(apply, window):
    application = apply(submit=False)
    pursuit = _pursuit(application)
    with pytest.raises(ValidationFailed) as caught:
        pursuit_update(
            pursuit=pursuit,
            user=application.applicant,
            data={"title": "Mine", "deadline": FROZEN + timedelta(days=90), "coach_state": "lost"},
        )
    assert caught.value.errors == {"title": FOLLOWS, "deadline": FOLLOWS, "coach_state": FOLLOWS}
    with pytest.raises(ValidationFailed) as caught:
        pursuit_update(pursuit=pursuit, user=application.applicant, data={"trust_score": 1})
    assert caught.value.errors == {"trust_score": FOLLOWS}
    row = _pursuit(application)
    assert (row.title, row.deadline, row.coach_state, row.trust_score) == (
        "Mentorship 2026",
        FROZEN + timedelta(days=30),
        "drafting",
        None,
    )


def test_internal_submission_is_confirmed_on_the_platform_only(apply, window, operator):
    application = apply(submit=False)
    with pytest.raises(Conflict, match="Submit the application on the platform first; that submits it."):
        pursuit_confirm(pursuit=_pursuit(application), user=application.applicant, state="submitted")
    application_submit(application=application, actor=application.applicant)
    application_request_info(application=application, message="Add a sample.", actor=operator)
    assert _pursuit(application).coach_state == "review"
    with pytest.raises(Conflict, match="Submit the application on the platform first; that submits it."):
        pursuit_confirm(pursuit=_pursuit(application), user=application.applicant, state="submitted")
    assert _pursuit(application).coach_state == "review"


def test_internal_win_needs_the_acceptance(apply, window):
    application = apply()
    with pytest.raises(Conflict, match="The program has not accepted this application yet."):
        pursuit_confirm(pursuit=_pursuit(application), user=application.applicant, state="won")
    assert (_pursuit(application).coach_state, _pursuit(application).confirmed_at) == ("submitted", None)


def test_the_sync_is_part_of_the_application_transaction(apply, window, frozen):
    program_update(program=window, data={"closes_at": FROZEN + timedelta(hours=1)})
    application = apply(submit=False)
    frozen.advance(hours=2)
    with pytest.raises(Conflict):
        application_submit(application=application, actor=application.applicant)
    pursuit = _pursuit(application)
    assert (pursuit.coach_state, pursuit.submitted_at, pursuit.deadline) == (
        "drafting",
        None,
        FROZEN + timedelta(hours=1),
    )


def test_aware_deadline_in_other_zone_is_kept(user, frozen):
    from zoneinfo import ZoneInfo

    deadline = datetime(2026, 4, 1, 17, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    pursuit = pursuit_create_external(user=user, data={"title": "T", "deadline": deadline})
    pursuit.refresh_from_db()
    assert pursuit.deadline == datetime(2026, 4, 1, 15, 0, tzinfo=UTC)

# ruff: noqa: F811
# (the fixtures of tests/applications/conftest.py are imported by name)
"""The game plan: the top 3 open pursuits by momentum (ties: nearest deadline), past-deadline and
closed ones left out; pending check-ins that are due; wins waiting for confirmation; the
micro-task (no progress for 48 h, deadline within 7 days); the total won per currency (confirmed
wins only); five queries whatever the data."""

from datetime import timedelta
from decimal import Decimal

import pytest

from applications.services import decision_make
from coaching.models import CheckInTask, Pursuit
from coaching.selectors import MICRO_TASKS, NEAR_DEADLINE, STALE_AFTER, game_plan, micro_task_for
from coaching.services import (
    checkin_complete,
    pursuit_confirm,
    pursuit_create_external,
    pursuit_update,
    snooze_set,
)
from programs.services import program_update
from tests.applications.conftest import FROZEN, applicant, apply, form, frozen, tracks  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(make_user):
    return make_user(email="ada@example.org", role="writer")


def _add(user, title, days=None, trust=None, **data):
    deadline = FROZEN + timedelta(days=days) if days is not None else None
    return pursuit_create_external(user=user, data={"title": title, "deadline": deadline, "trust_score": trust, **data})


def _titles(pursuits):
    return [p.title for p in pursuits]


def test_constants():
    assert (STALE_AFTER, NEAR_DEADLINE) == (timedelta(hours=48), timedelta(days=7))


def test_top_three_by_momentum_ties_by_nearest_deadline(user, make_user, frozen):
    a = _add(user, "A", 10, 0.5)  # 0.6 x 50/60 + 0.2 = 0.7
    b = _add(user, "B", 45, 0.875)  # 0.15 + 0.35 = 0.5
    c = _add(user, "C", 30, 0.5)  # 0.3 + 0.2 = 0.5: same as B, nearer deadline
    d = _add(user, "D", None, 1.0)  # no deadline: 0.4
    e = _add(user, "E", 90, 1.0)  # beyond the horizon: 0.4, a deadline beats none
    f = _add(user, "F", 20, 0.0)  # 0.4, nearest of the 0.4s
    _add(make_user(email="bob@example.org"), "Bob's", 5, 1.0)  # 0.9, someone else's
    assert [p.momentum_score for p in (a, b, c, d, e, f)] == [0.7, 0.5, 0.5, 0.4, 0.4, 0.4]

    plan = game_plan(user, frozen.now)
    assert _titles(plan["top"]) == ["A", "C", "B"]
    assert [(p.pk, p.coach_state, p.momentum_score, p.deadline) for p in plan["top"]] == [
        (a.pk, "tracked", 0.7, FROZEN + timedelta(days=10)),
        (c.pk, "tracked", 0.5, FROZEN + timedelta(days=30)),
        (b.pk, "tracked", 0.5, FROZEN + timedelta(days=45)),
    ]

    pursuit_update(pursuit=a, user=user, data={"coach_state": "lost"})
    pursuit_confirm(pursuit=c, user=user, state="submitted")
    assert _titles(game_plan(user, frozen.now)["top"]) == ["B", "F", "E"]
    pursuit_update(pursuit=b, user=user, data={"coach_state": "lost"})
    pursuit_update(pursuit=f, user=user, data={"coach_state": "lost"})
    assert _titles(game_plan(user, frozen.now)["top"]) == ["E", "D"]


def test_past_deadline_and_closed_pursuits_drop_out(user, frozen):
    _add(user, "Tomorrow", 1, 1.0)  # 0.99 now, passes in a day
    _add(user, "Next week", 7, 0.0)
    won = _add(user, "Won", 5, 1.0)
    pursuit_confirm(pursuit=won, user=user, state="submitted")
    pursuit_confirm(pursuit=won, user=user, state="won")
    pending = _add(user, "Pending", 6, 1.0)
    pursuit_confirm(pursuit=pending, user=user, state="submitted")
    pursuit_update(pursuit=pending, user=user, data={"coach_state": "outcome_pending"})
    assert _titles(game_plan(user, frozen.now)["top"]) == ["Tomorrow", "Next week"]
    frozen.advance(days=1)  # the stored score of "Tomorrow" is still 0.99 until the daily recompute
    assert Pursuit.objects.get(title="Tomorrow").momentum_score == 0.99
    assert _titles(game_plan(user, frozen.now)["top"]) == ["Next week"]
    frozen.advance(days=6)
    assert game_plan(user, frozen.now)["top"] == []


def test_open_states_all_count(user, frozen):
    for state, days in (("tracked", 3), ("drafting", 2), ("review", 1)):
        pursuit = _add(user, state, days, 0.5)
        if state != "tracked":
            pursuit_update(pursuit=pursuit, user=user, data={"coach_state": state})
    assert _titles(game_plan(user, frozen.now)["top"]) == ["review", "drafting", "tracked"]


# Micro-tasks.


def test_micro_task_after_48_hours_without_progress(user, frozen):
    pursuit = _add(user, "Essay prize", 8, application_type="essay")
    frozen.advance(hours=47, minutes=59)  # deadline in 6 days 0 h 1 min, no progress for 47:59
    assert game_plan(user, frozen.now)["micro_task"] is None
    frozen.advance(minutes=1)  # 48 h
    assert game_plan(user, frozen.now)["micro_task"] == {
        "pursuit_id": str(pursuit.pk),
        "title": "Essay prize",
        "deadline": FROZEN + timedelta(days=8),
        "text": "Write the first 150 words of your essay for Essay prize.",
    }
    # Progress (a state change) resets the 48 h.
    pursuit_update(pursuit=pursuit, user=user, data={"coach_state": "drafting"})
    assert game_plan(user, frozen.now)["micro_task"] is None
    frozen.advance(hours=48)
    assert game_plan(user, frozen.now)["micro_task"]["pursuit_id"] == str(pursuit.pk)
    # Past the deadline: none.
    frozen.advance(days=4)
    assert game_plan(user, frozen.now)["micro_task"] is None


def test_micro_task_only_when_the_deadline_is_near(user, frozen):
    _add(user, "Far", 9, application_type="form")
    frozen.advance(days=2)  # stale; deadline 7 days away exactly
    assert game_plan(user, frozen.now)["micro_task"]["text"] == "Fill in one section of the form for Far."
    frozen.now -= timedelta(seconds=1)  # 7 days and 1 second away
    assert game_plan(user, frozen.now)["micro_task"] is None


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("essay", "Write the first 150 words of your essay for Prize."),
        ("form", "Fill in one section of the form for Prize."),
        ("mixed", "Draft one short answer for Prize."),
        ("", "Spend 20 minutes on Prize."),
    ],
)
def test_micro_task_texts(user, frozen, kind, text):
    _add(user, "Prize", 5, application_type=kind)
    frozen.advance(hours=48)
    assert game_plan(user, frozen.now)["micro_task"]["text"] == text
    assert sorted(MICRO_TASKS) == ["", "essay", "form", "mixed"]


def test_micro_task_picks_the_nearest_stale_open_pursuit(user, frozen):
    top = _add(user, "High trust", 6, 1.0, application_type="mixed")
    nearest = _add(user, "Nearest", 4, 0.0, application_type="essay")
    closed = _add(user, "Submitted", 3, 0.5)
    pursuit_confirm(pursuit=closed, user=user, state="submitted")
    no_deadline = _add(user, "Someday", None, 1.0)
    frozen.advance(hours=48)
    fresh = _add(user, "Fresh", 3, 0.5)  # nearest deadline, but just added
    plan = game_plan(user, frozen.now)
    assert plan["micro_task"]["pursuit_id"] == str(nearest.pk)
    pursuits = list(Pursuit.objects.all())
    assert micro_task_for(pursuits, frozen.now)["pursuit_id"] == str(nearest.pk)
    pursuit_update(pursuit=nearest, user=user, data={"coach_state": "lost"})
    assert game_plan(user, frozen.now)["micro_task"]["pursuit_id"] == str(top.pk)
    closed.refresh_from_db()
    assert micro_task_for([closed, no_deadline, fresh], frozen.now) is None
    assert micro_task_for([], frozen.now) is None


def test_micro_task_shown_while_snoozed(user, frozen):
    # The snooze holds back nudges; the plan still shows the task and when the snooze ends.
    _add(user, "Prize", 5)
    frozen.advance(hours=48)
    snooze_set(user=user, until=frozen.now + timedelta(days=1))
    plan = game_plan(user, frozen.now)
    assert (plan["micro_task"]["title"], plan["snoozed_until"]) == ("Prize", FROZEN + timedelta(days=3))
    frozen.advance(days=1)  # the snooze has ended
    assert game_plan(user, frozen.now)["snoozed_until"] is None


# Check-ins, confirmations, total won.


def _submitted(user, title, amount=None, currency=""):
    pursuit = _add(user, title, 10, award_amount=amount, award_currency=currency)
    return pursuit_confirm(pursuit=pursuit, user=user, state="submitted")


def test_check_ins_pending_and_due(user, frozen):
    first = _submitted(user, "First")
    frozen.advance(days=1)
    second = _submitted(user, "Second")
    frozen.advance(days=1)
    third = _submitted(user, "Third")
    tasks = {
        p.title: CheckInTask.objects.create(pursuit=p, user=user, due_at=p.submitted_at + timedelta(days=21))
        for p in (first, second, third)
    }
    frozen.advance(days=19, seconds=-1)  # 21 days after "First" less a second
    assert game_plan(user, frozen.now)["check_ins"] == []
    frozen.advance(seconds=1)
    assert [t.pursuit.title for t in game_plan(user, frozen.now)["check_ins"]] == ["First"]
    frozen.advance(days=2)
    assert [t.pk for t in game_plan(user, frozen.now)["check_ins"]] == [
        tasks["First"].pk,
        tasks["Second"].pk,
        tasks["Third"].pk,
    ]
    checkin_complete(task=tasks["Second"], user=user, outcome="waiting")
    assert [t.pursuit.title for t in game_plan(user, frozen.now)["check_ins"]] == ["First", "Third"]
    # A pursuit confirmed won or marked lost meanwhile needs no check-in.
    pursuit_confirm(pursuit=first, user=user, state="won")
    pursuit_update(pursuit=third, user=user, data={"coach_state": "lost"})
    assert game_plan(user, frozen.now)["check_ins"] == []
    assert CheckInTask.objects.filter(status="pending").count() == 2


def test_wins_to_confirm(apply, program, operator, frozen):
    program_update(program=program, data={"closes_at": FROZEN + timedelta(days=30)})
    application = apply()
    ada = application.applicant
    assert game_plan(ada, frozen.now)["to_confirm"] == []
    decision_make(application=application, decision="accepted", reason="Strong", actor=operator)
    plan = game_plan(ada, frozen.now)
    assert [(p.application_id, p.coach_state, p.pending_state) for p in plan["to_confirm"]] == [
        (application.pk, "outcome_pending", "won")
    ]
    assert plan["top"] == []
    pursuit_confirm(pursuit=plan["to_confirm"][0], user=ada, state="won")
    assert game_plan(ada, frozen.now)["to_confirm"] == []


def test_total_won_per_currency_confirmed_wins_only(user, make_user, frozen):
    for title, amount, currency in (
        ("EUR 1", "1000", "EUR"),
        ("EUR 2", "500.50", "EUR"),
        ("USD", "200", "USD"),
        ("No amount", None, ""),
    ):
        pursuit_confirm(pursuit=_submitted(user, title, amount, currency), user=user, state="won")
    lost = _submitted(user, "Lost", "9000", "EUR")
    pursuit_update(pursuit=lost, user=user, data={"coach_state": "lost"})
    _submitted(user, "Waiting", "700", "GBP")
    _add(user, "Open", 5, award_amount="300", award_currency="CHF")
    by_check_in = _submitted(user, "Check-in", "50", "USD")
    task = CheckInTask.objects.create(pursuit=by_check_in, user=user, due_at=frozen.now)
    checkin_complete(task=task, user=user, outcome="won")
    other = make_user(email="bob@example.org")
    pursuit_confirm(pursuit=_submitted(other, "Bob's", "1", "EUR"), user=other, state="won")

    assert game_plan(user, frozen.now)["total_won"] == [
        {"amount": Decimal("1500.50"), "currency": "EUR"},
        {"amount": Decimal("250.00"), "currency": "USD"},
    ]
    # A win nobody confirmed (not reachable through the services) does not count.
    Pursuit.objects.filter(title="USD").update(confirmed_at=None)
    assert game_plan(user, frozen.now)["total_won"] == [
        {"amount": Decimal("1500.50"), "currency": "EUR"},
        {"amount": Decimal("50.00"), "currency": "USD"},
    ]
    assert game_plan(make_user(email="new@example.org"), frozen.now)["total_won"] == []


def test_internal_pending_win_is_not_counted_until_confirmed(apply, program, operator, frozen):
    application = apply()
    pursuit = Pursuit.objects.get(application=application)
    # A program's pursuit carries no award amount of its own.
    assert (pursuit.award_amount, pursuit.award_currency) == (None, "")
    decision_make(application=application, decision="accepted", reason="Strong", actor=operator)
    assert game_plan(application.applicant, frozen.now)["total_won"] == []


# Queries.


def test_empty_plan_in_four_queries(user, frozen, django_assert_num_queries):
    with django_assert_num_queries(4):
        plan = game_plan(user, frozen.now)
    assert plan == {
        "top": [],
        "check_ins": [],
        "to_confirm": [],
        "micro_task": None,
        "snoozed_until": None,
        "total_won": [],
    }


def test_full_plan_in_five_queries(
    user,
    apply,
    program,
    operator,
    frozen,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    program_update(program=program, data={"closes_at": FROZEN + timedelta(days=30)})
    decision_make(application=apply(user), decision="accepted", reason="Strong", actor=operator)
    for i in range(12):
        _add(user, f"Open {i:02}", 3 + i, round(i / 12, 2), application_type="essay")
    for i in range(6):
        pursuit = _submitted(user, f"Sent {i}", "100", "EUR" if i % 2 else "USD")
        CheckInTask.objects.create(pursuit=pursuit, user=user, due_at=FROZEN + timedelta(days=21))
        if i < 3:
            pursuit_confirm(pursuit=pursuit, user=user, state="won")
    snooze_set(user=user, until=FROZEN + timedelta(days=2, hours=1))
    frozen.advance(days=2)

    with django_assert_max_num_queries(5):
        game_plan(user, frozen.now)
    with django_assert_num_queries(4):
        plan = game_plan(user, frozen.now)
    # Reading what the plan shows needs no more queries.
    with django_assert_num_queries(0):
        shown = {
            "top": [(p.title, p.momentum_score) for p in plan["top"]],
            "to_confirm": [p.title for p in plan["to_confirm"]],
            "check_ins": [t.pursuit.title for t in plan["check_ins"]],
            "micro_task": plan["micro_task"]["title"],
            "snoozed_until": plan["snoozed_until"],
            "total_won": plan["total_won"],
        }
    assert shown == {
        # 0.6 x (1 - (3 + i) / 60) + 0.4 x round(i / 12, 2), scored when added.
        "top": [("Open 11", 0.828), ("Open 10", 0.802), ("Open 09", 0.78)],
        "to_confirm": ["Mentorship 2026"],
        "check_ins": [],
        "micro_task": "Open 00",
        "snoozed_until": FROZEN + timedelta(days=2, hours=1),
        "total_won": [
            {"amount": Decimal("100.00"), "currency": "EUR"},
            {"amount": Decimal("200.00"), "currency": "USD"},
        ],
    }
    frozen.advance(days=19)
    with django_assert_num_queries(4):
        plan = game_plan(user, frozen.now)
    with django_assert_num_queries(0):
        # The won ones' check-ins are moot and left out.
        assert sorted(t.pursuit.title for t in plan["check_ins"]) == ["Sent 3", "Sent 4", "Sent 5"]

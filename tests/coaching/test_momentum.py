# ruff: noqa: F811
# (the fixtures of tests/applications/conftest.py are imported by name)
"""Momentum = 0.6 x deadline proximity + 0.4 x trust. Proximity rises linearly over the 60 days
before the deadline; past-deadline and closed pursuits have none. Trust: the program's
(ProgramTrust, default 0.8) for internal pursuits, the person's or an operator's (default 0.5)
for external ones."""

from datetime import UTC, datetime, timedelta

import pytest

from coaching import momentum as rules
from coaching.enums import OPEN_STATES, CoachState
from coaching.models import ProgramTrust, Pursuit
from coaching.momentum import deadline_proximity, momentum
from coaching.services import pursuit_create_external, pursuit_update, trust_of
from coaching.services.pursuits import refresh_momentum
from tests.applications.conftest import applicant, apply, form, frozen, tracks  # noqa: F401

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_constants():
    assert (rules.HORIZON_DAYS, rules.DEADLINE_WEIGHT, rules.TRUST_WEIGHT) == (60, 0.6, 0.4)
    assert (rules.DEFAULT_PROGRAM_TRUST, rules.DEFAULT_EXTERNAL_TRUST) == (0.8, 0.5)


@pytest.mark.parametrize(
    ("left", "proximity"),
    [
        (timedelta(days=365), 0.0),
        (timedelta(days=61), 0.0),
        (timedelta(days=60), 0.0),
        (timedelta(days=45), 0.25),
        (timedelta(days=30), 0.5),
        (timedelta(days=15), 0.75),
        (timedelta(days=6), 0.9),
        (timedelta(hours=36), 0.975),
        (timedelta(0), 1.0),
        (-timedelta(days=3), 1.0),
    ],
)
def test_deadline_proximity_curve(left, proximity):
    assert deadline_proximity(NOW + left, NOW) == pytest.approx(proximity, abs=1e-12)


def test_no_deadline_has_no_proximity():
    assert deadline_proximity(None, NOW) == 0.0


@pytest.mark.parametrize(
    ("left", "trust", "score"),
    [
        (timedelta(days=90), 0.5, 0.2),  # beyond the horizon: trust only
        (timedelta(days=60), 1.0, 0.4),
        (timedelta(days=30), 0.5, 0.5),  # 0.6 x 0.5 + 0.4 x 0.5
        (timedelta(days=30), 0.8, 0.62),
        (timedelta(days=15), 0.0, 0.45),
        (timedelta(days=6), 1.0, 0.94),
        (timedelta(minutes=1), 1.0, 1.0),  # 0.99999 rounds to 1 at 4 decimals
        (timedelta(days=20), 0.25, 0.5),  # 0.6 x 2/3 + 0.1
        (timedelta(days=7), 0.3, 0.65),  # 0.6 x 53/60 + 0.12 = 0.65
    ],
)
def test_momentum_formula(left, trust, score):
    assert momentum(deadline=NOW + left, trust=trust, now=NOW, open_=True) == score


def test_momentum_has_four_decimals():
    assert momentum(deadline=NOW + timedelta(days=7), trust=1 / 3, now=NOW, open_=True) == 0.6633


@pytest.mark.parametrize(("trust", "score"), [(0.5, 0.2), (0.8, 0.32), (0.0, 0.0), (1.0, 0.4)])
def test_no_deadline_counts_trust_only(trust, score):
    assert momentum(deadline=None, trust=trust, now=NOW, open_=True) == score


@pytest.mark.parametrize(("trust", "score"), [(-0.5, 0.3), (1.7, 0.7)])
def test_trust_is_clipped_to_zero_one(trust, score):
    assert momentum(deadline=NOW + timedelta(days=30), trust=trust, now=NOW, open_=True) == score


@pytest.mark.parametrize("left", [timedelta(0), -timedelta(seconds=1), -timedelta(days=10)])
def test_at_or_past_the_deadline_drops_out(left):
    assert momentum(deadline=NOW + left, trust=1.0, now=NOW, open_=True) is None
    assert momentum(deadline=NOW + timedelta(seconds=1), trust=1.0, now=NOW, open_=True) == 1.0


@pytest.mark.parametrize("deadline", [None, NOW + timedelta(days=10)])
def test_closed_drops_out(deadline):
    assert momentum(deadline=deadline, trust=0.9, now=NOW, open_=False) is None


# Trust sources, through the services.


def test_external_trust_set_or_default(make_user, frozen):
    user = make_user()
    deadline = frozen.now + timedelta(days=30)
    plain = pursuit_create_external(user=user, data={"title": "Residency", "deadline": deadline})
    trusted = pursuit_create_external(user=user, data={"title": "Grant", "deadline": deadline, "trust_score": 0.9})
    assert (trust_of(plain), trust_of(trusted)) == (0.5, 0.9)
    assert (plain.momentum_score, trusted.momentum_score) == (0.5, 0.66)
    # The person changes the trust: momentum follows at once.
    plain = pursuit_update(pursuit=plain, user=user, data={"trust_score": 0.0})
    assert (trust_of(plain), plain.momentum_score) == (0.0, 0.3)
    plain = pursuit_update(pursuit=plain, user=user, data={"trust_score": None})
    assert (trust_of(plain), plain.momentum_score) == (0.5, 0.5)
    assert list(Pursuit.objects.order_by("title").values_list("momentum_score", flat=True)) == [0.66, 0.5]


def test_internal_trust_from_program(apply, program, frozen):
    from programs.services import program_update

    program_update(program=program, data={"closes_at": frozen.now + timedelta(days=30)})
    application = apply(submit=False)
    pursuit = Pursuit.objects.get(application=application)
    assert (trust_of(pursuit), pursuit.momentum_score) == (0.8, 0.62)  # no ProgramTrust row: 0.8
    ProgramTrust.objects.create(program=program, trust_score=0.3)
    pursuit = Pursuit.objects.get(pk=pursuit.pk)
    assert trust_of(pursuit) == 0.3
    refresh_momentum(pursuit, frozen.now)
    assert pursuit.momentum_score == 0.42
    # The person's own trust score never counts for a program's pursuit.
    Pursuit.objects.filter(pk=pursuit.pk).update(trust_score=1.0)
    assert trust_of(Pursuit.objects.get(pk=pursuit.pk)) == 0.3


@pytest.mark.parametrize("state", [s for s in CoachState.values if s not in OPEN_STATES])
def test_closed_states_drop_out(make_user, frozen, state):
    pursuit = pursuit_create_external(
        user=make_user(), data={"title": "Grant", "deadline": frozen.now + timedelta(days=30)}
    )
    assert pursuit.momentum_score == 0.5
    pursuit.coach_state = state
    refresh_momentum(pursuit, frozen.now)
    assert pursuit.momentum_score is None


@pytest.mark.parametrize("state", OPEN_STATES)
def test_open_states_carry_momentum(make_user, frozen, state):
    pursuit = pursuit_create_external(
        user=make_user(), data={"title": "Grant", "deadline": frozen.now + timedelta(days=15), "trust_score": 1}
    )
    pursuit.coach_state = state
    refresh_momentum(pursuit, frozen.now)
    assert pursuit.momentum_score == 0.85

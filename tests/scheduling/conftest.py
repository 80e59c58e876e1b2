"""Fixtures of the scheduling tests, built through the product's services."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core import clock
from enrollments.services import enrollment_create
from programs.models import ProgramTrack
from scheduling.services import cohort_create

FROZEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch):
    """Move the product's clock (core.clock.now) to a fixed instant; returns a setter."""
    state = {"now": FROZEN}
    monkeypatch.setattr(clock, "now", lambda: state["now"])

    def _set(value: datetime) -> None:
        state["now"] = value

    return _set


@pytest.fixture
def enroll(make_user, program):
    """An active mentee enrollment of `program` (or another program) for a new user."""

    def _enroll(email: str | None = None, *, in_program=None, role: str = "mentee"):
        user = make_user(email=email)
        return enrollment_create(user=user, program=in_program or program, role=role)

    return _enroll


@pytest.fixture
def make_cohort(program):
    def _make(name: str = "Spring 2026", *, in_program=None, capacity: int = 3, **fields):
        fields.setdefault("starts_on", date(2026, 4, 1))
        fields.setdefault("ends_on", date(2026, 6, 30))
        return cohort_create(program=in_program or program, name=name, capacity=capacity, **fields)

    return _make


@pytest.fixture
def cohort(make_cohort):
    return make_cohort()


@pytest.fixture
def track(program) -> ProgramTrack:
    # Tracks have no service of their own yet (the application form defines them).
    return ProgramTrack.objects.create(program=program, key="screen", name="Screenwriting")

"""A cohort's capacity holds under concurrent placements, raced on PostgreSQL with real
transactions; a control with the row lock removed shows the race is real."""

from __future__ import annotations

import time
from datetime import date

import pytest

import scheduling.services.cohorts as services
from enrollments.services import enrollment_create
from scheduling.models import Cohort, CohortMember
from tests.concurrency import race as _race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

THREADS = 20
CAPACITY = 5
WINDOW_SECONDS = 0.05


@pytest.fixture
def small_cohort(program) -> Cohort:
    return services.cohort_create(
        program=program, name="Tiny", starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30), capacity=CAPACITY
    )


@pytest.fixture
def enrollments(make_user, program):
    return [enrollment_create(user=make_user(), program=program, role="mentee") for _ in range(THREADS)]


@pytest.fixture
def wide_window(monkeypatch):
    """Sleep between counting the active members and inserting, so unserialised transactions overlap."""
    counted = []
    real = services._active_members

    def slow_active_members(cohort):
        taken = real(cohort)
        counted.append(taken)
        time.sleep(WINDOW_SECONDS)
        return taken

    monkeypatch.setattr(services, "_active_members", slow_active_members)
    return counted


def _add_calls(cohort, enrollments):
    return [(lambda e=e: services.cohort_member_add(cohort=cohort, enrollment=e)) for e in enrollments]


def test_parallel_adds_never_exceed_the_capacity(small_cohort, enrollments, wide_window):
    results, conflicts, errors = _race(_add_calls(small_cohort, enrollments))

    assert errors == []
    assert len(results) == CAPACITY
    assert len(conflicts) == THREADS - CAPACITY
    assert {str(c) for c in conflicts} == {"The cohort 'Tiny' is full: 5 of 5 places are taken."}
    members = CohortMember.objects.filter(cohort=small_cohort)
    assert members.count() == CAPACITY
    assert set(members.values_list("enrollment_id", flat=True)) == {m.enrollment_id for m in results}
    # The lock serialised the counts: each thread saw the places taken by those before it.
    assert sorted(wide_window) == [0, 1, 2, 3, 4] + [5] * (THREADS - CAPACITY)


def test_control_without_the_lock_overbooks(small_cohort, enrollments, wide_window, monkeypatch):
    monkeypatch.setattr(
        services,
        "_lock_cohort",
        lambda cohort_id: Cohort.objects.select_related("program").get(pk=cohort_id),
    )

    results, conflicts, errors = _race(_add_calls(small_cohort, enrollments))

    assert errors == []
    created = CohortMember.objects.filter(cohort=small_cohort).count()
    assert created > CAPACITY
    assert created == len(results)
    assert len(results) + len(conflicts) == THREADS


def test_one_enrollment_racing_into_two_cohorts_gets_one_active_membership(program, enrollments):
    spring, autumn = (
        services.cohort_create(
            program=program, name=name, starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30), capacity=CAPACITY
        )
        for name in ("Spring", "Autumn")
    )
    ada = enrollments[0]
    calls = [(lambda c=cohort: services.cohort_member_add(cohort=c, enrollment=ada)) for cohort in [spring, autumn] * 5]

    results, conflicts, errors = _race(calls)

    assert errors == []
    assert (len(results), len(conflicts)) == (1, 9)
    assert CohortMember.objects.filter(enrollment=ada, status="active").count() == 1


def test_moves_in_opposite_directions_do_not_deadlock(program, enrollments):
    spring, autumn = (
        services.cohort_create(
            program=program, name=name, starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30), capacity=10
        )
        for name in ("Spring", "Autumn")
    )
    in_spring = [services.cohort_member_add(cohort=spring, enrollment=e) for e in enrollments[:5]]
    in_autumn = [services.cohort_member_add(cohort=autumn, enrollment=e) for e in enrollments[5:10]]
    calls = [(lambda m=m: services.cohort_member_move(member=m, to_cohort=autumn)) for m in in_spring]
    calls += [(lambda m=m: services.cohort_member_move(member=m, to_cohort=spring)) for m in in_autumn]

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts, len(results)) == ([], [], 10)
    active = CohortMember.objects.filter(status="active")
    assert set(active.filter(cohort=autumn).values_list("enrollment_id", flat=True)) == {e.pk for e in enrollments[:5]}
    assert set(active.filter(cohort=spring).values_list("enrollment_id", flat=True)) == {
        e.pk for e in enrollments[5:10]
    }

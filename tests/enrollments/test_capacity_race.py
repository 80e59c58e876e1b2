"""A campaign's max_enrollment holds under concurrent enrollments, raced on PostgreSQL with real
transactions; a control with the row lock removed shows the race is real."""

from __future__ import annotations

import time

import pytest

import enrollments.services as services
from enrollments.journey import journey_flags_compute
from enrollments.models import Enrollment, JourneyFlags
from enrollments.selectors import users_with_stale_journey_flags
from programs.models import Campaign
from programs.services import campaign_create
from tests.concurrency import race as _race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

THREADS = 20
CAPACITY = 5
WINDOW_SECONDS = 0.05


@pytest.fixture
def small_campaign(program, company) -> Campaign:
    return campaign_create(program=program, company=company, name="Tiny", max_enrollment=CAPACITY)


@pytest.fixture
def wide_window(monkeypatch):
    """Sleep between counting the places and inserting, so unserialised transactions overlap."""
    counted = []
    real = services._places_taken

    def slow_places_taken(campaign):
        taken = real(campaign)
        counted.append(taken)
        time.sleep(WINDOW_SECONDS)
        return taken

    monkeypatch.setattr(services, "_places_taken", slow_places_taken)
    return counted


def _enroll_calls(users, program, campaign):
    return [
        (lambda u=user: services.enrollment_create(user=u, program=program, campaign=campaign, role="mentee"))
        for user in users
    ]


def test_parallel_enrollments_never_exceed_max(make_user, program, small_campaign, wide_window):
    users = [make_user() for _ in range(THREADS)]

    results, conflicts, errors = _race(_enroll_calls(users, program, small_campaign))

    assert errors == []
    assert len(results) == CAPACITY
    assert len(conflicts) == THREADS - CAPACITY
    assert {str(c) for c in conflicts} == {"The campaign 'Tiny' is full: 5 of 5 places are taken."}
    assert Enrollment.objects.filter(campaign=small_campaign).count() == CAPACITY
    assert set(Enrollment.objects.values_list("user_id", flat=True)) == {e.user_id for e in results}
    # The lock serialised the counts: each thread saw the places taken by those before it.
    assert sorted(wide_window) == [0, 1, 2, 3, 4] + [5] * (THREADS - CAPACITY)


def test_control_without_the_lock_overbooks(make_user, program, small_campaign, wide_window, monkeypatch):
    monkeypatch.setattr(services, "_lock_campaign", lambda campaign_id: Campaign.objects.get(pk=campaign_id))
    users = [make_user() for _ in range(THREADS)]

    results, conflicts, errors = _race(_enroll_calls(users, program, small_campaign))

    assert errors == []
    created = Enrollment.objects.filter(campaign=small_campaign).count()
    assert created > CAPACITY
    assert created == len(results)
    assert len(results) + len(conflicts) == THREADS


def test_the_same_user_racing_into_one_program_role_gets_one_enrollment(make_user, program, small_campaign):
    user = make_user(email="eager@example.org")
    calls = [
        lambda: services.enrollment_create(user=user, program=program, campaign=small_campaign, role="mentee")
        for _ in range(10)
    ]

    results, conflicts, errors = _race(calls)

    assert errors == []
    assert len(results) == 1
    assert len(conflicts) == 9
    assert all(
        str(c).startswith("eager@example.org is already enrolled in 'Mentorship 2026' as mentee") for c in conflicts
    )
    assert Enrollment.objects.filter(user=user).count() == 1


def test_the_same_user_racing_without_a_campaign_gets_one_enrollment(make_user, program):
    user = make_user(email="eager2@example.org")
    calls = [lambda: services.enrollment_create(user=user, program=program, role="mentor") for _ in range(10)]

    results, conflicts, errors = _race(calls)

    assert errors == []
    assert (len(results), len(conflicts)) == (1, 9)
    assert Enrollment.objects.filter(user=user).count() == 1


def test_one_user_enrolling_in_many_programs_at_once_keeps_exact_journey_flags(
    make_user, make_program, mentorship_template
):
    programs = [make_program(mentorship_template, name=f"Mentorship {n}") for n in range(8)]
    user = make_user(email="busy@example.org")
    calls = [(lambda p=p: services.enrollment_create(user=user, program=p, role="mentee")) for p in programs]

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts, len(results)) == ([], [], 8)
    flags = JourneyFlags.objects.get(user=user).flags
    assert flags == journey_flags_compute(user.id)
    assert (flags["programs_count"], flags["active_enrollments_count"], flags["is_mentorship_mentee"]) == (8, 8, True)
    assert users_with_stale_journey_flags() == []

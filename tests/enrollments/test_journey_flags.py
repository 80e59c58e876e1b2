"""Journey flags (source 001): the services keep each user's cross-program flags current."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import clock
from enrollments.journey import journey_flags_compute
from enrollments.models import JourneyFlags
from enrollments.services import enrollment_create, enrollment_set_status, journey_flags_refresh

pytestmark = pytest.mark.django_db

JAN_10 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
JUN_15 = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)
JUL_01 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
AUG_20 = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def at(monkeypatch):
    state = {"now": JUN_15}
    monkeypatch.setattr(clock, "now", lambda: state["now"])

    def _set(value: datetime) -> None:
        state["now"] = value

    return _set


def _stored(user) -> dict:
    return JourneyFlags.objects.get(user=user).flags


def test_mentee_and_buddy_participant(make_user, program, buddy_program, at):
    user = make_user()
    enrollment_create(user=user, program=program, role="mentee", enrolled_at=JAN_10)
    enrollment_create(user=user, program=buddy_program, role="participant", enrolled_at=JUN_15)

    expected = {
        "is_mentorship_mentee": True,
        "mentorship_joined_at": "2026-01-10",
        "is_buddy_participant": True,
        "buddy_joined_at": "2026-06-15",
        "programs_count": 2,
        "active_program_types": ["buddy", "mentorship"],
        "active_enrollments_count": 2,
        "completed_enrollments_count": 0,
        "dropped_enrollments_count": 0,
    }
    assert _stored(user) == expected
    assert journey_flags_compute(user.id) == expected
    assert JourneyFlags.objects.filter(user=user).count() == 1


def test_dropping_one_updates_the_flags(make_user, program, buddy_program, at):
    user = make_user()
    enrollment_create(user=user, program=program, role="mentee", enrolled_at=JAN_10)
    buddy = enrollment_create(user=user, program=buddy_program, role="participant", enrolled_at=JUN_15)
    at(JUL_01)

    enrollment_set_status(enrollment=buddy, status="dropped", reason="moved away")

    assert _stored(user) == {
        "is_mentorship_mentee": True,
        "mentorship_joined_at": "2026-01-10",
        "is_buddy_participant": False,
        "buddy_joined_at": "2026-06-15",
        "programs_count": 1,
        "active_program_types": ["mentorship"],
        "active_enrollments_count": 1,
        "completed_enrollments_count": 0,
        "dropped_enrollments_count": 1,
    }


def test_completing_and_reactivating(make_user, program, buddy_program, at):
    user = make_user()
    mentee = enrollment_create(user=user, program=program, role="mentee", enrolled_at=JAN_10)
    buddy = enrollment_create(user=user, program=buddy_program, role="participant", enrolled_at=JUN_15)
    enrollment_set_status(enrollment=buddy, status="dropped")
    at(AUG_20)

    enrollment_set_status(enrollment=mentee, status="completed")
    enrollment_set_status(enrollment=buddy, status="active", reason="came back")

    assert _stored(user) == {
        "is_mentorship_mentee": False,
        "mentorship_joined_at": "2026-01-10",
        "mentorship_completed_at": "2026-08-20",
        "is_buddy_participant": True,
        "buddy_joined_at": "2026-06-15",
        "programs_count": 1,
        "active_program_types": ["buddy"],
        "active_enrollments_count": 1,
        "completed_enrollments_count": 1,
        "dropped_enrollments_count": 0,
    }


def test_two_roles_in_one_type_and_two_programs_of_one_type(make_user, program, make_program, mentorship_template, at):
    second = make_program(mentorship_template, name="Mentors for Ukraine")
    user = make_user()
    enrollment_create(user=user, program=program, role="mentee", enrolled_at=JAN_10)
    dropped = enrollment_create(user=user, program=second, role="mentee", enrolled_at=JUN_15)
    enrollment_create(user=user, program=second, role="mentor", enrolled_at=JUN_15)
    enrollment_set_status(enrollment=dropped, status="dropped")

    flags = _stored(user)

    assert flags == {
        "is_mentorship_mentee": True,  # still active as mentee in the first program
        "is_mentorship_mentor": True,
        "mentorship_joined_at": "2026-01-10",
        "programs_count": 2,
        "active_program_types": ["mentorship"],
        "active_enrollments_count": 2,
        "completed_enrollments_count": 0,
        "dropped_enrollments_count": 1,
    }


def test_flags_of_one_user_never_change_another_users(make_user, program, buddy_program, at):
    alice, bob = make_user(), make_user()
    enrollment_create(user=alice, program=program, role="mentee", enrolled_at=JAN_10)
    enrollment_create(user=bob, program=buddy_program, role="buddy", enrolled_at=JUN_15)

    assert _stored(alice)["is_mentorship_mentee"] is True
    assert "is_buddy_buddy" not in _stored(alice)
    assert _stored(bob) == {
        "is_buddy_buddy": True,
        "buddy_joined_at": "2026-06-15",
        "programs_count": 1,
        "active_program_types": ["buddy"],
        "active_enrollments_count": 1,
        "completed_enrollments_count": 0,
        "dropped_enrollments_count": 0,
    }


def test_refresh_repairs_tampered_flags_and_keeps_one_row(make_user, program, at):
    user = make_user()
    enrollment_create(user=user, program=program, role="mentee", enrolled_at=JAN_10)
    good = _stored(user)
    JourneyFlags.objects.filter(user=user).update(flags={"programs_count": 99})

    record = journey_flags_refresh(user_id=user.id)

    assert record.flags == good
    assert _stored(user) == good
    assert JourneyFlags.objects.filter(user=user).count() == 1


def test_refresh_of_a_user_without_enrollments(make_user):
    user = make_user()

    record = journey_flags_refresh(user_id=user.id)

    assert record.flags == {
        "programs_count": 0,
        "active_program_types": [],
        "active_enrollments_count": 0,
        "completed_enrollments_count": 0,
        "dropped_enrollments_count": 0,
    }


def test_api_enrollment_updates_the_flags(operator_api, make_user, program, at):
    at(JUN_15)
    user = make_user()

    response = operator_api.post(
        "/api/v1/admin/enrollments",
        {"user_id": str(user.id), "program_id": str(program.id), "role": "mentor"},
        format="json",
    )
    assert response.status_code == 201
    assert _stored(user)["is_mentorship_mentor"] is True
    assert _stored(user)["programs_count"] == 1

    dropped = operator_api.patch(
        f"/api/v1/admin/enrollments/{response.json()['id']}", {"status": "dropped"}, format="json"
    )
    assert dropped.status_code == 200
    assert (_stored(user)["is_mentorship_mentor"], _stored(user)["programs_count"]) == (False, 0)


def test_completed_at_is_the_latest_completion_whatever_the_enrollment_order(
    make_user, program, make_program, mentorship_template, at
):
    second = make_program(mentorship_template, name="Mentors for Ukraine")
    user = make_user()
    first_joined = enrollment_create(user=user, program=program, role="mentee", enrolled_at=JAN_10)
    later_joined = enrollment_create(user=user, program=second, role="mentee", enrolled_at=JUN_15)
    at(AUG_20)
    enrollment_set_status(enrollment=first_joined, status="completed")
    at(JUL_01)
    enrollment_set_status(enrollment=later_joined, status="completed")

    flags = _stored(user)

    assert (flags["mentorship_joined_at"], flags["mentorship_completed_at"]) == ("2026-01-10", "2026-08-20")
    assert (flags["completed_enrollments_count"], flags["programs_count"]) == (2, 0)

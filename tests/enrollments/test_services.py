"""The enrollment services: the rules every entry point (API, admin, jobs) shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from core import clock
from core.errors import Conflict, IllegalTransition, ValidationFailed
from core.models import AuditEntry
from enrollments.models import Enrollment
from enrollments.services import (
    ENROLLMENT_TRANSITIONS,
    campaign_max_enrollment_check,
    enrollment_create,
    enrollment_set_status,
)
from programs.services import campaign_create, campaign_update, program_set_status

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _actions(enrollment) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=str(enrollment.pk)).order_by("created_at").values_list("action", flat=True)
    )


def test_transition_table():
    assert {k: set(v) for k, v in ENROLLMENT_TRANSITIONS.allowed.items()} == {
        "active": {"completed", "dropped"},
        "dropped": {"active"},
        "completed": set(),
    }


def test_create_copies_the_programs_type_and_group(make_user, make_program, buddy_template, other_group, operator):
    program = make_program(buddy_template, name="Buddy Warsaw", beneficiary_group=other_group)
    user = make_user()

    enrollment = enrollment_create(
        user=user, program=program, role="participant", source_system="import", reason="import 2026", actor=operator
    )

    row = Enrollment.objects.get(pk=enrollment.pk)
    assert (row.program_type, row.beneficiary_group_id, row.campaign_id) == ("buddy", other_group.id, None)
    assert (row.role, row.source_system, row.status, row.enrolled_at, row.reason) == (
        "participant",
        "import",
        "active",
        NOW,
        "import 2026",
    )
    audit = AuditEntry.objects.get(target_id=str(row.pk))
    assert (audit.action, audit.actor_id, audit.actor_label, audit.reason) == (
        "enrollment.created",
        operator.id,
        "operator@example.org",
        "import 2026",
    )


def test_create_accepts_a_past_enrolled_at_but_not_a_future_one(make_user, program):
    past = NOW - timedelta(days=30)
    row = enrollment_create(user=make_user(), program=program, role="mentee", enrolled_at=past)
    assert Enrollment.objects.get(pk=row.pk).enrolled_at == past

    with pytest.raises(ValidationFailed) as excinfo:
        enrollment_create(user=make_user(), program=program, role="mentee", enrolled_at=NOW + timedelta(minutes=1))
    assert excinfo.value.errors == {"enrolled_at": "An enrollment cannot start in the future."}


def test_create_reports_every_invalid_field_at_once(make_user, program, buddy_program, company):
    foreign = campaign_create(program=buddy_program, company=company, name="Buddies", max_enrollment=3)

    with pytest.raises(ValidationFailed) as excinfo:
        enrollment_create(user=make_user(), program=program, role="pilot", source_system="fax", campaign=foreign)

    assert excinfo.value.errors == {
        "role": "'pilot' is not a role of this program. Roles: mentee, mentor.",
        "source_system": "Use one of: platform, buddy, kintell, upskilling, import.",
        "campaign_id": "This campaign belongs to another program.",
    }
    assert Enrollment.objects.count() == 0


@pytest.mark.parametrize("status", ["paused", "closed"])
def test_only_active_programs_take_enrollments(make_user, program, status):
    program_set_status(program=program, status=status)

    with pytest.raises(Conflict) as excinfo:
        enrollment_create(user=make_user(), program=program, role="mentee")

    assert str(excinfo.value) == f"The program 'Mentorship 2026' is {status} and takes no enrollments."
    assert Enrollment.objects.count() == 0


def test_a_dropped_duplicate_hints_at_reactivation(make_user, program):
    user = make_user(email="back@example.org")
    enrollment_set_status(enrollment=enrollment_create(user=user, program=program, role="mentee"), status="dropped")

    with pytest.raises(Conflict) as excinfo:
        enrollment_create(user=user, program=program, role="mentee")

    assert str(excinfo.value) == (
        "back@example.org is already enrolled in 'Mentorship 2026' as mentee (dropped). Reactivate it instead."
    )


def test_the_database_holds_one_enrollment_per_user_program_role(make_user, program):
    existing = enrollment_create(user=make_user(), program=program, role="mentee")

    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(
            user=existing.user,
            program=program,
            beneficiary_group=program.beneficiary_group,
            program_type="mentorship",
            role="mentee",
            enrolled_at=NOW,
        )


def test_the_database_refuses_a_completed_enrollment_without_completed_at(make_user, program):
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")

    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(status="completed")


def test_capacity_counts_active_and_completed_but_not_dropped(make_user, program, campaign):
    rows = [enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee") for _ in range(5)]
    enrollment_set_status(enrollment=rows[0], status="completed")
    enrollment_set_status(enrollment=rows[1], status="dropped")

    enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")
    with pytest.raises(Conflict, match=r"^The campaign 'Acme Mentorship' is full: 5 of 5 places are taken\.$"):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentor")

    assert Enrollment.objects.filter(campaign=campaign).count() == 6
    assert Enrollment.objects.filter(campaign=campaign, status__in=["active", "completed"]).count() == 5


def test_raising_max_enrollment_opens_places(make_user, program, campaign):
    for _ in range(5):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")
    campaign_update(campaign=campaign, data={"max_enrollment": 6})

    enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")

    assert Enrollment.objects.filter(campaign=campaign).count() == 6


def test_capacity_hook_refuses_a_maximum_below_the_places_taken(make_user, program, campaign):
    for _ in range(3):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")

    assert campaign_max_enrollment_check(campaign, 3) is None
    assert campaign_max_enrollment_check(campaign, 2) == (
        "The campaign already holds 3 enrollments; the maximum cannot be lowered to 2."
    )
    with pytest.raises(Conflict):
        campaign_update(campaign=campaign, data={"max_enrollment": 2, "target_enrollment": 1})
    campaign.refresh_from_db()
    assert (campaign.max_enrollment, campaign.target_enrollment) == (5, 3)


def test_complete_then_nothing_moves_it(make_user, program, operator):
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")

    done = enrollment_set_status(enrollment=enrollment, status="completed", reason="all sessions", actor=operator)

    assert (done.status, done.completed_at, done.reason) == ("completed", NOW, "all sessions")
    for target in ("active", "dropped"):
        with pytest.raises(IllegalTransition):
            enrollment_set_status(enrollment=enrollment, status=target, reason="please")
    row = Enrollment.objects.get(pk=enrollment.pk)
    assert (row.status, row.completed_at) == ("completed", NOW)
    assert _actions(enrollment) == ["enrollment.created", "enrollment.status_changed"]


def test_setting_the_current_status_changes_nothing(make_user, program):
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")

    same = enrollment_set_status(enrollment=enrollment, status="active", reason="")

    assert same.status == "active"
    assert _actions(enrollment) == ["enrollment.created"]


def test_unknown_status_is_a_validation_error(make_user, program):
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")

    with pytest.raises(ValidationFailed) as excinfo:
        enrollment_set_status(enrollment=enrollment, status="paused")

    assert excinfo.value.errors == {"status": "Use one of: active, completed, dropped."}


def test_drop_and_reactivate_without_a_campaign(make_user, program, operator):
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")
    enrollment_set_status(enrollment=enrollment, status="dropped", reason="no show")
    row = Enrollment.objects.get(pk=enrollment.pk)
    assert (row.status, row.dropped_at, row.reason) == ("dropped", NOW, "no show")

    with pytest.raises(ValidationFailed) as excinfo:
        enrollment_set_status(enrollment=enrollment, status="active")
    assert excinfo.value.errors == {"reason": "Reactivating a dropped enrollment needs a reason."}

    back = enrollment_set_status(enrollment=enrollment, status="active", reason="showed up", actor=operator)

    row = Enrollment.objects.get(pk=enrollment.pk)
    assert (back.status, row.status, row.dropped_at, row.reason) == ("active", "active", None, "showed up")
    assert _actions(enrollment) == ["enrollment.created", "enrollment.status_changed", "enrollment.reactivated"]
    audit = AuditEntry.objects.get(target_id=str(enrollment.pk), action="enrollment.reactivated")
    assert (audit.actor_id, audit.reason) == (operator.id, "showed up")


def test_reactivation_takes_a_place_again(make_user, program, campaign):
    first = enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")
    enrollment_set_status(enrollment=first, status="dropped")
    for _ in range(4):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")

    enrollment_set_status(enrollment=first, status="active", reason="back")

    with pytest.raises(Conflict, match="is full: 5 of 5"):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")

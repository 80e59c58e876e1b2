"""Cohort services: creating and changing cohorts, their lifecycle, and placing, removing, moving
and settling members, each change with its audit row."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from core.errors import Conflict, IllegalTransition, ValidationFailed
from core.models import AuditEntry
from enrollments.services import enrollment_set_status
from programs.models import ProgramTrack
from programs.services import program_set_status
from scheduling import hooks
from scheduling.models import Cohort, CohortMember
from scheduling.services import (
    cohort_complete,
    cohort_create,
    cohort_member_add,
    cohort_member_move,
    cohort_member_remove,
    cohort_set_status,
    cohort_update,
)
from tests.scheduling.conftest import FROZEN

pytestmark = pytest.mark.django_db


def _audits(target, action: str | None = None) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(target_id=str(target.pk)).order_by("created_at", "id")
    return list(entries.filter(action=action) if action else entries)


def _statuses(cohort) -> dict[str, str]:
    return {m.enrollment.user.email: m.status for m in CohortMember.objects.filter(cohort=cohort).select_related()}


@pytest.fixture
def rules(monkeypatch):
    """Completion rules registered for one test only."""
    monkeypatch.setattr(hooks, "_completion_rules", [])
    return hooks


# --- Cohorts ------------------------------------------------------------------------------------


def test_create_a_cohort_with_its_audit_row(program, track, operator):
    cohort = cohort_create(
        program=program,
        track=track,
        name="  Spring 2026 ",
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 6, 30),
        capacity=12,
        actor=operator,
    )
    cohort.refresh_from_db()
    assert (cohort.program_id, cohort.track_id, cohort.name, cohort.capacity, cohort.status) == (
        program.pk,
        track.pk,
        "Spring 2026",
        12,
        "planned",
    )
    [entry] = _audits(cohort)
    assert (entry.action, entry.actor_id, entry.actor_label) == ("cohort.created", operator.pk, "operator@example.org")
    assert entry.changes == {
        "program": str(program.pk),
        "track": str(track.pk),
        "name": "Spring 2026",
        "starts_on": "2026-04-01",
        "ends_on": "2026-06-30",
        "capacity": 12,
        "status": "planned",
    }


def test_create_refuses_bad_fields_naming_each(program, make_program, mentorship_template):
    other = make_program(mentorship_template, name="Other program")
    foreign_track = ProgramTrack.objects.create(program=other, key="x", name="X")
    with pytest.raises(ValidationFailed) as exc:
        cohort_create(
            program=program,
            track=foreign_track,
            name=" ",
            starts_on=date(2026, 4, 2),
            ends_on=date(2026, 4, 1),
            capacity=0,
            status="completed",
        )
    assert exc.value.errors == {
        "name": "A cohort needs a name.",
        "track_id": "This track belongs to another program.",
        "capacity": "A cohort holds at least 1 member.",
        "ends_on": "A cohort cannot end before it starts.",
        "status": "A new cohort starts as planned or active.",
    }
    assert Cohort.objects.count() == 0


def test_create_refuses_an_inactive_track_and_an_archived_program(program, track):
    track.active = False
    track.save(update_fields=["active"])
    with pytest.raises(ValidationFailed) as exc:
        cohort_create(
            program=program, track=track, name="A", starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 1), capacity=1
        )
    assert exc.value.errors == {"track_id": "The track 'Screenwriting' is inactive."}

    program_set_status(program=program, status="closed")
    program_set_status(program=program, status="archived")
    with pytest.raises(Conflict) as exc:
        cohort_create(program=program, name="A", starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 1), capacity=1)
    assert str(exc.value) == "The program 'Mentorship 2026' is archived; it takes no new cohorts."


def test_the_database_refuses_reversed_dates(program):
    # The service checks first; the constraint holds for any other writer.
    with pytest.raises(IntegrityError), transaction.atomic():
        Cohort.objects.create(
            program=program, name="x", starts_on=date(2026, 5, 2), ends_on=date(2026, 5, 1), capacity=1
        )


def test_update_settings_records_the_changes(cohort, operator):
    cohort_update(cohort=cohort, data={"name": "Spring cohort", "capacity": 5}, actor=operator, reason="bigger room")
    cohort.refresh_from_db()
    assert (cohort.name, cohort.capacity) == ("Spring cohort", 5)
    [entry] = _audits(cohort, "cohort.updated")
    assert entry.changes == {"name": ["Spring 2026", "Spring cohort"], "capacity": [3, 5]}
    assert entry.reason == "bigger room"


def test_update_without_changes_writes_no_audit_row(cohort):
    cohort_update(cohort=cohort, data={"name": "Spring 2026", "capacity": 3})
    assert _audits(cohort, "cohort.updated") == []


def test_update_refuses_unknown_fields_and_reversed_dates(cohort):
    with pytest.raises(ValidationFailed) as exc:
        cohort_update(cohort=cohort, data={"program": None})
    assert exc.value.errors == {"program": "This field cannot be changed."}
    with pytest.raises(ValidationFailed) as exc:
        cohort_update(cohort=cohort, data={"ends_on": date(2026, 3, 1)})
    assert exc.value.errors == {"ends_on": "A cohort cannot end before it starts."}


def test_capacity_cannot_drop_below_the_active_members(cohort, enroll):
    for n in range(2):
        cohort_member_add(cohort=cohort, enrollment=enroll())
    with pytest.raises(Conflict) as exc:
        cohort_update(cohort=cohort, data={"capacity": 1})
    assert str(exc.value) == "The cohort 'Spring 2026' has 2 active members; its capacity cannot be lowered to 1."
    cohort_update(cohort=cohort, data={"capacity": 2})
    cohort.refresh_from_db()
    assert cohort.capacity == 2


def test_status_transitions_follow_the_table(cohort, operator):
    with pytest.raises(IllegalTransition) as exc:
        cohort_set_status(cohort=cohort, status="completed")
    assert str(exc.value) == (
        "A cohort cannot go from 'planned' to 'completed'. Allowed from 'planned': active, cancelled."
    )
    cohort_set_status(cohort=cohort, status="active", actor=operator, reason="kick-off")
    cohort_set_status(cohort=cohort, status="active")  # the status it has: nothing happens
    cohort.refresh_from_db()
    assert cohort.status == "active"
    [entry] = _audits(cohort, "cohort.status_changed")
    assert (entry.changes, entry.reason, entry.actor_id) == ({"status": ["planned", "active"]}, "kick-off", operator.pk)
    with pytest.raises(ValidationFailed) as exc:
        cohort_set_status(cohort=cohort, status="paused")
    assert exc.value.errors == {"status": "Unknown status 'paused'. Use one of: planned, active, completed, cancelled."}


def test_a_closed_cohort_only_changes_its_name(cohort):
    cohort_set_status(cohort=cohort, status="cancelled")
    with pytest.raises(Conflict) as exc:
        cohort_update(cohort=cohort, data={"capacity": 10})
    assert str(exc.value) == "The cohort 'Spring 2026' is cancelled; only its name can change."
    cohort_update(cohort=cohort, data={"name": "Spring 2026 (cancelled)"})
    cohort.refresh_from_db()
    assert (cohort.name, cohort.capacity) == ("Spring 2026 (cancelled)", 3)
    with pytest.raises(IllegalTransition):
        cohort_update(cohort=cohort, data={"status": "active"})


def test_cancelling_drops_the_members_and_keeps_their_enrollments(cohort, enroll, frozen, operator):
    ada = enroll("ada@example.org")
    cohort_member_add(cohort=cohort, enrollment=ada)
    cohort_set_status(cohort=cohort, status="cancelled", actor=operator, reason="no venue")
    member = CohortMember.objects.get(enrollment=ada)
    assert (member.status, member.left_at, member.reason) == ("dropped", FROZEN, "cohort cancelled: no venue")
    ada.refresh_from_db()
    assert ada.status == "active"
    [entry] = _audits(member, "cohort_member.removed")
    assert (entry.reason, entry.actor_id) == ("cohort cancelled: no venue", operator.pk)
    assert entry.changes == {
        "status": ["active", "dropped"],
        "left_at": [None, "2026-03-02 09:30:00+00:00"],
        "reason": ["", "cohort cancelled: no venue"],
    }


# --- Members ------------------------------------------------------------------------------------


def test_add_a_member_with_its_audit_row(cohort, enroll, frozen, operator):
    ada = enroll("ada@example.org")
    member = cohort_member_add(cohort=cohort, enrollment=ada, actor=operator, reason="accepted")
    member.refresh_from_db()
    assert (member.cohort_id, member.enrollment_id, member.status, member.joined_at, member.left_at, member.reason) == (
        cohort.pk,
        ada.pk,
        "active",
        FROZEN,
        None,
        "accepted",
    )
    [entry] = _audits(member)
    assert (entry.action, entry.actor_id, entry.reason) == ("cohort_member.added", operator.pk, "accepted")
    assert entry.changes == {"cohort": str(cohort.pk), "enrollment": str(ada.pk), "user": str(ada.user_id)}
    assert entry.target_repr == "ada@example.org in Spring 2026"


def test_a_full_cohort_refuses_the_next_member(cohort, enroll):
    for _ in range(3):
        cohort_member_add(cohort=cohort, enrollment=enroll())
    late = enroll("late@example.org")
    with pytest.raises(Conflict) as exc:
        cohort_member_add(cohort=cohort, enrollment=late)
    assert str(exc.value) == "The cohort 'Spring 2026' is full: 3 of 3 places are taken."
    assert CohortMember.objects.filter(cohort=cohort).count() == 3


def test_a_removed_member_frees_a_place(cohort, enroll):
    members = [cohort_member_add(cohort=cohort, enrollment=enroll()) for _ in range(3)]
    cohort_member_remove(member=members[0])
    cohort_member_add(cohort=cohort, enrollment=enroll("fourth@example.org"))
    assert CohortMember.objects.filter(cohort=cohort, status="active").count() == 3


def test_only_active_enrollments_of_the_program_join(cohort, enroll, make_program, mentorship_template):
    other_program = make_program(mentorship_template, name="Other program")
    with pytest.raises(ValidationFailed) as exc:
        cohort_member_add(cohort=cohort, enrollment=enroll(in_program=other_program))
    assert exc.value.errors == {"enrollment_id": "This enrollment belongs to another program."}

    dropped = enroll("gone@example.org")
    enrollment_set_status(enrollment=dropped, status="dropped", reason="moved away")
    with pytest.raises(Conflict) as exc:
        cohort_member_add(cohort=cohort, enrollment=dropped)
    assert str(exc.value) == "The enrollment of gone@example.org is dropped; only active enrollments join cohorts."
    assert CohortMember.objects.count() == 0


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_a_closed_cohort_takes_no_members(cohort, enroll, status):
    if status == "completed":
        cohort_set_status(cohort=cohort, status="active")
    cohort_set_status(cohort=cohort, status=status)
    with pytest.raises(Conflict) as exc:
        cohort_member_add(cohort=cohort, enrollment=enroll())
    assert str(exc.value) == f"The cohort 'Spring 2026' is {status} and takes no members."


def test_an_enrollment_is_active_in_one_cohort_at_a_time(cohort, make_cohort, enroll):
    autumn = make_cohort("Autumn 2026", starts_on=date(2026, 9, 1), ends_on=date(2026, 11, 30))
    ada = enroll("ada@example.org")
    cohort_member_add(cohort=cohort, enrollment=ada)
    with pytest.raises(Conflict) as exc:
        cohort_member_add(cohort=cohort, enrollment=ada)
    assert str(exc.value) == "ada@example.org is already a member of the cohort 'Spring 2026'."
    with pytest.raises(Conflict) as exc:
        cohort_member_add(cohort=autumn, enrollment=ada)
    assert str(exc.value) == (
        "ada@example.org is already an active member of the cohort 'Spring 2026'; move them instead."
    )
    assert list(CohortMember.objects.values_list("cohort_id", flat=True)) == [cohort.pk]


def test_the_database_holds_one_active_membership_per_enrollment(cohort, make_cohort, enroll, frozen):
    autumn = make_cohort("Autumn 2026", starts_on=date(2026, 9, 1), ends_on=date(2026, 11, 30))
    ada = enroll()
    cohort_member_add(cohort=cohort, enrollment=ada)
    with pytest.raises(IntegrityError), transaction.atomic():
        CohortMember.objects.create(cohort=autumn, enrollment=ada, status="active", joined_at=FROZEN)


def test_remove_drops_the_membership_and_keeps_the_enrollment(cohort, enroll, frozen, operator):
    ada = enroll("ada@example.org")
    member = cohort_member_add(cohort=cohort, enrollment=ada)
    removed = cohort_member_remove(member=member, actor=operator, reason="changed shifts")
    assert (removed.status, removed.left_at, removed.reason) == ("dropped", FROZEN, "changed shifts")
    ada.refresh_from_db()
    assert ada.status == "active"
    [entry] = _audits(member, "cohort_member.removed")
    assert entry.changes["status"] == ["active", "dropped"]
    assert (entry.reason, entry.actor_id) == ("changed shifts", operator.pk)

    again = cohort_member_remove(member=member, actor=operator, reason="twice")
    assert (again.status, again.reason) == ("dropped", "changed shifts")
    assert len(_audits(member, "cohort_member.removed")) == 1


def test_placing_a_removed_member_again_revives_the_membership(cohort, enroll, frozen):
    ada = enroll()
    member = cohort_member_add(cohort=cohort, enrollment=ada, reason="first")
    cohort_member_remove(member=member, reason="paused")
    again = cohort_member_add(cohort=cohort, enrollment=ada, reason="back")
    assert again.pk == member.pk
    again.refresh_from_db()
    assert (again.status, again.left_at, again.reason) == ("active", None, "back")
    assert [e.action for e in _audits(member)] == [
        "cohort_member.added",
        "cohort_member.removed",
        "cohort_member.readded",
    ]


def test_move_a_member_between_cohorts(cohort, make_cohort, enroll, frozen, operator):
    autumn = make_cohort("Autumn 2026", starts_on=date(2026, 9, 1), ends_on=date(2026, 11, 30))
    ada = enroll("ada@example.org")
    member = cohort_member_add(cohort=cohort, enrollment=ada)

    moved = cohort_member_move(member=member, to_cohort=autumn, actor=operator, reason="evening group")

    member.refresh_from_db()
    assert (member.status, member.left_at, member.reason) == (
        "dropped",
        FROZEN,
        "moved to the cohort 'Autumn 2026': evening group",
    )
    assert (moved.cohort_id, moved.enrollment_id, moved.status, moved.reason) == (
        autumn.pk,
        ada.pk,
        "active",
        "evening group",
    )
    [left] = _audits(member, "cohort_member.moved")
    assert (left.reason, left.changes["status"]) == ("evening group", ["active", "dropped"])
    [joined] = _audits(moved, "cohort_member.added")
    assert joined.changes == {
        "cohort": str(autumn.pk),
        "enrollment": str(ada.pk),
        "user": str(ada.user_id),
        "moved_from": str(cohort.pk),
    }
    ada.refresh_from_db()
    assert ada.status == "active"

    back = cohort_member_move(member=moved, to_cohort=cohort)
    assert back.pk == member.pk  # the old membership revived
    assert _statuses(cohort) == {"ada@example.org": "active"}
    assert _statuses(autumn) == {"ada@example.org": "dropped"}


def test_a_move_into_a_full_cohort_changes_nothing(cohort, make_cohort, enroll):
    small = make_cohort("Small", capacity=1)
    cohort_member_add(cohort=small, enrollment=enroll())
    member = cohort_member_add(cohort=cohort, enrollment=enroll("ada@example.org"))
    with pytest.raises(Conflict) as exc:
        cohort_member_move(member=member, to_cohort=small)
    assert str(exc.value) == "The cohort 'Small' is full: 1 of 1 places are taken."
    member.refresh_from_db()
    assert (member.status, member.left_at) == ("active", None)
    assert _audits(member, "cohort_member.moved") == []


def test_move_refuses_the_same_cohort_another_program_and_inactive_members(
    cohort, make_cohort, enroll, make_program, mentorship_template
):
    other_program = make_program(mentorship_template, name="Other program")
    foreign = make_cohort("Foreign", in_program=other_program)
    member = cohort_member_add(cohort=cohort, enrollment=enroll())
    with pytest.raises(ValidationFailed) as exc:
        cohort_member_move(member=member, to_cohort=cohort)
    assert exc.value.errors == {"cohort_id": "The member is already in this cohort."}
    with pytest.raises(ValidationFailed) as exc:
        cohort_member_move(member=member, to_cohort=foreign)
    assert exc.value.errors == {"cohort_id": "This cohort belongs to another program."}
    cohort_member_remove(member=member)
    autumn = make_cohort("Autumn")
    with pytest.raises(Conflict) as exc:
        cohort_member_move(member=member, to_cohort=autumn)
    assert str(exc.value) == "Only active members move; this membership is dropped."


# --- Completion ---------------------------------------------------------------------------------


def test_completion_completes_active_members_and_their_enrollments(cohort, enroll, frozen, operator):
    ada, alan, grace = enroll("ada@example.org"), enroll("alan@example.org"), enroll("grace@example.org")
    for enrollment in (ada, alan, grace):
        cohort_member_add(cohort=cohort, enrollment=enrollment)
    cohort_member_remove(member=CohortMember.objects.get(enrollment=grace), reason="left early")
    cohort_set_status(cohort=cohort, status="active")

    result = cohort_complete(cohort=cohort, actor=operator, reason="graduation")

    assert (result.completed, result.dropped, result.cohort.status) == (2, 0, "completed")
    assert _statuses(cohort) == {
        "ada@example.org": "completed",
        "alan@example.org": "completed",
        "grace@example.org": "dropped",
    }
    for enrollment, status, reason in ((ada, "completed", "cohort completed"), (alan, "completed", "cohort completed")):
        enrollment.refresh_from_db()
        assert (enrollment.status, enrollment.reason, enrollment.completed_at) == (status, reason, FROZEN)
    grace.refresh_from_db()
    assert grace.status == "active"  # dropped from the cohort, still enrolled
    member = CohortMember.objects.get(enrollment=ada)
    assert (member.left_at, member.reason) == (FROZEN, "cohort completed")
    [entry] = _audits(cohort, "cohort.status_changed")[-1:]
    assert (entry.changes, entry.reason) == ({"status": ["active", "completed"]}, "graduation")

    again = cohort_complete(cohort=cohort)
    assert (again.completed, again.dropped) == (0, 0)
    assert len(_audits(cohort, "cohort.status_changed")) == 2


def test_completion_rules_decide_per_member(cohort, enroll, rules):
    ada, alan, grace = enroll("ada@example.org"), enroll("alan@example.org"), enroll("grace@example.org")
    for enrollment in (ada, alan, grace):
        cohort_member_add(cohort=cohort, enrollment=enrollment)
    cohort_set_status(cohort=cohort, status="active")
    seen = []

    def attendance(member):
        seen.append((member.enrollment.user.email, member.cohort.program.name))
        return {"alan@example.org": "dropped"}.get(member.enrollment.user.email)

    def no_opinion(member):
        return None

    rules.register_completion_rule(no_opinion)
    rules.register_completion_rule(attendance)

    result = cohort_complete(cohort=cohort)

    assert (result.completed, result.dropped) == (2, 1)
    assert sorted(seen) == [
        ("ada@example.org", "Mentorship 2026"),
        ("alan@example.org", "Mentorship 2026"),
        ("grace@example.org", "Mentorship 2026"),
    ]
    assert _statuses(cohort) == {
        "ada@example.org": "completed",
        "alan@example.org": "dropped",
        "grace@example.org": "completed",
    }
    alan.refresh_from_db()
    assert (alan.status, alan.reason) == ("dropped", "cohort completed")


def test_a_rule_answering_something_else_fails_the_completion(cohort, enroll, rules):
    cohort_member_add(cohort=cohort, enrollment=enroll())
    cohort_set_status(cohort=cohort, status="active")
    rules.register_completion_rule(lambda member: "passed")
    with pytest.raises(ValueError, match="answered 'passed'; expected 'completed', 'dropped' or None"):
        cohort_complete(cohort=cohort)


def test_members_whose_enrollment_ended_elsewhere_follow_it(cohort, enroll):
    ada, alan = enroll("ada@example.org"), enroll("alan@example.org")
    for enrollment in (ada, alan):
        cohort_member_add(cohort=cohort, enrollment=enrollment)
    cohort_set_status(cohort=cohort, status="active")
    enrollment_set_status(enrollment=ada, status="dropped", reason="moved abroad")
    enrollment_set_status(enrollment=alan, status="completed", reason="matched early")

    result = cohort_complete(cohort=cohort)

    assert (result.completed, result.dropped) == (1, 1)
    assert _statuses(cohort) == {"ada@example.org": "dropped", "alan@example.org": "completed"}
    ada.refresh_from_db()
    alan.refresh_from_db()
    assert (ada.status, ada.reason, alan.status, alan.reason) == (
        "dropped",
        "moved abroad",
        "completed",
        "matched early",
    )

"""Write use-cases of cohorts: create and change them, move them through their lifecycle, and
place enrollments in them (capacity-safe), remove members and move them between cohorts.

Membership rules:
- a cohort takes members while it is planned or active, up to its capacity of active members;
- only active enrollments of the cohort's program join, and an enrollment is an active member of
  at most one cohort at a time (a partial unique constraint backs the service's check);
- removing a member before the cohort ends drops the membership (status `dropped`, `left_at`);
  the enrollment stays active, so the person can be placed in another cohort. Ending an
  enrollment is an enrollment decision (`enrollments.services.enrollment_set_status`);
- moving drops the membership in the source cohort and places the enrollment in the target in
  one transaction; a membership row never changes cohort, so each cohort keeps its history;
- cancelling a cohort drops its active members (their enrollments stay active);
- completing a cohort settles each active member by the completion rules (`scheduling.hooks`,
  default: completed) and completes or drops the enrollment the same way.

Locks: every placement, move and settlement first locks the cohort rows involved (several in id
order, so moves in opposite directions cannot deadlock), then the rows of the memberships and
enrollments it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from core import clock
from core.audit import audit_record, json_value
from core.errors import Conflict, ValidationFailed
from core.transitions import TransitionTable, apply_transition
from enrollments.enums import EnrollmentStatus
from enrollments.models import Enrollment
from enrollments.services import enrollment_set_status
from programs.enums import ProgramStatus
from programs.models import Program, ProgramTrack
from scheduling.enums import TAKES_MEMBERS, CohortMemberStatus, CohortStatus
from scheduling.hooks import member_completion_outcome
from scheduling.models import Cohort, CohortMember
from scheduling.services import registrations

COHORT_TRANSITIONS = TransitionTable(
    "cohort",
    {
        CohortStatus.PLANNED: {CohortStatus.ACTIVE, CohortStatus.CANCELLED},
        CohortStatus.ACTIVE: {CohortStatus.COMPLETED, CohortStatus.CANCELLED},
        CohortStatus.COMPLETED: set(),
        CohortStatus.CANCELLED: set(),
    },
)

COHORT_MEMBER_TRANSITIONS = TransitionTable(
    "cohort member",
    {
        CohortMemberStatus.ACTIVE: {CohortMemberStatus.COMPLETED, CohortMemberStatus.DROPPED},
        CohortMemberStatus.DROPPED: {CohortMemberStatus.ACTIVE},  # placed again in the same cohort
        CohortMemberStatus.COMPLETED: set(),
    },
)

COHORT_EDITABLE = ("name", "track", "starts_on", "ends_on", "capacity", "status")

# The reason written on members and enrollments settled by a cohort's completion.
COMPLETION_REASON = "cohort completed"


@dataclass(frozen=True)
class CohortCompletion:
    """A completed cohort and how many of its active members completed or were dropped."""

    cohort: Cohort
    completed: int = 0
    dropped: int = 0


# --- Capacity -----------------------------------------------------------------------------------


def _lock_cohort(cohort_id: Any) -> Cohort:
    """Row-lock the cohort: every placement into it queues here, so counting its active members
    and inserting the new one happen one transaction at a time."""
    return Cohort.objects.select_for_update(of=("self",)).select_related("program").get(pk=cohort_id)


def _lock_cohorts(*cohort_ids: Any) -> dict[Any, Cohort]:
    """Lock several cohorts in one fixed order (by id), so two moves in opposite directions
    cannot deadlock."""
    return {pk: _lock_cohort(pk) for pk in sorted(set(cohort_ids), key=str)}


def _active_members(cohort: Cohort) -> int:
    return CohortMember.objects.filter(cohort_id=cohort.pk, status=CohortMemberStatus.ACTIVE).count()


def _check_takes_members(cohort: Cohort) -> None:
    if cohort.status not in TAKES_MEMBERS:
        raise Conflict(f"The cohort '{cohort.name}' is {cohort.status} and takes no members.")


def _claim_place(cohort: Cohort) -> None:
    """Take one place of a locked cohort: it must take members and not be full."""
    _check_takes_members(cohort)
    taken = _active_members(cohort)
    if taken >= cohort.capacity:
        raise Conflict(f"The cohort '{cohort.name}' is full: {taken} of {cohort.capacity} places are taken.")


# --- Shared checks ------------------------------------------------------------------------------


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors=errors)


def _changes(obj: Any, data: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        field: [json_value(getattr(obj, field)), json_value(value)]
        for field, value in data.items()
        if getattr(obj, field) != value
    }


def _cohort_checks(
    *,
    program: Program,
    name: str,
    track: ProgramTrack | None,
    starts_on: date | None,
    ends_on: date | None,
    capacity: int | None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name or not name.strip():
        errors["name"] = "A cohort needs a name."
    if track is not None:
        if track.program_id != program.pk:
            errors["track_id"] = "This track belongs to another program."
        elif not track.active:
            errors["track_id"] = f"The track '{track.name}' is inactive."
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        errors["capacity"] = "A cohort holds at least 1 member."
    if starts_on is None:
        errors["starts_on"] = "A cohort needs a start date."
    if ends_on is None:
        errors["ends_on"] = "A cohort needs an end date."
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = "A cohort cannot end before it starts."
    return errors


def _cohort_audit(cohort: Cohort) -> dict[str, Any]:
    return {
        "program": str(cohort.program_id),
        "track": str(cohort.track_id) if cohort.track_id else None,
        "name": cohort.name,
        "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat(),
        "capacity": cohort.capacity,
        "status": cohort.status,
    }


# --- Cohorts ------------------------------------------------------------------------------------


@transaction.atomic
def cohort_create(
    *,
    program: Program,
    name: str,
    starts_on: date,
    ends_on: date,
    capacity: int,
    track: ProgramTrack | None = None,
    status: str = CohortStatus.PLANNED,
    actor: Any = None,
) -> Cohort:
    """Form a cohort of a program (not an archived one), planned or already active. Its track,
    if any, is an active track of the same program."""
    program = Program.objects.get(pk=program.pk)
    errors = _cohort_checks(
        program=program, name=name, track=track, starts_on=starts_on, ends_on=ends_on, capacity=capacity
    )
    if status not in (CohortStatus.PLANNED, CohortStatus.ACTIVE):
        errors["status"] = "A new cohort starts as planned or active."
    _raise(errors)
    if program.status == ProgramStatus.ARCHIVED:
        raise Conflict(f"The program '{program.name}' is archived; it takes no new cohorts.")
    cohort = Cohort.objects.create(
        program=program,
        track=track,
        name=name.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        capacity=capacity,
        status=status,
    )
    audit_record(actor=actor, action="cohort.created", target=cohort, changes=_cohort_audit(cohort))
    return cohort


@transaction.atomic
def cohort_update(*, cohort: Cohort, data: dict[str, Any], actor: Any = None, reason: str = "") -> Cohort:
    """Change a cohort's settings and/or move its status (see `cohort_set_status`). The cohort
    row is locked, so a lowered capacity is checked against the members it holds. A completed or
    cancelled cohort only changes its name."""
    cohort = _lock_cohort(cohort.pk)
    unknown = set(data) - set(COHORT_EDITABLE)
    if unknown:
        raise ValidationFailed(errors={f: "This field cannot be changed." for f in sorted(unknown)})
    fields = {k: v for k, v in data.items() if k != "status"}
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    merged = {f: getattr(cohort, f) for f in COHORT_EDITABLE if f != "status"} | fields
    _raise(_cohort_checks(program=cohort.program, **merged))
    changes = _changes(cohort, fields)
    if changes:
        if cohort.status not in TAKES_MEMBERS and set(changes) - {"name"}:
            raise Conflict(f"The cohort '{cohort.name}' is {cohort.status}; only its name can change.")
        if "capacity" in changes:
            taken = _active_members(cohort)
            if fields["capacity"] < taken:
                raise Conflict(
                    f"The cohort '{cohort.name}' has {taken} active members; its capacity cannot be lowered "
                    f"to {fields['capacity']}."
                )
        for field in changes:
            setattr(cohort, field, fields[field])
        cohort.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="cohort.updated", target=cohort, changes=changes, reason=reason)
    new_status = data.get("status")
    if new_status is not None and new_status != cohort.status:
        cohort = _set_status(cohort, new_status, actor=actor, reason=reason).cohort
    return cohort


@transaction.atomic
def cohort_set_status(*, cohort: Cohort, status: str, actor: Any = None, reason: str = "") -> Cohort:
    """Move a cohort through its lifecycle: planned -> active | cancelled, active -> completed |
    cancelled. Completing settles its active members (`cohort_complete`); cancelling drops them.
    Setting the status it already has changes nothing."""
    cohort = _lock_cohort(cohort.pk)
    if status == cohort.status:
        return cohort
    return _set_status(cohort, status, actor=actor, reason=reason).cohort


@transaction.atomic
def cohort_complete(*, cohort: Cohort, actor: Any = None, reason: str = "") -> CohortCompletion:
    """Complete an active cohort. Each member still active is settled by the completion rules
    (`scheduling.hooks`, default: completed): the membership becomes `completed` or `dropped`
    and so does its enrollment (reason "cohort completed"). A member whose enrollment already
    ended elsewhere follows the enrollment and leaves it as it is. Dropped members stay dropped.
    Completing a completed cohort changes nothing."""
    cohort = _lock_cohort(cohort.pk)
    if cohort.status == CohortStatus.COMPLETED:
        return CohortCompletion(cohort=cohort)
    return _set_status(cohort, CohortStatus.COMPLETED, actor=actor, reason=reason)


def _set_status(cohort: Cohort, status: str, *, actor: Any, reason: str) -> CohortCompletion:
    """Apply a status change to a locked cohort."""
    if status not in CohortStatus.values:
        raise ValidationFailed(
            errors={"status": f"Unknown status '{status}'. Use one of: {', '.join(CohortStatus.values)}."}
        )
    COHORT_TRANSITIONS.check(cohort.status, status)
    completion = CohortCompletion(cohort=cohort)
    if status == CohortStatus.COMPLETED:
        completion = _settle_members(cohort, actor=actor)
    elif status == CohortStatus.CANCELLED:
        _drop_members(cohort, actor=actor, reason=f"cohort cancelled: {reason}" if reason else "cohort cancelled")
    apply_transition(
        cohort, table=COHORT_TRANSITIONS, to=status, actor=actor, action="cohort.status_changed", reason=reason
    )
    return completion


def _active_members_locked(cohort: Cohort):
    members = (
        CohortMember.objects.select_for_update(of=("self", "enrollment"))
        .select_related("enrollment__user")
        .filter(cohort_id=cohort.pk, status=CohortMemberStatus.ACTIVE)
        .order_by("joined_at", "id")
    )
    for member in members:
        member.cohort = cohort
        yield member


def _settle_members(cohort: Cohort, *, actor: Any) -> CohortCompletion:
    now = clock.now()
    counts = {CohortMemberStatus.COMPLETED: 0, CohortMemberStatus.DROPPED: 0}
    for member in _active_members_locked(cohort):
        enrollment = member.enrollment
        if enrollment.status == EnrollmentStatus.ACTIVE:
            outcome = member_completion_outcome(member)
        else:
            # The enrollment ended elsewhere (completed by a match, dropped by an operator).
            outcome = (
                CohortMemberStatus.COMPLETED
                if enrollment.status == EnrollmentStatus.COMPLETED
                else CohortMemberStatus.DROPPED
            )
        apply_transition(
            member,
            table=COHORT_MEMBER_TRANSITIONS,
            to=outcome,
            actor=actor,
            action="cohort_member.status_changed",
            reason=COMPLETION_REASON,
            extra={"left_at": now, "reason": COMPLETION_REASON},
        )
        if enrollment.status == EnrollmentStatus.ACTIVE:
            enrollment_set_status(enrollment=enrollment, status=outcome, reason=COMPLETION_REASON, actor=actor)
        counts[outcome] += 1
    return CohortCompletion(
        cohort=cohort, completed=counts[CohortMemberStatus.COMPLETED], dropped=counts[CohortMemberStatus.DROPPED]
    )


def _drop_members(cohort: Cohort, *, actor: Any, reason: str) -> None:
    now = clock.now()
    for member in _active_members_locked(cohort):
        apply_transition(
            member,
            table=COHORT_MEMBER_TRANSITIONS,
            to=CohortMemberStatus.DROPPED,
            actor=actor,
            action="cohort_member.removed",
            reason=reason,
            extra={"left_at": now, "reason": reason},
        )


# --- Members ------------------------------------------------------------------------------------


def _place(
    cohort: Cohort, *, enrollment_id: Any, actor: Any, reason: str, changes: dict[str, Any] | None = None
) -> CohortMember:
    """Place an enrollment in a locked cohort (a new membership, or the dropped one revived)."""
    enrollment = Enrollment.objects.select_for_update(of=("self",)).select_related("user").get(pk=enrollment_id)
    if enrollment.program_id != cohort.program_id:
        raise ValidationFailed(errors={"enrollment_id": "This enrollment belongs to another program."})
    user = enrollment.user
    if enrollment.status != EnrollmentStatus.ACTIVE:
        raise Conflict(f"The enrollment of {user} is {enrollment.status}; only active enrollments join cohorts.")
    current = (
        CohortMember.objects.filter(enrollment_id=enrollment.pk, status=CohortMemberStatus.ACTIVE)
        .select_related("cohort")
        .first()
    )
    if current is not None:
        if current.cohort_id == cohort.pk:
            raise Conflict(f"{user} is already a member of the cohort '{cohort.name}'.")
        raise Conflict(f"{user} is already an active member of the cohort '{current.cohort.name}'; move them instead.")
    _claim_place(cohort)
    now = clock.now()
    previous = CohortMember.objects.select_for_update().filter(cohort_id=cohort.pk, enrollment_id=enrollment.pk).first()
    try:
        with transaction.atomic():
            if previous is None:
                member = CohortMember.objects.create(
                    cohort=cohort,
                    enrollment=enrollment,
                    status=CohortMemberStatus.ACTIVE,
                    joined_at=now,
                    reason=reason,
                )
                audit_record(
                    actor=actor,
                    action="cohort_member.added",
                    target=member,
                    changes={
                        "cohort": str(cohort.pk),
                        "enrollment": str(enrollment.pk),
                        "user": str(user.pk),
                        **(changes or {}),
                    },
                    reason=reason,
                )
            else:
                member = previous
                member.cohort, member.enrollment = cohort, enrollment
                apply_transition(
                    member,
                    table=COHORT_MEMBER_TRANSITIONS,
                    to=CohortMemberStatus.ACTIVE,
                    actor=actor,
                    action="cohort_member.readded",
                    reason=reason,
                    extra={"joined_at": now, "left_at": None, "reason": reason},
                )
    except IntegrityError as exc:  # a concurrent placement won (the partial unique constraint)
        raise Conflict(f"{user} is already an active member of a cohort of this program.") from exc
    return member


@transaction.atomic
def cohort_member_add(*, cohort: Cohort, enrollment: Enrollment, actor: Any = None, reason: str = "") -> CohortMember:
    """Place an active enrollment of the cohort's program in a planned or active cohort. The
    cohort's capacity holds whatever runs concurrently: the cohort row is locked, then its active
    members are counted. An enrollment that is an active member of another cohort is moved
    (`cohort_member_move`), not added. Someone who left this cohort can be placed in it again."""
    cohort = _lock_cohort(cohort.pk)
    member = _place(cohort, enrollment_id=enrollment.pk, actor=actor, reason=reason)
    registrations.cohort_member_joined(cohort_id=cohort.pk, user=member.enrollment.user, actor=actor)
    return member


@transaction.atomic
def cohort_member_remove(*, member: CohortMember, actor: Any = None, reason: str = "") -> CohortMember:
    """Take a member out of their cohort: the membership is dropped (`left_at` set) and the
    enrollment stays active. Removing a dropped member changes nothing; a completed membership
    is final."""
    member = CohortMember.objects.select_for_update().select_related("enrollment__user").get(pk=member.pk)
    if member.status == CohortMemberStatus.DROPPED:
        return member
    apply_transition(
        member,
        table=COHORT_MEMBER_TRANSITIONS,
        to=CohortMemberStatus.DROPPED,
        actor=actor,
        action="cohort_member.removed",
        reason=reason,
        extra={"left_at": clock.now(), "reason": reason},
    )
    registrations.cohort_member_left(cohort_id=member.cohort_id, user=member.enrollment.user, actor=actor)
    return member


@transaction.atomic
def cohort_member_move(*, member: CohortMember, to_cohort: Cohort, actor: Any = None, reason: str = "") -> CohortMember:
    """Move an active member to another cohort of the same program, atomically: the membership
    in the source is dropped and the enrollment placed in the target (which must take members
    and have a free place). Returns the membership in the target."""
    source_id = CohortMember.objects.values_list("cohort_id", flat=True).get(pk=member.pk)
    cohorts = _lock_cohorts(source_id, to_cohort.pk)
    source, target = cohorts[source_id], cohorts[to_cohort.pk]
    member = CohortMember.objects.select_for_update().select_related("enrollment__user").get(pk=member.pk)
    if target.pk == source.pk:
        raise ValidationFailed(errors={"cohort_id": "The member is already in this cohort."})
    if target.program_id != source.program_id:
        raise ValidationFailed(errors={"cohort_id": "This cohort belongs to another program."})
    if member.status != CohortMemberStatus.ACTIVE:
        raise Conflict(f"Only active members move; this membership is {member.status}.")
    _check_takes_members(target)
    note = f"moved to the cohort '{target.name}'" + (f": {reason}" if reason else "")
    apply_transition(
        member,
        table=COHORT_MEMBER_TRANSITIONS,
        to=CohortMemberStatus.DROPPED,
        actor=actor,
        action="cohort_member.moved",
        reason=reason,
        extra={"left_at": clock.now(), "reason": note},
    )
    registrations.cohort_member_left(cohort_id=source.pk, user=member.enrollment.user, actor=actor)
    moved = _place(
        target,
        enrollment_id=member.enrollment_id,
        actor=actor,
        reason=reason,
        changes={"moved_from": str(source.pk)},
    )
    registrations.cohort_member_joined(cohort_id=target.pk, user=moved.enrollment.user, actor=actor)
    return moved

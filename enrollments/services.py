"""Write use-cases of enrollments: enroll (capacity-safe), complete, drop, reactivate, and keep
each user's journey flags current."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse

from core import clock
from core.audit import audit_record
from core.errors import Conflict, ValidationFailed
from core.transitions import TransitionTable, apply_transition
from crm_sync.outbox import emit
from enrollments.enums import HOLDS_A_PLACE, EnrollmentStatus, SourceSystem
from enrollments.journey import journey_flags_compute
from enrollments.models import Enrollment, JourneyFlags
from notifications.services import notify
from programs.enums import CampaignStatus, ProgramStatus
from programs.models import Campaign, Program

User = get_user_model()

# The transactional notification a person gets when enrolled (templates in
# enrollments/templates/notifications/enrollment_confirmed/).
ENROLLMENT_CONFIRMED = "enrollment_confirmed"

ENROLLMENT_TRANSITIONS = TransitionTable(
    "enrollment",
    {
        EnrollmentStatus.ACTIVE: {EnrollmentStatus.COMPLETED, EnrollmentStatus.DROPPED},
        EnrollmentStatus.DROPPED: {EnrollmentStatus.ACTIVE},
        EnrollmentStatus.COMPLETED: set(),  # final (source 001's state diagram)
    },
)


# --- Capacity -----------------------------------------------------------------------------------


def _lock_campaign(campaign_id) -> Campaign:
    """Row-lock the campaign: every enrollment into it queues here, so the count below and the
    insert that follows happen one transaction at a time."""
    return Campaign.objects.select_for_update().get(pk=campaign_id)


def _places_taken(campaign: Campaign) -> int:
    return Enrollment.objects.filter(campaign_id=campaign.pk, status__in=HOLDS_A_PLACE).count()


def _check_program_open(program: Program) -> None:
    if program.status != ProgramStatus.ACTIVE:
        raise Conflict(f"The program '{program.name}' is {program.status} and takes no enrollments.")


def _claim_place(campaign_id) -> Campaign:
    """Lock the campaign and take one of its places: it must be active and not full."""
    campaign = _lock_campaign(campaign_id)
    if campaign.status != CampaignStatus.ACTIVE:
        raise Conflict(f"The campaign '{campaign.name}' is {campaign.status} and takes no enrollments.")
    taken = _places_taken(campaign)
    if taken >= campaign.max_enrollment:
        raise Conflict(
            f"The campaign '{campaign.name}' is full: {taken} of {campaign.max_enrollment} places are taken."
        )
    return campaign


def campaign_max_enrollment_check(campaign: Campaign, new_max: int) -> str | None:
    """Hook for `programs.campaign_update` (which holds the campaign lock): a campaign's maximum
    cannot drop below the places it has given."""
    taken = _places_taken(campaign)
    if new_max < taken:
        return f"The campaign already holds {taken} enrollments; the maximum cannot be lowered to {new_max}."
    return None


# --- Following program changes (hooks of programs) -------------------------------------------


def program_migration_role_errors(program: Program, template: Any) -> dict[str, str]:
    """A program cannot move to a template version that drops a role its enrollments hold."""
    used = set(Enrollment.objects.filter(program=program).values_list("role", flat=True).distinct())
    missing = sorted(used - set(template.role_names))
    if not missing:
        return {}
    return {
        "template_id": f"Enrollments of this program hold role(s) that v{template.version} does not "
        f"define: {', '.join(missing)}."
    }


def enrollments_follow_program(program: Program, changed: set[str], actor: Any) -> None:
    """Dual-write: enrollments copy their program's beneficiary group, so they follow a change."""
    if "beneficiary_group" not in changed:
        return
    moved = (
        Enrollment.objects.filter(program=program)
        .exclude(beneficiary_group_id=program.beneficiary_group_id)
        .update(beneficiary_group_id=program.beneficiary_group_id, updated_at=clock.now())
    )
    if moved:
        audit_record(
            actor=actor,
            action="program.enrollments_regrouped",
            target=program,
            changes={"beneficiary_group": str(program.beneficiary_group_id), "enrollments": moved},
        )


# --- Journey flags ------------------------------------------------------------------------------


def journey_flags_refresh(*, user_id) -> JourneyFlags:
    """Recompute and store the user's flags; the row lock serialises concurrent refreshes."""
    JourneyFlags.objects.get_or_create(user_id=user_id)
    record = JourneyFlags.objects.select_for_update().get(user_id=user_id)
    flags = journey_flags_compute(user_id)
    if record.flags != flags:
        record.flags = flags
        record.save(update_fields=["flags", "updated_at"])
    return record


def enrollment_event_payload(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "enrollment_id": str(enrollment.pk),
        "user_id": str(enrollment.user_id),
        "program_id": str(enrollment.program_id),
        "campaign_id": str(enrollment.campaign_id) if enrollment.campaign_id else None,
        "program_type": enrollment.program_type,
        "role": enrollment.role,
        "source_system": enrollment.source_system,
        "status": enrollment.status,
        "enrolled_at": enrollment.enrolled_at.isoformat(),
    }


# --- Enrollments --------------------------------------------------------------------------------


@transaction.atomic
def enrollment_create(
    *,
    user: Any,
    program: Program,
    role: str,
    campaign: Campaign | None = None,
    source_system: str = SourceSystem.PLATFORM,
    enrolled_at: datetime | None = None,
    reason: str = "",
    actor: Any = None,
) -> Enrollment:
    """Enroll a user in an active program in one of its template's roles. Through a campaign,
    the campaign's `max_enrollment` is never exceeded, whatever runs concurrently."""
    program = Program.objects.select_related("template").get(pk=program.pk)
    errors: dict[str, str] = {}
    roles = program.template.role_names
    if role not in roles:
        errors["role"] = f"'{role}' is not a role of this program. Roles: {', '.join(roles)}."
    if source_system not in SourceSystem.values:
        errors["source_system"] = f"Use one of: {', '.join(SourceSystem.values)}."
    if campaign is not None and campaign.program_id != program.pk:
        errors["campaign_id"] = "This campaign belongs to another program."
    if enrolled_at is not None and enrolled_at > clock.now():
        errors["enrolled_at"] = "An enrollment cannot start in the future."
    if errors:
        raise ValidationFailed(errors=errors)
    _check_program_open(program)

    existing = Enrollment.objects.filter(user=user, program=program, role=role).first()
    if existing is not None:
        hint = " Reactivate it instead." if existing.status == EnrollmentStatus.DROPPED else ""
        raise Conflict(f"{user} is already enrolled in '{program.name}' as {role} ({existing.status}).{hint}")
    if campaign is not None:
        campaign = _claim_place(campaign.pk)
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                user=user,
                program=program,
                campaign=campaign,
                beneficiary_group_id=program.beneficiary_group_id,
                program_type=program.program_type,
                role=role,
                source_system=source_system,
                status=EnrollmentStatus.ACTIVE,
                enrolled_at=enrolled_at or clock.now(),
                reason=reason,
            )
    except IntegrityError as exc:
        raise Conflict(f"{user} is already enrolled in '{program.name}' as {role}.") from exc
    audit_record(
        actor=actor,
        action="enrollment.created",
        target=enrollment,
        changes={
            "user": str(user.pk),
            "program": program.program_key,
            "campaign": str(campaign.pk) if campaign else None,
            "role": role,
            "source_system": source_system,
        },
        reason=reason,
    )
    emit(
        event_type="enrollment.created",
        subject=("enrollment", enrollment.pk),
        payload=enrollment_event_payload(enrollment),
        actor=actor,
    )
    if source_system == SourceSystem.PLATFORM:  # imports from partner systems do not mail people
        notify(
            user=user,
            kind=ENROLLMENT_CONFIRMED,
            context={
                "program_name": program.name,
                "role": role,
                "campaign_name": campaign.name if campaign else "",
                "program_url": settings.SITE_URL + reverse("program-detail", args=[program.program_key]),
            },
            dedupe_key=f"{ENROLLMENT_CONFIRMED}:{enrollment.pk}",
            related=[enrollment, program],
        )
    journey_flags_refresh(user_id=user.pk)
    return enrollment


@transaction.atomic
def enrollment_set_status(*, enrollment: Enrollment, status: str, reason: str = "", actor: Any = None) -> Enrollment:
    """Complete or drop an active enrollment, or reactivate a dropped one (an operator decision
    that needs a reason, an active program and a free place in an active campaign). Completed is
    final."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if status not in EnrollmentStatus.values:
        raise ValidationFailed(errors={"status": f"Use one of: {', '.join(EnrollmentStatus.values)}."})
    if status == enrollment.status:
        return enrollment
    ENROLLMENT_TRANSITIONS.check(enrollment.status, status)
    now = clock.now()
    extra: dict[str, Any] = {"reason": reason}
    if status == EnrollmentStatus.COMPLETED:
        extra["completed_at"] = now
    elif status == EnrollmentStatus.DROPPED:
        extra["dropped_at"] = now
    else:  # reactivation
        if not reason.strip():
            raise ValidationFailed(errors={"reason": "Reactivating a dropped enrollment needs a reason."})
        _check_program_open(Program.objects.get(pk=enrollment.program_id))
        if enrollment.campaign_id:
            _claim_place(enrollment.campaign_id)
        extra["dropped_at"] = None
    previous = apply_transition(
        enrollment,
        table=ENROLLMENT_TRANSITIONS,
        to=status,
        actor=actor,
        action="enrollment.reactivated" if status == EnrollmentStatus.ACTIVE else "enrollment.status_changed",
        reason=reason,
        extra=extra,
    )
    emit(
        event_type="enrollment.status_changed",
        subject=("enrollment", enrollment.pk),
        payload={
            "enrollment_id": str(enrollment.pk),
            "user_id": str(enrollment.user_id),
            "program_id": str(enrollment.program_id),
            "from_status": previous,
            "to_status": status,
            "reason": reason,
            "changed_at": now.isoformat(),
        },
        actor=actor,
    )
    journey_flags_refresh(user_id=enrollment.user_id)
    return enrollment


# --- Integrity repair ---------------------------------------------------------------------------


@transaction.atomic
def integrity_fix(*, actor: Any = None) -> dict[str, int]:
    """Repair what can be repaired without a person's judgement: dual-write copies of the
    program's type and beneficiary group, a program's type vs its template's category, and
    stale journey flags. Each repaired row gets an audit entry."""
    from enrollments.selectors import (
        enrollments_with_dual_write_mismatch,
        programs_with_type_mismatch,
        users_with_stale_journey_flags,
    )

    fixed = {"program_type": 0, "enrollment_dual_write": 0, "journey_flags": 0}
    for program in programs_with_type_mismatch().select_for_update(of=("self",)):
        before = program.program_type
        program.program_type = program.template.category
        program.save(update_fields=["program_type", "updated_at"])
        audit_record(
            actor=actor,
            action="integrity.program_type_repaired",
            target=program,
            changes={"program_type": [before, program.program_type]},
        )
        fixed["program_type"] += 1
    for enrollment in enrollments_with_dual_write_mismatch().select_for_update(of=("self",)):
        changes = {}
        if enrollment.program_type != enrollment.program.program_type:
            changes["program_type"] = [enrollment.program_type, enrollment.program.program_type]
            enrollment.program_type = enrollment.program.program_type
        if enrollment.beneficiary_group_id != enrollment.program.beneficiary_group_id:
            changes["beneficiary_group"] = [
                str(enrollment.beneficiary_group_id),
                str(enrollment.program.beneficiary_group_id),
            ]
            enrollment.beneficiary_group_id = enrollment.program.beneficiary_group_id
        enrollment.save(update_fields=["program_type", "beneficiary_group", "updated_at"])
        audit_record(actor=actor, action="integrity.dual_write_repaired", target=enrollment, changes=changes)
        fixed["enrollment_dual_write"] += 1
    for user_id in users_with_stale_journey_flags():
        journey_flags_refresh(user_id=user_id)
        fixed["journey_flags"] += 1
    return fixed

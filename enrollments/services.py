"""Write use-cases of enrollments: enroll (capacity-safe), complete, drop, reactivate, keep
each user's journey flags current, and record participants' outcomes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse

from core import clock
from core.audit import audit_record
from core.errors import Conflict, ValidationFailed
from core.middleware import valid_timezone
from core.money import currency_error
from core.transitions import TransitionTable, apply_transition
from crm_sync.outbox import emit
from enrollments.enums import HOLDS_A_PLACE, EnrollmentStatus, OutcomeType, SourceSystem
from enrollments.journey import journey_flags_compute
from enrollments.models import Enrollment, JourneyFlags, Outcome
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
    confirm: bool = True,
) -> Enrollment:
    """Enroll a user in an active program in one of its template's roles. Through a campaign,
    the campaign's `max_enrollment` is never exceeded, whatever runs concurrently. People
    enrolled on the platform get a confirmation (`confirm=False` when the caller already told
    them, e.g. an acceptance)."""
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
    if confirm and source_system == SourceSystem.PLATFORM:  # imports from partner systems do not mail people
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


# --- Outcomes -----------------------------------------------------------------------------------

OUTCOMES_PER_REQUEST = 1000
OUTCOME_ITEM_FIELDS = ("enrollment_id", "outcome_type", "occurred_on", "amount", "currency", "evidence_url", "notes")
_evidence_url = URLValidator(schemes=["http", "https"])


def _program_today(program: Program) -> date:
    return clock.now().astimezone(valid_timezone(program.timezone) or UTC).date()


def _uuid_text(value: Any) -> str | None:
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def _outcome_errors(item: dict[str, Any], program: Program, enrollments: dict[str, Enrollment], today: date):
    """(errors by field, the row's clean fields) of one outcome."""
    errors: dict[str, str] = {}
    enrollment_id = _uuid_text(item.get("enrollment_id"))
    enrollment = enrollments.get(enrollment_id) if enrollment_id else None
    if item.get("enrollment_id") in (None, ""):
        errors["enrollment_id"] = "An outcome needs the participant's enrollment."
    elif enrollment is None:
        errors["enrollment_id"] = f"No enrollment with the id {item.get('enrollment_id')}."
    elif enrollment.program_id != program.pk:
        errors["enrollment_id"] = "This enrollment belongs to another program."
    outcome_type = item.get("outcome_type")
    if outcome_type not in OutcomeType.values:
        errors["outcome_type"] = f"Use one of: {', '.join(OutcomeType.values)}."
    occurred_on = item.get("occurred_on")
    if not isinstance(occurred_on, date) or isinstance(occurred_on, datetime):
        errors["occurred_on"] = "An outcome needs the date it occurred on."
    elif occurred_on > today:
        errors["occurred_on"] = (
            f"An outcome cannot lie in the future: today is {today.isoformat()} in {program.timezone}."
        )
    amount = item.get("amount")
    currency = item.get("currency") or ""
    if not isinstance(currency, str):
        errors["currency"] = "A currency is a 3-letter ISO 4217 code."
        currency = ""
    currency = currency.upper()
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)) or not Decimal(amount).is_finite():
            errors["amount"] = "An amount is a decimal number."
        elif amount < 0:
            errors["amount"] = "An amount cannot be negative."
        elif Decimal(amount) != Decimal(amount).quantize(Decimal("0.01")) or amount >= Decimal("1e12"):
            errors["amount"] = "An amount has at most 12 digits before and 2 after the decimal point."
        if not currency:
            errors.setdefault("currency", "An amount needs an ISO 4217 currency.")
    elif currency:
        errors["currency"] = "A currency goes with an amount."
    if currency and "currency" not in errors and (message := currency_error(currency)):
        errors["currency"] = message
    evidence_url = item.get("evidence_url") or ""
    if evidence_url:
        try:
            if not isinstance(evidence_url, str) or len(evidence_url) > 500:
                raise DjangoValidationError("too long")
            _evidence_url(evidence_url)
        except DjangoValidationError:
            errors["evidence_url"] = "Evidence is an http(s) URL of at most 500 characters."
    notes = item.get("notes") or ""
    if not isinstance(notes, str):
        errors["notes"] = "Notes are text."
    for field in sorted(set(item) - set(OUTCOME_ITEM_FIELDS)):
        errors[field] = "Not a field of an outcome."
    row = {
        "program": program,
        "enrollment": enrollment,
        "outcome_type": outcome_type,
        "occurred_on": occurred_on,
        "amount": Decimal(amount) if amount is not None and "amount" not in errors else None,
        "currency": currency,
        "evidence_url": evidence_url,
        "notes": notes,
    }
    return errors, row


def _check_outcomes(program: Program, items: list[tuple[int, dict[str, Any]]]):
    """Per-index field errors and the clean rows of outcomes of one program (one query for the
    enrollments, whatever the number of items)."""
    ids = {text for _, item in items if (text := _uuid_text(item.get("enrollment_id")))}
    enrollments = {str(e.pk): e for e in Enrollment.objects.filter(pk__in=ids).select_related("user")}
    today = _program_today(program)
    errors: dict[int, dict[str, str]] = {}
    rows: list[dict[str, Any]] = []
    for index, item in items:
        item_errors, row = _outcome_errors(item, program, enrollments, today)
        if item_errors:
            errors[index] = item_errors
        rows.append(row)
    return errors, rows


def outcome_items_errors(*, program: Program, items: list[tuple[int, dict[str, Any]]]) -> dict[str, str]:
    """The errors of a list of outcomes keyed `items/<index>/<field>`, for callers that validated
    some items themselves (the API parses each item first) and report every bad item at once."""
    errors, _ = _check_outcomes(program, items)
    return {f"items/{index}/{field}": message for index, fields in errors.items() for field, message in fields.items()}


def _outcomes_create(rows: list[dict[str, Any]], actor: Any) -> list[Outcome]:
    recorded_by = actor if getattr(actor, "is_authenticated", False) else None
    outcomes = Outcome.objects.bulk_create([Outcome(recorded_by=recorded_by, **row) for row in rows])
    for outcome in outcomes:
        audit_record(
            actor=actor,
            action="outcome.recorded",
            target=outcome,
            changes={
                "enrollment": str(outcome.enrollment_id),
                "user": str(outcome.enrollment.user_id),
                "outcome_type": outcome.outcome_type,
                "occurred_on": outcome.occurred_on.isoformat(),
                "amount": str(outcome.amount) if outcome.amount is not None else None,
                "currency": outcome.currency,
            },
        )
    return outcomes


@transaction.atomic
def outcome_record(
    *,
    program: Program,
    enrollment: Enrollment,
    outcome_type: str,
    occurred_on: date,
    amount: Decimal | None = None,
    currency: str = "",
    evidence_url: str = "",
    notes: str = "",
    actor: Any = None,
) -> Outcome:
    """Record an outcome of a participant of the program: the enrollment belongs to the program,
    the date is not in the future (in the program's time zone), an amount comes with an ISO 4217
    currency and is not negative."""
    item = {
        "enrollment_id": enrollment.pk,
        "outcome_type": outcome_type,
        "occurred_on": occurred_on,
        "amount": amount,
        "currency": currency,
        "evidence_url": evidence_url,
        "notes": notes,
    }
    errors, rows = _check_outcomes(program, [(0, item)])
    if errors:
        raise ValidationFailed(errors=errors[0])
    return _outcomes_create(rows, actor)[0]


@transaction.atomic
def outcomes_record_many(*, program: Program, items: list[dict[str, Any]], actor: Any = None) -> list[Outcome]:
    """Record a list of outcomes, all or nothing: every item is checked first (items carry
    `enrollment_id` and the fields of `outcome_record`); if any is invalid, nothing is written and
    the error names each bad item's fields as `items/<index>/<field>`."""
    if not items:
        raise ValidationFailed(errors={"items": "Send at least one outcome."})
    if len(items) > OUTCOMES_PER_REQUEST:
        raise ValidationFailed(errors={"items": f"At most {OUTCOMES_PER_REQUEST} outcomes per request."})
    errors, rows = _check_outcomes(program, list(enumerate(items)))
    if errors:
        raise ValidationFailed(
            f"{len(errors)} of {len(items)} outcomes are invalid; none was recorded.",
            errors={f"items/{i}/{field}": message for i, fields in errors.items() for field, message in fields.items()},
        )
    return _outcomes_create(rows, actor)

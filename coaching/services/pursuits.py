"""Pursuits: external opportunities a person adds, the automatic sync of internal ones with
their application, and the confirmations that keep a person in the loop.

Human in the loop: `submitted` and `won` are reached only by the person's explicit confirmation
(`pursuit_confirm`, or submitting the application on this platform, which is their own act);
`lost` needs none. An operator accepting an application makes `won` *pending*: the person
confirms it. `last_progress_at` moves on every state change; `submitted_at` and `confirmed_at`
are set on confirmation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from coaching import momentum as momentum_rules
from coaching.enums import OPEN_STATES, ApplicationType, CoachState
from coaching.mapping import status_to_coach_state
from coaching.models import ProgramTrust, Pursuit
from core import clock
from core.audit import audit_record, json_value
from core.errors import Conflict, NotFound, ValidationFailed

EDITABLE = ("title", "url", "deadline", "award_amount", "award_currency", "application_type", "trust_score")
# States a person may set directly with PATCH (submitted and won need a confirmation).
SETTABLE_STATES = (
    CoachState.TRACKED,
    CoachState.DRAFTING,
    CoachState.REVIEW,
    CoachState.OUTCOME_PENDING,
    CoachState.LOST,
)


def trust_of(pursuit: Pursuit) -> float:
    if pursuit.application_id is not None:
        row = ProgramTrust.objects.filter(program_id=pursuit.application.program_id).values_list(
            "trust_score", flat=True
        )
        return float(row[0]) if row else momentum_rules.DEFAULT_PROGRAM_TRUST
    return float(pursuit.trust_score) if pursuit.trust_score is not None else momentum_rules.DEFAULT_EXTERNAL_TRUST


def refresh_momentum(pursuit: Pursuit, now: datetime) -> None:
    pursuit.momentum_score = momentum_rules.momentum(
        deadline=pursuit.deadline, trust=trust_of(pursuit), now=now, open_=pursuit.coach_state in OPEN_STATES
    )


def _fields(data: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    now = clock.now()
    if "title" in data or creating:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip() or len(title.strip()) > 200 or "\x00" in title:
            errors["title"] = "A title of 1 to 200 characters."
        else:
            cleaned["title"] = title.strip()
    if "url" in data and data["url"] not in (None, ""):
        try:
            if not isinstance(data["url"], str) or len(data["url"]) > 500:
                raise ValidationError("bad")
            URLValidator(schemes=["http", "https"])(data["url"])
            cleaned["url"] = data["url"]
        except ValidationError:
            errors["url"] = "An http(s) address of at most 500 characters."
    elif "url" in data:
        cleaned["url"] = ""
    if "deadline" in data:
        deadline = data["deadline"]
        if deadline is None:
            cleaned["deadline"] = None
        elif not isinstance(deadline, datetime) or deadline.tzinfo is None:
            errors["deadline"] = "Give the deadline with its UTC offset."
        elif deadline <= now:
            errors["deadline"] = "The deadline has passed."
        else:
            cleaned["deadline"] = deadline
    if "award_amount" in data:
        amount = data["award_amount"]
        if amount is None:
            cleaned["award_amount"] = None
        else:
            try:
                value = Decimal(str(amount))
                if not value.is_finite() or value < 0 or value >= Decimal("1e10") or value != round(value, 2):
                    raise InvalidOperation
                cleaned["award_amount"] = value
            except (InvalidOperation, ValueError):
                errors["award_amount"] = "An amount of at least 0 with at most two decimals."
    if "award_currency" in data:
        currency = data["award_currency"] or ""
        if currency and (
            not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha() or not currency.isupper()
        ):
            errors["award_currency"] = "An ISO 4217 code, e.g. EUR."
        else:
            cleaned["award_currency"] = currency
    if "application_type" in data:
        kind = data["application_type"] or ""
        if kind and kind not in ApplicationType.values:
            errors["application_type"] = f"Use one of: {', '.join(ApplicationType.values)}."
        else:
            cleaned["application_type"] = kind
    if "trust_score" in data:
        trust = data["trust_score"]
        if trust is not None and (
            isinstance(trust, bool) or not isinstance(trust, (int, float)) or not 0 <= trust <= 1
        ):
            errors["trust_score"] = "A number from 0 to 1."
        else:
            cleaned["trust_score"] = None if trust is None else float(trust)
    return cleaned, errors


def _check_award(pursuit_values: dict[str, Any], errors: dict[str, str]) -> None:
    if (
        pursuit_values.get("award_amount") is not None
        and not pursuit_values.get("award_currency")
        and "award_currency" not in errors
    ):
        errors["award_currency"] = "Give the currency of the award amount."


@transaction.atomic
def pursuit_create_external(*, user: Any, data: dict[str, Any], actor: Any = None) -> Pursuit:
    """Track an opportunity outside the platform (a fellowship, grant, residency)."""
    cleaned, errors = _fields(data, creating=True)
    _check_award(cleaned, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    now = clock.now()
    pursuit = Pursuit(user=user, coach_state=CoachState.TRACKED, last_progress_at=now, **cleaned)
    refresh_momentum(pursuit, now)
    pursuit.save()
    audit_record(
        actor=actor or user,
        action="pursuit.created",
        target=pursuit,
        changes={k: json_value(v) for k, v in cleaned.items()},
    )
    return pursuit


def _lock(pursuit: Pursuit, user: Any | None) -> Pursuit:
    query = Pursuit.objects.select_for_update(of=("self",)).select_related("application")
    if user is not None:
        query = query.filter(user=user)
    locked = query.filter(pk=pursuit.pk).first()
    if locked is None:
        raise NotFound("No such pursuit of yours.")
    return locked


def _set_state(pursuit: Pursuit, state: str, now: datetime, changes: dict[str, Any]) -> None:
    if pursuit.coach_state != state:
        changes["coach_state"] = [pursuit.coach_state, state]
        pursuit.coach_state = state
        pursuit.last_progress_at = now


@transaction.atomic
def pursuit_update(*, pursuit: Pursuit, user: Any, data: dict[str, Any], actor: Any = None) -> Pursuit:
    """Change an external pursuit's details or move it between the states a person may set
    (submitted and won need `pursuit_confirm`). An internal pursuit follows its application:
    only its state cannot be set here, and its details come from the program."""
    pursuit = _lock(pursuit, user)
    now = clock.now()
    cleaned, errors = _fields({k: v for k, v in data.items() if k in EDITABLE}, creating=False)
    state = data.get("coach_state")
    if pursuit.is_internal:
        for name in (*EDITABLE, "coach_state"):
            if name in data:
                errors[name] = "This pursuit follows your application on the platform; change the application instead."
    elif state is not None:
        if state in (CoachState.SUBMITTED, CoachState.WON):
            errors["coach_state"] = f"'{state}' needs your confirmation: POST .../confirm with this state."
        elif state not in SETTABLE_STATES:
            errors["coach_state"] = f"Use one of: {', '.join(SETTABLE_STATES)}."
        elif state == CoachState.OUTCOME_PENDING and pursuit.coach_state not in (
            CoachState.SUBMITTED,
            CoachState.OUTCOME_PENDING,
        ):
            errors["coach_state"] = "An outcome is pending only after a submission: confirm 'submitted' first."
    merged = {"award_amount": pursuit.award_amount, "award_currency": pursuit.award_currency, **cleaned}
    _check_award(merged, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    changes: dict[str, Any] = {}
    for name, value in cleaned.items():
        if getattr(pursuit, name) != value:
            changes[name] = [json_value(getattr(pursuit, name)), json_value(value)]
            setattr(pursuit, name, value)
    if state is not None:
        _set_state(pursuit, state, now, changes)
    if changes:
        refresh_momentum(pursuit, now)
        pursuit.save()
        audit_record(actor=actor or user, action="pursuit.updated", target=pursuit, changes=changes)
    return pursuit


@transaction.atomic
def pursuit_confirm(*, pursuit: Pursuit, user: Any, state: str) -> Pursuit:
    """The person confirms they submitted, or that they won (human in the loop)."""
    pursuit = _lock(pursuit, user)
    now = clock.now()
    if state not in (CoachState.SUBMITTED, CoachState.WON):
        raise ValidationFailed(errors={"state": "Confirm 'submitted' or 'won'."})
    current = pursuit.coach_state
    if state == CoachState.SUBMITTED:
        if current not in OPEN_STATES and pursuit.pending_state != CoachState.SUBMITTED:
            raise Conflict(f"This pursuit is {current}; only one still being prepared can be confirmed as submitted.")
        if pursuit.is_internal and pursuit.application.status in ("draft", "info_requested"):
            raise Conflict("Submit the application on the platform first; that submits it.")
    elif current not in (CoachState.SUBMITTED, CoachState.OUTCOME_PENDING) and pursuit.pending_state != CoachState.WON:
        raise Conflict(f"This pursuit is {current}; a win is confirmed after submission.")
    if pursuit.is_internal and state == CoachState.WON and pursuit.pending_state != CoachState.WON:
        raise Conflict("The program has not accepted this application yet.")
    changes: dict[str, Any] = {}
    _set_state(pursuit, state, now, changes)
    if state == CoachState.SUBMITTED and pursuit.submitted_at is None:
        pursuit.submitted_at = now
    pursuit.confirmed_at = now
    pursuit.pending_state = ""
    refresh_momentum(pursuit, now)
    pursuit.save()
    audit_record(actor=user, action=f"pursuit.confirmed_{state}", target=pursuit, changes=changes)
    return pursuit


def pursuit_sync_from_application(application: Any) -> Pursuit:
    """Keep the applicant's pursuit of a platform application in step (an applications change
    listener, inside the caller's transaction): created on the first change, its state mapped
    from the application's status, its deadline the program's window close. An acceptance waits
    for the person's confirmation (`pending_state = won`)."""
    now = clock.now()
    program = application.program
    pursuit = Pursuit.objects.select_for_update(of=("self",)).filter(application=application).first()
    created = pursuit is None
    if created:
        pursuit = Pursuit(user_id=application.applicant_id, application=application, last_progress_at=now)
    target = status_to_coach_state(application.status, None if created else pursuit.coach_state, platform=True)
    changes: dict[str, Any] = {}
    pending_before = pursuit.pending_state
    if target == CoachState.WON and pursuit.coach_state != CoachState.WON:
        pursuit.pending_state = CoachState.WON
        target = CoachState.OUTCOME_PENDING
    elif target != CoachState.WON:
        pursuit.pending_state = ""
    if pursuit.pending_state != pending_before:
        changes["pending_state"] = [pending_before, str(pursuit.pending_state)]
    _set_state(pursuit, target, now, changes)
    if target == CoachState.SUBMITTED and application.submitted_at and pursuit.submitted_at is None:
        pursuit.submitted_at = application.submitted_at  # the person's own act of submitting
    pursuit.title = program.name[:200]
    pursuit.deadline = program.closes_at
    refresh_momentum(pursuit, now)
    pursuit.save()
    if changes or created:
        audit_record(
            actor=None,
            action="pursuit.synced",
            target=pursuit,
            changes={**changes, "application_status": application.status},
        )
    return pursuit

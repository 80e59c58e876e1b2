"""What the CRM receives for a program's enrollments, participants and outcomes (registered with
crm_sync)."""

from __future__ import annotations

import uuid
from typing import Any

from accounts.models import ExternalIdentity
from enrollments.models import Enrollment, Outcome
from enrollments.services import enrollment_event_payload


def _uuids(ids: list[str] | None) -> list[uuid.UUID] | None:
    if ids is None:
        return None
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    return valid


def crm_enrollments(program_id: Any, entity_ids: list[str] | None) -> dict[str, dict]:
    enrollments = Enrollment.objects.filter(program_id=program_id).select_related("program")
    wanted = _uuids(entity_ids)
    if wanted is not None:
        enrollments = enrollments.filter(pk__in=wanted)
    return {
        str(e.pk): {
            **enrollment_event_payload(e),
            "program_key": e.program.program_key,
            "completed_at": e.completed_at.isoformat() if e.completed_at else None,
            "dropped_at": e.dropped_at.isoformat() if e.dropped_at else None,
        }
        for e in enrollments.order_by("enrolled_at", "id")
    }


def crm_participants(program_id: Any, entity_ids: list[str] | None) -> dict[str, dict]:
    """A participant is a user with an enrollment in the program, keyed by user id."""
    enrollments = Enrollment.objects.filter(program_id=program_id).select_related("user")
    wanted = _uuids(entity_ids)
    if wanted is not None:
        enrollments = enrollments.filter(user_id__in=wanted)
    records: dict[str, dict] = {}
    for e in enrollments.order_by("enrolled_at", "id"):
        record = records.setdefault(
            str(e.user_id),
            {
                "user_id": str(e.user_id),
                "email": e.user.email,
                "full_name": e.user.full_name,
                "program_id": str(program_id),
                "roles": [],
                "external_ids": {},
            },
        )
        record["roles"].append({"role": e.role, "status": e.status, "enrollment_id": str(e.pk)})
    for provider, external_id, user_id in ExternalIdentity.objects.filter(
        user_id__in=[uuid.UUID(k) for k in records]
    ).values_list("provider", "external_id", "user_id"):
        records[str(user_id)]["external_ids"][provider] = external_id
    return records


def crm_outcomes(program_id: Any, entity_ids: list[str] | None) -> dict[str, dict]:
    outcomes = Outcome.objects.filter(program_id=program_id).select_related("program", "enrollment")
    wanted = _uuids(entity_ids)
    if wanted is not None:
        outcomes = outcomes.filter(pk__in=wanted)
    return {
        str(o.pk): {
            "outcome_id": str(o.pk),
            "program_id": str(o.program_id),
            "program_key": o.program.program_key,
            "enrollment_id": str(o.enrollment_id),
            "user_id": str(o.enrollment.user_id),
            "outcome_type": o.outcome_type,
            "amount": str(o.amount) if o.amount is not None else None,
            "currency": o.currency or None,
            "occurred_on": o.occurred_on.isoformat(),
            "evidence_url": o.evidence_url,
            "notes": o.notes,
            "recorded_at": o.created_at.isoformat(),
        }
        for o in outcomes.order_by("occurred_on", "created_at", "id")
    }

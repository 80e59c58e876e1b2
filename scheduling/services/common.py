"""Helpers shared by the scheduling services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from core.errors import ValidationFailed
from core.middleware import valid_timezone
from scheduling.models import Session


def raise_errors(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors=errors)


def check_zone(name: str | None, field: str, errors: dict[str, str]) -> None:
    if valid_timezone(name) is None:
        errors[field] = f"'{name}' is not an IANA time zone (e.g. Europe/Kyiv)."


def window(starts_at: datetime, ends_at: datetime, zone: str) -> dict[str, str]:
    """The PII-free window of an event payload."""
    return {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "timezone": zone}


def lesson_ref(session: Session) -> dict[str, Any]:
    """The fields every lesson.* payload carries."""
    return {
        "lesson_id": str(session.pk),
        "program_id": str(session.program_id),
        "cohort_id": str(session.cohort_id) if session.cohort_id else None,
        "series_id": str(session.series_id) if session.series_id else None,
        "kind": session.kind,
        "host_id": str(session.host_id) if session.host_id else None,
    }


def lock_user(user_id: Any) -> None:
    """Row-lock a user: every booking of a host queues here, so the overlap check and the insert
    happen one transaction at a time per host."""
    get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()


def operators():
    from core.roles import Role

    return list(get_user_model().objects.filter(groups__name=Role.OPERATOR, is_active=True).distinct())

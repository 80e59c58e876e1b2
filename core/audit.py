"""Writing and reading the audit trail. Services call `audit_record` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import AuditEntry


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "email", None) or str(actor)


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    actor_label: str | None = None,
) -> AuditEntry:
    """Record who did what to which object, with the changes and the stated reason."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=actor_label or _actor_label(user),
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=True),
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        changes=changes or {},
        reason=reason or "",
    )


def audit_entries_for(target: models.Model) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=True),
        target_id=str(target.pk),
    ).order_by("-created_at")


def json_value(value: Any) -> Any:
    """A JSON-safe form of a field value for the `changes` of an audit entry."""
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)

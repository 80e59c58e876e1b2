"""A user's notification preferences; their row is also the per-user lock of `notify`."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.db import transaction

from core.audit import audit_record, json_value
from core.errors import ValidationFailed
from notifications.models import NotificationPreference
from notifications.registry import kind_registry


def lock_preferences(user: Any) -> NotificationPreference:
    """Row-lock the user's preferences (created on first use). Every `notify` for the user
    queues here, so the rate-limit count and the insert that follows it, and the dedupe check,
    run one transaction at a time."""
    preference = NotificationPreference.objects.select_for_update().filter(user=user).first()
    if preference is None:
        NotificationPreference.objects.get_or_create(user=user)
        preference = NotificationPreference.objects.select_for_update().get(user=user)
    return preference


@transaction.atomic
def notification_preferences_update(
    *,
    user: Any,
    opted_out_kinds: list[str],
    quiet_hours_start: time | None,
    quiet_hours_end: time | None,
    email_enabled: bool,
    actor: Any = None,
) -> NotificationPreference:
    """Replace the user's preferences. Only registered non-essential kinds can be opted out of;
    quiet hours need both ends, and different ones. The change is audited."""
    errors: dict[str, str] = {}
    kinds = kind_registry()
    if not isinstance(opted_out_kinds, list) or not all(isinstance(k, str) for k in opted_out_kinds):
        errors["opted_out_kinds"] = "A list of notification kind names."
    else:
        for index, key in enumerate(opted_out_kinds):
            kind = kinds.get(key)
            if kind is None:
                errors[f"opted_out_kinds/{index}"] = f"No notification kind '{key}'."
            elif kind.essential:
                errors[f"opted_out_kinds/{index}"] = f"'{key}' is essential and cannot be turned off."
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        missing = "quiet_hours_start" if quiet_hours_start is None else "quiet_hours_end"
        errors[missing] = "Set both ends of the quiet hours, or neither."
    elif quiet_hours_start is not None and quiet_hours_start == quiet_hours_end:
        errors["quiet_hours_end"] = "The quiet hours must end at another time than they start."
    if errors:
        raise ValidationFailed(errors=errors)

    preference = lock_preferences(user)
    wanted = {
        "opted_out_kinds": sorted(set(opted_out_kinds)),
        "quiet_hours_start": quiet_hours_start,
        "quiet_hours_end": quiet_hours_end,
        "email_enabled": bool(email_enabled),
    }
    changes = {
        name: [json_value(getattr(preference, name)), json_value(value)]
        for name, value in wanted.items()
        if getattr(preference, name) != value
    }
    if changes:
        for name, value in wanted.items():
            setattr(preference, name, value)
        preference.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor if actor is not None else user,
            action="notification_preferences.updated",
            target=preference,
            changes=changes,
        )
    return preference

"""Rate limits are data: operators create, change and remove policies, each change audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction

from core.audit import audit_record, json_value
from core.errors import ValidationFailed
from notifications.models import RateLimitPolicy


def _validated(instance: models.Model) -> None:
    try:
        instance.full_clean()
    except DjangoValidationError as exc:
        raise ValidationFailed(
            errors={
                ("non_field_errors" if name == "__all__" else name): " ".join(messages)
                for name, messages in exc.message_dict.items()
            }
        ) from None


@transaction.atomic
def rate_limit_policy_save(*, policy: RateLimitPolicy, actor: Any) -> RateLimitPolicy:
    """Create or change a rate-limit policy (validated: one per group and channel, never for
    transactional kinds, a window of at least an hour) and audit the change."""
    _validated(policy)
    before = RateLimitPolicy.objects.filter(pk=policy.pk).first()
    names = ("group", "channel", "max_count", "window_hours")
    changes = {
        name: [json_value(getattr(before, name)) if before else None, json_value(getattr(policy, name))]
        for name in names
        if before is None or getattr(before, name) != getattr(policy, name)
    }
    policy.save()
    if changes:
        action = "rate_limit_policy.updated" if before else "rate_limit_policy.created"
        audit_record(actor=actor, action=action, target=policy, changes=changes)
    return policy


@transaction.atomic
def rate_limit_policy_delete(*, policy: RateLimitPolicy, actor: Any) -> None:
    """Remove a policy: its group is no longer limited on that channel."""
    audit_record(
        actor=actor,
        action="rate_limit_policy.deleted",
        target=policy,
        changes={"max_count": [policy.max_count, None], "window_hours": [policy.window_hours, None]},
    )
    policy.delete()

"""Read use-cases of notifications: the inbox, its unread count, and preferences."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from notifications.enums import Channel, NotificationStatus
from notifications.models import Notification, NotificationPreference
from notifications.registry import NotificationKind, kind_registry


def notification_inbox(*, user: Any) -> QuerySet[Notification]:
    """The user's delivered dashboard notifications, newest first. Never another user's."""
    return Notification.objects.filter(user=user, channel=Channel.DASHBOARD, status=NotificationStatus.SENT).order_by(
        "-sent_at", "-created_at", "-id"
    )


def notification_unread_count(*, user: Any) -> int:
    return notification_inbox(user=user).filter(read_at__isnull=True).order_by().count()


def notification_preferences_of(*, user: Any) -> NotificationPreference:
    """The user's preferences; the defaults (unsaved) if they never changed them."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def notification_kinds_optional() -> list[NotificationKind]:
    """The kinds a user may opt out of: every registered non-essential kind."""
    return [kind for kind in kind_registry().values() if not kind.essential]

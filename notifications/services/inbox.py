"""The inbox's read marks."""

from __future__ import annotations

from typing import Any

from core import clock
from core.errors import NotFound
from notifications.models import Notification
from notifications.selectors import notification_inbox


def notification_mark_read(*, user: Any, notification_id: Any) -> Notification:
    """Mark one of the user's inbox notifications read (keeping the first read time). Another
    user's notification, or one not in the inbox, is not found."""
    notification = notification_inbox(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound("No notification with this id in your inbox.")
    if notification.read_at is None:
        now = clock.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now, updated_at=now)
        notification.refresh_from_db(fields=["read_at", "updated_at"])
    return notification


def notifications_mark_all_read(*, user: Any) -> int:
    """Mark every unread inbox notification of the user read; returns how many."""
    now = clock.now()
    return notification_inbox(user=user).filter(read_at__isnull=True).update(read_at=now, updated_at=now)

"""The unread count of the signed-in user's inbox, for the badge in the site header."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from notifications.selectors import notification_unread_count


def unread_notifications(request) -> dict:
    """`notifications_unread_count`: one query, made only when a page shows it, and only for a
    signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread_count": SimpleLazyObject(lambda: notification_unread_count(user=user))}

"""Celery tasks of notifications: they take ids, never model instances, and call a service."""

from celery import shared_task


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver(notification_id: str) -> None:
    """Deliver one notification (after the commit that queued it). Idempotent: a row already
    delivered, held back or claimed by another worker is left alone."""
    from notifications.models import Notification
    from notifications.services import notification_deliver

    try:
        notification_deliver(notification_id=notification_id)
    except Notification.DoesNotExist:
        return  # its user was deleted since

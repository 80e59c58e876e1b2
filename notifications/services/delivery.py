"""Delivery: each due row is claimed by one conditional UPDATE (a lease), so two workers never
send it; e-mail failures are retried with exponential backoff and jitter, then `failed`.

Status changes follow NOTIFICATION_TRANSITIONS: delivery applies them with UPDATEs conditioned on
`status='queued'` and on the worker's own lease; an operator's retry goes through
`apply_transition` and leaves an audit row."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q

from core import clock
from core.transitions import TransitionTable, apply_transition
from notifications.enums import Channel, NotificationStatus, SuppressedReason
from notifications.models import Notification
from notifications.services.conf import setting
from notifications.services.sending import schedule_delivery

logger = logging.getLogger(__name__)

NOTIFICATION_TRANSITIONS = TransitionTable(
    "notification",
    {
        NotificationStatus.QUEUED: {NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.SUPPRESSED},
        NotificationStatus.FAILED: {NotificationStatus.QUEUED},  # an operator retries
        NotificationStatus.SENT: set(),
        NotificationStatus.SUPPRESSED: set(),
    },
)


# Where the jitter of the backoff comes from (tests pin it to get exact times).
_jitter: Callable[[], float] = random.random


def retry_delay(attempt: int, *, base: float, cap: float, jitter: float) -> timedelta:
    """The wait before retry number `attempt` (1, 2, ...): exponential, capped, with "equal
    jitter": between half and all of min(cap, base * 2^(attempt-1)) seconds, `jitter` in [0, 1]
    choosing where, so retries of many failures spread out but never come too soon."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return timedelta(seconds=ceiling / 2 + ceiling / 2 * jitter)


def _due(now: datetime) -> Q:
    """Queued, not held back (quiet hours, backoff) and not leased to a live worker."""
    return (
        Q(status=NotificationStatus.QUEUED)
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        & (Q(scheduled_for__isnull=True) | Q(scheduled_for__lte=now))
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=setting("NOTIFICATIONS_LEASE_SECONDS"))


def _send_email(notification: Notification) -> None:
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or setting("NOTIFICATIONS_SEND_TIMEOUT_SECONDS")
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.user.email],
        headers={"X-Notification-ID": str(notification.pk), "Auto-Submitted": "auto-generated"},
        connection=get_connection(fail_silently=False, timeout=timeout),
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    if message.send() != 1:
        raise RuntimeError("The e-mail backend accepted no message.")


def _finish(notification: Notification, lease: datetime, outcome: str, **fields: Any) -> str:
    """Record the outcome, if this worker still holds the lease (else another took it over)."""
    fields["claimed_until"] = None
    fields["updated_at"] = clock.now()
    updated = Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.QUEUED, claimed_until=lease
    ).update(**fields)
    if not updated:
        logger.warning("Notification %s: lease lost before recording '%s'.", notification.pk, outcome)
        notification.refresh_from_db()
        return "lease_lost"
    for name, value in fields.items():
        setattr(notification, name, value)
    return outcome


def _send(notification: Notification, lease: datetime) -> str:
    """Deliver a row this worker has claimed; returns sent, retried, failed or suppressed."""
    if not notification.user.is_active:
        return _finish(
            notification,
            lease,
            "suppressed",
            status=NotificationStatus.SUPPRESSED,
            suppressed_reason=SuppressedReason.INACTIVE_USER,
        )
    attempts = notification.attempts + 1
    if notification.channel == Channel.DASHBOARD:
        return _finish(
            notification, lease, "sent", status=NotificationStatus.SENT, sent_at=clock.now(), attempts=attempts
        )
    try:
        _send_email(notification)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row and retried
        error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.warning("Notification %s: e-mail attempt %s failed: %s", notification.pk, attempts, error)
        if attempts >= setting("NOTIFICATIONS_MAX_ATTEMPTS"):
            return _finish(
                notification,
                lease,
                "failed",
                status=NotificationStatus.FAILED,
                attempts=attempts,
                last_error=error,
                next_attempt_at=None,
            )
        delay = retry_delay(
            attempts,
            base=setting("NOTIFICATIONS_RETRY_BASE_SECONDS"),
            cap=setting("NOTIFICATIONS_RETRY_CAP_SECONDS"),
            jitter=_jitter(),
        )
        return _finish(
            notification, lease, "retried", attempts=attempts, last_error=error, next_attempt_at=clock.now() + delay
        )
    return _finish(notification, lease, "sent", status=NotificationStatus.SENT, sent_at=clock.now(), attempts=attempts)


def notification_deliver(*, notification_id: Any) -> Notification:
    """Deliver one notification if it is due and no live worker holds it; otherwise do nothing.

    Claimed with one conditional UPDATE (status queued, lease free or expired, not held back),
    so of two workers only one sends. Runs outside any transaction of its own: the e-mail leaves
    the process, and the outcome is recorded only under this worker's lease."""
    now = clock.now()
    lease = _lease(now)
    claimed = Notification.objects.filter(_due(now), pk=notification_id).update(claimed_until=lease, updated_at=now)
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if claimed:
        _send(notification, lease)
    return notification


def notifications_dispatch_due(
    *, batch_size: int | None = None, on_batch: Callable[[Counter], None] | None = None
) -> Counter:
    """Deliver every due notification in batches (oldest first) and count the outcomes. Each
    batch is claimed in one short transaction (`FOR UPDATE SKIP LOCKED`, then a lease), so
    dispatchers and on-commit tasks running at once never deliver a row twice."""
    batch_size = batch_size or setting("NOTIFICATIONS_DISPATCH_BATCH_SIZE")
    counts: Counter = Counter()
    while True:
        now = clock.now()
        lease = _lease(now)
        with transaction.atomic():
            ids = list(
                Notification.objects.filter(_due(now))
                .order_by("created_at", "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if ids:
                Notification.objects.filter(pk__in=ids).update(claimed_until=lease, updated_at=now)
        if not ids:
            break
        for notification in Notification.objects.filter(pk__in=ids).select_related("user").order_by("created_at", "pk"):
            counts[_send(notification, lease)] += 1
        if on_batch is not None:
            on_batch(counts)
        if len(ids) < batch_size:
            break
    return counts


@transaction.atomic
def notification_retry(*, notification: Notification, actor: Any, reason: str = "") -> Notification:
    """Re-queue a failed notification: it gets the full number of attempts again and goes out
    after commit. Only failed ones can be retried."""
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    apply_transition(
        notification,
        table=NOTIFICATION_TRANSITIONS,
        to=NotificationStatus.QUEUED,
        actor=actor,
        action="notification.retried",
        reason=reason,
        extra={"attempts": 0, "next_attempt_at": None, "claimed_until": None},
    )
    schedule_delivery(notification.pk)
    return notification

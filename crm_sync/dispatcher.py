"""The dispatcher: fans new outbox events out into deliveries and makes the due deliveries.

Both steps claim rows with `SELECT ... FOR UPDATE SKIP LOCKED`, so any number of dispatchers can
run at once and each delivery is made by one of them. A claimed delivery is marked `in_flight`
with a lease and committed before the HTTP call; a dispatcher that dies leaves the lease to expire
and another one retries (at-least-once; receivers de-duplicate on `webhook-id`). Only the first
unfinished delivery of a subject (per subscriber) is claimable, so a subscriber sees one subject's
events in order.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from core import clock
from core.audit import audit_record
from crm_sync.adapters import Outcome, adapter_for, body_of
from crm_sync.enums import UNFINISHED, DeliveryStatus
from crm_sync.models import Delivery, OutboxEvent, Subscriber


def _setting(name: str, default):
    return getattr(settings, name, default)


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: between half and all of base * 2^(attempts-1), capped."""
    base = _setting("CRM_RETRY_BASE_SECONDS", 10)
    cap = _setting("CRM_RETRY_CAP_SECONDS", 3600)
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not security


def signing_secrets(subscriber: Subscriber, now) -> list[str]:
    secrets = [subscriber.secret]
    if subscriber.previous_secret and (
        subscriber.previous_secret_expires_at is None or subscriber.previous_secret_expires_at > now
    ):
        secrets.append(subscriber.previous_secret)
    return secrets


# --- Fan-out ------------------------------------------------------------------------------------


def fan_out(batch_size: int) -> int:
    """Turn up to `batch_size` new outbox events into deliveries (one per wanting subscriber)."""
    now = clock.now()
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(fanned_out_at__isnull=True)
            .order_by("occurred_at", "id")
            .values("id", "event_type", "subject_type", "subject_id", "occurred_at")[:batch_size]
        )
        if not events:
            return 0
        subscribers = list(
            Subscriber.objects.filter(active=True, deleted_at__isnull=True).values_list("id", "event_types")
        )
        deliveries = [
            Delivery(
                event_id=event["id"],
                subscriber_id=subscriber_id,
                subject_key=f"{event['subject_type']}:{event['subject_id']}",
                event_occurred_at=event["occurred_at"],
                event_type=event["event_type"],
                next_attempt_at=now,
            )
            for event in events
            for subscriber_id, wanted in subscribers
            if "*" in wanted or event["event_type"] in wanted
        ]
        Delivery.objects.bulk_create(deliveries, batch_size=2000)
        OutboxEvent.objects.filter(id__in=[e["id"] for e in events]).update(fanned_out_at=now)
    return len(events)


# --- Claiming -----------------------------------------------------------------------------------


def _claimable(now):
    earlier_unfinished = Delivery.objects.filter(
        subscriber_id=OuterRef("subscriber_id"),
        subject_key=OuterRef("subject_key"),
        status__in=UNFINISHED,
    ).filter(
        Q(event_occurred_at__lt=OuterRef("event_occurred_at"))
        | Q(event_occurred_at=OuterRef("event_occurred_at"), event_id__lt=OuterRef("event_id"))
    )
    due = Q(status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED), next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.IN_FLIGHT, locked_until__lt=now
    )
    return (
        Delivery.objects.filter(due, subscriber__active=True, subscriber__deleted_at__isnull=True)
        .exclude(Exists(earlier_unfinished))
        .order_by("event_occurred_at", "event_id")
    )


def claim(batch_size: int) -> list[Delivery]:
    """Lease up to `batch_size` due deliveries to this dispatcher."""
    now = clock.now()
    lease = timedelta(seconds=_setting("CRM_DELIVERY_LEASE_SECONDS", 120))
    with transaction.atomic():
        ids = list(
            _claimable(now).select_for_update(skip_locked=True, of=("self",)).values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return []
        Delivery.objects.filter(id__in=ids).update(status=DeliveryStatus.IN_FLIGHT, locked_until=now + lease)
    return list(Delivery.objects.filter(id__in=ids).select_related("event", "subscriber"))


# --- Delivering ---------------------------------------------------------------------------------


def _attempt(delivery: Delivery, now) -> Outcome:
    envelope = delivery.event.envelope()
    try:
        adapter = adapter_for(delivery.subscriber.kind)
        return adapter(
            delivery.subscriber,
            envelope,
            body_of(envelope),
            signing_secrets(delivery.subscriber, now),
            int(now.timestamp()),
        )
    except Exception as exc:  # noqa: BLE001 - an adapter bug must not lose the delivery
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:1000])


def _record(delivery: Delivery, outcome: Outcome, now) -> str:
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "locked_until": None,
        "updated_at": now,
    }
    code = outcome.status_code
    if code == 410:
        Subscriber.objects.filter(pk=delivery.subscriber_id).update(
            active=False, disabled_reason=f"The receiver answered 410 Gone at {now.isoformat()}.", updated_at=now
        )
        audit_record(
            actor=None,
            actor_label="system:dispatcher",
            action="subscriber.disabled",
            target=delivery.subscriber,
            changes={"active": [True, False]},
            reason="The receiver answered 410 Gone.",
        )
        status = DeliveryStatus.DEAD
    elif code is None or code == 429 or code >= 500:
        if attempts >= _setting("CRM_MAX_ATTEMPTS", 8):
            status = DeliveryStatus.DEAD
        else:
            status = DeliveryStatus.FAILED
            wait = backoff_seconds(attempts)
            if outcome.retry_after is not None:
                wait = max(wait, min(outcome.retry_after, _setting("CRM_RETRY_CAP_SECONDS", 3600)))
            fields["next_attempt_at"] = now + timedelta(seconds=wait)
    else:  # another 4xx: the receiver refuses this event; retrying cannot help
        status = DeliveryStatus.DEAD
    fields["status"] = status
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    return status


def deliver(deliveries: list[Delivery]) -> dict[str, int]:
    """Make the claimed deliveries; successes are recorded in one query."""
    counts = {"delivered": 0, "retrying": 0, "dead": 0}
    if not deliveries:
        return counts
    now = clock.now()
    workers = _setting("CRM_DISPATCH_CONCURRENCY", 8)
    if workers > 1 and len(deliveries) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(lambda d: _attempt(d, now), deliveries))
    else:
        outcomes = [_attempt(d, now) for d in deliveries]
    done = clock.now()
    succeeded = []
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        if outcome.ok:
            succeeded.append((delivery.pk, outcome.status_code))
            continue
        status = _record(delivery, outcome, done)
        counts["dead" if status == DeliveryStatus.DEAD else "retrying"] += 1
    by_code: dict[int, list] = {}
    for pk, code in succeeded:
        by_code.setdefault(code, []).append(pk)
    for code, ids in by_code.items():
        Delivery.objects.filter(id__in=ids).update(
            status=DeliveryStatus.SUCCEEDED,
            attempts=F("attempts") + 1,
            last_status_code=code,
            last_error="",
            delivered_at=done,
            locked_until=None,
            updated_at=done,
        )
    counts["delivered"] = len(succeeded)
    return counts


def dispatch(
    *,
    batch_size: int | None = None,
    time_budget: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Fan out and deliver until nothing is due or the time budget is spent."""
    batch_size = batch_size or _setting("CRM_DISPATCH_BATCH_SIZE", 500)
    budget = _setting("CRM_DISPATCH_TIME_BUDGET_SECONDS", 20) if time_budget is None else time_budget
    started = time.monotonic()
    totals = {"fanned_out": 0, "delivered": 0, "retrying": 0, "dead": 0}
    while True:
        fanned = fan_out(batch_size)
        counts = deliver(claim(batch_size))
        totals["fanned_out"] += fanned
        for key, value in counts.items():
            totals[key] += value
        if progress is not None and (fanned or any(counts.values())):
            progress(", ".join(f"{k}={v}" for k, v in totals.items()))
        if not fanned and not any(counts.values()):
            break
        if time.monotonic() - started > budget:
            break
    return totals

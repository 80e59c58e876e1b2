"""The dispatcher: fans new outbox events out into deliveries and makes the due deliveries.

Both steps claim rows with `SELECT ... FOR UPDATE SKIP LOCKED`, so any number of dispatchers can
run at once and each delivery is made by one of them. A claimed delivery is marked `in_flight`
with a lease and committed before the HTTP call; a dispatcher that dies leaves the lease to expire
and another one retries (at-least-once; receivers de-duplicate on `webhook-id`). Only the first
unfinished delivery of a subject (per subscriber) is claimable, so a subscriber sees one subject's
events in order.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q

from core import clock
from core.audit import audit_record
from crm_sync.adapters import Outcome, adapter_for, body_of
from crm_sync.enums import UNFINISHED, DeliveryStatus, SubscriberKind
from crm_sync.models import Delivery, OutboxEvent, Subscriber

# Kinds whose deliveries wait on the network: made in parallel threads.
_PARALLEL_KINDS = {SubscriberKind.WEBHOOK, SubscriberKind.CRM}


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

_FAN_OUT_SQL = """
WITH claimed AS (
    SELECT id, event_type, subject_type, subject_id, occurred_at
    FROM crm_sync_outboxevent
    WHERE fanned_out_at IS NULL {after}
    ORDER BY occurred_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE crm_sync_outboxevent o SET fanned_out_at = %(now)s, updated_at = %(now)s
    FROM claimed c WHERE o.id = c.id
    RETURNING o.id
), inserted AS (
    INSERT INTO crm_sync_delivery (
        id, created_at, updated_at, event_id, subscriber_id, subject_key, event_occurred_at, event_type,
        status, attempts, next_attempt_at, last_error
    )
    SELECT gen_random_uuid(), %(now)s, %(now)s, c.id, s.id, c.subject_type || ':' || c.subject_id,
           c.occurred_at, c.event_type, 'pending', 0, %(now)s, ''
    FROM claimed c
    JOIN crm_sync_subscriber s
      ON s.active AND s.deleted_at IS NULL
     AND (s.event_types @> '["*"]'::jsonb OR s.event_types @> jsonb_build_array(c.event_type))
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked), (SELECT count(*) FROM inserted), last.occurred_at, last.id
FROM (SELECT 1) one
LEFT JOIN (SELECT occurred_at, id FROM claimed ORDER BY occurred_at DESC, id DESC LIMIT 1) last ON true
"""
# Within one dispatch run, each query starts after the last key it saw, so it does not walk again
# over the index entries of rows it just finished (dead until vacuumed). A final pass without the
# cursor catches rows that committed late behind it.
_AFTER_EVENT = "AND (occurred_at, id) > (%(after_at)s, %(after_id)s)"
_AFTER_DELIVERY = "AND (x.event_occurred_at, x.event_id) > (%(after_at)s, %(after_id)s)"

Cursor = tuple[Any, Any] | None


_FAN_OUT_LOCK = int.from_bytes(hashlib.sha256(b"crm_sync.fan_out").digest()[:8], "big", signed=True)


def fan_out(batch_size: int) -> int:
    """Turn up to `batch_size` new outbox events into deliveries (one per wanting subscriber).
    On PostgreSQL this is one statement; returns the number of events fanned out."""
    return _fan_out(batch_size, None)[0]


def _fan_out(batch_size: int, after: Cursor) -> tuple[int, Cursor]:
    now = clock.now()
    if connection.vendor == "postgresql":
        params = {"limit": batch_size, "now": now}
        if after is not None:
            params.update(after_at=after[0], after_id=after[1])
        with transaction.atomic(), connection.cursor() as cursor:
            # One fan-out at a time (a short wait: it is one statement). Were a later batch
            # committed while an earlier one is still in flight, a subject's later event could be
            # claimed before the delivery of its earlier event exists.
            _relaxed_commit(cursor)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FAN_OUT_LOCK])
            cursor.execute(_FAN_OUT_SQL.format(after=_AFTER_EVENT if after is not None else ""), params)
            events, _, last_at, last_id = cursor.fetchone()
        return events, ((last_at, last_id) if events else None)
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(fanned_out_at__isnull=True)
            .order_by("occurred_at", "id")
            .values("id", "event_type", "subject_type", "subject_id", "occurred_at")[:batch_size]
        )
        if not events:
            return 0, None
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
        OutboxEvent.objects.filter(id__in=[e["id"] for e in events]).update(fanned_out_at=now, updated_at=now)
    return len(events), None


# --- Claiming -----------------------------------------------------------------------------------


class Claimed:
    """A delivery leased to this dispatcher, with what it takes to make it. The envelope and its
    JSON body are built when an adapter first asks for them."""

    __slots__ = ("pk", "event_id", "subscriber_id", "attempts", "subscriber", "event_row", "_envelope", "_body")

    def __init__(self, *, pk, event_id, subscriber_id, attempts, subscriber: Subscriber, event_row: dict) -> None:
        self.pk = pk
        self.event_id = event_id
        self.subscriber_id = subscriber_id
        self.attempts = attempts
        self.subscriber = subscriber
        self.event_row = event_row
        self._envelope: dict | None = None
        self._body: bytes | None = None

    @property
    def occurred_at(self):
        return self.event_row["occurred_at"]

    @property
    def envelope(self) -> dict:
        if self._envelope is None:
            self._envelope = _envelope(self.event_row)
        return self._envelope

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = body_of(self.envelope)
        return self._body


_CLAIM_SQL = """
UPDATE crm_sync_delivery d
SET status = 'in_flight', locked_until = %(lease)s, updated_at = %(now)s
FROM crm_sync_outboxevent o
WHERE o.id = d.event_id AND d.id IN (
    SELECT x.id
    FROM crm_sync_delivery x
    WHERE x.status IN ('pending', 'in_flight', 'failed')
      AND ((x.status <> 'in_flight' AND x.next_attempt_at <= %(now)s)
           OR (x.status = 'in_flight' AND x.locked_until < %(now)s))
      AND x.subscriber_id = ANY(%(subscribers)s)
      AND NOT EXISTS (
          SELECT 1 FROM crm_sync_delivery e
          WHERE e.subscriber_id = x.subscriber_id
            AND e.subject_key = x.subject_key
            AND e.status IN ('pending', 'in_flight', 'failed')
            AND (e.event_occurred_at, e.event_id) < (x.event_occurred_at, x.event_id)
      )
      {after}
    ORDER BY x.event_occurred_at, x.event_id
    LIMIT %(limit)s
    FOR UPDATE OF x SKIP LOCKED
)
RETURNING d.id, d.event_id, d.subscriber_id, d.attempts,
          o.event_type, o.schema_version, o.occurred_at, o.producer, o.subject_type, o.subject_id, o.actor,
          o.correlation_id, o.causation_id, o.payload
"""


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


def _envelope(row: dict) -> dict:
    payload = row["payload"]
    if isinstance(payload, str):  # Django has psycopg hand jsonb over as text
        payload = json.loads(payload)
    return {
        "event_id": str(row["id"]),
        "event_type": row["event_type"],
        "schema_version": row["schema_version"],
        "occurred_at": row["occurred_at"].isoformat(),
        "producer": row["producer"],
        "subject": {"type": row["subject_type"], "id": row["subject_id"]},
        "actor": row["actor"],
        "correlation_id": row["correlation_id"],
        "causation_id": row["causation_id"],
        "payload": payload,
    }


_ENVELOPE_FIELDS = (
    "id",
    "event_type",
    "schema_version",
    "occurred_at",
    "producer",
    "subject_type",
    "subject_id",
    "actor",
    "correlation_id",
    "causation_id",
    "payload",
)


def claim(batch_size: int, after: Cursor = None) -> list[Claimed]:
    """Lease up to `batch_size` due deliveries to this dispatcher (committed before delivering),
    on PostgreSQL only those after the `after` key (event time, event id) when given."""
    now = clock.now()
    lease = now + timedelta(seconds=_setting("CRM_DELIVERY_LEASE_SECONDS", 120))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The unfinished deliveries of active subscribers, walked in event order on a partial
            # index until `batch_size` heads of their subjects are found.
            subscribers = list(
                Subscriber.objects.filter(active=True, deleted_at__isnull=True).values_list("id", flat=True)
            )
            if not subscribers:
                return []
            params = {"now": now, "lease": lease, "limit": batch_size, "subscribers": subscribers}
            if after is not None:
                params.update(after_at=after[0], after_id=after[1])
            with connection.cursor() as cursor:
                _relaxed_commit(cursor)
                cursor.execute(_CLAIM_SQL.format(after=_AFTER_DELIVERY if after is not None else ""), params)
                returned = cursor.fetchall()
            # The envelope columns come back with the claimed rows (one round trip).
            event_rows = {
                row[1]: {"id": row[1], **dict(zip(_ENVELOPE_FIELDS[1:], row[4:], strict=True))} for row in returned
            }
            rows = [row[:4] for row in returned]
        else:
            rows = list(
                _claimable(now)
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("id", "event_id", "subscriber_id", "attempts")[:batch_size]
            )
            Delivery.objects.filter(id__in=[r[0] for r in rows]).update(
                status=DeliveryStatus.IN_FLIGHT, locked_until=lease, updated_at=now
            )
    if not rows:
        return []
    if connection.vendor != "postgresql":
        event_rows = {
            row["id"]: row for row in OutboxEvent.objects.filter(id__in={r[1] for r in rows}).values(*_ENVELOPE_FIELDS)
        }
    subscribers = Subscriber.objects.in_bulk({r[2] for r in rows})
    claimed = [
        Claimed(
            pk=pk,
            event_id=event_id,
            subscriber_id=sub_id,
            attempts=attempts,
            subscriber=subscribers[sub_id],
            event_row=event_rows[event_id],
        )
        for pk, event_id, sub_id, attempts in rows
    ]
    claimed.sort(key=lambda c: (c.occurred_at, c.event_id))
    return claimed


# --- Delivering ---------------------------------------------------------------------------------

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """One long-lived pool per process, so each thread keeps its HTTP keep-alive connections."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=_setting("CRM_DISPATCH_CONCURRENCY", 8), thread_name_prefix="dispatch"
            )
        return _pool


def _attempt(item: Claimed, now) -> Outcome:
    try:
        adapter = adapter_for(item.subscriber.kind)
        return adapter(item, signing_secrets(item.subscriber, now), int(now.timestamp()))
    except Exception as exc:  # noqa: BLE001 - an adapter bug must not lose the delivery
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:1000])


def _record(item: Claimed, outcome: Outcome, now) -> str:
    attempts = item.attempts + 1
    fields = {
        "attempts": attempts,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "locked_until": None,
        "updated_at": now,
    }
    code = outcome.status_code
    if code == 410:
        # Several deliveries of one batch may meet the 410: the first disables and audits.
        disabled = Subscriber.objects.filter(pk=item.subscriber_id, active=True).update(
            active=False, disabled_reason=f"The receiver answered 410 Gone at {now.isoformat()}.", updated_at=now
        )
        if disabled:
            audit_record(
                actor=None,
                actor_label="system:dispatcher",
                action="subscriber.disabled",
                target=item.subscriber,
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
    Delivery.objects.filter(pk=item.pk).update(**fields)
    return status


def _relaxed_commit(cursor) -> None:
    """The dispatcher's own bookkeeping may skip waiting for the WAL flush: a commit lost in a
    crash only means an event is fanned out again (atomically) or a delivery is made again, which
    at-least-once delivery already allows."""
    cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _mark_succeeded(succeeded: list[tuple[Any, int]], done) -> None:
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


def deliver(items: list[Claimed]) -> dict[str, int]:
    """Make the claimed deliveries; successes are recorded in one query."""
    counts = {"delivered": 0, "retrying": 0, "dead": 0}
    if not items:
        return counts
    now = clock.now()
    parallel = _setting("CRM_DISPATCH_CONCURRENCY", 8) > 1 and any(i.subscriber.kind in _PARALLEL_KINDS for i in items)
    if parallel and len(items) > 1:
        outcomes = list(_executor().map(lambda i: _attempt(i, now), items))
    else:
        outcomes = [_attempt(i, now) for i in items]
    done = clock.now()
    succeeded = []
    for item, outcome in zip(items, outcomes, strict=True):
        if outcome.ok:
            succeeded.append((item.pk, outcome.status_code))
            continue
        status = _record(item, outcome, done)
        counts["dead" if status == DeliveryStatus.DEAD else "retrying"] += 1
    if succeeded:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    _relaxed_commit(cursor)
            _mark_succeeded(succeeded, done)
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
    fan_after: Cursor = None
    claim_after: Cursor = None
    while True:
        fanned, next_fan = _fan_out(batch_size, fan_after)
        if not fanned and fan_after is not None:
            fanned, next_fan = _fan_out(batch_size, None)
        fan_after = next_fan
        items = claim(batch_size, claim_after)
        if not items and claim_after is not None:
            items = claim(batch_size, None)
        claim_after = (items[-1].occurred_at, items[-1].event_id) if items else None
        counts = deliver(items)
        totals["fanned_out"] += fanned
        for key, value in counts.items():
            totals[key] += value
        if progress is not None and (fanned or any(counts.values())):
            progress(", ".join(f"{k}={v}" for k, v in totals.items()))
        if not fanned and not items:
            break
        if time.monotonic() - started > budget:
            break
    return totals

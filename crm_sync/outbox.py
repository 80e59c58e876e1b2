"""`emit`: write an event to the outbox in the caller's transaction. A rolled-back transaction
emits nothing; a committed one is delivered by the dispatcher (kicked on commit)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from core import clock
from crm_sync import registry as event_registry
from crm_sync.models import OutboxEvent

PRODUCER = "platform"


class InvalidEventPayload(ValueError):
    """A producer built a payload its registered schema refuses (a programming error)."""

    def __init__(self, event_type: str, version: int, errors: dict[str, str]) -> None:
        self.errors = errors
        details = "; ".join(f"{path}: {message}" for path, message in errors.items())
        super().__init__(f"{event_type} v{version} payload is invalid: {details}")


def actor_ref(actor: Any) -> str:
    """`user:<id>` for a signed-in user, else `system:<name>` (a string is taken as the name)."""
    if isinstance(actor, str):
        return actor if ":" in actor else f"system:{actor}"
    if getattr(actor, "is_authenticated", False):
        return f"user:{actor.pk}"
    return "system:platform"


def _kick() -> None:
    from crm_sync.tasks import dispatch_kick

    dispatch_kick.delay()


def _schedule_kick() -> None:
    """Ask a worker to dispatch once this transaction commits (once per transaction)."""
    if not getattr(settings, "CRM_DISPATCH_KICK_ON_COMMIT", True):
        return
    if any(callback is _kick for _, callback, _ in connection.run_on_commit):
        return
    transaction.on_commit(_kick, robust=True)


def emit(
    *,
    event_type: str,
    subject: tuple[str, Any],
    payload: dict[str, Any],
    actor: Any = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    occurred_at=None,
) -> OutboxEvent:
    """Record an event of a registered type, validated against its active schema version.
    `subject` is `(type, id)`, e.g. `("enrollment", enrollment.id)`."""
    event_kind = event_registry.registry().get(event_type)  # raises UnknownEventType
    version = event_kind.active
    errors = event_registry.validation_errors(version.validator, payload, prefix="")
    if errors:
        raise InvalidEventPayload(event_type, version.version, errors)
    subject_type, subject_id = subject
    event = OutboxEvent.objects.create(
        id=uuid.uuid4(),
        event_type=event_type,
        schema_version=version.version,
        occurred_at=occurred_at or clock.now(),
        producer=PRODUCER,
        subject_type=subject_type,
        subject_id=str(subject_id),
        actor=actor_ref(actor),
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload,
    )
    _schedule_kick()
    return event


def emit_many(
    *,
    event_type: str,
    events: list[tuple[tuple[str, Any], dict[str, Any]]],
    actor: Any = None,
    occurred_at=None,
) -> list[OutboxEvent]:
    """`emit` for many events of one type at once: each `(subject, payload)` is validated like
    `emit` does (a bad one raises before anything is written), then all are inserted in one
    statement."""
    event_kind = event_registry.registry().get(event_type)
    version = event_kind.active
    when = occurred_at or clock.now()
    rows = []
    for (subject_type, subject_id), payload in events:
        errors = event_registry.validation_errors(version.validator, payload, prefix="")
        if errors:
            raise InvalidEventPayload(event_type, version.version, errors)
        rows.append(
            OutboxEvent(
                id=uuid.uuid4(),
                event_type=event_type,
                schema_version=version.version,
                occurred_at=when,
                producer=PRODUCER,
                subject_type=subject_type,
                subject_id=str(subject_id),
                actor=actor_ref(actor),
                payload=payload,
            )
        )
    if rows:
        OutboxEvent.objects.bulk_create(rows, batch_size=1000)
        _schedule_kick()
    return rows

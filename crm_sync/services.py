"""Write use-cases of the integration backbone: subscribers, replays, the CRM sync queue, inbound
sources and inbound events."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from core import clock
from core.audit import audit_record
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from crm_sync import hooks
from crm_sync import registry as event_registry
from crm_sync.enums import UNFINISHED, DeliveryStatus, InboundStatus, SubscriberKind
from crm_sync.models import CrmSyncItem, Delivery, InboundEvent, InboundSource, Subscriber
from crm_sync.outbox import emit
from crm_sync.signing import SignatureError, new_secret, secret_error, verify

SECRET_OVERLAP = timedelta(hours=24)


# --- Subscribers --------------------------------------------------------------------------------


def _event_types_errors(event_types: Any) -> dict[str, str]:
    if not isinstance(event_types, list) or not event_types or not all(isinstance(t, str) for t in event_types):
        return {"event_types": 'List the event types to deliver (or ["*"] for all).'}
    known = event_registry.registry().types
    unknown = [t for t in event_types if t != "*" and t not in known]
    if unknown:
        return {"event_types": f"Not registered: {', '.join(unknown)}. Registered: {', '.join(sorted(known))}."}
    return {}


@transaction.atomic
def subscriber_create(
    *,
    name: str,
    url: str,
    event_types: list[str],
    kind: str = SubscriberKind.WEBHOOK,
    secret: str | None = None,
    actor: Any = None,
) -> Subscriber:
    """Register a receiver; without a secret one is generated (the caller shows it once)."""
    errors = _event_types_errors(event_types)
    if kind not in SubscriberKind.values:
        errors["kind"] = f"Use one of: {', '.join(SubscriberKind.values)}."
    if secret and (message := secret_error(secret)):
        errors["secret"] = message
    if errors:
        raise ValidationFailed(errors=errors)
    subscriber = Subscriber.objects.create(
        name=name, url=url, kind=kind, event_types=sorted(set(event_types)), secret=secret or new_secret()
    )
    audit_record(
        actor=actor,
        action="subscriber.created",
        target=subscriber,
        changes={"name": name, "url": url, "kind": kind, "event_types": subscriber.event_types},
    )
    return subscriber


SUBSCRIBER_EDITABLE = ("name", "url", "event_types", "active")


@transaction.atomic
def subscriber_update(*, subscriber: Subscriber, data: dict[str, Any], actor: Any = None) -> Subscriber:
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if "event_types" in data and (errors := _event_types_errors(data["event_types"])):
        raise ValidationFailed(errors=errors)
    fields = {k: v for k, v in data.items() if k in SUBSCRIBER_EDITABLE}
    if "event_types" in fields:
        fields["event_types"] = sorted(set(fields["event_types"]))
    if fields.get("active") is True:
        fields["disabled_reason"] = ""
    changes = {k: [getattr(subscriber, k), v] for k, v in fields.items() if getattr(subscriber, k) != v}
    if changes:
        for key in changes:
            setattr(subscriber, key, fields[key])
        subscriber.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="subscriber.updated", target=subscriber, changes=changes)
    return subscriber


@transaction.atomic
def subscriber_rotate_secret(*, subscriber: Subscriber, actor: Any = None) -> Subscriber:
    """A new secret signs from now on; the previous one keeps signing too for 24 hours, so the
    receiver can switch without losing a delivery."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    subscriber.previous_secret = subscriber.secret
    subscriber.previous_secret_expires_at = clock.now() + SECRET_OVERLAP
    subscriber.secret = new_secret()
    subscriber.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    audit_record(actor=actor, action="subscriber.secret_rotated", target=subscriber)
    return subscriber


@transaction.atomic
def subscriber_delete(*, subscriber: Subscriber, actor: Any = None) -> None:
    """Stop delivering to the subscriber and hide it; its unfinished deliveries end as dead, its
    history stays."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    now = clock.now()
    subscriber.active = False
    subscriber.deleted_at = now
    subscriber.save(update_fields=["active", "deleted_at", "updated_at"])
    abandoned = Delivery.objects.filter(subscriber=subscriber, status__in=UNFINISHED).update(
        status=DeliveryStatus.DEAD, last_error="The subscriber was deleted.", locked_until=None, updated_at=now
    )
    audit_record(
        actor=actor, action="subscriber.deleted", target=subscriber, changes={"unfinished_deliveries_ended": abandoned}
    )


# --- Replays ------------------------------------------------------------------------------------


@transaction.atomic
def delivery_replay(*, delivery: Delivery, actor: Any = None) -> Delivery:
    """Send a dead (or failing) delivery again now, with a fresh attempt budget."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
        raise Conflict(f"Only dead or failed deliveries can be replayed; this one is {delivery.status}.")
    before = delivery.status
    now = clock.now()
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.locked_until = None
    delivery.replayed_at = now
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "locked_until", "replayed_at", "updated_at"])
    audit_record(actor=actor, action="delivery.replayed", target=delivery, changes={"status": [before, "pending"]})
    return delivery


# --- CRM sync queue -----------------------------------------------------------------------------


@transaction.atomic
def crm_sync_request(
    *,
    program_id: Any,
    entity_type: str,
    entity_ids: list[str] | None = None,
    reason: str = "",
    actor: Any = None,
) -> list[CrmSyncItem]:
    """Queue records of a program for the CRM: one `program_crm_sync_requested` event per record,
    carrying its current data, delivered to the CRM subscribers like any event."""
    if not hooks.program_exists(program_id):
        raise NotFound(f"No program with the id {program_id}.")
    fetch = hooks.crm_entity_fetch(entity_type)
    if fetch is None:
        raise ValidationFailed(errors={"entity_type": f"Use one of: {', '.join(hooks.crm_entity_types())}."})
    wanted = None if entity_ids is None else [str(i) for i in entity_ids]
    records = fetch(program_id, wanted)
    if wanted is not None:
        missing = [i for i in wanted if i not in records]
        if missing:
            raise ValidationFailed(
                errors={"entity_ids": f"Not {entity_type}s of this program: {', '.join(missing[:20])}."}
            )
    items = []
    for entity_id, record in records.items():
        event = emit(
            event_type="program_crm_sync_requested",
            subject=(entity_type, entity_id),
            payload={
                "program_id": str(program_id),
                "entity_type": entity_type,
                "entity_id": entity_id,
                "reason": reason,
                "record": json.loads(json.dumps(record, default=str)),
            },
            actor=actor,
        )
        items.append(
            CrmSyncItem(
                program_id=program_id,
                entity_type=entity_type,
                entity_id=entity_id,
                reason=reason,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                event=event,
            )
        )
    CrmSyncItem.objects.bulk_create(items)
    return items


# --- Inbound sources ----------------------------------------------------------------------------


@transaction.atomic
def inbound_source_create(*, key: str, name: str = "", secret: str | None = None, actor: Any = None) -> InboundSource:
    if secret and (message := secret_error(secret)):
        raise ValidationFailed(errors={"secret": message})
    if InboundSource.objects.filter(key=key).exists():
        raise Conflict(f"An inbound source with the key '{key}' already exists.")
    try:
        with transaction.atomic():
            source = InboundSource.objects.create(key=key, name=name or key, secret=secret or new_secret())
    except IntegrityError as exc:
        raise Conflict(f"An inbound source with the key '{key}' already exists.") from exc
    audit_record(actor=actor, action="inbound_source.created", target=source, changes={"key": key})
    return source


@transaction.atomic
def inbound_source_rotate_secret(*, source: InboundSource, actor: Any = None) -> InboundSource:
    source = InboundSource.objects.select_for_update().get(pk=source.pk)
    source.previous_secret = source.secret
    source.previous_secret_expires_at = clock.now() + SECRET_OVERLAP
    source.secret = new_secret()
    source.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    audit_record(actor=actor, action="inbound_source.secret_rotated", target=source)
    return source


# --- Inbound events -----------------------------------------------------------------------------


class InboundRejected(ValidationFailed):
    """The event is signed but invalid: answered 422 and stored as rejected."""

    status = 422
    slug = "event-rejected"
    title = "Event rejected"


class InboundUnauthorized(DomainError):
    status = 401
    slug = "invalid-signature"
    title = "Invalid signature"


def _source_secrets(source: InboundSource, now) -> list[str]:
    secrets = [source.secret]
    if source.previous_secret and (
        source.previous_secret_expires_at is None or source.previous_secret_expires_at > now
    ):
        secrets.append(source.previous_secret)
    return secrets


def _validate_envelope(envelope: Any, today) -> tuple[dict[str, str], str]:
    """Errors (path -> message) of an inbound envelope against the registry, and a summary."""
    reg = event_registry.registry()
    errors = event_registry.validation_errors(reg.envelope, envelope, prefix="")
    if errors:
        return errors, "The event envelope is invalid."
    try:
        event_type = reg.get(envelope["event_type"])
    except event_registry.UnknownEventType:
        return {"event_type": f"'{envelope['event_type']}' is not a registered event type."}, "Unknown event type."
    problem = reg.acceptance_error(event_type.name, envelope["schema_version"], today)
    if problem:
        return {"schema_version": problem}, problem
    version = event_type.version(envelope["schema_version"])
    if version.validator is not None:
        errors = event_registry.validation_errors(version.validator, envelope["payload"], prefix="payload")
        if errors:
            return errors, f"The payload does not match {event_type.name} v{version.version}."
    return {}, ""


def _schedule_processing(event_id) -> None:
    if getattr(settings, "CRM_INBOUND_PROCESS_ON_COMMIT", True):
        from crm_sync.tasks import process_inbound_event

        transaction.on_commit(lambda: process_inbound_event.delay(str(event_id)), robust=True)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def inbound_receive(*, source_key: str, headers, body: bytes) -> tuple[InboundEvent, bool]:
    """Verify, de-duplicate, validate and store an event a partner sent. Returns the stored event
    and whether it is new. Raises NotFound (unknown source), InboundUnauthorized (signature) or
    InboundRejected (stored as rejected, then raised)."""
    now = clock.now()
    source = InboundSource.objects.filter(key=source_key, active=True).first()
    if source is None:
        raise NotFound(f"No active inbound source '{source_key}'.")
    try:
        msg_id = verify(_source_secrets(source, now), headers, body, now)
    except SignatureError as exc:
        raise InboundUnauthorized(str(exc)) from exc

    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        envelope = None
    has_nul = _has_nul(envelope)
    if has_nul:  # PostgreSQL stores no NUL character: kept as raw text and rejected
        envelope = None
    event_id = envelope.get("event_id") if isinstance(envelope, dict) else None
    event_id = str(event_id)[:200] if event_id else msg_id[:200]

    with transaction.atomic():
        existing = InboundEvent.objects.select_for_update().filter(source=source, event_id=event_id).first()
        if existing is not None and existing.status != InboundStatus.REJECTED:
            return existing, False
        if has_nul:
            summary = "The body holds a NUL character (\\u0000), which is not accepted."
            errors = {"body": summary}
        elif envelope is None or not isinstance(envelope, dict):
            errors, summary = {"body": "The body is not a JSON object."}, "The body is not a JSON object."
        else:
            errors, summary = _validate_envelope(envelope, now.date())
        is_object = isinstance(envelope, dict)
        version = envelope.get("schema_version") if is_object else None
        if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= 2**31 - 1:
            version = None  # not storable (the errors name what is wrong with it)
        fields = {
            "event_type": str(envelope.get("event_type", ""))[:100] if is_object else "",
            "schema_version": version,
            "envelope": envelope if is_object else {},
            "raw_body": "" if is_object else body.decode("utf-8", "replace").replace("\x00", "\ufffd")[:10000],
            "status": InboundStatus.REJECTED if errors else InboundStatus.RECEIVED,
            "error": summary,
            "errors": errors,
            "attempts": 0,
            "next_attempt_at": None if errors else now,
        }
        if existing is None:
            try:
                with transaction.atomic():
                    event = InboundEvent.objects.create(source=source, event_id=event_id, **fields)
            except IntegrityError:
                # The same event arrived twice at once and the other request stored it first.
                existing = InboundEvent.objects.select_for_update().filter(source=source, event_id=event_id).first()
                if existing is None:
                    raise
                if existing.status != InboundStatus.REJECTED:
                    return existing, False
        if existing is not None:  # a rejected event sent again, perhaps corrected
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.save(update_fields=[*fields, "updated_at"])
            event = existing
        if not errors:
            _schedule_processing(event.pk)
    if errors:
        raise InboundRejected(summary, errors=errors)
    return event, True


def inbound_process(*, event_id: Any) -> InboundEvent | None:
    """Hand a received (or failed, now due) event to its registered handler, once. A failing
    handler leaves the event `failed` with the error and a retry time; nothing is lost."""
    now = clock.now()
    with transaction.atomic():
        event = (
            InboundEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id)
            # A failed event without a retry time has used its attempts: only a replay revives it.
            .filter(Q(status=InboundStatus.RECEIVED) | Q(status=InboundStatus.FAILED, next_attempt_at__isnull=False))
            .first()
        )
        if event is None:
            return None
        handler = hooks.handler_for(event.event_type)
        if handler is None:
            event.status = InboundStatus.SKIPPED
            event.error = f"No handler is registered for {event.event_type}."
            event.processed_at = now
            event.save(update_fields=["status", "error", "processed_at", "updated_at"])
            return event
        event.attempts += 1
        try:
            with transaction.atomic():
                handler(event.envelope)
        except Exception as exc:  # noqa: BLE001 - recorded on the event and retried
            from crm_sync.dispatcher import backoff_seconds

            event.status = InboundStatus.FAILED
            event.error = f"{type(exc).__name__}: {exc}"[:5000]
            max_attempts = getattr(settings, "CRM_MAX_ATTEMPTS", 8)
            event.next_attempt_at = (
                now + timedelta(seconds=backoff_seconds(event.attempts)) if event.attempts < max_attempts else None
            )
        else:
            event.status = InboundStatus.PROCESSED
            event.error = ""
            event.processed_at = now
            event.next_attempt_at = None
        event.save(update_fields=["status", "error", "attempts", "next_attempt_at", "processed_at", "updated_at"])
        return event


def inbound_replay(*, event: InboundEvent, actor: Any = None) -> InboundEvent:
    """Process an event again: a failed one now, a rejected one after validating it again (the
    registry may have changed)."""
    now = clock.now()
    errors: dict[str, str] = {}
    with transaction.atomic():
        event = InboundEvent.objects.select_for_update().get(pk=event.pk)
        if event.status not in (InboundStatus.FAILED, InboundStatus.REJECTED, InboundStatus.SKIPPED):
            raise Conflict(f"Only failed, rejected or skipped events are replayed; this one is {event.status}.")
        before = event.status
        if event.status == InboundStatus.REJECTED:
            errors, summary = (
                _validate_envelope(event.envelope, now.date())
                if event.envelope
                else ({"body": "The body is not a JSON object."}, "The body is not a JSON object.")
            )
            if errors:  # the current reasons are kept (committed, then raised below)
                event.errors, event.error = errors, summary
                event.save(update_fields=["errors", "error", "updated_at"])
            else:
                event.errors = {}
        if not errors:
            event.status = InboundStatus.RECEIVED
            event.attempts = 0
            event.next_attempt_at = now
            event.save(update_fields=["status", "errors", "attempts", "next_attempt_at", "updated_at"])
            audit_record(
                actor=actor, action="inbound_event.replayed", target=event, changes={"status": [before, "received"]}
            )
    if errors:
        raise ValidationFailed(summary, errors=errors)
    return inbound_process(event_id=event.pk) or event


def inbound_process_due(*, batch_size: int = 200) -> dict[str, int]:
    """Process received events whose task was lost and failed events whose retry time came."""
    counts = {"inbound_processed": 0, "inbound_failed": 0}
    ids = list(
        InboundEvent.objects.filter(
            status__in=(InboundStatus.RECEIVED, InboundStatus.FAILED), next_attempt_at__lte=clock.now()
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:batch_size]
    )
    for pk in ids:
        event = inbound_process(event_id=pk)
        if event is not None:
            counts["inbound_failed" if event.status == InboundStatus.FAILED else "inbound_processed"] += 1
    return counts

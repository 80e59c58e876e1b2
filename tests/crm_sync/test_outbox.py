"""`emit`: the envelope, the caller's transaction, validation and the kick on commit."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from crm_sync import outbox, registry, tasks
from crm_sync.models import OutboxEvent
from crm_sync.outbox import InvalidEventPayload, emit
from enrollments.services import enrollment_create, enrollment_set_status
from tests.crm_sync.outbound_helpers import PROGRAM_ID, emit_sync


def _payload(**extra):
    return {
        "program_id": PROGRAM_ID,
        "entity_type": "participant",
        "entity_id": "p-1",
        "reason": "because",
        "record": {"a": 1},
        **extra,
    }


@pytest.mark.django_db
def test_emit_writes_the_full_envelope(make_user):
    user = make_user()
    before = timezone.now()
    event = emit(
        event_type="program_crm_sync_requested",
        subject=("participant", "p-1"),
        payload=_payload(),
        actor=user,
        correlation_id="corr-1",
        causation_id="cause-1",
    )
    after = timezone.now()
    stored = OutboxEvent.objects.get()
    assert stored.pk == event.pk
    envelope = stored.envelope()
    assert before <= stored.occurred_at <= after
    assert envelope == {
        "event_id": str(event.pk),
        "event_type": "program_crm_sync_requested",
        "schema_version": 1,
        "occurred_at": stored.occurred_at.isoformat(),
        "producer": "platform",
        "subject": {"type": "participant", "id": "p-1"},
        "actor": f"user:{user.pk}",
        "correlation_id": "corr-1",
        "causation_id": "cause-1",
        "payload": _payload(),
    }
    assert stored.fanned_out_at is None
    # The envelope is valid against the registry's envelope schema.
    assert registry.validation_errors(registry.registry().envelope, envelope, prefix="") == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "expected"),
    [("crm_dispatch", "system:crm_dispatch"), ("partner:buddy", "partner:buddy"), (None, "system:platform")],
)
def test_emit_actor_references(actor, expected):
    event = emit(event_type="program_crm_sync_requested", subject=("participant", 7), payload=_payload(), actor=actor)
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert stored.actor == expected
    assert stored.subject_id == "7"
    assert stored.correlation_id is None
    assert stored.causation_id is None


@pytest.mark.django_db
def test_an_explicit_occurred_at_is_kept():
    when = timezone.now() - timedelta(days=2)
    event = emit(
        event_type="program_crm_sync_requested", subject=("participant", "x"), payload=_payload(), occurred_at=when
    )
    assert OutboxEvent.objects.get(pk=event.pk).occurred_at == when


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_emits_nothing():
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        emit_sync("a", 1)
        emit_sync("a", 2)
        assert OutboxEvent.objects.count() == 2
        raise Boom
    assert OutboxEvent.objects.count() == 0
    with transaction.atomic():
        kept = emit_sync("b", 1)
        try:
            with transaction.atomic():
                emit_sync("b", 2)
                raise Boom
        except Boom:
            pass
    assert list(OutboxEvent.objects.values_list("id", flat=True)) == [kept.id]


@pytest.mark.django_db
def test_an_unregistered_type_is_refused():
    with pytest.raises(registry.UnknownEventType, match="'enrollment.exploded' is not a registered event type"):
        emit(event_type="enrollment.exploded", subject=("enrollment", "1"), payload={}, actor="tests")
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_invalid_payload_is_refused_naming_the_path():
    payload = _payload(record="not an object")
    del payload["entity_id"]
    with pytest.raises(InvalidEventPayload) as excinfo:
        emit(event_type="program_crm_sync_requested", subject=("participant", "p"), payload=payload, actor="tests")
    assert excinfo.value.errors == {
        "entity_id": "This field is required.",
        "record": "'not an object' is not of type 'object'",
    }
    assert str(excinfo.value) == (
        "program_crm_sync_requested v1 payload is invalid: entity_id: This field is required.; "
        "record: 'not an object' is not of type 'object'"
    )
    with pytest.raises(InvalidEventPayload, match="program_id: 'nope' is not a 'uuid'"):
        emit(
            event_type="program_crm_sync_requested",
            subject=("participant", "p"),
            payload=_payload(program_id="nope"),
            actor="tests",
        )
    with pytest.raises(InvalidEventPayload, match=r"Additional properties are not allowed \('extra' was unexpected\)"):
        emit(
            event_type="program_crm_sync_requested",
            subject=("participant", "p"),
            payload=_payload(extra=1),
            actor="tests",
        )
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_enrollment_services_emit_their_events(make_user, program, operator):
    user = make_user()
    enrollment = enrollment_create(user=user, program=program, role="mentee", actor=operator)
    enrollment_set_status(enrollment=enrollment, status="dropped", reason="moved away", actor=operator)
    created, changed = OutboxEvent.objects.order_by("occurred_at")
    assert (created.event_type, changed.event_type) == ("enrollment.created", "enrollment.status_changed")
    for event in (created, changed):
        assert (event.subject_type, event.subject_id) == ("enrollment", str(enrollment.pk))
        assert event.actor == f"user:{operator.pk}"
        assert event.schema_version == 1
    assert created.payload["status"] == "active"
    assert created.payload["user_id"] == str(user.pk)
    assert changed.payload["from_status"] == "active"
    assert changed.payload["to_status"] == "dropped"
    assert changed.payload["reason"] == "moved away"


# --- Kick on commit -----------------------------------------------------------------------------


@pytest.fixture
def kicks(settings, monkeypatch):
    settings.CRM_DISPATCH_KICK_ON_COMMIT = True
    calls = []
    monkeypatch.setattr(tasks.dispatch_kick, "delay", lambda *a, **k: calls.append((a, k)))
    return calls


@pytest.mark.django_db(transaction=True)
def test_the_kick_is_scheduled_once_per_committed_transaction(kicks):
    with transaction.atomic():
        emit_sync("a", 1)
        emit_sync("a", 2)
        with transaction.atomic():
            emit_sync("b", 1)
        assert kicks == []  # not before the commit
    assert kicks == [((), {})]
    with transaction.atomic():
        emit_sync("c", 1)
    assert len(kicks) == 2
    emit_sync("d", 1)  # autocommit: its own transaction
    assert len(kicks) == 3
    assert OutboxEvent.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_no_kick_on_rollback(kicks):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit_sync("a", 1)
        raise RuntimeError
    assert kicks == []
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_kick_of_a_rolled_back_savepoint_is_scheduled_again_by_a_later_emit(kicks):
    with transaction.atomic():
        try:
            with transaction.atomic():
                emit_sync("a", 1)
                raise RuntimeError
        except RuntimeError:
            pass
        emit_sync("b", 1)
    assert len(kicks) == 1
    assert list(OutboxEvent.objects.values_list("subject_id", flat=True)) == ["b"]


@pytest.mark.django_db(transaction=True)
def test_no_kick_when_switched_off(settings, monkeypatch):
    settings.CRM_DISPATCH_KICK_ON_COMMIT = False
    calls = []
    monkeypatch.setattr(tasks.dispatch_kick, "delay", lambda *a, **k: calls.append(1))
    with transaction.atomic():
        emit_sync("a", 1)
    assert calls == []
    assert OutboxEvent.objects.count() == 1


def test_actor_ref_of_an_anonymous_user():
    from django.contrib.auth.models import AnonymousUser

    assert outbox.actor_ref(AnonymousUser()) == "system:platform"
    assert outbox.actor_ref("job") == "system:job"

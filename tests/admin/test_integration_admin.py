"""The integration screens of the admin: subscribers show their secret once, dead deliveries and
failed inbound events are replayed from the list, job runs can be started again."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from core.models import AuditEntry, JobRun
from crm_sync.enums import DeliveryStatus, InboundStatus
from crm_sync.models import Delivery, InboundEvent, InboundSource, Subscriber
from crm_sync.services import inbound_process, inbound_source_create, subscriber_create
from tests.crm_sync.inbound_support import envelope, handler, post_event
from tests.crm_sync.outbound_helpers import emit_sync

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_adding_a_subscriber_shows_its_secret_once(admin_client):
    response = admin_client.post(
        reverse("admin:crm_sync_subscriber_add"),
        {
            "name": "Acme CRM",
            "kind": "crm",
            "url": "https://crm.example.org/hook",
            "event_types": '["*"]',
            "active": "on",
        },
        follow=True,
    )
    subscriber = Subscriber.objects.get(name="Acme CRM")
    assert [m for m in _messages(response) if "Signing secret" in m] == [
        f"Signing secret of Acme CRM (copy it now, it is not shown again): {subscriber.secret}"
    ]
    page = admin_client.get(reverse("admin:crm_sync_subscriber_change", args=[subscriber.pk])).content.decode()
    assert subscriber.secret not in page
    assert subscriber.secret[:10] + "…" in page
    assert AuditEntry.objects.filter(action="subscriber.created", target_id=str(subscriber.pk)).count() == 1


def test_replaying_dead_deliveries_from_the_list(admin_client):
    subscriber = subscriber_create(name="Gone", url="http://127.0.0.1:9/hook", event_types=["*"])
    emit_sync("s1")
    from crm_sync.dispatcher import fan_out

    fan_out(10)
    delivery = Delivery.objects.get(subscriber=subscriber)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DEAD, attempts=8, last_error="HTTP 500")
    response = admin_client.post(
        reverse("admin:crm_sync_delivery_changelist"),
        {"action": "replay", "_selected_action": [str(delivery.pk)]},
        follow=True,
    )
    assert "Replaying 1 deliveries." in _messages(response)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.replayed_at is not None) == ("pending", 0, True)
    assert AuditEntry.objects.filter(action="delivery.replayed", target_id=str(delivery.pk)).count() == 1


def test_replaying_a_failed_inbound_event_from_the_list(admin_client, client):
    source = inbound_source_create(key="buddy")
    body = envelope()
    assert post_event(client, "buddy", body, secret=source.secret).status_code == 202
    event = InboundEvent.objects.get(event_id=body["event_id"])
    calls = []

    def flaky(envelope_):
        calls.append(envelope_["event_id"])
        if len(calls) == 1:
            raise RuntimeError("the buddy API is down")

    with handler("buddy.match.created", flaky):
        inbound_process(event_id=event.pk)
        event.refresh_from_db()
        assert (event.status, event.error) == (InboundStatus.FAILED, "RuntimeError: the buddy API is down")
        response = admin_client.post(
            reverse("admin:crm_sync_inboundevent_changelist"),
            {"action": "replay", "_selected_action": [str(event.pk)]},
            follow=True,
        )
    assert f"{body['event_id']}: processed." in _messages(response)
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    assert calls == [body["event_id"], body["event_id"]]
    assert InboundSource.objects.get(key="buddy").secret == source.secret


@pytest.mark.django_db(transaction=True)
def test_a_job_run_is_started_again_from_the_admin(admin_client):
    from core.jobs import run_job

    first = run_job("housekeeping", trigger="command")
    response = admin_client.post(
        reverse("admin:core_jobrun_changelist"),
        {"action": "run_again", "_selected_action": [str(first.pk)]},
        follow=True,
    )
    assert [m for m in _messages(response) if m.startswith("housekeeping:")] == [
        "housekeeping: succeeded (idempotency_keys_deleted=0, job_runs_deleted=0)."
    ]
    assert list(JobRun.objects.filter(trigger="admin").values_list("job", "status")) == [("housekeeping", "succeeded")]

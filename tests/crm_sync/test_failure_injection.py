"""Failure injection: a receiver that answers 500 at random (and sometimes answers too late), then
is down, then recovers. In the end every event is delivered, none is lost, each subject's events
were first received in order, and duplicates carry one webhook-id so the receiver can drop them."""

import random
import threading
from collections import defaultdict

import pytest

from crm_sync.dispatcher import dispatch
from crm_sync.models import Delivery, OutboxEvent
from tests.crm_sync.outbound_helpers import Receiver, Reply, add_subscriber, emit_sync, install_fake_clock

EVENTS = 200
SUBJECTS = 20


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db
def test_every_event_is_delivered_through_errors_an_outage_and_recovery(receiver, monkeypatch, settings):
    settings.CRM_RETRY_BASE_SECONDS = 1
    settings.CRM_RETRY_CAP_SECONDS = 8
    settings.CRM_MAX_ATTEMPTS = 100
    settings.CRM_WEBHOOK_READ_TIMEOUT_SECONDS = 0.3
    fake = install_fake_clock(monkeypatch)
    add_subscriber(receiver, "/crm", ["*"])
    events = [emit_sync(f"subject-{i % SUBJECTS}", i) for i in range(EVENTS)]
    expected_order = defaultdict(list)
    for event in events:
        expected_order[event.subject_id].append(str(event.pk))

    rng = random.Random(20261121)
    rng_lock = threading.Lock()
    flaky = {"on": True}

    def behaviour(received):
        if not flaky["on"]:
            return Reply(200)
        with rng_lock:
            roll = rng.random()
        if roll < 0.35:
            return Reply(500, "injected failure")
        if roll < 0.42:  # accepted, but answered after the client gave up: it will be sent again
            return Reply(200, delay=0.6)
        return Reply(200)

    receiver.behaviour = behaviour
    refused = 0

    def round_():
        before = len(receiver.requests)
        totals = dispatch(time_budget=60)
        fake.advance(seconds=10)  # past every backoff (capped at 8 s)
        return totals, len(receiver.requests) - before

    # 1. Random 500s and late answers.
    for _ in range(6):
        round_()
    assert Delivery.objects.count() == EVENTS
    partly = Delivery.objects.filter(status="succeeded").count()
    assert 0 < partly < EVENTS
    assert any(r.status == 500 for r in receiver.requests)

    # 2. Down: connections are refused; nothing is lost, everything waits.
    receiver.stop()
    for _ in range(3):
        totals, seen = round_()
        assert seen == 0
        assert totals["delivered"] == 0
        assert totals["dead"] == 0
        assert totals["retrying"] > 0
        refused += totals["retrying"]
    assert Delivery.objects.filter(status="succeeded").count() == partly
    assert Delivery.objects.filter(status="failed", last_error__startswith="ConnectionError").exists()

    # 3. Recovered.
    receiver.start()
    flaky["on"] = False
    for _ in range(20):
        round_()
        if not Delivery.objects.exclude(status="succeeded").exists():
            break
    assert dispatch(time_budget=5) == {"fanned_out": 0, "delivered": 0, "retrying": 0, "dead": 0}

    # Every event delivered, none lost.
    assert OutboxEvent.objects.filter(fanned_out_at__isnull=True).count() == 0
    assert Delivery.objects.count() == EVENTS
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    event_ids = {str(e.pk) for e in events}
    requests = receiver.requests
    assert receiver.unverified() == []
    assert all(r.webhook_id == r.event_id for r in requests)
    accepted = [r for r in requests if r.ok]
    assert {r.webhook_id for r in accepted} == event_ids
    assert {r.webhook_id for r in requests} == event_ids

    # Duplicates (the late answers) share a webhook-id and a body: de-duplicable.
    by_id = defaultdict(list)
    for r in accepted:
        by_id[r.webhook_id].append(r)
    duplicates = {k: v for k, v in by_id.items() if len(v) > 1}
    assert duplicates, "the injected late answers should have produced duplicates"
    for copies in duplicates.values():
        assert len({c.body for c in copies}) == 1

    # Per subject, the first successful receipt of each event is in emission order.
    first_seen = defaultdict(list)
    seen = set()
    for r in accepted:
        if r.webhook_id not in seen:
            seen.add(r.webhook_id)
            first_seen[r.subject[1]].append(r.webhook_id)
    assert first_seen == expected_order

    # Every attempt is accounted for: it reached the receiver or was refused while it was down.
    attempts = sum(Delivery.objects.values_list("attempts", flat=True))
    assert attempts == len(requests) + refused
    assert len(requests) > EVENTS

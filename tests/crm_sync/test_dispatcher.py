"""The dispatcher against a real local HTTP receiver that verifies every request with the
`standardwebhooks` library: success, retries with backoff, Retry-After, timeouts, 410, 4xx, dead
letters, replay, per-subject order and subscriber filtering."""

import json
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from core.models import AuditEntry
from crm_sync.dispatcher import backoff_seconds, dispatch
from crm_sync.models import Delivery, OutboxEvent, Subscriber
from crm_sync.services import delivery_replay, subscriber_update
from tests.crm_sync.outbound_helpers import Receiver, Reply, add_subscriber, emit_sync, install_fake_clock

ZERO = {"fanned_out": 0, "delivered": 0, "retrying": 0, "dead": 0}


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake(monkeypatch):
    return install_fake_clock(monkeypatch)


def _totals(**counts):
    return {**ZERO, **counts}


def _delivery(event, subscriber=None):
    query = Delivery.objects.filter(event=event)
    if subscriber is not None:
        query = query.filter(subscriber=subscriber)
    return query.get()


@pytest.mark.django_db
def test_success_path(receiver, fake):
    subscriber = add_subscriber(receiver, "/ok", ["program_crm_sync_requested"])
    event = emit_sync("s1", 1, actor="tests")
    assert dispatch(time_budget=5) == _totals(fanned_out=1, delivered=1)
    (request,) = receiver.on("/ok")
    assert request.verified
    assert Webhook(subscriber.secret).verify(request.body, request.headers) == event.envelope()
    assert request.headers["webhook-id"] == str(event.pk)
    assert request.headers["content-type"] == "application/json"
    assert abs(int(request.headers["webhook-timestamp"]) - fake.now().timestamp()) < 5
    assert json.loads(request.body)["actor"] == "system:tests"
    delivery = _delivery(event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "succeeded",
        1,
        200,
        "",
    )
    assert delivery.delivered_at is not None
    assert delivery.locked_until is None
    assert delivery.subject_key == "participant:s1"
    assert OutboxEvent.objects.get().fanned_out_at is not None
    assert dispatch(time_budget=5) == ZERO  # nothing left
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_a_500_is_retried_after_the_backoff(receiver, fake):
    add_subscriber(receiver, "/flaky", ["*"])
    answers = iter([Reply(500, "boom"), Reply(200)])
    receiver.behaviour = lambda r: next(answers)
    event = emit_sync("s1")

    before = fake.now()
    assert dispatch(time_budget=5) == _totals(fanned_out=1, retrying=1)
    after = fake.now()
    delivery = _delivery(event)
    assert delivery.status == "failed"
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.last_error == "HTTP 500: boom"
    # base 10 s: the first retry waits 5-10 s (half of the delay plus jitter)
    assert before + timedelta(seconds=5) <= delivery.next_attempt_at <= after + timedelta(seconds=10)

    assert dispatch(time_budget=5) == ZERO  # not due yet
    assert len(receiver.requests) == 1
    fake.advance(seconds=11)
    assert dispatch(time_budget=5) == _totals(delivered=1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "succeeded",
        2,
        200,
        "",
    )
    first, second = receiver.requests
    assert first.webhook_id == second.webhook_id == str(event.pk)
    assert first.body == second.body
    assert receiver.unverified() == []


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.CRM_RETRY_BASE_SECONDS = 10
    settings.CRM_RETRY_CAP_SECONDS = 100
    for attempts, (low, high) in {
        1: (5, 10),
        2: (10, 20),
        3: (20, 40),
        4: (40, 80),
        5: (50, 100),
        9: (50, 100),
    }.items():
        values = [backoff_seconds(attempts) for _ in range(200)]
        assert all(low <= v <= high for v in values), attempts
        assert len(set(values)) > 150  # jittered


@pytest.mark.django_db
def test_a_429_waits_for_retry_after(receiver, fake):
    add_subscriber(receiver, "/busy", ["*"])
    answers = iter([Reply(429, "slow down", headers={"Retry-After": "120"}), Reply(200)])
    receiver.behaviour = lambda r: next(answers)
    event = emit_sync("s1")
    before = fake.now()
    assert dispatch(time_budget=5) == _totals(fanned_out=1, retrying=1)
    after = fake.now()
    delivery = _delivery(event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 429)
    assert before + timedelta(seconds=120) <= delivery.next_attempt_at <= after + timedelta(seconds=120)
    fake.advance(seconds=60)  # the backoff alone (5-10 s) would be over
    assert dispatch(time_budget=5) == ZERO
    assert len(receiver.requests) == 1
    fake.advance(seconds=61)
    assert dispatch(time_budget=5) == _totals(delivered=1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


@pytest.mark.django_db
def test_a_timeout_is_retried(receiver, fake, settings):
    settings.CRM_WEBHOOK_READ_TIMEOUT_SECONDS = 0.2
    add_subscriber(receiver, "/slow", ["*"])
    answers = iter([Reply(200, delay=1.0), Reply(200)])
    receiver.behaviour = lambda r: next(answers)
    event = emit_sync("s1")
    assert dispatch(time_budget=5) == _totals(fanned_out=1, retrying=1)
    delivery = _delivery(event)
    assert delivery.status == "failed"
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("timeout: ")
    fake.advance(seconds=11)
    assert dispatch(time_budget=5) == _totals(delivered=1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("succeeded", 2, "")
    # The receiver saw the event twice under one webhook-id: it can de-duplicate.
    assert [r.webhook_id for r in receiver.requests] == [str(event.pk)] * 2


@pytest.mark.django_db
def test_connection_refused_is_retried(receiver, fake):
    add_subscriber(receiver, "/down", ["*"])
    event = emit_sync("s1")
    receiver.stop()
    assert dispatch(time_budget=5) == _totals(fanned_out=1, retrying=1)
    delivery = _delivery(event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, None)
    assert delivery.last_error.startswith("ConnectionError: ")
    receiver.start()
    fake.advance(seconds=11)
    assert dispatch(time_budget=5) == _totals(delivered=1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_a_410_disables_the_subscriber_and_the_delivery_is_dead(receiver, fake):
    gone = add_subscriber(receiver, "/gone", ["*"])
    other = add_subscriber(receiver, "/other", ["*"])
    receiver.behaviour = lambda r: Reply(410, "gone") if r.path == "/gone" else Reply()
    first = emit_sync("s1", 1)
    second = emit_sync("s1", 2)  # waits for the first (same subject), then finds /gone disabled
    assert dispatch(time_budget=5) == _totals(fanned_out=2, dead=1, delivered=2)
    gone.refresh_from_db()
    assert gone.active is False
    assert gone.disabled_reason.startswith("The receiver answered 410 Gone at ")
    dead = Delivery.objects.get(subscriber=gone, status="dead")
    assert (dead.attempts, dead.last_status_code, dead.last_error) == (1, 410, "HTTP 410: gone")
    (audit,) = AuditEntry.objects.filter(action="subscriber.disabled")
    assert audit.target_id == str(gone.pk)
    assert audit.actor_id is None
    assert audit.actor_label == "system:dispatcher"
    assert audit.changes == {"active": [True, False]}
    assert audit.reason == "The receiver answered 410 Gone."
    assert len(receiver.on("/gone")) == 1
    assert Delivery.objects.filter(subscriber=gone).exclude(pk=dead.pk).get().status == "pending"
    assert set(Delivery.objects.filter(subscriber=other).values_list("status", flat=True)) == {"succeeded"}
    # Later events are not fanned out to the disabled subscriber and nothing more is sent to it.
    third = emit_sync("s3", 3)
    fake.advance(hours=2)
    assert dispatch(time_budget=5) == _totals(fanned_out=1, delivered=1)
    assert not Delivery.objects.filter(event=third, subscriber=gone).exists()
    assert len(receiver.on("/gone")) == 1
    assert {first.pk, second.pk} == set(Delivery.objects.filter(subscriber=gone).values_list("event_id", flat=True))
    # Re-enabled by an operator, it receives what was waiting.
    receiver.behaviour = lambda r: Reply()
    subscriber_update(subscriber=gone, data={"active": True})
    gone.refresh_from_db()
    assert (gone.active, gone.disabled_reason) == (True, "")
    assert dispatch(time_budget=5) == _totals(delivered=1)
    assert len(receiver.on("/gone")) == 2


@pytest.mark.django_db
def test_two_410s_in_one_batch_disable_the_subscriber_once(receiver, fake):
    gone = add_subscriber(receiver, "/gone", ["*"])
    receiver.behaviour = lambda r: Reply(410, "gone")
    emit_sync("s1")
    emit_sync("s2")
    assert dispatch(time_budget=5) == _totals(fanned_out=2, dead=2)
    assert len(receiver.requests) == 2
    assert set(Delivery.objects.values_list("status", "last_status_code")) == {("dead", 410)}
    gone.refresh_from_db()
    assert gone.active is False
    assert AuditEntry.objects.filter(action="subscriber.disabled", target_id=str(gone.pk)).count() == 1


@pytest.mark.django_db
def test_a_400_is_dead_at_once(receiver, fake):
    add_subscriber(receiver, "/strict", ["*"])
    receiver.behaviour = lambda r: Reply(400, "bad payload")
    event = emit_sync("s1")
    assert dispatch(time_budget=5) == _totals(fanned_out=1, dead=1)
    delivery = _delivery(event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "dead",
        1,
        400,
        "HTTP 400: bad payload",
    )
    fake.advance(days=1)
    assert dispatch(time_budget=5) == ZERO
    assert len(receiver.requests) == 1
    assert Subscriber.objects.get().active is True


@pytest.mark.django_db
def test_dead_after_max_attempts_then_replayed(receiver, fake, settings, operator_api, operator):
    settings.CRM_MAX_ATTEMPTS = 3
    add_subscriber(receiver, "/down", ["*"])
    receiver.behaviour = lambda r: Reply(503, "unavailable")
    event = emit_sync("s1")
    assert dispatch(time_budget=5) == _totals(fanned_out=1, retrying=1)
    fake.advance(hours=2)
    assert dispatch(time_budget=5) == _totals(retrying=1)
    fake.advance(hours=2)
    assert dispatch(time_budget=5) == _totals(dead=1)
    delivery = _delivery(event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("dead", 3, 503)
    fake.advance(days=2)
    assert dispatch(time_budget=5) == ZERO
    assert len(receiver.requests) == 3
    assert {r.webhook_id for r in receiver.requests} == {str(event.pk)}

    # Replay through the service: a fresh attempt budget, delivered on the next run.
    receiver.behaviour = lambda r: Reply()
    replayed = delivery_replay(delivery=delivery, actor=operator)
    assert (replayed.status, replayed.attempts, replayed.replayed_at is not None) == ("pending", 0, True)
    audit = AuditEntry.objects.get(action="delivery.replayed")
    assert (audit.target_id, audit.actor_id, audit.changes) == (
        str(delivery.pk),
        operator.pk,
        {"status": ["dead", "pending"]},
    )
    assert dispatch(time_budget=5) == _totals(delivered=1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    assert len(receiver.requests) == 4
    assert receiver.requests[-1].webhook_id == str(event.pk)
    assert receiver.unverified() == []


@pytest.mark.django_db
def test_replay_through_the_api(receiver, fake, settings, operator_api):
    settings.CRM_MAX_ATTEMPTS = 1
    add_subscriber(receiver, "/api", ["*"])
    receiver.behaviour = lambda r: Reply(500)
    event = emit_sync("s1")
    assert dispatch(time_budget=5) == _totals(fanned_out=1, dead=1)
    delivery = _delivery(event)

    receiver.behaviour = lambda r: Reply()
    response = operator_api.post(f"/api/v1/admin/deliveries/{delivery.pk}/replay")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["attempts"], body["event_id"]) == (
        str(delivery.pk),
        "pending",
        0,
        str(event.pk),
    )
    assert body["replayed_at"] is not None
    assert dispatch(time_budget=5) == _totals(delivered=1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)

    response = operator_api.post(f"/api/v1/admin/deliveries/{delivery.pk}/replay")
    assert response.status_code == 409
    assert response["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Only dead or failed deliveries can be replayed; this one is succeeded."
    assert AuditEntry.objects.filter(action="delivery.replayed").count() == 1
    response = operator_api.post("/api/v1/admin/deliveries/00000000-0000-4000-8000-000000000000/replay")
    assert response.status_code == 404


# --- Order --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_of_one_subject_arrive_in_order_and_wait_for_the_first(receiver, fake):
    add_subscriber(receiver, "/ordered", ["*"])
    a = [emit_sync("A", i) for i in range(4)]
    b = [emit_sync("B", i) for i in range(2)]
    failing = {str(a[0].pk)}
    receiver.behaviour = lambda r: Reply(500) if r.event_id in failing else Reply()

    assert dispatch(time_budget=5) == _totals(fanned_out=6, delivered=2, retrying=1)
    assert [r.event_id for r in receiver.requests if r.subject == ("participant", "A")] == [str(a[0].pk)]
    assert [r.event_id for r in receiver.requests if r.subject == ("participant", "B")] == [str(e.pk) for e in b]
    for event in a[1:]:
        assert (_delivery(event).status, _delivery(event).attempts) == ("pending", 0)

    for _ in range(2):  # the first keeps failing: nothing later of A is tried
        fake.advance(hours=2)
        assert dispatch(time_budget=5) == _totals(retrying=1)
    assert [r.event_id for r in receiver.requests if r.subject == ("participant", "A")] == [str(a[0].pk)] * 3
    assert _delivery(a[0]).attempts == 3

    failing.clear()
    fake.advance(hours=2)
    assert dispatch(time_budget=5) == _totals(delivered=4)
    assert [r.event_id for r in receiver.requests if r.subject == ("participant", "A")] == [str(a[0].pk)] * 4 + [
        str(e.pk) for e in a[1:]
    ]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert receiver.unverified() == []


@pytest.mark.django_db
def test_a_dead_delivery_no_longer_blocks_its_subject(receiver, fake):
    add_subscriber(receiver, "/d", ["*"])
    first, second = emit_sync("A", 1), emit_sync("A", 2)
    receiver.behaviour = lambda r: Reply(422) if r.event_id == str(first.pk) else Reply()
    assert dispatch(time_budget=5) == _totals(fanned_out=2, dead=1, delivered=1)
    assert [r.event_id for r in receiver.requests] == [str(first.pk), str(second.pk)]


@pytest.mark.django_db
def test_order_holds_per_subscriber(receiver, fake):
    """One subscriber failing a subject does not hold back another subscriber's copy."""
    add_subscriber(receiver, "/one", ["*"])
    add_subscriber(receiver, "/two", ["*"])
    events = [emit_sync("A", i) for i in range(3)]
    receiver.behaviour = lambda r: Reply(500) if r.path == "/one" else Reply()
    assert dispatch(time_budget=5) == _totals(fanned_out=3, delivered=3, retrying=1)
    assert [r.event_id for r in receiver.on("/two")] == [str(e.pk) for e in events]
    assert [r.event_id for r in receiver.on("/one")] == [str(events[0].pk)]


# --- Filtering ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_subscribers_receive_the_event_types_they_want(receiver, fake, make_user, program, operator):
    from enrollments.services import enrollment_create, enrollment_set_status

    created_only = add_subscriber(receiver, "/created", ["enrollment.created"])
    everything = add_subscriber(receiver, "/all", ["*"])
    changes = add_subscriber(receiver, "/changes", ["enrollment.status_changed", "program_session_reminder"])
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee", actor=operator)
    enrollment_set_status(enrollment=enrollment, status="completed", actor=operator)
    emit_sync("p1")
    assert dispatch(time_budget=5) == _totals(fanned_out=3, delivered=5)
    types = {
        path: sorted(r.envelope["event_type"] for r in receiver.on(path)) for path in ("/created", "/all", "/changes")
    }
    assert types == {
        "/created": ["enrollment.created"],
        "/all": ["enrollment.created", "enrollment.status_changed", "program_crm_sync_requested"],
        "/changes": ["enrollment.status_changed"],
    }
    # Different subjects travel in parallel; one subject's events in order.
    assert [r.envelope["event_type"] for r in receiver.on("/all") if r.subject[0] == "enrollment"] == [
        "enrollment.created",
        "enrollment.status_changed",
    ]
    counts = {s.pk: Delivery.objects.filter(subscriber=s).count() for s in (created_only, everything, changes)}
    assert counts == {created_only.pk: 1, everything.pk: 3, changes.pk: 1}
    assert receiver.unverified() == []


@pytest.mark.django_db
def test_a_subscriber_created_after_the_fan_out_does_not_receive_the_event(receiver, fake):
    add_subscriber(receiver, "/early", ["*"])
    event = emit_sync("s1")
    assert dispatch(time_budget=5) == _totals(fanned_out=1, delivered=1)
    late = add_subscriber(receiver, "/late", ["*"])
    assert dispatch(time_budget=5) == ZERO
    assert not Delivery.objects.filter(subscriber=late).exists()
    assert receiver.on("/late") == []
    later = emit_sync("s1", 2)
    assert dispatch(time_budget=5) == _totals(fanned_out=1, delivered=2)
    assert [r.event_id for r in receiver.on("/late")] == [str(later.pk)]
    assert Delivery.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_an_event_nobody_wants_is_fanned_out_without_deliveries(receiver, fake):
    add_subscriber(receiver, "/created", ["enrollment.created"])
    event = emit_sync("s1")
    assert dispatch(time_budget=5) == _totals(fanned_out=1)
    event.refresh_from_db()
    assert event.fanned_out_at is not None
    assert Delivery.objects.count() == 0
    assert receiver.requests == []


@pytest.mark.django_db
def test_a_batch_size_smaller_than_the_outbox_drains_it_all(receiver, fake):
    add_subscriber(receiver, "/batch", ["*"])
    events = [emit_sync(f"s{i % 3}", i) for i in range(12)]
    assert dispatch(batch_size=2, time_budget=10) == _totals(fanned_out=12, delivered=12)
    assert sorted(r.event_id for r in receiver.requests) == sorted(str(e.pk) for e in events)
    for subject in ("s0", "s1", "s2"):
        expected = [str(e.pk) for e in events if e.subject_id == subject]
        assert [r.event_id for r in receiver.requests if r.subject[1] == subject] == expected

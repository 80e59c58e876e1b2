"""GET /api/v1/admin/deliveries (filters, constant queries), POST .../deliveries/{id}/replay,
GET /api/v1/admin/outbox and GET /api/v1/admin/event-types."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from crm_sync.dispatcher import dispatch, fan_out
from crm_sync.models import Delivery
from tests.crm_sync.outbound_helpers import Receiver, Reply, add_subscriber, emit_sync, install_fake_clock

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/deliveries"


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


def _get(api, url, **params):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_list_shows_each_delivery_and_filters(operator_api, receiver, settings):
    settings.CRM_MAX_ATTEMPTS = 1
    good = add_subscriber(receiver, "/good", ["*"])
    bad = add_subscriber(receiver, "/bad", ["program_crm_sync_requested"])
    receiver.behaviour = lambda r: Reply(500, "nope") if r.path == "/bad" else Reply()
    event = emit_sync("s1")
    assert dispatch(time_budget=5) == {"fanned_out": 1, "delivered": 1, "retrying": 0, "dead": 1}

    _, body = _get(operator_api, URL)
    assert body["count"] == 2
    rows = {r["subscriber_name"]: r for r in body["results"]}
    assert rows["/good".strip("/")]["status"] == "succeeded"
    dead = rows["bad"]
    assert {k: dead[k] for k in ("event_id", "event_type", "subscriber_id", "subject_key", "status", "attempts")} == {
        "event_id": str(event.pk),
        "event_type": "program_crm_sync_requested",
        "subscriber_id": str(bad.pk),
        "subject_key": "participant:s1",
        "status": "dead",
        "attempts": 1,
    }
    assert (dead["last_status_code"], dead["last_error"], dead["delivered_at"]) == (500, "HTTP 500: nope", None)

    _, body = _get(operator_api, URL, status="dead")
    assert [r["id"] for r in body["results"]] == [dead["id"]]
    _, body = _get(operator_api, URL, subscriber=str(good.pk))
    assert [r["status"] for r in body["results"]] == ["succeeded"]
    _, body = _get(operator_api, URL, event=str(event.pk))
    assert body["count"] == 2
    _, body = _get(operator_api, URL, event_type="enrollment.created")
    assert body["count"] == 0
    response = operator_api.get(URL, {"status": "lost"})
    assert response.status_code == 400


def test_list_costs_a_constant_number_of_queries(operator_api, receiver):
    for path in ("/a", "/b"):
        add_subscriber(receiver, path, ["*"])
    emit_sync("s1")
    fan_out(100)
    _get(operator_api, URL)  # the token's first use is recorded once; measure after it
    small, body = _get(operator_api, URL)
    assert body["count"] == 2
    for i in range(15):
        emit_sync(f"s{i}")
    fan_out(100)
    large, body = _get(operator_api, URL)
    assert body["count"] == 32
    assert large == small


def test_replay_answers_409_for_other_statuses_and_404_for_unknown(operator_api, receiver):
    add_subscriber(receiver, "/a", ["*"])
    emit_sync("s1")
    fan_out(100)
    pending = Delivery.objects.get()
    response = operator_api.post(f"{URL}/{pending.pk}/replay")
    assert response.status_code == 409
    assert response.json()["detail"] == "Only dead or failed deliveries can be replayed; this one is pending."
    assert operator_api.post(f"{URL}/{uuid.uuid4()}/replay").status_code == 404
    assert AuditEntry.objects.filter(action="delivery.replayed").count() == 0


def test_replay_of_a_failed_delivery_sends_it_now(operator_api, operator, receiver, monkeypatch):
    install_fake_clock(monkeypatch)
    add_subscriber(receiver, "/a", ["*"])
    answers = iter([Reply(502), Reply(200)])
    receiver.behaviour = lambda r: next(answers)
    emit_sync("s1")
    dispatch(time_budget=5)
    failed = Delivery.objects.get()
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert dispatch(time_budget=5)["delivered"] == 0  # waiting for its backoff
    response = operator_api.post(f"{URL}/{failed.pk}/replay")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    audit = AuditEntry.objects.get(action="delivery.replayed")
    assert (audit.actor_id, audit.changes) == (operator.pk, {"status": ["failed", "pending"]})
    assert dispatch(time_budget=5)["delivered"] == 1  # due at once, no clock move
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("succeeded", 1)
    assert len(receiver.requests) == 2


def test_permissions(writer_api, anon_api, receiver):
    add_subscriber(receiver, "/a", ["*"])
    emit_sync("s1")
    fan_out(100)
    delivery = Delivery.objects.get()
    for api, code in ((writer_api, 403), (anon_api, 401)):
        assert api.get(URL).status_code == code
        assert api.post(f"{URL}/{delivery.pk}/replay").status_code == code
        assert api.get("/api/v1/admin/outbox").status_code == code
        assert api.get("/api/v1/admin/event-types").status_code == code


def test_outbox_list_shows_envelopes_and_filters(operator_api, operator):
    first = emit_sync("s1", actor=operator)
    emit_sync("s2")
    _, body = _get(operator_api, "/api/v1/admin/outbox", subject_id="s1")
    (row,) = body["results"]
    assert row == {
        **first.envelope(),
        "occurred_at": row["occurred_at"],
        "fanned_out_at": None,
    }
    assert row["actor"] == f"user:{operator.pk}"
    _, body = _get(operator_api, "/api/v1/admin/outbox", event_type="program_crm_sync_requested")
    assert body["count"] == 2
    _, body = _get(operator_api, "/api/v1/admin/outbox", event_type="enrollment.created")
    assert body["count"] == 0


def test_event_types_list_the_registry(operator_api):
    response = operator_api.get("/api/v1/admin/event-types")
    assert response.status_code == 200
    types = {t["event_type"]: t for t in response.json()}
    assert {
        "program_application_decision",
        "program_application_sla_reminder",
        "program_session_reminder",
        "program_crm_sync_requested",
        "enrollment.created",
        "enrollment.status_changed",
    } <= set(types)
    buddy = types["buddy.match.created"]
    assert buddy["active_version"] == 2
    assert [(v["version"], v["status"], v["cutover"]) for v in buddy["versions"]] == [
        (1, "deprecated", "2026-10-15"),
        (2, "active", None),
    ]
    assert types["enrollment.created"]["versions"][0]["payload_schema"]["title"] == "enrollment.created v1"

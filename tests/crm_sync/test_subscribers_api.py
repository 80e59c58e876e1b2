"""GET/POST /api/v1/admin/subscribers, PATCH/DELETE /api/v1/admin/subscribers/{id}, rotate-secret."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry
from crm_sync.dispatcher import dispatch
from crm_sync.models import Delivery, Subscriber
from crm_sync.services import subscriber_create
from crm_sync.signing import new_secret, secret_error
from tests.crm_sync.outbound_helpers import emit_sync

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/subscribers"


def _create(api, headers=None, **data):
    body = {"name": "CRM", "kind": "crm", "url": "https://crm.example.org/hooks", "event_types": ["*"], **data}
    return api.post(URL, body, format="json", **(headers or {}))


def test_create_shows_the_generated_secret_once(operator_api, operator):
    response = _create(operator_api, event_types=["enrollment.created", "enrollment.status_changed"])
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert secret_error(secret) is None
    assert body["secret_hint"] == secret[:10] + "…"
    assert {k: body[k] for k in ("name", "kind", "url", "event_types", "active", "disabled_reason")} == {
        "name": "CRM",
        "kind": "crm",
        "url": "https://crm.example.org/hooks",
        "event_types": ["enrollment.created", "enrollment.status_changed"],
        "active": True,
        "disabled_reason": "",
    }
    assert body["previous_secret_expires_at"] is None
    stored = Subscriber.objects.get(pk=body["id"])
    assert stored.secret == secret
    audit = AuditEntry.objects.get(action="subscriber.created", target_id=str(stored.pk))
    assert audit.actor_id == operator.pk
    assert audit.changes["event_types"] == ["enrollment.created", "enrollment.status_changed"]
    assert secret not in str(audit.changes)

    detail = operator_api.get(f"{URL}/{stored.pk}")
    assert detail.status_code == 200
    assert "secret" not in detail.json()
    assert detail.json()["secret_hint"] == secret[:10] + "…"
    listing = operator_api.get(URL)
    assert listing.status_code == 200
    (row,) = listing.json()["results"]
    assert "secret" not in row
    assert secret not in listing.content.decode()
    assert secret not in detail.content.decode()


def test_create_with_a_given_secret_and_default_kind(integrator_api):
    secret = new_secret()
    response = integrator_api.post(
        URL,
        {"name": "Partner", "url": "https://p.example.org/h", "event_types": ["*"], "secret": secret},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["secret"] == secret
    assert response.json()["kind"] == "webhook"
    assert Subscriber.objects.get().secret == secret


def test_an_unregistered_event_type_is_refused(operator_api):
    response = _create(operator_api, event_types=["enrollment.created", "enrollment.exploded"])
    assert response.status_code == 400
    assert response["content-type"] == "application/problem+json"
    message = response.json()["errors"]["event_types"]
    assert message.startswith("Not registered: enrollment.exploded. Registered: ")
    assert "program_crm_sync_requested" in message
    assert Subscriber.objects.count() == 0


def test_an_empty_event_type_list_is_refused(operator_api):
    response = _create(operator_api, event_types=[])
    assert response.status_code == 400
    assert response.json()["errors"] == {"event_types": 'List the event types to deliver (or ["*"] for all).'}


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("s3cr3t", "A signing secret starts with 'whsec_'."),
        ("whsec_%%%", "After 'whsec_' a signing secret is base64."),
        ("whsec_c2hvcnQ=", "A signing secret holds at least 24 bytes (32 recommended)."),
    ],
)
def test_an_invalid_secret_is_refused(operator_api, secret, message):
    response = _create(operator_api, secret=secret)
    assert response.status_code == 400
    assert response.json()["errors"] == {"secret": message}
    assert Subscriber.objects.count() == 0


def test_invalid_kind_and_url_are_refused(operator_api):
    response = _create(operator_api, kind="carrier-pigeon", url="not a url")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "url"}
    assert Subscriber.objects.count() == 0


def test_an_idempotent_retry_creates_one_subscriber(operator_api):
    first = _create(operator_api, headers={"HTTP_IDEMPOTENCY_KEY": "sub-1"})
    again = _create(operator_api, headers={"HTTP_IDEMPOTENCY_KEY": "sub-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Subscriber.objects.count() == 1
    other = _create(operator_api, headers={"HTTP_IDEMPOTENCY_KEY": "sub-1"}, name="Other")
    assert other.status_code == 422
    assert Subscriber.objects.count() == 1


def test_patch(operator_api, operator):
    created = _create(operator_api).json()
    url = f"{URL}/{created['id']}"
    response = operator_api.patch(
        url, {"name": "CRM (EU)", "event_types": ["enrollment.created", "enrollment.created"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["event_types"]) == ("CRM (EU)", ["enrollment.created"])
    assert "secret" not in response.json()
    stored = Subscriber.objects.get(pk=created["id"])
    assert (stored.name, stored.event_types, stored.secret) == ("CRM (EU)", ["enrollment.created"], created["secret"])
    audit = AuditEntry.objects.get(action="subscriber.updated")
    assert audit.changes == {"name": ["CRM", "CRM (EU)"], "event_types": [["*"], ["enrollment.created"]]}
    assert audit.actor_id == operator.pk

    response = operator_api.patch(url, {"event_types": ["nope"]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["event_types"].startswith("Not registered: nope.")
    response = operator_api.patch(url, {"url": "ftp:/broken"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["url"]
    response = operator_api.patch(url, {"active": False}, format="json")
    assert (response.status_code, response.json()["active"]) == (200, False)
    assert operator_api.patch(f"{URL}/{uuid.uuid4()}", {"name": "x"}, format="json").status_code == 404


def test_delete_stops_deliveries_and_hides_the_subscriber(operator_api, operator):
    created = _create(operator_api, kind="webhook", url="http://127.0.0.1:9/never").json()
    url = f"{URL}/{created['id']}"
    response = operator_api.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert operator_api.get(url).status_code == 404
    assert operator_api.patch(url, {"name": "back"}, format="json").status_code == 404
    assert operator_api.delete(url).status_code == 404
    assert operator_api.get(URL).json()["count"] == 0
    stored = Subscriber.objects.get(pk=created["id"])
    assert (stored.active, stored.deleted_at is not None) == (False, True)
    assert AuditEntry.objects.filter(action="subscriber.deleted", target_id=created["id"]).count() == 1
    emit_sync("s1")
    assert dispatch(time_budget=5) == {"fanned_out": 1, "delivered": 0, "retrying": 0, "dead": 0}
    assert Delivery.objects.count() == 0


def test_rotate_secret_shows_the_new_secret_once(operator_api):
    created = _create(operator_api).json()
    before = timezone.now()
    response = operator_api.post(f"{URL}/{created['id']}/rotate-secret")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["secret"] != created["secret"]
    assert secret_error(body["secret"]) is None
    expires = timezone.datetime.fromisoformat(body["previous_secret_expires_at"])
    assert before + timedelta(hours=24) <= expires <= timezone.now() + timedelta(hours=24)
    stored = Subscriber.objects.get(pk=created["id"])
    assert (stored.secret, stored.previous_secret) == (body["secret"], created["secret"])
    assert "secret" not in operator_api.get(f"{URL}/{created['id']}").json()
    assert operator_api.post(f"{URL}/{uuid.uuid4()}/rotate-secret").status_code == 404


def test_writer_403_and_anonymous_401(writer_api, anon_api):
    subscriber = subscriber_create(name="x", url="https://x.example.org", event_types=["*"])
    for api, code in ((writer_api, 403), (anon_api, 401)):
        assert api.get(URL).status_code == code
        assert _create(api).status_code == code
        assert api.get(f"{URL}/{subscriber.pk}").status_code == code
        assert api.patch(f"{URL}/{subscriber.pk}", {"name": "y"}, format="json").status_code == code
        assert api.delete(f"{URL}/{subscriber.pk}").status_code == code
        assert api.post(f"{URL}/{subscriber.pk}/rotate-secret").status_code == code
    subscriber.refresh_from_db()
    assert (subscriber.name, subscriber.deleted_at) == ("x", None)
    assert Subscriber.objects.count() == 1


def test_list_filters_and_costs_a_constant_number_of_queries(operator_api):
    def count_queries(**params):
        with CaptureQueriesContext(connection) as queries:
            response = operator_api.get(URL, params)
        assert response.status_code == 200
        return len(queries), response.json()

    subscriber_create(name="a", url="https://a.example.org", event_types=["*"])
    count_queries()  # the token's first use is recorded once; measure after it
    small, body = count_queries()
    assert body["count"] == 1
    for i in range(12):
        subscriber_create(name=f"b{i:02}", url="https://b.example.org", kind="crm", event_types=["enrollment.created"])
    large, body = count_queries()
    assert body["count"] == 13
    assert large == small
    assert [r["name"] for r in body["results"]][:3] == ["a", "b00", "b01"]
    _, crm = count_queries(kind="crm")
    assert crm["count"] == 12
    _, bad = count_queries(kind="webhook")
    assert [r["name"] for r in bad["results"]] == ["a"]


def test_deleting_a_subscriber_ends_its_unfinished_deliveries(operator_api):
    created = _create(operator_api, kind="webhook", url="http://127.0.0.1:9/never").json()
    emit_sync("s1")
    emit_sync("s2")
    assert dispatch(time_budget=0)["fanned_out"] == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}  # port 9 refuses
    assert operator_api.delete(f"{URL}/{created['id']}").status_code == 204
    assert set(Delivery.objects.values_list("status", "last_error")) == {("dead", "The subscriber was deleted.")}
    entry = AuditEntry.objects.get(action="subscriber.deleted", target_id=created["id"])
    assert entry.changes == {"unfinished_deliveries_ended": 2}

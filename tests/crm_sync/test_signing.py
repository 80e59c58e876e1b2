"""Standard Webhooks signatures: interoperable with the reference library, rotation, verification."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.models import AuditEntry
from crm_sync import signing
from crm_sync.dispatcher import dispatch
from crm_sync.models import Subscriber
from crm_sync.services import subscriber_rotate_secret
from tests.crm_sync.outbound_helpers import ClockedWebhook, Receiver, add_subscriber, emit_sync, install_fake_clock

BODY = json.dumps({"event_id": "evt-1", "payload": {"ü": "x"}}).encode()


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


def test_a_new_secret_is_a_whsec_secret_of_32_bytes():
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert signing.secret_error(secret) is None
    assert signing.new_secret() != secret


@pytest.mark.parametrize(
    ("secret", "error"),
    [
        ("abc", "A signing secret starts with 'whsec_'."),
        ("whsec_!!!not-base64", "After 'whsec_' a signing secret is base64."),
        ("whsec_" + base64.b64encode(b"x" * 23).decode(), "A signing secret holds at least 24 bytes (32 recommended)."),
    ],
)
def test_secret_errors(secret, error):
    assert signing.secret_error(secret) == error


def test_our_signature_verifies_with_the_reference_library():
    secret = signing.new_secret()
    now = int(timezone.now().timestamp())
    headers = signing.sign_headers([secret], "msg_1", now, BODY)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(now)
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    # Byte for byte the reference signature.
    reference = Webhook(secret).sign("msg_1", datetime.fromtimestamp(now, tz=UTC), BODY.decode())
    assert headers["webhook-signature"] == reference
    assert signing.signature(secret, "msg_1", now, BODY) == reference


def test_a_reference_signature_verifies_with_ours():
    secret = signing.new_secret()
    now = timezone.now()
    ts = int(now.timestamp())
    headers = {
        "webhook-id": "msg_2",
        "webhook-timestamp": str(ts),
        "webhook-signature": Webhook(secret).sign("msg_2", datetime.fromtimestamp(ts, tz=UTC), BODY.decode()),
    }
    assert signing.verify([secret], headers, BODY, now) == "msg_2"


def test_two_secrets_give_two_signatures_each_verifying():
    old, new = signing.new_secret(), signing.new_secret()
    now = int(timezone.now().timestamp())
    headers = signing.sign_headers([new, old], "msg_3", now, BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(BODY, headers) == json.loads(BODY)
    assert Webhook(new).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)


def _signed(secret, *, age=timedelta(0), msg_id="msg_4", body=BODY):
    now = timezone.now()
    ts = int((now - age).timestamp())
    return now, signing.sign_headers([secret], msg_id, ts, body)


def test_verify_accepts_a_fresh_signature_and_one_within_tolerance():
    secret = signing.new_secret()
    now, headers = _signed(secret)
    assert signing.verify([secret], headers, BODY, now) == "msg_4"
    now, headers = _signed(secret, age=timedelta(minutes=4, seconds=50))
    assert signing.verify([secret], headers, BODY, now) == "msg_4"
    # Any of the listed secrets (rotation on the receiving side).
    assert signing.verify([signing.new_secret(), secret], headers, BODY, now) == "msg_4"


def test_verify_rejects_a_tampered_body():
    secret = signing.new_secret()
    now, headers = _signed(secret)
    with pytest.raises(signing.SignatureError, match="^No signature matches.$"):
        signing.verify([secret], headers, BODY.replace(b"evt-1", b"evt-2"), now)


def test_verify_rejects_a_wrong_secret():
    now, headers = _signed(signing.new_secret())
    with pytest.raises(signing.SignatureError, match="^No signature matches.$"):
        signing.verify([signing.new_secret()], headers, BODY, now)


def test_verify_rejects_a_timestamp_six_minutes_old_or_ahead():
    secret = signing.new_secret()
    now, headers = _signed(secret, age=timedelta(minutes=6))
    with pytest.raises(signing.SignatureError, match="more than 5 minutes away from now"):
        signing.verify([secret], headers, BODY, now)
    now, headers = _signed(secret, age=-timedelta(minutes=6))
    with pytest.raises(signing.SignatureError, match="more than 5 minutes away from now"):
        signing.verify([secret], headers, BODY, now)


def test_verify_rejects_missing_or_malformed_headers():
    secret = signing.new_secret()
    now, headers = _signed(secret)
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        partial = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(signing.SignatureError, match="Missing webhook-id"):
            signing.verify([secret], partial, BODY, now)
    with pytest.raises(signing.SignatureError, match="not a Unix time"):
        signing.verify([secret], {**headers, "webhook-timestamp": "yesterday"}, BODY, now)
    with pytest.raises(signing.SignatureError, match="No signature matches"):
        signing.verify([secret], {**headers, "webhook-signature": headers["webhook-signature"][3:]}, BODY, now)


# --- Rotation through the dispatcher -------------------------------------------------------------


@pytest.mark.django_db
def test_rotation_signs_with_both_secrets_for_24_hours_then_only_the_new(receiver, monkeypatch, operator):
    fake = install_fake_clock(monkeypatch)
    subscriber = add_subscriber(receiver, "/rot", ["*"])
    old = subscriber.secret

    emit_sync("s1", 1)
    assert dispatch(time_budget=5)["delivered"] == 1
    (first,) = receiver.on("/rot")
    assert len(first.signatures) == 1
    Webhook(old).verify(first.body, first.headers)

    rotated = subscriber_rotate_secret(subscriber=subscriber, actor=operator)
    new = rotated.secret
    assert new != old
    assert signing.secret_error(new) is None
    stored = Subscriber.objects.get(pk=subscriber.pk)
    assert (stored.secret, stored.previous_secret) == (new, old)
    assert abs(stored.previous_secret_expires_at - (fake.now() + timedelta(hours=24))) < timedelta(seconds=5)
    audit = AuditEntry.objects.get(action="subscriber.secret_rotated")
    assert (audit.target_id, audit.actor_id) == (str(subscriber.pk), operator.pk)

    receiver.secrets["/rot"] = [new]
    emit_sync("s1", 2)
    assert dispatch(time_budget=5)["delivered"] == 1
    second = receiver.on("/rot")[1]
    assert len(second.signatures) == 2
    assert Webhook(old).verify(second.body, second.headers)["event_id"] == second.event_id
    assert Webhook(new).verify(second.body, second.headers)["event_id"] == second.event_id

    fake.advance(hours=23, minutes=59)
    emit_sync("s1", 3)
    assert dispatch(time_budget=5)["delivered"] == 1
    third = receiver.on("/rot")[2]
    assert len(third.signatures) == 2
    ClockedWebhook(old).verify(third.body, third.headers)

    fake.advance(minutes=2)  # the 24 h overlap is over
    emit_sync("s1", 4)
    assert dispatch(time_budget=5)["delivered"] == 1
    fourth = receiver.on("/rot")[3]
    assert len(fourth.signatures) == 1
    assert ClockedWebhook(new).verify(fourth.body, fourth.headers)["event_id"] == fourth.event_id
    with pytest.raises(WebhookVerificationError, match="No matching signature found"):
        ClockedWebhook(old).verify(fourth.body, fourth.headers)
    assert receiver.unverified() == []

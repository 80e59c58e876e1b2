"""Inbound partner events over HTTP: POST /api/v1/integrations/events/{source} (signature, de-duplication,
validation against the registry, deprecation windows), the inbound sources API and the inbound events
API (list, filter, replay)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from crm_sync import tasks as crm_tasks
from crm_sync.models import InboundEvent, InboundSource
from crm_sync.services import inbound_process, inbound_source_create
from crm_sync.signing import secret_error
from tests.crm_sync.inbound_support import (
    AFTER_CUTOVER,
    BEFORE_CUTOVER,
    OTHER_SECRET,
    SECRET,
    Recorder,
    buddy_match_v1,
    buddy_match_v2,
    envelope,
    handler,
    install_clock,
    kintell_session,
    post_event,
    signed_headers,
)

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
SOURCES = "/api/v1/admin/inbound-sources"
EVENTS = "/api/v1/admin/inbound-events"


@pytest.fixture
def moved_clock(monkeypatch):
    return install_clock(monkeypatch)


@pytest.fixture
def buddy(db, moved_clock) -> InboundSource:
    return inbound_source_create(key="buddy", secret=SECRET)


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    return body


# --- Accepting and de-duplicating --------------------------------------------------------------


def test_a_valid_v2_event_is_accepted_and_stored_received(client, buddy, moved_clock):
    sent = envelope(event_id="evt-1")
    response = post_event(client, "buddy", sent)
    assert response.status_code == 202
    assert response.json() == {"event_id": "evt-1", "status": "received", "duplicate": False}
    event = InboundEvent.objects.get()
    assert event.source == buddy
    assert (event.event_id, event.event_type, event.schema_version) == ("evt-1", "buddy.match.created", 2)
    assert event.status == "received"
    assert event.envelope == sent
    assert (event.error, event.errors, event.raw_body, event.attempts) == ("", {}, "", 0)
    assert event.next_attempt_at == moved_clock.at
    assert event.processed_at is None


def test_the_same_event_id_again_answers_200_and_is_not_processed_twice(client, buddy):
    recorder = Recorder()
    with handler("buddy.match.created", recorder):
        sent = envelope(event_id="evt-dup")
        assert post_event(client, "buddy", sent).status_code == 202
        processed = inbound_process(event_id=InboundEvent.objects.get().pk)
        assert processed.status == "processed"

        again = post_event(client, "buddy", sent)  # a partner retry: new webhook-id, same event
        assert again.status_code == 200
        assert again.json() == {"event_id": "evt-dup", "status": "processed", "duplicate": True}
        altered = post_event(client, "buddy", envelope(event_id="evt-dup", payload=buddy_match_v2(match_id="m-2")))
        assert altered.status_code == 200
        assert altered.json() == {"event_id": "evt-dup", "status": "processed", "duplicate": True}

        assert inbound_process(event_id=processed.pk) is None
    assert InboundEvent.objects.count() == 1
    assert InboundEvent.objects.get().envelope == sent  # the first copy is kept
    assert [call["event_id"] for call in recorder.calls] == ["evt-dup"]


def test_a_duplicate_received_before_processing_is_not_queued_again(
    client, buddy, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CRM_INBOUND_PROCESS_ON_COMMIT = True
    queued: list[str] = []
    monkeypatch.setattr(crm_tasks.process_inbound_event, "delay", queued.append)
    sent = envelope(event_id="evt-q")
    with django_capture_on_commit_callbacks(execute=True) as first:
        assert post_event(client, "buddy", sent).status_code == 202
    with django_capture_on_commit_callbacks(execute=True) as second:
        response = post_event(client, "buddy", sent)
    assert response.status_code == 200
    assert response.json() == {"event_id": "evt-q", "status": "received", "duplicate": True}
    assert (len(first), len(second)) == (1, 0)
    assert queued == [str(InboundEvent.objects.get().pk)]


# --- Authentication: 401 and nothing stored ------------------------------------------------------


def _raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def test_a_bad_signature_answers_401(client, buddy):
    raw = _raw(envelope())
    headers = signed_headers(SECRET, raw)
    headers["HTTP_WEBHOOK_SIGNATURE"] = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    body = _problem(post_event(client, "buddy", raw, headers=headers), 401, "invalid-signature")
    assert body["title"] == "Invalid signature"
    assert body["detail"] == "No signature matches."
    assert not InboundEvent.objects.exists()


def test_a_body_changed_after_signing_answers_401(client, buddy):
    headers = signed_headers(SECRET, _raw(envelope(event_id="evt-a")))
    response = post_event(client, "buddy", _raw(envelope(event_id="evt-b")), headers=headers)
    assert _problem(response, 401, "invalid-signature")["detail"] == "No signature matches."
    assert not InboundEvent.objects.exists()


def test_the_wrong_secret_answers_401(client, buddy):
    response = post_event(client, "buddy", envelope(), secret=OTHER_SECRET)
    assert _problem(response, 401, "invalid-signature")["detail"] == "No signature matches."
    assert not InboundEvent.objects.exists()


def test_a_timestamp_older_than_five_minutes_answers_401(client, buddy, moved_clock):
    stale = post_event(client, "buddy", envelope(), at=moved_clock.at - timedelta(minutes=5, seconds=1))
    assert (
        _problem(stale, 401, "invalid-signature")["detail"] == "webhook-timestamp is more than 5 minutes away from now."
    )
    future = post_event(client, "buddy", envelope(), at=moved_clock.at + timedelta(minutes=5, seconds=1))
    assert _problem(future, 401, "invalid-signature")["detail"] == (
        "webhook-timestamp is more than 5 minutes away from now."
    )
    assert not InboundEvent.objects.exists()
    within = post_event(client, "buddy", envelope(), at=moved_clock.at - timedelta(minutes=4, seconds=59))
    assert within.status_code == 202


@pytest.mark.parametrize("missing", ["HTTP_WEBHOOK_ID", "HTTP_WEBHOOK_TIMESTAMP", "HTTP_WEBHOOK_SIGNATURE"])
def test_a_missing_signature_header_answers_401(client, buddy, missing):
    raw = _raw(envelope())
    headers = signed_headers(SECRET, raw)
    del headers[missing]
    body = _problem(post_event(client, "buddy", raw, headers=headers), 401, "invalid-signature")
    assert body["detail"] == "Missing webhook-id, webhook-timestamp or webhook-signature header."
    assert not InboundEvent.objects.exists()


def test_a_timestamp_that_is_not_a_number_answers_401(client, buddy):
    raw = _raw(envelope())
    headers = signed_headers(SECRET, raw)
    headers["HTTP_WEBHOOK_TIMESTAMP"] = "yesterday"
    body = _problem(post_event(client, "buddy", raw, headers=headers), 401, "invalid-signature")
    assert body["detail"] == "webhook-timestamp is not a Unix time in seconds."
    assert not InboundEvent.objects.exists()


def test_no_headers_at_all_answers_401(client, buddy):
    _problem(post_event(client, "buddy", envelope(), headers={}), 401, "invalid-signature")
    assert not InboundEvent.objects.exists()


# --- Source, media type and size -----------------------------------------------------------------


def test_an_unknown_source_answers_404(client, buddy):
    body = _problem(post_event(client, "nobody", envelope()), 404, "not-found")
    assert body["detail"] == "No active inbound source 'nobody'."
    assert not InboundEvent.objects.exists()


def test_an_inactive_source_answers_404(client, buddy):
    InboundSource.objects.filter(pk=buddy.pk).update(active=False)
    body = _problem(post_event(client, "buddy", envelope()), 404, "not-found")
    assert body["detail"] == "No active inbound source 'buddy'."
    assert not InboundEvent.objects.exists()


def test_a_source_signs_with_its_own_secret(client, buddy):
    inbound_source_create(key="kintell", secret=OTHER_SECRET)
    sent = envelope("kintell.session.completed", 1, kintell_session())
    assert post_event(client, "kintell", sent, secret=SECRET).status_code == 401
    assert post_event(client, "buddy", envelope(), secret=OTHER_SECRET).status_code == 401
    assert not InboundEvent.objects.exists()


def test_another_content_type_answers_415(client, buddy):
    response = post_event(client, "buddy", envelope(), content_type="text/plain")
    body = _problem(response, 415, "unsupported-media-type")
    assert body["detail"] == 'Unsupported media type "text/plain" in request; send application/json.'
    assert not InboundEvent.objects.exists()


def test_json_with_a_charset_is_accepted(client, buddy):
    response = post_event(client, "buddy", envelope(), content_type="application/json; charset=utf-8")
    assert response.status_code == 202


def _sized(size: int) -> bytes:
    """A valid event body of exactly `size` bytes (padded in the payload's program_key)."""
    base = envelope(event_id="evt-size", payload=buddy_match_v2(program_key=""))
    padding = size - len(_raw(base))
    assert padding >= 0
    raw = _raw(envelope(event_id="evt-size", payload=buddy_match_v2(program_key="x" * padding)))
    assert len(raw) == size
    return raw


def test_a_body_over_the_limit_answers_413(client, buddy, settings):
    settings.CRM_INBOUND_MAX_BYTES = 600
    body = _problem(post_event(client, "buddy", _sized(601)), 413, "payload-too-large")
    assert body["detail"] == "Events are at most 600 bytes."
    assert not InboundEvent.objects.exists()
    assert post_event(client, "buddy", _sized(600)).status_code == 202


# --- Validation: 422, stored rejected ------------------------------------------------------------


def test_a_body_that_is_not_json_is_rejected_and_kept_raw(client, buddy):
    response = post_event(client, "buddy", b"not json{", msg_id="msg_raw_1")
    body = _problem(response, 422, "event-rejected")
    assert body["title"] == "Event rejected"
    assert body["detail"] == "The body is not a JSON object."
    assert body["errors"] == {"body": "The body is not a JSON object."}
    event = InboundEvent.objects.get()
    assert (event.event_id, event.status, event.raw_body) == ("msg_raw_1", "rejected", "not json{")
    assert (event.envelope, event.event_type, event.schema_version) == ({}, "", None)
    assert event.errors == {"body": "The body is not a JSON object."}
    assert event.next_attempt_at is None


def test_a_json_array_is_rejected_and_kept_raw(client, buddy):
    body = _problem(post_event(client, "buddy", b"[1, 2]", msg_id="msg_raw_2"), 422, "event-rejected")
    assert body["errors"] == {"body": "The body is not a JSON object."}
    event = InboundEvent.objects.get()
    assert (event.event_id, event.status, event.raw_body) == ("msg_raw_2", "rejected", "[1, 2]")


def test_a_body_holding_a_nul_character_is_rejected_and_kept_raw(client, buddy):
    raw = _raw(envelope(event_id="evt-nul", payload=buddy_match_v2(program_key="a\x00b")))
    body = _problem(post_event(client, "buddy", raw, msg_id="msg_nul"), 422, "event-rejected")
    message = "The body holds a NUL character (\\u0000), which is not accepted."
    assert body["errors"] == {"body": message}
    event = InboundEvent.objects.get()
    assert (event.event_id, event.status, event.envelope, event.raw_body) == ("msg_nul", "rejected", {}, raw.decode())
    binary = _problem(post_event(client, "buddy", b"abc\x00def", msg_id="msg_bin"), 422, "event-rejected")
    assert binary["errors"] == {"body": "The body is not a JSON object."}
    assert InboundEvent.objects.get(event_id="msg_bin").raw_body == "abc\ufffddef"


def test_an_envelope_missing_fields_is_rejected_naming_the_paths(client, buddy):
    sent = envelope(event_id="evt-env", drop=("subject", "payload"))
    body = _problem(post_event(client, "buddy", sent), 422, "event-rejected")
    assert body["detail"] == "The event envelope is invalid."
    assert body["errors"] == {"subject": "This field is required.", "payload": "This field is required."}
    event = InboundEvent.objects.get()
    assert event.event_id == "evt-env"
    assert event.status == "rejected"
    assert event.errors == {"subject": "This field is required.", "payload": "This field is required."}
    assert event.error == "The event envelope is invalid."
    assert (event.event_type, event.schema_version, event.envelope, event.raw_body) == (
        "buddy.match.created",
        2,
        sent,
        "",
    )


def test_envelope_field_errors_name_nested_paths(client, buddy):
    sent = envelope(event_id="evt-nested", subject={"type": "match"}, actor="bob")
    body = _problem(post_event(client, "buddy", sent), 422, "event-rejected")
    assert body["errors"] == {
        "actor": "'bob' does not match '^(user|system|partner):.+$'",
        "subject/id": "This field is required.",
    }


def test_an_unknown_event_type_is_rejected(client, buddy):
    sent = envelope("buddy.match.paused", 1, {"match_id": "m-1"}, event_id="evt-unknown")
    body = _problem(post_event(client, "buddy", sent), 422, "event-rejected")
    assert body["detail"] == "Unknown event type."
    assert body["errors"] == {"event_type": "'buddy.match.paused' is not a registered event type."}
    assert InboundEvent.objects.get().status == "rejected"


def test_a_payload_violating_its_schema_is_rejected_naming_payload_paths(client, buddy):
    payload = buddy_match_v2(match_id=5)
    del payload["buddy_external_id"]
    sent = envelope(event_id="evt-payload", payload=payload, subject={"type": "match", "id": "m-5"})
    body = _problem(post_event(client, "buddy", sent), 422, "event-rejected")
    assert body["detail"] == "The payload does not match buddy.match.created v2."
    assert body["errors"] == {
        "payload/buddy_external_id": "This field is required.",
        "payload/match_id": "5 is not of type 'string'",
    }
    event = InboundEvent.objects.get()
    assert event.status == "rejected"
    assert event.errors == body["errors"]


def test_an_unknown_schema_version_is_rejected_naming_the_active_one(client, buddy):
    body = _problem(post_event(client, "buddy", envelope(schema_version=3)), 422, "event-rejected")
    assert body["errors"] == {"schema_version": "buddy.match.created has no schema version 3; the active version is 2."}


@pytest.mark.parametrize(
    ("version", "error"),
    [
        (-1, "-1 is less than the minimum of 1"),
        (2**40, None),
        ("2", "'2' is not of type 'integer'"),
        (True, "True is not of type 'integer'"),
    ],
)
def test_an_unusable_schema_version_is_rejected_and_stored(client, buddy, version, error):
    body = _problem(post_event(client, "buddy", envelope(schema_version=version)), 422, "event-rejected")
    if error is None:
        error = f"buddy.match.created has no schema version {version}; the active version is 2."
    assert body["errors"] == {"schema_version": error}
    event = InboundEvent.objects.get()
    assert (event.status, event.schema_version, event.event_type) == ("rejected", None, "buddy.match.created")


def test_a_deprecated_version_is_accepted_before_its_cutover(client, buddy, moved_clock):
    moved_clock.set(BEFORE_CUTOVER)
    sent = envelope(schema_version=1, payload=buddy_match_v1(), event_id="evt-v1")
    response = post_event(client, "buddy", sent)
    assert response.status_code == 202
    assert response.json() == {"event_id": "evt-v1", "status": "received", "duplicate": False}
    event = InboundEvent.objects.get()
    assert (event.schema_version, event.status) == (1, "received")


def test_a_deprecated_version_is_rejected_after_its_cutover_naming_the_active_version(client, buddy, moved_clock):
    moved_clock.set(AFTER_CUTOVER)
    sent = envelope(schema_version=1, payload=buddy_match_v1(), event_id="evt-v1-late")
    body = _problem(post_event(client, "buddy", sent), 422, "event-rejected")
    message = "Version 1 of buddy.match.created was retired on 2026-10-15; send version 2."
    assert body["errors"] == {"schema_version": message}
    assert body["detail"] == message
    event = InboundEvent.objects.get()
    assert (event.status, event.schema_version, event.errors) == ("rejected", 1, {"schema_version": message})
    # v2 on the same day is fine
    assert post_event(client, "buddy", envelope(event_id="evt-v2")).status_code == 202


def test_a_deprecated_version_is_rejected_on_the_cutover_day(client, buddy, moved_clock):
    moved_clock.set(BEFORE_CUTOVER.replace(day=15, hour=0, minute=0))
    sent = envelope(schema_version=1, payload=buddy_match_v1())
    _problem(post_event(client, "buddy", sent), 422, "event-rejected")
    moved_clock.set(BEFORE_CUTOVER.replace(day=14, hour=23, minute=59))
    assert post_event(client, "buddy", envelope(schema_version=1, payload=buddy_match_v1())).status_code == 202


def test_a_rejected_event_sent_again_corrected_is_accepted(client, buddy, moved_clock):
    broken = envelope(event_id="evt-fix", payload=buddy_match_v2(match_id=""))
    assert post_event(client, "buddy", broken).status_code == 422
    assert post_event(client, "buddy", broken).status_code == 422  # still broken: rejected again
    fixed = envelope(event_id="evt-fix")
    response = post_event(client, "buddy", fixed)
    assert response.status_code == 202
    assert response.json() == {"event_id": "evt-fix", "status": "received", "duplicate": False}
    event = InboundEvent.objects.get()
    assert (event.status, event.errors, event.error, event.envelope) == ("received", {}, "", fixed)
    assert event.next_attempt_at == moved_clock.at
    again = post_event(client, "buddy", fixed)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)


# --- Inbound sources API -------------------------------------------------------------------------


def test_creating_a_source_shows_its_generated_secret_once(operator_api, moved_clock):
    response = operator_api.post(SOURCES, {"key": "partner-x"}, format="json")
    assert response.status_code == 201
    body = response.json()
    source = InboundSource.objects.get(key="partner-x")
    assert body["secret"] == source.secret
    assert body["secret"].startswith("whsec_")
    assert secret_error(body["secret"]) is None
    assert {k: v for k, v in body.items() if k not in ("created_at", "secret")} == {
        "id": str(source.id),
        "key": "partner-x",
        "name": "partner-x",
        "active": True,
        "secret_hint": source.secret[:10] + "…",
        "previous_secret_expires_at": None,
    }
    listed = operator_api.get(SOURCES).json()
    assert listed["count"] == 1
    (row,) = listed["results"]
    assert "secret" not in row
    assert row["secret_hint"] == source.secret[:10] + "…"
    assert AuditEntry.objects.filter(action="inbound_source.created", target_id=str(source.id)).count() == 1


def test_a_source_with_a_given_secret_verifies_events_signed_with_it(operator_api, client):
    response = operator_api.post(SOURCES, {"key": "kintell", "name": "Kintell", "secret": SECRET}, format="json")
    assert response.status_code == 201
    assert (response.json()["secret"], response.json()["name"]) == (SECRET, "Kintell")
    assert post_event(client, "kintell", envelope(event_id="evt-k")).status_code == 202


def test_an_invalid_secret_answers_400(operator_api):
    response = operator_api.post(SOURCES, {"key": "partner-x", "secret": "abc"}, format="json")
    body = _problem(response, 400, "validation-error")
    assert body["errors"] == {"secret": "A signing secret starts with 'whsec_'."}
    assert not InboundSource.objects.exists()


def test_a_duplicate_key_answers_409(operator_api, buddy):
    body = _problem(operator_api.post(SOURCES, {"key": "buddy"}, format="json"), 409, "conflict")
    assert body["detail"] == "An inbound source with the key 'buddy' already exists."
    assert InboundSource.objects.count() == 1


def test_rotating_a_secret_keeps_the_old_one_valid_for_24_hours(operator_api, client, buddy, moved_clock):
    rotated_at = moved_clock.at
    response = operator_api.post(f"{SOURCES}/{buddy.id}/rotate-secret")
    assert response.status_code == 200
    new_secret = response.json()["secret"]
    assert new_secret != SECRET
    assert secret_error(new_secret) is None
    buddy.refresh_from_db()
    assert (buddy.secret, buddy.previous_secret) == (new_secret, SECRET)
    assert buddy.previous_secret_expires_at == rotated_at + timedelta(hours=24)
    assert response.json()["previous_secret_expires_at"] == (rotated_at + timedelta(hours=24)).isoformat().replace(
        "+00:00", "Z"
    )

    assert post_event(client, "buddy", envelope(), secret=SECRET).status_code == 202
    assert post_event(client, "buddy", envelope(), secret=new_secret).status_code == 202
    moved_clock.advance(hours=23, minutes=59)
    assert post_event(client, "buddy", envelope(), secret=SECRET).status_code == 202
    moved_clock.set(rotated_at + timedelta(hours=24))
    assert post_event(client, "buddy", envelope(), secret=SECRET).status_code == 401
    assert post_event(client, "buddy", envelope(), secret=new_secret).status_code == 202
    assert InboundEvent.objects.count() == 4


def test_a_writer_may_not_use_the_inbound_admin_api(writer_api, buddy, client):
    post_event(client, "buddy", envelope(event_id="evt-w"))
    event = InboundEvent.objects.get()
    for response in (
        writer_api.get(SOURCES),
        writer_api.post(SOURCES, {"key": "partner-x"}, format="json"),
        writer_api.post(f"{SOURCES}/{buddy.id}/rotate-secret"),
        writer_api.get(EVENTS),
        writer_api.post(f"{EVENTS}/{event.id}/replay"),
    ):
        _problem(response, 403, "permission-denied")
    assert InboundSource.objects.count() == 1
    buddy.refresh_from_db()
    assert buddy.secret == SECRET


def test_the_integrator_role_may_manage_sources(integrator_api):
    assert integrator_api.post(SOURCES, {"key": "partner-y"}, format="json").status_code == 201
    assert integrator_api.get(SOURCES).json()["count"] == 1


# --- Inbound events API --------------------------------------------------------------------------


def _receive_mix(client, n: int, first: int = 0) -> None:
    """n accepted events and n rejected ones."""
    for i in range(first, first + n):
        assert post_event(client, "buddy", envelope(event_id=f"ok-{i}")).status_code == 202
        assert post_event(client, "buddy", envelope(event_id=f"bad-{i}", drop=("payload",))).status_code == 422


def test_the_inbound_events_list_filters_by_status(operator_api, client, buddy):
    _receive_mix(client, 2)
    rejected = operator_api.get(EVENTS, {"status": "rejected"}).json()
    assert rejected["count"] == 2
    assert sorted(row["event_id"] for row in rejected["results"]) == ["bad-0", "bad-1"]
    row = next(r for r in rejected["results"] if r["event_id"] == "bad-0")
    assert row["source"] == "buddy"
    assert row["status"] == "rejected"
    assert row["errors"] == {"payload": "This field is required."}
    assert row["error"] == "The event envelope is invalid."
    received = operator_api.get(EVENTS, {"status": "received"}).json()
    assert sorted(row["event_id"] for row in received["results"]) == ["ok-0", "ok-1"]
    assert operator_api.get(EVENTS, {"source": "kintell"}).json()["count"] == 0
    assert operator_api.get(EVENTS).json()["count"] == 4


def test_the_inbound_events_list_costs_a_constant_number_of_queries(
    operator_api, client, buddy, django_assert_max_num_queries
):
    _receive_mix(client, 1)
    operator_api.get(EVENTS)  # warm up: the token's last use is recorded once
    with CaptureQueriesContext(connection) as two:
        assert operator_api.get(EVENTS).json()["count"] == 2
    budget = len(two.captured_queries)
    inbound_source_create(key="kintell", secret=OTHER_SECRET)
    for i in range(4):
        sent = envelope("kintell.session.completed", 1, kintell_session(), event_id=f"k-{i}")
        assert post_event(client, "kintell", sent, secret=OTHER_SECRET).status_code == 202
    _receive_mix(client, 3, first=1)
    with django_assert_max_num_queries(budget):
        body = operator_api.get(EVENTS).json()
    assert body["count"] == 12
    assert {row["source"] for row in body["results"]} == {"buddy", "kintell"}


def test_replaying_a_failed_event_over_the_api_processes_it(operator_api, client, buddy):
    recorder = Recorder(failures=1)
    with handler("buddy.match.created", recorder):
        post_event(client, "buddy", envelope(event_id="evt-r"))
        event = InboundEvent.objects.get()
        assert inbound_process(event_id=event.pk).status == "failed"
        response = operator_api.post(f"{EVENTS}/{event.id}/replay")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["attempts"], body["error"]) == (str(event.id), "processed", 1, "")
    assert body["next_attempt_at"] is None
    assert len(recorder.calls) == 2
    assert AuditEntry.objects.filter(action="inbound_event.replayed", target_id=str(event.id)).count() == 1


def test_replaying_a_processed_event_answers_409(operator_api, client, buddy):
    with handler("buddy.match.created", Recorder()):
        post_event(client, "buddy", envelope(event_id="evt-done"))
        event = InboundEvent.objects.get()
        inbound_process(event_id=event.pk)
        response = operator_api.post(f"{EVENTS}/{event.id}/replay")
    body = _problem(response, 409, "conflict")
    assert body["detail"] == "Only failed, rejected or skipped events are replayed; this one is processed."


def test_replaying_a_rejected_event_that_is_still_invalid_answers_400_naming_the_paths(operator_api, client, buddy):
    payload = buddy_match_v2()
    del payload["matched_at"]
    post_event(client, "buddy", envelope(event_id="evt-bad", payload=payload))
    event = InboundEvent.objects.get()
    body = _problem(operator_api.post(f"{EVENTS}/{event.id}/replay"), 400, "validation-error")
    assert body["errors"] == {"payload/matched_at": "This field is required."}
    assert body["detail"] == "The payload does not match buddy.match.created v2."
    event.refresh_from_db()
    assert event.status == "rejected"


def test_replaying_an_unknown_event_answers_404(operator_api):
    _problem(operator_api.post(f"{EVENTS}/6f1c3d2e-0000-4000-8000-000000000000/replay"), 404, "not-found")

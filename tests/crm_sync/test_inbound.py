"""Processing inbound partner events: handlers called once, failures kept, retried with backoff and
bounded, replayed (a rejected one validated again), events without a handler skipped, the
crm_dispatch job picking up due events, and concurrent receipt and processing."""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from core.errors import Conflict, ValidationFailed
from core.jobs import run_job
from core.models import AuditEntry, JobRun
from crm_sync import hooks, services
from crm_sync import registry as event_registry
from crm_sync.models import InboundEvent
from crm_sync.registry import DEFAULT_DIR
from crm_sync.services import inbound_process, inbound_process_due, inbound_replay, inbound_source_create
from tests.crm_sync.inbound_support import (
    SECRET,
    Recorder,
    envelope,
    handler,
    install_clock,
    kintell_session,
    post_event,
)

NOTHING_DUE = {"inbound_processed": 0, "inbound_failed": 0}
ENDED = {"match_id": "m-100", "ended_at": "2026-10-20T08:00:00Z", "reason": "completed"}


@pytest.fixture
def moved_clock(monkeypatch):
    return install_clock(monkeypatch)


@pytest.fixture
def buddy(db, moved_clock):
    return inbound_source_create(key="buddy", secret=SECRET)


@pytest.fixture
def retry_settings(settings):
    settings.CRM_RETRY_BASE_SECONDS = 10
    settings.CRM_RETRY_CAP_SECONDS = 3600
    settings.CRM_MAX_ATTEMPTS = 3
    return settings


def _receive(client, body: dict) -> InboundEvent:
    response = post_event(client, "buddy", body)
    assert response.status_code == 202, response.content
    return InboundEvent.objects.get(event_id=body["event_id"])


def _delay_seconds(event: InboundEvent, now) -> float:
    return (event.next_attempt_at - now).total_seconds()


# --- Processing ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_processing_hands_the_envelope_to_its_handler_once(client, buddy, moved_clock):
    sent = envelope(event_id="evt-1")
    event = _receive(client, sent)
    recorder = Recorder()
    with handler("buddy.match.created", recorder):
        processed = inbound_process(event_id=event.pk)
        assert inbound_process(event_id=event.pk) is None
        assert inbound_process_due() == NOTHING_DUE
    assert recorder.calls == [sent]
    event.refresh_from_db()
    assert (event.status, event.attempts, event.error) == ("processed", 1, "")
    assert event.processed_at == moved_clock.at
    assert event.next_attempt_at is None
    assert processed.pk == event.pk


@pytest.mark.django_db
def test_a_failing_handler_leaves_the_event_failed_then_a_retry_processes_it(
    client, buddy, moved_clock, retry_settings
):
    event = _receive(client, envelope(event_id="evt-fail"))
    received_at = moved_clock.at
    recorder = Recorder(failures=1, error="Buddy match m-100 is unknown")
    with handler("buddy.match.created", recorder):
        failed = inbound_process(event_id=event.pk)
        assert failed.status == "failed"
        event.refresh_from_db()
        assert event.status == "failed"
        assert event.error == "RuntimeError: Buddy match m-100 is unknown"
        assert event.attempts == 1
        assert event.processed_at is None
        assert 5 <= _delay_seconds(event, received_at) <= 10  # half to all of the 10 s base

        assert inbound_process_due() == NOTHING_DUE  # not due yet
        assert len(recorder.calls) == 1
        moved_clock.advance(seconds=11)
        assert inbound_process_due() == {"inbound_processed": 1, "inbound_failed": 0}
    event.refresh_from_db()
    assert (event.status, event.attempts, event.error) == ("processed", 2, "")
    assert event.processed_at == moved_clock.at
    assert event.next_attempt_at is None
    assert len(recorder.calls) == 2


@pytest.mark.django_db
def test_after_the_last_attempt_the_event_stays_failed_until_replayed(client, buddy, moved_clock, retry_settings):
    event = _receive(client, envelope(event_id="evt-dead"))
    recorder = Recorder(failures=100)
    with handler("buddy.match.created", recorder):
        inbound_process(event_id=event.pk)
        moved_clock.advance(hours=1)
        assert inbound_process_due() == {"inbound_processed": 0, "inbound_failed": 1}
        event.refresh_from_db()
        assert event.attempts == 2
        assert 10 <= _delay_seconds(event, moved_clock.at) <= 20  # the backoff doubles
        moved_clock.advance(hours=1)
        assert inbound_process_due() == {"inbound_processed": 0, "inbound_failed": 1}
        event.refresh_from_db()
        assert (event.status, event.attempts, event.next_attempt_at) == ("failed", 3, None)
        assert event.error == "RuntimeError: partner system down"

        moved_clock.advance(days=30)
        assert inbound_process_due() == NOTHING_DUE
        assert inbound_process(event_id=event.pk) is None  # e.g. a task delivered twice: no extra attempt
        assert len(recorder.calls) == 3

        recorder.failures = 0
        replayed = inbound_replay(event=event)
    assert (replayed.status, replayed.attempts, replayed.error) == ("processed", 1, "")
    assert replayed.processed_at == moved_clock.at
    assert len(recorder.calls) == 4
    entry = AuditEntry.objects.get(action="inbound_event.replayed", target_id=str(event.pk))
    assert entry.changes == {"status": ["failed", "received"]}


@pytest.mark.django_db
def test_a_replay_that_fails_again_gets_a_fresh_retry_budget(client, buddy, moved_clock, retry_settings):
    event = _receive(client, envelope(event_id="evt-again"))
    with handler("buddy.match.created", Recorder(failures=100)):
        for _ in range(3):
            inbound_process(event_id=event.pk)
        event.refresh_from_db()
        assert (event.attempts, event.next_attempt_at) == (3, None)
        replayed = inbound_replay(event=event)
    assert (replayed.status, replayed.attempts) == ("failed", 1)
    assert 5 <= _delay_seconds(replayed, moved_clock.at) <= 10


@pytest.mark.django_db
def test_an_event_type_without_a_handler_is_skipped_and_can_be_replayed_later(client, buddy, moved_clock, monkeypatch):
    monkeypatch.delitem(hooks._handlers, "buddy.match.ended")  # mentorship handles it; here nobody does
    assert hooks.handler_for("buddy.match.ended") is None
    sent = envelope("buddy.match.ended", 1, ENDED, event_id="evt-ended")
    event = _receive(client, sent)
    skipped = inbound_process(event_id=event.pk)
    assert skipped.status == "skipped"
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("skipped", 0)
    assert event.error == "No handler is registered for buddy.match.ended."
    assert event.processed_at == moved_clock.at
    moved_clock.advance(days=1)
    assert inbound_process_due() == NOTHING_DUE

    recorder = Recorder()
    with handler("buddy.match.ended", recorder):
        replayed = inbound_replay(event=event)
    assert (replayed.status, replayed.attempts, replayed.error) == ("processed", 1, "")
    assert recorder.calls == [sent]


@pytest.mark.django_db
def test_only_failed_rejected_or_skipped_events_are_replayed(client, buddy):
    event = _receive(client, envelope(event_id="evt-new"))
    with pytest.raises(Conflict) as raised:
        inbound_replay(event=event)
    assert raised.value.detail == "Only failed, rejected or skipped events are replayed; this one is received."


# --- Replaying rejected events: validated again ----------------------------------------------------


@pytest.fixture
def extended_registry(tmp_path, settings):
    """A copy of the registry with one more partner type, `buddy.match.paused` (needs paused_at)."""
    directory = tmp_path / "contracts"
    shutil.copytree(DEFAULT_DIR, directory)
    index = json.loads((directory / "event-types-registry.json").read_text())
    index["event_types"]["buddy.match.paused"] = {
        "producer": "buddy",
        "consumers": ["platform"],
        "owning_contract": None,
        "schema_versions": [
            {
                "version": 1,
                "payload_schema": "payloads/buddy.match.paused-v1.json",
                "status": "active",
                "registered_at": "2026-11-01",
            }
        ],
    }
    (directory / "event-types-registry.json").write_text(json.dumps(index))
    (directory / "payloads" / "buddy.match.paused-v1.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["match_id", "paused_at"],
                "properties": {"match_id": {"type": "string"}, "paused_at": {"type": "string"}},
            }
        )
    )

    def use() -> None:
        settings.CRM_EVENT_REGISTRY_DIR = str(directory)

    yield use
    event_registry.reset()


@pytest.mark.django_db
def test_replaying_a_rejected_event_validates_it_against_the_registry_of_now(client, buddy, extended_registry):
    paused_without_date = envelope("buddy.match.paused", 1, {"match_id": "m-1"}, event_id="evt-p1")
    paused = envelope("buddy.match.paused", 1, {"match_id": "m-2", "paused_at": "2026-11-20"}, event_id="evt-p2")
    assert post_event(client, "buddy", paused_without_date).status_code == 422
    assert post_event(client, "buddy", paused).status_code == 422
    first = InboundEvent.objects.get(event_id="evt-p1")
    assert first.errors == {"event_type": "'buddy.match.paused' is not a registered event type."}

    with pytest.raises(ValidationFailed) as raised:
        inbound_replay(event=first)  # the registry has not changed: still unknown
    assert raised.value.errors == {"event_type": "'buddy.match.paused' is not a registered event type."}

    extended_registry()  # the type is registered now
    with pytest.raises(ValidationFailed) as raised:
        inbound_replay(event=first)
    assert raised.value.errors == {"payload/paused_at": "This field is required."}
    assert raised.value.detail == "The payload does not match buddy.match.paused v1."
    first.refresh_from_db()
    assert first.status == "rejected"
    assert first.errors == {"payload/paused_at": "This field is required."}  # the current reasons are kept
    assert first.error == "The payload does not match buddy.match.paused v1."

    recorder = Recorder()
    with handler("buddy.match.paused", recorder):
        replayed = inbound_replay(event=InboundEvent.objects.get(event_id="evt-p2"))
    assert (replayed.status, replayed.errors, replayed.attempts) == ("processed", {}, 1)
    assert recorder.calls == [paused]


@pytest.mark.django_db
def test_replaying_a_rejected_body_that_was_not_json_names_the_body(client, buddy):
    assert post_event(client, "buddy", b"<xml/>", msg_id="msg_xml").status_code == 422
    with pytest.raises(ValidationFailed) as raised:
        inbound_replay(event=InboundEvent.objects.get(event_id="msg_xml"))
    assert raised.value.errors == {"body": "The body is not a JSON object."}
    assert InboundEvent.objects.get(event_id="msg_xml").status == "rejected"


# --- The crm_dispatch job processes due inbound events ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_crm_dispatch_job_processes_due_inbound_events(client, buddy, moved_clock, retry_settings):
    created = _receive(client, envelope(event_id="evt-job-1"))
    ended = _receive(client, envelope("buddy.match.ended", 1, ENDED, event_id="evt-job-2"))
    recorder = Recorder()
    with handler("buddy.match.created", recorder), handler("buddy.match.ended", Recorder(failures=1)):
        run = run_job("crm_dispatch", trigger=JobRun.Trigger.COMMAND)
    assert run.status == "succeeded"
    assert run.counts == {
        "fanned_out": 0,
        "delivered": 0,
        "retrying": 0,
        "dead": 0,
        "inbound_processed": 1,
        "inbound_failed": 1,
    }
    created.refresh_from_db()
    ended.refresh_from_db()
    assert (created.status, ended.status) == ("processed", "failed")
    assert [call["event_id"] for call in recorder.calls] == ["evt-job-1"]


# --- Concurrency -------------------------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_same_event_received_twice_at_once_is_stored_once(buddy, monkeypatch):
    """Two deliveries of one event race past the duplicate check; the loser answers 200."""
    real_validate = services._validate_envelope

    def slow_validate(*args, **kwargs):
        time.sleep(0.3)
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(services, "_validate_envelope", slow_validate)
    sent = envelope("kintell.session.completed", 1, kintell_session(), event_id="evt-race")
    barrier = threading.Barrier(2)
    responses, errors = [], []

    def send():
        try:
            barrier.wait(timeout=10)
            responses.append(post_event(Client(), "buddy", sent))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.status_code for r in responses) == [200, 202]
    duplicate = next(r for r in responses if r.status_code == 200)
    assert duplicate.json() == {"event_id": "evt-race", "status": "received", "duplicate": True}
    assert InboundEvent.objects.filter(event_id="evt-race").count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_one_event_call_the_handler_once(client, buddy):
    event = _receive(client, envelope(event_id="evt-two-workers"))
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow_handler(envelope_):
        calls.append(envelope_["event_id"])
        started.set()
        assert release.wait(timeout=30)

    results: dict[str, object] = {}

    def work(name):
        try:
            results[name] = inbound_process(event_id=event.pk)
        finally:
            connection.close()

    with handler("buddy.match.created", slow_handler):
        first = threading.Thread(target=work, args=("first",))
        first.start()
        assert started.wait(timeout=30)
        second = threading.Thread(target=work, args=("second",))
        second.start()
        second.join(timeout=30)
        release.set()
        first.join(timeout=30)
    assert results["second"] is None  # the row is locked by the first worker: skipped
    assert results["first"].status == "processed"
    assert calls == ["evt-two-workers"]
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)

"""One history, two ways in: the shipped sample imported as a batch, and the same history sent as
signed webhook events to the real inbound endpoint and processed by the registered handlers, give
the same rows (people by external id, profiles, enrollments with status and dates, matches, check-
ins, feedback, milestones, activities, journey flags). Also in a shuffled order (events that come
before the people or match they name fail and are retried), sent twice, and reconciled by a later
batch import that finds everything unchanged."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from crm_sync.models import InboundEvent, OutboxEvent
from crm_sync.services import inbound_process, inbound_process_due, inbound_source_create
from mentorship.partners.batch import partner_import
from mentorship.partners.stream import events_from_export
from notifications.models import Notification
from tests.crm_sync.inbound_support import SECRET, install_clock, post_event
from tests.mentorship.test_import import SAMPLE, snapshot

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OUTBOUND = ("enrollment.created", "mentorship.match.created", "mentorship.match.ended")


@pytest.fixture
def moved_clock(monkeypatch):
    return install_clock(monkeypatch, NOW)


@pytest.fixture
def buddy_source(db, moved_clock):
    return inbound_source_create(key="buddy", secret=SECRET)


def outbound() -> Counter:
    return Counter(OutboxEvent.objects.filter(event_type__in=OUTBOUND).values_list("event_type", flat=True))


def batch_state() -> tuple[dict, Counter]:
    """Import the sample as a batch, take the rows, and roll everything back."""
    sid = transaction.savepoint()
    report = partner_import(source="buddy", path=SAMPLE)
    assert report.total.rejected == 0
    state = snapshot(), outbound()
    transaction.savepoint_rollback(sid)
    return state


def send(client, envelopes, suffix: str = "") -> list[InboundEvent]:
    received = []
    for envelope in envelopes:
        body = {**envelope, "event_id": envelope["event_id"] + suffix}
        response = post_event(client, "buddy", body)
        assert response.status_code == 202, response.content
        received.append(InboundEvent.objects.get(event_id=body["event_id"]))
    return received


def assert_same(stream: dict, batch: dict) -> None:
    assert stream.keys() == batch.keys()
    for table in batch:
        assert stream[table] == batch[table], table


def test_the_stream_of_webhook_events_gives_the_rows_the_batch_gives(client, buddy_program, buddy_source):
    batch, batch_outbound = batch_state()
    assert batch["matches"] and not snapshot()["matches"]

    envelopes = events_from_export(SAMPLE)
    types = Counter(e["event_type"] for e in envelopes)
    assert types == {
        "buddy.user.joined": 10,
        "buddy.match.created": 6,
        "buddy.match.ended": 4,
        "buddy.event.attended": 8,
        "buddy.checkin.completed": 10,
        "buddy.feedback.submitted": 5,
        "buddy.milestone.reached": 6,
    }
    for event in send(client, envelopes):
        processed = inbound_process(event_id=event.pk)
        assert (processed.status, processed.error) == ("processed", ""), event.event_type

    stream = snapshot()
    assert_same(stream, batch)
    assert (
        outbound()
        == batch_outbound
        == {
            "enrollment.created": 10,
            "mentorship.match.created": 6,
            "mentorship.match.ended": 4,
        }
    )
    assert Notification.objects.count() == 0

    # Sent again (new event ids): handlers find every record and change nothing.
    for event in send(client, envelopes, suffix=":again"):
        assert inbound_process(event_id=event.pk).status == "processed"
    assert_same(snapshot(), batch)
    assert outbound() == batch_outbound

    # The monthly batch export reconciles with what the stream wrote: nothing to do.
    report = partner_import(source="buddy", path=SAMPLE)
    assert report.as_dict()["total"] == {"created": 0, "updated": 0, "unchanged": 45, "rejected": 0}
    assert_same(snapshot(), batch)


def test_out_of_order_events_fail_until_their_people_and_match_exist_then_give_the_same_rows(
    client, buddy_program, buddy_source, moved_clock, settings
):
    settings.CRM_RETRY_BASE_SECONDS = 1
    settings.CRM_RETRY_CAP_SECONDS = 60
    envelopes = events_from_export(SAMPLE)
    random.Random(6).shuffle(envelopes)
    assert envelopes[0]["event_type"] != "buddy.user.joined"
    events = send(client, envelopes)
    for event in events:
        inbound_process(event_id=event.pk)
    failed = InboundEvent.objects.filter(status="failed")
    assert failed.count() > 0
    unknown = failed.filter(error__startswith="NotFound: ").first()
    assert unknown is not None and "(retried later)" in unknown.error

    for _ in range(6):
        if not InboundEvent.objects.exclude(status="processed").exists():
            break
        moved_clock.advance(minutes=2)
        inbound_process_due(batch_size=500)
    assert list(InboundEvent.objects.exclude(status="processed").values_list("event_type", "error")) == []

    stream = snapshot()
    batch, batch_outbound = batch_state()
    assert_same(stream, batch)
    assert outbound() == batch_outbound


def test_an_event_about_an_unknown_person_is_failed_and_retried_not_lost(
    client, buddy_program, buddy_source, moved_clock
):
    envelopes = events_from_export(SAMPLE)
    checkin = next(e for e in envelopes if e["payload"].get("checkin_id") == "bc-0001")
    [event] = send(client, [checkin])
    failed = inbound_process(event_id=event.pk)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.error == "NotFound: match_id bm-0001: no Buddy match with this id yet (retried later)."
    assert failed.next_attempt_at > NOW

    needed = [
        e
        for e in envelopes
        if e["event_type"] == "buddy.user.joined"
        and e["payload"]["external_id"] in ("bu-0001", "bu-0002")
        or e["payload"].get("match_id") == "bm-0001"
        and e["event_type"] == "buddy.match.created"
    ]
    for received in send(client, needed):
        assert inbound_process(event_id=received.pk).status == "processed"
    moved_clock.advance(hours=1)
    assert inbound_process_due() == {"inbound_processed": 1, "inbound_failed": 0}
    event.refresh_from_db()
    assert (event.status, event.attempts, event.error) == ("processed", 2, "")
    assert snapshot()["checkins"] == {
        "bc-0001": ("bm-0001", "bu-0001", 5, "", datetime(2025, 3, 12, 5, 24, 42, tzinfo=UTC), "buddy")
    }
    assert timedelta(0) < moved_clock() - NOW

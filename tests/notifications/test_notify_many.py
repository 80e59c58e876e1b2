"""`notify_many`: the rules of `notify` for many people in one go (bulk preference locks, one
insert), and `emit_many`: schema-checked events in one insert."""

from __future__ import annotations

import pytest

from accounts.services import user_update
from crm_sync.models import OutboxEvent
from crm_sync.outbox import InvalidEventPayload, emit_many
from notifications.models import Notification, NotificationPreference
from notifications.services import notification_preferences_update, notify_many

pytestmark = pytest.mark.django_db

NOTICE = {"title": "Decision: accepted", "message": "You are in."}


def test_each_person_gets_a_row_per_channel_with_the_rules_of_notify(make_user, nudge_kind):
    ada = make_user(email="ada@example.org", full_name="Ada Lovelace")
    ben = make_user(email="ben@example.org", full_name="Ben Okri")
    gone = user_update(user=make_user(email="gone@example.org"), data={"is_active": False})
    notification_preferences_update(
        user=ben, opted_out_kinds=[nudge_kind.key], quiet_hours_start=None, quiet_hours_end=None, email_enabled=True
    )
    rows = notify_many(
        kind=nudge_kind.key, items=[(u, {"name": "Spring call", "count": 1}, []) for u in (ada, ben, gone)]
    )
    assert sorted((r.user.email, r.channel, r.status, r.suppressed_reason) for r in rows) == [
        ("ada@example.org", "dashboard", "queued", ""),
        ("ada@example.org", "email", "queued", ""),
        ("ben@example.org", "dashboard", "suppressed", "opted_out"),
        ("ben@example.org", "email", "suppressed", "opted_out"),
        ("gone@example.org", "dashboard", "suppressed", "inactive_user"),
        ("gone@example.org", "email", "suppressed", "inactive_user"),
    ]
    stored = Notification.objects.get(user=ada, channel="email")
    assert (stored.subject, stored.body_text) == ("1 deadline for Ada", "Hi Ada, Spring call closes soon.")
    assert NotificationPreference.objects.filter(user__in=[ada, ben, gone]).count() == 3


def test_the_rate_limit_of_a_nudge_applies_to_each_person(make_user, nudge_kind):
    ada = make_user(email="ada@example.org")
    first = notify_many(kind=nudge_kind.key, items=[(ada, {"name": "A", "count": 1}, [])])
    again = notify_many(kind=nudge_kind.key, items=[(ada, {"name": "B", "count": 1}, [])])
    assert [(r.status, r.suppressed_reason) for r in first] == [("queued", ""), ("queued", "")]
    assert [(r.status, r.suppressed_reason) for r in again] == [("suppressed", "rate_limited")] * 2


def test_one_item_per_person(make_user):
    ada = make_user()
    with pytest.raises(ValueError, match="at most one item per user"):
        notify_many(kind="account_notice", items=[(ada, NOTICE, []), (ada, NOTICE, [])])
    assert Notification.objects.count() == 0


def test_emit_many_checks_every_payload_before_writing(make_user):
    good = {
        "session_id": "7d1e2c1e-8a55-4a4f-9a35-0d7f4c7f1a11",
        "program_id": "0b3d5f0e-1c0a-4e55-8a1e-3f1a2b3c4d5e",
        "user_id": "5c2b9e0a-7f6d-4c3b-8a2e-1d0c9b8a7f6e",
        "starts_at": "2026-03-02T18:00:00+02:00",
        "hours_before": 24,
    }
    with pytest.raises(InvalidEventPayload, match="hours_before"):
        emit_many(
            event_type="program_session_reminder",
            events=[
                (("session", good["session_id"]), good),
                (("session", good["session_id"]), {**good, "hours_before": -1}),
            ],
        )
    assert OutboxEvent.objects.count() == 0
    written = emit_many(
        event_type="program_session_reminder",
        events=[
            (("session", good["session_id"]), good),
            (("session", good["session_id"]), {**good, "hours_before": 1}),
        ],
        actor="session-reminders",
    )
    assert [(e.subject_type, e.subject_id, e.actor, e.payload["hours_before"]) for e in written] == [
        ("session", good["session_id"], "system:session-reminders", 24),
        ("session", good["session_id"], "system:session-reminders", 1),
    ]
    assert OutboxEvent.objects.filter(event_type="program_session_reminder").count() == 2

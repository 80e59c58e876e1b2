"""Exactly once under concurrency, raced with real transactions on PostgreSQL: one dedupe key
gives one row and one e-mail; one user's rate limit holds; racing deliveries and dispatchers send
each row once. Controls with the row lock removed show the races are real."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

import notifications.services.sending as sending
from notifications.models import Notification, NotificationPreference
from notifications.services import notification_deliver, notifications_dispatch_due, notify

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

WINDOW_SECONDS = 0.2


def _race(calls) -> tuple[list, list]:
    """Run each call in its own thread, all released together by a barrier; each thread closes
    its database connection. Returns (results, errors)."""
    barrier = threading.Barrier(len(calls))
    lock = threading.Lock()
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=30)
            value = call()
            with lock:
                results.append(value)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results, errors


@pytest.fixture
def without_the_lock(monkeypatch):
    """The control: preferences read without FOR UPDATE, so notify calls no longer queue."""
    monkeypatch.setattr(
        sending, "lock_preferences", lambda user: NotificationPreference.objects.get_or_create(user=user)[0]
    )


@pytest.fixture
def wide_dedupe_window(monkeypatch):
    """Sleep after finding no row for a dedupe key, so unserialised transactions overlap."""
    real = sending._existing_for_key

    def slow(key):
        found = real(key)
        if found is None:
            time.sleep(WINDOW_SECONDS)
        return found

    monkeypatch.setattr(sending, "_existing_for_key", slow)


@pytest.fixture
def wide_count_window(monkeypatch):
    """Sleep between counting the window and inserting."""
    seen = []
    real = sending._window_count

    def slow(**kwargs):
        count = real(**kwargs)
        seen.append(count)
        time.sleep(WINDOW_SECONDS)
        return count

    monkeypatch.setattr(sending, "_window_count", slow)
    return seen


def _notice(user, key):
    return lambda: notify(
        user=user,
        kind="account_notice",
        context={"title": "Accepted", "message": "m"},
        channels=["email"],
        dedupe_key=key,
    )


def test_two_notifiers_with_one_dedupe_key_make_one_row_and_one_email(recipient, smtp_server, wide_dedupe_window):
    NotificationPreference.objects.get_or_create(user=recipient)

    results, errors = _race([_notice(recipient, "decision:7"), _notice(recipient, "decision:7")])

    assert errors == []
    assert Notification.objects.count() == 1
    [row] = Notification.objects.all()
    assert [[n.pk for n in rows] for rows in results] == [[row.pk], [row.pk]]
    # Both callers go on to deliver what they got back, at the same moment.
    delivered, errors = _race([lambda n=rows[0]: notification_deliver(notification_id=n.pk) for rows in results])
    assert errors == []
    assert [m["Subject"] for m in smtp_server.messages] == ["Accepted"]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.dedupe_key) == ("sent", 1, "decision:7:email")


def test_control_without_the_lock_the_unique_key_still_gives_one_row(
    recipient, without_the_lock, wide_dedupe_window, mailoutbox
):
    NotificationPreference.objects.get_or_create(user=recipient)

    results, errors = _race([_notice(recipient, "decision:8") for _ in range(4)])

    assert errors == []
    [row] = Notification.objects.all()
    assert [[n.pk for n in rows] for rows in results] == [[row.pk]] * 4
    for rows in results:
        notification_deliver(notification_id=rows[0].pk)
    assert len(mailoutbox) == 1


def _nudge(user, kind):
    return lambda: notify(user=user, kind=kind.key, context={"name": "x"}, channels=["email"])


def test_two_nudges_racing_for_one_user_give_one_queued_and_one_suppressed(recipient, nudge_kind, wide_count_window):
    NotificationPreference.objects.get_or_create(user=recipient)

    results, errors = _race([_nudge(recipient, nudge_kind), _nudge(recipient, nudge_kind)])

    assert errors == []
    assert sorted((rows[0].status, rows[0].suppressed_reason) for rows in results) == [
        ("queued", ""),
        ("suppressed", "rate_limited"),
    ]
    # The lock serialised the counts: the second saw the first's row.
    assert wide_count_window == [0, 1]


def test_control_without_the_lock_both_nudges_pass(recipient, nudge_kind, without_the_lock, wide_count_window):
    NotificationPreference.objects.get_or_create(user=recipient)

    results, errors = _race([_nudge(recipient, nudge_kind), _nudge(recipient, nudge_kind)])

    assert errors == []
    assert [rows[0].status for rows in results] == ["queued", "queued"]
    assert wide_count_window == [0, 0]


def test_racing_deliveries_and_dispatchers_send_each_notification_once(make_user, smtp_server, settings):
    settings.NOTIFICATIONS_DISPATCH_BATCH_SIZE = 3
    users = [make_user() for _ in range(6)]
    rows = [
        n
        for user in users
        for n in notify(user=user, kind="account_notice", context={"title": user.email, "message": "m"})
    ]
    calls = [lambda: notifications_dispatch_due() for _ in range(3)]
    calls += [lambda n=n: notification_deliver(notification_id=n.pk) for n in rows]

    results, errors = _race(calls)

    assert errors == []
    assert sorted(m["Subject"] for m in smtp_server.messages) == sorted(u.email for u in users)
    assert sorted(Notification.objects.values_list("channel", "status", "attempts")) == (
        [("dashboard", "sent", 1)] * 6 + [("email", "sent", 1)] * 6
    )

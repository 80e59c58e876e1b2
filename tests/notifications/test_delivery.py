"""Delivery: a real SMTP server receives the multipart e-mail; failures are retried with backoff
and end `failed` with the error; a claimed row is delivered once; operators can retry."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

import notifications.services.delivery as delivery
from accounts.services import user_update
from core.errors import IllegalTransition
from core.jobs import run_job
from core.models import AuditEntry
from notifications.models import Notification
from notifications.services import notification_deliver, notification_retry, notify, retry_delay
from notifications.tasks import deliver as deliver_task
from tests.notifications.conftest import deliver

NOTICE = {
    "title": "Willkommen, Zoë ✓",
    "message": "Your mentor <Sam> is confirmed.",
    "action_url": "https://example.org/m/1",
    "action_label": "See the match",
}


@pytest.fixture
def pinned_jitter(monkeypatch):
    """Every retry waits the full backoff (jitter 1.0), so the times are exact."""
    monkeypatch.setattr(delivery, "_jitter", lambda: 1.0)


@pytest.mark.parametrize(
    ("attempt", "jitter", "seconds"),
    [
        (1, 0.0, 15),
        (1, 1.0, 30),
        (2, 0.5, 45),
        (3, 1.0, 120),
        (4, 0.0, 120),
        (7, 1.0, 1920),
        (8, 1.0, 3600),
        (20, 0.0, 1800),
    ],
)
def test_retry_delay_is_exponential_capped_and_jittered(attempt, jitter, seconds):
    assert retry_delay(attempt, base=30, cap=3600, jitter=jitter) == timedelta(seconds=seconds)


@pytest.mark.django_db
def test_an_email_reaches_a_real_smtp_server_as_text_and_html(recipient, smtp_server):
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])

    [sent] = deliver([row])

    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    [envelope] = smtp_server.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("programs@example.org", ["ada@example.org"])
    [message] = smtp_server.messages
    assert message["Subject"] == "Willkommen, Zoë ✓"
    assert message["To"] == "ada@example.org"
    assert message["From"] == "Programs <programs@example.org>"
    assert message["X-Notification-ID"] == str(row.pk)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.replace("\r\n", "\n").rstrip("\n") == (
        "Hello Ada,\n\nYour mentor <Sam> is confirmed.\n\nSee the match: https://example.org/m/1\n\n"
        "-- \nPrograms and Events"
    )
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<p>Your mentor &lt;Sam&gt; is confirmed.</p>" in html
    assert '<p><a href="https://example.org/m/1">See the match</a></p>' in html


@pytest.mark.django_db
def test_a_refused_connection_is_retried_with_backoff_then_failed(
    recipient, closed_smtp_port, frozen_clock, pinned_jitter
):
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])
    waits = []
    for attempt in range(1, 5):
        before = frozen_clock()
        [row] = deliver([row])
        assert (row.status, row.attempts, row.claimed_until) == ("queued", attempt, None)
        assert row.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
        waits.append((row.next_attempt_at - before).total_seconds())
        # Not due before its time: asking earlier changes nothing.
        frozen_clock.set(row.next_attempt_at - timedelta(microseconds=1))
        assert deliver([row])[0].attempts == attempt
        frozen_clock.set(row.next_attempt_at)

    [row] = deliver([row])

    assert waits == [30.0, 60.0, 120.0, 240.0]
    assert (row.status, row.attempts, row.next_attempt_at, row.claimed_until) == ("failed", 5, None, None)
    assert row.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == ("failed", 5, None)
    # A failed row is final for delivery.
    frozen_clock.advance(days=1)
    assert deliver([row])[0].attempts == 5


@pytest.mark.django_db
def test_the_bound_and_backoff_come_from_settings(recipient, closed_smtp_port, settings, frozen_clock, pinned_jitter):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 10
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])
    [row] = deliver([row])
    assert (row.status, row.attempts, row.next_attempt_at) == ("queued", 1, frozen_clock() + timedelta(seconds=10))
    frozen_clock.set(row.next_attempt_at)
    [row] = deliver([row])
    assert (row.status, row.attempts) == ("failed", 2)


@pytest.mark.django_db(transaction=True)
def test_the_dispatch_job_counts_retries_and_failures_and_an_operator_retry_sends(
    recipient, operator, closed_smtp_port, settings, frozen_clock, pinned_jitter, mailoutbox
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])
    counts = []
    for _ in range(3):
        counts.append(run_job("notification_dispatch").counts)
        row.refresh_from_db()
        if row.next_attempt_at:
            frozen_clock.set(row.next_attempt_at)
    assert counts == [
        {"sent": 0, "retried": 1, "failed": 0, "suppressed": 0},
        {"sent": 0, "retried": 1, "failed": 0, "suppressed": 0},
        {"sent": 0, "retried": 0, "failed": 1, "suppressed": 0},
    ]
    assert (row.status, row.attempts) == ("failed", 3)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retried = notification_retry(notification=row, actor=operator, reason="SMTP relay fixed")

    assert (retried.status, retried.attempts, retried.next_attempt_at) == ("queued", 0, None)
    entry = AuditEntry.objects.get(action="notification.retried")
    assert (entry.actor_label, entry.reason, entry.changes) == (
        "operator@example.org",
        "SMTP relay fixed",
        {
            "status": ["failed", "queued"],
            "attempts": [3, 0],
            "next_attempt_at": [None, None],
            "claimed_until": [None, None],
        },
    )
    assert run_job("notification_dispatch").counts == {"sent": 1, "retried": 0, "failed": 0, "suppressed": 0}
    assert [m.subject for m in mailoutbox] == ["Willkommen, Zoë ✓"]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (
        "sent",
        1,
        "ConnectionRefusedError: [Errno 111] Connection refused",
    )


@pytest.mark.django_db
def test_only_failed_notifications_can_be_retried(recipient, operator):
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])
    with pytest.raises(IllegalTransition, match="cannot go from 'queued' to 'queued'"):
        notification_retry(notification=row, actor=operator)


@pytest.mark.django_db
def test_a_row_is_delivered_once_however_often_it_is_asked(recipient, mailoutbox):
    rows = notify(user=recipient, kind="account_notice", context=NOTICE)
    for _ in range(3):
        deliver(rows)
    assert len(mailoutbox) == 1
    assert list(Notification.objects.order_by("channel").values_list("status", "attempts")) == [
        ("sent", 1),
        ("sent", 1),
    ]


@pytest.mark.django_db
def test_a_live_lease_keeps_other_workers_off_until_it_expires(recipient, frozen_clock, mailoutbox):
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])
    Notification.objects.filter(pk=row.pk).update(claimed_until=frozen_clock() + timedelta(minutes=5))

    assert deliver([row])[0].status == "queued"
    assert mailoutbox == []

    frozen_clock.advance(minutes=5, microseconds=1)  # the other worker died: its lease ran out
    assert deliver([row])[0].status == "sent"
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_records_nothing(recipient, monkeypatch, frozen_clock):
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])
    taken_over = frozen_clock() + timedelta(hours=1)

    def slow_send(notification):
        # The send outlived the lease and another worker claimed the row meanwhile.
        Notification.objects.filter(pk=notification.pk).update(claimed_until=taken_over)

    monkeypatch.setattr(delivery, "_send_email", slow_send)
    [row] = deliver([row])

    assert (row.status, row.attempts, row.sent_at, row.claimed_until) == ("queued", 0, None, taken_over)


@pytest.mark.django_db
def test_users_deactivated_before_delivery_are_suppressed(recipient, mailoutbox):
    rows = notify(user=recipient, kind="account_notice", context=NOTICE)
    user_update(user=recipient, data={"is_active": False})

    assert [(n.status, n.suppressed_reason) for n in deliver(rows)] == [
        ("suppressed", "inactive_user"),
        ("suppressed", "inactive_user"),
    ]
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_celery_task_takes_an_id_and_ignores_a_deleted_row(recipient, mailoutbox):
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])
    assert deliver_task(str(uuid.uuid4())) is None
    deliver_task(str(row.pk))
    row.refresh_from_db()
    assert (row.status, [m.subject for m in mailoutbox]) == ("sent", ["Willkommen, Zoë ✓"])
    with pytest.raises(Notification.DoesNotExist):
        notification_deliver(notification_id=uuid.uuid4())

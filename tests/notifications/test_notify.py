"""`notify`: rendered rows per channel, dedupe, preferences, rate limits and the hand-over to
delivery after commit."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.services import user_update
from config import celery_app
from core.errors import ValidationFailed
from notifications.models import Notification, NotificationPreference, RateLimitPolicy
from notifications.services import notification_preferences_update, notify, rate_limit_policy_save
from tests.notifications.conftest import deliver

pytestmark = pytest.mark.django_db

NOTICE = {"title": "Decision: accepted", "message": "You are in."}


def _state(rows) -> list[tuple]:
    return [(n.channel, n.status, n.suppressed_reason) for n in rows]


# --- recording --------------------------------------------------------------------------------


def test_notify_records_one_rendered_row_per_channel_and_delivers_only_when_asked(recipient, mailoutbox):
    rows = notify(
        user=recipient,
        kind="account_notice",
        context={"title": "Welcome, Ada", "message": "Your account is ready.", "action_url": "https://x.test/"},
        related=[recipient, {"type": "programs.program", "id": 42}],
    )

    assert _state(rows) == [("email", "queued", ""), ("dashboard", "queued", "")]
    email, dashboard = rows
    assert {
        "user": email.user_id,
        "kind": email.kind,
        "kind_group": email.kind_group,
        "template_name": email.template_name,
        "subject": email.subject,
        "body_text": email.body_text,
        "dashboard_text": email.dashboard_text,
        "context": email.context,
        "related": email.related,
        "dedupe_key": email.dedupe_key,
        "attempts": email.attempts,
        "scheduled_for": email.scheduled_for,
        "sent_at": email.sent_at,
    } == {
        "user": recipient.pk,
        "kind": "account_notice",
        "kind_group": "transactional",
        "template_name": "notifications/account_notice/",
        "subject": "Welcome, Ada",
        "body_text": "Hello Ada,\n\nYour account is ready.\n\nOpen: https://x.test/\n\n-- \nPrograms and Events",
        "dashboard_text": "",
        "context": {"title": "Welcome, Ada", "message": "Your account is ready.", "action_url": "https://x.test/"},
        "related": [{"type": "accounts.user", "id": str(recipient.pk)}, {"type": "programs.program", "id": "42"}],
        "dedupe_key": None,
        "attempts": 0,
        "scheduled_for": None,
        "sent_at": None,
    }
    assert '<p><a href="https://x.test/">Open</a></p>' in email.body_html
    assert (dashboard.subject, dashboard.body_text, dashboard.body_html, dashboard.dashboard_text) == (
        "Welcome, Ada",
        "",
        "",
        "Your account is ready.",
    )
    assert mailoutbox == []

    email, dashboard = deliver(rows)

    assert (email.status, email.attempts, dashboard.status, dashboard.attempts) == ("sent", 1, "sent", 1)
    assert email.sent_at is not None and dashboard.sent_at is not None
    [message] = mailoutbox
    assert (message.subject, message.to, message.from_email) == (
        "Welcome, Ada",
        ["ada@example.org"],
        "Programs <programs@localhost>",
    )
    assert message.body == email.body_text
    assert message.alternatives[0][1] == "text/html"
    assert message.alternatives[0][0] == email.body_html
    assert (message.extra_headers["X-Notification-ID"], message.extra_headers["Auto-Submitted"]) == (
        str(email.pk),
        "auto-generated",
    )


def test_context_is_stored_as_json(recipient):
    [row] = notify(
        user=recipient,
        kind="account_notice",
        channels=["dashboard"],
        context={
            "title": "t",
            "message": "m",
            "at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
            "fee": Decimal("12.50"),
            "who": recipient,
            "tags": ("a", "b"),
        },
    )
    row.refresh_from_db()
    assert row.context == {
        "title": "t",
        "message": "m",
        "at": "2026-03-01T09:30:00Z",
        "fee": "12.50",
        "who": {"type": "accounts.user", "id": str(recipient.pk)},
        "tags": ["a", "b"],
    }


def test_channels_can_be_chosen_and_unknown_ones_are_programming_errors(recipient):
    assert _state(notify(user=recipient, kind="account_notice", context=NOTICE, channels=["dashboard"])) == [
        ("dashboard", "queued", "")
    ]
    with pytest.raises(ValueError, match="'sms' is not a valid Channel"):
        notify(user=recipient, kind="account_notice", context=NOTICE, channels=["sms"])
    with pytest.raises(ValueError, match="asked for none"):
        notify(user=recipient, kind="account_notice", context=NOTICE, channels=[])
    with pytest.raises(LookupError, match="No notification kind 'nope'"):
        notify(user=recipient, kind="nope", context=NOTICE)
    with pytest.raises(ValueError, match="A related object is a model instance"):
        notify(user=recipient, kind="account_notice", context=NOTICE, related=["programs.program:1"])
    assert Notification.objects.count() == 1


# --- dedupe -----------------------------------------------------------------------------------


def test_the_same_dedupe_key_twice_gives_one_row_per_channel_and_one_delivery(recipient, mailoutbox):
    first = notify(user=recipient, kind="account_notice", context=NOTICE, dedupe_key="decision:42")
    second = notify(
        user=recipient, kind="account_notice", context={"title": "Other", "message": "x"}, dedupe_key="decision:42"
    )

    assert [n.pk for n in second] == [n.pk for n in first]
    assert sorted(Notification.objects.values_list("dedupe_key", flat=True)) == [
        "decision:42:dashboard",
        "decision:42:email",
    ]
    deliver(first)
    deliver(second)
    deliver(first)
    assert [m.subject for m in mailoutbox] == ["Decision: accepted"]
    assert list(Notification.objects.order_by("channel").values_list("channel", "status", "attempts")) == [
        ("dashboard", "sent", 1),
        ("email", "sent", 1),
    ]


def test_a_dedupe_key_adds_only_the_missing_channels(recipient):
    [email] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"], dedupe_key="k1")
    rows = notify(user=recipient, kind="account_notice", context=NOTICE, dedupe_key="k1")
    assert rows[0].pk == email.pk
    assert (rows[1].channel, rows[1].dedupe_key) == ("dashboard", "k1:dashboard")
    assert Notification.objects.count() == 2


def test_a_dedupe_key_of_another_user_is_a_programming_error(recipient, make_user):
    notify(user=recipient, kind="account_notice", context=NOTICE, dedupe_key="shared")
    with pytest.raises(ValueError, match="already names a notification to another user"):
        notify(user=make_user(), kind="account_notice", context=NOTICE, dedupe_key="shared")


def test_the_database_refuses_a_second_row_with_one_dedupe_key(recipient):
    [row] = notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"], dedupe_key="db")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            user=recipient,
            channel="email",
            kind="account_notice",
            kind_group="transactional",
            dedupe_key=row.dedupe_key,
        )


# --- rate limits ------------------------------------------------------------------------------


def test_the_seeded_policies_allow_one_nudge_per_channel_per_24_hours():
    assert sorted(RateLimitPolicy.objects.values_list("group", "channel", "max_count", "window_hours")) == [
        ("nudge", "dashboard", 1, 24),
        ("nudge", "email", 1, 24),
    ]


def test_a_second_nudge_within_24_hours_is_suppressed_and_allowed_again_after(recipient, nudge_kind, frozen_clock):
    context = {"name": "Fee waiver", "count": 2}
    first = notify(user=recipient, kind=nudge_kind.key, context=context)
    assert _state(first) == [("email", "queued", ""), ("dashboard", "queued", "")]
    assert (first[0].subject, first[0].body_text, first[1].dashboard_text) == (
        "2 deadlines for Ada",
        "Hi Ada, Fee waiver closes soon.",
        "Fee waiver closes soon",
    )
    # The window is rolling: from 24 hours after each row, its channel is free again.
    frozen_clock.set(min(n.created_at for n in first) + timedelta(hours=24) - timedelta(microseconds=1))
    second = notify(user=recipient, kind=nudge_kind.key, context=context)
    assert _state(second) == [("email", "suppressed", "rate_limited"), ("dashboard", "suppressed", "rate_limited")]
    # Rendered all the same: the log shows what was held back.
    assert second[0].subject == "2 deadlines for Ada"

    frozen_clock.set(max(n.created_at for n in first) + timedelta(hours=24))
    third = notify(user=recipient, kind=nudge_kind.key, context=context)
    assert _state(third) == [("email", "queued", ""), ("dashboard", "queued", "")]


def test_the_limit_counts_per_channel_and_per_user(recipient, make_user, nudge_kind):
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={}, channels=["email"])) == [
        ("email", "queued", "")
    ]
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={}, channels=["dashboard"])) == [
        ("dashboard", "queued", "")
    ]
    assert _state(notify(user=make_user(), kind=nudge_kind.key, context={}, channels=["email"])) == [
        ("email", "queued", "")
    ]
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={}, channels=["email"])) == [
        ("email", "suppressed", "rate_limited")
    ]


def test_suppressed_nudges_do_not_use_up_the_limit(recipient, nudge_kind):
    notification_preferences_update(
        user=recipient,
        opted_out_kinds=[nudge_kind.key],
        quiet_hours_start=None,
        quiet_hours_end=None,
        email_enabled=True,
    )
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={}, channels=["email"])) == [
        ("email", "suppressed", "opted_out")
    ]
    notification_preferences_update(
        user=recipient, opted_out_kinds=[], quiet_hours_start=None, quiet_hours_end=None, email_enabled=True
    )
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={}, channels=["email"])) == [
        ("email", "queued", "")
    ]


def test_sent_and_failed_rows_count_as_the_status_rule_says(recipient, nudge_kind):
    [row] = notify(user=recipient, kind=nudge_kind.key, context={}, channels=["email"])
    Notification.objects.filter(pk=row.pk).update(status="failed")
    # A failed nudge never reached the user: the next one may go.
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={}, channels=["email"])) == [
        ("email", "queued", "")
    ]
    deliver(Notification.objects.filter(status="queued"))
    assert Notification.objects.filter(status="sent").count() == 1
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={}, channels=["email"])) == [
        ("email", "suppressed", "rate_limited")
    ]


def test_transactional_kinds_are_never_rate_limited(recipient):
    for n in range(5):
        rows = notify(user=recipient, kind="account_notice", context={"title": f"Notice {n}", "message": "m"})
        assert _state(rows) == [("email", "queued", ""), ("dashboard", "queued", "")]
    assert Notification.objects.filter(status="queued").count() == 10


def test_a_policy_for_transactional_kinds_is_refused(operator):
    with pytest.raises(ValidationFailed) as caught:
        rate_limit_policy_save(
            policy=RateLimitPolicy(group="transactional", channel="email", max_count=1), actor=operator
        )
    assert caught.value.errors == {"non_field_errors": "Transactional notifications are never rate limited."}
    with pytest.raises(IntegrityError), transaction.atomic():
        RateLimitPolicy.objects.create(group="transactional", channel="email", max_count=1)


def test_a_group_without_a_policy_is_unlimited_and_a_new_policy_applies_at_once(recipient, digest_kind, operator):
    for _ in range(3):
        assert _state(notify(user=recipient, kind=digest_kind.key, context={}, channels=["email"])) == [
            ("email", "queued", "")
        ]
    rate_limit_policy_save(
        policy=RateLimitPolicy(group="digest", channel="email", max_count=3, window_hours=168), actor=operator
    )
    assert _state(notify(user=recipient, kind=digest_kind.key, context={}, channels=["email"])) == [
        ("email", "suppressed", "rate_limited")
    ]
    assert _state(notify(user=recipient, kind=digest_kind.key, context={}, channels=["dashboard"])) == [
        ("dashboard", "queued", "")
    ]


# --- preferences ------------------------------------------------------------------------------


def test_opted_out_non_essential_kinds_are_suppressed_but_essential_ones_arrive(recipient, nudge_kind):
    notification_preferences_update(
        user=recipient,
        opted_out_kinds=[nudge_kind.key],
        quiet_hours_start=None,
        quiet_hours_end=None,
        email_enabled=True,
    )
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={})) == [
        ("email", "suppressed", "opted_out"),
        ("dashboard", "suppressed", "opted_out"),
    ]
    assert _state(notify(user=recipient, kind="account_notice", context=NOTICE)) == [
        ("email", "queued", ""),
        ("dashboard", "queued", ""),
    ]


def test_email_turned_off_keeps_essential_mail_and_the_dashboard(recipient, nudge_kind):
    notification_preferences_update(
        user=recipient, opted_out_kinds=[], quiet_hours_start=None, quiet_hours_end=None, email_enabled=False
    )
    assert _state(notify(user=recipient, kind=nudge_kind.key, context={})) == [
        ("email", "suppressed", "email_disabled"),
        ("dashboard", "queued", ""),
    ]
    assert _state(notify(user=recipient, kind="account_notice", context=NOTICE, channels=["email"])) == [
        ("email", "queued", "")
    ]


def test_inactive_users_are_recorded_as_suppressed(make_user):
    user = user_update(user=make_user(), data={"is_active": False})
    assert _state(notify(user=user, kind="account_notice", context=NOTICE)) == [
        ("email", "suppressed", "inactive_user"),
        ("dashboard", "suppressed", "inactive_user"),
    ]


def test_notify_creates_the_preference_row_it_locks(recipient):
    assert not NotificationPreference.objects.filter(user=recipient).exists()
    notify(user=recipient, kind="account_notice", context=NOTICE)
    preference = NotificationPreference.objects.get(user=recipient)
    assert (preference.opted_out_kinds, preference.email_enabled, preference.quiet_hours_start) == ([], True, None)


# --- hand-over after commit -------------------------------------------------------------------


def test_queued_rows_are_handed_to_celery_after_commit(
    recipient, nudge_kind, settings, monkeypatch, frozen_clock, django_capture_on_commit_callbacks, mailoutbox
):
    settings.NOTIFICATIONS_DELIVER_ON_COMMIT = True
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    frozen_clock.set(datetime(2026, 3, 28, 22, 30, tzinfo=UTC))
    notification_preferences_update(
        user=recipient, opted_out_kinds=[], quiet_hours_start=time(22), quiet_hours_end=time(7), email_enabled=True
    )

    with django_capture_on_commit_callbacks() as callbacks:
        rows = notify(user=recipient, kind="account_notice", context=NOTICE, dedupe_key="commit")
        again = notify(user=recipient, kind="account_notice", context=NOTICE, dedupe_key="commit")
        [held] = notify(user=recipient, kind=nudge_kind.key, context={"name": "x"}, channels=["email"])
        [limited] = notify(user=recipient, kind=nudge_kind.key, context={"name": "x"}, channels=["email"])

    # One task per queued row that is due now: none for the repeat, the nudge held back by the
    # quiet hours, or the suppressed one.
    assert len(callbacks) == 2
    assert [n.pk for n in again] == [n.pk for n in rows]
    assert (held.status, held.scheduled_for) == ("queued", datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    assert (limited.status, limited.suppressed_reason) == ("suppressed", "rate_limited")

    for callback in callbacks:
        callback()

    assert [m.subject for m in mailoutbox] == ["Decision: accepted"]
    assert sorted(Notification.objects.values_list("channel", "status")) == [
        ("dashboard", "sent"),
        ("email", "queued"),
        ("email", "sent"),
        ("email", "suppressed"),
    ]


def test_nothing_is_handed_over_when_on_commit_delivery_is_off(recipient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        notify(user=recipient, kind="account_notice", context=NOTICE)
    assert callbacks == []

"""Operators' admin for notifications: the read-only log with its filters and retry action, rate
limits as audited data, and preferences saved through the service."""

from __future__ import annotations

from datetime import time

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from core.models import AuditEntry
from notifications.models import Notification, NotificationPreference, RateLimitPolicy
from notifications.services import notify

pytestmark = pytest.mark.django_db


def url(model, view: str, *args) -> str:
    return reverse(f"admin:notifications_{model._meta.model_name}_{view}", args=args)


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def failed_email(recipient):
    [row] = notify(user=recipient, kind="account_notice", context={"title": "t", "message": "m"}, channels=["email"])
    Notification.objects.filter(pk=row.pk).update(
        status="failed", attempts=5, last_error="SMTPServerDisconnected: Connection unexpectedly closed"
    )
    row.refresh_from_db()
    return row


def test_the_log_lists_filters_and_searches(admin_client, failed_email, make_user):
    notify(user=make_user(email="bob@example.org"), kind="account_notice", context={"title": "x", "message": "m"})
    changelist = url(Notification, "changelist")

    assert admin_client.get(changelist).context["cl"].result_count == 3
    dashboard = list(Notification.objects.filter(channel="dashboard").values_list("pk", flat=True))
    bobs = list(Notification.objects.filter(user__email="bob@example.org").values_list("pk", flat=True))
    for query, expected in (
        ({"status__exact": "failed"}, [failed_email.pk]),
        ({"q": "ada@example.org"}, [failed_email.pk]),
        ({"channel__exact": "dashboard"}, dashboard),
        ({"kind_group__exact": "transactional", "kind__exact": "account_notice", "q": "bob@"}, bobs),
    ):
        response = admin_client.get(changelist, query)
        assert response.status_code == 200
        assert sorted(o.pk for o in response.context["cl"].result_list) == sorted(expected), query


def test_the_change_page_is_read_only_and_shows_the_error(admin_client, failed_email):
    response = admin_client.get(url(Notification, "change", failed_email.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in html
    assert 'name="_save"' not in html
    assert admin_client.get(url(Notification, "add")).status_code == 403
    assert admin_client.get(url(Notification, "delete", failed_email.pk)).status_code == 403


def test_retry_failed_requeues_through_the_service_and_skips_others(admin_client, failed_email, recipient):
    [queued] = notify(user=recipient, kind="account_notice", context={"title": "q", "message": "m"}, channels=["email"])

    response = admin_client.post(
        url(Notification, "changelist"),
        {"action": "retry_failed", "_selected_action": [str(failed_email.pk), str(queued.pk)], "reason": "relay back"},
        follow=True,
    )

    assert message_texts(response) == [
        "Re-queued 1 failed notification(s); they are being sent again.",
        "Skipped 1 notification(s) that had not failed.",
    ]
    failed_email.refresh_from_db()
    assert (failed_email.status, failed_email.attempts, failed_email.last_error) == (
        "queued",
        0,
        "SMTPServerDisconnected: Connection unexpectedly closed",
    )
    entry = AuditEntry.objects.get(action="notification.retried")
    assert (entry.target_id, entry.actor_label, entry.reason) == (
        str(failed_email.pk),
        "admin@example.com",
        "relay back",
    )


def test_operators_with_view_only_cannot_retry(client, make_user, failed_email):
    viewer = make_user(email="viewer@example.org", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_notification"))
    client.force_login(viewer)
    response = client.get(url(Notification, "changelist"))
    assert response.status_code == 200
    assert b"retry_failed" not in response.content


def test_rate_limits_are_edited_through_the_service_and_audited(admin_client):
    policy = RateLimitPolicy.objects.get(group="nudge", channel="email")

    response = admin_client.post(
        url(RateLimitPolicy, "change", policy.pk),
        {"group": "nudge", "channel": "email", "max_count": "2", "window_hours": "48"},
        follow=True,
    )

    assert response.status_code == 200
    policy.refresh_from_db()
    assert (policy.max_count, policy.window_hours) == (2, 48)
    entry = AuditEntry.objects.get(action="rate_limit_policy.updated")
    assert (entry.actor_label, entry.changes) == ("admin@example.com", {"max_count": [1, 2], "window_hours": [24, 48]})


def test_a_transactional_rate_limit_is_refused_in_the_form(admin_client):
    response = admin_client.post(
        url(RateLimitPolicy, "add"),
        {"group": "transactional", "channel": "email", "max_count": "1", "window_hours": "24"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Transactional notifications are never rate limited."
    ]
    assert not RateLimitPolicy.objects.filter(group="transactional").exists()


def test_deleting_a_rate_limit_is_audited(admin_client):
    policy = RateLimitPolicy.objects.get(group="nudge", channel="dashboard")
    admin_client.post(url(RateLimitPolicy, "delete", policy.pk), {"post": "yes"})
    assert not RateLimitPolicy.objects.filter(pk=policy.pk).exists()
    assert AuditEntry.objects.get(action="rate_limit_policy.deleted").changes == {
        "max_count": [1, None],
        "window_hours": [24, None],
    }


def test_preferences_are_saved_through_the_service(admin_client, recipient, nudge_kind):
    response = admin_client.post(
        url(NotificationPreference, "add"),
        {
            "user": str(recipient.pk),
            "opted_out_kinds": [nudge_kind.key],
            "quiet_hours_start": "21:30",
            "quiet_hours_end": "06:00",
            "email_enabled": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    preference = NotificationPreference.objects.get(user=recipient)
    assert (preference.opted_out_kinds, preference.quiet_hours_start, preference.quiet_hours_end) == (
        ["test_deadline_nudge"],
        time(21, 30),
        time(6, 0),
    )
    entry = AuditEntry.objects.get(action="notification_preferences.updated")
    assert entry.actor_label == "admin@example.com"

    page = admin_client.get(url(NotificationPreference, "change", preference.pk))
    assert page.status_code == 200
    assert b'value="account_notice"' not in page.content  # essential kinds are not offered

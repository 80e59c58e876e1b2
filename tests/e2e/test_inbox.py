"""The dashboard inbox in a real browser: the unread badge, mark one read, mark all read."""

import pytest
from playwright.sync_api import expect

from enrollments.services import enrollment_create
from notifications.models import Notification
from notifications.services import notification_deliver, notify
from tests.e2e.conftest import browser_page, sign_in

PASSWORD = "a-long-passw0rd!"

pytestmark = pytest.mark.e2e


def test_the_inbox_badge_follows_what_is_read(site, make_user, program):
    user = make_user(email="mentee@example.org", password=PASSWORD, full_name="Mina Mentee")
    enrollment_create(user=user, program=program, role="mentee")
    notify(
        user=user,
        kind="account_notice",
        context={"title": "Welcome", "message": "Your profile is ready."},
        channels=["dashboard"],
        dedupe_key="welcome:mentee",
    )
    for row in Notification.objects.filter(user=user, channel="dashboard"):
        notification_deliver(notification_id=row.id)

    with browser_page() as page:
        sign_in(page, site, "mentee@example.org", PASSWORD)
        expect(page.get_by_test_id("unread-count")).to_have_text("2 unread")
        page.get_by_test_id("nav-notifications").click()
        expect(page.get_by_test_id("inbox-summary")).to_have_text("2 notifications, 2 unread")
        expect(page.get_by_test_id("notification")).to_have_count(2)
        expect(page.get_by_test_id("notification").filter(has_text="Your profile is ready.")).to_have_count(1)
        enrolled = page.get_by_test_id("notification").filter(has_text="You are enrolled in Mentorship 2026")
        enrolled.get_by_role("button", name="Mark as read").click()
        expect(page.get_by_test_id("unread-count")).to_have_text("1 unread")
        page.get_by_role("button", name="Mark all as read").click()
        expect(page.get_by_test_id("inbox-summary")).to_have_text("2 notifications, 0 unread")
        expect(page.get_by_test_id("unread-count")).to_have_count(0)

    assert Notification.objects.filter(user=user, channel="dashboard", read_at__isnull=True).count() == 0
    assert Notification.objects.filter(user=user, channel="dashboard", read_at__isnull=False).count() == 2

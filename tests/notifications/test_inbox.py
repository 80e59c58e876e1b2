"""The dashboard inbox page, its read marks, and the unread badge in the site header."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory

from notifications.context_processors import unread_notifications
from notifications.models import Notification
from notifications.services import notify
from tests.notifications.conftest import deliver

pytestmark = pytest.mark.django_db


def inbox_of(user, *titles: str) -> list[Notification]:
    """Delivered dashboard notifications, oldest first (the inbox shows them newest first)."""
    rows = []
    for title in titles:
        [row] = notify(
            user=user,
            kind="account_notice",
            context={"title": title, "message": f"About {title}"},
            channels=["dashboard"],
        )
        rows.extend(deliver([row]))
    return rows


def header_badge(html: str) -> str | None:
    match = re.search(r'<span class="count-badge" data-testid="unread-count">(.*?)</span></span>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))) if match else None


def listed(html: str) -> list[tuple[bool, str]]:
    """(unread, subject) of each notification on the page, in order."""
    items = re.findall(
        r'<li class="card notification( unread)?" data-testid="notification">\s*<h2>(.*?)</h2>', html, re.S
    )
    return [(bool(unread), " ".join(unescape(re.sub(r"<[^>]+>", " ", h2)).split())) for unread, h2 in items]


@pytest.fixture
def signed_in(client, recipient):
    client.force_login(recipient)
    return client


def test_the_inbox_needs_a_signed_in_user(client):
    response = client.get("/notifications/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/notifications/")


def test_the_inbox_lists_the_users_delivered_dashboard_notifications_newest_first(signed_in, recipient, make_user):
    first, second, third = inbox_of(recipient, "First", "Second & more", "Third")
    Notification.objects.filter(pk=first.pk).update(read_at=first.sent_at)
    inbox_of(make_user(), "Someone else's")
    notify(
        user=recipient, kind="account_notice", context={"title": "Queued only", "message": "m"}, channels=["dashboard"]
    )
    deliver(
        notify(
            user=recipient, kind="account_notice", context={"title": "By e-mail", "message": "m"}, channels=["email"]
        )
    )

    html = signed_in.get("/notifications/").content.decode()

    assert listed(html) == [(True, "Unread Third"), (True, "Unread Second & more"), (False, "First")]
    assert "<p>About Second &amp; more</p>" in html
    assert '<p class="lead" data-testid="inbox-summary">3 notifications, 2 unread</p>' in html
    assert header_badge(html) == "2 unread"
    assert 'aria-current="page">Notifications' in html
    assert html.count('action="/notifications/read-all"') == 1


def test_no_badge_and_no_mark_all_without_unread_notifications(signed_in, recipient):
    html = signed_in.get("/notifications/").content.decode()
    assert header_badge(html) is None
    assert "No notifications yet." in html
    assert 'action="/notifications/read-all"' not in html
    assert '<p class="lead" data-testid="inbox-summary">0 notifications, 0 unread</p>' in html


def test_every_page_shows_the_badge_to_its_user_only(client, signed_in, recipient, make_user):
    inbox_of(recipient, "One", "Two", "Three")
    assert header_badge(signed_in.get("/").content.decode()) == "3 unread"
    other = Client()
    other.force_login(make_user())
    assert header_badge(other.get("/").content.decode()) is None
    assert header_badge(Client().get("/").content.decode()) is None


def test_marking_one_read_goes_back_to_the_page_it_was_on(signed_in, recipient, frozen_clock):
    first, second = inbox_of(recipient, "First", "Second")

    response = signed_in.post(f"/notifications/{first.pk}/read", {"next": "/notifications/?page=1"})

    assert (response.status_code, response["Location"]) == (302, "/notifications/?page=1")
    first.refresh_from_db()
    assert first.read_at == frozen_clock()
    html = signed_in.get("/notifications/").content.decode()
    assert listed(html) == [(True, "Unread Second"), (False, "First")]
    assert header_badge(html) == "1 unread"
    # Marking it again keeps the first read time.
    frozen_clock.advance(hours=1)
    signed_in.post(f"/notifications/{first.pk}/read")
    first.refresh_from_db()
    assert first.read_at == frozen_clock() - timedelta(hours=1)


def test_an_outside_next_url_is_ignored(signed_in, recipient):
    [row] = inbox_of(recipient, "One")
    response = signed_in.post(f"/notifications/{row.pk}/read", {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"


def test_another_users_notification_is_not_found(signed_in, make_user):
    [theirs] = inbox_of(make_user(), "Theirs")
    response = signed_in.post(f"/notifications/{theirs.pk}/read")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(signed_in, recipient, make_user):
    inbox_of(recipient, "One", "Two")
    [theirs] = inbox_of(make_user(), "Theirs")

    response = signed_in.post("/notifications/read-all", {"next": "/notifications/"}, follow=True)

    assert response.redirect_chain == [("/notifications/", 302)]
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Marked 2 notifications as read."]
    html = response.content.decode()
    assert listed(html) == [(False, "Two"), (False, "One")]
    assert header_badge(html) is None
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_marks_need_post_and_a_csrf_token(recipient):
    [row] = inbox_of(recipient, "One")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(recipient)

    assert browser.get(f"/notifications/{row.pk}/read").status_code == 405
    assert browser.post(f"/notifications/{row.pk}/read").status_code == 403
    assert browser.post("/notifications/read-all").status_code == 403

    page = browser.get("/notifications/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert browser.post(f"/notifications/{row.pk}/read", {"csrfmiddlewaretoken": token}).status_code == 302
    row.refresh_from_db()
    assert row.read_at is not None


def test_the_inbox_is_paginated(signed_in, recipient):
    inbox_of(recipient, *[f"N{n:02}" for n in range(25)])
    first = listed(signed_in.get("/notifications/").content.decode())
    second = signed_in.get("/notifications/?page=2").content.decode()
    assert [subject for _, subject in first] == [f"Unread N{n:02}" for n in range(24, 4, -1)]
    assert [subject for _, subject in listed(second)] == [f"Unread N{n:02}" for n in range(4, -1, -1)]
    assert "Page 2 of 2" in second


def test_the_context_processor_costs_one_query_only_when_used(recipient, django_assert_num_queries):
    inbox_of(recipient, "One", "Two")
    request = RequestFactory().get("/")
    request.user = recipient

    with django_assert_num_queries(0):
        context = unread_notifications(request)
    with django_assert_num_queries(1):
        assert (str(context["notifications_unread_count"]), bool(context["notifications_unread_count"])) == ("2", True)

    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread_notifications(request) == {}

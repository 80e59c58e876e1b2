"""The "My sessions" page: times in the viewer's zone, the join link's window, self check-in,
registering (or queueing) for open events and cancelling, host confirmations, the calendar
address; forms post with CSRF and bad input never answers 500."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scheduling.models import Attendance, CalendarFeed, HostConfirmation, Registration
from scheduling.services import registration_cancel, registration_create, session_cancel, session_create
from tests.scheduling.conftest import FROZEN

pytestmark = pytest.mark.django_db

SITE = "https://programs.example.org"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join("".join(parts).split())

    def all(self, testid: str | None = None, tag: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if (testid is None or child.attrs.get("data-testid") == testid) and (tag is None or child.tag == tag):
                    found.append(child)
                found.extend(child.all(testid, tag))
        return found

    def one(self, testid: str) -> Node:
        [node] = self.all(testid)
        return node


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("root", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def page(response) -> Node:
    assert response.status_code == 200, response.status_code
    parser = _Parser()
    parser.feed(response.content.decode())
    return parser.root


def messages_of(root: Node) -> list[str]:
    return [li.text() for li in root.all(tag="li") if "message" in li.attrs.get("class", "").split()]


def titles(root: Node, testid: str) -> list[str]:
    return [card.all(tag="h3")[0].text() for card in root.all(testid)]


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.org", timezone="UTC")


@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    return client


def _session(program, title="Live read", *, start=datetime(2026, 3, 10, 10, 0, tzinfo=UTC), hours=1, **fields):
    fields.setdefault("kind", "live_event")
    fields.setdefault("timezone", "UTC")
    return session_create(
        program=program, title=title, starts_at=start, ends_at=start + timedelta(hours=hours), **fields
    )


def test_the_page_needs_a_signed_in_user(client):
    response = client.get("/sessions/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/sessions/")


def test_the_nav_links_to_the_page(signed_in):
    root = page(signed_in.get("/sessions/"))
    link = root.one("nav-sessions")
    assert (link.attrs["href"], link.attrs["aria-current"], link.text()) == ("/sessions/", "page", "My sessions")


# --- Times in the viewer's zone -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "when", "note"),
    [
        ("America/New_York", "Tue 10 Mar 2026, 12:00–13:00 EDT", "(18:00 in Europe/Kyiv)"),
        ("Asia/Tokyo", "Wed 11 Mar 2026, 01:00–02:00 JST", "(18:00 in Europe/Kyiv)"),
        ("Europe/Kyiv", "Tue 10 Mar 2026, 18:00–19:00 EET", None),
        ("Europe/Kiev", "Tue 10 Mar 2026, 18:00–19:00 EET", None),  # the old name: the same clock
    ],
)
def test_times_show_in_the_viewers_zone(client, program, make_user, frozen, zone, when, note):
    viewer = make_user(timezone=zone)
    # 18:00 in Kyiv (UTC+2) is 16:00 UTC.
    session = _session(program, start=datetime(2026, 3, 10, 16, 0, tzinfo=UTC), timezone="Europe/Kyiv")
    registration_create(session=session, user=viewer)
    client.force_login(viewer)

    root = page(client.get("/sessions/"))

    [card] = root.all("upcoming-session")
    assert card.one("when").text() == when
    assert [n.text() for n in card.all("session-zone")] == ([note] if note else [])
    assert root.one("viewer-tz").text() == zone


def test_a_session_over_midnight_shows_both_dates(client, program, make_user, frozen):
    viewer = make_user(timezone="Asia/Tokyo")
    session = _session(program, start=datetime(2026, 3, 10, 14, 30, tzinfo=UTC))  # 23:30 in Tokyo
    registration_create(session=session, user=viewer)
    client.force_login(viewer)

    [card] = page(client.get("/sessions/")).all("upcoming-session")

    assert card.one("when").text() == "Tue 10 Mar 2026, 23:30–Wed 11 Mar, 00:30 JST"


# --- The join link and check-in -----------------------------------------------------------------


def test_the_join_link_opens_fifteen_minutes_before_the_start_until_the_end(signed_in, program, ada, frozen):
    session = _session(program)
    registration_create(session=session, user=ada)

    frozen(datetime(2026, 3, 10, 9, 44, tzinfo=UTC))
    [card] = page(signed_in.get("/sessions/")).all("upcoming-session")
    assert card.one("join-disabled").text() == "Join link opens Tue 10 Mar, 09:45 UTC"
    assert card.all("join-link") == []
    assert "check in" not in card.text()

    for minute in (datetime(2026, 3, 10, 9, 45, tzinfo=UTC), datetime(2026, 3, 10, 10, 59, tzinfo=UTC)):
        frozen(minute)
        [card] = page(signed_in.get("/sessions/")).all("upcoming-session")
        link = card.one("join-link")
        assert (link.attrs["href"], link.text()) == (session.join_url, "Join the session")
        assert card.all("join-disabled") == []
        assert "I am here: check in" in card.text()

    frozen(datetime(2026, 3, 10, 11, 0, tzinfo=UTC))
    root = page(signed_in.get("/sessions/"))
    assert root.all("upcoming-session") == []
    assert titles(root, "past-session") == ["Live read · Mentorship 2026"]
    assert root.all("join-link") == []


def test_hosts_get_the_link_and_the_waiting_list_does_not(client, program, make_user, frozen):
    host, first, second = make_user(), make_user(), make_user()
    session = _session(program, capacity=1, host=host)
    registration_create(session=session, user=first)
    registration_create(session=session, user=second)
    frozen(datetime(2026, 3, 10, 9, 50, tzinfo=UTC))

    client.force_login(host)
    [card] = page(client.get("/sessions/")).all("upcoming-session")
    assert card.one("role").text() == "You host"
    assert card.one("join-link").text() == "Start the session"
    assert card.one("join-link").attrs["href"] == (session.host_url or session.join_url)
    assert "check in" not in card.text()

    client.force_login(second)
    [card] = page(client.get("/sessions/")).all("upcoming-session")
    assert card.one("role").text() == "Waiting list"
    assert card.one("waitlist-position").text() == "You are number 1 on the waiting list."
    assert (card.all("join-link"), card.all("join-disabled")) == ([], [])


def test_self_check_in_during_the_window(signed_in, program, ada, make_user, frozen):
    session = _session(program)
    registration_create(session=session, user=ada)

    frozen(datetime(2026, 3, 10, 9, 40, tzinfo=UTC))
    early = page(signed_in.post(f"/sessions/{session.pk}/check-in", follow=True))
    assert messages_of(early) == ["Check-in opens at 2026-03-10T09:45:00+00:00, 15 minutes before the start."]
    assert Attendance.objects.filter(session=session).count() == 0

    frozen(datetime(2026, 3, 10, 9, 50, tzinfo=UTC))
    root = page(signed_in.post(f"/sessions/{session.pk}/check-in", follow=True))
    assert messages_of(root) == ["You are checked in to Live read."]
    attendance = Attendance.objects.get(session=session, user=ada)
    assert (attendance.status, attendance.source, attendance.checked_in_at) == (
        "present",
        "self_check_in",
        datetime(2026, 3, 10, 9, 50, tzinfo=UTC),
    )
    [card] = root.all("upcoming-session")
    assert card.one("checked-in").text() == "Attendance recorded."
    assert "I am here: check in" not in card.text()

    frozen(datetime(2026, 3, 10, 11, 30, tzinfo=UTC))
    [past] = page(signed_in.get("/sessions/")).all("past-session")
    assert past.one("attendance").text() == "Attendance: Present"

    client = Client()
    client.force_login(make_user())
    frozen(datetime(2026, 3, 10, 9, 50, tzinfo=UTC))
    assert client.post(f"/sessions/{session.pk}/check-in").status_code == 404
    assert client.post(f"/sessions/{uuid.uuid4()}/check-in").status_code == 404


# --- Open events: register, queue, cancel -------------------------------------------------------


def test_register_queue_and_cancel(signed_in, program, ada, make_user, frozen):
    event = _session(program, "Pitch clinic", capacity=1)
    registration_create(session=event, user=make_user())

    [card] = page(signed_in.get("/sessions/")).all("open-event")
    assert card.one("places").text() == "Full"
    assert "Join the waiting list" in card.text()

    # "Register" asks for a place only: a full session says so and queues no one.
    refused = page(signed_in.post(f"/sessions/{event.pk}/register", follow=True))
    assert messages_of(refused) == ["The session 'Pitch clinic' is full (1 places)."]
    assert not Registration.objects.filter(session=event, user=ada).exists()

    queued = page(signed_in.post(f"/sessions/{event.pk}/register", {"waitlist": "1"}, follow=True))
    assert messages_of(queued) == ["Pitch clinic is full: you are number 1 on the waiting list."]
    assert Registration.objects.get(session=event, user=ada).status == "waitlisted"
    assert queued.all("open-event") == []
    [card] = queued.all("upcoming-session")
    assert card.one("waitlist-position").text() == "You are number 1 on the waiting list."

    left = page(signed_in.post(f"/sessions/{event.pk}/cancel", follow=True))
    assert messages_of(left) == ["You left the waiting list of Pitch clinic."]
    assert Registration.objects.get(session=event, user=ada).status == "cancelled"
    assert titles(left, "open-event") == ["Pitch clinic · Mentorship 2026"]


def test_register_for_a_place_and_give_it_back(signed_in, program, ada, make_user, frozen):
    event = _session(program, "Live read", capacity=2)
    waiting = [make_user(), make_user()]
    registration_create(session=event, user=waiting[0])

    [card] = page(signed_in.get("/sessions/")).all("open-event")
    assert card.one("places").text() == "1 of 2 places left"

    root = page(signed_in.post(f"/sessions/{event.pk}/register", follow=True))
    assert messages_of(root) == ["You are registered for Live read."]
    [card] = root.all("upcoming-session")
    assert card.one("role").text() == "Registered"
    assert card.one("add-to-calendar").attrs["href"] == f"/sessions/{event.pk}.ics"
    registration_create(session=event, user=waiting[1])
    assert Registration.objects.get(session=event, user=waiting[1]).status == "waitlisted"

    root = page(signed_in.post(f"/sessions/{event.pk}/cancel", follow=True))
    assert messages_of(root) == ["Your place at Live read is cancelled."]
    assert Registration.objects.get(session=event, user=waiting[1]).status == "registered"  # promoted

    again = page(signed_in.post(f"/sessions/{event.pk}/cancel", follow=True))
    assert messages_of(again) == ["You had no place at Live read."]


def test_bad_requests_never_answer_500(signed_in, program, ada, frozen):
    lesson = _session(program, "Private lesson", kind="lesson")
    event = _session(program, "Live read", start=datetime(2026, 3, 11, 10, 0, tzinfo=UTC))

    assert signed_in.post(f"/sessions/{uuid.uuid4()}/register").status_code == 404
    assert signed_in.post(f"/sessions/{lesson.pk}/register").status_code == 404  # invited only
    assert signed_in.post("/sessions/not-a-uuid/register").status_code == 404
    assert signed_in.post(f"/sessions/{event.pk}/cancel").status_code == 404  # no place to cancel
    assert signed_in.get(f"/sessions/{event.pk}/register").status_code == 405
    assert signed_in.post(f"/sessions/confirmations/{uuid.uuid4()}").status_code == 404

    session_cancel(session=event, reason="Room unavailable")
    cancelled = page(signed_in.post(f"/sessions/{event.pk}/register", follow=True))
    assert messages_of(cancelled) == ["The session is cancelled; it takes no registrations."]

    over = _session(program, "Over", start=datetime(2026, 3, 11, 22, 0, tzinfo=UTC))
    frozen(datetime(2026, 3, 11, 23, 30, tzinfo=UTC))
    assert messages_of(page(signed_in.post(f"/sessions/{over.pk}/register", follow=True))) == [
        "The session is over; it takes no registrations."
    ]
    assert Registration.objects.filter(user=ada).count() == 0


def test_forms_need_the_csrf_token(program, ada, frozen):
    event = _session(program)
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)

    assert client.post(f"/sessions/{event.pk}/register").status_code == 403
    assert client.post("/sessions/calendar").status_code == 403
    assert not Registration.objects.filter(user=ada).exists()


def test_open_events_are_upcoming_open_sessions_of_active_programs(
    signed_in, program, ada, make_program, mentorship_template, frozen
):
    paused = make_program(mentorship_template, name="Paused program", status="paused")
    _session(program, "Later", start=datetime(2026, 3, 12, 10, 0, tzinfo=UTC))
    _session(program, "Sooner", start=datetime(2026, 3, 11, 10, 0, tzinfo=UTC))
    _session(program, "No limit", start=datetime(2026, 3, 13, 10, 0, tzinfo=UTC), capacity=None)
    _session(program, "Invitation only", open_registration=False)
    _session(program, "Mine to host", host=ada)
    registration_create(
        session=_session(program, "Already in", start=datetime(2026, 3, 10, 12, 0, tzinfo=UTC)), user=ada
    )
    session_cancel(session=_session(program, "Cancelled"), reason="No room")
    _session(paused, "Paused event")
    frozen(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))

    root = page(signed_in.get("/sessions/"))

    assert titles(root, "open-event") == [
        "Sooner · Mentorship 2026",
        "Later · Mentorship 2026",
        "No limit · Mentorship 2026",
    ]
    assert root.all("open-event")[2].one("places").text() == "Places: no limit"
    assert titles(root, "upcoming-session") == ["Mine to host · Mentorship 2026", "Already in · Mentorship 2026"]


def test_a_recently_cancelled_session_shows_as_cancelled(signed_in, program, ada, frozen):
    session = _session(program)
    registration_create(session=session, user=ada)
    session_cancel(session=session, reason="The speaker is ill")

    [card] = page(signed_in.get("/sessions/")).all("upcoming-session")

    assert card.one("role").text() == "Cancelled"
    assert card.one("cancel-reason").text() == "This session was cancelled: The speaker is ill."
    assert (card.all("join-link"), card.all("join-disabled"), card.all("add-to-calendar")) == ([], [], [])


# --- Host confirmations -------------------------------------------------------------------------


def test_a_host_confirms_or_declines_from_the_page(client, program, make_user, frozen):
    host = make_user(email="host@example.org", timezone="UTC")
    first = _session(program, "Live read", host=host)
    second = _session(program, "Pitch clinic", start=datetime(2026, 3, 11, 10, 0, tzinfo=UTC), host=host)
    client.force_login(host)

    root = page(client.get("/sessions/"))
    cards = root.all("host-confirmation")
    assert [c.all(tag="h3")[0].text() for c in cards] == [
        "Live read · Mentorship 2026",
        "Pitch clinic · Mentorship 2026",
    ]

    pending = HostConfirmation.objects.get(session=first, status="pending")
    bogus = page(client.post(f"/sessions/confirmations/{pending.pk}", {"decision": "maybe"}, follow=True))
    assert messages_of(bogus) == ["Answer confirmed or declined."]
    pending.refresh_from_db()
    assert pending.status == "pending"

    confirmed = page(client.post(f"/sessions/confirmations/{pending.pk}", {"decision": "confirmed"}, follow=True))
    assert messages_of(confirmed) == ["Thank you: you confirmed that you host Live read."]
    pending.refresh_from_db()
    assert (pending.status, pending.decided_at) == ("confirmed", FROZEN)
    assert [c.all(tag="h3")[0].text() for c in confirmed.all("host-confirmation")] == ["Pitch clinic · Mentorship 2026"]

    other = HostConfirmation.objects.get(session=second, status="pending")
    declined = page(
        client.post(
            f"/sessions/confirmations/{other.pk}",
            {"decision": "declined", "reason": "  I travel that week "},
            follow=True,
        )
    )
    assert messages_of(declined) == ["You declined Pitch clinic; the program's operators will find another host."]
    other.refresh_from_db()
    assert (other.status, other.reason) == ("declined", "I travel that week")
    assert declined.all("host-confirmation") == []

    again = page(client.post(f"/sessions/confirmations/{other.pk}", {"decision": "confirmed"}, follow=True))
    assert messages_of(again) == ["This request was already answered: it is declined."]

    stranger = Client()
    stranger.force_login(make_user())
    assert stranger.post(f"/sessions/confirmations/{other.pk}", {"decision": "confirmed"}).status_code == 404


# --- The calendar address -----------------------------------------------------------------------


def test_get_and_stop_the_calendar_address(signed_in, ada, frozen):
    root = page(signed_in.get("/sessions/"))
    assert root.all("calendar-url") == []
    assert "Get my calendar address" in root.text()
    assert CalendarFeed.objects.count() == 0  # viewing the page issues nothing

    issued = page(signed_in.post("/sessions/calendar", follow=True))
    feed = CalendarFeed.objects.get(user=ada, revoked_at__isnull=True)
    url = f"{SITE}/calendar/{feed.token}.ics"
    assert issued.one("calendar-url").attrs["value"] == url
    assert issued.one("subscribe").attrs["href"] == f"webcal://programs.example.org/calendar/{feed.token}.ics"
    assert Client().get(f"/calendar/{feed.token}.ics").status_code == 200

    stopped = page(signed_in.post("/sessions/calendar/revoke", follow=True))
    assert messages_of(stopped) == ["Your calendar address no longer works. Calendars subscribed to it stop updating."]
    assert stopped.all("calendar-url") == []
    assert Client().get(f"/calendar/{feed.token}.ics").status_code == 404


# --- Cost ---------------------------------------------------------------------------------------


def _queries(client) -> tuple[int, Node]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/sessions/")
    return len(ctx.captured_queries), page(response)


def _one_of_each(program, ada, other, frozen, day: int) -> None:
    """Per day: a registered, a waitlisted, a hosted (a confirmation to answer), an open and a
    past session."""
    frozen(FROZEN - timedelta(days=30))
    past = _session(program, f"Past {day}", start=FROZEN - timedelta(days=day + 1))
    registration_create(session=past, user=ada)
    frozen(FROZEN)
    start = datetime(2026, 3, 10, 10, 0, tzinfo=UTC) + timedelta(days=day)
    registration_create(session=_session(program, f"Registered {day}", start=start), user=ada)
    full = _session(program, f"Full {day}", start=start + timedelta(hours=2), capacity=1)
    registration_create(session=full, user=other)
    registration_create(session=full, user=ada)
    _session(program, f"Hosted {day}", start=start + timedelta(hours=4), host=ada)
    _session(program, f"Open {day}", start=start + timedelta(hours=6))


def test_the_page_costs_a_constant_number_of_queries(signed_in, program, ada, make_user, frozen):
    other = make_user()
    _one_of_each(program, ada, other, frozen, 0)
    one, root = _queries(signed_in)
    kinds = ("upcoming-session", "open-event", "past-session", "host-confirmation", "waitlist-position")
    assert [len(root.all(t)) for t in kinds] == [3, 1, 1, 1, 1]

    for day in range(1, 5):
        _one_of_each(program, ada, other, frozen, day)
    many, root = _queries(signed_in)

    assert [len(root.all(t)) for t in kinds] == [15, 5, 5, 5, 5]
    assert many == one


def test_a_past_place_given_up_is_not_listed(signed_in, program, ada, frozen):
    session = _session(program)
    registration_cancel(registration=registration_create(session=session, user=ada))
    frozen(datetime(2026, 3, 11, tzinfo=UTC))

    root = page(signed_in.get("/sessions/"))

    assert (root.all("upcoming-session"), root.all("past-session")) == ([], [])

"""Calendar feeds, parsed back with the `icalendar` library: a person's private feed, a program's
public feed and one session's file; stable UIDs, SEQUENCE, STATUS:CANCELLED, time zone data that
gives the right local time across DST; feed addresses issued and revoked, also under a race."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

import scheduling.services.calendar as calendar_services
from core.models import AuditEntry
from programs.services import program_set_status
from scheduling.models import CalendarFeed, Registration
from scheduling.services import (
    registration_cancel,
    registration_create,
    session_cancel,
    session_create,
    session_series_create,
    session_update,
)
from scheduling.services.calendar import calendar_feed_get_or_create, calendar_feed_revoke
from tests.scheduling.conftest import FROZEN

pytestmark = pytest.mark.django_db

SITE = "https://programs.example.org"
KYIV = ZoneInfo("Europe/Kyiv")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org")


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.org")


def _session(program, title="Live read", *, start, hours=1, zone="Europe/Kyiv", **fields):
    fields.setdefault("kind", "live_event")
    return session_create(
        program=program, title=title, starts_at=start, ends_at=start + timedelta(hours=hours), timezone=zone, **fields
    )


def _parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _events(calendar: Calendar) -> dict[str, object]:
    return {str(event["SUMMARY"]): event for event in calendar.events}


def _feed_path(user) -> str:
    return f"/calendar/{calendar_feed_get_or_create(user).token}.ics"


# --- The private feed ---------------------------------------------------------------------------


def test_the_private_feed_holds_hosted_registered_and_waitlisted_sessions(
    client, program, host, ada, make_user, frozen
):
    start = datetime(2026, 3, 10, 18, 0, tzinfo=KYIV)
    registered = _session(program, "Live read", start=start, description="Bring a scene.", host=host)
    full = _session(program, "Pitch clinic", start=start + timedelta(days=1), capacity=1)
    hosted = _session(program, "Office hours", start=start + timedelta(days=2), zone="America/New_York", host=ada)
    _session(program, "Someone else's", start=start + timedelta(days=3))
    mine = registration_create(session=registered, user=ada)
    registration_create(session=full, user=make_user())
    assert registration_create(session=full, user=ada).status == "waitlisted"

    calendar = _parse(client.get(_feed_path(ada)))

    assert str(calendar["PRODID"]) == "-//Programs and Events//Sessions//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "My sessions"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert sorted(tz.tz_name for tz in calendar.timezones) == ["America/New_York", "Europe/Kyiv"]
    events = _events(calendar)
    assert list(events) == ["Live read", "Pitch clinic (waiting list)", "Office hours"]

    live = events["Live read"]
    assert str(live["UID"]) == f"{registered.pk}@programs.example.org"
    assert live.start == datetime(2026, 3, 10, 18, 0, tzinfo=KYIV)
    assert live["DTSTART"].params["TZID"] == "Europe/Kyiv"
    assert live.end == datetime(2026, 3, 10, 19, 0, tzinfo=KYIV)
    assert live.start.astimezone(UTC) == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
    assert (live["SEQUENCE"], str(live["STATUS"])) == (0, "CONFIRMED")
    assert registered.join_url.startswith("https://")
    assert str(live["URL"]) == registered.join_url
    assert str(live["LOCATION"]) == registered.join_url
    assert str(live["DESCRIPTION"]) == (
        f"Bring a scene.\nProgram: {program.name}\nJoin: {registered.join_url}\nMy sessions: {SITE}/sessions/"
    )
    registered.refresh_from_db()
    assert live["DTSTAMP"].dt == max(registered.updated_at, mine.updated_at).astimezone(UTC).replace(microsecond=0)

    waiting = events["Pitch clinic (waiting list)"]
    # No place yet: no join link, the program page instead.
    assert str(waiting["URL"]) == f"{SITE}/programs/{program.program_key}/"
    assert str(waiting["LOCATION"]) == "Online"
    assert full.join_url not in str(waiting["DESCRIPTION"])
    assert "You are on the waiting list" in str(waiting["DESCRIPTION"])

    office = events["Office hours"]
    assert office["DTSTART"].params["TZID"] == "America/New_York"
    # 18:00 Kyiv (UTC+2) is 16:00 UTC, 12:00 in New York (summer time since 8 March).
    assert office.start == datetime(2026, 3, 12, 12, 0, tzinfo=NEW_YORK)
    assert str(office["URL"]) == hosted.join_url
    assert "You host this session." in str(office["DESCRIPTION"])


def test_the_host_sees_their_sessions(client, program, host, frozen):
    hosted = _session(program, "Office hours", start=datetime(2026, 3, 10, 18, 0, tzinfo=KYIV), host=host)

    calendar = _parse(client.get(_feed_path(host)))

    [event] = calendar.events
    assert (str(event["UID"]), str(event["SUMMARY"])) == (f"{hosted.pk}@programs.example.org", "Office hours")


def test_local_times_and_time_zone_data_are_right_across_dst(client, program, ada, frozen):
    # Europe moves its clocks on 29 March 2026, America on 8 March: a weekly 18:00 stays 18:00 local.
    kyiv = session_series_create(
        program=program,
        kind="cohort_session",
        title="Kyiv weekly",
        timezone="Europe/Kyiv",
        starts_at=datetime(2026, 3, 23, 18, 0, tzinfo=KYIV),
        ends_at=datetime(2026, 3, 23, 19, 0, tzinfo=KYIV),
        recurrence={"count": 2},
    )
    new_york = session_series_create(
        program=program,
        kind="cohort_session",
        title="New York weekly",
        timezone="America/New_York",
        starts_at=datetime(2026, 3, 4, 18, 0, tzinfo=NEW_YORK),
        ends_at=datetime(2026, 3, 4, 19, 0, tzinfo=NEW_YORK),
        recurrence={"count": 2},
    )
    for session in kyiv + new_york:
        registration_create(session=session, user=ada, source="operator")

    calendar = _parse(client.get(_feed_path(ada)))

    events = sorted(calendar.events, key=lambda e: (str(e["SUMMARY"]), e.start))
    assert [(str(e["SUMMARY"]), e["DTSTART"].to_ical().decode(), e["DTSTART"].params["TZID"]) for e in events] == [
        ("Kyiv weekly", "20260323T180000", "Europe/Kyiv"),
        ("Kyiv weekly", "20260330T180000", "Europe/Kyiv"),
        ("New York weekly", "20260304T180000", "America/New_York"),
        ("New York weekly", "20260311T180000", "America/New_York"),
    ]
    # The VTIMEZONE data alone (not the reader's zone database) gives the right UTC instants.
    zones = {tz.tz_name: tz.to_tz(lookup_tzid=False) for tz in calendar.timezones}
    instants = [
        e.start.replace(tzinfo=zones[e["DTSTART"].params["TZID"]]).astimezone(UTC).replace(tzinfo=None) for e in events
    ]
    assert instants == [
        datetime(2026, 3, 23, 16, 0),
        datetime(2026, 3, 30, 15, 0),
        datetime(2026, 3, 4, 23, 0),
        datetime(2026, 3, 11, 22, 0),
    ]
    assert [s.starts_at for s in kyiv + new_york] == [
        datetime(2026, 3, 23, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 11, 22, 0, tzinfo=UTC),
    ]


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence(client, program, ada, frozen):
    session = _session(program, start=datetime(2026, 3, 10, 18, 0, tzinfo=KYIV))
    registration_create(session=session, user=ada)
    path = _feed_path(ada)
    [before] = _parse(client.get(path)).events

    moved = datetime(2026, 4, 7, 18, 30, tzinfo=KYIV)  # after the DST change: UTC+3
    session_update(session=session, data={"starts_at": moved, "ends_at": moved + timedelta(hours=1)})
    session_update(session=session, data={"starts_at": moved, "ends_at": moved + timedelta(hours=2)})
    [after] = _parse(client.get(path)).events

    assert str(after["UID"]) == str(before["UID"]) == f"{session.pk}@programs.example.org"
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (0, 2)
    assert after.start == datetime(2026, 4, 7, 18, 30, tzinfo=KYIV)
    assert after.end == datetime(2026, 4, 7, 20, 30, tzinfo=KYIV)
    assert after.start.astimezone(UTC) == datetime(2026, 4, 7, 15, 30, tzinfo=UTC)


def test_cancelled_sessions_stay_as_cancelled_for_thirty_days(client, program, ada, frozen):
    session = _session(program, start=datetime(2026, 3, 10, 18, 0, tzinfo=KYIV))
    registration_create(session=session, user=ada)
    path = _feed_path(ada)
    session_cancel(session=session, reason="The speaker is ill")

    [event] = _parse(client.get(path)).events
    assert (str(event["UID"]), str(event["STATUS"])) == (f"{session.pk}@programs.example.org", "CANCELLED")
    assert "Cancelled: The speaker is ill" in str(event["DESCRIPTION"])
    assert session.join_url not in str(event["DESCRIPTION"])

    frozen(FROZEN + timedelta(days=29, hours=23))
    assert len(_parse(client.get(path)).events) == 1
    frozen(FROZEN + timedelta(days=30, minutes=1))
    assert _parse(client.get(path)).events == []


def test_a_place_given_up_stays_as_cancelled_for_thirty_days(client, program, ada, frozen):
    session = _session(program, start=datetime(2026, 4, 20, 18, 0, tzinfo=KYIV))
    registration = registration_create(session=session, user=ada)
    path = _feed_path(ada)
    registration_cancel(registration=registration, actor=ada)

    [event] = _parse(client.get(path)).events
    assert (str(event["SUMMARY"]), str(event["STATUS"])) == ("Live read", "CANCELLED")
    assert "You cancelled your place." in str(event["DESCRIPTION"])

    frozen(FROZEN + timedelta(days=31))
    assert _parse(client.get(path)).events == []


def test_the_feed_reaches_ninety_days_back(client, program, ada, frozen):
    early = _session(program, "Early", start=datetime(2026, 3, 3, 10, 0, tzinfo=UTC), zone="UTC")
    later = _session(program, "Later", start=datetime(2026, 3, 5, 10, 0, tzinfo=UTC), zone="UTC")
    for session in (early, later):
        registration_create(session=session, user=ada)
    path = _feed_path(ada)

    frozen(datetime(2026, 6, 2, 10, 0, tzinfo=UTC))  # 91 and 89 days after the starts
    calendar = _parse(client.get(path))

    assert [str(e["SUMMARY"]) for e in calendar.events] == ["Later"]
    assert calendar.timezones == []  # UTC needs no VTIMEZONE
    assert calendar.events[0]["DTSTART"].to_ical().decode() == "20260305T100000Z"


def test_unknown_and_revoked_addresses_answer_404(client, program, ada, frozen):
    path = _feed_path(ada)
    assert client.get(path).status_code == 200
    assert client.head(path).status_code == 200  # calendar apps may check with HEAD
    assert client.post(path).status_code == 405
    assert client.get("/calendar/not-a-token.ics").status_code == 404

    revoked = calendar_feed_revoke(ada)

    assert client.get(path).status_code == 404
    assert revoked.revoked_at == FROZEN
    fresh = calendar_feed_get_or_create(ada)
    assert fresh.pk != revoked.pk and fresh.token != revoked.token
    assert client.get(f"/calendar/{fresh.token}.ics").status_code == 200
    assert calendar_feed_revoke(ada).pk == fresh.pk
    assert calendar_feed_revoke(ada) is None
    actions = list(
        AuditEntry.objects.filter(target_id__in=[str(revoked.pk), str(fresh.pk)])
        .order_by("created_at", "id")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("calendar_feed.issued", ada.pk),
        ("calendar_feed.revoked", ada.pk),
        ("calendar_feed.issued", ada.pk),
        ("calendar_feed.revoked", ada.pk),
    ]


def test_an_inactive_person_has_no_feed(client, ada, frozen):
    path = _feed_path(ada)
    ada.is_active = False
    ada.save(update_fields=["is_active"])

    assert client.get(path).status_code == 404


def test_feed_tokens_are_long_and_unguessable(ada, make_user):
    tokens = {calendar_feed_get_or_create(ada).token, calendar_feed_get_or_create(make_user()).token}
    assert len(tokens) == 2
    assert all(len(token) == 43 for token in tokens)  # 32 random bytes, URL-safe base64
    assert calendar_feed_get_or_create(ada).token in tokens  # the same active address again


def _capture(client, path: str) -> tuple[int, int]:
    """Events in the calendar at `path`, and the queries it cost."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return len(_parse(response).events), len(ctx.captured_queries)


def test_feeds_cost_a_constant_number_of_queries(client, program, ada, frozen):
    feed = _feed_path(ada)
    public = f"/programs/{program.program_key}/calendar.ics"
    start = datetime(2026, 3, 10, 18, 0, tzinfo=KYIV)
    first = _session(program, "Event 0", start=start)
    registration_create(session=first, user=ada)
    signed_in = Client()
    signed_in.force_login(ada)
    one = (_capture(client, feed), _capture(client, public), _capture(signed_in, f"/sessions/{first.pk}.ics"))

    for day in range(1, 6):
        session = _session(program, f"Event {day}", start=start + timedelta(days=day), zone="America/New_York")
        registration_create(session=session, user=ada)
    many = (_capture(client, feed), _capture(client, public), _capture(signed_in, f"/sessions/{first.pk}.ics"))

    # The private feed: the address, then the sessions. The public one: the program, the sessions.
    # One session's file: the signed-in user (session, user), then the session.
    assert [queries for _, queries in one] == [queries for _, queries in many] == [2, 2, 3]
    assert [events for events, _ in one] == [1, 1, 1]
    assert [events for events, _ in many] == [6, 6, 1]


# --- The API -----------------------------------------------------------------------------------


def test_the_api_answers_the_address_and_revokes_it(client_for, client, ada, frozen):
    api = client_for(ada)

    first = api.get("/api/v1/me/calendar")
    again = api.get("/api/v1/me/calendar")

    assert first.status_code == 200
    feed = CalendarFeed.objects.get(user=ada, revoked_at__isnull=True)
    assert first.json() == again.json() == {"url": f"{SITE}/calendar/{feed.token}.ics"}
    path = first.json()["url"].removeprefix(SITE)
    assert client.get(path).status_code == 200

    revoked = api.delete("/api/v1/me/calendar")
    assert (revoked.status_code, revoked.content) == (204, b"")
    assert client.get(path).status_code == 404
    assert api.delete("/api/v1/me/calendar").status_code == 204

    renewed = api.get("/api/v1/me/calendar").json()["url"]
    assert renewed != first.json()["url"]
    assert client.get(renewed.removeprefix(SITE)).status_code == 200
    assert CalendarFeed.objects.filter(user=ada).count() == 2


def test_the_api_needs_a_signed_in_person(anon_api):
    for response in (anon_api.get("/api/v1/me/calendar"), anon_api.delete("/api/v1/me/calendar")):
        assert response.status_code in (401, 403)
        assert response["Content-Type"] == "application/problem+json"
    assert CalendarFeed.objects.count() == 0


# --- The public feed ---------------------------------------------------------------------------


def test_the_public_feed_lists_open_events_without_personal_data(client, program, host, ada, frozen):
    start = datetime(2026, 3, 10, 18, 0, tzinfo=KYIV)
    live = _session(program, "Live read", start=start, host=host, description="Scenes from new plays.")
    cancelled = _session(program, "Pitch clinic", start=start + timedelta(days=1))
    _session(program, "Private lesson", start=start + timedelta(days=2), kind="lesson")
    _session(program, "Invitation only", start=start + timedelta(days=3), open_registration=False)
    registration_create(session=live, user=ada)
    session_cancel(session=cancelled, reason="Room unavailable")

    response = client.get(f"/programs/{program.program_key}/calendar.ics")

    calendar = _parse(response)
    assert response["Cache-Control"] == "public, max-age=900"
    assert str(calendar["X-WR-CALNAME"]) == f"{program.name}: events"
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Kyiv"]
    events = _events(calendar)
    assert list(events) == ["Live read", "Pitch clinic"]
    event = events["Live read"]
    assert str(event["UID"]) == f"{live.pk}@programs.example.org"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["URL"]) == f"{SITE}/programs/{program.program_key}/"
    assert str(event["LOCATION"]) == "Online"
    assert str(event["DESCRIPTION"]) == (f"Scenes from new plays.\nProgram: {program.name}\nRegister: {SITE}/sessions/")
    assert (str(events["Pitch clinic"]["STATUS"]), str(events["Pitch clinic"]["DESCRIPTION"])) == (
        "CANCELLED",
        f"Program: {program.name}\nCancelled: Room unavailable",
    )
    body = response.content.decode()
    for private in (live.join_url, cancelled.join_url, "ada@example.org", "host@example.org"):
        assert private not in body


def test_the_public_feed_of_an_inactive_or_unknown_program_is_404(client, program, frozen):
    _session(program, start=datetime(2026, 3, 10, 18, 0, tzinfo=KYIV))
    assert client.get(f"/programs/{program.program_key}/calendar.ics").status_code == 200

    program_set_status(program=program, status="paused")

    assert client.get(f"/programs/{program.program_key}/calendar.ics").status_code == 404
    assert client.get("/programs/no-such-program/calendar.ics").status_code == 404


# --- One session's file ------------------------------------------------------------------------


def test_one_session_as_a_file_for_its_participants_and_host(client, program, host, ada, make_user, frozen):
    session = _session(program, start=datetime(2026, 3, 10, 18, 0, tzinfo=KYIV), host=host)
    registration_create(session=session, user=ada)
    path = f"/sessions/{session.pk}.ics"

    client.force_login(ada)
    response = client.get(path)
    calendar = _parse(response)
    assert response["Content-Disposition"] == f'attachment; filename="session-{session.pk}.ics"'
    [event] = calendar.events
    assert (str(event["UID"]), str(event["URL"])) == (f"{session.pk}@programs.example.org", session.join_url)
    assert event.start == datetime(2026, 3, 10, 18, 0, tzinfo=KYIV)
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Kyiv"]

    client.force_login(host)
    assert str(_parse(client.get(path)).events[0]["SUMMARY"]) == "Live read"

    client.force_login(make_user())
    assert client.get(path).status_code == 404
    assert client.get(f"/sessions/{host.pk}.ics").status_code == 404

    client.force_login(ada)
    registration_cancel(registration=Registration.objects.get(session=session, user=ada))
    assert client.get(path).status_code == 404

    client.logout()
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next=/sessions/{session.pk}.ics")


# --- Issuing an address under a race ------------------------------------------------------------


def test_a_concurrent_winner_is_returned_to_the_loser(ada, monkeypatch):
    winner = CalendarFeed.objects.create(user=ada, token="winner-token")
    calls = []
    real = calendar_services.active_feed

    def stale_first_read(user):
        calls.append(user.pk)
        return None if len(calls) == 1 else real(user)

    monkeypatch.setattr(calendar_services, "active_feed", stale_first_read)

    feed = calendar_feed_get_or_create(ada)

    assert feed.pk == winner.pk
    assert len(calls) == 2  # read (stale), insert refused by the constraint, read again
    assert CalendarFeed.objects.filter(user=ada).count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_racing_requests_share_one_address(make_user, monkeypatch):
    user = make_user(email="racer@example.org")
    threads_count = 8
    real = calendar_services.active_feed

    def slow_read(u):
        feed = real(u)
        time.sleep(0.05)  # every thread reads "none yet" before any inserts
        return feed

    monkeypatch.setattr(calendar_services, "active_feed", slow_read)
    barrier = threading.Barrier(threads_count)
    tokens, errors = [], []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            token = calendar_feed_get_or_create(user).token
            with lock:
                tokens.append(token)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(tokens) == threads_count
    assert len(set(tokens)) == 1
    assert CalendarFeed.objects.filter(user=user).count() == 1
    assert AuditEntry.objects.filter(action="calendar_feed.issued").count() == 1


def test_the_calendar_years_cover_the_events(client, program, ada, frozen):
    session = _session(program, start=datetime(2026, 3, 10, 18, 0, tzinfo=KYIV))
    registration_create(session=session, user=ada)

    [zone] = _parse(client.get(_feed_path(ada))).timezones

    assert str(zone["COMMENT"]) == f"This timezone only works from {date(2025, 1, 1)} to {date(2028, 1, 1)}."

"""Sessions' meetings kept in step with their provider: jitsi rooms and pasted links settle in the
session's transaction; zoom meetings are synchronised after commit (created, moved, renamed,
deleted), with retries and backoff, the `conferencing_sync` job, and races against a second worker
and against changes made while the provider is being called."""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection

from config.celery import app as celery_app
from core.jobs import job_registry, run_job
from scheduling.conferencing.jitsi import room_url
from scheduling.conferencing.manual import link_error
from scheduling.models import Session
from scheduling.services import session_cancel, session_create, session_update
from scheduling.services.conferencing import meeting_sync, retry_delay
from tests.scheduling.conftest import FROZEN
from tests.scheduling.zoom_server import FakeZoom

START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
JITSI_ROOM = re.compile(r"^https://meet\.jit\.si/programs-([a-z2-7]{32})$")


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def zoom(settings):
    with FakeZoom() as server:
        server.configure(settings)
        yield server


@pytest.fixture
def make_session(program, frozen):
    def _make(provider: str | None = None, *, title: str = "Live read", minutes: int = 60, **fields) -> Session:
        return session_create(
            program=program,
            kind="live_event",
            title=title,
            starts_at=START,
            ends_at=START + timedelta(minutes=minutes),
            timezone="Europe/Kyiv",
            provider=provider,
            **fields,
        )

    return _make


def _fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


def _state(session: Session) -> tuple:
    s = _fresh(session)
    return (s.integration_status, s.integration_attempts, s.integration_retry_at, s.integration_error)


# --- Jitsi ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_gets_a_jitsi_room_by_default(make_session):
    session = _fresh(make_session())
    assert JITSI_ROOM.match(session.join_url)
    assert (session.provider, session.host_url, session.external_meeting_id, session.integration_status) == (
        "jitsi",
        "",
        "",
        "synced",
    )


def test_jitsi_rooms_are_unique_and_unguessable():
    urls = [room_url() for _ in range(2000)]
    tokens = [JITSI_ROOM.match(url).group(1) for url in urls]
    assert len(set(urls)) == 2000
    # 32 base32 characters = 160 random bits, lower case so a case-folding server keeps them all.
    assert {len(token) for token in tokens} == {32}
    counts = Counter("".join(tokens))
    assert set(counts) == set("abcdefghijklmnopqrstuvwxyz234567")
    total = sum(counts.values())
    entropy_per_char = -sum(n / total * math.log2(n / total) for n in counts.values())
    assert entropy_per_char > 4.98  # uniform over 32 symbols is 5 bits
    assert 32 * entropy_per_char > 159


def test_the_jitsi_server_is_configurable(settings):
    settings.JITSI_BASE_URL = "https://video.example.org/rooms/"
    assert re.fullmatch(r"https://video\.example\.org/rooms/programs-[a-z2-7]{32}", room_url())


@pytest.mark.django_db
def test_a_jitsi_room_survives_reschedule_and_cancel(make_session):
    session = make_session("jitsi")
    url = _fresh(session).join_url
    session_update(
        session=session, data={"starts_at": START + timedelta(days=1), "ends_at": START + timedelta(days=1, hours=1)}
    )
    assert _fresh(session).join_url == url
    session_cancel(session=session, reason="Speaker ill")
    assert (_fresh(session).join_url, _fresh(session).integration_status) == (url, "synced")


@pytest.mark.django_db
def test_an_offline_session_has_no_meeting(make_session):
    session = _fresh(make_session(online=False, location="Room 5"))
    assert (session.provider, session.join_url, session.integration_status) == ("none", "", "none")


# --- Manual ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manual_meeting_waits_for_its_link(make_session):
    session = _fresh(make_session("manual"))
    assert (session.provider, session.join_url, session.integration_status) == ("manual", "", "none")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://teams.example.com/l/meetup-join/19%3ameeting?context=x", None),
        ("  https://whereby.com/room-1  ", None),
        ("http://zoom.us/j/123", "The link must start with https://."),
        ("ftp://example.org/room", "The link must start with https://."),
        ("javascript:alert(1)", "The link must start with https://."),
        ("https://", "This is not a valid https link."),
        ("https://exa mple.org/room", "This is not a valid https link."),
        ("https://user:pass@example.org/room", "The link must not contain a user name or password."),
        ("https://example.org/" + "a" * 490, "A link has at most 500 characters."),
        ("", "Paste the meeting's link (https://...)."),
        (None, "Paste the meeting's link (https://...)."),
        (42, "Paste the meeting's link (https://...)."),
    ],
)
def test_manual_links_must_be_https(value, message):
    assert link_error(value, max_length=500) == message


# --- Zoom: synchronised after commit ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_zoom_session_is_pending_until_synchronised_and_zoom_is_not_called_in_the_transaction(make_session, zoom):
    session = make_session("zoom", title="Pitch week kickoff", minutes=90, description="Agenda")
    assert zoom.calls == []
    assert _state(session) == ("pending", 0, FROZEN, "")
    assert _fresh(session).join_url == ""

    assert meeting_sync(session_id=session.pk) == "synced"

    session = _fresh(session)
    stored = zoom.meetings[int(session.external_meeting_id)]
    assert (session.join_url, session.host_url) == (stored.join_url, stored.start_url)
    assert _state(session) == ("synced", 0, None, "")
    assert (stored.topic, stored.start_time, stored.timezone, stored.duration, stored.agenda) == (
        "Pitch week kickoff",
        "2026-03-10T16:00:00Z",
        "Europe/Kiev",
        90,
        "Agenda",
    )
    # A second sync finds nothing to do.
    assert meeting_sync(session_id=session.pk) == "skipped"
    assert len(zoom.calls_to("POST", "/v2/")) == 1


@pytest.mark.django_db
def test_the_commit_kicks_a_worker_that_synchronises_the_session(
    make_session, zoom, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CONFERENCING_SYNC_ON_COMMIT = True
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session = make_session("zoom")
    assert zoom.calls == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert _fresh(session).integration_status == "synced"
    assert len(zoom.meetings) == 1


@pytest.mark.django_db
def test_rescheduling_moves_the_meeting_at_zoom(make_session, zoom, frozen):
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    meeting_id = _fresh(session).external_meeting_id
    join_url = _fresh(session).join_url
    later = START + timedelta(days=2, hours=3)

    session_update(session=session, data={"starts_at": later, "ends_at": later + timedelta(minutes=45)})
    assert _state(session) == ("pending", 0, FROZEN, "")
    assert zoom.calls_to("PATCH") == []
    assert meeting_sync(session_id=session.pk) == "synced"

    patch = zoom.calls_to("PATCH")[0]
    assert (patch.path, patch.status) == (f"/v2/meetings/{meeting_id}", 204)
    assert (patch.body["start_time"], patch.body["duration"]) == ("2026-03-12T19:00:00Z", 45)
    stored = zoom.meetings[int(meeting_id)]
    assert (stored.start_time, stored.duration) == ("2026-03-12T19:00:00Z", 45)
    session = _fresh(session)
    assert (session.external_meeting_id, session.join_url, session.sequence) == (meeting_id, join_url, 1)
    assert _state(session) == ("synced", 0, None, "")


@pytest.mark.django_db
def test_a_new_title_renames_the_meeting(make_session, zoom):
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    session_update(session=session, data={"title": "Pitch week finals"})
    assert _fresh(session).integration_status == "pending"
    meeting_sync(session_id=session.pk)
    assert zoom.meetings[int(_fresh(session).external_meeting_id)].topic == "Pitch week finals"


@pytest.mark.django_db
def test_a_capacity_change_does_not_touch_the_meeting(make_session, zoom):
    session = make_session("zoom", capacity=5)
    meeting_sync(session_id=session.pk)
    session_update(session=session, data={"capacity": 9})
    assert _fresh(session).integration_status == "synced"


@pytest.mark.django_db
def test_cancelling_deletes_the_meeting_at_zoom(make_session, zoom):
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    meeting_id = _fresh(session).external_meeting_id

    session_cancel(session=session, reason="Speaker ill")
    assert _fresh(session).integration_status == "pending"
    assert meeting_sync(session_id=session.pk) == "synced"

    delete = zoom.calls_to("DELETE")[0]
    assert (delete.path, delete.status) == (f"/v2/meetings/{meeting_id}", 204)
    assert zoom.meetings == {}
    session = _fresh(session)
    assert (session.join_url, session.host_url, session.external_meeting_id) == ("", "", "")
    assert _state(session) == ("synced", 0, None, "")


@pytest.mark.django_db
def test_a_session_cancelled_before_its_meeting_was_made_never_makes_one(make_session, zoom):
    session = make_session("zoom")
    session_cancel(session=session, reason="Speaker ill")
    assert meeting_sync(session_id=session.pk) == "synced"
    assert zoom.calls == []
    assert _state(session) == ("synced", 0, None, "")


@pytest.mark.django_db
def test_a_meeting_deleted_at_zoom_is_made_again(make_session, zoom):
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    old_id = _fresh(session).external_meeting_id
    zoom.meetings.clear()  # the host deleted it in Zoom

    session_update(session=session, data={"title": "Renamed"})
    assert meeting_sync(session_id=session.pk) == "synced"

    session = _fresh(session)
    assert session.external_meeting_id != old_id
    assert list(zoom.meetings) == [int(session.external_meeting_id)]
    assert zoom.meetings[int(session.external_meeting_id)].topic == "Renamed"


# --- Zoom: failures and retries -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rate_limit_schedules_a_retry_after_zooms_wait(make_session, zoom, frozen):
    zoom.fail(
        "POST",
        r"^/v2/users/me/meetings$",
        429,
        {"code": 429, "message": "Too many requests."},
        headers={"Retry-After": "120"},
    )
    session = make_session("zoom")

    assert meeting_sync(session_id=session.pk) == "retry"
    message = "Zoom could not create the meeting (HTTP 429, code 429): Too many requests. Rate limited; retried later."
    assert _state(session) == ("pending", 1, FROZEN + timedelta(seconds=120), message)
    assert _fresh(session).join_url == ""

    frozen(FROZEN + timedelta(seconds=119))
    assert meeting_sync(session_id=session.pk) == "skipped"  # not due yet
    frozen(FROZEN + timedelta(seconds=120))
    assert meeting_sync(session_id=session.pk) == "synced"
    assert _state(session) == ("synced", 0, None, "")
    assert len(zoom.meetings) == 1


@pytest.mark.django_db
def test_outages_back_off_exponentially_then_fail(make_session, zoom, frozen, settings):
    settings.CONFERENCING_MAX_ATTEMPTS = 4
    zoom.fail("POST", r"^/v2/users/me/meetings$", 503, {"code": 503, "message": "Service unavailable"}, times=10)
    session = make_session("zoom")
    message = "Zoom could not create the meeting (HTTP 503, code 503): Service unavailable"

    now = FROZEN
    for attempt, wait in ((1, 30), (2, 60), (3, 120)):
        assert meeting_sync(session_id=session.pk) == "retry"
        assert _state(session) == ("pending", attempt, now + timedelta(seconds=wait), message)
        now += timedelta(seconds=wait)
        frozen(now)
    assert meeting_sync(session_id=session.pk) == "failed"
    assert _state(session) == ("failed", 4, None, message)
    assert meeting_sync(session_id=session.pk) == "skipped"  # failed waits for an operator
    assert len(zoom.calls_to("POST", "/v2/")) == 4


def test_the_backoff_is_capped(settings):
    settings.CONFERENCING_RETRY_BASE_SECONDS = 30
    settings.CONFERENCING_RETRY_CAP_SECONDS = 3600
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 8, 12)] == [30, 60, 120, 1920, 3600, 3600]
    assert retry_delay(1, retry_after=600).total_seconds() == 600
    assert retry_delay(3, retry_after=5).total_seconds() == 120


@pytest.mark.django_db
def test_a_refused_meeting_fails_at_once(make_session, zoom):
    zoom.fail("POST", r"^/v2/users/me/meetings$", 400, {"code": 300, "message": "Invalid field: topic."})
    session = make_session("zoom")
    assert meeting_sync(session_id=session.pk) == "failed"
    assert _state(session) == (
        "failed",
        1,
        None,
        "Zoom could not create the meeting (HTTP 400, code 300): Invalid field: topic.",
    )


@pytest.mark.django_db
def test_a_change_after_a_failure_tries_again_at_once(make_session, zoom, frozen):
    zoom.fail("POST", r"^/v2/users/me/meetings$", 400, {"code": 300, "message": "Invalid field: topic."})
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    frozen(FROZEN + timedelta(minutes=5))

    session_update(session=session, data={"title": "Better title"})

    assert _state(session) == (
        "pending",
        0,
        FROZEN + timedelta(minutes=5),
        "Zoom could not create the meeting (HTTP 400, code 300): Invalid field: topic.",
    )
    assert meeting_sync(session_id=session.pk) == "synced"
    assert _state(session) == ("synced", 0, None, "")


@pytest.mark.django_db
def test_a_change_during_a_backoff_keeps_the_wait(make_session, zoom, frozen):
    zoom.fail("POST", r"^/v2/users/me/meetings$", 503, {"code": 503, "message": "Service unavailable"})
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    session_update(session=session, data={"title": "Better title"})
    status, attempts, retry_at, _ = _state(session)
    assert (status, attempts, retry_at) == ("pending", 0, FROZEN + timedelta(seconds=30))


# --- The job --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_job_retries_due_sessions_and_leaves_the_rest(make_session, zoom, frozen):
    assert "conferencing_sync" in job_registry()
    zoom.fail(
        "POST",
        r"^/v2/users/me/meetings$",
        429,
        {"code": 429, "message": "Too many requests."},
        headers={"Retry-After": "90"},
    )
    limited = make_session("zoom", title="Limited")
    assert meeting_sync(session_id=limited.pk) == "retry"
    waiting = make_session("zoom", title="Waiting")
    jitsi = make_session("jitsi", title="Jitsi")

    run = run_job("conferencing_sync")
    assert (run.status, run.counts) == ("succeeded", {"synced": 1})
    assert _fresh(waiting).integration_status == "synced"
    assert _fresh(limited).integration_status == "pending"

    frozen(FROZEN + timedelta(seconds=90))
    run = run_job("conferencing_sync")
    assert (run.status, run.counts) == ("succeeded", {"synced": 1})
    assert [_fresh(s).integration_status for s in (limited, waiting, jitsi)] == ["synced", "synced", "synced"]
    assert sorted(m.topic for m in zoom.meetings.values()) == ["Limited", "Waiting"]

    run = run_job("conferencing_sync")
    assert run.counts == {}


# --- Races ----------------------------------------------------------------------------------------


def _in_threads(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    assert errors == []
    return results


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_make_two_meetings(make_session, zoom):
    session = make_session("zoom")
    zoom.delay("POST", r"^/v2/users/me/meetings$", 0.5)

    outcomes = _in_threads(lambda: meeting_sync(session_id=session.pk), lambda: meeting_sync(session_id=session.pk))

    assert sorted(outcomes) == ["skipped", "synced"]
    assert len(zoom.calls_to("POST", "/v2/users/me/meetings")) == 1
    assert list(zoom.meetings) == [int(_fresh(session).external_meeting_id)]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_reschedule_while_zoom_creates_the_meeting_is_not_lost(make_session, zoom):
    session = make_session("zoom")
    zoom.delay("POST", r"^/v2/users/me/meetings$", 0.6)
    later = START + timedelta(days=1)

    def reschedule():
        time.sleep(0.2)  # while the create is at Zoom
        session_update(session=session, data={"starts_at": later, "ends_at": later + timedelta(hours=1)})
        return "rescheduled"

    outcomes = _in_threads(lambda: meeting_sync(session_id=session.pk), reschedule)

    assert outcomes == ["synced", "rescheduled"]
    session = _fresh(session)
    assert [(c.method, c.status) for c in zoom.calls if c.path.startswith("/v2/")] == [("POST", 201), ("PATCH", 204)]
    assert list(zoom.meetings) == [int(session.external_meeting_id)]
    assert zoom.meetings[int(session.external_meeting_id)].start_time == "2026-03-11T16:00:00Z"
    assert (session.sequence, session.integration_status) == (1, "synced")


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_cancel_while_zoom_creates_the_meeting_deletes_it(make_session, zoom):
    session = make_session("zoom")
    zoom.delay("POST", r"^/v2/users/me/meetings$", 0.6)

    def cancel():
        time.sleep(0.2)
        session_cancel(session=session, reason="Speaker ill")
        return "cancelled"

    outcomes = _in_threads(lambda: meeting_sync(session_id=session.pk), cancel)

    assert outcomes == ["synced", "cancelled"]
    assert [(c.method, c.status) for c in zoom.calls if c.path.startswith("/v2/")] == [("POST", 201), ("DELETE", 204)]
    assert zoom.meetings == {}
    session = _fresh(session)
    assert (session.status, session.external_meeting_id, session.join_url, session.integration_status) == (
        "cancelled",
        "",
        "",
        "synced",
    )

"""Session reminders: per-program offsets, the due rule, exactly once per (session, person, offset,
schedule) under retries, crashes and racing runs with real transactions, re-arming on reschedule,
content in the recipient's time zone with the join link, the `program_session_reminder` event, and
one cancellation notice per person."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from jsonschema import Draft202012Validator

from core.jobs import job_registry, run_job
from crm_sync.models import OutboxEvent
from notifications.models import Notification
from programs.models import Program
from programs.services import program_update
from scheduling import notices
from scheduling.models import Session, SessionReminder
from scheduling.services import (
    registration_cancel,
    registration_create,
    reminders,
    session_cancel,
    session_create,
    session_deliver,
    session_update,
)
from scheduling.services.reminders import current_offset, next_offset, reminder_offsets, send_due_reminders, starts_in

START = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # Tuesday; 10:00 in New York, 00:00 Wednesday in Tokyo
SCHEMA = Path(settings.BASE_DIR) / "crm_sync/contracts/payloads/program_session_reminder-v1.json"


# --- Helpers ------------------------------------------------------------------------------------


def _claims(kind: str = "reminder") -> list[tuple[str, int, int]]:
    rows = SessionReminder.objects.filter(kind=kind).select_related("user")
    return sorted((r.user.email, r.hours_before, r.session_sequence) for r in rows)


def _notified(kind: str = "session_reminder") -> list[tuple[str, str]]:
    rows = Notification.objects.filter(kind=kind).select_related("user")
    return sorted((n.user.email, n.channel) for n in rows)


def _events() -> list[dict]:
    return sorted(
        (e.payload for e in OutboxEvent.objects.filter(event_type="program_session_reminder")),
        key=lambda p: (p["user_id"], -p["hours_before"], p["starts_at"]),
    )


def _email(user, kind: str = "session_reminder") -> Notification:
    return Notification.objects.get(user=user, kind=kind, channel="email")


@pytest.fixture
def people(make_user):
    return {
        "host": make_user(email="host@example.org", full_name="Hana Host", timezone="Europe/Berlin"),
        "ny": make_user(email="ny@example.org", full_name="Nora York", timezone="America/New_York"),
        "tokyo": make_user(email="tokyo@example.org", full_name="Taro Tanaka", timezone="Asia/Tokyo"),
        "plain": make_user(email="plain@example.org"),
        "queued": make_user(email="queued@example.org"),
        "gone": make_user(email="gone@example.org"),
    }


@pytest.fixture
def make_session(program, frozen):
    def _make(*, starts_at=START, host=None, participants=(), in_program=None, capacity=None, title="Live read"):
        return session_create(
            program=in_program or program,
            kind="live_event",
            title=title,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            timezone="Europe/Kyiv",
            capacity=capacity,
            host=host,
            participants=list(participants),
        )

    return _make


@pytest.fixture
def live_read(make_session, people):
    """Host, three registered participants (New York, Tokyo, no zone), one waitlisted, one cancelled."""
    session = make_session(
        host=people["host"], participants=[people["ny"], people["tokyo"], people["plain"], people["gone"]], capacity=4
    )
    registration_cancel(registration=session.registrations.get(user=people["gone"]))
    session = session_update(session=session, data={"capacity": 3})
    queued = registration_create(session=session, user=people["queued"], source="operator")
    assert queued.status == "waitlisted"
    return Session.objects.get(pk=session.pk)


REGISTERED = ["host@example.org", "ny@example.org", "plain@example.org", "tokyo@example.org"]


def _at(frozen, when: datetime):
    frozen(when)
    return send_due_reminders()


# --- Offsets and the due rule -------------------------------------------------------------------


def test_offsets_come_from_the_program_config_with_a_default(program):
    assert reminder_offsets(program) == [24, 1]  # the mentorship template's standard reminders
    program.config = {"reminders": {"session_hours_before": [2, 48, 2.5, True, 0]}}
    assert reminder_offsets(program) == [48, 2]
    program.config = {"reminders": {"application_deadline_days_before": [7]}}
    assert reminder_offsets(program) == [24, 1]
    program.config = {}
    assert reminder_offsets(program) == [24, 1]
    program.config = {"reminders": {"session_hours_before": []}}
    assert reminder_offsets(program) == []


def test_the_current_offset_is_the_smallest_due_one_before_the_start():
    offsets = [24, 1]
    assert current_offset(offsets, START, START - timedelta(hours=24, seconds=1)) is None
    assert current_offset(offsets, START, START - timedelta(hours=24)) == 24
    assert current_offset(offsets, START, START - timedelta(hours=1, seconds=1)) == 24
    assert current_offset(offsets, START, START - timedelta(hours=1)) == 1
    assert current_offset(offsets, START, START - timedelta(seconds=1)) == 1
    assert current_offset(offsets, START, START) is None
    assert current_offset([], START, START - timedelta(minutes=5)) is None
    assert next_offset(offsets, START, START - timedelta(hours=30)) == 24
    assert next_offset(offsets, START, START - timedelta(hours=5)) == 1
    assert next_offset(offsets, START, START - timedelta(minutes=30)) is None


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=10), "1 minute"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(minutes=59, seconds=50), "1 hour"),
        (timedelta(hours=23, minutes=20), "23 hours"),
        (timedelta(hours=47), "47 hours"),
        (timedelta(hours=72), "3 days"),
    ],
)
def test_starts_in_says_the_time_left(delta, text):
    assert starts_in(delta) == text


# --- The job ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_offset_goes_to_the_host_and_registered_participants_once(live_read, frozen):
    assert _at(frozen, START - timedelta(hours=24, minutes=1)).sent == 0

    run = _at(frozen, START - timedelta(hours=23, minutes=50))
    assert (run.sessions, run.sent, run.already_sent, run.by_offset) == (1, 4, 0, {24: 4})
    assert _claims() == [(email, 24, 0) for email in REGISTERED]
    assert _notified() == sorted((email, channel) for email in REGISTERED for channel in ("dashboard", "email"))

    # Hourly runs until the 1-hour mark send nothing more.
    for hours in (23, 12, 2):
        assert _at(frozen, START - timedelta(hours=hours, minutes=10)).sent == 0

    run = _at(frozen, START - timedelta(minutes=50))
    assert (run.sent, run.by_offset) == (4, {1: 4})
    assert _at(frozen, START - timedelta(minutes=5)).sent == 0
    assert _at(frozen, START + timedelta(minutes=5)).sessions == 0
    assert _claims() == sorted([(email, h, 0) for email in REGISTERED for h in (24, 1)])
    assert Notification.objects.filter(kind="session_reminder").count() == 16
    assert OutboxEvent.objects.filter(event_type="program_session_reminder").count() == 8


@pytest.mark.django_db
def test_a_late_run_sends_only_the_smallest_due_offset(live_read, frozen):
    """The job was down through the 24-hour mark: 40 minutes before the start only the 1-hour
    reminder goes out; the 24-hour one is superseded for good (no row, never sent later)."""
    run = _at(frozen, START - timedelta(minutes=40))
    assert (run.sent, run.by_offset) == (4, {1: 4})
    assert _claims() == [(email, 1, 0) for email in REGISTERED]
    assert _at(frozen, START - timedelta(minutes=20)).sent == 0
    assert {p["hours_before"] for p in _events()} == {1}


@pytest.mark.django_db
def test_a_session_booked_inside_the_24_hour_window_gets_that_reminder_now(make_session, people, frozen):
    frozen(START - timedelta(hours=3))
    make_session(participants=[people["ny"]])
    assert _at(frozen, START - timedelta(hours=3)).by_offset == {24: 1}
    body = _email(people["ny"]).body_text
    assert "Live read starts in 3 hours: Tuesday 3 March 2026, 10:00–11:00 EST (America/New_York)." in body


@pytest.mark.django_db
def test_people_who_register_later_get_the_current_offset(live_read, make_user, frozen):
    _at(frozen, START - timedelta(hours=20))
    late = make_user(email="late@example.org")
    frozen(START - timedelta(hours=10))
    session = Session.objects.get(pk=live_read.pk)
    session_update(session=session, data={"capacity": 10})
    registration_create(session=session, user=late, source="operator")
    run = _at(frozen, START - timedelta(hours=9))
    # The late registration and the waitlisted person promoted by the larger capacity.
    assert (run.sent, run.by_offset) == (2, {24: 2})
    assert [c for c in _claims() if c[0] in ("late@example.org", "queued@example.org")] == [
        ("late@example.org", 24, 0),
        ("queued@example.org", 24, 0),
    ]


@pytest.mark.django_db
def test_offsets_are_per_program(make_program, mentorship_template, make_session, people, frozen):
    slow = make_program(
        mentorship_template, name="Pitch week", config_overrides={"reminders": {"session_hours_before": [48, 2]}}
    )
    quiet = make_program(
        mentorship_template, name="Quiet lab", config_overrides={"reminders": {"session_hours_before": []}}
    )
    make_session(participants=[people["ny"]], title="Default")
    make_session(participants=[people["tokyo"]], in_program=slow, title="Pitch")
    make_session(participants=[people["plain"]], in_program=quiet, title="Quiet")

    assert _at(frozen, START - timedelta(hours=47)).by_offset == {48: 1}
    assert _at(frozen, START - timedelta(hours=23)).by_offset == {24: 1}
    assert _at(frozen, START - timedelta(hours=1, minutes=30)).by_offset == {2: 1}
    assert _at(frozen, START - timedelta(minutes=30)).by_offset == {1: 1}
    assert _claims() == [("ny@example.org", 1, 0), ("ny@example.org", 24, 0)] + [
        ("tokyo@example.org", 2, 0),
        ("tokyo@example.org", 48, 0),
    ]

    # A config change applies to the next run.
    program_update(program=quiet, data={"config_overrides": {"reminders": {"session_hours_before": [1]}}})
    assert _at(frozen, START - timedelta(minutes=20)).by_offset == {1: 1}
    assert ("plain@example.org", 1, 0) in _claims()


@pytest.mark.django_db
def test_a_program_without_session_offsets_gets_24_and_1_hours(program, make_session, people, frozen):
    Program.objects.filter(pk=program.pk).update(config={"reminders": {"application_deadline_days_before": [3]}})
    make_session(participants=[people["ny"]])
    assert _at(frozen, START - timedelta(hours=23)).by_offset == {24: 1}
    assert _at(frozen, START - timedelta(minutes=59)).by_offset == {1: 1}


@pytest.mark.django_db
def test_a_reschedule_re_arms_the_reminders_for_the_new_time(live_read, frozen):
    _at(frozen, START - timedelta(hours=23))
    assert len(_claims()) == 4

    frozen(START - timedelta(hours=22))
    moved = START + timedelta(days=2)
    session = session_update(session=live_read, data={"starts_at": moved, "ends_at": moved + timedelta(hours=1)})
    assert session.sequence == 1

    assert _at(frozen, START - timedelta(minutes=30)).sessions == 0  # the old time means nothing now
    run = _at(frozen, moved - timedelta(hours=23, minutes=30))
    assert (run.sent, run.by_offset) == (4, {24: 4})
    assert _at(frozen, moved - timedelta(minutes=45)).by_offset == {1: 4}
    assert _claims() == sorted(
        [(email, 24, 0) for email in REGISTERED] + [(email, h, 1) for email in REGISTERED for h in (24, 1)]
    )
    new_time = [p for p in _events() if p["starts_at"] == moved.isoformat()]
    assert len(new_time) == 8
    bodies = _bodies("ny@example.org")
    assert sorted(b.split("\n")[2] for b in bodies) == [
        "Live read starts in 23 hours: Tuesday 3 March 2026, 10:00–11:00 EST (America/New_York).",
        "Live read starts in 24 hours: Thursday 5 March 2026, 10:00–11:00 EST (America/New_York).",
        "Live read starts in 45 minutes: Thursday 5 March 2026, 10:00–11:00 EST (America/New_York).",
    ]


def _bodies(email: str) -> list[str]:
    rows = Notification.objects.filter(kind="session_reminder", channel="email", user__email=email)
    return sorted(n.body_text for n in rows)


@pytest.mark.django_db
def test_cancelled_and_delivered_sessions_get_no_reminders(live_read, make_session, people, frozen, operator):
    other = make_session(starts_at=START + timedelta(hours=2), participants=[people["ny"]], title="Other")
    frozen(START - timedelta(hours=30))
    session_cancel(session=live_read, reason="Speaker ill")
    assert _at(frozen, START - timedelta(hours=23)).sessions == 0
    assert _claims() == []

    frozen(other.starts_at + timedelta(minutes=5))
    session_deliver(session=other, actor=operator, skip_attendance=True)
    assert _at(frozen, other.starts_at - timedelta(minutes=30)).sessions == 0


# --- Content ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reminder_shows_the_local_time_of_each_recipient_and_the_join_link(live_read, people, frozen):
    _at(frozen, START - timedelta(hours=23, minutes=55))
    link = live_read.join_url
    assert link.startswith("https://")

    ny = _email(people["ny"])
    assert ny.subject == "Reminder: Live read starts in 24 hours"
    assert ny.body_text == (
        "Hello Nora,\n\n"
        "Live read starts in 24 hours: Tuesday 3 March 2026, 10:00–11:00 EST (America/New_York).\n\n"
        f"Join here: {link}\n\n"
        f"See your sessions: {notices.my_sessions_url()}\n\n"
        "-- \nPrograms and Events"
    )
    tokyo = _email(people["tokyo"])
    assert "Live read starts in 24 hours: Wednesday 4 March 2026, 00:00–01:00 JST (Asia/Tokyo)." in tokyo.body_text
    # Without a zone of their own, people see the session's zone.
    plain = _email(people["plain"])
    assert "Tuesday 3 March 2026, 17:00–18:00 EET (Europe/Kyiv)." in plain.body_text
    host = _email(people["host"])
    assert host.subject == "Reminder: you host Live read in 24 hours"
    assert "You are hosting Live read. It starts in 24 hours: Tuesday 3 March 2026, 16:00–17:00 CET" in host.body_text
    assert f"Join here: {link}" in host.body_text

    dashboard = Notification.objects.get(user=people["tokyo"], kind="session_reminder", channel="dashboard")
    assert dashboard.dashboard_text == (
        f"Live read starts in 24 hours: Wednesday 4 March 2026, 00:00–01:00 JST (Asia/Tokyo). Join: {link}"
    )
    assert ny.context == {
        "session": {"type": "scheduling.session", "id": str(live_read.pk)},
        "hours_before": 24,
        "starts_in": "24 hours",
        "as_host": False,
        "join_url": link,
        "sessions_url": notices.my_sessions_url(),
    }
    assert notices.my_sessions_url().startswith(settings.SITE_URL)
    assert ny.related == [{"type": "scheduling.session", "id": str(live_read.pk)}]


@pytest.mark.django_db
def test_an_in_person_session_shows_where(program, people, frozen):
    session_create(
        program=program,
        kind="office_hours",
        title="Drop-in",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        timezone="Europe/Kyiv",
        online=False,
        location="Room 4, Khreshchatyk 1",
        participants=[people["ny"]],
    )
    _at(frozen, START - timedelta(minutes=30))
    body = _email(people["ny"]).body_text
    assert "Drop-in starts in 30 minutes: Tuesday 3 March 2026, 10:00–11:00 EST (America/New_York)." in body
    assert "Where: Room 4, Khreshchatyk 1" in body
    assert "Join here" not in body


@pytest.mark.django_db
def test_each_reminder_emits_a_schema_valid_program_session_reminder(live_read, people, frozen):
    _at(frozen, START - timedelta(hours=23))
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    events = list(OutboxEvent.objects.filter(event_type="program_session_reminder").order_by("created_at"))
    assert len(events) == 4
    for event in events:
        assert list(validator.iter_errors(event.payload)) == []
        assert (event.subject_type, event.subject_id, event.actor, event.schema_version) == (
            "session",
            str(live_read.pk),
            "system:session-reminders",
            1,
        )
    assert sorted(e.payload["user_id"] for e in events) == sorted(
        str(people[k].pk) for k in ("host", "ny", "tokyo", "plain")
    )
    assert {json.dumps({k: v for k, v in e.payload.items() if k != "user_id"}, sort_keys=True) for e in events} == {
        json.dumps(
            {
                "hours_before": 24,
                "program_id": str(live_read.program_id),
                "session_id": str(live_read.pk),
                "starts_at": "2026-03-03T15:00:00+00:00",
            },
            sort_keys=True,
        )
    }


# --- Cancellation notices -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cancelled_session_sends_one_notice_per_person_whatever_retries(live_read, people, frozen):
    frozen(START - timedelta(hours=5))
    session_cancel(session=live_read, reason="Speaker ill")
    session_cancel(session=live_read, reason="Speaker ill (again)")
    session = Session.objects.get(pk=live_read.pk)
    assert reminders.send_cancellation_notices(session=session) == 0  # a retry of the notices

    expected = ["ny@example.org", "plain@example.org", "queued@example.org", "tokyo@example.org"]
    assert _claims("cancellation") == [(email, 0, 0) for email in expected]
    assert _notified("session_cancelled") == sorted((e, c) for e in expected for c in ("dashboard", "email"))
    body = _email(people["tokyo"], "session_cancelled").body_text
    assert "Live read on Wednesday 4 March 2026, 00:00–01:00 JST (Asia/Tokyo) is cancelled." in body
    assert "Reason: Speaker ill\n" in body


# --- Exactly once under crashes and races (real transactions) -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_job_is_registered_and_counts_what_it_sent(live_read, frozen):
    assert "session_reminders" in job_registry()
    frozen(START - timedelta(hours=23))
    lines: list[str] = []
    run = run_job("session_reminders", out=lines.append)
    assert (run.status, run.error) == ("succeeded", "")
    assert run.counts == {"sent": 4, "sessions": 1}
    assert lines == [
        "1 session reminder(s) sent so far",
        "4 session reminder(s) sent so far",
        "session reminders done: sent=4, already_sent=0, skipped=0 (1 session(s) due; 24 h: 4)",
    ]
    run = run_job("session_reminders")
    assert (run.status, run.counts) == ("succeeded", {"sessions": 1})


@pytest.mark.django_db(transaction=True)
def test_a_crash_mid_batch_loses_nothing_and_sends_nothing_twice(live_read, frozen, monkeypatch):
    """Batches of two: the host's batch goes out, then the first batch of participants fails
    after notifying them; its transaction rolls back (claims, notifications, events), and
    the next run sends the rest, once."""
    monkeypatch.setattr(reminders, "BATCH_SIZE", 2)
    real_emit = reminders.emit_many
    calls = {"n": 0}

    def failing_emit(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the first participants' batch, after its notifications were written
            raise RuntimeError("worker lost")
        return real_emit(**kwargs)

    monkeypatch.setattr(reminders, "emit_many", failing_emit)
    frozen(START - timedelta(hours=23))
    run = run_job("session_reminders")
    assert (run.status, run.error) == ("failed", "RuntimeError: worker lost")
    assert run.counts == {"sent": 1}  # the host's batch; the first participants' batch rolled back
    assert len(_claims()) == 1
    assert Notification.objects.filter(kind="session_reminder").count() == 2
    assert OutboxEvent.objects.filter(event_type="program_session_reminder").count() == 1

    monkeypatch.setattr(reminders, "emit_many", real_emit)
    run = run_job("session_reminders")
    assert (run.status, run.counts) == ("succeeded", {"sent": 3, "sessions": 1})
    assert _claims() == [(email, 24, 0) for email in REGISTERED]
    assert _notified() == sorted((email, channel) for email in REGISTERED for channel in ("dashboard", "email"))
    assert sorted(p["user_id"] for p in _events()) == sorted(
        str(u) for u in SessionReminder.objects.values_list("user_id", flat=True)
    )


def _race(calls) -> tuple[list, list]:
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
def crowd(make_session, make_user, people):
    """Two sessions due for their 24-hour reminder: 12 participants and a host each."""
    users = [make_user(email=f"p{i:02d}@example.org") for i in range(12)]
    hosts = [people["host"], people["ny"]]
    return [
        make_session(starts_at=START + timedelta(hours=i * 2), host=hosts[i], participants=users, title=f"S{i}")
        for i in range(2)
    ]


@pytest.fixture
def slow_notify(monkeypatch):
    """Pause after each reminder is written, so racing batches overlap."""
    real = reminders._remind_many

    def slow(rows, **kwargs):
        real(rows, **kwargs)
        time.sleep(0.01 * len(rows))

    monkeypatch.setattr(reminders, "_remind_many", slow)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(crowd, frozen, slow_notify, monkeypatch):
    monkeypatch.setattr(reminders, "BATCH_SIZE", 5)
    frozen(START - timedelta(hours=21))
    results, errors = _race([send_due_reminders] * 3)

    assert errors == []
    assert sum(r.sent for r in results) == 26
    assert all(r.sessions == 2 for r in results)
    claims = SessionReminder.objects.filter(kind="reminder")
    assert claims.count() == 26
    assert claims.values("session_id", "user_id").distinct().count() == 26
    assert Notification.objects.filter(kind="session_reminder").count() == 52
    assert (
        Notification.objects.filter(kind="session_reminder").values("user_id", "related", "channel").distinct().count()
        == 52
    )
    assert OutboxEvent.objects.filter(event_type="program_session_reminder").count() == 26
    assert send_due_reminders().sent == 0


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_control_without_the_claim_sends_twice(crowd, frozen, slow_notify, monkeypatch):
    """The same race with the claim insert replaced by "everyone won" duplicates events, so the
    test above would catch a broken claim."""
    monkeypatch.setattr(reminders, "BATCH_SIZE", 5)
    monkeypatch.setattr(
        reminders, "_claim_many", lambda rows, **kwargs: {(session.pk, user_id) for session, user_id in rows}
    )
    frozen(START - timedelta(hours=21))
    results, errors = _race([send_due_reminders] * 2)

    assert errors == []
    assert sum(r.sent for r in results) > 26
    assert OutboxEvent.objects.filter(event_type="program_session_reminder").count() > 26


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_reschedule_racing_the_job_is_sent_for_one_schedule(crowd, frozen, slow_notify, monkeypatch):
    """Both sessions are rescheduled while the job sends their reminders. A reschedule waits for
    the batch that share-locks its session, and a batch after it sees the new time (not due): so
    every reminder of a session was written before its reschedule, for the old schedule, and the
    new schedule is re-armed."""
    monkeypatch.setattr(reminders, "BATCH_SIZE", 3)
    slow = reminders._remind_many

    def slower(rows, **kwargs):  # about a second for all 26: the reschedules land in the middle
        slow(rows, **kwargs)
        time.sleep(0.03 * len(rows))

    monkeypatch.setattr(reminders, "_remind_many", slower)
    frozen(START - timedelta(hours=21))
    moved = START + timedelta(days=3)

    def reschedule():
        time.sleep(0.05)
        for i, session in enumerate(crowd):
            starts_at = moved + timedelta(hours=2 * i)
            session_update(session=session, data={"starts_at": starts_at, "ends_at": starts_at + timedelta(hours=1)})

    results, errors = _race([send_due_reminders, reschedule])
    assert errors == []
    for session in crowd:
        claims = SessionReminder.objects.filter(session=session, kind="reminder")
        assert set(claims.values_list("session_sequence", flat=True)) <= {0}
        events = OutboxEvent.objects.filter(event_type="program_session_reminder", subject_id=str(session.pk))
        assert events.count() == claims.count()
        assert {e.payload["starts_at"] for e in events} <= {session.starts_at.isoformat()}
        moved_event = OutboxEvent.objects.get(event_type="lesson.rescheduled", subject_id=str(session.pk))
        assert all(e.created_at < moved_event.created_at for e in events)
    [run] = [r for r in results if r is not None]
    assert run.sent == SessionReminder.objects.filter(kind="reminder").count() < 26

    # At the new times everyone gets the reminders of the new schedule.
    frozen(moved - timedelta(hours=21))
    assert send_due_reminders().sent == 26
    assert SessionReminder.objects.filter(kind="reminder", session_sequence=1).count() == 26


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_cancelling_twice_at_once_sends_one_notice_each(live_read, frozen):
    frozen(START - timedelta(hours=5))
    results, errors = _race([lambda: session_cancel(session=live_read, reason="Speaker ill")] * 3)
    assert errors == []
    assert len(_claims("cancellation")) == 4
    assert Notification.objects.filter(kind="session_cancelled").count() == 8

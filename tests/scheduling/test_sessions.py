"""Session services: scheduling one session or a weekly series in local time (DST-correct in
Europe/Kyiv and America/New_York), hosts without overlaps, rescheduling, host changes, capacity,
cancelling and delivering, each with its audit row, outbox event and notices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import Conflict, IllegalTransition, ValidationFailed
from core.models import AuditEntry
from crm_sync.models import OutboxEvent
from notifications.models import Notification
from programs.services import program_set_status
from scheduling import notices
from scheduling.enums import ConfirmationStatus, ReminderKind, SessionStatus
from scheduling.models import HostConfirmation, Registration, Session, SessionReminder
from scheduling.services import (
    cohort_set_status,
    registration_cancel,
    registration_create,
    session_cancel,
    session_create,
    session_deliver,
    session_series_create,
    session_update,
)
from scheduling.services.attendance import attendance_record
from scheduling.services.sessions import local_occurrences
from tests.scheduling.conftest import FROZEN

pytestmark = pytest.mark.django_db

KYIV = ZoneInfo("Europe/Kyiv")
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def payloads(event_type: str, session) -> list[dict]:
    events = OutboxEvent.objects.filter(event_type=event_type, subject_type="session", subject_id=str(session.pk))
    return [event.payload for event in events.order_by("created_at", "id")]


def audits(target, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_id=str(target.pk), action=action).order_by("created_at", "id"))


def notices_of(kind: str, user, channel: str = "email") -> int:
    return Notification.objects.filter(kind=kind, user=user, channel=channel).count()


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org", full_name="Hanna Host")


@pytest.fixture
def other_host(make_user):
    return make_user(email="other-host@example.org")


@pytest.fixture
def live(program, host, frozen):
    """A live event on 10 March 2026, 16:00-17:00 UTC, for two people, hosted by `host`."""
    return session_create(
        program=program,
        kind="live_event",
        title="Live read",
        starts_at=START,
        ends_at=END,
        timezone="Europe/Kyiv",
        capacity=2,
        host=host,
    )


# --- Scheduling one session ---------------------------------------------------------------------


def test_create_a_session_with_its_event_audit_row_meeting_and_host_request(program, host, operator, frozen):
    session = session_create(
        program=program,
        kind="live_event",
        title="  Live read  ",
        starts_at=datetime(2026, 3, 10, 18, 0, tzinfo=KYIV),
        ends_at=datetime(2026, 3, 10, 19, 30, tzinfo=KYIV),
        timezone="Europe/Kyiv",
        capacity=2,
        host=host,
        actor=operator,
    )

    session.refresh_from_db()
    assert (session.title, session.kind, session.status, session.sequence) == (
        "Live read",
        "live_event",
        "scheduled",
        0,
    )
    assert (session.starts_at, session.ends_at) == (utc(2026, 3, 10, 16, 0), utc(2026, 3, 10, 17, 30))
    assert (session.timezone, session.capacity, session.host_id) == ("Europe/Kyiv", 2, host.pk)
    assert session.open_registration is True  # live events are open by default
    assert (session.provider, session.integration_status) == ("jitsi", "synced")
    assert session.join_url.startswith("https://")
    assert payloads("lesson.scheduled", session) == [
        {
            "lesson_id": str(session.pk),
            "program_id": str(program.pk),
            "cohort_id": None,
            "series_id": None,
            "kind": "live_event",
            "host_id": str(host.pk),
            "window": {
                "starts_at": "2026-03-10T16:00:00+00:00",
                "ends_at": "2026-03-10T17:30:00+00:00",
                "timezone": "Europe/Kyiv",
            },
            "sequence": 0,
            "capacity": 2,
            "scheduled_at": FROZEN.isoformat(),
        }
    ]
    assert payloads("coach.assigned", session) == [
        {
            "lesson_id": str(session.pk),
            "program_id": str(program.pk),
            "previous_host_id": None,
            "new_host_id": str(host.pk),
            "assigned_at": FROZEN.isoformat(),
        }
    ]
    [entry] = audits(session, "session.scheduled")
    assert entry.actor == operator
    assert entry.changes == {
        "program": str(program.pk),
        "cohort": None,
        "kind": "live_event",
        "title": "Live read",
        "starts_at": "2026-03-10T16:00:00+00:00",
        "ends_at": "2026-03-10T17:30:00+00:00",
        "timezone": "Europe/Kyiv",
        "capacity": 2,
        "host": str(host.pk),
        "series": None,
        "provider": "jitsi",
    }
    [request] = HostConfirmation.objects.filter(session=session)
    assert (request.host_id, request.status) == (host.pk, ConfirmationStatus.PENDING)
    assert request.deadline == FROZEN + timedelta(hours=48)


def test_defaults_follow_the_program_and_the_kind(make_program, mentorship_template, frozen):
    program = make_program(mentorship_template, name="Kyiv lessons", timezone="Europe/Kyiv")
    session = session_create(
        program=program, kind="lesson", title="Lesson 1", starts_at=START, ends_at=END, online=False, location="Room 4"
    )

    assert (session.timezone, session.open_registration, session.capacity, session.host_id) == (
        "Europe/Kyiv",
        False,
        None,
        None,
    )
    assert (session.provider, session.join_url, session.location) == ("none", "", "Room 4")
    assert HostConfirmation.objects.filter(session=session).count() == 0
    assert payloads("coach.assigned", session) == []


def test_create_refuses_bad_fields_naming_each(program, frozen):
    with pytest.raises(ValidationFailed) as caught:
        session_create(
            program=program,
            kind="party",
            title="  ",
            starts_at=datetime(2026, 3, 10, 18, 0),  # no offset
            ends_at=END,
            timezone="Mars/Olympus",
            capacity=0,
            provider="skype",
        )
    assert caught.value.errors == {
        "title": "A session needs a title.",
        "kind": (
            "'party' is not a session kind; use one of cohort_session, live_event, office_hours, mentoring, lesson."
        ),
        "timezone": "'Mars/Olympus' is not an IANA time zone (e.g. Europe/Kyiv).",
        "starts_at": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00).",
        "capacity": "A session holds at least 1 person (leave it empty for no limit).",
        "provider": "'skype' is not a conferencing provider.",
    }
    assert Session.objects.count() == 0


@pytest.mark.parametrize(
    ("ends_at", "message"),
    [
        (START, "A session ends after it starts."),
        (START - timedelta(minutes=1), "A session ends after it starts."),
        (START + timedelta(hours=24, minutes=1), "A session lasts at most 24 hours."),
    ],
)
def test_the_window_is_checked(program, frozen, ends_at, message):
    with pytest.raises(ValidationFailed) as caught:
        session_create(program=program, kind="lesson", title="Lesson", starts_at=START, ends_at=ends_at)
    assert caught.value.errors == {"ends_at": message}


def test_the_cohort_belongs_to_the_program_and_takes_members(
    program, make_program, mentorship_template, make_cohort, frozen
):
    elsewhere = make_cohort("Elsewhere", in_program=make_program(mentorship_template, name="Other program"))
    closed = make_cohort("Closed")
    cohort_set_status(cohort=closed, status="cancelled", reason="too few people")

    for cohort, message in [
        (elsewhere, "This cohort belongs to another program."),
        (closed, "The cohort 'Closed' is cancelled."),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            session_create(
                program=program, kind="cohort_session", title="W1", starts_at=START, ends_at=END, cohort=cohort
            )
        assert caught.value.errors == {"cohort_id": message}


def test_an_inactive_host_is_refused(program, host, frozen):
    type(host).objects.filter(pk=host.pk).update(is_active=False)
    host.refresh_from_db()
    with pytest.raises(ValidationFailed) as caught:
        session_create(program=program, kind="lesson", title="L", starts_at=START, ends_at=END, host=host)
    assert caught.value.errors == {"host_id": "host@example.org is not an active user."}


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_a_closed_or_archived_program_takes_no_sessions(program, status, frozen):
    program_set_status(program=program, status="closed")
    if status == "archived":
        program_set_status(program=program, status="archived")
    with pytest.raises(Conflict) as caught:
        session_create(program=program, kind="lesson", title="L", starts_at=START, ends_at=END)
    assert str(caught.value) == f"The program 'Mentorship 2026' is {status}; it takes no new sessions."


# --- One host, no overlaps ----------------------------------------------------------------------


def test_a_host_cannot_hold_two_overlapping_sessions(program, live, host, other_host, frozen):
    with pytest.raises(Conflict) as caught:
        session_create(
            program=program,
            kind="office_hours",
            title="Office hours",
            starts_at=END - timedelta(minutes=1),
            ends_at=END + timedelta(hours=1),
            host=host,
        )
    assert str(caught.value) == (
        "host@example.org already hosts 'Live read' from 2026-03-10T16:00:00+00:00 to "
        "2026-03-10T17:00:00+00:00, which overlaps this time."
    )
    assert Session.objects.filter(host=host).count() == 1

    # Back to back is fine; another host is fine.
    after = session_create(
        program=program, kind="office_hours", title="After", starts_at=END, ends_at=END + timedelta(hours=1), host=host
    )
    same_time = session_create(
        program=program, kind="office_hours", title="Same time", starts_at=START, ends_at=END, host=other_host
    )
    assert (after.host_id, same_time.host_id) == (host.pk, other_host.pk)


def test_a_cancelled_session_frees_its_host(program, live, host, frozen):
    session_cancel(session=live, reason="Speaker ill")
    again = session_create(program=program, kind="live_event", title="Again", starts_at=START, ends_at=END, host=host)
    assert again.status == SessionStatus.SCHEDULED


# --- Weekly series in local time ----------------------------------------------------------------


# Weekly on Sundays, 18:00 local, across each zone's spring and autumn changes (2026: Kyiv on
# 29 March and 25 October, New York on 8 March and 1 November). The transition days themselves
# are in the series.
DST_SERIES = [
    pytest.param(
        KYIV,
        date(2026, 3, 22),
        [utc(2026, 3, 22, 16, 0), utc(2026, 3, 29, 15, 0), utc(2026, 4, 5, 15, 0)],
        id="kyiv-spring",
    ),
    pytest.param(
        KYIV,
        date(2026, 10, 18),
        [utc(2026, 10, 18, 15, 0), utc(2026, 10, 25, 16, 0), utc(2026, 11, 1, 16, 0)],
        id="kyiv-autumn",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 3, 1),
        [utc(2026, 3, 1, 23, 0), utc(2026, 3, 8, 22, 0), utc(2026, 3, 15, 22, 0)],
        id="new-york-spring",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 10, 25),
        [utc(2026, 10, 25, 22, 0), utc(2026, 11, 1, 23, 0), utc(2026, 11, 8, 23, 0)],
        id="new-york-autumn",
    ),
]


@pytest.mark.parametrize(("zone", "first_day", "expected"), DST_SERIES)
def test_a_weekly_series_keeps_its_local_time_across_dst(program, host, frozen, zone, first_day, expected):
    frozen(utc(2026, 1, 5, 9, 0))
    first = datetime.combine(first_day, datetime.min.time().replace(hour=18), tzinfo=zone)

    sessions = session_series_create(
        program=program,
        kind="cohort_session",
        title="Weekly circle",
        starts_at=first,
        ends_at=first + timedelta(minutes=90),
        timezone=zone.key,
        recurrence={"frequency": "weekly", "interval": 1, "count": 3},
        host=host,
    )

    stored = list(Session.objects.filter(series_id=sessions[0].series_id).order_by("starts_at"))
    assert [s.starts_at for s in stored] == expected
    assert [s.ends_at for s in stored] == [start + timedelta(minutes=90) for start in expected]
    assert [s.starts_at.astimezone(zone).strftime("%a %H:%M") for s in stored] == ["Sun 18:00"] * 3
    assert {s.timezone for s in stored} == {zone.key}
    assert sessions[0].series_id is not None
    assert [p["window"]["starts_at"] for s in stored for p in payloads("lesson.scheduled", s)] == [
        start.isoformat() for start in expected
    ]
    assert {p["series_id"] for s in stored for p in payloads("lesson.scheduled", s)} == {str(sessions[0].series_id)}


@pytest.mark.parametrize(
    ("zone", "summer"),
    [
        (KYIV, (date(2026, 3, 29), date(2026, 10, 25))),
        (NEW_YORK, (date(2026, 3, 8), date(2026, 11, 1))),
    ],
)
def test_a_year_of_thursdays_stays_at_18_local(zone, summer):
    starts = local_occurrences(datetime(2026, 1, 1, 18, 0, tzinfo=zone), zone.key, count=52)

    days = [date(2026, 1, 1) + timedelta(weeks=n) for n in range(52)]
    standard = {KYIV: 16, NEW_YORK: 23}[zone]  # 18:00 in UTC+2 / UTC-5
    expected = [
        datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        + timedelta(hours=standard - (1 if summer[0] <= day < summer[1] else 0))
        for day in days
    ]
    assert starts == expected
    assert {start.astimezone(zone).strftime("%a %H:%M") for start in starts} == {"Thu 18:00"}


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        # 03:30 Kyiv does not exist on 29 March (03:00 -> 04:00): it moves forward by the gap.
        (
            datetime(2026, 3, 22, 3, 30, tzinfo=KYIV),
            [utc(2026, 3, 22, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)],
        ),
        # 03:30 Kyiv happens twice on 25 October (04:00 -> 03:00): the first one is taken.
        (
            datetime(2026, 10, 18, 3, 30, tzinfo=KYIV),
            [utc(2026, 10, 18, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)],
        ),
        # 02:30 New York does not exist on 8 March (02:00 -> 03:00).
        (
            datetime(2026, 3, 1, 2, 30, tzinfo=NEW_YORK),
            [utc(2026, 3, 1, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 15, 6, 30)],
        ),
        # 01:30 New York happens twice on 1 November (02:00 -> 01:00).
        (
            datetime(2026, 10, 25, 1, 30, tzinfo=NEW_YORK),
            [utc(2026, 10, 25, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 8, 6, 30)],
        ),
    ],
    ids=["kyiv-gap", "kyiv-repeat", "new-york-gap", "new-york-repeat"],
)
def test_wall_times_in_the_gap_move_forward_and_repeated_ones_take_the_first(first, expected):
    assert local_occurrences(first, first.tzinfo.key, count=3) == expected


def test_a_series_until_a_local_date_every_second_week(program, frozen):
    first = datetime(2026, 4, 2, 18, 0, tzinfo=KYIV)
    sessions = session_series_create(
        program=program,
        kind="lesson",
        title="Fortnightly",
        starts_at=first,
        ends_at=first + timedelta(hours=1),
        timezone="Europe/Kyiv",
        recurrence={"interval": 2, "until": date(2026, 5, 14)},
    )
    # 2 April, 16 April, 30 April, 14 May (inclusive).
    assert [s.starts_at for s in sessions] == [
        utc(2026, 4, 2, 15, 0),
        utc(2026, 4, 16, 15, 0),
        utc(2026, 4, 30, 15, 0),
        utc(2026, 5, 14, 15, 0),
    ]


@pytest.mark.parametrize(
    ("recurrence", "errors"),
    [
        ({"interval": 1}, {"recurrence": "Give either `count` or `until`."}),
        ({"count": 2, "until": date(2026, 5, 1)}, {"recurrence": "Give either `count` or `until`."}),
        ({"frequency": "monthly", "count": 2}, {"recurrence/frequency": "Series repeat weekly."}),
        ({"interval": 0, "count": 2}, {"recurrence/interval": "Every 1 to 52 weeks."}),
        ({"count": 201}, {"recurrence/count": "A series holds 1 to 200 sessions."}),
        (
            {"until": date(2026, 3, 1)},
            {"recurrence/until": "The series would hold no session: `until` is before the start."},
        ),
    ],
)
def test_a_series_refuses_bad_recurrences(program, frozen, recurrence, errors):
    with pytest.raises(ValidationFailed) as caught:
        session_series_create(
            program=program, kind="lesson", title="S", starts_at=START, ends_at=END, recurrence=recurrence
        )
    assert caught.value.errors == errors
    assert Session.objects.count() == 0


def test_a_series_is_all_or_nothing(program, host, frozen):
    busy = session_create(
        program=program,
        kind="mentoring",
        title="Busy",
        starts_at=START + timedelta(weeks=2, minutes=30),
        ends_at=START + timedelta(weeks=2, hours=2),
        host=host,
    )
    with pytest.raises(Conflict):
        session_series_create(
            program=program,
            kind="lesson",
            title="Weekly",
            starts_at=START,
            ends_at=END,
            recurrence={"count": 4},
            host=host,
        )
    assert list(Session.objects.all()) == [busy]
    assert OutboxEvent.objects.filter(event_type="lesson.scheduled").count() == 1


# --- Changing and rescheduling ------------------------------------------------------------------


def test_reschedule_moves_the_window_increments_the_sequence_and_tells_everyone(live, make_user, operator, frozen):
    ada, bo, cy = make_user(email="ada@example.org"), make_user(email="bo@example.org"), make_user()
    for person in (ada, bo, cy):
        registration_create(session=live, user=person)  # cy is waitlisted
    new_start = datetime(2026, 3, 12, 19, 0, tzinfo=KYIV)

    session = session_update(
        session=live,
        data={"starts_at": new_start, "ends_at": new_start + timedelta(hours=2)},
        actor=operator,
        reason="Venue change",
    )

    session.refresh_from_db()
    assert (session.starts_at, session.ends_at, session.sequence) == (
        utc(2026, 3, 12, 17, 0),
        utc(2026, 3, 12, 19, 0),
        1,
    )
    assert payloads("lesson.rescheduled", session) == [
        {
            "lesson_id": str(session.pk),
            "program_id": str(session.program_id),
            "cohort_id": None,
            "series_id": None,
            "kind": "live_event",
            "host_id": str(session.host_id),
            "previous_window": {
                "starts_at": "2026-03-10T16:00:00+00:00",
                "ends_at": "2026-03-10T17:00:00+00:00",
                "timezone": "Europe/Kyiv",
            },
            "new_window": {
                "starts_at": "2026-03-12T17:00:00+00:00",
                "ends_at": "2026-03-12T19:00:00+00:00",
                "timezone": "Europe/Kyiv",
            },
            "sequence": 1,
            "reason": "Venue change",
            "rescheduled_at": FROZEN.isoformat(),
        }
    ]
    [entry] = audits(session, "session.rescheduled")
    assert (entry.actor, entry.reason) == (operator, "Venue change")
    assert entry.changes == {
        "starts_at": ["2026-03-10T16:00:00+00:00", "2026-03-12T17:00:00+00:00"],
        "ends_at": ["2026-03-10T17:00:00+00:00", "2026-03-12T19:00:00+00:00"],
        "sequence": [0, 1],
    }
    assert [notices_of(notices.SESSION_RESCHEDULED, person) for person in (ada, bo, cy)] == [1, 1, 1]

    # Again: a second schedule, a second notice each.
    session_update(session=session, data={"starts_at": utc(2026, 3, 13, 17, 0), "ends_at": utc(2026, 3, 13, 18, 0)})
    session.refresh_from_db()
    assert session.sequence == 2
    assert [p["sequence"] for p in payloads("lesson.rescheduled", session)] == [1, 2]
    assert payloads("lesson.rescheduled", session)[1]["previous_window"]["starts_at"] == "2026-03-12T17:00:00+00:00"
    assert [notices_of(notices.SESSION_RESCHEDULED, person) for person in (ada, bo, cy)] == [2, 2, 2]


def test_the_same_instant_in_another_offset_is_no_reschedule(live, frozen):
    session = session_update(
        session=live, data={"starts_at": START.astimezone(NEW_YORK), "ends_at": END.astimezone(KYIV)}
    )
    assert session.sequence == 0
    assert payloads("lesson.rescheduled", live) == []
    assert audits(live, "session.rescheduled") == audits(live, "session.changed") == []


def test_changing_only_the_zone_keeps_the_instant_and_the_sequence(live, frozen):
    session = session_update(session=live, data={"timezone": "America/New_York"})
    session.refresh_from_db()
    assert (session.timezone, session.starts_at, session.sequence) == ("America/New_York", START, 0)
    [entry] = audits(live, "session.changed")
    assert entry.changes == {"timezone": ["Europe/Kyiv", "America/New_York"]}


def test_reschedule_refuses_an_overlap_with_the_hosts_other_session(program, live, host, frozen):
    session_create(
        program=program,
        kind="mentoring",
        title="Mentoring",
        starts_at=START + timedelta(days=1),
        ends_at=END + timedelta(days=1),
        host=host,
    )
    with pytest.raises(Conflict):
        session_update(
            session=live, data={"starts_at": START + timedelta(days=1, minutes=30), "ends_at": END + timedelta(days=1)}
        )
    live.refresh_from_db()
    assert (live.starts_at, live.sequence) == (START, 0)
    # Moving within its own window is no overlap with itself.
    moved = session_update(session=live, data={"starts_at": START + timedelta(minutes=15), "ends_at": END})
    assert moved.sequence == 1


def test_details_change_without_a_reschedule(live, operator, frozen):
    session = session_update(
        session=live,
        data={"title": " New title ", "description": "Bring questions", "location": "Hall B", "online": False},
        actor=operator,
    )
    session.refresh_from_db()
    assert (session.title, session.description, session.location, session.online, session.sequence) == (
        "New title",
        "Bring questions",
        "Hall B",
        False,
        0,
    )
    [entry] = audits(session, "session.changed")
    assert entry.changes == {
        "title": ["Live read", "New title"],
        "description": ["", "Bring questions"],
        "location": ["", "Hall B"],
        "online": [True, False],
    }
    assert payloads("lesson.rescheduled", session) == []


def test_update_refuses_unknown_fields_and_bad_values(live, frozen):
    with pytest.raises(ValidationFailed) as caught:
        session_update(session=live, data={"status": "cancelled", "program": None})
    assert caught.value.errors == {
        "program": "This field cannot be changed.",
        "status": "This field cannot be changed.",
    }
    with pytest.raises(ValidationFailed) as caught:
        session_update(session=live, data={"title": "", "starts_at": END + timedelta(hours=1), "timezone": "Nowhere"})
    assert caught.value.errors == {
        "title": "A session needs a title.",
        "timezone": "'Nowhere' is not an IANA time zone (e.g. Europe/Kyiv).",
        "ends_at": "A session ends after it starts.",
    }


def test_capacity_shrinks_to_the_registered_and_growing_promotes_the_waitlist(live, make_user, frozen):
    ada, bo, cy, di = (make_user() for _ in range(4))
    for person in (ada, bo, cy, di):
        registration_create(session=live, user=person)
    with pytest.raises(ValidationFailed) as caught:
        session_update(session=live, data={"capacity": 1})
    assert caught.value.errors == {
        "capacity": "2 people are registered; cancel registrations before shrinking below that."
    }

    session_update(session=live, data={"capacity": 3})

    statuses = dict(Registration.objects.filter(session=live).values_list("user_id", "status"))
    assert statuses == {ada.pk: "registered", bo.pk: "registered", cy.pk: "registered", di.pk: "waitlisted"}
    assert notices_of(notices.SESSION_PROMOTED, cy) == 1
    session_update(session=live, data={"capacity": None})
    assert Registration.objects.get(session=live, user=di).status == "registered"


def test_changing_the_host_emits_coach_assigned_and_asks_the_new_host(live, host, other_host, operator, frozen):
    first_request = HostConfirmation.objects.get(session=live)

    session_update(session=live, data={"host": other_host}, actor=operator)

    assert payloads("coach.assigned", live)[-1] == {
        "lesson_id": str(live.pk),
        "program_id": str(live.program_id),
        "previous_host_id": str(host.pk),
        "new_host_id": str(other_host.pk),
        "assigned_at": FROZEN.isoformat(),
    }
    first_request.refresh_from_db()
    assert first_request.status == ConfirmationStatus.WITHDRAWN
    assert list(
        HostConfirmation.objects.filter(session=live, status=ConfirmationStatus.PENDING).values_list(
            "host_id", flat=True
        )
    ) == [other_host.pk]
    [entry] = audits(live, "session.changed")
    assert entry.changes == {"host": [str(host.pk), str(other_host.pk)]}


def test_only_scheduled_sessions_change(live, frozen):
    session_cancel(session=live, reason="Speaker ill")
    with pytest.raises(Conflict) as caught:
        session_update(session=live, data={"title": "Back on"})
    assert str(caught.value) == "The session is cancelled; only scheduled sessions change."


# --- Cancelling ---------------------------------------------------------------------------------


def test_cancel_needs_a_reason(live, frozen):
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as caught:
            session_cancel(session=live, reason=reason)
        assert caught.value.errors == {"reason": "Say why the session is cancelled; participants are told."}
    live.refresh_from_db()
    assert live.status == SessionStatus.SCHEDULED


def test_cancel_emits_lesson_cancelled_and_one_notice_per_person_even_when_cancelled_twice(
    live, make_user, operator, frozen
):
    ada, bo, cy, gone = (make_user() for _ in range(4))
    for person in (ada, bo, cy, gone):
        registration_create(session=live, user=person)  # cy and gone are waitlisted
    registration_cancel(registration=Registration.objects.get(session=live, user=gone))

    session_cancel(session=live, reason=" Speaker ill ", actor=operator)
    again = session_cancel(session=live, reason="Still ill", actor=operator)

    again.refresh_from_db()
    assert (again.status, again.cancel_reason, again.cancelled_at) == ("cancelled", "Speaker ill", FROZEN)
    assert payloads("lesson.cancelled", live) == [
        {
            "lesson_id": str(live.pk),
            "program_id": str(live.program_id),
            "cohort_id": None,
            "series_id": None,
            "kind": "live_event",
            "host_id": str(live.host_id),
            "cancellation_reason": "Speaker ill",
            "cancelled_at": FROZEN.isoformat(),
        }
    ]
    claims = SessionReminder.objects.filter(session=live, kind=ReminderKind.CANCELLATION)
    assert sorted(claims.values_list("user_id", flat=True)) == sorted([ada.pk, bo.pk, cy.pk])
    assert [
        notices_of(notices.SESSION_CANCELLED, p, channel) for p in (ada, bo, cy) for channel in ("email", "dashboard")
    ] == [1] * 6
    assert notices_of(notices.SESSION_CANCELLED, gone) == 0
    [entry] = audits(live, "session.cancelled")
    assert (entry.actor, entry.reason, entry.changes["status"]) == (operator, "Speaker ill", ["scheduled", "cancelled"])
    assert HostConfirmation.objects.get(session=live).status == ConfirmationStatus.WITHDRAWN


def test_a_delivered_session_cannot_be_cancelled(live, frozen):
    frozen(END)
    session_deliver(session=live)
    with pytest.raises(IllegalTransition):
        session_cancel(session=live, reason="Too late")


# --- Delivering ---------------------------------------------------------------------------------


def test_deliver_requires_a_started_session_and_attendance(live, make_user, operator, frozen):
    ada, bo = make_user(), make_user()
    registration_create(session=live, user=ada)
    registration_create(session=live, user=bo)
    with pytest.raises(Conflict) as caught:
        session_deliver(session=live)
    assert str(caught.value) == "The session has not started yet; it can be marked delivered once it starts."

    frozen(END + timedelta(minutes=5))
    attendance_record(session=live, records=[{"user_id": str(ada.pk), "status": "present", "minutes_attended": 60}])
    with pytest.raises(Conflict) as caught:
        session_deliver(session=live)
    assert str(caught.value) == (
        "Attendance is missing for 1 of 2 registered participant(s); record it, or mark the session "
        "delivered with attendance skipped."
    )

    attendance_record(session=live, records=[{"user_id": str(bo.pk), "status": "absent", "minutes_attended": 0}])
    session = session_deliver(session=live, actor=operator)

    session.refresh_from_db()
    delivered_at = END + timedelta(minutes=5)
    assert (session.status, session.delivered_at, session.attendance_skipped) == ("delivered", delivered_at, False)
    assert payloads("lesson.delivered", session) == [
        {
            "lesson_id": str(live.pk),
            "program_id": str(live.program_id),
            "cohort_id": None,
            "series_id": None,
            "kind": "live_event",
            "host_id": str(live.host_id),
            "window": {
                "starts_at": "2026-03-10T16:00:00+00:00",
                "ends_at": "2026-03-10T17:00:00+00:00",
                "timezone": "Europe/Kyiv",
            },
            "delivered_at": delivered_at.isoformat(),
            "attendance_recorded": True,
            "attended_count": 1,
            "registered_count": 2,
        }
    ]
    assert audits(session, "session.delivered")[0].actor == operator
    # Delivering again changes nothing.
    session_deliver(session=live)
    assert len(payloads("lesson.delivered", live)) == 1


def test_deliver_with_attendance_skipped_says_so(live, make_user, frozen):
    registration_create(session=live, user=make_user())
    frozen(START + timedelta(minutes=30))

    session = session_deliver(session=live, skip_attendance=True, reason="Grid lost")

    session.refresh_from_db()
    assert (session.status, session.attendance_skipped) == ("delivered", True)
    [payload] = payloads("lesson.delivered", live)
    assert (payload["attendance_recorded"], payload["attended_count"], payload["registered_count"]) == (False, 0, 1)
    assert audits(live, "session.delivered")[0].reason == "Grid lost"


def test_a_session_without_participants_is_delivered_without_skipping(live, frozen):
    frozen(END)
    session = session_deliver(session=live)
    assert (session.status, session.attendance_skipped) == ("delivered", False)


def test_a_cancelled_session_is_not_delivered(live, frozen):
    session_cancel(session=live, reason="Speaker ill")
    frozen(END)
    with pytest.raises(IllegalTransition):
        session_deliver(session=live, skip_attendance=True)

"""Slot matching: three people in Kyiv, New York and London; their weekly availability, minus the
sessions they host or hold a (registered or waitlisted) place at, intersected; ranking by
preferred hours, cost (wait plus missing slack) and start; minimum notice; booking a slot as a
session with registrations; and concurrent bookings of the same people, raced on PostgreSQL."""

from __future__ import annotations

import time as clock_time
from datetime import UTC, date, datetime, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import scheduling.services.matching as matching
from core.errors import Conflict, ValidationFailed
from scheduling.models import Registration, Session
from scheduling.services import registration_create, session_cancel, session_create
from scheduling.services.availability import availability_create
from scheduling.services.matching import find_slots, intersect, slot_book, subtract
from tests.concurrency import race as _race

pytestmark = pytest.mark.django_db

KYIV, NEW_YORK, LONDON = "Europe/Kyiv", "America/New_York", "Europe/London"
WEEK_START, WEEK_END = datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 14, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def score(preferred: int, participants: int, cost_minutes: float) -> float:
    return round((preferred + 1 / (1 + cost_minutes / 1440)) / (participants + 1), 4)


def _weekdays(owner, start: time, end: time, zone: str) -> list[dict]:
    return [
        {
            "owner": owner,
            "kind": "weekly",
            "weekday": weekday,
            "start_time": start,
            "end_time": end,
            "timezone": zone,
            "valid_from": date(2026, 3, 2),
        }
        for weekday in range(5)
    ]


@pytest.fixture
def people(make_user):
    return {
        "ana": make_user(email="ana@example.org", timezone=KYIV),
        "ben": make_user(email="ben@example.org", timezone=NEW_YORK),
        "chen": make_user(email="chen@example.org"),  # no profile zone: her windows' zone is shown
        "dave": make_user(email="dave@example.org"),
        "eve": make_user(email="eve@example.org"),
    }


@pytest.fixture
def world(program, make_program, people, frozen):
    """Every weekday (UTC, the week of 9 March 2026, New York already on EDT, Kyiv and London not
    yet on summer time) the three are all available 13:30-16:00; their sessions take out:
    Monday 14:00-15:00 (Ben hosts, in another program), Tuesday 13:30-14:30 (Ana registered),
    Thursday 15:30-16:30 (Ana waitlisted). A cancelled Monday 15:00-16:00 session of Chen's does
    not count."""
    ana, ben, chen, dave, eve = (people[name] for name in ("ana", "ben", "chen", "dave", "eve"))
    availability_create(
        program=program,
        items=[
            *_weekdays(ana, time(15), time(21), KYIV),  # 13:00-19:00 UTC
            *_weekdays(ben, time(8), time(12), NEW_YORK),  # 12:00-16:00 UTC
            *_weekdays(chen, time(13, 30), time(17), LONDON),  # 13:30-17:00 UTC
        ],
    )
    other = make_program(program.template, name="Another program")
    session_create(
        program=other,
        kind="mentoring",
        title="Ben's other mentee",
        starts_at=utc(2026, 3, 9, 14),
        ends_at=utc(2026, 3, 9, 15),
        host=ben,
        participants=[dave],
    )
    session_create(
        program=program,
        kind="lesson",
        title="Ana's lesson",
        starts_at=utc(2026, 3, 10, 13, 30),
        ends_at=utc(2026, 3, 10, 14, 30),
        host=dave,
        participants=[ana],
    )
    full = session_create(
        program=program,
        kind="office_hours",
        title="Full office hours",
        starts_at=utc(2026, 3, 12, 15, 30),
        ends_at=utc(2026, 3, 12, 16, 30),
        host=dave,
        capacity=1,
        participants=[eve],
    )
    assert registration_create(session=full, user=ana).status == "waitlisted"
    cancelled = session_create(
        program=program,
        kind="mentoring",
        title="Called off",
        starts_at=utc(2026, 3, 9, 15),
        ends_at=utc(2026, 3, 9, 16),
        host=dave,
        participants=[chen],
    )
    session_cancel(session=cancelled, reason="Dave is ill")
    return program, [ana, ben, chen]


def _search(program, participants, **fields):
    fields.setdefault("duration_minutes", 60)
    fields.setdefault("range_start", WEEK_START)
    fields.setdefault("range_end", WEEK_END)
    return find_slots(program=program, participants=participants, **fields)


def _starts(candidates) -> list[datetime]:
    return [c.starts_at for c in candidates]


# --- The sweep ----------------------------------------------------------------------------------


def test_subtract_and_intersect_are_exact_on_half_open_intervals():
    free = [(utc(2026, 3, 9, 9), utc(2026, 3, 9, 12)), (utc(2026, 3, 9, 13), utc(2026, 3, 9, 17))]
    busy = [
        (utc(2026, 3, 9, 8), utc(2026, 3, 9, 9, 30)),
        (utc(2026, 3, 9, 10), utc(2026, 3, 9, 10, 30)),
        (utc(2026, 3, 9, 11, 30), utc(2026, 3, 9, 14)),
        (utc(2026, 3, 9, 17), utc(2026, 3, 9, 18)),  # touches the end: takes nothing
    ]
    assert subtract(free, busy) == [
        (utc(2026, 3, 9, 9, 30), utc(2026, 3, 9, 10)),
        (utc(2026, 3, 9, 10, 30), utc(2026, 3, 9, 11, 30)),
        (utc(2026, 3, 9, 14), utc(2026, 3, 9, 17)),
    ]
    assert intersect(
        [
            [(utc(2026, 3, 9, 9), utc(2026, 3, 9, 12)), (utc(2026, 3, 9, 13), utc(2026, 3, 9, 17))],
            [(utc(2026, 3, 9, 10), utc(2026, 3, 9, 13)), (utc(2026, 3, 9, 14), utc(2026, 3, 9, 15))],
            [(utc(2026, 3, 9, 8), utc(2026, 3, 9, 18))],
        ]
    ) == [(utc(2026, 3, 9, 10), utc(2026, 3, 9, 12)), (utc(2026, 3, 9, 14), utc(2026, 3, 9, 15))]
    # Someone with no free time at all: nothing in common.
    assert intersect([[(utc(2026, 3, 9, 9), utc(2026, 3, 9, 12))], []]) == []


# --- Searching ----------------------------------------------------------------------------------


def test_three_zones_busy_sessions_subtracted_ranked_by_cost(world, people):
    program, participants = world
    ana, ben, chen = participants

    candidates = _search(program, participants, limit=6)

    # Monday 15:00 follows Ben's session (no slack: +120 min); Tuesday 15:00 has 30 min after Ana's.
    assert [(c.starts_at, c.ends_at, c.slack_minutes, c.preferred, c.score) for c in candidates] == [
        (utc(2026, 3, 9, 15), utc(2026, 3, 9, 16), 0, 3, score(3, 3, 900 + 120)),
        (utc(2026, 3, 10, 15), utc(2026, 3, 10, 16), 30, 3, score(3, 3, 1440 + 900)),
        (utc(2026, 3, 10, 14, 45), utc(2026, 3, 10, 15, 45), 15, 3, score(3, 3, 1440 + 885 + 60)),
        (utc(2026, 3, 10, 14, 30), utc(2026, 3, 10, 15, 30), 0, 3, score(3, 3, 1440 + 870 + 120)),
        (utc(2026, 3, 11, 13, 30), utc(2026, 3, 11, 14, 30), 30, 3, score(3, 3, 2880 + 810)),
        (utc(2026, 3, 11, 13, 45), utc(2026, 3, 11, 14, 45), 30, 3, score(3, 3, 2880 + 825)),
    ]
    assert candidates[0].score == 0.8963
    assert candidates[0].local_times == {
        str(ana.pk): "2026-03-09T17:00:00+02:00",
        str(ben.pk): "2026-03-09T11:00:00-04:00",
        str(chen.pk): "2026-03-09T15:00:00+00:00",
    }


def test_every_free_slot_of_the_week_and_nothing_else(world):
    program, participants = world

    candidates = _search(program, participants, limit=100)

    by_day: dict[int, list[str]] = {}
    for c in sorted(candidates, key=lambda c: c.starts_at):
        by_day.setdefault(c.starts_at.day, []).append(f"{c.starts_at:%H:%M}")
    assert by_day == {
        9: ["15:00"],  # 13:30-14:00 is too short; Ben hosts 14:00-15:00; the cancelled session is free
        10: ["14:30", "14:45", "15:00"],  # Ana's lesson until 14:30
        11: ["13:30", "13:45", "14:00", "14:15", "14:30", "14:45", "15:00"],
        12: ["13:30", "13:45", "14:00", "14:15", "14:30"],  # Ana waitlisted from 15:30
        13: ["13:30", "13:45", "14:00", "14:15", "14:30", "14:45", "15:00"],
    }


def test_preferred_hours_in_one_zone_rank_first(world):
    program, participants = world

    candidates = _search(
        program, participants, limit=100, preferred_hours={"start": time(16), "end": time(18), "timezone": KYIV}
    )

    # 16:00-18:00 Kyiv is 14:00-16:00 UTC: slots starting 13:30 or 13:45 fall outside and come last.
    assert [(f"{c.starts_at:%d %H:%M}", c.preferred) for c in candidates] == [
        ("09 15:00", 3),
        ("10 15:00", 3),
        ("10 14:45", 3),
        ("10 14:30", 3),
        ("11 14:00", 3),
        ("11 14:15", 3),
        ("11 14:30", 3),
        ("11 14:45", 3),
        ("11 15:00", 3),
        ("12 14:00", 3),
        ("12 14:15", 3),  # 15 minutes before the waitlisted session
        ("12 14:30", 3),  # right before it
        ("13 14:00", 3),
        ("13 14:15", 3),
        ("13 14:30", 3),
        ("13 14:45", 3),
        ("13 15:00", 3),
        ("11 13:30", 0),
        ("11 13:45", 0),
        ("12 13:30", 0),
        ("12 13:45", 0),
        ("13 13:30", 0),
        ("13 13:45", 0),
    ]
    assert candidates[0].score == score(3, 3, 1020)
    assert candidates[-1].score == score(0, 3, 4 * 1440 + 825)


def test_preferred_hours_in_each_participants_own_zone(world):
    program, participants = world

    candidates = _search(program, participants, limit=10, preferred_hours={"start": time(8), "end": time(11)})

    # 08:00-11:00 is 12:00-15:00 UTC for Ben (EDT); never common time for Ana (Kyiv) or Chen (London).
    assert [(f"{c.starts_at:%d %H:%M}", c.preferred) for c in candidates] == [
        ("11 13:30", 1),
        ("11 13:45", 1),
        ("11 14:00", 1),
        ("12 13:30", 1),
        ("12 13:45", 1),
        ("12 14:00", 1),
        ("13 13:30", 1),
        ("13 13:45", 1),
        ("13 14:00", 1),
        ("09 15:00", 0),
    ]


def test_minimum_notice_moves_the_search_start(world, frozen):
    program, participants = world
    frozen(utc(2026, 3, 9, 13, 50))

    soon = _search(program, participants, limit=1, min_notice_minutes=70)
    later = _search(program, participants, limit=3, min_notice_minutes=75)

    assert _starts(soon) == [utc(2026, 3, 9, 15)]  # 15:00 is exactly 70 minutes away
    # From 15:05 Monday nothing fits before 16:00; Tuesday is costed from 15:05 Monday.
    assert [(c.starts_at, c.score) for c in later] == [
        (utc(2026, 3, 10, 15), score(3, 3, 1435)),
        (utc(2026, 3, 10, 14, 45), score(3, 3, 1420 + 60)),
        (utc(2026, 3, 10, 14, 30), score(3, 3, 1405 + 120)),
    ]


def test_slots_start_on_the_wall_clock_grid_of_the_reference_zone(world):
    program, participants = world
    preferred = {"start": time(0), "end": time(23, 59), "timezone": "Asia/Kolkata"}

    hourly_utc = _search(program, participants, limit=100, step_minutes=60)
    hourly_kolkata = _search(program, participants, limit=100, step_minutes=60, preferred_hours=preferred)

    assert sorted(f"{c.starts_at:%H:%M}" for c in hourly_utc if c.starts_at.day == 11) == ["14:00", "15:00"]
    # Kolkata is UTC+05:30: its full hours are half past in UTC.
    assert sorted(f"{c.starts_at:%H:%M}" for c in hourly_kolkata if c.starts_at.day == 11) == ["13:30", "14:30"]


def test_a_person_without_any_window_leaves_no_slot(world, people):
    program, participants = world

    assert _search(program, [*participants, people["dave"]]) == []


def test_the_search_costs_three_queries_whatever_the_number_of_people(world, make_user, program):
    program, participants = world
    crowd = [make_user() for _ in range(20)]
    availability_create(
        program=program, items=[item for person in crowd for item in _weekdays(person, time(0), time(23), "UTC")]
    )

    with CaptureQueriesContext(connection) as three:
        few = _search(program, participants)
    with CaptureQueriesContext(connection) as many:
        more = _search(program, [*participants, *crowd])

    assert len(three) == len(many) == 3
    assert _starts(more) == _starts(few)


def test_invalid_search_input_names_each_field(program, people):
    with pytest.raises(ValidationFailed) as caught:
        find_slots(
            program=program,
            participants=[],
            duration_minutes=0,
            range_start=datetime(2026, 3, 9, 9),
            range_end=utc(2026, 9, 1),
            min_notice_minutes=-5,
            preferred_hours={"start": time(18), "end": time(9), "timezone": "Nowhere/City"},
            step_minutes=7,
            limit=0,
        )
    with pytest.raises(ValidationFailed) as long_range:
        find_slots(
            program=program,
            participants=[people["ana"]],
            duration_minutes=60,
            range_start=utc(2026, 3, 9),
            range_end=utc(2026, 6, 10),
        )

    assert caught.value.errors == {
        "participant_ids": "Name at least one participant.",
        "duration_minutes": "From 5 to 1440 minutes.",
        "range_start": "Give the time with its UTC offset (e.g. 2026-03-02T09:00:00+02:00).",
        "min_notice_minutes": "From 0 to 527040 minutes.",
        "step_minutes": "Slots start every 5, 10, 15, 20, 30, 60 minutes.",
        "limit": "From 1 to 100 candidates.",
        "preferred_hours/end": "Preferred hours end after they start, on the same day.",
        "preferred_hours/timezone": "'Nowhere/City' is not an IANA time zone (e.g. Europe/Kyiv).",
    }
    assert long_range.value.errors == {"range_end": "Search at most 92 days at once."}


# --- Booking ------------------------------------------------------------------------------------


def _book(program, participants, **fields):
    fields.setdefault("duration_minutes", 60)
    fields.setdefault("range_start", WEEK_START)
    fields.setdefault("range_end", WEEK_END)
    fields.setdefault("title", "Mentoring")
    return slot_book(program=program, participants=participants, **fields)


def _registrations(session) -> list[tuple]:
    return sorted(
        (r.user.email, r.status, r.source) for r in Registration.objects.filter(session=session).select_related("user")
    )


def test_commit_books_the_best_slot_with_the_others_registered(world, operator):
    program, participants = world

    booking = _book(program, participants, actor=operator)

    session = Session.objects.get(pk=booking.session.pk)
    assert (session.starts_at, session.ends_at, session.timezone, session.kind, session.title, session.host_id) == (
        utc(2026, 3, 9, 15),
        utc(2026, 3, 9, 16),
        "UTC",
        "mentoring",
        "Mentoring",
        participants[0].pk,
    )
    assert _registrations(session) == [
        ("ben@example.org", "registered", "match"),
        ("chen@example.org", "registered", "match"),
    ]
    assert _starts(booking.candidates)[:2] == [utc(2026, 3, 9, 15), utc(2026, 3, 10, 15)]
    # The booked hour is now busy for all three.
    assert _starts(_search(program, participants, limit=1)) == [utc(2026, 3, 10, 15)]


def test_commit_a_chosen_slot_with_a_chosen_host_in_the_preferred_zone(world):
    program, participants = world
    ana, ben, chen = participants

    booking = _book(
        program,
        participants,
        host=ben,
        kind="lesson",
        slot_starts_at=datetime.fromisoformat("2026-03-11T09:40:00-04:00"),  # off the grid, but free
        preferred_hours={"start": time(9), "end": time(12), "timezone": NEW_YORK},
    )

    session = booking.session
    assert (session.starts_at, session.host_id, session.timezone, session.kind) == (
        utc(2026, 3, 11, 13, 40),
        ben.pk,
        NEW_YORK,
        "lesson",
    )
    assert _registrations(session) == [
        ("ana@example.org", "registered", "match"),
        ("chen@example.org", "registered", "match"),
    ]


def test_a_chosen_slot_that_is_not_free_names_who_is_busy(world):
    program, participants = world
    ana = participants[0]

    with pytest.raises(Conflict) as caught:
        _book(program, participants, slot_starts_at=utc(2026, 3, 10, 14))

    assert str(caught.value) == (
        f"The slot 2026-03-10T14:00:00+00:00 to 2026-03-10T15:00:00+00:00 is not free for {ana}."
    )
    assert Session.objects.filter(title="Mentoring").count() == 0


def test_booking_refusals(world, people, frozen):
    program, participants = world

    with pytest.raises(Conflict) as no_slot:
        _book(program, participants, range_start=utc(2026, 3, 14), range_end=utc(2026, 3, 15))
    with pytest.raises(ValidationFailed) as outside:
        _book(program, participants, slot_starts_at=utc(2026, 3, 13, 23, 30))
    with pytest.raises(ValidationFailed) as stranger:
        _book(program, participants, host=people["dave"])
    frozen(utc(2026, 3, 9, 14, 30))
    with pytest.raises(Conflict) as notice:
        _book(program, participants, slot_starts_at=utc(2026, 3, 9, 15), min_notice_minutes=60)

    assert str(no_slot.value) == (
        "No 60-minute slot between 2026-03-14T00:00:00+00:00 and 2026-03-15T00:00:00+00:00 is free for all 3 "
        "participants."
    )
    assert outside.value.errors == {"slot_starts_at": "The slot lies inside the search range."}
    assert stranger.value.errors == {"host_id": "The host is one of the participants."}
    assert str(notice.value) == (
        "The slot starts before 2026-03-09T15:30:00+00:00: within the minimum notice of 60 minutes."
    )
    assert Session.objects.filter(title="Mentoring").count() == 0


# --- Concurrency --------------------------------------------------------------------------------


@pytest.fixture
def slow_search(monkeypatch):
    """Sleep after each search, so bookings that are not serialised overlap."""
    real = matching.search

    def slow(**fields):
        found = real(**fields)
        clock_time.sleep(0.2)
        return found

    monkeypatch.setattr(matching, "search", slow)


WEDNESDAY = utc(2026, 3, 11, 13, 30)


def _booked_at_wednesday(user) -> int:
    hosted = Session.objects.filter(host=user, starts_at=WEDNESDAY, status="scheduled").count()
    attending = Registration.objects.filter(user=user, session__starts_at=WEDNESDAY, status="registered").count()
    return hosted + attending


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_the_same_people_and_slot_book_once(world, slow_search):
    program, participants = world

    results, conflicts, errors = _race([lambda: _book(program, participants, slot_starts_at=WEDNESDAY)] * 2)

    assert (errors, len(results), len(conflicts)) == ([], 1, 1)
    assert str(conflicts[0]).startswith("The slot 2026-03-11T13:30:00+00:00 to 2026-03-11T14:30:00+00:00 is not free")
    assert Session.objects.filter(starts_at=WEDNESDAY).count() == 1
    assert [_booked_at_wednesday(p) for p in participants] == [1, 1, 1]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_bookings_with_different_hosts_sharing_a_participant_book_once(world, slow_search):
    program, (ana, ben, chen) = world

    results, conflicts, errors = _race(
        [
            lambda: _book(program, [ana, ben], slot_starts_at=WEDNESDAY),
            lambda: _book(program, [chen, ben], slot_starts_at=WEDNESDAY),
        ]
    )

    assert (errors, len(results), len(conflicts)) == ([], 1, 1)
    assert str(conflicts[0]).endswith(f"is not free for {ben}.")
    assert _booked_at_wednesday(ben) == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_control_without_locking_the_participants_the_shared_one_is_double_booked(world, slow_search, monkeypatch):
    program, (ana, ben, chen) = world
    monkeypatch.setattr(matching, "lock_people", lambda user_ids: None)

    results, conflicts, errors = _race(
        [
            lambda: _book(program, [ana, ben], slot_starts_at=WEDNESDAY),
            lambda: _book(program, [chen, ben], slot_starts_at=WEDNESDAY),
        ]
    )

    assert (errors, len(results), len(conflicts)) == ([], 2, 0)
    assert _booked_at_wednesday(ben) == 2

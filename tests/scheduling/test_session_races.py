"""Sessions under concurrency, raced on PostgreSQL with real transactions (one thread and one
connection each): a session's capacity is never exceeded and its waiting list gets distinct
places; a host never ends up with two overlapping sessions; cancellations racing registrations
promote exactly as many people as places were freed. Controls with the lock removed show that
each race is real."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

import scheduling.services.registrations as registrations
import scheduling.services.sessions as sessions
from core import clock
from scheduling.enums import RegistrationStatus
from scheduling.models import Registration, Session
from scheduling.selectors import session_registrations
from scheduling.services import cohort_member_add
from tests.concurrency import race as _race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

THREADS = 12
CAPACITY = 4
WINDOW_SECONDS = 0.05


@pytest.fixture
def start():
    """A week from now (the product's real clock: every thread must see the same time)."""
    return clock.now().replace(microsecond=0) + timedelta(days=7)


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org")


@pytest.fixture
def people(make_user):
    return [make_user(email=f"racer{n:02d}@example.org") for n in range(THREADS)]


@pytest.fixture
def event(program, host, start):
    return sessions.session_create(
        program=program,
        kind="live_event",
        title="Live read",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        capacity=CAPACITY,
        host=host,
    )


@pytest.fixture
def wide_count(monkeypatch):
    """Sleep between counting the registered people and writing, so unserialised transactions overlap."""
    counted = []
    real = registrations.registered_count

    def slow_count(session):
        taken = real(session)
        counted.append(taken)
        time.sleep(WINDOW_SECONDS)
        return taken

    monkeypatch.setattr(registrations, "registered_count", slow_count)
    return counted


def _register_calls(session, people):
    return [(lambda p=p: registrations.registration_create(session=session, user=p)) for p in people]


# --- Capacity -----------------------------------------------------------------------------------


def test_parallel_registrations_fill_the_capacity_and_queue_the_rest(event, people, wide_count):
    results, conflicts, errors = _race(_register_calls(event, people))

    assert (errors, conflicts, len(results)) == ([], [], THREADS)
    rows = list(session_registrations(event))
    registered = [r for r in rows if r.status == RegistrationStatus.REGISTERED]
    waitlisted = [r for r in rows if r.status == RegistrationStatus.WAITLISTED]
    assert len(registered) == CAPACITY
    assert len(waitlisted) == THREADS - CAPACITY
    assert [r.waitlist_position for r in waitlisted] == list(range(1, THREADS - CAPACITY + 1))
    # The queue is in the order people joined it, and everyone got a distinct moment.
    joined = [r.waitlisted_at for r in waitlisted]
    assert joined == sorted(joined) and len(set(joined)) == len(joined)
    assert {r.user_id for r in rows} == {p.pk for p in people}
    # The lock serialised the counts: each thread saw the places taken by those before it.
    assert sorted(wide_count) == [0, 1, 2, 3] + [CAPACITY] * (THREADS - CAPACITY)


def test_control_without_the_lock_overbooks(event, people, wide_count, monkeypatch):
    monkeypatch.setattr(
        registrations, "_lock", lambda session_id: Session.objects.select_related("program").get(pk=session_id)
    )

    results, conflicts, errors = _race(_register_calls(event, people))

    assert errors == []
    registered = Registration.objects.filter(session=event, status=RegistrationStatus.REGISTERED).count()
    assert registered > CAPACITY
    assert len(results) == THREADS


def test_cancellations_racing_registrations_never_exceed_the_capacity(event, people):
    first, rest = people[:CAPACITY], people[CAPACITY:]
    places = [registrations.registration_create(session=event, user=p) for p in first]
    queued = [registrations.registration_create(session=event, user=p) for p in rest[:3]]
    newcomers = rest[3:]
    calls = [(lambda r=r: registrations.registration_cancel(registration=r)) for r in places[:2]]
    calls += _register_calls(event, newcomers)

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts) == ([], [])
    rows = {r.user_id: r for r in session_registrations(event)}
    assert sum(r.status == RegistrationStatus.REGISTERED for r in rows.values()) == CAPACITY
    # The two freed places went to the two people longest on the waiting list.
    assert [rows[r.user_id].status for r in queued] == ["registered", "registered", "waitlisted"]
    assert rows[queued[2].user_id].waitlist_position == 1
    waitlisted = sorted(r.waitlist_position for r in rows.values() if r.status == RegistrationStatus.WAITLISTED)
    assert waitlisted == list(range(1, len(newcomers) + 2))


# --- One host, no overlaps ----------------------------------------------------------------------


@pytest.fixture
def wide_conflict(monkeypatch):
    """Sleep between looking for the host's overlapping session and inserting."""
    checked = []
    real = sessions.host_conflict

    def slow_conflict(host_id, starts_at, ends_at, *, exclude=None):
        clash = real(host_id, starts_at, ends_at, exclude=exclude)
        checked.append(clash is not None)
        time.sleep(WINDOW_SECONDS)
        return clash

    monkeypatch.setattr(sessions, "host_conflict", slow_conflict)
    return checked


HOST_THREADS = 8


def _booking_calls(program, host, start):
    # Every window overlaps every other: they start 5 minutes apart and last an hour.
    return [
        (
            lambda n=n: sessions.session_create(
                program=program,
                kind="mentoring",
                title=f"Booking {n}",
                starts_at=start + timedelta(minutes=5 * n),
                ends_at=start + timedelta(minutes=5 * n + 60),
                host=host,
            )
        )
        for n in range(HOST_THREADS)
    ]


def test_parallel_bookings_of_one_host_leave_exactly_one(program, host, start, wide_conflict):
    results, conflicts, errors = _race(_booking_calls(program, host, start))

    assert errors == []
    assert (len(results), len(conflicts)) == (1, HOST_THREADS - 1)
    assert list(Session.objects.filter(host=host).values_list("pk", flat=True)) == [results[0].pk]
    assert all("already hosts" in str(c) for c in conflicts)
    assert sorted(wide_conflict) == [False] + [True] * (HOST_THREADS - 1)


def test_parallel_bookings_of_different_hosts_all_succeed(program, make_user, start):
    hosts = [make_user() for _ in range(HOST_THREADS)]
    calls = [
        (
            lambda h=h: sessions.session_create(
                program=program,
                kind="mentoring",
                title="M",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                host=h,
            )
        )
        for h in hosts
    ]
    results, conflicts, errors = _race(calls)
    assert (errors, conflicts, len(results)) == ([], [], HOST_THREADS)


def test_a_reschedule_racing_a_booking_of_the_same_host_leaves_no_overlap(program, host, start):
    moving = sessions.session_create(
        program=program,
        kind="mentoring",
        title="Moving",
        starts_at=start + timedelta(days=1),
        ends_at=start + timedelta(days=1, hours=1),
        host=host,
    )
    window = {"starts_at": start, "ends_at": start + timedelta(hours=1)}
    calls = [lambda: sessions.session_update(session=moving, data=window)]
    calls += [lambda: sessions.session_create(program=program, kind="mentoring", title="New", host=host, **window)] * 3

    results, conflicts, errors = _race(calls)

    assert errors == []
    assert (len(results), len(conflicts)) == (1, 3)
    overlapping = Session.objects.filter(host=host, starts_at__lt=window["ends_at"], ends_at__gt=window["starts_at"])
    assert overlapping.count() == 1


def test_control_without_the_host_lock_double_books(program, host, start, wide_conflict, monkeypatch):
    monkeypatch.setattr(sessions, "lock_user", lambda user_id: None)

    results, conflicts, errors = _race(_booking_calls(program, host, start))

    assert errors == []
    assert len(results) > 1
    assert Session.objects.filter(host=host).count() == len(results)


# --- Cohort sessions and members joining at the same moment -------------------------------------

JOINERS = 4


@pytest.fixture
def crossing(monkeypatch):
    """Widen both windows: the session's transaction stays open a while after reading the cohort's
    members; a placement waits a little before looking for the cohort's upcoming sessions."""
    read_members = registrations.register_cohort_members
    look_for_sessions = registrations.cohort_member_joined

    def slow_read(**kwargs):
        count = read_members(**kwargs)
        time.sleep(6 * WINDOW_SECONDS)
        return count

    def slow_look(**kwargs):
        time.sleep(WINDOW_SECONDS)
        return look_for_sessions(**kwargs)

    monkeypatch.setattr(registrations, "register_cohort_members", slow_read)
    monkeypatch.setattr(registrations, "cohort_member_joined", slow_look)


def _cohort_calls(program, start, make_cohort, enroll):
    cohort = make_cohort("Racing", capacity=JOINERS + 1)
    enrollments = [enroll() for _ in range(JOINERS)]
    calls = [(lambda e=e: cohort_member_add(cohort=cohort, enrollment=e)) for e in enrollments]
    calls.append(
        lambda: sessions.session_create(
            program=program,
            kind="cohort_session",
            title="Cohort call",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            cohort=cohort,
        )
    )
    return cohort, enrollments, calls


def test_members_joining_while_a_cohort_session_is_scheduled_are_all_registered(
    program, start, make_cohort, enroll, crossing
):
    cohort, enrollments, calls = _cohort_calls(program, start, make_cohort, enroll)

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts, len(results)) == ([], [], JOINERS + 1)
    session = Session.objects.get(cohort=cohort)
    registered = set(
        Registration.objects.filter(session=session, status=RegistrationStatus.REGISTERED).values_list(
            "user_id", flat=True
        )
    )
    assert registered == {e.user_id for e in enrollments}


def test_control_without_the_cohort_lock_misses_members(program, start, make_cohort, enroll, crossing, monkeypatch):
    monkeypatch.setattr(registrations, "_lock_cohort", lambda cohort_id: None)
    cohort, enrollments, calls = _cohort_calls(program, start, make_cohort, enroll)

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts, len(results)) == ([], [], JOINERS + 1)
    session = Session.objects.get(cohort=cohort)
    assert Registration.objects.filter(session=session).count() < JOINERS

"""Registration services: registering or queueing, who may register, cancelling with promotion
of the waiting list (and its notice), and cohort sessions that follow the cohort's members."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.errors import Conflict, NotFound
from core.models import AuditEntry
from notifications.models import Notification
from scheduling import notices
from scheduling.enums import RegistrationSource, RegistrationStatus
from scheduling.models import Registration
from scheduling.selectors import my_registration, session_registration_summary, session_registrations
from scheduling.services import (
    cohort_member_add,
    cohort_member_move,
    cohort_member_remove,
    registration_cancel,
    registration_create,
    session_cancel,
    session_create,
    session_series_create,
)
from tests.scheduling.conftest import FROZEN

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def statuses(session) -> dict[str, str]:
    return {r.user.email: r.status for r in Registration.objects.filter(session=session).select_related("user")}


def positions(session) -> dict[str, int | None]:
    return {r.user.email: r.waitlist_position for r in session_registrations(session)}


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org")


@pytest.fixture
def people(make_user):
    return [make_user(email=f"{name}@example.org") for name in ("ada", "bo", "cy", "di", "ed")]


@pytest.fixture
def live(program, host, frozen):
    """An open live event for two people."""
    return session_create(
        program=program, kind="live_event", title="Live read", starts_at=START, ends_at=END, capacity=2, host=host
    )


@pytest.fixture
def lesson(program, frozen):
    """An invitation-only lesson for two people."""
    return session_create(program=program, kind="lesson", title="Lesson", starts_at=START, ends_at=END, capacity=2)


# --- Registering --------------------------------------------------------------------------------


def test_register_until_full_then_queue_in_order(live, people, frozen):
    ada, bo, cy, di, _ = people
    first = registration_create(session=live, user=ada)
    registration_create(session=live, user=bo)
    frozen(FROZEN + timedelta(minutes=1))
    registration_create(session=live, user=cy)
    frozen(FROZEN + timedelta(minutes=2))
    queued = registration_create(session=live, user=di)

    assert (first.status, first.registered_at, first.waitlisted_at, first.source) == (
        "registered",
        FROZEN,
        None,
        "self",
    )
    assert (queued.status, queued.registered_at, queued.waitlisted_at) == (
        "waitlisted",
        None,
        FROZEN + timedelta(minutes=2),
    )
    assert positions(live) == {
        "ada@example.org": None,
        "bo@example.org": None,
        "cy@example.org": 1,
        "di@example.org": 2,
    }
    assert session_registration_summary(live) == {
        "registered_count": 2,
        "waitlisted_count": 2,
        "cancelled_count": 0,
        "places_left": 0,
    }
    [entry] = AuditEntry.objects.filter(target_id=str(first.pk), action="registration.created")
    assert (entry.actor, entry.changes) == (
        ada,
        {"status": "registered", "source": "self", "session": str(live.pk)},
    )


def test_registering_twice_returns_the_same_place(live, people):
    ada = people[0]
    first = registration_create(session=live, user=ada)
    again = registration_create(session=live, user=ada)
    assert (again.pk, again.status) == (first.pk, "registered")
    assert Registration.objects.filter(session=live).count() == 1


def test_a_full_session_without_waitlist_answers_conflict(live, people):
    registration_create(session=live, user=people[0])
    registration_create(session=live, user=people[1])
    with pytest.raises(Conflict) as caught:
        registration_create(session=live, user=people[2], waitlist=False)
    assert str(caught.value) == "The session 'Live read' is full (2 places)."
    assert Registration.objects.filter(session=live).count() == 2


def test_a_session_without_capacity_takes_everyone(program, people, frozen):
    session = session_create(program=program, kind="office_hours", title="Open", starts_at=START, ends_at=END)
    for person in people:
        registration_create(session=session, user=person)
    assert set(statuses(session).values()) == {"registered"}
    assert session_registration_summary(session)["places_left"] is None


def test_an_invitation_only_session_is_hidden_from_strangers(lesson, people, operator):
    with pytest.raises(NotFound) as caught:
        registration_create(session=lesson, user=people[0])
    assert str(caught.value) == f"No session with the id {lesson.pk} is open to you."

    # An operator's invitation lets the person come back after cancelling.
    added = registration_create(session=lesson, user=people[1], actor=operator, source=RegistrationSource.OPERATOR)
    assert (added.status, added.source) == ("registered", "operator")
    [entry] = AuditEntry.objects.filter(target_id=str(added.pk), action="registration.created")
    assert entry.actor == operator
    registration_cancel(registration=added, actor=people[1])
    again = registration_create(session=lesson, user=people[1])
    assert (again.pk, again.status, again.source) == (added.pk, "registered", "self")


@pytest.mark.parametrize("state", ["cancelled", "over"])
def test_cancelled_or_ended_sessions_take_no_self_registration(live, people, frozen, state):
    if state == "cancelled":
        session_cancel(session=live, reason="Speaker ill")
        message = "The session is cancelled; it takes no registrations."
    else:
        frozen(END)
        message = "The session is over; it takes no registrations."
    with pytest.raises(Conflict) as caught:
        registration_create(session=live, user=people[0])
    assert str(caught.value) == message


def test_an_operator_may_add_someone_to_an_ended_session(live, people, operator, frozen):
    frozen(END + timedelta(hours=1))
    added = registration_create(session=live, user=people[0], actor=operator, source=RegistrationSource.OPERATOR)
    assert added.status == "registered"


def test_the_host_and_inactive_users_do_not_register(live, host, people):
    with pytest.raises(Conflict) as caught:
        registration_create(session=live, user=host)
    assert str(caught.value) == "The host runs this session and does not register for it."
    type(people[0]).objects.filter(pk=people[0].pk).update(is_active=False)
    people[0].refresh_from_db()
    with pytest.raises(Conflict) as caught:
        registration_create(session=live, user=people[0])
    assert str(caught.value) == "ada@example.org is not an active user."


# --- Cancelling and the waiting list ------------------------------------------------------------


def test_cancelling_a_place_promotes_the_first_waitlisted_and_tells_them(live, people, frozen):
    ada, bo, cy, di, _ = people
    for minute, person in enumerate((ada, bo, cy, di)):
        frozen(FROZEN + timedelta(minutes=minute))
        registration_create(session=live, user=person)
    frozen(FROZEN + timedelta(hours=1))

    cancelled = registration_cancel(registration=my_registration(live, bo), actor=bo, reason="Can't come")

    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", FROZEN + timedelta(hours=1))
    assert statuses(live) == {
        "ada@example.org": "registered",
        "bo@example.org": "cancelled",
        "cy@example.org": "registered",
        "di@example.org": "waitlisted",
    }
    assert positions(live)["di@example.org"] == 1
    promoted = my_registration(live, cy)
    assert promoted.registered_at == FROZEN + timedelta(hours=1)
    sent = Notification.objects.filter(kind=notices.SESSION_PROMOTED)
    assert sorted(sent.values_list("user__email", "channel")) == [
        ("cy@example.org", "dashboard"),
        ("cy@example.org", "email"),
    ]
    assert "Live read" in sent.get(channel="email").subject + sent.get(channel="email").body_text
    [entry] = AuditEntry.objects.filter(target_id=str(promoted.pk), action="registration.promoted")
    assert (entry.actor, entry.changes) == (bo, {"status": ["waitlisted", "registered"]})
    [entry] = AuditEntry.objects.filter(target_id=str(cancelled.pk), action="registration.cancelled")
    assert (entry.reason, entry.changes) == ("Can't come", {"status": ["registered", "cancelled"]})


def test_leaving_the_waiting_list_moves_the_others_up_without_promotion(live, people, frozen):
    ada, bo, cy, di, ed = people
    for minute, person in enumerate(people):
        frozen(FROZEN + timedelta(minutes=minute))
        registration_create(session=live, user=person)
    assert [positions(live)[p.email] for p in (cy, di, ed)] == [1, 2, 3]

    registration_cancel(registration=my_registration(live, di))

    assert positions(live) == {
        "ada@example.org": None,
        "bo@example.org": None,
        "cy@example.org": 1,
        "ed@example.org": 2,
        "di@example.org": None,
    }
    assert [r.user.email for r in session_registrations(live)] == [
        "ada@example.org",
        "bo@example.org",
        "cy@example.org",
        "ed@example.org",
        "di@example.org",
    ]
    assert Notification.objects.filter(kind=notices.SESSION_PROMOTED).count() == 0


def test_cancel_twice_changes_nothing_and_coming_back_queues_at_the_end(live, people, frozen):
    ada, bo, cy, *_ = people
    for person in (ada, bo, cy):
        registration_create(session=live, user=person)
    place = registration_cancel(registration=my_registration(live, ada))
    assert registration_cancel(registration=place).status == "cancelled"
    assert AuditEntry.objects.filter(target_id=str(place.pk), action="registration.cancelled").count() == 1

    frozen(FROZEN + timedelta(minutes=5))
    back = registration_create(session=live, user=ada)  # cy took the free place

    assert (back.pk, back.status, back.waitlisted_at, back.cancelled_at) == (
        place.pk,
        "waitlisted",
        FROZEN + timedelta(minutes=5),
        None,
    )
    assert AuditEntry.objects.filter(target_id=str(place.pk), action="registration.renewed").count() == 1


def test_registrations_of_ended_or_cancelled_sessions_no_longer_change(live, people, frozen):
    place = registration_create(session=live, user=people[0])
    frozen(END)
    with pytest.raises(Conflict) as caught:
        registration_cancel(registration=place)
    assert str(caught.value) == "The session is over; its registrations no longer change."

    frozen(FROZEN)
    session_cancel(session=live, reason="Speaker ill")
    with pytest.raises(Conflict) as caught:
        registration_cancel(registration=place)
    assert str(caught.value) == "The session is cancelled; its registrations no longer change."


# --- Cohort sessions ----------------------------------------------------------------------------


@pytest.fixture
def members(cohort, enroll, frozen):
    """Three active members of the cohort (capacity 3), joined in this order."""
    placed = []
    for minute, name in enumerate(("ann", "ben", "cat")):
        frozen(FROZEN + timedelta(minutes=minute))
        placed.append(cohort_member_add(cohort=cohort, enrollment=enroll(f"{name}@example.org")))
    frozen(FROZEN)
    return placed


def _cohort_session(program, cohort, *, start=START, capacity=None, host=None):
    return session_create(
        program=program,
        kind="cohort_session",
        title="Cohort call",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        cohort=cohort,
        capacity=capacity,
        host=host,
    )


def test_a_cohort_session_registers_the_active_members(program, cohort, members, enroll, make_cohort, frozen):
    cohort_member_remove(member=members[2], reason="moved away")
    elsewhere = make_cohort("Autumn")
    cohort_member_add(cohort=elsewhere, enrollment=enroll("out@example.org"))

    session = _cohort_session(program, cohort, capacity=1)

    assert statuses(session) == {"ann@example.org": "registered", "ben@example.org": "waitlisted"}
    assert set(Registration.objects.filter(session=session).values_list("source", flat=True)) == {"cohort"}
    assert session.open_registration is False


def test_a_cohort_member_hosting_the_session_and_inactive_members_are_not_registered(program, cohort, members, frozen):
    hosting = members[0].enrollment.user
    inactive = members[1].enrollment.user
    type(inactive).objects.filter(pk=inactive.pk).update(is_active=False)

    session = _cohort_session(program, cohort, host=hosting)

    assert statuses(session) == {"cat@example.org": "registered"}


def test_members_joining_later_are_registered_for_upcoming_sessions_only(program, cohort, members, enroll, frozen):
    frozen(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    past = _cohort_session(program, cohort, start=datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    upcoming = session_series_create(
        program=program,
        kind="cohort_session",
        title="Weekly",
        starts_at=START,
        ends_at=END,
        cohort=cohort,
        recurrence={"count": 2},
    )
    cohort_member_remove(member=members[0])

    newcomer = cohort_member_add(cohort=cohort, enrollment=enroll("new@example.org"))

    user = newcomer.enrollment.user
    assert Registration.objects.filter(session=past, user=user).count() == 0
    assert [my_registration(s, user).status for s in upcoming] == ["registered", "registered"]
    assert [my_registration(s, user).source for s in upcoming] == ["cohort", "cohort"]


def test_members_leaving_are_cancelled_and_their_place_goes_to_the_waitlist(program, cohort, members, enroll, frozen):
    session = _cohort_session(program, cohort, capacity=2)
    assert statuses(session)["cat@example.org"] == "waitlisted"

    cohort_member_remove(member=members[0], reason="left")

    assert statuses(session) == {
        "ann@example.org": "cancelled",
        "ben@example.org": "registered",
        "cat@example.org": "registered",
    }
    assert Notification.objects.filter(kind=notices.SESSION_PROMOTED, user__email="cat@example.org").count() == 2
    # A cohort place lost by leaving is no invitation to register again.
    with pytest.raises(NotFound):
        registration_create(session=session, user=members[0].enrollment.user)


def test_moving_a_member_moves_their_sessions(program, cohort, make_cohort, members, frozen):
    autumn = make_cohort("Autumn", starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 1))
    spring_call = _cohort_session(program, cohort)
    autumn_call = _cohort_session(program, autumn, start=START + timedelta(days=1))

    cohort_member_move(member=members[1], to_cohort=autumn)

    ben = members[1].enrollment.user
    assert my_registration(spring_call, ben).status == RegistrationStatus.CANCELLED
    assert my_registration(autumn_call, ben).status == RegistrationStatus.REGISTERED

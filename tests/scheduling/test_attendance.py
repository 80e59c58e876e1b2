"""Attendance: the operator's upsert (idempotent, registered participants only, audited, one
`lesson.attended` per created or changed row), self check-in in its window on a frozen clock,
and the completion rule settling a cohort's members by their attendance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import Conflict, NotFound, ValidationFailed
from core.models import AuditEntry
from crm_sync import registry as event_registry
from crm_sync.models import OutboxEvent
from enrollments.models import Enrollment
from programs.services import program_update
from scheduling.enums import CohortStatus
from scheduling.hooks import _completion_rules
from scheduling.models import Attendance, CohortMember, Registration
from scheduling.services import (
    attendance_record,
    attendance_self_check_in,
    cohort_complete,
    cohort_member_add,
    cohort_set_status,
    registration_cancel,
    registration_create,
    session_cancel,
    session_create,
    session_deliver,
)
from scheduling.services.attendance import attendance_completion_rule

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the frozen clock says 09:30


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org")


@pytest.fixture
def operator_user(make_user):
    return make_user(email="op@example.org", role="operator", is_staff=True)


@pytest.fixture
def event(program, host, frozen):
    """A live event 10:00-11:00 UTC with room for 2; the clock stands at 09:30."""
    return session_create(
        program=program,
        kind="live_event",
        title="Live read",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        capacity=2,
        host=host,
    )


@pytest.fixture
def people(make_user, event):
    """Two registered participants and one on the waiting list."""
    ann, bob, cem = (make_user(email=f"{name}@example.org") for name in ("ann", "bob", "cem"))
    for user in (ann, bob, cem):
        registration_create(session=event, user=user)
    return ann, bob, cem


def _attended_events(session):
    return list(
        OutboxEvent.objects.filter(event_type="lesson.attended", subject_id=str(session.pk)).order_by(
            "created_at", "id"
        )
    )


def _schema_errors(event_type: str, payload: dict) -> dict:
    version = event_registry.registry().get(event_type).active
    return event_registry.validation_errors(version.validator, payload, prefix="")


# --- Operator records ---------------------------------------------------------------------------


def test_record_is_an_idempotent_upsert(event, people, operator_user, frozen):
    ann, bob, _ = people
    frozen(START + timedelta(minutes=70))
    records = [
        {"user_id": str(ann.pk), "status": "present", "minutes_attended": 60},
        {"user_id": str(bob.pk), "status": "absent", "minutes_attended": 0},
    ]
    first = attendance_record(session=event, records=records, actor=operator_user)
    assert [(a.user_id, a.status, a.minutes_attended, a.source, a.recorded_by_id) for a in first] == [
        (ann.pk, "present", 60, "operator", operator_user.pk),
        (bob.pk, "absent", 0, "operator", operator_user.pk),
    ]
    events = _attended_events(event)
    assert [e.payload for e in events] == [
        {
            "lesson_id": str(event.pk),
            "program_id": str(event.program_id),
            "user_id": str(ann.pk),
            "status": "present",
            "minutes_attended": 60,
            "source": "operator",
            "recorded_at": "2026-03-02T11:10:00+00:00",
        },
        {
            "lesson_id": str(event.pk),
            "program_id": str(event.program_id),
            "user_id": str(bob.pk),
            "status": "absent",
            "minutes_attended": 0,
            "source": "operator",
            "recorded_at": "2026-03-02T11:10:00+00:00",
        },
    ]
    assert all(_schema_errors("lesson.attended", e.payload) == {} for e in events)
    assert events[0].actor == f"user:{operator_user.pk}"

    # The same input again: the same rows, no new events, no new audit entries.
    audits = AuditEntry.objects.filter(action__startswith="attendance.").count()
    again = attendance_record(session=event, records=records, actor=operator_user)
    assert [a.pk for a in again] == [a.pk for a in first]
    assert Attendance.objects.filter(session=event).count() == 2
    assert len(_attended_events(event)) == 2
    assert AuditEntry.objects.filter(action__startswith="attendance.").count() == audits

    # A change to one row: that row only is updated, audited and emitted.
    frozen(START + timedelta(minutes=80))
    changed = attendance_record(
        session=event,
        records=[{"user_id": str(bob.pk), "status": "excused", "minutes_attended": 0}],
        actor=operator_user,
    )
    assert [(a.pk, a.status) for a in changed] == [(first[1].pk, "excused")]
    events = _attended_events(event)
    assert len(events) == 3
    assert (events[2].payload["user_id"], events[2].payload["status"], events[2].payload["recorded_at"]) == (
        str(bob.pk),
        "excused",
        "2026-03-02T11:20:00+00:00",
    )
    entry = AuditEntry.objects.get(action="attendance.changed")
    assert (entry.actor_label, entry.target_id, entry.changes) == (
        "op@example.org",
        str(first[1].pk),
        {"status": ["absent", "excused"], "user": str(bob.pk)},
    )
    created = AuditEntry.objects.filter(action="attendance.recorded").order_by("created_at", "id")
    assert [e.changes for e in created] == [
        {"user": str(ann.pk), "status": "present", "minutes_attended": 60, "source": "operator"},
        {"user": str(bob.pk), "status": "absent", "minutes_attended": 0, "source": "operator"},
    ]


def test_unknown_and_unregistered_users_are_named(event, people, host, make_user, operator_user, frozen):
    ann, bob, cem = people  # cem is waitlisted
    dropped = make_user(email="dee@example.org")
    registration = registration_create(session=event, user=dropped)  # waitlisted too
    registration_cancel(registration=registration)
    frozen(START + timedelta(minutes=5))
    ghost = "3f1b8e9e-0000-4000-8000-000000000000"
    with pytest.raises(ValidationFailed) as caught:
        attendance_record(
            session=event,
            records=[
                {"user_id": str(ann.pk), "status": "present"},
                {"user_id": str(cem.pk), "status": "present"},
                {"user_id": ghost, "status": "late"},
                {"user_id": str(host.pk), "status": "present"},
                {"user_id": str(dropped.pk), "status": "absent"},
            ],
            actor=operator_user,
        )
    assert caught.value.errors == {
        "records/1/user_id": "cem@example.org is not registered for this session.",
        "records/2/user_id": f"No user with the id {ghost}.",
        "records/3/user_id": "host@example.org is not registered for this session.",
        "records/4/user_id": "dee@example.org is not registered for this session.",
    }
    # All or nothing: ann's valid record was not saved either.
    assert Attendance.objects.count() == 0
    assert OutboxEvent.objects.filter(event_type="lesson.attended").count() == 0


def test_record_shapes_are_checked(event, people, operator_user, frozen):
    ann, bob, _ = people
    frozen(START + timedelta(minutes=5))
    with pytest.raises(ValidationFailed) as caught:
        attendance_record(
            session=event,
            records=[
                {"user_id": "not-a-uuid", "status": "present"},
                {"user_id": str(ann.pk), "status": "asleep", "minutes_attended": 61},
                {"user_id": str(bob.pk), "status": "late", "minutes_attended": -1},
                {"user_id": str(bob.pk), "status": "late", "minutes_attended": True},
            ],
            actor=operator_user,
        )
    assert caught.value.errors == {
        "records/0/user_id": "A user id (UUID) is required.",
        "records/1/status": "Use one of: present, late, absent, excused.",
        "records/1/minutes_attended": "Minutes attended are a whole number from 0 to 60.",
        "records/2/minutes_attended": "Minutes attended are a whole number from 0 to 60.",
        "records/3/user_id": "This user is listed twice (also at records/2).",
        "records/3/minutes_attended": "Minutes attended are a whole number from 0 to 60.",
    }
    with pytest.raises(ValidationFailed) as caught:
        attendance_record(session=event, records=[], actor=operator_user)
    assert caught.value.errors == {"records": "Give at least one attendance record."}
    # The full length is accepted.
    rows = attendance_record(
        session=event, records=[{"user_id": ann.pk, "status": "present", "minutes_attended": 60}], actor=operator_user
    )
    assert rows[0].minutes_attended == 60


def test_only_started_and_not_cancelled_sessions_take_attendance(event, people, operator_user, frozen):
    ann, _, _ = people
    records = [{"user_id": str(ann.pk), "status": "present"}]
    frozen(START - timedelta(seconds=1))
    with pytest.raises(Conflict) as caught:
        attendance_record(session=event, records=records, actor=operator_user)
    assert caught.value.detail == (
        "The session has not started yet (it starts at 2026-03-02T10:00:00+00:00); "
        "attendance is recorded once it starts."
    )
    frozen(START)
    assert [a.status for a in attendance_record(session=event, records=records, actor=operator_user)] == ["present"]
    session_cancel(session=event, reason="Speaker ill")
    with pytest.raises(Conflict) as caught:
        attendance_record(session=event, records=records, actor=operator_user)
    assert caught.value.detail == "The session was cancelled; it takes no attendance."


def test_a_delivered_session_still_takes_corrections(event, people, operator_user, frozen):
    ann, bob, _ = people
    frozen(START + timedelta(hours=2))
    attendance_record(
        session=event,
        records=[{"user_id": str(ann.pk), "status": "present"}, {"user_id": str(bob.pk), "status": "absent"}],
        actor=operator_user,
    )
    session_deliver(session=event, actor=operator_user)
    rows = attendance_record(
        session=event, records=[{"user_id": str(bob.pk), "status": "late", "minutes_attended": 30}], actor=operator_user
    )
    assert [(r.status, r.minutes_attended) for r in rows] == [("late", 30)]


# --- Self check-in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(minutes=-16), "Check-in opens at 2026-03-02T09:45:00+00:00, 15 minutes before the start."),
        (timedelta(minutes=-15), "present"),
        (timedelta(minutes=10), "present"),
        (timedelta(minutes=10, seconds=1), "late"),
        (timedelta(minutes=60), "late"),
        (timedelta(minutes=60, seconds=1), "The session is over; check-in is closed."),
    ],
)
def test_self_check_in_window(event, people, frozen, offset, expected):
    ann, _, _ = people
    frozen(START + offset)
    if expected in ("present", "late"):
        row = attendance_self_check_in(session=event, user=ann)
        assert (row.status, row.source, row.checked_in_at, row.recorded_by_id, row.minutes_attended) == (
            expected,
            "self_check_in",
            START + offset,
            ann.pk,
            None,
        )
        [emitted] = _attended_events(event)
        assert emitted.payload["status"] == expected and emitted.payload["source"] == "self_check_in"
        assert emitted.actor == f"user:{ann.pk}"
        assert _schema_errors("lesson.attended", emitted.payload) == {}
    else:
        with pytest.raises(Conflict) as caught:
            attendance_self_check_in(session=event, user=ann)
        assert caught.value.detail == expected
        assert Attendance.objects.count() == 0


def test_self_check_in_is_for_registered_participants(event, people, host, make_user, frozen):
    _, _, cem = people
    frozen(START + timedelta(minutes=1))
    with pytest.raises(Conflict) as caught:
        attendance_self_check_in(session=event, user=cem)
    assert caught.value.detail == "Only registered participants check in; your place is waitlisted."
    with pytest.raises(NotFound):
        attendance_self_check_in(session=event, user=make_user(email="stranger@example.org"))
    with pytest.raises(NotFound):
        attendance_self_check_in(session=event, user=host)
    assert Attendance.objects.count() == 0


def test_the_operators_record_wins_over_a_later_check_in(event, people, operator_user, frozen):
    ann, bob, _ = people
    frozen(START + timedelta(minutes=2))
    [marked] = attendance_record(
        session=event, records=[{"user_id": str(ann.pk), "status": "excused"}], actor=operator_user
    )
    frozen(START + timedelta(minutes=3))
    row = attendance_self_check_in(session=event, user=ann)
    assert (row.pk, row.status, row.source, row.checked_in_at) == (marked.pk, "excused", "operator", None)

    # Checking in twice keeps the first check-in.
    first = attendance_self_check_in(session=event, user=bob)
    frozen(START + timedelta(minutes=30))
    second = attendance_self_check_in(session=event, user=bob)
    assert (second.pk, second.status, second.checked_in_at) == (first.pk, "present", START + timedelta(minutes=3))
    assert len(_attended_events(event)) == 2  # the operator's and bob's first check-in

    # An operator may then correct the self check-in: it becomes an operator record.
    [corrected] = attendance_record(
        session=event, records=[{"user_id": str(bob.pk), "status": "present"}], actor=operator_user
    )
    assert (corrected.pk, corrected.source, corrected.checked_in_at) == (
        first.pk,
        "operator",
        START + timedelta(minutes=3),
    )
    assert AuditEntry.objects.get(action="attendance.changed").changes == {
        "source": ["self_check_in", "operator"],
        "user": str(bob.pk),
    }


def test_no_check_in_once_cancelled_or_delivered(event, people, operator_user, frozen):
    ann, bob, _ = people
    frozen(START + timedelta(minutes=20))
    attendance_record(
        session=event,
        records=[{"user_id": str(ann.pk), "status": "present"}, {"user_id": str(bob.pk), "status": "absent"}],
        actor=operator_user,
    )
    session_deliver(session=event, actor=operator_user)
    with pytest.raises(Conflict) as caught:
        attendance_self_check_in(session=event, user=bob)
    assert caught.value.detail == "The session is delivered; check-in is closed."


# --- Completion ---------------------------------------------------------------------------------


def test_the_rule_is_registered():
    assert attendance_completion_rule in _completion_rules


def _set_completion(program, **completion):
    # The template's defaults (6 sessions, 60%) apply unless overridden: set both.
    completion = {"duration_weeks": 12, "min_sessions_attended": 0, "min_attendance_rate": 0, **completion}
    program_update(program=program, data={"config_overrides": {"completion": completion}})
    program.refresh_from_db()


@pytest.fixture
def cohort_run(program, make_cohort, enroll, host, operator_user, frozen):
    """An active cohort of four members and four weekly sessions, delivered with attendance:
    ann attends 4 of 4; bob 2 (one late) with 1 excused; cem 1 with 2 excused; dan 1 (3 absent)."""
    frozen(datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    cohort = make_cohort("Four", capacity=4)
    cohort_set_status(cohort=cohort, status=CohortStatus.ACTIVE)
    members = [
        cohort_member_add(cohort=cohort, enrollment=enroll(f"{name}@example.org"))
        for name in ("ann", "bob", "cem", "dan")
    ]
    users = [m.enrollment.user for m in members]
    plan = {
        0: ["present", "present", "present", "present"],
        1: ["present", "late", "excused", "absent"],
        2: ["present", "excused", "excused", "absent"],
        3: ["present", "absent", "absent", "absent"],
    }
    for week in range(4):
        start = datetime(2026, 4, 6, 17, 0, tzinfo=UTC) + timedelta(weeks=week)
        frozen(start - timedelta(days=1))
        session = session_create(
            program=program,
            kind="cohort_session",
            title=f"Week {week + 1}",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            cohort=cohort,
            host=host,
        )
        assert Registration.objects.filter(session=session, status="registered").count() == 4
        frozen(start + timedelta(hours=2))
        attendance_record(
            session=session,
            records=[{"user_id": str(u.pk), "status": plan[i][week]} for i, u in enumerate(users)],
            actor=operator_user,
        )
        session_deliver(session=session, actor=operator_user)
    return cohort, members


def _outcomes(members) -> list[tuple[str, str]]:
    return [
        (
            CohortMember.objects.get(pk=m.pk).status,
            Enrollment.objects.get(pk=m.enrollment_id).status,
        )
        for m in members
    ]


def test_completion_drops_members_below_the_thresholds(program, cohort_run, frozen):
    cohort, members = cohort_run
    # ann 4/4; bob 2 of 3 counted (excused left out) = 0.67; cem 1 of 2 = 0.5; dan 1 of 4 = 0.25.
    _set_completion(program, min_sessions_attended=2, min_attendance_rate=0.5)
    frozen(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    result = cohort_complete(cohort=cohort)
    assert (result.completed, result.dropped) == (2, 2)
    assert _outcomes(members) == [
        ("completed", "completed"),
        ("completed", "completed"),
        ("dropped", "dropped"),  # cem: 1 attended < 2 sessions
        ("dropped", "dropped"),  # dan: 1 attended < 2 sessions, and 0.25 < 0.5
    ]


def test_the_rate_counts_without_excused_sessions(program, cohort_run, frozen):
    cohort, members = cohort_run
    _set_completion(program, min_attendance_rate=0.5)
    frozen(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    cohort_complete(cohort=cohort)
    # cem attended 1 of the 2 sessions not excused: exactly 0.5 is enough; dan's 0.25 is not.
    assert [status for status, _ in _outcomes(members)] == ["completed", "completed", "completed", "dropped"]


def test_the_minimum_is_capped_at_the_sessions_held(program, cohort_run, frozen):
    cohort, members = cohort_run
    # The program expects 6 sessions; the cohort held 4: ann (4 of 4) completes, the others attended fewer
    # than the sessions counted for them.
    _set_completion(program, min_sessions_attended=6)
    frozen(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    cohort_complete(cohort=cohort)
    assert [status for status, _ in _outcomes(members)] == ["completed", "dropped", "dropped", "dropped"]


def test_a_cohort_without_delivered_sessions_completes_everyone(program, cohort, enroll, frozen):
    frozen(datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    cohort_set_status(cohort=cohort, status=CohortStatus.ACTIVE)
    member = cohort_member_add(cohort=cohort, enrollment=enroll("solo@example.org"))
    member.cohort.program.refresh_from_db()
    # The template's defaults ask for 6 sessions at 60%, but the cohort delivered none.
    assert member.cohort.program.config["completion"]["min_sessions_attended"] == 6
    assert (
        attendance_completion_rule(
            CohortMember.objects.select_related("cohort__program", "enrollment").get(pk=member.pk)
        )
        is None
    )
    frozen(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    assert cohort_complete(cohort=cohort).completed == 1
    assert _outcomes([member]) == [("completed", "completed")]


def test_sessions_delivered_with_attendance_skipped_are_not_counted(
    program, cohort, enroll, host, operator_user, frozen
):
    frozen(datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    cohort_set_status(cohort=cohort, status=CohortStatus.ACTIVE)
    member = cohort_member_add(cohort=cohort, enrollment=enroll("skip@example.org"))
    _set_completion(program, min_sessions_attended=1, min_attendance_rate=1)
    start = datetime(2026, 4, 6, 17, 0, tzinfo=UTC)
    for week in range(2):
        frozen(start + timedelta(weeks=week) - timedelta(days=1))
        session = session_create(
            program=program,
            kind="cohort_session",
            title=f"Week {week + 1}",
            starts_at=start + timedelta(weeks=week),
            ends_at=start + timedelta(weeks=week, hours=1),
            cohort=cohort,
            host=host,
        )
        frozen(start + timedelta(weeks=week, hours=2))
        if week == 0:
            attendance_record(
                session=session,
                records=[{"user_id": str(member.enrollment.user_id), "status": "present"}],
                actor=operator_user,
            )
            session_deliver(session=session, actor=operator_user)
        else:
            session_deliver(session=session, actor=operator_user, skip_attendance=True)
    loaded = CohortMember.objects.select_related("cohort__program", "enrollment").get(pk=member.pk)
    assert attendance_completion_rule(loaded) is None  # 1 of 1 counted: full rate

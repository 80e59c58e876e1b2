"""POST /api/v1/admin/programs/{program_id}/sessions/{session_id}/reminders/dispatch: the reminders
due now, or with `force` the next offset ahead of time; each reminder at most once whoever sends it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_sync.models import OutboxEvent
from notifications.models import Notification
from scheduling.models import SessionReminder
from scheduling.services import session_cancel, session_create, session_deliver
from scheduling.services.reminders import send_due_reminders

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def _url(program_id, session_id) -> str:
    return f"/api/v1/admin/programs/{program_id}/sessions/{session_id}/reminders/dispatch"


@pytest.fixture
def people(make_user):
    return [make_user(email=f"p{i}@example.org", timezone="America/New_York") for i in range(3)]


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org")


@pytest.fixture
def session(program, people, host, frozen):
    return session_create(
        program=program,
        kind="live_event",
        title="Live read",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        host=host,
        participants=people,
    )


def _claims(session) -> list[tuple[str, int, int]]:
    rows = SessionReminder.objects.filter(session=session, kind="reminder").select_related("user")
    return sorted((r.user.email, r.hours_before, r.session_sequence) for r in rows)


ALL = ["host@example.org", "p0@example.org", "p1@example.org", "p2@example.org"]


def test_dispatch_sends_what_is_due_once(operator_api, operator, program, session, frozen):
    frozen(START - timedelta(hours=5))
    response = operator_api.post(_url(program.pk, session.pk), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"sent": 4, "already_sent": 0, "offsets": [24]}
    assert _claims(session) == [(email, 24, 0) for email in ALL]
    events = OutboxEvent.objects.filter(event_type="program_session_reminder")
    assert {e.actor for e in events} == {f"user:{operator.pk}"}

    response = operator_api.post(_url(program.pk, session.pk), {}, format="json")
    assert response.json() == {"sent": 0, "already_sent": 4, "offsets": [24]}
    # The job has nothing left for this offset either.
    assert send_due_reminders().sent == 0
    assert Notification.objects.filter(kind="session_reminder").count() == 8


def test_dispatch_after_the_job_counts_what_the_job_sent(operator_api, program, session, frozen):
    frozen(START - timedelta(minutes=30))
    assert send_due_reminders().sent == 4
    response = operator_api.post(_url(program.pk, session.pk), {"force": False}, format="json")
    assert response.json() == {"sent": 0, "already_sent": 4, "offsets": [1]}


def test_nothing_is_due_yet_without_force(operator_api, program, session, frozen):
    frozen(START - timedelta(hours=30))
    response = operator_api.post(_url(program.pk, session.pk), {}, format="json")
    assert (response.status_code, response.json()) == (200, {"sent": 0, "already_sent": 0, "offsets": []})
    assert _claims(session) == []


def test_force_sends_the_next_offset_ahead_of_time(operator_api, program, session, frozen):
    frozen(START - timedelta(hours=30))
    response = operator_api.post(_url(program.pk, session.pk), {"force": True}, format="json")
    assert response.json() == {"sent": 4, "already_sent": 0, "offsets": [24]}
    # At its time the job does not send it again.
    frozen(START - timedelta(hours=23, minutes=30))
    assert send_due_reminders().sent == 0

    # With the current offset all sent, force moves on to the next one (1 hour).
    response = operator_api.post(_url(program.pk, session.pk), {"force": True}, format="json")
    assert response.json() == {"sent": 4, "already_sent": 0, "offsets": [1]}
    frozen(START - timedelta(minutes=30))
    assert send_due_reminders().sent == 0
    # Nothing left: force answers the current offset, all sent.
    response = operator_api.post(_url(program.pk, session.pk), {"force": True}, format="json")
    assert response.json() == {"sent": 0, "already_sent": 4, "offsets": [1]}
    assert _claims(session) == sorted((email, h, 0) for email in ALL for h in (24, 1))


def test_force_sends_the_current_offset_when_someone_still_lacks_it(operator_api, program, session, make_user, frozen):
    from scheduling.services import registration_create

    frozen(START - timedelta(hours=5))
    operator_api.post(_url(program.pk, session.pk), {}, format="json")
    registration_create(session=session, user=make_user(email="late@example.org"), source="operator")
    response = operator_api.post(_url(program.pk, session.pk), {"force": True}, format="json")
    assert response.json() == {"sent": 1, "already_sent": 4, "offsets": [24]}


def test_another_programs_session_is_404(operator_api, make_program, mentorship_template, program, session, frozen):
    other = make_program(mentorship_template, name="Other program")
    response = operator_api.post(_url(other.pk, session.pk), {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == f"No session with the id {session.pk} in this program."
    response = operator_api.post(_url(uuid.uuid4(), session.pk), {}, format="json")
    assert response.status_code == 404
    response = operator_api.post(_url(program.pk, uuid.uuid4()), {}, format="json")
    assert response.status_code == 404


def test_cancelled_delivered_and_started_sessions_answer_409(operator_api, operator, program, session, frozen):
    frozen(START + timedelta(minutes=5))
    response = operator_api.post(_url(program.pk, session.pk), {}, format="json")
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "The session has started; reminders go out before the start.",
    )
    session_deliver(session=session, actor=operator, skip_attendance=True)
    response = operator_api.post(_url(program.pk, session.pk), {"force": True}, format="json")
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "The session is delivered; it sends no reminders.",
    )


def test_a_cancelled_session_answers_409(operator_api, program, session, frozen):
    frozen(START - timedelta(hours=5))
    session_cancel(session=session, reason="Speaker ill")
    response = operator_api.post(_url(program.pk, session.pk), {"force": True}, format="json")
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "The session is cancelled; it sends no reminders.",
    )
    assert _claims(session) == []


def test_bad_force_is_400_naming_the_field(operator_api, program, session, frozen):
    response = operator_api.post(_url(program.pk, session.pk), {"force": "perhaps"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"force"}


def test_only_operators_and_integrators_dispatch(writer_api, anon_api, integrator_api, program, session, frozen):
    frozen(START - timedelta(hours=5))
    assert anon_api.post(_url(program.pk, session.pk), {}, format="json").status_code == 401
    assert writer_api.post(_url(program.pk, session.pk), {}, format="json").status_code == 403
    response = integrator_api.post(_url(program.pk, session.pk), {}, format="json")
    assert (response.status_code, response.json()["sent"]) == (200, 4)


def test_an_idempotency_key_replays_the_first_answer(operator_api, program, session, frozen):
    frozen(START - timedelta(hours=5))
    first = operator_api.post(_url(program.pk, session.pk), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = operator_api.post(_url(program.pk, session.pk), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.json() == again.json() == {"sent": 4, "already_sent": 0, "offsets": [24]}
    assert again["Idempotent-Replayed"] == "true"
    assert Notification.objects.filter(kind="session_reminder").count() == 8

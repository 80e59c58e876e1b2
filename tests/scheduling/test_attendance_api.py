"""The attendance API (operators) and the host confirmation API (hosts), through HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from crm_sync.models import OutboxEvent
from scheduling.models import Attendance, HostConfirmation
from scheduling.services import registration_create, session_cancel, session_create, session_update

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the frozen clock says 09:30


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org")


@pytest.fixture
def event(program, host, frozen):
    return session_create(
        program=program,
        kind="live_event",
        title="Live read",
        starts_at=START,
        ends_at=START + timedelta(minutes=90),
        capacity=2,
        host=host,
    )


@pytest.fixture
def people(make_user, event):
    users = [make_user(email=f"{name}@example.org") for name in ("ann", "bob", "cem")]
    for user in users:
        registration_create(session=event, user=user)
    return users  # cem is waitlisted


def _url(event, program_id=None) -> str:
    return reverse(
        "api-session-attendance", kwargs={"program_id": program_id or event.program_id, "session_id": event.pk}
    )


def _rows(body) -> list[tuple]:
    return [(r["user_id"], r["status"], r["minutes_attended"], r["source"]) for r in body["records"]]


def test_post_upserts_and_answers_every_record(operator_api, operator, event, people, frozen):
    ann, bob, _ = people
    frozen(START + timedelta(minutes=95))
    body = {
        "records": [
            {"user_id": str(ann.pk), "status": "present", "minutes_attended": 90},
            {"user_id": str(bob.pk), "status": "late"},
        ]
    }
    response = operator_api.post(_url(event), body, format="json")
    assert response.status_code == 200, response.content
    assert _rows(response.json()) == [
        (str(ann.pk), "present", 90, "operator"),
        (str(bob.pk), "late", None, "operator"),
    ]
    record = response.json()["records"][0]
    assert set(record) == {
        "id",
        "session_id",
        "user_id",
        "status",
        "minutes_attended",
        "source",
        "recorded_by_id",
        "checked_in_at",
        "created_at",
        "updated_at",
    }
    assert (record["session_id"], record["recorded_by_id"], record["checked_in_at"]) == (
        str(event.pk),
        str(operator.pk),
        None,
    )

    # Posting the same again: the same rows, no new events.
    again = operator_api.post(_url(event), body, format="json")
    assert again.status_code == 200
    assert [r["id"] for r in again.json()["records"]] == [r["id"] for r in response.json()["records"]]
    assert OutboxEvent.objects.filter(event_type="lesson.attended").count() == 2

    # One change: only bob's row changes; the answer still lists both.
    changed = operator_api.post(
        _url(event), {"records": [{"user_id": str(bob.pk), "status": "absent", "minutes_attended": 0}]}, format="json"
    )
    assert _rows(changed.json()) == [
        (str(ann.pk), "present", 90, "operator"),
        (str(bob.pk), "absent", 0, "operator"),
    ]
    assert OutboxEvent.objects.filter(event_type="lesson.attended").count() == 3

    listed = operator_api.get(_url(event))
    assert listed.status_code == 200
    assert listed.json() == changed.json()


def test_unknown_and_unregistered_users_answer_400_naming_them(operator_api, event, people, host, frozen):
    ann, _, cem = people
    frozen(START + timedelta(minutes=5))
    ghost = "3f1b8e9e-0000-4000-8000-000000000000"
    response = operator_api.post(
        _url(event),
        {
            "records": [
                {"user_id": str(ann.pk), "status": "present"},
                {"user_id": ghost, "status": "present"},
                {"user_id": str(cem.pk), "status": "present"},
                {"user_id": str(host.pk), "status": "present"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "records/1/user_id": f"No user with the id {ghost}.",
        "records/2/user_id": "cem@example.org is not registered for this session.",
        "records/3/user_id": "host@example.org is not registered for this session.",
    }
    assert Attendance.objects.count() == 0


def test_malformed_bodies_answer_400_per_field(operator_api, event, people, frozen):
    ann, _, _ = people
    frozen(START + timedelta(minutes=5))
    response = operator_api.post(
        _url(event),
        {
            "records": [
                {"user_id": "nope", "status": "present"},
                {"user_id": str(ann.pk), "status": "asleep", "minutes_attended": -3},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "records/0/user_id": "Must be a valid UUID.",
        "records/1/status": '"asleep" is not a valid choice.',
        "records/1/minutes_attended": "Ensure this value is greater than or equal to 0.",
    }
    too_long = operator_api.post(
        _url(event), {"records": [{"user_id": str(ann.pk), "status": "present", "minutes_attended": 91}]}, format="json"
    )
    assert too_long.status_code == 400
    assert too_long.json()["errors"] == {
        "records/0/minutes_attended": "Minutes attended are a whole number from 0 to 90."
    }
    empty = operator_api.post(_url(event), {"records": []}, format="json")
    assert empty.status_code == 400
    assert list(empty.json()["errors"]) == ["records"]
    missing = operator_api.post(_url(event), {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"records": "This field is required."}


def test_not_started_or_cancelled_answers_409(operator_api, event, people, frozen):
    ann, _, _ = people
    body = {"records": [{"user_id": str(ann.pk), "status": "present"}]}
    response = operator_api.post(_url(event), body, format="json")
    assert response.status_code == 409
    assert "has not started yet" in response.json()["detail"]
    frozen(START + timedelta(minutes=1))
    session_cancel(session=event, reason="Storm")
    response = operator_api.post(_url(event), body, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "The session was cancelled; it takes no attendance."


def test_unknown_session_or_program_answers_404(operator_api, event, make_program, mentorship_template):
    other = make_program(mentorship_template, name="Other program")
    assert operator_api.get(_url(event, program_id=other.pk)).status_code == 404
    missing = reverse(
        "api-session-attendance",
        kwargs={"program_id": event.program_id, "session_id": "3f1b8e9e-0000-4000-8000-000000000000"},
    )
    assert operator_api.post(missing, {"records": []}, format="json").status_code == 404


def test_only_operators_and_integrators(event, writer_api, integrator_api, anon_api):
    assert writer_api.get(_url(event)).status_code == 403
    assert anon_api.get(_url(event)).status_code in (401, 403)
    response = integrator_api.get(_url(event))
    assert (response.status_code, response.json()) == (200, {"records": []})


def test_listing_costs_constant_queries(
    operator_api, program, host, make_user, frozen, operator, django_assert_max_num_queries
):
    from scheduling.services import attendance_record

    big = session_create(
        program=program, kind="live_event", title="Big", starts_at=START, ends_at=START + timedelta(hours=1)
    )
    users = [make_user(email=f"p{n}@example.org") for n in range(12)]
    for user in users:
        registration_create(session=big, user=user)
    frozen(START + timedelta(minutes=5))
    operator_api.get(_url(big))  # the first request also notes the token's use

    def count_queries(n: int) -> int:
        attendance_record(
            session=big, records=[{"user_id": str(u.pk), "status": "present"} for u in users[:n]], actor=operator
        )
        with django_assert_max_num_queries(8) as captured:
            response = operator_api.get(_url(big))
        assert len(response.json()["records"]) == n
        return len(captured.captured_queries)

    assert count_queries(1) == count_queries(12)


def test_idempotency_key_replays(operator_api, event, people, frozen):
    ann, _, _ = people
    frozen(START + timedelta(minutes=5))
    body = {"records": [{"user_id": str(ann.pk), "status": "present"}]}
    first = operator_api.post(_url(event), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    replay = operator_api.post(_url(event), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, replay.status_code, replay["Idempotent-Replayed"]) == (200, 200, "true")
    assert replay.json() == first.json()


# --- Host confirmations -------------------------------------------------------------------------


LIST = "/api/v1/me/host-confirmations"


def test_the_host_lists_and_answers_their_requests(client_for, event, host, make_user, frozen):
    api = client_for(host)
    [pending] = HostConfirmation.objects.filter(session=event)
    response = api.get(LIST)
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item == {
        "id": str(pending.pk),
        "status": "pending",
        "deadline": "2026-03-02T10:00:00Z",  # starts within the hour: until the start
        "decided_at": None,
        "reason": "",
        "can_answer": True,
        "session": {
            "id": str(event.pk),
            "program_id": str(event.program_id),
            "title": "Live read",
            "kind": "live_event",
            "status": "scheduled",
            "starts_at": "2026-03-02T10:00:00Z",
            "ends_at": "2026-03-02T11:30:00Z",
            "timezone": event.timezone,
        },
        "created_at": item["created_at"],
    }

    # Somebody else sees nothing and cannot answer it.
    stranger = client_for(make_user(email="stranger@example.org"))
    assert stranger.get(LIST).json()["results"] == []
    assert stranger.post(f"{LIST}/{pending.pk}", {"decision": "confirmed"}, format="json").status_code == 404

    bad = api.post(f"{LIST}/{pending.pk}", {"decision": "maybe"}, format="json")
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["decision"]

    answered = api.post(f"{LIST}/{pending.pk}", {"decision": "confirmed"}, format="json")
    assert answered.status_code == 200, answered.content
    assert (answered.json()["status"], answered.json()["decided_at"], answered.json()["can_answer"]) == (
        "confirmed",
        "2026-03-02T09:30:00Z",
        False,
    )
    again = api.post(f"{LIST}/{pending.pk}", {"decision": "declined", "reason": "changed my mind"}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == "This request was already answered: it is confirmed."


def test_pending_first_then_recent(program, client_for, host, make_user, frozen):
    api = client_for(host)
    start = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
    lessons = [
        session_create(
            program=program,
            kind="lesson",
            title=f"L{n}",
            starts_at=start + timedelta(days=n),
            ends_at=start + timedelta(days=n, hours=1),
            host=host,
        )
        for n in range(3)
    ]
    # The first lesson moves to another host: its request is withdrawn (listed as recent).
    session_update(session=lessons[0], data={"host": make_user(email="other@example.org")})
    listed = api.get(LIST).json()["results"]
    assert [(i["session"]["title"], i["status"]) for i in listed] == [
        ("L1", "pending"),
        ("L2", "pending"),
        ("L0", "withdrawn"),
    ]
    assert [i["session"]["title"] for i in api.get(LIST, {"status": "pending"}).json()["results"]] == ["L1", "L2"]
    # Forty days later the withdrawn one is no longer recent; pending ones stay (even past due).
    frozen(datetime(2026, 4, 12, 9, 30, tzinfo=UTC))
    listed = api.get(LIST).json()["results"]
    assert [(i["session"]["title"], i["status"], i["can_answer"]) for i in listed] == [
        ("L1", "pending", False),
        ("L2", "pending", False),
    ]


def test_a_passed_deadline_answers_409(client_for, program, host, frozen):
    start = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
    lesson = session_create(
        program=program, kind="lesson", title="L", starts_at=start, ends_at=start + timedelta(hours=1), host=host
    )
    pending = HostConfirmation.objects.get(session=lesson)
    frozen(pending.deadline + timedelta(seconds=1))
    response = client_for(host).post(f"{LIST}/{pending.pk}", {"decision": "declined"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("The deadline to answer passed at ")


def test_host_list_costs_constant_queries(program, client_for, host, frozen, django_assert_max_num_queries):
    start = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
    for n in range(8):
        session_create(
            program=program,
            kind="lesson",
            title=f"L{n}",
            starts_at=start + timedelta(days=n),
            ends_at=start + timedelta(days=n, hours=1),
            host=host,
        )
    api = client_for(host)
    with django_assert_max_num_queries(6):
        response = api.get(LIST)
    assert response.json()["count"] == 8

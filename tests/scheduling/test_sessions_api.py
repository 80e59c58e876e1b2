"""The sessions API: operators schedule (one or a DST-correct series), list, read, change,
reschedule, cancel and deliver sessions and manage registrations; participants and hosts list
their sessions (with join links only around the start) and register, queue or cancel. Every
endpoint answers 400 naming the field, 404 for unknown or foreign ids, 409 on state, and lists
cost a constant number of queries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.models import AuditEntry
from crm_sync.models import OutboxEvent
from notifications.models import Notification
from programs.services import program_set_status
from scheduling import notices
from scheduling.enums import RegistrationSource
from scheduling.models import Registration, Session
from scheduling.services import (
    cohort_member_add,
    registration_cancel,
    registration_create,
    session_cancel,
    session_create,
)
from scheduling.services.attendance import attendance_record
from tests.scheduling.conftest import FROZEN

pytestmark = pytest.mark.django_db

KYIV = ZoneInfo("Europe/Kyiv")
START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
END = START + timedelta(hours=1)

SESSION_FIELDS = {
    "id",
    "program_id",
    "cohort_id",
    "series_id",
    "kind",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "local_starts_at",
    "local_ends_at",
    "capacity",
    "open_registration",
    "online",
    "location",
    "host_id",
    "provider",
    "join_url",
    "host_url",
    "external_meeting_id",
    "integration_status",
    "integration_error",
    "status",
    "sequence",
    "cancel_reason",
    "cancelled_at",
    "delivered_at",
    "attendance_skipped",
    "registered_count",
    "waitlisted_count",
    "created_at",
    "updated_at",
}
DETAIL_FIELDS = SESSION_FIELDS | {"registrations", "host_confirmation"}
REGISTRATION_FIELDS = {
    "id",
    "session_id",
    "user_id",
    "user_email",
    "user_name",
    "status",
    "source",
    "waitlist_position",
    "registered_at",
    "waitlisted_at",
    "cancelled_at",
    "created_at",
    "updated_at",
}
MY_REGISTRATION_FIELDS = {
    "id",
    "session_id",
    "status",
    "source",
    "waitlist_position",
    "registered_at",
    "waitlisted_at",
    "cancelled_at",
}
MY_SESSION_FIELDS = {
    "id",
    "program_id",
    "cohort_id",
    "series_id",
    "role",
    "kind",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "local_starts_at",
    "local_ends_at",
    "online",
    "location",
    "status",
    "sequence",
    "cancel_reason",
    "capacity",
    "registered_count",
    "join_url",
    "host_url",
    "registration",
    "host_confirmation",
}
ME = "/api/v1/me/sessions"


def sessions_url(program_id) -> str:
    return f"/api/v1/admin/programs/{program_id}/sessions"


def session_url(session) -> str:
    return f"{sessions_url(session.program_id)}/{session.pk}"


def registrations_url(session) -> str:
    return f"{session_url(session)}/registrations"


def registration_url(session_id) -> str:
    return f"/api/v1/sessions/{session_id}/registration"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _queries(client, url: str) -> int:
    client.get(url)  # warm up: the first request of a token also records its use
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org", full_name="Hanna Host")


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.org", full_name="Ada Lovelace")


@pytest.fixture
def live(program, host, frozen):
    """An open live event on 10 March 2026, 16:00-17:00 UTC (18:00 Kyiv), two places."""
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


@pytest.fixture
def lesson(program, frozen):
    """An invitation-only lesson the next day."""
    return session_create(
        program=program,
        kind="lesson",
        title="Lesson",
        starts_at=START + timedelta(days=1),
        ends_at=END + timedelta(days=1),
    )


NEW = {
    "title": "Live read",
    "kind": "live_event",
    "starts_at": "2026-03-10T18:00:00+02:00",
    "ends_at": "2026-03-10T19:30:00+02:00",
    "timezone": "Europe/Kyiv",
    "capacity": 20,
}


# --- Create -------------------------------------------------------------------------------------


def test_create_one_session_answers_201_with_it(operator_api, operator, program, host, frozen):
    response = operator_api.post(
        sessions_url(program.pk), {**NEW, "host_id": str(host.pk), "description": "Bring a page"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == SESSION_FIELDS
    session = Session.objects.get()
    assert body["id"] == str(session.pk)
    assert {k: body[k] for k in SESSION_FIELDS - {"id", "join_url", "created_at", "updated_at"}} == {
        "program_id": str(program.pk),
        "cohort_id": None,
        "series_id": None,
        "kind": "live_event",
        "title": "Live read",
        "description": "Bring a page",
        "starts_at": "2026-03-10T16:00:00Z",
        "ends_at": "2026-03-10T17:30:00Z",
        "timezone": "Europe/Kyiv",
        "local_starts_at": "2026-03-10T18:00:00+02:00",
        "local_ends_at": "2026-03-10T19:30:00+02:00",
        "capacity": 20,
        "open_registration": True,
        "online": True,
        "location": "",
        "host_id": str(host.pk),
        "provider": "jitsi",
        "host_url": "",
        "external_meeting_id": "",
        "integration_status": "synced",
        "integration_error": "",
        "status": "scheduled",
        "sequence": 0,
        "cancel_reason": "",
        "cancelled_at": None,
        "delivered_at": None,
        "attendance_skipped": False,
        "registered_count": 0,
        "waitlisted_count": 0,
    }
    assert body["join_url"] == session.join_url and body["join_url"].startswith("https://")
    assert AuditEntry.objects.get(target_id=str(session.pk), action="session.scheduled").actor == operator
    assert OutboxEvent.objects.filter(event_type="lesson.scheduled", subject_id=str(session.pk)).count() == 1


def test_create_a_cohort_session_registers_its_members(operator_api, program, cohort, enroll, frozen):
    for email in ("ann@example.org", "ben@example.org"):
        cohort_member_add(cohort=cohort, enrollment=enroll(email))
    body = {**NEW, "kind": "cohort_session", "cohort_id": str(cohort.pk), "capacity": 1, "provider": "none"}

    response = operator_api.post(sessions_url(program.pk), body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["cohort_id"], created["registered_count"], created["waitlisted_count"]) == (str(cohort.pk), 1, 1)
    assert (created["provider"], created["join_url"], created["open_registration"]) == ("none", "", False)


def test_create_a_weekly_series_in_local_time_across_dst(operator_api, program, frozen):
    frozen(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    body = {
        **NEW,
        "starts_at": "2026-03-22T18:00:00+02:00",
        "ends_at": "2026-03-22T19:00:00+02:00",
        "recurrence": {"frequency": "weekly", "interval": 1, "count": 3},
    }

    response = operator_api.post(sessions_url(program.pk), body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {"series_id", "sessions"}
    assert [s["starts_at"] for s in created["sessions"]] == [
        "2026-03-22T16:00:00Z",
        "2026-03-29T15:00:00Z",  # Kyiv moved to summer time that night
        "2026-04-05T15:00:00Z",
    ]
    assert [s["local_starts_at"] for s in created["sessions"]] == [
        "2026-03-22T18:00:00+02:00",
        "2026-03-29T18:00:00+03:00",
        "2026-04-05T18:00:00+03:00",
    ]
    assert {s["series_id"] for s in created["sessions"]} == {created["series_id"]}
    assert Session.objects.filter(series_id=created["series_id"]).count() == 3


def test_create_a_series_until_a_date_in_new_york(operator_api, program, frozen):
    frozen(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    body = {
        **NEW,
        "timezone": "America/New_York",
        "starts_at": "2026-10-25T18:00:00-04:00",
        "ends_at": "2026-10-25T19:00:00-04:00",
        "recurrence": {"until": "2026-11-08"},
    }

    response = operator_api.post(sessions_url(program.pk), body, format="json")

    assert response.status_code == 201, response.content
    assert [(s["starts_at"], s["local_starts_at"]) for s in response.json()["sessions"]] == [
        ("2026-10-25T22:00:00Z", "2026-10-25T18:00:00-04:00"),
        ("2026-11-01T23:00:00Z", "2026-11-01T18:00:00-05:00"),
        ("2026-11-08T23:00:00Z", "2026-11-08T18:00:00-05:00"),
    ]


def test_create_honours_the_idempotency_key(operator_api, program, frozen):
    url = sessions_url(program.pk)
    first = operator_api.post(url, NEW, format="json", HTTP_IDEMPOTENCY_KEY="session-1")
    replay = operator_api.post(url, NEW, format="json", HTTP_IDEMPOTENCY_KEY="session-1")
    other = operator_api.post(url, {**NEW, "title": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="session-1")

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert _problem(other, 422)["type"] == "/problems/idempotency-key-reused"
    assert Session.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"title": None, "kind": "party", "starts_at": "soon", "capacity": 0},
            {
                "title": "This field may not be null.",
                "kind": '"party" is not a valid choice.',
                "starts_at": "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
                "capacity": "Ensure this value is greater than or equal to 1.",
            },
        ),
        (
            {"starts_at": "2026-03-10T18:00:00"},
            {"starts_at": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."},
        ),
        ({"ends_at": "2026-03-10T15:00:00Z"}, {"ends_at": "A session ends after it starts."}),
        ({"timezone": "Mars/Olympus"}, {"timezone": "'Mars/Olympus' is not an IANA time zone (e.g. Europe/Kyiv)."}),
        ({"provider": "skype"}, {"provider": '"skype" is not a valid choice.'}),
        ({"recurrence": {"count": 2, "until": "2026-05-01"}}, {"recurrence": "Give either `count` or `until`."}),
        ({"recurrence": {"count": 0}}, {"recurrence/count": "Ensure this value is greater than or equal to 1."}),
        (
            {"recurrence": {"frequency": "daily", "count": 2}},
            {"recurrence/frequency": '"daily" is not a valid choice.'},
        ),
    ],
)
def test_create_refuses_bad_fields_naming_each(operator_api, program, frozen, change, errors):
    response = operator_api.post(sessions_url(program.pk), {**NEW, **change}, format="json")

    assert _problem(response, 400)["errors"] == errors
    assert Session.objects.count() == 0


def test_create_names_unknown_host_and_cohort(
    operator_api, program, make_program, mentorship_template, make_cohort, frozen
):
    missing = uuid.uuid4()
    response = operator_api.post(sessions_url(program.pk), {**NEW, "host_id": str(missing)}, format="json")
    assert _problem(response, 400)["errors"] == {"host_id": f"No user with the id {missing}."}

    response = operator_api.post(sessions_url(program.pk), {**NEW, "cohort_id": str(missing)}, format="json")
    assert _problem(response, 400)["errors"] == {"cohort_id": f"No cohort with the id {missing} in this program."}

    foreign = make_cohort("Foreign", in_program=make_program(mentorship_template, name="Other program"))
    response = operator_api.post(sessions_url(program.pk), {**NEW, "cohort_id": str(foreign.pk)}, format="json")
    assert _problem(response, 400)["errors"] == {"cohort_id": f"No cohort with the id {foreign.pk} in this program."}
    assert Session.objects.count() == 0


def test_create_answers_409_for_a_busy_host_and_a_closed_program(operator_api, program, live, host, frozen):
    response = operator_api.post(sessions_url(program.pk), {**NEW, "host_id": str(host.pk)}, format="json")
    problem = _problem(response, 409)
    assert problem["detail"] == (
        "host@example.org already hosts 'Live read' from 2026-03-10T16:00:00+00:00 to "
        "2026-03-10T17:00:00+00:00, which overlaps this time."
    )

    program_set_status(program=program, status="closed")
    response = operator_api.post(sessions_url(program.pk), NEW, format="json")
    assert _problem(response, 409)["detail"] == "The program 'Mentorship 2026' is closed; it takes no new sessions."
    assert Session.objects.count() == 1


def test_admin_endpoints_need_an_operator_or_integrator(
    program, live, writer_api, anon_api, integrator_api, ada, client_for
):
    urls = [sessions_url(program.pk), session_url(live), registrations_url(live)]
    for url in urls:
        assert _problem(anon_api.get(url), 401)["type"] == "/problems/not-authenticated"
        assert _problem(writer_api.get(url), 403)["type"] == "/problems/permission-denied"
        assert _problem(client_for(ada).get(url), 403)["type"] == "/problems/permission-denied"
        assert integrator_api.get(url).status_code == 200
    assert _problem(writer_api.post(sessions_url(program.pk), NEW, format="json"), 403)
    assert _problem(writer_api.patch(session_url(live), {"title": "x"}, format="json"), 403)


def test_unknown_program_answers_404(operator_api, frozen):
    missing = uuid.uuid4()
    assert _problem(operator_api.get(sessions_url(missing)), 404)["detail"] == f"No program with the id {missing}."
    assert _problem(operator_api.post(sessions_url(missing), NEW, format="json"), 404)


# --- List ---------------------------------------------------------------------------------------


def test_list_with_counts_and_filters(operator_api, program, live, lesson, host, ada, make_user, cohort, frozen):
    registration_create(session=live, user=ada)
    registration_create(session=live, user=make_user())
    registration_create(session=live, user=make_user())  # waitlisted
    weekly = operator_api.post(
        sessions_url(program.pk),
        {
            **NEW,
            "kind": "cohort_session",
            "cohort_id": str(cohort.pk),
            "starts_at": "2026-03-20T18:00:00+02:00",
            "ends_at": "2026-03-20T19:00:00+02:00",
            "recurrence": {"count": 2},
        },
        format="json",
    ).json()
    session_cancel(session=lesson, reason="Teacher ill")
    url = sessions_url(program.pk)

    body = operator_api.get(url).json()
    assert body["count"] == 4
    assert [(s["title"], s["registered_count"], s["waitlisted_count"]) for s in body["results"]] == [
        ("Live read", 2, 1),
        ("Lesson", 0, 0),
        ("Live read", 0, 0),
        ("Live read", 0, 0),
    ]
    assert [s["starts_at"] for s in body["results"]] == [
        "2026-03-10T16:00:00Z",
        "2026-03-11T16:00:00Z",
        "2026-03-20T16:00:00Z",
        "2026-03-27T16:00:00Z",
    ]

    def ids(query: str) -> list[str]:
        response = operator_api.get(f"{url}?{query}")
        assert response.status_code == 200, response.content
        return [s["id"] for s in response.json()["results"]]

    series = [s["id"] for s in weekly["sessions"]]
    assert ids("status=cancelled") == [str(lesson.pk)]
    assert ids("status=scheduled") == [str(live.pk), *series]
    assert ids("kind=lesson") == [str(lesson.pk)]
    assert ids(f"cohort={cohort.pk}") == series
    assert ids(f"host={host.pk}") == [str(live.pk)]
    assert ids(f"series={weekly['series_id']}") == series
    assert ids("starts_after=2026-03-11T16:00:00Z") == [str(lesson.pk), *series]
    assert ids("starts_before=2026-03-11T16:00:00Z") == [str(live.pk)]
    assert ids("starts_after=2026-03-11T00:00:00Z&starts_before=2026-03-21T00:00:00Z") == [str(lesson.pk), series[0]]


def test_list_refuses_bad_filters_naming_them(operator_api, program, frozen):
    response = operator_api.get(f"{sessions_url(program.pk)}?status=lost&starts_after=someday&host=nobody")
    assert set(_problem(response, 400)["errors"]) == {"status", "starts_after", "host"}


def test_list_costs_a_constant_number_of_queries(
    operator_api, program, host, make_user, frozen, django_assert_max_num_queries
):
    def add(n: int) -> None:
        start = START + timedelta(days=n)
        session = session_create(
            program=program,
            kind="live_event",
            title=f"S{n}",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            capacity=1,
            host=host,
        )
        registration_create(session=session, user=make_user())
        registration_create(session=session, user=make_user())

    add(0)
    url = sessions_url(program.pk)
    one = _queries(operator_api, url)
    for n in range(1, 6):
        add(n)
    assert _queries(operator_api, url) == one
    with django_assert_max_num_queries(one):
        body = operator_api.get(url).json()
    assert [(s["registered_count"], s["waitlisted_count"]) for s in body["results"]] == [(1, 1)] * 6


# --- Detail -------------------------------------------------------------------------------------


def test_detail_with_the_registration_summary(operator_api, live, ada, make_user, frozen):
    for person in (ada, make_user(), make_user()):
        registration_create(session=live, user=person)
    registration_cancel(registration=Registration.objects.get(session=live, user=ada))  # the third moves up

    body = operator_api.get(session_url(live)).json()

    assert set(body) == DETAIL_FIELDS
    assert body["registrations"] == {
        "registered_count": 2,
        "waitlisted_count": 0,
        "cancelled_count": 1,
        "places_left": 0,
    }
    assert body["host_confirmation"] == {
        "status": "pending",
        "deadline": "2026-03-04T09:30:00Z",
        "decided_at": None,
    }
    assert (body["registered_count"], body["waitlisted_count"]) == (2, 0)


def test_another_programs_session_answers_404(operator_api, live, make_program, mentorship_template, frozen):
    other = make_program(mentorship_template, name="Other program")
    url = f"{sessions_url(other.pk)}/{live.pk}"
    assert _problem(operator_api.get(url), 404)["detail"] == f"No session with the id {live.pk} in this program."
    assert _problem(operator_api.patch(url, {"title": "Mine"}, format="json"), 404)
    assert _problem(operator_api.get(f"{url}/registrations"), 404)
    assert _problem(operator_api.post(f"{url}/registrations", {"user_id": str(live.host_id)}, format="json"), 404)
    assert _problem(operator_api.get(f"{sessions_url(live.program_id)}/{uuid.uuid4()}"), 404)
    live.refresh_from_db()
    assert live.title == "Live read"


# --- Change, reschedule, cancel, deliver --------------------------------------------------------


def test_patch_reschedules_keeping_the_length_and_emits_the_windows(operator_api, operator, live, ada, frozen):
    registration_create(session=live, user=ada)

    response = operator_api.patch(
        session_url(live), {"starts_at": "2026-03-12T19:00:00+02:00", "reason": "Room taken"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["starts_at"], body["ends_at"], body["local_starts_at"], body["sequence"]) == (
        "2026-03-12T17:00:00Z",
        "2026-03-12T18:00:00Z",
        "2026-03-12T19:00:00+02:00",
        1,
    )
    [event] = OutboxEvent.objects.filter(event_type="lesson.rescheduled", subject_id=str(live.pk))
    assert (event.payload["previous_window"], event.payload["new_window"], event.payload["reason"]) == (
        {"starts_at": "2026-03-10T16:00:00+00:00", "ends_at": "2026-03-10T17:00:00+00:00", "timezone": "Europe/Kyiv"},
        {"starts_at": "2026-03-12T17:00:00+00:00", "ends_at": "2026-03-12T18:00:00+00:00", "timezone": "Europe/Kyiv"},
        "Room taken",
    )
    assert event.actor == f"user:{operator.pk}"
    assert Notification.objects.filter(kind=notices.SESSION_RESCHEDULED, user=ada, channel="email").count() == 1


def test_patch_changes_fields_host_and_capacity(operator_api, program, live, make_user, frozen):
    new_host = make_user(email="new-host@example.org")
    response = operator_api.patch(
        session_url(live),
        {"title": "Live read II", "capacity": 5, "host_id": str(new_host.pk), "open_registration": False},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["capacity"], body["host_id"], body["open_registration"], body["sequence"]) == (
        "Live read II",
        5,
        str(new_host.pk),
        False,
        0,
    )
    assert body["host_confirmation"]["status"] == "pending"

    # Unlimited capacity is null; an unknown host is named; a busy host is a conflict.
    assert operator_api.patch(session_url(live), {"capacity": None}, format="json").json()["capacity"] is None
    missing = uuid.uuid4()
    response = operator_api.patch(session_url(live), {"host_id": str(missing)}, format="json")
    assert _problem(response, 400)["errors"] == {"host_id": f"No user with the id {missing}."}
    busy = make_user(email="busy@example.org")
    session_create(program=program, kind="mentoring", title="Busy", starts_at=START, ends_at=END, host=busy)
    response = operator_api.patch(session_url(live), {"host_id": str(busy.pk)}, format="json")
    assert "busy@example.org already hosts 'Busy'" in _problem(response, 409)["detail"]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"capacity": 0}, {"capacity": "Ensure this value is greater than or equal to 1."}),
        (
            {"starts_at": "2026-03-12T19:00:00"},
            {"starts_at": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."},
        ),
        ({"ends_at": "2026-03-10T15:00:00Z"}, {"ends_at": "A session ends after it starts."}),
        ({"timezone": "Nowhere"}, {"timezone": "'Nowhere' is not an IANA time zone (e.g. Europe/Kyiv)."}),
        ({"title": ""}, {"title": "This field may not be blank."}),
        ({"status": "cancelled"}, {"reason": "Say why the session is cancelled; participants are told."}),
        (
            {"status": "cancelled", "reason": "x", "title": "y"},
            {"status": "Change the status on its own, without title."},
        ),
        ({"status": "scheduled"}, {"status": "Send `cancelled` or `delivered`; a session is scheduled once."}),
        ({"status": "lost"}, {"status": '"lost" is not a valid choice.'}),
        ({"skip_attendance": True}, {"skip_attendance": 'Only with `"status": "delivered"`.'}),
    ],
)
def test_patch_refuses_bad_fields_naming_each(operator_api, live, frozen, change, errors):
    response = operator_api.patch(session_url(live), change, format="json")
    assert _problem(response, 400)["errors"] == errors
    live.refresh_from_db()
    assert (live.status, live.sequence, live.title) == ("scheduled", 0, "Live read")


def test_capacity_below_the_registered_is_refused(operator_api, live, ada, make_user, frozen):
    registration_create(session=live, user=ada)
    registration_create(session=live, user=make_user())
    response = operator_api.patch(session_url(live), {"capacity": 1}, format="json")
    assert _problem(response, 400)["errors"] == {
        "capacity": "2 people are registered; cancel registrations before shrinking below that."
    }


def test_patch_cancels_with_a_reason_once(operator_api, live, ada, frozen):
    registration_create(session=live, user=ada)

    response = operator_api.patch(session_url(live), {"status": "cancelled", "reason": "Speaker ill"}, format="json")
    again = operator_api.patch(session_url(live), {"status": "cancelled", "reason": "Really"}, format="json")

    assert (response.status_code, again.status_code) == (200, 200)
    body = again.json()
    assert (body["status"], body["cancel_reason"], body["cancelled_at"]) == (
        "cancelled",
        "Speaker ill",
        "2026-03-02T09:30:00Z",
    )
    assert body["host_confirmation"]["status"] == "withdrawn"
    assert OutboxEvent.objects.filter(event_type="lesson.cancelled", subject_id=str(live.pk)).count() == 1
    assert Notification.objects.filter(kind=notices.SESSION_CANCELLED, user=ada, channel="email").count() == 1
    # A cancelled session no longer changes or gets delivered.
    response = operator_api.patch(session_url(live), {"title": "Back"}, format="json")
    assert _problem(response, 409)["detail"] == "The session is cancelled; only scheduled sessions change."
    response = operator_api.patch(session_url(live), {"status": "delivered", "skip_attendance": True}, format="json")
    assert _problem(response, 409)["type"] == "/problems/illegal-transition"


def test_patch_delivers_once_attendance_is_recorded_or_skipped(operator_api, live, ada, make_user, frozen):
    bo = make_user()
    registration_create(session=live, user=ada)
    registration_create(session=live, user=bo)
    url = session_url(live)

    response = operator_api.patch(url, {"status": "delivered"}, format="json")
    assert _problem(response, 409)["detail"] == (
        "The session has not started yet; it can be marked delivered once it starts."
    )
    frozen(END)
    attendance_record(session=live, records=[{"user_id": str(ada.pk), "status": "present", "minutes_attended": 60}])
    response = operator_api.patch(url, {"status": "delivered"}, format="json")
    assert _problem(response, 409)["detail"].startswith("Attendance is missing for 1 of 2 registered participant(s)")

    response = operator_api.patch(url, {"status": "delivered", "skip_attendance": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["delivered_at"], body["attendance_skipped"]) == (
        "delivered",
        "2026-03-10T17:00:00Z",
        True,
    )
    response = operator_api.patch(url, {"status": "cancelled", "reason": "Oops"}, format="json")
    assert _problem(response, 409)["detail"] == (
        "A session cannot go from 'delivered' to 'cancelled'. Allowed from 'delivered': none (final state)."
    )


# --- Registrations (operators) ------------------------------------------------------------------


def test_operator_registrations_list_with_waitlist_positions(operator_api, live, ada, make_user, frozen):
    bo, cy, di = make_user(email="bo@example.org"), make_user(email="cy@example.org"), make_user(email="di@example.org")
    for minute, person in enumerate((ada, bo, cy, di)):
        frozen(FROZEN + timedelta(minutes=minute))
        registration_create(session=live, user=person)
    registration_cancel(registration=Registration.objects.get(session=live, user=bo))  # cy moves up

    body = operator_api.get(registrations_url(live)).json()

    assert body["count"] == 4
    assert set(body["results"][0]) == REGISTRATION_FIELDS
    assert [(r["user_email"], r["status"], r["waitlist_position"]) for r in body["results"]] == [
        ("ada@example.org", "registered", None),
        ("cy@example.org", "registered", None),
        ("di@example.org", "waitlisted", 1),
        ("bo@example.org", "cancelled", None),
    ]
    assert body["results"][0]["user_name"] == "Ada Lovelace"
    waitlisted = operator_api.get(f"{registrations_url(live)}?status=waitlisted").json()["results"]
    assert [r["user_email"] for r in waitlisted] == ["di@example.org"]
    assert set(_problem(operator_api.get(f"{registrations_url(live)}?status=gone"), 400)["errors"]) == {"status"}


def test_operator_registrations_list_costs_constant_queries(
    operator_api, live, make_user, frozen, django_assert_max_num_queries
):
    for _ in range(3):
        registration_create(session=live, user=make_user())
    three = _queries(operator_api, registrations_url(live))
    for _ in range(5):
        registration_create(session=live, user=make_user())
    assert _queries(operator_api, registrations_url(live)) == three
    with django_assert_max_num_queries(three):
        positions = [r["waitlist_position"] for r in operator_api.get(registrations_url(live)).json()["results"]]
    assert positions == [None, None, 1, 2, 3, 4, 5, 6]


def test_operator_adds_a_participant_to_an_invitation_only_session(operator_api, operator, lesson, ada, frozen):
    url = registrations_url(lesson)

    response = operator_api.post(url, {"user_id": str(ada.pk)}, format="json")
    again = operator_api.post(url, {"user_id": str(ada.pk)}, format="json")

    assert (response.status_code, again.status_code) == (201, 200)
    body = response.json()
    assert set(body) == REGISTRATION_FIELDS
    assert (body["user_id"], body["status"], body["source"], body["waitlist_position"]) == (
        str(ada.pk),
        "registered",
        "operator",
        None,
    )
    assert again.json()["id"] == body["id"]
    entry = AuditEntry.objects.get(target_id=body["id"], action="registration.created")
    assert entry.actor == operator


def test_operator_add_errors(operator_api, live, host, ada, make_user, frozen):
    url = registrations_url(live)
    missing = uuid.uuid4()
    assert _problem(operator_api.post(url, {"user_id": str(missing)}, format="json"), 400)["errors"] == {
        "user_id": f"No user with the id {missing}."
    }
    assert _problem(operator_api.post(url, {}, format="json"), 400)["errors"] == {"user_id": "This field is required."}
    assert _problem(operator_api.post(url, {"user_id": str(host.pk)}, format="json"), 409)["detail"] == (
        "The host runs this session and does not register for it."
    )
    registration_create(session=live, user=make_user())
    registration_create(session=live, user=make_user())
    response = operator_api.post(url, {"user_id": str(ada.pk), "waitlist": False}, format="json")
    assert _problem(response, 409)["detail"] == "The session 'Live read' is full (2 places)."
    response = operator_api.post(url, {"user_id": str(ada.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="add-ada")
    replay = operator_api.post(url, {"user_id": str(ada.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="add-ada")
    assert (response.status_code, response.json()["status"], response.json()["waitlist_position"]) == (
        201,
        "waitlisted",
        1,
    )
    assert replay.json() == response.json()


# --- My sessions --------------------------------------------------------------------------------


def test_my_sessions_as_participant_and_host(program, live, lesson, host, ada, make_user, client_for, frozen):
    other = session_create(
        program=program, kind="live_event", title="Not mine", starts_at=START, ends_at=END, capacity=5
    )
    full = session_create(
        program=program,
        kind="office_hours",
        title="Full",
        starts_at=START + timedelta(days=2),
        ends_at=END + timedelta(days=2),
        capacity=1,
    )
    given_up = session_create(
        program=program, kind="office_hours", title="Given up", starts_at=START, ends_at=END, capacity=5
    )
    registration_create(session=live, user=ada)
    registration_create(session=lesson, user=ada, source=RegistrationSource.OPERATOR)
    registration_create(session=full, user=make_user())
    waiting = registration_create(session=full, user=ada)
    registration_cancel(registration=registration_create(session=given_up, user=ada))
    session_cancel(session=lesson, reason="Teacher ill")
    assert other.pk

    body = client_for(ada).get(ME).json()

    assert body["count"] == 3
    assert set(body["results"][0]) == MY_SESSION_FIELDS
    assert [
        (s["title"], s["role"], s["status"], s["registration"]["status"], s["registration"]["waitlist_position"])
        for s in body["results"]
    ] == [
        ("Live read", "participant", "scheduled", "registered", None),
        ("Lesson", "participant", "cancelled", "registered", None),
        ("Full", "participant", "scheduled", "waitlisted", 1),
    ]
    assert body["results"][2]["registration"]["id"] == str(waiting.pk)
    assert body["results"][1]["cancel_reason"] == "Teacher ill"
    assert {s["host_confirmation"] for s in body["results"]} == {None}
    first = body["results"][0]
    assert (first["local_starts_at"], first["registered_count"], first["capacity"]) == (
        "2026-03-10T18:00:00+02:00",
        1,
        2,
    )

    hosting = client_for(host).get(ME).json()["results"]
    assert [(s["title"], s["role"], s["registration"]) for s in hosting] == [("Live read", "host", None)]
    assert hosting[0]["host_confirmation"] == {"status": "pending", "deadline": "2026-03-04T09:30:00Z"}


def test_join_url_shows_from_15_minutes_before_the_start_until_the_end(
    program, live, host, ada, make_user, client_for, frozen
):
    live.refresh_from_db()
    registration_create(session=live, user=ada)
    registration_create(session=live, user=make_user())
    waiting = make_user()
    registration_create(session=live, user=waiting)

    def join_url(user):
        [mine] = client_for(user).get(ME).json()["results"]
        return mine["join_url"]

    moments = [
        (START - timedelta(minutes=15, seconds=1), None),
        (START - timedelta(minutes=15), live.join_url),
        (START + timedelta(minutes=30), live.join_url),
        (END - timedelta(seconds=1), live.join_url),
        (END, None),
    ]
    for moment, expected in moments:
        frozen(moment)
        assert join_url(ada) == expected, moment
        assert join_url(host) == expected, moment
        assert join_url(waiting) is None, moment
    assert live.join_url.startswith("https://")

    frozen(START)
    session_cancel(session=live, reason="Speaker ill")
    assert join_url(ada) is None


def test_my_sessions_upcoming_and_past(program, ada, client_for, frozen):
    def add(title, start):
        session = session_create(
            program=program, kind="live_event", title=title, starts_at=start, ends_at=start + timedelta(hours=1)
        )
        registration_create(session=session, user=ada)

    add("Early", START)
    add("Middle", START + timedelta(days=1))
    add("Late", START + timedelta(days=2))
    frozen(START + timedelta(days=1, minutes=30))  # Middle is under way
    client = client_for(ada)

    def titles(query: str = "") -> list[str]:
        response = client.get(f"{ME}{query}")
        assert response.status_code == 200, response.content
        return [s["title"] for s in response.json()["results"]]

    assert titles("?when=upcoming") == ["Middle", "Late"]
    assert titles("?when=past") == ["Early"]
    assert titles() == ["Early", "Middle", "Late"]
    assert _problem(client.get(f"{ME}?when=tomorrow"), 400)["errors"] == {"when": "Use `upcoming` or `past`."}


def test_my_sessions_costs_constant_queries(
    program, host, ada, make_user, client_for, frozen, django_assert_max_num_queries
):
    def add(n: int) -> None:
        start = START + timedelta(days=n)
        session = session_create(
            program=program,
            kind="live_event",
            title=f"S{n}",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            capacity=1,
            host=host,
        )
        registration_create(session=session, user=make_user())
        registration_create(session=session, user=ada)

    add(0)
    client = client_for(ada)
    one = _queries(client, ME)
    for n in range(1, 6):
        add(n)
    assert _queries(client, ME) == one
    with django_assert_max_num_queries(one):
        body = client.get(ME).json()
    assert [s["registration"]["waitlist_position"] for s in body["results"]] == [1] * 6
    host_client = client_for(host)
    assert _queries(host_client, ME) == one


def test_my_sessions_needs_a_signed_in_user_by_token_or_session(anon_api, ada, live, frozen):
    assert _problem(anon_api.get(ME), 401)["type"] == "/problems/not-authenticated"
    registration_create(session=live, user=ada)
    browser = APIClient()
    browser.force_login(ada)
    response = browser.get(ME)
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == [str(live.pk)]


# --- Register and cancel one's place ------------------------------------------------------------


def test_register_then_again_then_queue(live, ada, make_user, client_for, frozen):
    client = client_for(ada)

    response = client.post(registration_url(live.pk), {}, format="json")
    again = client.post(registration_url(live.pk), format="json")

    assert (response.status_code, again.status_code) == (201, 200)
    body = response.json()
    assert set(body) == MY_REGISTRATION_FIELDS
    assert {k: body[k] for k in MY_REGISTRATION_FIELDS - {"id"}} == {
        "session_id": str(live.pk),
        "status": "registered",
        "source": "self",
        "waitlist_position": None,
        "registered_at": "2026-03-02T09:30:00Z",
        "waitlisted_at": None,
        "cancelled_at": None,
    }
    assert again.json() == body

    registration_create(session=live, user=make_user())
    late = [make_user(), make_user()]
    queued = [client_for(p).post(registration_url(live.pk), format="json") for p in late]
    assert [(r.status_code, r.json()["status"], r.json()["waitlist_position"]) for r in queued] == [
        (201, "waitlisted", 1),
        (201, "waitlisted", 2),
    ]
    response = client_for(make_user()).post(registration_url(live.pk), {"waitlist": False}, format="json")
    assert _problem(response, 409)["detail"] == "The session 'Live read' is full (2 places)."


def test_register_honours_the_idempotency_key(live, ada, client_for, frozen):
    client = client_for(ada)
    first = client.post(registration_url(live.pk), {}, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    replay = client.post(registration_url(live.pk), {}, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert (first.status_code, replay.status_code, replay["Idempotent-Replayed"]) == (201, 201, "true")
    assert replay.json() == first.json()


def test_register_answers_404_for_sessions_not_open_to_the_caller(lesson, ada, client_for, frozen):
    client = client_for(ada)
    response = client.post(registration_url(lesson.pk), format="json")
    assert _problem(response, 404)["detail"] == f"No session with the id {lesson.pk} is open to you."
    missing = uuid.uuid4()
    assert _problem(client.post(registration_url(missing), format="json"), 404)
    assert Registration.objects.count() == 0

    registration_create(session=lesson, user=ada, source=RegistrationSource.OPERATOR)
    assert client.post(registration_url(lesson.pk), format="json").status_code == 200


def test_register_answers_409_for_cancelled_and_ended_sessions(program, live, host, ada, client_for, frozen):
    client = client_for(ada)
    frozen(END)
    assert _problem(client.post(registration_url(live.pk), format="json"), 409)["detail"] == (
        "The session is over; it takes no registrations."
    )
    frozen(FROZEN)
    session_cancel(session=live, reason="Speaker ill")
    assert _problem(client.post(registration_url(live.pk), format="json"), 409)["detail"] == (
        "The session is cancelled; it takes no registrations."
    )
    assert _problem(client_for(host).post(registration_url(live.pk), format="json"), 409)


def test_cancel_my_place_promotes_the_next_and_answers_the_cancelled_registration(
    live, ada, make_user, client_for, frozen
):
    bo, cy = make_user(email="bo@example.org"), make_user(email="cy@example.org")
    for person in (ada, bo, cy):
        registration_create(session=live, user=person)
    frozen(FROZEN + timedelta(hours=1))

    response = client_for(ada).delete(registration_url(live.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancelled_at"], body["waitlist_position"]) == (
        "cancelled",
        "2026-03-02T10:30:00Z",
        None,
    )
    assert Registration.objects.get(session=live, user=cy).status == "registered"
    assert Notification.objects.filter(kind=notices.SESSION_PROMOTED, user=cy, channel="email").count() == 1
    # Nothing left to cancel: 404, as for an unknown session.
    assert _problem(client_for(ada).delete(registration_url(live.pk)), 404)["detail"] == (
        "You hold no place at this session."
    )
    assert _problem(client_for(ada).delete(registration_url(uuid.uuid4())), 404)


def test_leave_the_waiting_list(live, ada, make_user, client_for, frozen):
    for person in (make_user(), make_user(), ada):
        registration_create(session=live, user=person)
    response = client_for(ada).delete(registration_url(live.pk))
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert Registration.objects.filter(session=live, status="registered").count() == 2


def test_cancel_answers_409_once_the_session_is_over_or_cancelled(live, ada, client_for, frozen):
    registration_create(session=live, user=ada)
    client = client_for(ada)
    frozen(END)
    assert _problem(client.delete(registration_url(live.pk)), 409)["detail"] == (
        "The session is over; its registrations no longer change."
    )
    frozen(FROZEN)
    session_cancel(session=live, reason="Speaker ill")
    assert _problem(client.delete(registration_url(live.pk)), 409)["detail"] == (
        "The session is cancelled; its registrations no longer change."
    )
    assert Registration.objects.get(session=live, user=ada).status == "registered"


def test_registration_endpoints_need_a_signed_in_user(anon_api, live, frozen):
    assert _problem(anon_api.post(registration_url(live.pk), format="json"), 401)
    assert _problem(anon_api.delete(registration_url(live.pk)), 401)

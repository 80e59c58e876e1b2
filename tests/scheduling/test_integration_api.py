"""`/api/v1/admin/programs/{program_id}/sessions/{session_id}/integration`: an operator gives a
session its meeting now (jitsi, zoom, a pasted link, or none); a provider failure answers 502 and
changes nothing; switching providers deletes the previous meeting."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.forms.models import model_to_dict

from core.audit import audit_entries_for
from scheduling.models import Session
from scheduling.services import session_cancel, session_create, session_deliver
from scheduling.services.conferencing import meeting_sync
from tests.scheduling.zoom_server import FakeZoom

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
JITSI_ROOM = re.compile(r"^https://meet\.jit\.si/programs-[a-z2-7]{32}$")


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
    def _make(provider: str | None = None, *, in_program=None, **fields) -> Session:
        return session_create(
            program=in_program or program,
            kind="live_event",
            title="Live read",
            starts_at=START,
            ends_at=START + timedelta(hours=1),
            timezone="Europe/Kyiv",
            provider=provider,
            **fields,
        )

    return _make


def url(session: Session) -> str:
    return f"/api/v1/admin/programs/{session.program_id}/sessions/{session.pk}/integration"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _row(session: Session) -> dict:
    return model_to_dict(Session.objects.get(pk=session.pk)) | {
        "updated_at": Session.objects.get(pk=session.pk).updated_at
    }


def _body(session: Session) -> dict:
    s = Session.objects.get(pk=session.pk)
    return {
        "session_id": str(s.pk),
        "provider": s.provider,
        "join_url": s.join_url,
        "host_url": s.host_url,
        "external_meeting_id": s.external_meeting_id,
        "integration_status": s.integration_status,
        "integration_error": s.integration_error,
        "integration_attempts": s.integration_attempts,
        "integration_retry_at": s.integration_retry_at.isoformat().replace("+00:00", "Z")
        if s.integration_retry_at
        else None,
    }


# --- Reading --------------------------------------------------------------------------------------


def test_get_shows_the_meeting_and_its_sync_state(operator_api, make_session):
    session = make_session()
    response = operator_api.get(url(session))
    assert response.status_code == 200
    body = response.json()
    assert body == _body(session)
    assert (body["provider"], body["integration_status"], body["host_url"]) == ("jitsi", "synced", "")
    assert JITSI_ROOM.match(body["join_url"])


# --- Jitsi and manual -----------------------------------------------------------------------------


def test_jitsi_keeps_the_room_unless_regenerated(operator_api, make_session, operator):
    session = make_session(online=False)
    first = operator_api.patch(url(session), {"provider": "jitsi"}, format="json")
    assert first.status_code == 200
    assert first.json() == _body(session)
    room = first.json()["join_url"]
    assert JITSI_ROOM.match(room)
    assert first.json()["integration_status"] == "synced"

    again = operator_api.patch(url(session), {"provider": "jitsi"}, format="json")
    assert again.json()["join_url"] == room

    fresh = operator_api.patch(url(session), {"provider": "jitsi", "regenerate": True}, format="json")
    assert JITSI_ROOM.match(fresh.json()["join_url"])
    assert fresh.json()["join_url"] != room

    entry = audit_entries_for(Session.objects.get(pk=session.pk)).filter(action="session.conferencing_changed").first()
    assert (entry.actor_id, entry.reason) == (operator.pk, "regenerated")
    assert entry.changes == {"join_url": [room, fresh.json()["join_url"]]}


def test_a_pasted_link_is_kept(operator_api, make_session):
    session = make_session()
    response = operator_api.patch(
        url(session),
        {
            "provider": "manual",
            "join_url": " https://teams.example.com/l/meetup-join/abc ",
            "host_url": "https://teams.example.com/host/abc",
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        **_body(session),
        "provider": "manual",
        "join_url": "https://teams.example.com/l/meetup-join/abc",
        "host_url": "https://teams.example.com/host/abc",
        "external_meeting_id": "",
        "integration_status": "synced",
        "integration_error": "",
    }


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"provider": "manual"}, {"join_url": "Paste the meeting's link (https://...)."}),
        (
            {"provider": "manual", "join_url": "http://example.org/room"},
            {"join_url": "The link must start with https://."},
        ),
        (
            {"provider": "manual", "join_url": "https://example.org/room", "host_url": "https://u:p@example.org/h"},
            {"host_url": "The link must not contain a user name or password."},
        ),
        (
            {"provider": "jitsi", "join_url": "https://example.org/room"},
            {"join_url": "Only a manual meeting takes a pasted link."},
        ),
        ({"provider": "skype"}, {"provider": '"skype" is not a valid choice.'}),
        ({}, {"provider": "This field is required."}),
        ({"provider": "jitsi", "regenerate": "maybe"}, {"regenerate": "Must be a valid boolean."}),
    ],
)
def test_bad_input_answers_400_naming_the_field(operator_api, make_session, payload, errors):
    session = make_session()
    before = _row(session)
    body = _problem(operator_api.patch(url(session), payload, format="json"), 400)
    assert body["errors"] == errors
    assert _row(session) == before


def test_none_removes_the_meeting(operator_api, make_session):
    session = make_session()
    response = operator_api.patch(url(session), {"provider": "none"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["provider"], body["join_url"], body["integration_status"]) == ("none", "", "none")


# --- Zoom -----------------------------------------------------------------------------------------


def test_zoom_creates_the_meeting_while_the_operator_waits(operator_api, make_session, zoom):
    session = make_session()
    response = operator_api.patch(url(session), {"provider": "zoom"}, format="json")
    assert response.status_code == 200
    body = response.json()
    stored = zoom.meetings[int(body["external_meeting_id"])]
    assert body == {
        **_body(session),
        "provider": "zoom",
        "join_url": stored.join_url,
        "host_url": stored.start_url,
        "integration_status": "synced",
        "integration_error": "",
        "integration_attempts": 0,
        "integration_retry_at": None,
    }
    assert (stored.topic, stored.start_time, stored.duration) == ("Live read", "2026-03-10T16:00:00Z", 60)


def test_a_provider_failure_answers_502_and_changes_nothing(operator_api, make_session, zoom):
    session = make_session()
    before = _row(session)
    zoom.fail("POST", r"^/v2/users/me/meetings$", 400, {"code": 300, "message": "Invalid field: topic."})

    body = _problem(operator_api.patch(url(session), {"provider": "zoom"}, format="json"), 502)

    assert body == {
        "type": "/problems/conferencing-provider-error",
        "title": "The conferencing provider failed",
        "status": 502,
        "detail": "Zoom could not create the meeting (HTTP 400, code 300): Invalid field: topic.",
    }
    assert _row(session) == before
    assert (
        not audit_entries_for(Session.objects.get(pk=session.pk)).filter(action="session.conferencing_changed").exists()
    )


def test_an_unreachable_provider_answers_502_and_changes_nothing(operator_api, make_session, zoom, settings):
    session = make_session()
    before = _row(session)
    settings.ZOOM_TIMEOUT_SECONDS = 0.3
    zoom.delay("POST", r"^/v2/users/me/meetings$", 1.0)
    body = _problem(operator_api.patch(url(session), {"provider": "zoom"}, format="json"), 502)
    assert body["detail"] == "Zoom did not answer within 0.3 s."
    assert _row(session) == before


def test_a_failed_zoom_session_is_retried_by_the_operator(operator_api, make_session, zoom):
    zoom.fail("POST", r"^/v2/users/me/meetings$", 400, {"code": 300, "message": "Invalid field: topic."})
    session = make_session("zoom")
    assert meeting_sync(session_id=session.pk) == "failed"

    response = operator_api.patch(url(session), {"provider": "zoom"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["integration_status"], body["integration_error"], body["integration_attempts"]) == ("synced", "", 0)
    assert list(zoom.meetings) == [int(body["external_meeting_id"])]


def test_zoom_again_pushes_the_details_to_the_same_meeting(operator_api, make_session, zoom):
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    meeting_id = Session.objects.get(pk=session.pk).external_meeting_id

    response = operator_api.patch(url(session), {"provider": "zoom"}, format="json")

    assert response.json()["external_meeting_id"] == meeting_id
    assert [c.method for c in zoom.calls if c.path.startswith("/v2/")] == ["POST", "PATCH"]


def test_switching_away_from_zoom_deletes_the_old_meeting(
    operator_api, make_session, zoom, django_capture_on_commit_callbacks
):
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    old_id = Session.objects.get(pk=session.pk).external_meeting_id

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.patch(url(session), {"provider": "jitsi"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["provider"], body["external_meeting_id"], body["host_url"]) == ("jitsi", "", "")
    assert JITSI_ROOM.match(body["join_url"])
    assert [(c.method, c.path, c.status) for c in zoom.calls_to("DELETE")] == [
        ("DELETE", f"/v2/meetings/{old_id}", 204)
    ]
    assert zoom.meetings == {}


def test_regenerating_a_zoom_meeting_replaces_it(operator_api, make_session, zoom, django_capture_on_commit_callbacks):
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    old_id = Session.objects.get(pk=session.pk).external_meeting_id

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.patch(url(session), {"provider": "zoom", "regenerate": True}, format="json")

    new_id = response.json()["external_meeting_id"]
    assert new_id != old_id
    assert list(zoom.meetings) == [int(new_id)]


def test_the_old_meeting_is_deleted_best_effort(
    operator_api, make_session, zoom, django_capture_on_commit_callbacks, caplog
):
    session = make_session("zoom")
    meeting_sync(session_id=session.pk)
    old_id = Session.objects.get(pk=session.pk).external_meeting_id
    zoom.fail("DELETE", r"/v2/meetings/", 500, {"code": 500, "message": "Internal error"})

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = operator_api.patch(
            url(session), {"provider": "manual", "join_url": "https://meet.example.org/x"}, format="json"
        )

    assert response.status_code == 200
    assert response.json()["provider"] == "manual"
    assert list(zoom.meetings) == [int(old_id)]
    assert (
        f"Could not delete zoom meeting {old_id} of session {session.pk}: Zoom could not delete meeting {old_id} "
        "(HTTP 500, code 500): Internal error" in caplog.text
    )


# --- State and scope ------------------------------------------------------------------------------


def test_a_cancelled_or_delivered_session_answers_409(operator_api, make_session, frozen, operator):
    cancelled = make_session()
    session_cancel(session=cancelled, reason="Speaker ill")
    body = _problem(operator_api.patch(url(cancelled), {"provider": "jitsi", "regenerate": True}, format="json"), 409)
    assert body["detail"] == "The session is cancelled; its meeting can no longer change."

    delivered = session_create(
        program=cancelled.program,
        kind="live_event",
        title="Delivered",
        starts_at=START + timedelta(days=1),
        ends_at=START + timedelta(days=1, hours=1),
        timezone="Europe/Kyiv",
    )
    frozen(START + timedelta(days=1, minutes=5))
    session_deliver(session=delivered, skip_attendance=True, actor=operator)
    before = _row(delivered)
    body = _problem(operator_api.patch(url(delivered), {"provider": "none"}, format="json"), 409)
    assert body["detail"] == "The session is delivered; its meeting can no longer change."
    assert _row(delivered) == before


def test_another_programs_session_answers_404(operator_api, make_session, make_program, mentorship_template):
    other = make_program(mentorship_template, name="Other program")
    foreign = make_session(in_program=other)
    mine = make_session()
    path = f"/api/v1/admin/programs/{mine.program_id}/sessions/{foreign.pk}/integration"
    for response in (operator_api.get(path), operator_api.patch(path, {"provider": "none"}, format="json")):
        assert _problem(response, 404)["detail"] == f"No session with the id {foreign.pk} in this program."
    assert Session.objects.get(pk=foreign.pk).provider == "jitsi"


def test_only_operators_and_integrators_may_change_meetings(writer_api, anon_api, integrator_api, make_session):
    session = make_session()
    assert _problem(writer_api.patch(url(session), {"provider": "none"}, format="json"), 403)["type"] == (
        "/problems/permission-denied"
    )
    assert _problem(anon_api.get(url(session)), 401)["type"] == "/problems/not-authenticated"
    assert integrator_api.patch(url(session), {"provider": "none"}, format="json").status_code == 200

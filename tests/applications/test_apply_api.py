"""The applicant's API: POST /programs/{id}/applications (draft or submitted), GET/PATCH
/programs/{id}/applications/me (edit, submit, withdraw), the application window, edits after
submission, one live application per program, and the request-for-more-information loop."""

from datetime import timedelta

import pytest

from applications.models import Application
from applications.services import (
    application_form_publish,
    application_request_info,
    assignments_create,
    decision_make,
)
from core.audit import audit_entries_for
from notifications.models import Notification
from programs.services import program_update
from tests.applications.conftest import FIELDS, FROZEN, answers_for, configure

pytestmark = pytest.mark.django_db


def _apply_url(program):
    return f"/api/v1/programs/{program.id}/applications"


def _me_url(program):
    return f"/api/v1/programs/{program.id}/applications/me"


def _events(body):
    return [(row["event"], row["note"]) for row in body["timeline"]]


def _notifications(user, kind):
    return sorted(
        Notification.objects.filter(user=user, kind=kind).values_list("channel", "status", "dedupe_key"),
    )


def test_start_a_draft(writer_api, writer, program, form, tracks, frozen):
    response = writer_api.post(
        _apply_url(program),
        {"answers": {"name": "Wren"}, "track_id": str(tracks["stage"].id)},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    application = Application.objects.get()
    assert body == {
        "id": str(application.id),
        "program_id": str(program.id),
        "track_id": str(tracks["stage"].id),
        "form_version": 1,
        "answers": {"name": "Wren"},
        "status": "draft",
        "submitted_at": None,
        "decided_at": None,
        "decision_reason": "",
        "info_request": "",
        "last_progress_at": "2026-03-02T09:30:00Z",
        "open_offer": None,
        "timeline": [{"at": body["timeline"][0]["at"], "event": "Started", "note": ""}],
        "can_edit": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert (application.applicant, application.form, application.status) == (writer, form, "draft")
    assert [e.action for e in audit_entries_for(application)] == ["application.started"]
    assert audit_entries_for(application).get().changes == {"form_version": 1}
    assert not Notification.objects.exists()


def test_submit_at_once(writer_api, writer, program, tracks, frozen):
    response = writer_api.post(
        _apply_url(program),
        {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id), "submit": True},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["submitted_at"], body["can_edit"]) == ("submitted", "2026-03-02T09:30:00Z", False)
    assert _events(body) == [("Started", ""), ("Submitted", "")]
    application = Application.objects.get()
    assert _notifications(writer, "application_submitted") == [
        ("dashboard", "queued", f"application_submitted:{application.id}:dashboard"),
        ("email", "queued", f"application_submitted:{application.id}:email"),
    ]
    entry = audit_entries_for(application).get(action="application.submitted")
    assert (entry.actor, entry.changes["status"]) == (writer, ["draft", "submitted"])


def test_a_track_must_be_chosen_when_the_program_has_tracks(
    writer_api, program, tracks, make_program, mentorship_template
):
    missing = writer_api.post(_apply_url(program), {"answers": answers_for("Wren"), "submit": True}, format="json")
    assert (missing.status_code, missing.json()["errors"]) == (400, {"track_id": "Choose a track."})

    other = make_program(mentorship_template, name="Other")
    application_form_publish(program=other, fields=FIELDS, tracks=[{"key": "alien", "name": "Alien"}])
    application_form_publish(program=program, fields=FIELDS, tracks=[{"key": "screen", "name": "Screen"}])
    for track in (other.tracks.get(), tracks["stage"]):  # another program's, and a deactivated one
        wrong = writer_api.post(
            _apply_url(program), {"answers": answers_for("Wren"), "track_id": str(track.id)}, format="json"
        )
        assert (wrong.status_code, wrong.json()["errors"]) == (400, {"track_id": "Not an open track of this program."})
    assert not Application.objects.exists()


def test_submitting_before_the_window_opens_answers_409_but_drafts_are_saved(writer_api, program, tracks, frozen):
    opens = FROZEN + timedelta(days=3)
    program_update(program=program, data={"opens_at": opens, "closes_at": opens + timedelta(days=10)})
    data = {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id)}

    early = writer_api.post(_apply_url(program), {**data, "submit": True}, format="json")
    assert early.status_code == 409
    assert early.json()["detail"] == f"Applications to 'Mentorship 2026' open at {opens:%-d %b %Y, %H:%M} UTC."
    assert not Application.objects.exists()  # the whole start rolled back

    draft = writer_api.post(_apply_url(program), data, format="json")
    assert (draft.status_code, draft.json()["status"]) == (201, "draft")
    assert writer_api.patch(_me_url(program), {"action": "submit"}, format="json").status_code == 409

    frozen.advance(days=3)
    submitted = writer_api.patch(_me_url(program), {"submit": True}, format="json")
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")


def test_after_the_window_closes_drafts_change_but_do_not_submit(writer_api, program, tracks, frozen):
    closes = FROZEN + timedelta(hours=1)
    program_update(program=program, data={"closes_at": closes})
    writer_api.post(
        _apply_url(program), {"answers": {"name": "Wren"}, "track_id": str(tracks["screen"].id)}, format="json"
    )
    frozen.advance(hours=1)

    edited = writer_api.patch(_me_url(program), {"answers": answers_for("Wren")}, format="json")
    assert (edited.status_code, edited.json()["answers"]) == (200, answers_for("Wren"))
    late = writer_api.patch(_me_url(program), {"action": "submit"}, format="json")
    assert (late.status_code, late.json()["detail"]) == (
        409,
        f"Applications to 'Mentorship 2026' closed at {closes:%-d %b %Y, %H:%M} UTC.",
    )
    assert Application.objects.get().status == "draft"


def test_submitted_answers_are_frozen_unless_the_program_allows_edits(writer_api, program, tracks, frozen):
    writer_api.post(
        _apply_url(program),
        {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id), "submit": True},
        format="json",
    )

    refused = writer_api.patch(_me_url(program), {"answers": {"years": 7}}, format="json")
    assert (refused.status_code, refused.json()["detail"]) == (
        409,
        "This application is submitted and can no longer be changed.",
    )
    assert Application.objects.get().answers["years"] == 3


def test_allow_edit_after_submit_holds_until_the_deadline(writer_api, writer, program, tracks, frozen):
    program = configure(program, allow_edit_after_submit=True)
    program_update(program=program, data={"closes_at": FROZEN + timedelta(days=2)})
    writer_api.post(
        _apply_url(program),
        {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id), "submit": True},
        format="json",
    )

    edited = writer_api.patch(
        _me_url(program),
        {"answers": {"years": 7, "statement": "More"}, "track_id": str(tracks["stage"].id)},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    body = edited.json()
    assert (body["status"], body["answers"], body["track_id"], body["can_edit"]) == (
        "submitted",
        {**answers_for("Wren"), "years": 7, "statement": "More"},
        str(tracks["stage"].id),
        True,
    )
    application = Application.objects.get()
    entry = audit_entries_for(application).get(action="application.edited")
    assert entry.changes == {
        "track": [str(tracks["screen"].id), str(tracks["stage"].id)],
        "answers": ["statement", "years"],
    }
    # Submitted answers are checked as on submission: a required answer cannot be removed.
    cleared = writer_api.patch(_me_url(program), {"answers": {"name": None}}, format="json")
    assert (cleared.status_code, cleared.json()["errors"]) == (400, {"answers/name": "This field is required."})

    frozen.advance(days=2)
    late = writer_api.patch(_me_url(program), {"answers": {"years": 8}}, format="json")
    assert late.status_code == 409
    assert writer_api.get(_me_url(program)).json()["can_edit"] is False
    assert Application.objects.get().answers["years"] == 7


def test_one_live_application_per_program(writer_api, program, tracks):
    data = {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id)}
    first = writer_api.post(_apply_url(program), data, format="json")
    second = writer_api.post(_apply_url(program), {**data, "submit": True}, format="json")

    assert second.status_code == 409
    assert second.json()["detail"] == "You already have an application to 'Mentorship 2026' (draft); change it instead."

    withdrawn = writer_api.patch(_me_url(program), {"action": "withdraw", "reason": "Changed my mind"}, format="json")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    again = writer_api.post(_apply_url(program), {**data, "submit": True}, format="json")
    assert (again.status_code, again.json()["status"]) == (201, "submitted")
    assert again.json()["id"] != first.json()["id"]
    assert writer_api.get(_me_url(program)).json()["id"] == again.json()["id"]
    assert sorted(Application.objects.values_list("status", flat=True)) == ["submitted", "withdrawn"]


def test_withdraw_until_a_decision(writer_api, writer, operator, program, tracks, rubric):
    writer_api.post(
        _apply_url(program),
        {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id), "submit": True},
        format="json",
    )
    response = writer_api.patch(_me_url(program), {"action": "withdraw", "reason": "Found a job"}, format="json")

    assert response.status_code == 200
    assert _events(response.json())[-1] == ("Withdrawn", "")
    application = Application.objects.get()
    entry = audit_entries_for(application).get(action="application.withdrawn")
    assert (entry.actor, entry.reason, entry.changes["status"]) == (writer, "Found a job", ["submitted", "withdrawn"])
    again = writer_api.patch(_me_url(program), {"action": "withdraw"}, format="json")
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "This application is withdrawn and cannot be withdrawn.",
    )

    # A rejected application cannot be withdrawn any more.
    writer_api.post(
        _apply_url(program),
        {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id), "submit": True},
        format="json",
    )
    second = Application.objects.get(status="submitted")
    decision_make(application=second, decision="rejected", reason="Too late", actor=operator)
    refused = writer_api.patch(_me_url(program), {"action": "withdraw"}, format="json")
    assert (refused.status_code, refused.json()["detail"]) == (
        409,
        "This application is rejected and cannot be withdrawn.",
    )


def test_request_more_information_and_resubmit(writer_api, writer, operator_api, operator, reviewer, program, tracks):
    writer_api.post(
        _apply_url(program),
        {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id), "submit": True},
        format="json",
    )
    application = Application.objects.get()
    assignments_create(program=program, pairs=[(application.id, reviewer().id)], actor=operator)
    url = f"/api/v1/admin/programs/{program.id}/applications/{application.id}/request-info"

    empty = operator_api.post(url, {"message": "  "}, format="json")
    assert (empty.status_code, empty.json()["errors"]) == (
        400,
        {"message": "Say what the applicant should add or change."},
    )
    asked = operator_api.post(url, {"message": "Please add a writing sample."}, format="json")
    assert asked.status_code == 200, asked.json()
    assert asked.json()["status"] == "info_requested"
    assert _notifications(writer, "application_info_requested") == [
        ("dashboard", "queued", f"application_info_requested:{application.id}:1:dashboard"),
        ("email", "queued", f"application_info_requested:{application.id}:1:email"),
    ]
    email = Notification.objects.get(user=writer, kind="application_info_requested", channel="email")
    assert "Please add a writing sample." in email.body_text
    twice = operator_api.post(url, {"message": "Again?"}, format="json")
    assert twice.status_code == 409

    mine = writer_api.get(_me_url(program)).json()
    assert (mine["status"], mine["info_request"], mine["can_edit"]) == (
        "info_requested",
        "Please add a writing sample.",
        True,
    )
    assert _events(mine)[-1] == ("More information requested", "Please add a writing sample.")
    edited = writer_api.patch(_me_url(program), {"answers": {"statement": "Sample: https://x.example"}}, format="json")
    assert edited.status_code == 200

    resubmitted = writer_api.patch(_me_url(program), {"action": "submit"}, format="json").json()
    assert (resubmitted["status"], resubmitted["info_request"]) == ("under_review", "")
    assert _events(resubmitted) == [
        ("Started", ""),
        ("Submitted", ""),
        ("In review", ""),
        ("More information requested", "Please add a writing sample."),
        ("Resubmitted", ""),
    ]
    # A second round is a new notification (its own dedupe key).
    application_request_info(application=application, message="And a CV.", actor=operator)
    assert Notification.objects.filter(dedupe_key=f"application_info_requested:{application.id}:2:email").exists()


def test_request_info_is_for_operators_and_never_for_drafts(
    writer_api, client_for, reviewer, operator_api, program, tracks
):
    writer_api.post(
        _apply_url(program), {"answers": {"name": "Wren"}, "track_id": str(tracks["screen"].id)}, format="json"
    )
    draft = Application.objects.get()
    url = f"/api/v1/admin/programs/{program.id}/applications/{draft.id}/request-info"

    assert operator_api.post(url, {"message": "Hm"}, format="json").status_code == 404
    assert client_for(reviewer()).post(url, {"message": "Hm"}, format="json").status_code == 403
    assert writer_api.post(url, {"message": "Hm"}, format="json").status_code == 403


def test_me_is_only_ever_your_own(writer_api, client_for, applicant, anon_api, program, tracks):
    nothing = writer_api.get(_me_url(program))
    assert (nothing.status_code, nothing.json()["detail"]) == (404, "You have no application to this program.")
    writer_api.post(
        _apply_url(program),
        {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id), "submit": True},
        format="json",
    )
    other = client_for(applicant())

    assert other.get(_me_url(program)).status_code == 404
    assert other.patch(_me_url(program), {"action": "withdraw"}, format="json").status_code == 404
    assert anon_api.get(_me_url(program)).status_code == 401
    assert anon_api.post(_apply_url(program), {"answers": {}}, format="json").status_code == 401
    assert Application.objects.get().status == "submitted"


def test_idempotency_key_replays_the_start(writer_api, program, tracks):
    data = {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id), "submit": True}
    first = writer_api.post(_apply_url(program), data, format="json", HTTP_IDEMPOTENCY_KEY="apply-1")
    replay = writer_api.post(_apply_url(program), data, format="json", HTTP_IDEMPOTENCY_KEY="apply-1")
    other = writer_api.post(
        _apply_url(program), {**data, "submit": False}, format="json", HTTP_IDEMPOTENCY_KEY="apply-1"
    )

    assert (first.status_code, replay.status_code, other.status_code) == (201, 201, 422)
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert Application.objects.count() == 1


def test_a_failed_action_keeps_none_of_the_edits_sent_with_it(writer_api, program, tracks, frozen):
    program_update(program=program, data={"opens_at": FROZEN + timedelta(days=1)})
    writer_api.post(
        _apply_url(program), {"answers": answers_for("Wren"), "track_id": str(tracks["screen"].id)}, format="json"
    )

    response = writer_api.patch(_me_url(program), {"answers": {"years": 9}, "action": "submit"}, format="json")

    assert response.status_code == 409
    application = Application.objects.get()
    assert (application.status, application.answers["years"]) == ("draft", 3)
    assert not audit_entries_for(application).filter(action="application.edited").exists()


def test_answers_must_be_an_object(writer_api, program, tracks):
    response = writer_api.post(_apply_url(program), {"answers": ["Wren"]}, format="json")
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"answers": "Answers are an object keyed by field."},
    )
    writer_api.post(_apply_url(program), {"answers": {}}, format="json")
    patched = writer_api.patch(_me_url(program), {"answers": "Wren"}, format="json")
    assert (patched.status_code, patched.json()["errors"]) == (
        400,
        {"answers": "Answers are an object keyed by field."},
    )

"""The `application` CRM entity: POST /api/v1/admin/programs/{id}/crm-sync queues one
`program_crm_sync_requested` event per application, carrying its current record."""

import pytest

from applications.services import decision_make, scores_recompute
from crm_sync.models import CrmSyncItem, OutboxEvent

pytestmark = pytest.mark.django_db


def _url(program):
    return f"/api/v1/admin/programs/{program.id}/crm-sync"


def _events():
    return {e.subject_id: e for e in OutboxEvent.objects.filter(event_type="program_crm_sync_requested")}


def test_every_submitted_application_of_the_program_is_queued_with_its_record(
    operator_api, operator, scored, apply, applicant, program, tracks, frozen
):
    apps, _ = scored
    scores_recompute(program=program)
    decision_make(application=apps["B"], decision="accepted", reason="Top", actor=operator)
    apps["F"] = apply(applicant("f@example.org", full_name="Fay Draft"), submit=False, track=None)
    for application in apps.values():
        application.refresh_from_db()

    response = operator_api.post(_url(program), {"entity_type": "application", "reason": "backfill"}, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    draft = apps.pop("F")  # drafts are the applicant's work in progress: not sent
    assert (body["entity_type"], body["queued"]) == ("application", 5)
    assert sorted(i["entity_id"] for i in body["items"]) == sorted(str(a.id) for a in apps.values())
    events = _events()
    assert set(events) == {str(a.id) for a in apps.values()}
    assert str(draft.id) not in events
    b = apps["B"]
    assert events[str(b.id)].payload == {
        "program_id": str(program.id),
        "entity_type": "application",
        "entity_id": str(b.id),
        "reason": "backfill",
        "record": {
            "application_id": str(b.id),
            "program_id": str(program.id),
            "applicant_id": str(b.applicant_id),
            "email": "b@example.org",
            "full_name": "",
            "track": "screen",
            "status": "accepted",
            "submitted_at": b.submitted_at.isoformat(),
            "decided_at": b.decided_at.isoformat(),
            "decision_reason": "Top",
            "review_count": 2,
            "mean_score": "50.0000",
            "corrected_score": "84.0593",
        },
    }
    assert {(e.subject_type, e.actor) for e in events.values()} == {("application", f"user:{operator.id}")}
    assert CrmSyncItem.objects.filter(entity_type="application").count() == 5


def test_chosen_applications_only_and_unknown_ids_refused(
    integrator_api, apply, program, make_program, mentorship_template
):
    first, second = apply(), apply()

    chosen = integrator_api.post(
        _url(program), {"entity_type": "application", "entity_ids": [str(second.id)]}, format="json"
    )
    assert (chosen.status_code, chosen.json()["queued"]) == (202, 1)
    assert list(_events()) == [str(second.id)]

    bad = integrator_api.post(
        _url(program), {"entity_type": "application", "entity_ids": [str(first.id), "not-a-uuid"]}, format="json"
    )
    assert (bad.status_code, bad.json()["errors"]) == (
        400,
        {"entity_ids": "Not applications of this program: not-a-uuid."},
    )
    other = make_program(mentorship_template, name="Other")
    elsewhere = integrator_api.post(
        _url(other), {"entity_type": "application", "entity_ids": [str(first.id)]}, format="json"
    )
    assert (elsewhere.status_code, elsewhere.json()["errors"]) == (
        400,
        {"entity_ids": f"Not applications of this program: {first.id}."},
    )
    assert len(_events()) == 1

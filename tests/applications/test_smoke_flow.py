"""The whole application flow over the API, once: form, apply, review, decide, waitlist."""

import pytest

from applications.models import Application
from crm_sync.models import OutboxEvent
from enrollments.models import Enrollment
from notifications.models import Notification

pytestmark = pytest.mark.django_db

FORM = {
    "fields": [
        {"key": "name", "label": "Name", "type": "short_text", "required": True},
        {"key": "years", "label": "Years", "type": "number", "required": True, "min": 0, "max": 50},
    ],
    "tracks": [{"key": "screen", "name": "Screen"}],
}
RUBRIC = {
    "criteria": [
        {"key": "craft", "label": "Craft", "weight": 2, "scale_min": 1, "scale_max": 5},
        {"key": "voice", "label": "Voice", "weight": 1, "scale_min": 1, "scale_max": 5},
    ]
}


def test_flow(operator_api, make_user, client_for, program):
    base = f"/api/v1/admin/programs/{program.id}"
    assert operator_api.put(f"{base}/application-form", FORM, format="json").json()["version"] == 1
    assert operator_api.put(f"{base}/scoring-rubric", RUBRIC, format="json").json()["version"] == 1
    form = client_for(None).get(f"/api/v1/programs/{program.id}/application-form").json()
    track_id = form["tracks"][0]["id"]

    applicants = [make_user(email=f"a{i}@example.org", role="writer") for i in range(3)]
    apis = [client_for(a) for a in applicants]
    bad = apis[0].post(
        f"/api/v1/programs/{program.id}/applications",
        {"answers": {"name": "A", "years": 99}, "track_id": track_id, "submit": True},
        format="json",
    )
    assert bad.status_code == 400, bad.json()
    assert bad.json()["errors"] == {"answers/years": "At most 50."}
    for i, api in enumerate(apis):
        response = api.post(
            f"/api/v1/programs/{program.id}/applications",
            {"answers": {"name": f"A{i}", "years": i}, "track_id": track_id, "submit": True},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["status"] == "submitted"

    reviewers = [make_user(email=f"r{i}@example.org", role="reviewer") for i in range(2)]
    for reviewer in reviewers:
        assert (
            operator_api.post(f"{base}/review-team", {"reviewer_id": str(reviewer.id)}, format="json").status_code
            == 200
        )
    assigned = operator_api.post(f"{base}/reviews", {"auto": {"reviewers_per_application": 2}}, format="json").json()
    assert len(assigned["assigned"]) == 6 and assigned["skipped"] == []

    for r, reviewer in enumerate(reviewers):
        rapi = client_for(reviewer)
        rows = rapi.get(f"{base}/applications").json()["results"]
        assert len(rows) == 3
        for j, row in enumerate(sorted(rows, key=lambda x: x["id"])):
            response = rapi.post(
                f"{base}/applications/{row['id']}/review",
                {"scores": {"craft": 1 + j + r, "voice": 3}, "recommendation": "accept"},
                format="json",
            )
            assert response.status_code == 200, response.json()

    ranked = operator_api.get(f"{base}/applications?ordering=-mean_score").json()["results"]
    assert [row["review_count"] for row in ranked] == [2, 2, 2]

    result = operator_api.post(
        f"{base}/decisions",
        {"decision": "accepted", "reason": "Top", "pending": True, "top": {"count": 1}},
        format="json",
    ).json()
    assert len(result["decided"]) == 1
    assert Enrollment.objects.count() == 0
    released = operator_api.post(f"{base}/decisions/release", {}, format="json").json()
    assert released["released"] == result["decided"]
    accepted = Application.objects.get(pk=result["decided"][0])
    assert accepted.status == "accepted"
    assert Enrollment.objects.filter(user=accepted.applicant, program=program, role="mentee").count() == 1
    assert OutboxEvent.objects.filter(event_type="program_application_decision").count() == 1
    assert Notification.objects.filter(user=accepted.applicant, kind="application_accepted").count() == 2

    others = Application.objects.exclude(pk=accepted.pk)
    for other in others:
        response = operator_api.post(
            f"{base}/applications/{other.pk}/decision", {"decision": "waitlisted", "reason": "Next time"}, format="json"
        )
        assert response.status_code == 200, response.json()
    idx = applicants.index(accepted.applicant)
    declined = apis[idx].patch(f"/api/v1/programs/{program.id}/applications/me", {"action": "withdraw"}, format="json")
    assert declined.json()["status"] == "withdrawn"
    assert Enrollment.objects.get(user=accepted.applicant).status == "dropped"
    offered = Application.objects.filter(offers__status="open").get()
    oidx = applicants.index(offered.applicant)
    mine = apis[oidx].get(f"/api/v1/programs/{program.id}/applications/me").json()
    assert mine["open_offer"]["status"] == "open"
    taken = apis[oidx].patch(
        f"/api/v1/programs/{program.id}/applications/me", {"action": "accept_offer"}, format="json"
    )
    assert taken.json()["status"] == "accepted"
    assert Enrollment.objects.get(user=offered.applicant).status == "active"

"""The analytics API: one program's metrics, the cross-program overview, CSV, errors."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.analytics import build


@pytest.fixture
def data(program, make_program, mentorship_template, company, make_user):
    other = make_program(mentorship_template, name="Other program")
    return build(program=program, other_program=other, company=company, make_user=make_user)


def url(program_id) -> str:
    return f"/api/v1/admin/programs/{program_id}/analytics"


def test_program_analytics(operator_api, data):
    response = operator_api.get(url(data.program.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    # Hand-computed in test_funnel / test_enrollments.
    assert body["enrollments_by_status"] == {"active": 2, "completed": 2, "dropped": 1}
    assert (body["completion_rate"], body["drop_rate"], body["acceptance_rate"]) == (0.4, 0.2, 0.5)
    assert body["attendance_rate"] is None
    assert [row["count"] for row in body["funnel"]] == [8, 6, 4, 2, 5, 2, 2]
    assert body["funnel"][0] == {"stage": "applied", "count": 8}


def test_filters(integrator_api, data):
    response = integrator_api.get(url(data.program.pk), {"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    # E1..E4: completed 1 / 4, dropped 1 / 4.
    assert (response.json()["completion_rate"], response.json()["drop_rate"]) == (0.25, 0.25)
    response = integrator_api.get(url(data.program.pk), {"campaign": str(data.campaign.pk), "cohort": str(data.k1.pk)})
    # Campaign C and K1: E1 (active), E3 (completed).
    assert response.json()["enrollments_by_status"] == {"active": 1, "completed": 1, "dropped": 0}


def test_funnel_as_csv(operator_api, data):
    for response in (
        operator_api.get(url(data.program.pk), {"format": "csv"}),
        operator_api.get(url(data.program.pk), HTTP_ACCEPT="text/csv"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == ["stage", "count", "conversion"]
        assert rows[1] == ["applied", "8", ""]
        assert rows[2] == ["submitted", "6", "0.75"]
        assert len(rows) == 8


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"campaign": "nope"}, "campaign"),
        ({"campaign": str(uuid.uuid4())}, "campaign"),
        ({"cohort": str(uuid.uuid4())}, "cohort"),
    ],
)
def test_bad_parameters_are_problems(operator_api, program, params, field):
    response = operator_api.get(url(program.pk), {**params, "format": "csv"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]


def test_campaign_and_cohort_of_another_program(operator_api, data):
    response = operator_api.get(
        url(data.other_program.pk), {"campaign": str(data.campaign.pk), "cohort": str(data.k1.pk)}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"campaign", "cohort"}


def test_unknown_program_and_permissions(operator_api, writer_api, anon_api, program):
    response = operator_api.get(url(uuid.uuid4()))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert writer_api.get(url(program.pk)).status_code == 403
    assert anon_api.get(url(program.pk)).status_code in (401, 403)
    assert writer_api.get("/api/v1/admin/analytics").status_code == 403


def test_cross_program(operator_api, data):
    response = operator_api.get("/api/v1/admin/analytics")
    assert response.status_code == 200
    body = response.json()
    rows = {row["program_name"]: row for row in body["programs"]}
    assert set(rows) == {"Mentorship 2026", "Other program"}
    p, q = rows["Mentorship 2026"], rows["Other program"]
    assert (p["applied"], p["enrolled"], p["active"], p["completed"], p["dropped"]) == (8, 5, 2, 2, 1)
    assert (p["completion_rate"], p["drop_rate"], p["acceptance_rate"]) == (0.4, 0.2, 0.5)
    # Q: A8 accepted (1 / 1 decided), E6 active (0 / 1 completed); its only review was late (0 / 1).
    assert (q["applied"], q["accepted"], q["enrolled"], q["active"]) == (1, 1, 1, 1)
    assert (q["acceptance_rate"], q["completion_rate"], q["review_sla_compliance"]) == (1.0, 0.0, 0.0)
    totals = body["totals"]
    # P + Q: applied 8 + 1; enrolled 5 + 1; completed 2 / 6 = 0.3333; accepted 3 of 5 decided = 0.6;
    # reviews on time 3 of 5 = 0.6.
    assert (totals["applied"], totals["enrolled"], totals["completed"]) == (9, 6, 2)
    assert (totals["completion_rate"], totals["acceptance_rate"], totals["review_sla_compliance"]) == (0.3333, 0.6, 0.6)


def test_cross_program_csv_and_errors(operator_api, data):
    response = operator_api.get("/api/v1/admin/analytics", {"format": "csv", "from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["program_name"] for row in rows] == ["Mentorship 2026", "Other program", "Total"]
    # March: P enrolled E1..E4, Q enrolled E6.
    assert [row["enrolled"] for row in rows] == ["4", "1", "5"]
    assert rows[2]["program_id"] == ""
    response = operator_api.get("/api/v1/admin/analytics", {"campaign": str(data.campaign.pk)})
    assert response.status_code == 400
    assert "campaign" in response.json()["errors"]
    assert operator_api.get("/api/v1/admin/analytics", {"from": "x"}).status_code == 400

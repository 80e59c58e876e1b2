"""The impact API (VIS and SROI, JSON and CSV) and the program analytics tables as CSV."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from scheduling.models import Session
from tests.analytics import build
from tests.analytics.test_impact import dataset  # noqa: F401 - the fixture


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_program_impact_json_and_csv(operator_api, dataset):  # noqa: F811
    program, v1 = dataset["program"], dataset["v1"]
    other_host = Session.objects.filter(program=program).exclude(host=v1).first().host
    url = f"/api/v1/admin/programs/{program.pk}/analytics/impact"
    body = operator_api.get(url).json()
    # Hand-computed in test_impact.py: v1 18.5625, the other host 3.15.
    assert [(row["email"], row["vis"]) for row in body["volunteers"]] == [(v1.email, 18.5625), (other_host.email, 3.15)]
    assert body["programs"][0]["vis"] == 21.7125
    assert body["sroi"]["programs"][0]["total"] == "4400.00"

    rows = _csv(operator_api.get(url, {"format": "csv"}))
    assert rows[0] == [
        "user_id", "email", "program_id", "program", "hours", "weighted_hours", "checkins", "quality",
        "outcome_lift", "vis",
    ]  # fmt: skip
    assert rows[1] == [
        str(v1.pk),
        v1.email,
        str(program.pk),
        program.name,
        "7.25",
        "8.25",
        "4",
        "0.9",
        "1.5",
        "18.5625",
    ]
    assert len(rows) == 3
    rows = _csv(operator_api.get(url, {"format": "csv", "table": "sroi"}))
    assert rows == [
        ["program_id", "program", "currency", "dimension", "units", "coefficient", "value"],
        [str(program.pk), program.name, "EUR", "integration_score", "5", "400", "2000.00"],
        [str(program.pk), program.name, "EUR", "job_readiness", "2", "1200", "2400.00"],
    ]
    rows = _csv(operator_api.get(url, {"format": "csv", "table": "programs", "from": "2026-02-01", "to": "2026-02-28"}))
    # February: nothing hosted, attended or logged by anyone; only v1 has a row (match m2 overlaps
    # February), the other host has none.
    assert rows == [
        ["program_id", "program", "volunteers", "weighted_hours", "vis"],
        [str(program.pk), program.name, "1", "0.0", "0.0"],
    ]


def test_cross_program_impact(integrator_api, dataset):  # noqa: F811
    body = integrator_api.get("/api/v1/admin/analytics/impact").json()
    # Mentorship 21.7125 (above); buddy: v1 3.0 and the other host (S_b, 1 h x 1.5 x 0.6 = 0.9).
    assert [(row["program"], row["vis"]) for row in body["programs"]] == [
        (dataset["program"].name, 21.7125),
        (dataset["buddy"].name, 3.9),
    ]
    assert body["sroi"]["totals"] == {"EUR": "4850.00"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"table": "nope", "format": "csv"}, "table"),
        ({"from": "2026-02-30"}, "from"),
        ({"campaign": "00000000-0000-0000-0000-000000000001"}, "campaign"),
        ({"cohort": "00000000-0000-0000-0000-000000000001"}, "cohort"),
    ],
)
def test_impact_bad_input(operator_api, program, params, field):
    for url in (f"/api/v1/admin/programs/{program.pk}/analytics/impact", "/api/v1/admin/analytics/impact"):
        response = operator_api.get(url, params)
        assert response.status_code == 400, url
        assert response["Content-Type"].startswith("application/problem+json")
        assert field in response.json()["errors"]


def test_impact_permissions_and_unknown_program(operator_api, writer_api, anon_api, program):
    assert operator_api.get(f"/api/v1/admin/programs/{uuid.UUID(int=7)}/analytics/impact").status_code == 404
    assert writer_api.get(f"/api/v1/admin/programs/{program.pk}/analytics/impact").status_code == 403
    assert writer_api.get("/api/v1/admin/analytics/impact").status_code == 403
    assert anon_api.get("/api/v1/admin/analytics/impact").status_code in (401, 403)


@pytest.fixture
def data(program, make_program, mentorship_template, company, make_user):
    other = make_program(mentorship_template, name="Other program")
    return build(program=program, other_program=other, company=company, make_user=make_user)


def test_program_tables_as_csv(operator_api, data):
    url = f"/api/v1/admin/programs/{data.program.pk}/analytics"
    rows = _csv(operator_api.get(url, {"format": "csv", "table": "cohort_fill"}))
    # K1 capacity 4 with E1, E2 active (E3 completed) -> 0.5; K2 empty.
    assert rows == [
        ["cohort_id", "cohort_name", "capacity", "members", "fill_rate"],
        [str(data.k1.pk), "K1", "4", "2", "0.5"],
        [str(data.k2.pk), "K2", "2", "0", "0.0"],
    ]
    rows = _csv(operator_api.get(url, {"format": "csv", "table": "campaign_progress"}))
    # Campaign C: E1 active + E3 completed hold a place (E4 dropped) = 2 of target 3, max 5; 1500 / 2.
    assert rows[1] == [str(data.campaign.pk), "Campaign C", "2", "3", "5", "0.6667", "0.4", "1500.00", "EUR", "750.00"]
    rows = _csv(operator_api.get(url, {"format": "csv", "table": "funnel_by_campaign"}))
    assert rows[0] == ["campaign_id", "campaign_name", "enrolled", "active", "completed"]
    assert rows[1:] == [[str(data.campaign.pk), "Campaign C", "3", "1", "1"], ["", "", "2", "1", "1"]]
    rows = _csv(operator_api.get(url, {"format": "csv", "table": "funnel_by_cohort"}))
    assert rows[1:] == [[str(data.k1.pk), "K1", "3", "2", "1"]]
    assert _csv(operator_api.get(url, {"format": "csv", "table": "outcomes"})) == [["outcome_type", "count", "amounts"]]
    response = operator_api.get(url, {"format": "csv", "table": "everything"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "table": "Unknown table 'everything'. Tables: funnel, series, cohort_fill, campaign_progress, "
        "funnel_by_campaign, funnel_by_cohort, outcomes."
    }

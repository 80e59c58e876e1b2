"""`GET /api/v1/companies/{company_id}/analytics`: who may read which company, JSON and CSV
bodies, and bad input as problem details (dataset: tests/analytics/test_partner.py)."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import CompanyMembership, User
from accounts.services import company_add_member

UNKNOWN = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.fixture
def data(partner_data):
    return partner_data


@pytest.fixture
def admin_of(make_user):
    def _admin(company, email):
        user = make_user(email=email)
        company_add_member(company=company, user=user, kind=CompanyMembership.Kind.ADMIN)
        return user

    return _admin


def url(company_id) -> str:
    return f"/api/v1/companies/{company_id}/analytics"


def test_permissions(data, make_user, admin_of, client_for, anon_api, writer_api, operator_api, integrator_api):
    acme, globex = url(data.acme.pk), url(data.globex.pk)
    member = make_user(email="member@example.org", company=data.acme)  # a member, not an administrator
    acme_admin = client_for(admin_of(data.acme, "acme-admin@example.org"))
    globex_admin = client_for(admin_of(data.globex, "globex-admin@example.org"))
    superuser = client_for(User.objects.create_superuser(email="root@example.org", password="s3cret-passw0rd"))

    # Anonymous: the project's usual answer (as /api/v1/admin/companies).
    assert anon_api.get(acme).status_code == 401
    # Signed in but not an administrator of this company: as if it did not exist.
    for client in (writer_api, client_for(member), globex_admin):
        response = client.get(acme)
        assert response.status_code == 404, response.content
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["detail"] == "No company with this id."
    for client in (acme_admin, operator_api, integrator_api, superuser):
        response = client.get(acme)
        assert response.status_code == 200, response.content
        assert [row["campaign_name"] for row in response.json()["campaigns"]] == [
            "Acme buddies",
            "Acme autumn",
            "Acme spring",
        ]
    # Each administrator reads their own company.
    response = globex_admin.get(globex)
    assert response.status_code == 200
    assert [row["campaign_name"] for row in response.json()["campaigns"]] == ["Globex mentoring"]
    assert acme_admin.get(globex).status_code == 404


def test_unknown_company(operator_api, db):
    response = operator_api.get(url(UNKNOWN))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert operator_api.get("/api/v1/companies/not-a-uuid/analytics").status_code == 404


def test_json_body(operator_api, data):
    response = operator_api.get(url(data.acme.pk), {"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    body = response.json()
    assert (body["company_id"], body["company_name"]) == (str(data.acme.pk), "Acme Corporation")
    assert (body["date_from"], body["date_to"]) == ("2026-03-01", "2026-03-31")
    # Hand-computed in test_partner.test_date_range.
    spring = body["campaigns"][2]
    assert spring == {
        "campaign_id": str(data.c1.pk),
        "campaign_name": "Acme spring",
        "program_id": str(data.program.pk),
        "program_name": "Mentorship 2026",
        "applied": None,
        "submitted": None,
        "reviewed": None,
        "accepted": None,
        "enrolled": 2,
        "active": 1,
        "completed": 1,
        "dropped": 0,
        "completion_rate": 0.5,
        "drop_rate": 0.0,
        "acceptance_rate": None,
        "attendance_rate": 1.0,
        "target_enrollment": 4,
        "max_enrollment": 6,
        "places_taken": 2,
        "target_progress": 0.5,
    }
    assert (body["totals"]["enrolled"], body["totals"]["attendance_rate"]) == (4, 0.75)


def test_campaign_filter(integrator_api, data):
    response = integrator_api.get(url(data.acme.pk), {"campaign": str(data.c2.pk)})
    assert response.status_code == 200
    body = response.json()
    assert [row["campaign_name"] for row in body["campaigns"]] == ["Acme autumn"]
    # C2 alone: e4, e10 active; attendance 2/3.
    assert (body["totals"]["enrolled"], body["totals"]["active"], body["totals"]["attendance_rate"]) == (2, 2, 0.6667)


HEADER = (
    "campaign_id,campaign_name,program_id,program_name,applied,submitted,reviewed,accepted,"
    "enrolled,active,completed,dropped,completion_rate,drop_rate,acceptance_rate,attendance_rate,"
    "target_enrollment,max_enrollment,places_taken,target_progress"
)


def test_csv_body(data, admin_of, client_for):
    client = client_for(admin_of(data.acme, "acme-admin@example.org"))
    response = client.get(url(data.acme.pk), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="company-{data.acme.pk}-campaigns.csv"'
    p, q = data.program.pk, data.other.pk
    # Values of test_partner.test_whole_history; application stages and acceptance rate are empty.
    assert response.content.decode() == (
        f"{HEADER}\r\n"
        f"{data.c3.pk},Acme buddies,{q},Buddy circle,,,,,2,1,1,0,0.5,0.0,,0.5,2,2,2,1.0\r\n"
        f"{data.c2.pk},Acme autumn,{p},Mentorship 2026,,,,,2,2,0,0,0.0,0.0,,0.6667,0,3,2,\r\n"
        f"{data.c1.pk},Acme spring,{p},Mentorship 2026,,,,,3,1,1,1,0.3333,0.3333,,0.6667,4,6,2,0.5\r\n"
        ",Total,,,,,,,7,4,2,1,0.2857,0.1429,,0.6667,6,11,6,1.0\r\n"
    )
    # The Accept header works too.
    assert client.get(url(data.acme.pk), HTTP_ACCEPT="text/csv").content == response.content


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"campaign": "nope"}, "campaign"),
        ({"campaign": str(UNKNOWN)}, "campaign"),
        ({"cohort": str(UNKNOWN)}, "cohort"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_bad_parameters_are_problems(operator_api, data, params, field, fmt):
    response = operator_api.get(url(data.acme.pk), {**params, "format": fmt})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert set(response.json()["errors"]) == {field}


def test_campaign_of_another_company(operator_api, data):
    response = operator_api.get(url(data.acme.pk), {"campaign": str(data.g1.pk)})
    assert response.status_code == 400
    assert response.json()["errors"] == {"campaign": "No campaign with this id in this company."}

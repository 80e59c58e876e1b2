import pytest

from accounts.models import Company
from accounts.services import company_add_member, company_create, user_grant_role
from core.models import AuditEntry


@pytest.mark.django_db
def test_me_lists_roles_and_companies_of_the_session_user(client, make_user):
    acme = company_create(key="acme", name="Acme")
    globex = company_create(key="globex", name="Globex")
    user = make_user(email="m@example.org", role="mentor", company=globex, timezone="Europe/Berlin")
    user_grant_role(user=user, role="writer")
    company_add_member(company=acme, user=user, kind="admin")
    client.force_login(user)
    body = client.get("/api/v1/me").json()
    assert body["roles"] == ["mentor", "writer"]
    assert body["timezone"] == "Europe/Berlin"
    assert body["companies"] == [
        {"id": str(acme.id), "key": "acme", "name": "Acme", "membership": "admin"},
        {"id": str(globex.id), "key": "globex", "name": "Globex", "membership": "member"},
    ]


@pytest.mark.django_db
def test_superuser_holds_every_role(client, make_user):
    user = make_user(email="root@example.org")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    client.force_login(user)
    assert client.get("/api/v1/me").json()["roles"] == ["integrator", "mentor", "operator", "reviewer", "writer"]


@pytest.mark.django_db
def test_create_company_and_read_it_back(operator_api, operator):
    response = operator_api.post(
        "/api/v1/admin/companies",
        {"key": "acme", "name": "Acme Corp", "country": "de", "website": "https://acme.example"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    company = Company.objects.get(key="acme")
    assert body["id"] == str(company.id)
    assert {k: body[k] for k in ("key", "name", "country", "website", "is_active")} == {
        "key": "acme",
        "name": "Acme Corp",
        "country": "DE",
        "website": "https://acme.example",
        "is_active": True,
    }
    assert operator_api.get(f"/api/v1/admin/companies/{company.id}").json() == body
    entry = AuditEntry.objects.get(action="company.created")
    assert entry.actor == operator
    assert entry.changes == {"key": "acme", "name": "Acme Corp"}


@pytest.mark.django_db
def test_duplicate_company_key_answers_409(integrator_api):
    company_create(key="acme", name="Acme")
    response = integrator_api.post("/api/v1/admin/companies", {"key": "acme", "name": "Other"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "A company with the key 'acme' already exists."


@pytest.mark.django_db
def test_patch_company_records_the_change(operator_api):
    company = company_create(key="acme", name="Acme")
    response = operator_api.patch(f"/api/v1/admin/companies/{company.id}", {"name": "Acme AG"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme AG"
    assert AuditEntry.objects.get(action="company.updated").changes == {"name": ["Acme", "Acme AG"]}


@pytest.mark.django_db
def test_company_list_is_paginated_filtered_and_costs_constant_queries(operator_api, django_assert_num_queries):
    for i in range(3):
        company_create(key=f"c{i}", name=f"Company {i}")
    operator_api.get("/api/v1/admin/companies")  # warm the token's last_used_at write
    with django_assert_num_queries(4) as small:
        response = operator_api.get("/api/v1/admin/companies?page_size=2")
    body = response.json()
    assert body["count"] == 3
    assert [c["key"] for c in body["results"]] == ["c0", "c1"]
    assert body["next"].endswith("/api/v1/admin/companies?page=2&page_size=2")
    assert body["previous"] is None
    for i in range(3, 30):
        company_create(key=f"c{i}", name=f"Company {i}")
    with django_assert_num_queries(len(small.captured_queries)):
        response = operator_api.get("/api/v1/admin/companies?page_size=50")
    assert response.json()["count"] == 30
    assert operator_api.get("/api/v1/admin/companies?key=c7").json()["count"] == 1


@pytest.mark.django_db
def test_writer_and_anonymous_cannot_use_admin_endpoints(writer_api, anon_api):
    assert writer_api.post("/api/v1/admin/companies", {"key": "x", "name": "X"}, format="json").status_code == 403
    assert anon_api.get("/api/v1/admin/companies").status_code == 401
    assert not Company.objects.exists()

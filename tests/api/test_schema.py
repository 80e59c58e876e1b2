"""The OpenAPI document describes the contract integrators rely on, served without a CDN."""

import pytest
import yaml

CONTRACT = {
    "/api/v1/me": {"get"},
    "/api/v1/me/enrollments": {"get"},
    "/api/v1/admin/templates": {"get", "post"},
    "/api/v1/admin/templates/{template_id}": {"get", "put", "patch", "delete"},
    "/api/v1/admin/templates/{template_id}/publish": {"post"},
    "/api/v1/admin/templates/{template_id}/versions": {"post"},
    "/api/v1/admin/beneficiary-groups": {"get", "post"},
    "/api/v1/admin/companies": {"get", "post"},
    "/api/v1/admin/programs": {"get", "post"},
    "/api/v1/admin/programs/{program_id}": {"get", "patch"},
    "/api/v1/admin/programs/{program_id}/status": {"put"},
    "/api/v1/programs": {"get"},
    "/api/v1/programs/{program_id}": {"get"},
    "/api/v1/admin/campaigns": {"get", "post"},
    "/api/v1/admin/campaigns/{campaign_id}": {"get", "patch"},
    "/api/v1/admin/enrollments": {"get", "post"},
    "/api/v1/admin/enrollments/{enrollment_id}": {"get", "patch"},
    "/api/v1/admin/integrity": {"get"},
}

RESPONSE_FIELDS = {
    "Template": {
        "id",
        "template_key",
        "name",
        "category",
        "version",
        "status",
        "default_config",
        "config_schema",
        "deprecated_by",
    },
    "Program": {
        "id",
        "program_key",
        "name",
        "template_id",
        "program_type",
        "beneficiary_group_id",
        "config_overrides",
        "config",
        "status",
        "tags",
        "sdg_goals",
        "timezone",
    },
    "Company": {"id", "key", "name"},
    "BeneficiaryGroup": {"id", "key", "name"},
    "Campaign": {
        "id",
        "program_id",
        "company_id",
        "name",
        "target_enrollment",
        "max_enrollment",
        "budget_amount",
        "budget_currency",
        "config",
        "status",
    },
    "Enrollment": {
        "id",
        "user_id",
        "program_id",
        "campaign_id",
        "program_type",
        "role",
        "source_system",
        "status",
        "enrolled_at",
        "completed_at",
    },
}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_every_contract_operation_is_documented(schema):
    documented = {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()}
    for path, methods in CONTRACT.items():
        assert path in documented, path
        assert methods <= documented[path], (path, documented[path])


def test_response_components_carry_the_contract_fields(schema):
    components = schema["components"]["schemas"]
    for name, fields in RESPONSE_FIELDS.items():
        output = components.get(f"{name}Output")
        assert output is not None, name
        assert fields <= set(output["properties"]), (name, fields - set(output["properties"]))


def test_problem_details_and_token_auth_are_documented(schema):
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>`, as printed by `manage.py create_api_user`.",
    }
    create = schema["paths"]["/api/v1/admin/programs"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_are_served_from_local_static_files(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html

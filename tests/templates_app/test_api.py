"""The operator API of program templates: /api/v1/admin/templates."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry, IdempotencyRecord
from templates_app.models import ProgramTemplate
from templates_app.services import template_create, template_new_version, template_publish

URL = "/api/v1/admin/templates"
PROBLEM = "application/problem+json"

SCHEMA = {
    "type": "object",
    "properties": {
        "session": {
            "type": "object",
            "properties": {"default_duration_minutes": {"type": "integer", "minimum": 15, "maximum": 480}},
            "required": ["default_duration_minutes"],
            "additionalProperties": False,
        }
    },
    "required": ["session"],
    "additionalProperties": False,
}
ROLES = [{"role": "mentee", "platform_role": "beneficiary"}, {"role": "mentor", "platform_role": "volunteer"}]


def _body(**overrides):
    body = {
        "template_key": "night-mentoring",
        "name": "Night Mentoring",
        "description": "Mentoring after work.",
        "category": "mentorship",
        "default_config": {"session": {"default_duration_minutes": 45}},
        "config_schema": SCHEMA,
        "roles": ROLES,
        "supports_matching": True,
        "activity_types": ["session"],
        "metrics_tracked": ["sessions_completed"],
        "contributes_to_vis": True,
        "vis_components": {"weighted_hours": True},
    }
    body.update(overrides)
    return body


def _template(key="night-mentoring", publish=False, **fields):
    data = {k: v for k, v in _body(**fields).items() if k not in ("template_key", "name")}
    template = template_create(template_key=key, name=fields.get("name", "Night Mentoring"), **data)
    return template_publish(template=template) if publish else template


def _problem(response, status, slug, title):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["title"] == title
    assert body["status"] == status
    return body


def _audit(template, action):
    return AuditEntry.objects.get(target_id=str(template.pk), action=action)


# --- Create -------------------------------------------------------------------------------------


def test_create_answers_201_with_a_version_1_draft(operator_api, operator):
    response = operator_api.post(URL, _body(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    template = ProgramTemplate.objects.get()
    assert body == {
        "id": str(template.pk),
        "template_key": "night-mentoring",
        "name": "Night Mentoring",
        "description": "Mentoring after work.",
        "category": "mentorship",
        "version": 1,
        "status": "draft",
        "default_config": {"session": {"default_duration_minutes": 45}},
        "config_schema": SCHEMA,
        "deprecated_by": None,
        "roles": ROLES,
        "enrollment_states": ["active", "completed", "dropped"],
        "supports_matching": True,
        "activity_types": ["session"],
        "metrics_tracked": ["sessions_completed"],
        "contributes_to_vis": True,
        "contributes_to_sroi": False,
        "vis_components": {"weighted_hours": True},
        "sroi_dimensions": {},
        "published_at": None,
        "deprecated_at": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    entry = _audit(template, "template.created")
    assert entry.actor == operator
    assert entry.actor_label == "operator@example.org"
    assert entry.changes == {"template_key": "night-mentoring", "version": 1, "category": "mentorship"}


def test_integrator_may_create(integrator_api):
    response = integrator_api.post(URL, _body(), format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "draft"


def test_create_with_an_existing_key_is_a_conflict(operator_api):
    _template()

    response = operator_api.post(URL, _body(name="Other"), format="json")

    body = _problem(response, 409, "conflict", "Conflict with the current state")
    assert body["detail"] == (
        "A template with the key 'night-mentoring' already exists; create a new version of it instead "
        "(POST /api/v1/admin/templates/{id}/versions)."
    )
    assert ProgramTemplate.objects.count() == 1


def test_create_with_an_invalid_config_schema_names_the_path(operator_api):
    response = operator_api.post(URL, _body(config_schema={"type": 5}), format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["detail"] == "The template definition is invalid."
    assert body["errors"] == {"config_schema/type": "5 is not valid under any of the given schemas"}
    assert ProgramTemplate.objects.count() == 0


def test_create_with_a_non_object_config_schema_is_a_400_not_a_500(operator_api):
    response = operator_api.post(URL, _body(config_schema=False, default_config={}), format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"config_schema": "A config schema must be a JSON object."}


def test_create_with_a_schema_that_would_crash_validation_is_a_400(operator_api):
    schema = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "(["},
            "remote": {"$ref": "https://example.com/schema.json"},
        },
    }

    response = operator_api.post(URL, _body(config_schema=schema, default_config={"code": "x"}), format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"config_schema/properties/code/pattern": "'([' is not a 'regex'"}

    schema["properties"]["code"]["pattern"] = "^[a-z]+$"
    response = operator_api.post(URL, _body(config_schema=schema, default_config={"code": "x"}), format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {
        "config_schema/properties/remote/$ref": "The reference 'https://example.com/schema.json' cannot be resolved."
    }


def test_create_with_a_default_config_violating_the_schema(operator_api):
    body = _body(default_config={"session": {"default_duration_minutes": 5, "colour": "red"}, "extra": True})

    response = operator_api.post(URL, body, format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {
        "default_config/extra": "Unknown setting.",
        "default_config/session/colour": "Unknown setting.",
        "default_config/session/default_duration_minutes": "5 is less than the minimum of 15",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("activity_types", 0, "Must be a list of names."),
        ("vis_components", [], "Must map names to true or false."),
        ("roles", [{"role": "mentee", "platform_role": "king"}], None),
    ],
)
def test_create_with_bad_program_type_facts_is_a_400(operator_api, field, value, message):
    response = operator_api.post(URL, _body(**{field: value}), format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    if message:
        assert body["errors"] == {field: message}
    else:
        assert body["errors"] == {"roles/0/platform_role": "Use one of: beneficiary, volunteer, participant, staff."}
    assert ProgramTemplate.objects.count() == 0


def test_create_missing_required_fields(operator_api):
    response = operator_api.post(URL, {"category": "chess"}, format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {
        "name": "This field is required.",
        "category": '"chess" is not a valid choice.',
        "template_key": "This field is required.",
    }


# --- List, filters, pagination, retrieve --------------------------------------------------------


def test_list_filters_by_category_status_and_key(operator_api, builtin_templates):
    draft = template_new_version(template=builtin_templates["mentorship-standard"])

    by_category = operator_api.get(URL, {"category": "buddy"}).json()
    by_status = operator_api.get(URL, {"status": "draft"}).json()
    by_key = operator_api.get(URL, {"template_key": "mentorship-standard"}).json()
    active = operator_api.get(URL, {"status": "active", "category": "mentorship"}).json()

    assert [r["template_key"] for r in by_category["results"]] == ["buddy-standard"]
    assert [(r["id"], r["version"]) for r in by_status["results"]] == [(str(draft.pk), 2)]
    assert [(r["template_key"], r["version"], r["status"]) for r in by_key["results"]] == [
        ("mentorship-standard", 2, "draft"),
        ("mentorship-standard", 1, "active"),
    ]
    assert [(r["template_key"], r["version"]) for r in active["results"]] == [("mentorship-standard", 1)]


def test_list_with_an_unknown_filter_value_is_a_400(operator_api, builtin_templates):
    response = operator_api.get(URL, {"status": "bogus"})

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"status": "Select a valid choice. bogus is not one of the available choices."}


def test_list_is_paginated(operator_api, builtin_templates):
    first = operator_api.get(URL, {"page_size": 3}).json()
    last = operator_api.get(URL, {"page_size": 3, "page": 3}).json()

    assert first["count"] == 8
    assert first["next"] == "http://testserver/api/v1/admin/templates?page=2&page_size=3"
    assert first["previous"] is None
    assert [r["template_key"] for r in first["results"]] == ["buddy-standard", "career-lab", "fee-waiver"]
    assert last["count"] == 8
    assert last["next"] is None
    assert last["previous"] == "http://testserver/api/v1/admin/templates?page=2&page_size=3"
    assert [r["template_key"] for r in last["results"]] == ["pitch-week", "upskilling-courses"]


def test_list_costs_a_constant_number_of_queries(operator_api, django_assert_max_num_queries):
    for n in range(2):
        _template(key=f"key-{n}")
    operator_api.get(URL)  # warm up: the token's last use is recorded once

    with CaptureQueriesContext(connection) as two:
        assert operator_api.get(URL).json()["count"] == 2
    for n in range(2, 10):
        template_new_version(template=template_publish(template=_template(key=f"key-{n}")))
    with django_assert_max_num_queries(len(two.captured_queries)):
        body = operator_api.get(URL).json()

    assert body["count"] == 18
    assert len(body["results"]) == 18


def test_retrieve_one_and_unknown_id(operator_api):
    template = _template()

    response = operator_api.get(f"{URL}/{template.pk}")
    missing = operator_api.get(f"{URL}/{uuid.uuid4()}")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["template_key"]) == (str(template.pk), "night-mentoring")
    assert _problem(missing, 404, "not-found", "Not found")["detail"] == "No ProgramTemplate matches the given query."


# --- Edit ---------------------------------------------------------------------------------------


def test_put_edits_a_draft_partially(operator_api, operator):
    template = _template()

    response = operator_api.put(
        f"{URL}/{template.pk}",
        {"name": "Evening Mentoring", "default_config": {"session": {"default_duration_minutes": 90}}},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["description"], body["category"]) == (
        "Evening Mentoring",
        "Mentoring after work.",
        "mentorship",
    )
    assert body["default_config"] == {"session": {"default_duration_minutes": 90}}
    template.refresh_from_db()
    assert template.name == "Evening Mentoring"
    entry = _audit(template, "template.updated")
    assert entry.actor == operator
    assert entry.changes == {
        "name": ["Night Mentoring", "Evening Mentoring"],
        "default_config": [
            {"session": {"default_duration_minutes": 45}},
            {"session": {"default_duration_minutes": 90}},
        ],
    }


def test_put_that_breaks_the_schema_saves_nothing(operator_api):
    template = _template()

    response = operator_api.put(f"{URL}/{template.pk}", {"name": "X", "default_config": {"session": {}}}, format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"default_config/session/default_duration_minutes": "This setting is required."}
    template.refresh_from_db()
    assert template.name == "Night Mentoring"
    assert not AuditEntry.objects.filter(action="template.updated").exists()


def test_put_on_an_active_template_is_a_conflict(operator_api):
    template = _template(publish=True)

    response = operator_api.put(f"{URL}/{template.pk}", {"name": "Changed"}, format="json")

    body = _problem(response, 409, "conflict", "Conflict with the current state")
    assert body["detail"] == ("Only draft templates can be edited; this one is active. Create a new version instead.")
    template.refresh_from_db()
    assert template.name == "Night Mentoring"


# --- Publish ------------------------------------------------------------------------------------


def test_publish_a_draft(operator_api, operator):
    template = _template()

    response = operator_api.post(f"{URL}/{template.pk}/publish", {}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    template.refresh_from_db()
    assert (body["status"], template.status) == ("active", "active")
    assert body["published_at"] is not None
    assert template.published_at.isoformat().replace("+00:00", "Z") == body["published_at"]
    entry = _audit(template, "template.published")
    assert entry.actor == operator
    assert entry.changes["status"] == ["draft", "active"]


def test_publish_a_non_draft_is_a_conflict(operator_api):
    template = _template(publish=True)

    response = operator_api.post(f"{URL}/{template.pk}/publish", {}, format="json")

    body = _problem(response, 409, "conflict", "Conflict with the current state")
    assert body["detail"] == "Only draft templates can be published."


def test_publish_with_deprecate_previous(operator_api, mentorship_template):
    draft = template_new_version(template=mentorship_template)

    response = operator_api.post(f"{URL}/{draft.pk}/publish", {"deprecate_previous": True}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["version"]) == ("active", 2)
    mentorship_template.refresh_from_db()
    assert mentorship_template.status == "deprecated"
    assert mentorship_template.deprecated_by_id == draft.pk
    assert mentorship_template.deprecated_at is not None
    previous = operator_api.get(f"{URL}/{mentorship_template.pk}").json()
    assert (previous["status"], previous["deprecated_by"]) == ("deprecated", str(draft.pk))
    entry = _audit(mentorship_template, "template.deprecated")
    assert entry.changes["status"] == ["active", "deprecated"]
    assert entry.reason == "Superseded by version 2."


def test_publish_without_deprecate_previous_keeps_the_old_version_active(operator_api, mentorship_template):
    draft = template_new_version(template=mentorship_template)

    response = operator_api.post(f"{URL}/{draft.pk}/publish", format="json")

    assert response.status_code == 200
    mentorship_template.refresh_from_db()
    assert (mentorship_template.status, mentorship_template.deprecated_by_id) == ("active", None)


# --- Versions -----------------------------------------------------------------------------------


def test_new_version_copies_the_latest_into_a_draft(operator_api, mentorship_template, operator):
    response = operator_api.post(f"{URL}/{mentorship_template.pk}/versions", format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["template_key"], body["version"], body["status"]) == ("mentorship-standard", 2, "draft")
    assert body["id"] != str(mentorship_template.pk)
    assert body["default_config"] == mentorship_template.default_config
    assert body["config_schema"] == mentorship_template.config_schema
    assert body["roles"] == mentorship_template.roles
    assert (body["published_at"], body["deprecated_by"]) == (None, None)
    draft = ProgramTemplate.objects.get(pk=body["id"])
    entry = _audit(draft, "template.version_created")
    assert (entry.actor, entry.changes) == (operator, {"from_version": 1, "version": 2})


def test_new_version_while_a_draft_exists_is_a_conflict(operator_api, mentorship_template):
    template_new_version(template=mentorship_template)

    response = operator_api.post(f"{URL}/{mentorship_template.pk}/versions", format="json")

    body = _problem(response, 409, "conflict", "Conflict with the current state")
    assert body["detail"] == (
        "Version 2 of 'mentorship-standard' is still a draft; edit or publish it before starting another version."
    )
    assert ProgramTemplate.objects.filter(template_key="mentorship-standard").count() == 2


# --- Delete -------------------------------------------------------------------------------------


def test_delete_an_unused_template(operator_api, operator):
    template = _template()

    response = operator_api.delete(f"{URL}/{template.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert not ProgramTemplate.objects.filter(pk=template.pk).exists()
    entry = _audit(template, "template.deleted")
    assert (entry.actor, entry.changes) == (
        operator,
        {"template_key": "night-mentoring", "version": 1},
    )


def test_delete_a_template_used_by_a_program_is_a_conflict(operator_api, program):
    response = operator_api.delete(f"{URL}/{program.template_id}")

    body = _problem(response, 409, "conflict", "Conflict with the current state")
    assert body["detail"] == (
        "The template 'mentorship-standard' v1 is used by 1 program(s) and cannot be deleted; archive it instead."
    )
    assert ProgramTemplate.objects.filter(pk=program.template_id).exists()
    assert not AuditEntry.objects.filter(action="template.deleted").exists()


# --- Permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", ""), ("get", "/{id}"), ("put", "/{id}"), ("post", "/{id}/publish")],
)
def test_writer_gets_403(writer_api, method, suffix):
    template = _template()

    response = getattr(writer_api, method)(URL + suffix.format(id=template.pk), {}, format="json")

    body = _problem(response, 403, "permission-denied", "Permission denied")
    assert body["detail"] == "Your account does not hold a role that may use this endpoint."
    template.refresh_from_db()
    assert template.status == "draft"


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", ""), ("delete", "/{id}")])
def test_anonymous_gets_401(db, anon_api, method, suffix):
    template = _template()

    response = getattr(anon_api, method)(URL + suffix.format(id=template.pk))

    body = _problem(response, 401, "not-authenticated", "Authentication required")
    assert body["detail"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == "Token"
    assert ProgramTemplate.objects.filter(pk=template.pk).exists()


def test_invalid_token_gets_401(db, anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    response = anon_api.get(URL)

    body = _problem(response, 401, "authentication-failed", "Authentication failed")
    assert body["detail"] == "Invalid or revoked token."


# --- Idempotency --------------------------------------------------------------------------------


def test_same_idempotency_key_and_body_replays_the_first_response(operator_api):
    first = operator_api.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    second = operator_api.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="create-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert ProgramTemplate.objects.count() == 1
    assert AuditEntry.objects.filter(action="template.created").count() == 1


def test_same_idempotency_key_with_another_body_is_a_422(operator_api):
    first = operator_api.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    second = operator_api.post(URL, _body(name="Other"), format="json", HTTP_IDEMPOTENCY_KEY="create-1")

    assert first.status_code == 201
    body = _problem(second, 422, "idempotency-key-reused", "Idempotency-Key reused")
    assert body["detail"] == (
        "The Idempotency-Key 'create-1' was already used for a different request; use a new key for a new request."
    )
    assert list(ProgramTemplate.objects.values_list("name", flat=True)) == ["Night Mentoring"]


def test_failed_request_releases_its_idempotency_key(operator_api):
    bad = operator_api.post(URL, _body(config_schema={"type": 5}), format="json", HTTP_IDEMPOTENCY_KEY="k")
    good = operator_api.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert (bad.status_code, good.status_code) == (400, 201)
    assert not good.has_header("Idempotent-Replayed")
    assert IdempotencyRecord.objects.get(key="k").state == "completed"
    assert ProgramTemplate.objects.count() == 1

"""Source 002 "Common Operations" end to end, over the API only, as an integrator: create and
publish a template, instantiate a program with overrides, deploy a company campaign, enroll users,
version the template, migrate the program opt-in, and check integrity."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

API = "/api/v1/admin"

SCHEMA_V1 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "session": {
            "type": "object",
            "properties": {
                "default_duration_minutes": {"type": "integer", "minimum": 15, "maximum": 240},
                "recommended_frequency": {"enum": ["weekly", "biweekly", "monthly"]},
            },
            "required": ["default_duration_minutes", "recommended_frequency"],
            "additionalProperties": False,
        }
    },
    "required": ["session"],
    "additionalProperties": False,
}
DEFAULTS_V1 = {"session": {"default_duration_minutes": 60, "recommended_frequency": "weekly"}}
ROLES = [{"role": "mentee", "platform_role": "beneficiary"}, {"role": "mentor", "platform_role": "volunteer"}]

SCHEMA_V2 = {
    **SCHEMA_V1,
    "properties": {**SCHEMA_V1["properties"], "new_field": {"type": "string", "minLength": 1}},
}
DEFAULTS_V2 = {**DEFAULTS_V1, "new_field": "newValue"}


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def test_common_operations_end_to_end(integrator_api, make_user):
    api = integrator_api

    # --- 1. Creating a new template -------------------------------------------------------------
    template = _ok(
        api.post(
            f"{API}/templates",
            {
                "template_key": "mentorship-tech-workers",
                "name": "Tech Worker Mentorship",
                "category": "mentorship",
                "default_config": DEFAULTS_V1,
                "config_schema": SCHEMA_V1,
                "roles": ROLES,
            },
            format="json",
        ),
        201,
    )
    v1_id = template["id"]
    assert {k: template[k] for k in ("template_key", "name", "category", "version", "status", "deprecated_by")} == {
        "template_key": "mentorship-tech-workers",
        "name": "Tech Worker Mentorship",
        "category": "mentorship",
        "version": 1,
        "status": "draft",
        "deprecated_by": None,
    }
    assert (template["default_config"], template["config_schema"], template["roles"]) == (
        DEFAULTS_V1,
        SCHEMA_V1,
        ROLES,
    )
    # A draft is not listed as active yet.
    assert _ok(api.get(f"{API}/templates", {"category": "mentorship", "status": "active"}))["count"] == 0

    published = _ok(api.post(f"{API}/templates/{v1_id}/publish", {"deprecate_previous": False}, format="json"))
    assert (published["id"], published["status"], published["version"]) == (v1_id, "active", 1)
    assert published["published_at"] is not None

    again = api.post(f"{API}/templates/{v1_id}/publish", {"deprecate_previous": False}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == "Only draft templates can be published."

    # --- 2. Instantiating a program -------------------------------------------------------------
    found = _ok(api.get(f"{API}/templates", {"category": "mentorship", "status": "active"}))
    assert found["count"] == 1
    assert [(t["id"], t["template_key"], t["status"]) for t in found["results"]] == [
        (v1_id, "mentorship-tech-workers", "active")
    ]
    assert _ok(api.get(f"{API}/templates", {"category": "buddy", "status": "active"}))["count"] == 0

    group = _ok(
        api.post(
            f"{API}/beneficiary-groups",
            {"key": "syrian-refugees", "name": "Syrian refugees", "countries": ["de"], "languages": ["AR"]},
            format="json",
        ),
        201,
    )
    assert {k: group[k] for k in ("key", "name", "countries", "languages")} == {
        "key": "syrian-refugees",
        "name": "Syrian refugees",
        "countries": ["DE"],
        "languages": ["ar"],
    }
    company = _ok(api.post(f"{API}/companies", {"key": "acme-corp", "name": "Acme Corp"}, format="json"), 201)
    assert (company["key"], company["name"]) == ("acme-corp", "Acme Corp")

    program_body = {
        "template_id": v1_id,
        "name": "Mentorship for Syrian Refugees 2024",
        "beneficiary_group_id": group["id"],
        "config_overrides": {"session": {"default_duration_minutes": 90}},
        "tags": ["syrian", "mentorship", "2024"],
        "sdg_goals": [4, 8, 10],
    }
    invalid = api.post(
        f"{API}/programs",
        {**program_body, "config_overrides": {"session": {"default_duration_minutes": 5, "colour": "red"}}},
        format="json",
    )
    assert invalid.status_code == 400
    assert invalid.json()["detail"] == "Config validation failed."
    assert invalid.json()["errors"] == {
        "config_overrides/session/default_duration_minutes": "5 is less than the minimum of 15",
        "config_overrides/session/colour": "Unknown setting.",
    }

    program = _ok(api.post(f"{API}/programs", program_body, format="json"), 201)
    program_id = program["id"]
    assert {
        k: program[k]
        for k in (
            "program_key",
            "name",
            "template_id",
            "template_version",
            "program_type",
            "beneficiary_group_id",
            "config_overrides",
            "config",
            "status",
            "tags",
            "sdg_goals",
            "timezone",
        )
    } == {
        "program_key": "mentorship-for-syrian-refugees-2024",
        "name": "Mentorship for Syrian Refugees 2024",
        "template_id": v1_id,
        "template_version": 1,
        "program_type": "mentorship",
        "beneficiary_group_id": group["id"],
        "config_overrides": {"session": {"default_duration_minutes": 90}},
        "config": {"session": {"default_duration_minutes": 90, "recommended_frequency": "weekly"}},
        "status": "draft",
        "tags": ["syrian", "mentorship", "2024"],
        "sdg_goals": [4, 8, 10],
        "timezone": "UTC",
    }

    user = make_user(email="early@example.org")
    early = api.post(
        f"{API}/enrollments", {"user_id": str(user.id), "program_id": program_id, "role": "mentee"}, format="json"
    )
    assert early.status_code == 409
    assert early.json()["detail"] == (
        "The program 'Mentorship for Syrian Refugees 2024' is draft and takes no enrollments."
    )

    active = _ok(api.put(f"{API}/programs/{program_id}/status", {"status": "active"}, format="json"))
    assert (active["id"], active["status"]) == (program_id, "active")

    # --- 3. Creating a company campaign ----------------------------------------------------------
    campaign = _ok(
        api.post(
            f"{API}/campaigns",
            {
                "program_id": program_id,
                "company_id": company["id"],
                "name": "Acme Corp Mentorship Campaign",
                "target_enrollment": 2,
                "max_enrollment": 3,
                "budget_amount": "15000.00",
                "budget_currency": "eur",
                "config_overrides": {"session": {"default_duration_minutes": 45}},
            },
            format="json",
        ),
        201,
    )
    campaign_id = campaign["id"]
    assert {
        k: campaign[k]
        for k in (
            "program_id",
            "company_id",
            "name",
            "target_enrollment",
            "max_enrollment",
            "budget_amount",
            "budget_currency",
            "config",
            "status",
        )
    } == {
        "program_id": program_id,
        "company_id": company["id"],
        "name": "Acme Corp Mentorship Campaign",
        "target_enrollment": 2,
        "max_enrollment": 3,
        "budget_amount": "15000.00",
        "budget_currency": "EUR",
        "config": {"session": {"default_duration_minutes": 45, "recommended_frequency": "weekly"}},
        "status": "active",
    }

    # --- 4. Enrollments (and checking them) ------------------------------------------------------
    users = [user, make_user(email="second@example.org"), make_user(email="third@example.org")]
    enrollments = []
    for index, person in enumerate(users):
        body = _ok(
            api.post(
                f"{API}/enrollments",
                {
                    "user_id": str(person.id),
                    "program_id": program_id,
                    "campaign_id": campaign_id,
                    "role": "mentor" if index == 2 else "mentee",
                    "source_system": "kintell",
                },
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"enroll-{index}",
            ),
            201,
        )
        enrollments.append(body)
        assert {
            k: body[k]
            for k in ("user_id", "program_id", "campaign_id", "beneficiary_group_id", "program_type", "source_system")
        } == {
            "user_id": str(person.id),
            "program_id": program_id,
            "campaign_id": campaign_id,
            "beneficiary_group_id": group["id"],
            "program_type": "mentorship",
            "source_system": "kintell",
        }
        assert (body["status"], body["completed_at"]) == ("active", None)
    assert [e["role"] for e in enrollments] == ["mentee", "mentee", "mentor"]

    full = api.post(
        f"{API}/enrollments",
        {
            "user_id": str(make_user(email="late@example.org").id),
            "program_id": program_id,
            "campaign_id": campaign_id,
            "role": "mentee",
        },
        format="json",
    )
    assert full.status_code == 409
    assert full.json()["detail"] == "The campaign 'Acme Corp Mentorship Campaign' is full: 3 of 3 places are taken."

    listed = _ok(api.get(f"{API}/enrollments", {"program": program_id}))
    assert listed["count"] == 3
    assert {e["id"] for e in listed["results"]} == {e["id"] for e in enrollments}
    mine = _ok(api.get(f"{API}/enrollments", {"user": str(users[1].id)}))
    assert [(e["id"], e["program_type"]) for e in mine["results"]] == [(enrollments[1]["id"], "mentorship")]
    assert _ok(api.get(f"{API}/campaigns/{campaign_id}/capacity")) == {
        "campaign_id": campaign_id,
        "target_enrollment": 2,
        "max_enrollment": 3,
        "enrolled": 3,
        "available": 0,
    }

    completed = _ok(api.patch(f"{API}/enrollments/{enrollments[0]['id']}", {"status": "completed"}, format="json"))
    assert completed["status"] == "completed"
    assert completed["completed_at"] is not None

    # --- 5. Template versioning -----------------------------------------------------------------
    draft = _ok(api.post(f"{API}/templates/{v1_id}/versions"), 201)
    v2_id = draft["id"]
    assert v2_id != v1_id
    assert {k: draft[k] for k in ("template_key", "version", "status", "default_config", "config_schema")} == {
        "template_key": "mentorship-tech-workers",
        "version": 2,
        "status": "draft",
        "default_config": DEFAULTS_V1,
        "config_schema": SCHEMA_V1,
    }

    edited = _ok(
        api.put(
            f"{API}/templates/{v2_id}",
            {"name": "Updated Template v2", "config_schema": SCHEMA_V2, "default_config": DEFAULTS_V2},
            format="json",
        )
    )
    assert (edited["name"], edited["default_config"], edited["config_schema"], edited["status"]) == (
        "Updated Template v2",
        DEFAULTS_V2,
        SCHEMA_V2,
        "draft",
    )
    # Published versions are immutable.
    frozen_v1 = api.put(f"{API}/templates/{v1_id}", {"name": "Renamed"}, format="json")
    assert frozen_v1.status_code == 409

    v2 = _ok(api.post(f"{API}/templates/{v2_id}/publish", {"deprecate_previous": True}, format="json"))
    assert (v2["status"], v2["version"], v2["deprecated_by"]) == ("active", 2, None)
    v1 = _ok(api.get(f"{API}/templates/{v1_id}"))
    assert (v1["status"], v1["deprecated_by"], v1["name"]) == ("deprecated", v2_id, "Tech Worker Mentorship")
    assert v1["deprecated_at"] is not None
    assert [
        t["id"] for t in _ok(api.get(f"{API}/templates", {"status": "active", "category": "mentorship"}))["results"]
    ] == [v2_id]

    # Existing programs continue using the old version ...
    still_v1 = _ok(api.get(f"{API}/programs/{program_id}"))
    assert (still_v1["template_id"], still_v1["template_version"]) == (v1_id, 1)
    assert still_v1["config"] == {"session": {"default_duration_minutes": 90, "recommended_frequency": "weekly"}}
    # ... and new programs use the new one.
    from_old = api.post(f"{API}/programs", {**program_body, "name": "Too late"}, format="json")
    assert from_old.status_code == 409
    assert from_old.json()["detail"] == (f"Template 'mentorship-tech-workers' v1 is deprecated; use v2 ({v2_id}).")
    newer = _ok(api.post(f"{API}/programs", {**program_body, "template_id": v2_id}, format="json"), 201)
    assert (newer["template_id"], newer["template_version"], newer["program_key"]) == (
        v2_id,
        2,
        "mentorship-for-syrian-refugees-2024-2",
    )
    assert newer["config"] == {
        "session": {"default_duration_minutes": 90, "recommended_frequency": "weekly"},
        "new_field": "newValue",
    }

    # --- Opt-in migration of the existing program ------------------------------------------------
    migrated = _ok(
        api.post(
            f"{API}/programs/{program_id}/migrate-template",
            {"template_id": v2_id, "reason": "adopt v2"},
            format="json",
        )
    )
    assert (migrated["template_id"], migrated["template_version"], migrated["program_type"]) == (
        v2_id,
        2,
        "mentorship",
    )
    assert migrated["config_overrides"] == {"session": {"default_duration_minutes": 90}}
    assert migrated["config"] == {
        "session": {"default_duration_minutes": 90, "recommended_frequency": "weekly"},
        "new_field": "newValue",
    }
    assert _ok(api.get(f"{API}/campaigns/{campaign_id}"))["config"] == {
        "session": {"default_duration_minutes": 45, "recommended_frequency": "weekly"},
        "new_field": "newValue",
    }
    # The enrollments stay where they were, with the program's type.
    after = _ok(api.get(f"{API}/enrollments", {"program": program_id, "program_type": "mentorship"}))
    assert after["count"] == 3

    # --- Integrity check -------------------------------------------------------------------------
    report = _ok(api.get(f"{API}/integrity"))
    assert (report["ok"], report["problem_count"]) == (True, 0)
    assert [(c["name"], c["count"]) for c in report["checks"]] == [
        ("enrollment_dual_write", 0),
        ("program_type_mismatch", 0),
        ("orphaned_campaign_reference", 0),
        ("role_not_in_template", 0),
        ("campaign_over_capacity", 0),
        ("journey_flags_stale", 0),
    ]

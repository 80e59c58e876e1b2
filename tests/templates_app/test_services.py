"""Template services: built-ins, seeding, definition rules, publishing, versions, deletion."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from core.errors import Conflict, IllegalTransition, ValidationFailed
from core.models import AuditEntry
from templates_app.builtin import BUILTIN_TEMPLATES, schema_for
from templates_app.config import config_errors, schema_errors
from templates_app.enums import TemplateCategory, TemplateStatus
from templates_app.models import ProgramTemplate
from templates_app.services import (
    template_archive,
    template_create,
    template_definition_errors,
    template_delete,
    template_new_version,
    template_publish,
    template_update,
    templates_seed_builtin,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "session": {
            "type": "object",
            "properties": {"minutes": {"type": "integer", "minimum": 15}},
            "required": ["minutes"],
            "additionalProperties": False,
        }
    },
    "required": ["session"],
    "additionalProperties": False,
}
ROLES = [{"role": "mentee", "platform_role": "beneficiary"}, {"role": "mentor", "platform_role": "volunteer"}]


def _definition(**overrides):
    data = {
        "name": "Custom",
        "category": "mentorship",
        "default_config": {"session": {"minutes": 30}},
        "config_schema": SCHEMA,
        "roles": ROLES,
        "enrollment_states": ["active", "completed", "dropped"],
        "activity_types": [],
        "metrics_tracked": [],
        "vis_components": {},
        "sroi_dimensions": {},
    }
    data.update(overrides)
    return data


def _create(key="custom", **fields):
    data = _definition(**fields)
    return template_create(template_key=key, name=data.pop("name"), **data)


def _actions(template):
    return list(
        AuditEntry.objects.filter(target_id=str(template.pk)).order_by("created_at").values_list("action", flat=True)
    )


# --- Built-in templates -------------------------------------------------------------------------


@pytest.mark.parametrize("spec", BUILTIN_TEMPLATES, ids=[s["template_key"] for s in BUILTIN_TEMPLATES])
def test_every_builtin_schema_is_valid_and_its_default_config_validates(spec):
    schema = schema_for(*spec.get("schema_extra", []))

    assert schema_errors(schema) == {}
    assert config_errors(schema, spec["default_config"]) == {}
    definition = {"enrollment_states": ["active", "completed", "dropped"], **spec, "config_schema": schema}
    assert template_definition_errors(definition) == {}


def test_builtins_cover_the_eight_program_types():
    assert sorted(spec["category"] for spec in BUILTIN_TEMPLATES) == sorted(TemplateCategory.values)
    assert len(TemplateCategory.values) == 8


def test_seed_publishes_every_builtin_once(db):
    assert templates_seed_builtin() == 8

    rows = list(ProgramTemplate.objects.order_by("template_key"))
    assert [(t.template_key, t.version, t.status) for t in rows] == [
        ("buddy-standard", 1, "active"),
        ("career-lab", 1, "active"),
        ("fee-waiver", 1, "active"),
        ("language-tutoring", 1, "active"),
        ("live-read", 1, "active"),
        ("mentorship-standard", 1, "active"),
        ("pitch-week", 1, "active"),
        ("upskilling-courses", 1, "active"),
    ]
    assert {t.category for t in rows} == set(TemplateCategory.values)
    assert all(t.published_at is not None for t in rows)
    for template in rows:
        assert config_errors(template.config_schema, template.default_config) == {}
        assert _actions(template) == ["template.created", "template.published"]


def test_seeding_twice_creates_nothing_the_second_time(db):
    templates_seed_builtin()
    rows_before = ProgramTemplate.objects.count()
    audits_before = AuditEntry.objects.count()

    assert templates_seed_builtin() == 0
    assert ProgramTemplate.objects.count() == rows_before == 8
    assert AuditEntry.objects.count() == audits_before


def test_seed_templates_command_reports_and_is_idempotent(db):
    out = StringIO()
    call_command("seed_templates", stdout=out)
    assert "template mentorship-standard v1 published" in out.getvalue()
    assert out.getvalue().strip().endswith("8 template(s) created.")

    out = StringIO()
    call_command("seed_templates", stdout=out)
    assert out.getvalue().strip() == "0 template(s) created."


def test_mentorship_builtin_facts(mentorship_template):
    assert mentorship_template.category == "mentorship"
    assert mentorship_template.role_names == ["mentee", "mentor"]
    assert mentorship_template.supports_matching is True
    assert mentorship_template.default_config["session"]["default_duration_minutes"] == 60
    assert mentorship_template.config_schema["required"] == ["session", "application", "completion", "matching"]


# --- Definition rules ---------------------------------------------------------------------------


def test_create_makes_a_draft_version_1_with_an_audit_entry(db):
    template = _create()

    assert (template.template_key, template.version, template.status) == ("custom", 1, "draft")
    assert template.published_at is None
    entry = AuditEntry.objects.get(target_id=str(template.pk))
    assert entry.action == "template.created"
    assert entry.changes == {"template_key": "custom", "version": 1, "category": "mentorship"}
    assert entry.actor_label == "system"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"category": "chess"},
            {
                "category": "Unknown category 'chess'. Use one of: mentorship, buddy, language, upskilling, "
                "fee_waiver, career_lab, pitch_week, live_read."
            },
        ),
        ({"config_schema": False}, {"config_schema": "A config schema must be a JSON object."}),
        ({"config_schema": []}, {"config_schema": "A config schema must be a JSON object."}),
        ({"default_config": []}, {"default_config": "The default config must be a JSON object."}),
        (
            {"default_config": {"session": {}}},
            {"default_config/session/minutes": "This setting is required."},
        ),
        ({"roles": 0}, {"roles": "Roles must be a list of {role, platform_role} objects."}),
        ({"roles": [{"role": ""}]}, {"roles/0/role": "Each role needs a non-empty 'role' name."}),
        (
            {"roles": [ROLES[0], {"role": "mentee", "platform_role": "beneficiary"}]},
            {"roles/1/role": "The role 'mentee' is listed twice."},
        ),
        (
            {"roles": [{"role": "mentee", "platform_role": "king"}]},
            {"roles/0/platform_role": "Use one of: beneficiary, volunteer, participant, staff."},
        ),
        (
            {"enrollment_states": ["active", "completed"]},
            {"enrollment_states": "Enrollment states must include active, completed and dropped."},
        ),
        (
            {"enrollment_states": [{"a": 1}, "active", "completed", "dropped"]},
            {"enrollment_states": "Enrollment states must include active, completed and dropped."},
        ),
        ({"activity_types": 0}, {"activity_types": "Must be a list of names."}),
        ({"metrics_tracked": ["", "x"]}, {"metrics_tracked": "Must be a list of names."}),
        ({"vis_components": []}, {"vis_components": "Must map names to true or false."}),
        ({"sroi_dimensions": {"x": 1}}, {"sroi_dimensions": "Must map names to true or false."}),
    ],
)
def test_definition_errors_one_path_each(db, fields, errors):
    with pytest.raises(ValidationFailed) as exc:
        _create(**fields)

    assert exc.value.detail == "The template definition is invalid."
    assert exc.value.errors == errors
    assert ProgramTemplate.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_create_refuses_an_existing_key(db):
    _create()

    with pytest.raises(Conflict) as exc:
        _create(name="Again")

    assert exc.value.detail.startswith("A template with the key 'custom' already exists;")
    assert ProgramTemplate.objects.count() == 1


def test_create_refuses_unknown_fields(db):
    with pytest.raises(ValidationFailed) as exc:
        template_create(template_key="x", name="X", category="mentorship", colour="red")

    assert exc.value.errors == {"colour": "Unknown field."}


# --- Update, publish, versions ------------------------------------------------------------------


def test_update_edits_a_draft_and_audits_only_real_changes(db):
    template = _create()

    template = template_update(template=template, data={"name": "Renamed", "description": ""})

    template.refresh_from_db()
    assert template.name == "Renamed"
    entry = AuditEntry.objects.get(target_id=str(template.pk), action="template.updated")
    assert entry.changes == {"name": ["Custom", "Renamed"]}


def test_update_revalidates_default_config_against_the_new_schema(db):
    template = _create()
    stricter = {**SCHEMA, "properties": {"session": {**SCHEMA["properties"]["session"], "required": ["minutes", "x"]}}}

    with pytest.raises(ValidationFailed) as exc:
        template_update(template=template, data={"config_schema": stricter})

    assert exc.value.errors == {"default_config/session/x": "This setting is required."}
    template.refresh_from_db()
    assert template.config_schema == SCHEMA


def test_published_templates_are_immutable(db):
    template = template_publish(template=_create())

    with pytest.raises(Conflict) as exc:
        template_update(template=template, data={"name": "New"})

    assert exc.value.detail == ("Only draft templates can be edited; this one is active. Create a new version instead.")


def test_publish_sets_status_and_published_at_and_audits(db):
    template = template_publish(template=_create())

    template.refresh_from_db()
    assert template.status == "active"
    assert template.published_at is not None
    entry = AuditEntry.objects.get(target_id=str(template.pk), action="template.published")
    assert entry.changes["status"] == ["draft", "active"]
    assert entry.changes["published_at"][0] is None


def test_publish_a_non_draft_is_a_conflict(db):
    template = template_publish(template=_create())

    with pytest.raises(Conflict) as exc:
        template_publish(template=template)

    assert exc.value.detail == "Only draft templates can be published."


def test_publish_without_deprecate_previous_keeps_both_versions_active(db):
    v1 = template_publish(template=_create())
    v2 = template_publish(template=template_new_version(template=v1))

    v1.refresh_from_db()
    assert (v1.status, v1.deprecated_by_id) == ("active", None)
    assert v2.status == "active"


def test_publish_with_deprecate_previous_deprecates_every_active_version(db):
    v1 = template_publish(template=_create())
    v2 = template_publish(template=template_new_version(template=v1))
    v3 = template_publish(template=template_new_version(template=v1), deprecate_previous=True)

    rows = {t.version: t for t in ProgramTemplate.objects.filter(template_key="custom")}
    assert v3.version == 3
    assert [(rows[v].status, rows[v].deprecated_by_id) for v in (1, 2, 3)] == [
        ("deprecated", v3.pk),
        ("deprecated", v3.pk),
        ("active", None),
    ]
    assert rows[1].deprecated_at == rows[3].published_at
    entry = AuditEntry.objects.get(target_id=str(v2.pk), action="template.deprecated")
    assert entry.reason == "Superseded by version 3."
    assert entry.changes["deprecated_by"] == [None, str(v3.pk)]


def test_new_version_copies_the_latest_version_into_a_draft(db):
    v1 = template_publish(template=_create(description="first"))
    v2 = template_publish(template=template_new_version(template=v1))
    template_update(template=template_new_version(template=v2), data={"description": "third"})
    v3 = ProgramTemplate.objects.get(template_key="custom", version=3)
    template_publish(template=v3)

    # Asked through the oldest version, the copy is still made from the latest one.
    v4 = template_new_version(template=v1)

    assert (v4.version, v4.status, v4.description) == (4, "draft", "third")
    assert v4.default_config == v1.default_config
    assert v4.config_schema == v1.config_schema
    assert v4.published_at is None
    entry = AuditEntry.objects.get(target_id=str(v4.pk))
    assert (entry.action, entry.changes) == ("template.version_created", {"from_version": 3, "version": 4})


def test_new_version_refuses_while_a_draft_exists(db):
    v1 = template_publish(template=_create())
    template_new_version(template=v1)

    with pytest.raises(Conflict) as exc:
        template_new_version(template=v1)

    assert exc.value.detail == (
        "Version 2 of 'custom' is still a draft; edit or publish it before starting another version."
    )
    assert ProgramTemplate.objects.filter(template_key="custom").count() == 2


def test_archived_is_final(db):
    template = template_archive(template=_create(), reason="not needed")

    assert template.status == TemplateStatus.ARCHIVED
    with pytest.raises(IllegalTransition):
        template_archive(template=template)
    entry = AuditEntry.objects.get(target_id=str(template.pk), action="template.archived")
    assert (entry.changes, entry.reason) == ({"status": ["draft", "archived"]}, "not needed")


def test_delete_unused_template(db):
    template = _create()
    pk = template.pk

    template_delete(template=template)

    assert not ProgramTemplate.objects.filter(pk=pk).exists()
    assert AuditEntry.objects.get(target_id=str(pk), action="template.deleted").changes == {
        "template_key": "custom",
        "version": 1,
    }


def test_delete_used_template_is_a_conflict_and_leaves_no_audit(program):
    template = program.template

    with pytest.raises(Conflict) as exc:
        template_delete(template=template)

    assert exc.value.detail == (
        "The template 'mentorship-standard' v1 is used by 1 program(s) and cannot be deleted; archive it instead."
    )
    assert ProgramTemplate.objects.filter(pk=template.pk).exists()
    assert not AuditEntry.objects.filter(target_id=str(template.pk), action="template.deleted").exists()

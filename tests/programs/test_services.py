"""Program and campaign services: rules the API tests do not reach directly."""

from __future__ import annotations

import pytest

from core.errors import Conflict, ValidationFailed
from core.models import AuditEntry
from programs import hooks
from programs.models import Program
from programs.services import (
    CAMPAIGN_TRANSITIONS,
    PROGRAM_TRANSITIONS,
    campaign_create,
    campaign_update,
    program_create,
    program_migrate_template,
    program_set_status,
    program_update,
)
from templates_app.services import template_create, template_new_version, template_publish, template_update

ROLES = [{"role": "participant", "platform_role": "beneficiary"}]

# A session that is online needs a link: whether a campaign's config is valid depends on the
# program's config underneath it.
LINKED_SCHEMA = {
    "type": "object",
    "properties": {"online": {"type": "boolean"}, "link": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
    "if": {"properties": {"online": {"const": True}}, "required": ["online"]},
    "then": {"required": ["link"]},
}


@pytest.fixture
def linked_template(db):
    template = template_create(
        template_key="live-read-online",
        name="Online live read",
        category="live_read",
        config_schema=LINKED_SCHEMA,
        default_config={"online": False},
        roles=ROLES,
    )
    return template_publish(template=template)


def test_transition_tables():
    assert {k: sorted(v) for k, v in PROGRAM_TRANSITIONS.allowed.items()} == {
        "draft": ["active", "archived"],
        "active": ["closed", "paused"],
        "paused": ["active", "closed"],
        "closed": ["active", "archived"],
        "archived": [],
    }
    assert {k: sorted(v) for k, v in CAMPAIGN_TRANSITIONS.allowed.items()} == {
        "draft": ["active", "cancelled"],
        "active": ["cancelled", "completed", "paused"],
        "paused": ["active", "cancelled", "completed"],
        "completed": [],
        "cancelled": [],
    }


def test_long_and_unsluggable_names_still_get_unique_keys(mentorship_template, group):
    long_name = "Mentorship " + "x" * 150
    first = program_create(template=mentorship_template, name=long_name, beneficiary_group=group)
    second = program_create(template=mentorship_template, name=long_name, beneficiary_group=group)
    arabic = program_create(template=mentorship_template, name="برنامج", beneficiary_group=group)

    assert len(first.program_key) == 94
    assert second.program_key == first.program_key + "-2"
    assert arabic.program_key == "program"
    assert Program.objects.count() == 3


def test_blank_name_is_refused(mentorship_template, group):
    with pytest.raises(ValidationFailed) as exc:
        program_create(template=mentorship_template, name="   ", beneficiary_group=group)

    assert exc.value.errors == {"name": "A program needs a name."}


def test_program_update_refuses_fields_it_does_not_own(program):
    with pytest.raises(ValidationFailed) as exc:
        program_update(program=program, data={"status": "paused", "program_type": "buddy"})

    assert exc.value.errors == {
        "program_type": "This field cannot be changed here.",
        "status": "This field cannot be changed here.",
    }


def test_program_update_without_changes_writes_no_audit(program):
    program_update(program=program, data={"name": "Mentorship 2026", "config_overrides": {}})

    assert not AuditEntry.objects.filter(action="program.updated").exists()


def test_setting_the_same_status_is_a_no_op(program):
    before = AuditEntry.objects.filter(action="program.status_changed").count()

    program_set_status(program=program, status="active")

    assert AuditEntry.objects.filter(action="program.status_changed").count() == before


def test_unknown_program_status(program):
    with pytest.raises(ValidationFailed) as exc:
        program_set_status(program=program, status="launched")

    assert exc.value.errors == {
        "status": "Unknown status 'launched'. Use one of: draft, active, paused, closed, archived."
    }


def test_program_config_change_that_breaks_a_campaign_is_refused(make_program, linked_template, company):
    program = make_program(linked_template, name="Reads", config_overrides={"link": "https://meet.example/x"})
    campaign = campaign_create(
        program=program, company=company, name="Acme", max_enrollment=5, config_overrides={"online": True}
    )
    assert campaign.config == {"online": True, "link": "https://meet.example/x"}

    with pytest.raises(ValidationFailed) as exc:
        program_update(program=program, data={"config_overrides": {}})

    assert exc.value.detail == "Config validation failed."
    assert exc.value.errors == {f"campaigns/{campaign.pk}/config_overrides/link": "This setting is required."}
    program.refresh_from_db()
    assert program.config_overrides == {"link": "https://meet.example/x"}


def test_program_config_change_reaches_campaigns(make_program, linked_template, company):
    program = make_program(linked_template, name="Reads", config_overrides={"link": "https://meet.example/x"})
    campaign = campaign_create(
        program=program, company=company, name="Acme", max_enrollment=5, config_overrides={"online": True}
    )

    program_update(program=program, data={"config_overrides": {"link": "https://meet.example/y"}})

    campaign.refresh_from_db()
    assert campaign.config == {"online": True, "link": "https://meet.example/y"}


def test_migration_keeps_the_program_type(make_program, mentorship_template):
    """Enrollments carry the program type (dual-write), so a new version of another category
    cannot take the program along."""
    program = make_program(mentorship_template)
    draft = template_new_version(template=mentorship_template)
    v2 = template_publish(template=template_update(template=draft, data={"category": "buddy"}))

    with pytest.raises(ValidationFailed) as exc:
        program_migrate_template(program=program, template=v2)

    assert exc.value.errors == {
        "template_id": "Template v2 is a buddy template; the program stays a mentorship program."
    }
    program.refresh_from_db()
    assert (program.template_id, program.program_type) == (mentorship_template.pk, "mentorship")


def test_campaign_update_refuses_fields_it_does_not_own(campaign):
    with pytest.raises(ValidationFailed) as exc:
        campaign_update(campaign=campaign, data={"program": None, "company": None})

    assert exc.value.errors == {"company": "This field cannot be changed.", "program": "This field cannot be changed."}


def test_archived_program_takes_no_campaigns(make_program, mentorship_template, company):
    program = make_program(mentorship_template, status="closed")
    program_set_status(program=program, status="archived")

    with pytest.raises(Conflict) as exc:
        campaign_create(program=program, company=company, name="Late", max_enrollment=2)

    assert exc.value.detail == "The program 'Mentorship 2026' is archived; it takes no new campaigns."


def test_capacity_hooks_register_once_and_report_messages(campaign, monkeypatch):
    monkeypatch.setattr(hooks, "_capacity_checks", [])

    def too_low(c, new_max):
        return f"{c.name} cannot go to {new_max}." if new_max < 4 else None

    hooks.register_campaign_capacity_check(too_low)
    hooks.register_campaign_capacity_check(too_low)

    assert hooks.campaign_capacity_errors(campaign, 3) == ["Acme Mentorship cannot go to 3."]
    assert hooks.campaign_capacity_errors(campaign, 4) == []
    with pytest.raises(Conflict) as exc:
        campaign_update(campaign=campaign, data={"max_enrollment": 3})
    assert exc.value.detail == "Acme Mentorship cannot go to 3."

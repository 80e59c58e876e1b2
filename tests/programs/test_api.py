"""Operator API of beneficiary groups and programs: create from a template with overrides,
lifecycle, config edits and migration to a newer template version."""

from __future__ import annotations

import copy
import uuid

import pytest

from core.models import AuditEntry
from programs.models import BeneficiaryGroup, Campaign, Program
from programs.services import campaign_create, program_create, program_set_status
from templates_app.services import template_new_version, template_publish, template_update

GROUPS = "/api/v1/admin/beneficiary-groups"
PROGRAMS = "/api/v1/admin/programs"
PROBLEM = "application/problem+json"


def _problem(response, status, slug, title):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["title"], body["status"]) == (f"/problems/{slug}", title, status)
    return body


def _audit(obj, action):
    return AuditEntry.objects.get(target_id=str(obj.pk), action=action)


def _new_version(template, *, publish=True, deprecate_previous=False, **data):
    draft = template_new_version(template=template)
    if data:
        draft = template_update(template=draft, data=data)
    if publish:
        draft = template_publish(template=draft, deprecate_previous=deprecate_previous)
    return draft


@pytest.fixture
def create_program(operator_api, mentorship_template, group):
    def _create(**fields):
        body = {
            "template_id": str(mentorship_template.pk),
            "name": "Mentorship 2026",
            "beneficiary_group_id": str(group.pk),
        }
        body.update(fields)
        return operator_api.post(PROGRAMS, body, format="json")

    return _create


# --- Beneficiary groups -------------------------------------------------------------------------


def test_create_beneficiary_group(operator_api, operator):
    response = operator_api.post(
        GROUPS,
        {
            "key": "ukrainian-refugees",
            "name": "Ukrainian refugees",
            "tags": ["Refugees", "refugees", "Women in Tech"],
            "countries": ["pl", "DE"],
            "languages": ["UK", "ru"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    group = BeneficiaryGroup.objects.get(key="ukrainian-refugees")
    assert response.json() == {
        "id": str(group.pk),
        "key": "ukrainian-refugees",
        "name": "Ukrainian refugees",
        "description": "",
        "tags": ["refugees", "women-in-tech"],
        "countries": ["DE", "PL"],
        "languages": ["ru", "uk"],
        "is_active": True,
        "created_at": response.json()["created_at"],
    }
    entry = _audit(group, "beneficiary_group.created")
    assert (entry.actor, entry.changes) == (operator, {"key": "ukrainian-refugees"})


def test_beneficiary_group_key_is_unique(operator_api, group):
    response = operator_api.post(GROUPS, {"key": "syrian-refugees", "name": "Again"}, format="json")

    body = _problem(response, 409, "conflict", "Conflict with the current state")
    assert body["detail"] == "A beneficiary group with the key 'syrian-refugees' already exists."
    assert BeneficiaryGroup.objects.count() == 1


def test_beneficiary_group_with_bad_country_codes(operator_api):
    response = operator_api.post(GROUPS, {"key": "x", "name": "X", "countries": ["D1"]}, format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"countries": "Countries are ISO 3166-1 alpha-2 codes (e.g. DE)."}
    assert not BeneficiaryGroup.objects.exists()


def test_list_and_patch_beneficiary_groups(operator_api, group):
    listed = operator_api.get(GROUPS, {"key": "syrian-refugees"}).json()
    patched = operator_api.patch(f"{GROUPS}/{group.pk}", {"name": "Syrian refugees (DE)"}, format="json")

    assert (listed["count"], listed["results"][0]["id"]) == (1, str(group.pk))
    assert patched.status_code == 200
    assert patched.json()["name"] == "Syrian refugees (DE)"
    group.refresh_from_db()
    assert group.name == "Syrian refugees (DE)"
    assert _audit(group, "beneficiary_group.updated").changes == {"name": ["Syrian refugees", "Syrian refugees (DE)"]}


def test_writer_cannot_use_beneficiary_groups(writer_api, group):
    body = _problem(writer_api.get(GROUPS), 403, "permission-denied", "Permission denied")
    assert body["detail"] == "Your account does not hold a role that may use this endpoint."


# --- Create a program ---------------------------------------------------------------------------


def test_create_program_merges_overrides_into_the_template_defaults(
    create_program, mentorship_template, group, operator
):
    overrides = {
        "session": {"default_duration_minutes": 90},
        "reminders": {"session_hours_before": [48]},
        "matching": {"weights": {"language": 0.6}},
    }

    response = create_program(
        config_overrides=overrides,
        tags=["Women in Tech", "career"],
        sdg_goals=[8, 4, 8],
        timezone="Europe/Berlin",
        description="For mentees in Berlin.",
    )

    assert response.status_code == 201, response.content
    expected_config = copy.deepcopy(mentorship_template.default_config)
    expected_config["session"]["default_duration_minutes"] = 90
    expected_config["reminders"]["session_hours_before"] = [48]
    expected_config["matching"]["weights"]["language"] = 0.6
    program = Program.objects.get()
    body = response.json()
    assert body == {
        "id": str(program.pk),
        "program_key": "mentorship-2026",
        "name": "Mentorship 2026",
        "description": "For mentees in Berlin.",
        "template_id": str(mentorship_template.pk),
        "template_version": 1,
        "program_type": "mentorship",
        "beneficiary_group_id": str(group.pk),
        "config_overrides": overrides,
        "config": expected_config,
        "status": "draft",
        "tags": ["women-in-tech", "career"],
        "sdg_goals": [4, 8],
        "timezone": "Europe/Berlin",
        "opens_at": None,
        "closes_at": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    # Untouched siblings of an overridden key keep their defaults; lists are replaced, not merged.
    assert body["config"]["session"]["recommended_frequency"] == "biweekly"
    assert body["config"]["reminders"]["application_deadline_days_before"] == [7, 1]
    assert (program.config, program.config_overrides) == (expected_config, overrides)
    entry = _audit(program, "program.created")
    assert entry.actor == operator
    assert entry.changes == {
        "program_key": "mentorship-2026",
        "template": "mentorship-standard v1",
        "config_overrides": overrides,
    }


@pytest.mark.parametrize(
    ("template_key", "program_type"),
    [("buddy-standard", "buddy"), ("career-lab", "career_lab"), ("live-read", "live_read")],
)
def test_program_type_is_the_template_category(operator_api, builtin_templates, group, template_key, program_type):
    template = builtin_templates[template_key]

    response = operator_api.post(
        PROGRAMS,
        {"template_id": str(template.pk), "name": "P", "beneficiary_group_id": str(group.pk)},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert (response.json()["program_type"], response.json()["config"]) == (program_type, template.default_config)


def test_program_key_is_generated_from_the_name_and_unique(create_program):
    keys = [create_program().json()["program_key"] for _ in range(3)]
    other = create_program(name="Mentorship: Berlin / Spring!").json()["program_key"]

    assert keys == ["mentorship-2026", "mentorship-2026-2", "mentorship-2026-3"]
    assert other == "mentorship-berlin-spring"
    assert sorted(Program.objects.values_list("program_key", flat=True)) == [
        "mentorship-2026",
        "mentorship-2026-2",
        "mentorship-2026-3",
        "mentorship-berlin-spring",
    ]


def test_explicit_program_key_that_is_taken_is_a_conflict(create_program):
    create_program(program_key="flagship")

    body = _problem(create_program(program_key="flagship"), 409, "conflict", "Conflict with the current state")
    assert body["detail"] == "A program with the key 'flagship' already exists."
    assert Program.objects.count() == 1


def test_override_violating_the_schema_answers_one_error_per_path(create_program):
    response = create_program(config_overrides={"session": {"default_duration_minutes": 5}})

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["detail"] == "Config validation failed."
    assert body["errors"] == {"config_overrides/session/default_duration_minutes": "5 is less than the minimum of 15"}
    assert not Program.objects.exists()


def test_several_override_violations(create_program):
    response = create_program(
        config_overrides={
            "session": {"default_duration_minutes": "long", "recommended_frequency": "hourly"},
            "matching": {"require_human_approval": False},
        }
    )

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {
        "config_overrides/matching/require_human_approval": "True was expected",
        "config_overrides/session/default_duration_minutes": "'long' is not of type 'integer'",
        "config_overrides/session/recommended_frequency": (
            "'hourly' is not one of ['once', 'daily', 'weekly', 'biweekly', 'monthly']"
        ),
    }


def test_unknown_override_keys(create_program):
    response = create_program(config_overrides={"colour": "red", "session": {"room": "A1"}})

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["detail"] == "Config validation failed."
    assert body["errors"] == {
        "config_overrides/colour": "Unknown setting.",
        "config_overrides/session/room": "Unknown setting.",
    }


def test_overrides_must_be_an_object(create_program):
    body = _problem(create_program(config_overrides=[1]), 400, "validation-error", "Invalid input")
    assert body["errors"] == {"config_overrides": "Overrides must be a JSON object."}


def test_unknown_template_id(create_program):
    missing = uuid.uuid4()

    body = _problem(create_program(template_id=str(missing)), 400, "validation-error", "Invalid input")
    assert body["errors"] == {"template_id": f"No template with the id {missing}."}


def test_unknown_beneficiary_group_id(create_program):
    missing = uuid.uuid4()

    body = _problem(create_program(beneficiary_group_id=str(missing)), 400, "validation-error", "Invalid input")
    assert body["errors"] == {"beneficiary_group_id": f"No beneficiary group with the id {missing}."}


def test_draft_template_is_a_conflict(create_program, mentorship_template):
    draft = template_new_version(template=mentorship_template)

    body = _problem(create_program(template_id=str(draft.pk)), 409, "conflict", "Conflict with the current state")
    assert body["detail"] == (
        "Template 'mentorship-standard' v2 is draft; programs are created from active templates only."
    )
    assert not Program.objects.exists()


def test_deprecated_template_is_a_conflict_naming_the_newer_version(create_program, mentorship_template):
    v2 = _new_version(mentorship_template, deprecate_previous=True)

    body = _problem(create_program(), 409, "conflict", "Conflict with the current state")
    assert body["detail"] == f"Template 'mentorship-standard' v1 is deprecated; use v2 ({v2.pk})."
    assert create_program(template_id=str(v2.pk)).json()["template_version"] == 2


@pytest.mark.parametrize("goals", [[0], [18], [1, 17, 20]])
def test_sdg_goals_outside_1_to_17(create_program, goals):
    body = _problem(create_program(sdg_goals=goals), 400, "validation-error", "Invalid input")
    assert body["detail"] == "The request has invalid fields."
    assert body["errors"] == {"sdg_goals": "SDG goals are integers from 1 to 17."}


def test_sdg_goals_bounds_are_accepted(create_program):
    assert create_program(sdg_goals=[17, 1]).json()["sdg_goals"] == [1, 17]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "CET+5", "../../etc/passwd"])
def test_bad_timezone(create_program, zone):
    body = _problem(create_program(timezone=zone), 400, "validation-error", "Invalid input")
    assert body["errors"] == {"timezone": f"'{zone}' is not an IANA time zone (e.g. Europe/Berlin)."}


@pytest.mark.parametrize("closes_at", ["2026-03-01T09:00:00+00:00", "2026-02-01T09:00:00+00:00"])
def test_window_must_close_after_it_opens(create_program, closes_at):
    response = create_program(opens_at="2026-03-01T10:00:00+01:00", closes_at=closes_at)

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"closes_at": "The application window must close after it opens."}
    assert not Program.objects.exists()


def test_window_is_stored(create_program):
    body = create_program(opens_at="2026-03-01T10:00:00+01:00", closes_at="2026-04-01T10:00:00+02:00").json()

    assert (body["opens_at"], body["closes_at"]) == ("2026-03-01T09:00:00Z", "2026-04-01T08:00:00Z")


def test_program_create_idempotency(create_program, operator_api, mentorship_template, group):
    body = {
        "template_id": str(mentorship_template.pk),
        "name": "Mentorship 2026",
        "beneficiary_group_id": str(group.pk),
    }

    first = operator_api.post(PROGRAMS, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    again = operator_api.post(PROGRAMS, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    other = operator_api.post(PROGRAMS, {**body, "name": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    _problem(other, 422, "idempotency-key-reused", "Idempotency-Key reused")
    assert Program.objects.count() == 1


def test_writer_and_anonymous_cannot_create_programs(writer_api, anon_api, mentorship_template, group):
    body = {"template_id": str(mentorship_template.pk), "name": "X", "beneficiary_group_id": str(group.pk)}

    _problem(writer_api.post(PROGRAMS, body, format="json"), 403, "permission-denied", "Permission denied")
    _problem(anon_api.post(PROGRAMS, body, format="json"), 401, "not-authenticated", "Authentication required")
    assert not Program.objects.exists()


# --- Admin list ---------------------------------------------------------------------------------


def test_admin_list_shows_every_status_and_filters(operator_api, make_program, builtin_templates):
    draft = make_program(builtin_templates["mentorship-standard"], name="A draft", status="draft")
    active = make_program(builtin_templates["buddy-standard"], name="B active")

    everything = operator_api.get(PROGRAMS).json()
    drafts = operator_api.get(PROGRAMS, {"status": "draft"}).json()
    buddies = operator_api.get(PROGRAMS, {"program_type": "buddy"}).json()
    by_template = operator_api.get(PROGRAMS, {"template": str(draft.template_id)}).json()

    assert [r["id"] for r in everything["results"]] == [str(draft.pk), str(active.pk)]
    assert [r["id"] for r in drafts["results"]] == [str(draft.pk)]
    assert [r["id"] for r in buddies["results"]] == [str(active.pk)]
    assert [r["id"] for r in by_template["results"]] == [str(draft.pk)]


def test_admin_retrieve_unknown_program_is_404(operator_api, db):
    body = _problem(operator_api.get(f"{PROGRAMS}/{uuid.uuid4()}"), 404, "not-found", "Not found")
    assert body["detail"] == "No Program matches the given query."


# --- Status transitions -------------------------------------------------------------------------

PATHS = {
    "draft": [],
    "active": ["active"],
    "paused": ["active", "paused"],
    "closed": ["active", "closed"],
    "archived": ["archived"],
}
ALLOWED = {
    ("draft", "active"),
    ("draft", "archived"),
    ("active", "paused"),
    ("active", "closed"),
    ("paused", "active"),
    ("paused", "closed"),
    ("closed", "active"),
    ("closed", "archived"),
}
STATUSES = list(PATHS)
TABLE_CASES = [(a, b) for a in STATUSES for b in STATUSES if a != b]


def _program_in(status, mentorship_template, group):
    program = program_create(template=mentorship_template, name=f"In {status}", beneficiary_group=group)
    for step in PATHS[status]:
        program = program_set_status(program=program, status=step)
    assert program.status == status
    return program


@pytest.mark.parametrize(("current", "target"), TABLE_CASES)
def test_status_transition_table(operator_api, operator, mentorship_template, group, current, target):
    program = _program_in(current, mentorship_template, group)
    audits_before = AuditEntry.objects.filter(action="program.status_changed").count()

    response = operator_api.put(
        f"{PROGRAMS}/{program.pk}/status", {"status": target, "reason": "planned"}, format="json"
    )

    program.refresh_from_db()
    if (current, target) in ALLOWED:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == target
        assert program.status == target
        entry = AuditEntry.objects.filter(target_id=str(program.pk), action="program.status_changed").latest(
            "created_at"
        )
        assert (entry.actor, entry.changes, entry.reason) == (operator, {"status": [current, target]}, "planned")
    else:
        body = _problem(response, 409, "illegal-transition", "Illegal status transition")
        assert body["detail"].startswith(f"A program cannot go from '{current}' to '{target}'.")
        assert program.status == current
        assert AuditEntry.objects.filter(action="program.status_changed").count() == audits_before


def test_draft_to_paused_message(operator_api, mentorship_template, group):
    program = _program_in("draft", mentorship_template, group)

    response = operator_api.put(f"{PROGRAMS}/{program.pk}/status", {"status": "paused"}, format="json")

    body = _problem(response, 409, "illegal-transition", "Illegal status transition")
    assert body["detail"] == "A program cannot go from 'draft' to 'paused'. Allowed from 'draft': active, archived."


def test_archived_is_final(operator_api, mentorship_template, group):
    program = _program_in("archived", mentorship_template, group)

    response = operator_api.put(f"{PROGRAMS}/{program.pk}/status", {"status": "active"}, format="json")

    body = _problem(response, 409, "illegal-transition", "Illegal status transition")
    assert body["detail"] == (
        "A program cannot go from 'archived' to 'active'. Allowed from 'archived': none (final state)."
    )


def test_unknown_status_is_a_400(operator_api, program):
    body = _problem(
        operator_api.put(f"{PROGRAMS}/{program.pk}/status", {"status": "launched"}, format="json"),
        400,
        "validation-error",
        "Invalid input",
    )
    assert body["errors"] == {"status": '"launched" is not a valid choice.'}


# --- PATCH --------------------------------------------------------------------------------------


def test_patch_config_overrides_rederives_program_and_campaign_configs(operator_api, program, company, operator):
    campaign = campaign_create(
        program=program,
        company=company,
        name="Acme",
        max_enrollment=5,
        config_overrides={"matching": {"max_mentees_per_mentor": 3}},
    )
    overrides = {"session": {"default_duration_minutes": 90}, "completion": {"duration_weeks": 12}}

    response = operator_api.patch(f"{PROGRAMS}/{program.pk}", {"config_overrides": overrides}, format="json")

    assert response.status_code == 200, response.content
    expected = copy.deepcopy(program.template.default_config)
    expected["session"]["default_duration_minutes"] = 90
    expected["completion"]["duration_weeks"] = 12
    assert (response.json()["config_overrides"], response.json()["config"]) == (overrides, expected)
    program.refresh_from_db()
    campaign.refresh_from_db()
    assert program.config == expected
    expected_campaign = copy.deepcopy(expected)
    expected_campaign["matching"]["max_mentees_per_mentor"] = 3
    assert campaign.config == expected_campaign
    entry = _audit(program, "program.updated")
    assert (entry.actor, entry.changes) == (operator, {"config_overrides": [{}, overrides]})


def test_patch_with_an_invalid_override_saves_nothing(operator_api, campaign):
    program = campaign.program
    config_before, campaign_config_before = program.config, campaign.config

    response = operator_api.patch(
        f"{PROGRAMS}/{program.pk}",
        {"name": "Renamed", "config_overrides": {"session": {"default_duration_minutes": 5}}},
        format="json",
    )

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["detail"] == "Config validation failed."
    assert body["errors"] == {"config_overrides/session/default_duration_minutes": "5 is less than the minimum of 15"}
    program.refresh_from_db()
    campaign.refresh_from_db()
    assert (program.name, program.config_overrides, program.config) == ("Mentorship 2026", {}, config_before)
    assert campaign.config == campaign_config_before
    assert not AuditEntry.objects.filter(action="program.updated").exists()


def test_patch_other_fields(operator_api, program, operator):
    response = operator_api.patch(
        f"{PROGRAMS}/{program.pk}",
        {"tags": ["Career Change"], "timezone": "America/New_York", "sdg_goals": [5]},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tags"], body["timezone"], body["sdg_goals"], body["program_key"]) == (
        ["career-change"],
        "America/New_York",
        [5],
        "mentorship-2026",
    )
    assert _audit(program, "program.updated").changes == {
        "tags": [[], ["career-change"]],
        "timezone": ["UTC", "America/New_York"],
        "sdg_goals": [[], [5]],
    }


def test_patch_with_bad_values(operator_api, program):
    response = operator_api.patch(
        f"{PROGRAMS}/{program.pk}", {"timezone": "Nowhere/City", "sdg_goals": [99]}, format="json"
    )

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["detail"] == "The request has invalid fields."
    assert body["errors"] == {
        "sdg_goals": "SDG goals are integers from 1 to 17.",
        "timezone": "'Nowhere/City' is not an IANA time zone (e.g. Europe/Berlin).",
    }
    program.refresh_from_db()
    assert (program.timezone, program.sdg_goals) == ("UTC", [])


def test_patch_window_checks_against_the_stored_end(operator_api, make_program, mentorship_template):
    program = make_program(
        mentorship_template, opens_at="2026-03-01T00:00:00+00:00", closes_at="2026-04-01T00:00:00+00:00"
    )

    response = operator_api.patch(f"{PROGRAMS}/{program.pk}", {"opens_at": "2026-05-01T00:00:00Z"}, format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"closes_at": "The application window must close after it opens."}


# --- Migrate to a newer template version --------------------------------------------------------


def _migrate(operator_api, program, template, **extra):
    return operator_api.post(
        f"{PROGRAMS}/{program.pk}/migrate-template", {"template_id": str(template.pk), **extra}, format="json"
    )


def test_migrate_to_a_newer_version(operator_api, operator, make_program, mentorship_template, company):
    program = make_program(mentorship_template, config_overrides={"session": {"default_duration_minutes": 90}})
    campaign = campaign_create(
        program=program,
        company=company,
        name="Acme",
        max_enrollment=5,
        config_overrides={"completion": {"duration_weeks": 10}},
    )
    v2_defaults = copy.deepcopy(mentorship_template.default_config)
    v2_defaults["session"]["recommended_frequency"] = "weekly"
    v2_defaults["session"]["default_duration_minutes"] = 45
    v2 = _new_version(mentorship_template, default_config=v2_defaults)

    response = _migrate(operator_api, program, v2, reason="weekly rhythm")

    assert response.status_code == 200, response.content
    expected = copy.deepcopy(v2_defaults)
    expected["session"]["default_duration_minutes"] = 90
    body = response.json()
    assert (body["template_id"], body["template_version"], body["config"]) == (str(v2.pk), 2, expected)
    program.refresh_from_db()
    campaign.refresh_from_db()
    assert (program.template_id, program.config) == (v2.pk, expected)
    expected_campaign = copy.deepcopy(expected)
    expected_campaign["completion"]["duration_weeks"] = 10
    assert campaign.config == expected_campaign
    entry = _audit(program, "program.template_migrated")
    assert (entry.actor, entry.reason) == (operator, "weekly rhythm")
    assert entry.changes == {
        "template_version": [1, 2],
        "template": [str(mentorship_template.pk), str(v2.pk)],
    }


def test_migrate_to_the_same_or_an_older_version_is_a_conflict(operator_api, make_program, mentorship_template):
    v2 = _new_version(mentorship_template)
    program = make_program(v2)

    same = _migrate(operator_api, program, v2)
    older = _migrate(operator_api, program, mentorship_template)

    for response in (same, older):
        body = _problem(response, 409, "conflict", "Conflict with the current state")
        assert body["detail"] == "The program is on v2; it can only move to a newer version."
    program.refresh_from_db()
    assert program.template_id == v2.pk


def test_migrate_to_an_unpublished_version_is_a_conflict(operator_api, program, mentorship_template):
    draft = _new_version(mentorship_template, publish=False)

    body = _problem(_migrate(operator_api, program, draft), 409, "conflict", "Conflict with the current state")
    assert body["detail"] == "Template v2 is draft; publish it first."


def test_migrate_to_another_template_key_is_a_400(operator_api, program, builtin_templates):
    response = _migrate(operator_api, program, builtin_templates["buddy-standard"])

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"template_id": "Programs migrate within their template key 'mentorship-standard'."}
    program.refresh_from_db()
    assert program.template.template_key == "mentorship-standard"


def test_migrate_to_an_unknown_template_is_a_400(operator_api, program):
    missing = uuid.uuid4()

    response = operator_api.post(
        f"{PROGRAMS}/{program.pk}/migrate-template", {"template_id": str(missing)}, format="json"
    )

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"template_id": f"No template with the id {missing}."}


def _stricter_schema(template, maximum):
    schema = copy.deepcopy(template.config_schema)
    schema["properties"]["session"]["properties"]["default_duration_minutes"]["maximum"] = maximum
    return schema


def test_migrate_when_the_new_schema_rejects_the_overrides(operator_api, make_program, mentorship_template):
    program = make_program(mentorship_template, config_overrides={"session": {"default_duration_minutes": 90}})
    config_before = program.config
    v2 = _new_version(mentorship_template, config_schema=_stricter_schema(mentorship_template, 60))

    response = _migrate(operator_api, program, v2)

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["detail"] == "The program's config does not validate against v2."
    assert body["errors"] == {
        "config_overrides/session/default_duration_minutes": "90 is greater than the maximum of 60"
    }
    program.refresh_from_db()
    assert (program.template_id, program.config) == (mentorship_template.pk, config_before)
    assert not AuditEntry.objects.filter(action="program.template_migrated").exists()


def test_migrate_when_the_new_schema_rejects_a_campaign(operator_api, program, company, mentorship_template):
    campaign = campaign_create(
        program=program,
        company=company,
        name="Acme",
        max_enrollment=5,
        config_overrides={"session": {"default_duration_minutes": 120}},
    )
    v2 = _new_version(mentorship_template, config_schema=_stricter_schema(mentorship_template, 60))

    response = _migrate(operator_api, program, v2)

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {
        f"campaigns/{campaign.pk}/config_overrides/session/default_duration_minutes": (
            "120 is greater than the maximum of 60"
        )
    }
    program.refresh_from_db()
    campaign.refresh_from_db()
    assert program.template_id == mentorship_template.pk
    assert campaign.config["session"]["default_duration_minutes"] == 120
    assert Campaign.objects.get().config == campaign.config

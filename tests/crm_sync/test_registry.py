"""The event-type registry: shipped files load, `manage.py check` guards them, cutover rules."""

import json
import shutil
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from crm_sync import registry
from crm_sync.checks import event_registry_check

ISSUE_TYPES = {
    "program_application_decision",
    "program_application_sla_reminder",
    "program_session_reminder",
    "program_crm_sync_requested",
    "enrollment.created",
    "enrollment.status_changed",
}


@pytest.fixture
def registry_copy(tmp_path, settings):
    """A writable copy of the shipped registry, used by the product while the test runs."""
    directory = tmp_path / "contracts"
    shutil.copytree(registry.DEFAULT_DIR, directory)
    registry.reset()
    settings.CRM_EVENT_REGISTRY_DIR = str(directory)
    yield directory
    registry.reset()


def _edit_index(directory, change):
    index = directory / registry.REGISTRY_FILE
    data = json.loads(index.read_text())
    change(data)
    index.write_text(json.dumps(data))


def test_the_shipped_registry_loads_and_check_passes():
    registry.reset()
    call_command("check")
    assert event_registry_check(None) == []
    reg = registry.registry()
    assert reg.directory == registry.DEFAULT_DIR
    assert reg.cutover_days == 14
    assert reg.envelope.schema["title"] == "Event envelope, version 1"


def test_the_issue_event_types_are_registered_with_an_active_v1():
    types = registry.registry().types
    assert ISSUE_TYPES <= set(types)
    for name in ISSUE_TYPES:
        kind = types[name]
        assert kind.producer == "platform"
        assert "crm" in kind.consumers
        assert kind.active.version == 1
        assert kind.active.status == "active"
        assert kind.active.payload_schema == f"payloads/{name}-v1.json"
        assert kind.active.validator is not None
        assert kind.owning_contract.startswith("docs/integration.md#")


def test_an_unknown_type_raises_unknown_event_type():
    with pytest.raises(registry.UnknownEventType, match="'no.such.event' is not a registered event type"):
        registry.registry().get("no.such.event")


def test_a_schema_that_is_not_a_valid_json_schema_fails_the_check(registry_copy):
    (registry_copy / "payloads" / "enrollment.created-v1.json").write_text(json.dumps({"type": "objekt"}))
    with pytest.raises(SystemCheckError) as excinfo:
        call_command("check")
    message = str(excinfo.value)
    assert "crm_sync.E001" in message
    assert "enrollment.created schema_versions[0]" in message
    assert "payloads/enrollment.created-v1.json is not a valid JSON Schema" in message


def test_a_schema_file_that_is_not_json_fails_the_check(registry_copy):
    (registry_copy / "payloads" / "program_session_reminder-v1.json").write_text("{not json")
    (error,) = event_registry_check(None)
    assert error.id == "crm_sync.E001"
    assert "program_session_reminder schema_versions[0]" in error.msg
    assert "payloads/program_session_reminder-v1.json is not valid JSON" in error.msg


def test_a_missing_payload_schema_file_fails_the_check(registry_copy):
    def point_at_missing(data):
        data["event_types"]["enrollment.status_changed"]["schema_versions"][0]["payload_schema"] = (
            "payloads/enrollment.status_changed-v9.json"
        )

    _edit_index(registry_copy, point_at_missing)
    with pytest.raises(SystemCheckError) as excinfo:
        call_command("check")
    message = str(excinfo.value)
    assert "crm_sync.E001" in message
    assert (
        "enrollment.status_changed schema_versions[0]: schema file payloads/enrollment.status_changed-v9.json "
        "does not exist." in message
    )


def test_a_deleted_schema_file_fails_the_check(registry_copy):
    (registry_copy / "payloads" / "buddy.match.created-v1.json").unlink()
    (error,) = event_registry_check(None)
    assert error.id == "crm_sync.E001"
    assert error.msg == (
        "The event-type registry is invalid: buddy.match.created schema_versions[0]: "
        "schema file payloads/buddy.match.created-v1.json does not exist."
    )


def test_a_type_without_an_active_version_fails_the_check(registry_copy):
    def deprecate(data):
        data["event_types"]["enrollment.created"]["schema_versions"][0]["status"] = "deprecated"

    _edit_index(registry_copy, deprecate)
    (error,) = event_registry_check(None)
    assert error.msg == "The event-type registry is invalid: enrollment.created: needs an active schema version."


def test_the_check_passes_again_on_a_fixed_copy(registry_copy):
    (registry_copy / "payloads" / "enrollment.created-v1.json").write_text("{")
    assert [e.id for e in event_registry_check(None)] == ["crm_sync.E001"]
    shutil.copy(registry.DEFAULT_DIR / "payloads" / "enrollment.created-v1.json", registry_copy / "payloads")
    assert event_registry_check(None) == []


# --- Cutover ------------------------------------------------------------------------------------


def _add_type(directory, name, versions, cutover_days=14):
    for version in versions:
        if version.get("payload_schema"):
            (directory / version["payload_schema"]).write_text(json.dumps({"type": "object"}))

    def add(data):
        data["cutover_days"] = cutover_days
        data["event_types"][name] = {"producer": "partner", "consumers": ["platform"], "schema_versions": versions}

    _edit_index(directory, add)
    registry.reset()
    return registry.registry()


def test_a_deprecated_version_is_accepted_until_the_successor_is_active(registry_copy):
    reg = _add_type(
        registry_copy,
        "partner.thing.done",
        [
            {
                "version": 1,
                "payload_schema": "payloads/t1.json",
                "status": "deprecated",
                "registered_at": "2030-01-01",
                "deprecated_at": "2030-02-01",
            },
            {
                "version": 2,
                "payload_schema": "payloads/t2.json",
                "status": "active",
                "registered_at": "2030-02-01",
                "active_from": "2030-03-01",
            },
        ],
    )
    kind = reg.get("partner.thing.done")
    assert kind.active.version == 2
    assert kind.cutover(kind.version(1), reg.cutover_days) == date(2030, 3, 1)
    assert kind.cutover(kind.version(2), reg.cutover_days) is None
    assert reg.acceptance_error("partner.thing.done", 1, date(2030, 2, 28)) is None
    assert reg.acceptance_error("partner.thing.done", 1, date(2030, 3, 1)) == (
        "Version 1 of partner.thing.done was retired on 2030-03-01; send version 2."
    )
    assert reg.acceptance_error("partner.thing.done", 2, date(2099, 1, 1)) is None
    assert reg.acceptance_error("partner.thing.done", 3, date(2030, 1, 1)) == (
        "partner.thing.done has no schema version 3; the active version is 2."
    )


def test_without_a_successor_date_the_cutover_is_deprecated_at_plus_cutover_days(registry_copy):
    reg = _add_type(
        registry_copy,
        "partner.other.done",
        [
            {
                "version": 1,
                "payload_schema": "payloads/o1.json",
                "status": "deprecated",
                "registered_at": "2030-01-01",
                "deprecated_at": "2030-01-10",
            },
            {"version": 2, "payload_schema": "payloads/o2.json", "status": "active", "registered_at": "2030-01-10"},
        ],
        cutover_days=5,
    )
    assert reg.cutover_days == 5
    assert reg.acceptance_error("partner.other.done", 1, date(2030, 1, 14)) is None
    assert reg.acceptance_error("partner.other.done", 1, date(2030, 1, 15)) == (
        "Version 1 of partner.other.done was retired on 2030-01-15; send version 2."
    )


def test_the_shipped_buddy_v1_cutover_is_v2_active_from():
    reg = registry.registry()
    assert reg.acceptance_error("buddy.match.created", 1, date(2026, 10, 14)) is None
    assert reg.acceptance_error("buddy.match.created", 1, date(2026, 10, 15)) == (
        "Version 1 of buddy.match.created was retired on 2026-10-15; send version 2."
    )
    assert reg.acceptance_error("buddy.match.created", 2, date(2026, 10, 15)) is None

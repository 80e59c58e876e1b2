"""Config inheritance (deep merge) and validation against a template's JSON Schema."""

from __future__ import annotations

import copy

import pytest

from templates_app.config import config_errors, deep_merge, schema_errors

SCHEMA = {
    "type": "object",
    "properties": {
        "session": {
            "type": "object",
            "properties": {
                "default_duration_minutes": {"type": "integer", "minimum": 15, "maximum": 480},
                "recommended_frequency": {"enum": ["weekly", "monthly"]},
            },
            "required": ["default_duration_minutes"],
            "additionalProperties": False,
        },
        "x": {
            "type": "object",
            "properties": {"y": {"type": "object", "required": ["missing"]}},
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["session"],
    "additionalProperties": False,
}


# --- deep_merge ---------------------------------------------------------------------------------


def test_deep_merge_merges_objects_key_by_key_recursively():
    base = {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "f": 4}
    override = {"a": {"c": {"e": 30, "g": 5}}, "h": 6}

    assert deep_merge(base, override) == {"a": {"b": 1, "c": {"d": 2, "e": 30, "g": 5}}, "f": 4, "h": 6}


def test_deep_merge_replaces_lists_instead_of_concatenating():
    assert deep_merge({"hours": [24, 1], "keep": True}, {"hours": [48]}) == {"hours": [48], "keep": True}


def test_deep_merge_replaces_scalars_and_mismatched_types():
    base = {"a": 1, "b": {"c": 1}, "d": "text", "e": [1]}
    override = {"a": 2, "b": 7, "d": {"now": "object"}, "e": None}

    assert deep_merge(base, override) == {"a": 2, "b": 7, "d": {"now": "object"}, "e": None}


def test_deep_merge_with_non_object_override_replaces_the_whole_base():
    assert deep_merge({"a": 1}, [1, 2]) == [1, 2]
    assert deep_merge([1, 2], {"a": 1}) == {"a": 1}
    assert deep_merge({"a": 1}, {}) == {"a": 1}


def test_deep_merge_does_not_mutate_its_inputs_nor_share_nested_objects():
    base = {"a": {"b": [1, 2], "c": {"d": 1}}}
    override = {"a": {"c": {"e": [3]}}, "f": {"g": 1}}
    base_before, override_before = copy.deepcopy(base), copy.deepcopy(override)

    merged = deep_merge(base, override)
    merged["a"]["b"].append(99)
    merged["a"]["c"]["e"].append(99)
    merged["f"]["g"] = 2

    assert base == base_before
    assert override == override_before


# --- config_errors ------------------------------------------------------------------------------


def test_valid_config_has_no_errors():
    config = {"session": {"default_duration_minutes": 60, "recommended_frequency": "weekly"}, "tags": ["a"]}

    assert config_errors(SCHEMA, config) == {}


def test_empty_schema_accepts_anything():
    assert config_errors({}, {"anything": [1, 2]}) == {}


def test_missing_required_setting_is_reported_at_its_own_path():
    config = {"session": {"default_duration_minutes": 60}, "x": {"y": {}}}

    assert config_errors(SCHEMA, config) == {"config/x/y/missing": "This setting is required."}


def test_missing_top_level_section_is_reported_under_the_prefix():
    assert config_errors(SCHEMA, {}) == {"config/session": "This setting is required."}


def test_unknown_settings_are_reported_one_path_each():
    config = {"session": {"default_duration_minutes": 60, "colour": "red"}, "extra": 1}

    assert config_errors(SCHEMA, config) == {
        "config/extra": "Unknown setting.",
        "config/session/colour": "Unknown setting.",
    }


def test_type_minimum_and_enum_messages_name_the_path():
    config = {"session": {"default_duration_minutes": 5, "recommended_frequency": "hourly"}, "tags": ["a", 3]}

    assert config_errors(SCHEMA, config) == {
        "config/session/default_duration_minutes": "5 is less than the minimum of 15",
        "config/session/recommended_frequency": "'hourly' is not one of ['weekly', 'monthly']",
        "config/tags/1": "3 is not of type 'string'",
    }


def test_wrong_type_message():
    assert config_errors(SCHEMA, {"session": {"default_duration_minutes": "sixty"}}) == {
        "config/session/default_duration_minutes": "'sixty' is not of type 'integer'"
    }


def test_prefix_is_used_for_every_path():
    errors = config_errors(SCHEMA, {"session": {"default_duration_minutes": 500}}, prefix="config_overrides")

    assert errors == {"config_overrides/session/default_duration_minutes": "500 is greater than the maximum of 480"}


def test_error_on_the_whole_document_is_reported_at_the_prefix():
    assert config_errors(SCHEMA, [1], prefix="default_config") == {"default_config": "[1] is not of type 'object'"}


# --- schema_errors ------------------------------------------------------------------------------


def test_valid_schema_has_no_errors():
    assert schema_errors(SCHEMA) == {}
    assert schema_errors({}) == {}


def test_invalid_draft_2020_12_schema_names_the_path():
    assert schema_errors({"type": 5}) == {"config_schema/type": "5 is not valid under any of the given schemas"}


def test_invalid_nested_keyword_names_the_nested_path():
    schema = {"type": "object", "properties": {"a": {"type": "integer", "minimum": "low"}}}

    assert schema_errors(schema) == {"config_schema/properties/a/minimum": "'low' is not of type 'number'"}


@pytest.mark.parametrize("schema", [[1], "object", 5, None, False])
def test_non_object_schema_is_refused(schema):
    assert schema_errors(schema) == {"config_schema": "A config schema must be a JSON object."}


def test_schema_must_describe_an_object():
    assert schema_errors({"type": "string"}) == {"config_schema/type": "A config schema must describe a JSON object."}


def test_schema_errors_prefix():
    assert schema_errors({"type": 5}, prefix="schema") == {
        "schema/type": "5 is not valid under any of the given schemas"
    }
    assert schema_errors([], prefix="schema") == {"schema": "A config schema must be a JSON object."}


def test_pattern_that_is_no_regular_expression_is_refused():
    """Otherwise every later validation of a config would crash on re.compile."""
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}}

    assert schema_errors(schema) == {"config_schema/properties/a/pattern": "'(' is not a 'regex'"}


def test_dangling_and_remote_references_are_refused():
    schema = {
        "type": "object",
        "$defs": {"minutes": {"type": "integer"}},
        "properties": {
            "ok": {"$ref": "#/$defs/minutes"},
            "dangling": {"$ref": "#/$defs/nowhere"},
            "list": {"type": "array", "items": {"anyOf": [{"$ref": "https://example.com/remote.json"}]}},
        },
    }

    assert schema_errors(schema) == {
        "config_schema/properties/dangling/$ref": "The reference '#/$defs/nowhere' cannot be resolved.",
        "config_schema/properties/list/items/anyOf/0/$ref": (
            "The reference 'https://example.com/remote.json' cannot be resolved."
        ),
    }


def test_references_inside_the_schema_validate():
    schema = {
        "type": "object",
        "$defs": {"minutes": {"type": "integer", "minimum": 15}},
        "properties": {"duration": {"$ref": "#/$defs/minutes"}},
    }

    assert schema_errors(schema) == {}
    assert config_errors(schema, {"duration": 5}) == {"config/duration": "5 is less than the minimum of 15"}
    assert config_errors(schema, {"duration": 30}) == {}


# --- the built-in schemas' VIS section ------------------------------------------------------------


def test_builtin_schemas_accept_vis_weights_and_name_bad_ones():
    from templates_app.builtin import BUILTIN_TEMPLATES, schema_for

    for template in BUILTIN_TEMPLATES:
        schema = schema_for(*template.get("schema_extra", []))
        config = {**template["default_config"], "vis": {"weights": {"event": 2.0, "hosted": 1}, "checkin_minutes": 30}}
        assert config_errors(schema, config) == {}, template["template_key"]
    schema = schema_for(*BUILTIN_TEMPLATES[0].get("schema_extra", []))
    bad = {
        **BUILTIN_TEMPLATES[0]["default_config"],
        "vis": {"weights": {"event": -1, "typing": 1}, "checkin_minutes": 0},
    }
    errors = config_errors(schema, bad)
    assert set(errors) == {"config/vis/weights/event", "config/vis/weights/typing", "config/vis/checkin_minutes"}

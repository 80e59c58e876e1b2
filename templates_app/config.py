"""Configuration inheritance and validation: template defaults -> program overrides -> campaign
overrides, merged key by key, validated against the template's JSON Schema (Draft 2020-12)."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaValidationError

_META_VALIDATOR = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def deep_merge(base: Any, override: Any) -> Any:
    """Objects merge key by key (recursively); anything else in `override` replaces `base`."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = copy.deepcopy(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def _join(*parts: Any) -> str:
    return "/".join(str(p) for p in parts if p != "")


def schema_errors(schema: Any, *, prefix: str = "config_schema") -> dict[str, str]:
    """Errors that make `schema` an invalid Draft 2020-12 JSON Schema."""
    if not isinstance(schema, dict):
        return {prefix: "A config schema must be a JSON object."}
    errors: dict[str, str] = {}
    for error in sorted(_META_VALIDATOR.iter_errors(schema), key=lambda e: list(map(str, e.path))):
        errors.setdefault(_join(prefix, *error.absolute_path), error.message)
    if not errors and schema.get("type", "object") != "object":
        errors[_join(prefix, "type")] = "A config schema must describe a JSON object."
    return errors


def _error_paths(error: SchemaValidationError, prefix: str) -> list[tuple[str, str]]:
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        return [
            (_join(prefix, *path, name), "This setting is required.")
            for name in error.validator_value
            if name not in instance
        ]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = [name for name in instance if name not in known]
        if extra:
            return [(_join(prefix, *path, name), "Unknown setting.") for name in extra]
    return [(_join(prefix, *path), error.message)]


def config_errors(schema: dict, config: Any, *, prefix: str = "config") -> dict[str, str]:
    """One message per JSON path (`<prefix>/session/default_duration_minutes`) where `config`
    breaks `schema`; empty when it is valid."""
    if not schema:
        return {}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        for path, message in _error_paths(error, prefix):
            errors.setdefault(path or prefix, message)
    return errors

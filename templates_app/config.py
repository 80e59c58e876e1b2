"""Configuration inheritance and validation: template defaults -> program overrides -> campaign
overrides, merged key by key, validated against the template's JSON Schema (Draft 2020-12)."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaValidationError
from jsonschema_specifications import REGISTRY as _SPECIFICATIONS
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

# Formats are checked too, so that a `pattern` that is no regular expression is refused here
# rather than failing later, when a config is validated.
_META_VALIDATOR = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)
# Where Draft 2020-12 keywords hold subschemas: one, a map of them, a list of them.
_SUBSCHEMA = frozenset(
    {"additionalProperties", "items", "contains", "propertyNames", "if", "then", "else", "not"}
    | {"unevaluatedItems", "unevaluatedProperties", "contentSchema"}
)
_SUBSCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})


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
    if not errors:
        resolver = _SPECIFICATIONS.resolver_with_root(DRAFT202012.create_resource(schema))
        _unresolvable_refs(schema, resolver, prefix, errors)
    return errors


def _unresolvable_refs(schema: Any, resolver: Any, path: str, errors: dict[str, str], *, root: bool = True) -> None:
    """Every `$ref` must resolve inside the schema (or to a JSON Schema meta-schema): remote
    references are never fetched, and a dangling one would break every later validation."""
    if not isinstance(schema, dict):
        return
    if not root and isinstance(schema.get("$id"), str):
        resolver = resolver.in_subresource(DRAFT202012.create_resource(schema))
    ref = schema.get("$ref")
    if isinstance(ref, str):
        try:
            resolver.lookup(ref)
        except Unresolvable:
            errors.setdefault(_join(path, "$ref"), f"The reference '{ref}' cannot be resolved.")
    for key, value in schema.items():
        if key in _SUBSCHEMA:
            _unresolvable_refs(value, resolver, _join(path, key), errors, root=False)
        elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                _unresolvable_refs(sub, resolver, _join(path, key, name), errors, root=False)
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            for index, sub in enumerate(value):
                _unresolvable_refs(sub, resolver, _join(path, key, index), errors, root=False)


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
    validator = Draft202012Validator(
        schema, format_checker=Draft202012Validator.FORMAT_CHECKER, registry=_SPECIFICATIONS
    )
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        for path, message in _error_paths(error, prefix):
            errors.setdefault(path or prefix, message)
    return errors

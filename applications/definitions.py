"""Application form and scoring rubric definitions, and answers checked against a form. Pure
functions: each returns `{path: message}` errors (empty when valid)."""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from applications.enums import FieldType

KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CHOICE_TYPES = (FieldType.SINGLE_CHOICE, FieldType.MULTI_CHOICE)
TEXT_TYPES = (FieldType.SHORT_TEXT, FieldType.LONG_TEXT)
DEFAULT_MAX_LENGTH = {FieldType.SHORT_TEXT: 200, FieldType.LONG_TEXT: 20000}
FIELD_KEYS = {
    "key",
    "label",
    "help_text",
    "type",
    "required",
    "options",
    "min",
    "max",
    "max_length",
    "max_words",
    "reviewer_visible",
}
CRITERION_KEYS = {"key", "label", "description", "weight", "scale_min", "scale_max", "independent", "tracks"}
_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])


def _is_number(value: Any) -> bool:
    """A finite number (JSON's 1e999 parses as infinity, which no JSON column can store)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    return math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def option_values(field: dict) -> list[str]:
    return [o["value"] if isinstance(o, dict) else o for o in field.get("options") or []]


def normalise_fields(fields: Any) -> tuple[list[dict], dict[str, str]]:
    """Check a form definition; return it with defaults filled in, and the errors."""
    errors: dict[str, str] = {}
    if not isinstance(fields, list) or not fields:
        return [], {"fields": "A form needs a list of at least one field."}
    seen: set[str] = set()
    clean: list[dict] = []
    for i, field in enumerate(fields):
        at = f"fields/{i}"
        if not isinstance(field, dict):
            errors[at] = "A field is an object."
            continue
        for extra in sorted(set(field) - FIELD_KEYS):
            errors[f"{at}/{extra}"] = "Unknown property."
        key = field.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            errors[f"{at}/key"] = "A key is lowercase letters, digits and _ (starting with a letter)."
        elif key in seen:
            errors[f"{at}/key"] = f"The key '{key}' is used twice."
        else:
            seen.add(key)
        if not isinstance(field.get("label"), str) or not field["label"].strip():
            errors[f"{at}/label"] = "A field needs a label."
        if not isinstance(field.get("help_text", ""), str):
            errors[f"{at}/help_text"] = "Text."
        kind = field.get("type")
        if not isinstance(kind, str) or kind not in FieldType.values:
            errors[f"{at}/type"] = f"Use one of: {', '.join(FieldType.values)}."
            kind = None
        for flag in ("required", "reviewer_visible"):
            if flag in field and not isinstance(field[flag], bool):
                errors[f"{at}/{flag}"] = "true or false."
        if kind is not None:
            _field_type_errors(field, kind, at, errors)
        clean.append(
            {
                "key": key,
                "label": field.get("label", ""),
                "help_text": field.get("help_text", ""),
                "type": kind,
                "required": field.get("required", False),
                "options": field.get("options") or [],
                "min": field.get("min"),
                "max": field.get("max"),
                "max_length": field.get("max_length") or DEFAULT_MAX_LENGTH.get(kind),
                "max_words": field.get("max_words"),
                "reviewer_visible": field.get("reviewer_visible", True),
            }
        )
    return clean, errors


def _field_type_errors(field: dict, kind: str, at: str, errors: dict[str, str]) -> None:
    """The rules that depend on the field's (valid) type: options, min/max, text limits."""
    options = field.get("options")
    if kind in CHOICE_TYPES:
        if not isinstance(options, list) or not options:
            errors[f"{at}/options"] = "Choice fields need a list of options."
        else:
            values = []
            for j, option in enumerate(options):
                value = option.get("value") if isinstance(option, dict) else option
                label_ok = not isinstance(option, dict) or (
                    set(option) <= {"value", "label"} and isinstance(option.get("label", ""), str)
                )
                if not isinstance(value, str) or not value or not label_ok:
                    errors[f"{at}/options/{j}"] = 'An option is a string or {"value", "label"}.'
                else:
                    values.append(value)
            if len(set(values)) != len(values):
                errors[f"{at}/options"] = "Options must be distinct."
    elif options not in (None, []):
        errors[f"{at}/options"] = "Only choice fields have options."
    for bound in ("min", "max"):
        if bound not in field or field[bound] is None:
            continue
        value = field[bound]
        if kind == FieldType.DATE:
            try:
                date.fromisoformat(value)
            except (TypeError, ValueError):
                errors[f"{at}/{bound}"] = "A date bound is an ISO date (YYYY-MM-DD)."
        elif kind == FieldType.NUMBER:
            if not _is_number(value):
                errors[f"{at}/{bound}"] = "A number."
        elif kind == FieldType.MULTI_CHOICE:
            if not _is_count(value):
                errors[f"{at}/{bound}"] = "How many options: an integer of at least 0."
        else:
            errors[f"{at}/{bound}"] = "Only number, date and multiple-choice fields have min/max."
    if (
        f"{at}/min" not in errors
        and f"{at}/max" not in errors
        and field.get("min") is not None
        and field.get("max") is not None
        and field["min"] > field["max"]
    ):
        errors[f"{at}/max"] = "max must be at least min."
    for limit in ("max_length", "max_words"):
        if field.get(limit) is None:
            continue
        if kind not in TEXT_TYPES:
            errors[f"{at}/{limit}"] = "Only text fields have this limit."
        elif not isinstance(field[limit], int) or isinstance(field[limit], bool) or field[limit] < 1:
            errors[f"{at}/{limit}"] = "A positive integer."


def normalise_tracks(tracks: Any) -> tuple[list[dict], dict[str, str]]:
    if tracks is None:
        return [], {}
    if not isinstance(tracks, list):
        return [], {"tracks": "Tracks are a list of {key, name, description}."}
    errors: dict[str, str] = {}
    seen: set[str] = set()
    clean = []
    for i, track in enumerate(tracks):
        at = f"tracks/{i}"
        if not isinstance(track, dict):
            errors[at] = "A track is an object."
            continue
        key = track.get("key")
        if not isinstance(key, str) or not re.match(r"^[a-z0-9][a-z0-9-]{0,79}$", key):
            errors[f"{at}/key"] = "A track key is lowercase letters, digits and -."
        elif key in seen:
            errors[f"{at}/key"] = f"The key '{key}' is used twice."
        else:
            seen.add(key)
        if not isinstance(track.get("name"), str) or not track["name"].strip():
            errors[f"{at}/name"] = "A track needs a name."
        if not isinstance(track.get("description", ""), str):
            errors[f"{at}/description"] = "Text."
        clean.append({"key": key, "name": track.get("name", ""), "description": track.get("description", "")})
    return clean, errors


def normalise_criteria(criteria: Any, track_keys: set[str]) -> tuple[list[dict], dict[str, str]]:
    errors: dict[str, str] = {}
    if not isinstance(criteria, list) or not criteria:
        return [], {"criteria": "A rubric needs a list of at least one criterion."}
    seen: set[str] = set()
    clean = []
    for i, criterion in enumerate(criteria):
        at = f"criteria/{i}"
        if not isinstance(criterion, dict):
            errors[at] = "A criterion is an object."
            continue
        for extra in sorted(set(criterion) - CRITERION_KEYS):
            errors[f"{at}/{extra}"] = "Unknown property."
        key = criterion.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            errors[f"{at}/key"] = "A key is lowercase letters, digits and _ (starting with a letter)."
        elif key in seen:
            errors[f"{at}/key"] = f"The key '{key}' is used twice."
        else:
            seen.add(key)
        if not isinstance(criterion.get("label"), str) or not criterion["label"].strip():
            errors[f"{at}/label"] = "A criterion needs a label."
        if not isinstance(criterion.get("description", ""), str):
            errors[f"{at}/description"] = "Text."
        weight = criterion.get("weight", 1)
        if not _is_number(weight) or weight <= 0:
            errors[f"{at}/weight"] = "A weight is a number above 0."
        low, high = criterion.get("scale_min", 1), criterion.get("scale_max", 5)
        if not isinstance(low, int) or isinstance(low, bool):
            errors[f"{at}/scale_min"] = "An integer."
        if not isinstance(high, int) or isinstance(high, bool):
            errors[f"{at}/scale_max"] = "An integer."
        elif isinstance(low, int) and high <= low:
            errors[f"{at}/scale_max"] = "scale_max must be above scale_min."
        if "independent" in criterion and not isinstance(criterion["independent"], bool):
            errors[f"{at}/independent"] = "true or false."
        tracks = criterion.get("tracks") or []
        if not isinstance(tracks, list) or any(not isinstance(t, str) or t not in track_keys for t in tracks):
            errors[f"{at}/tracks"] = f"Track keys of this program: {', '.join(sorted(track_keys)) or 'none'}."
        clean.append(
            {
                "key": key,
                "label": criterion.get("label", ""),
                "description": criterion.get("description", ""),
                "weight": weight,
                "scale_min": low,
                "scale_max": high,
                "independent": criterion.get("independent", False),
                "tracks": tracks,
            }
        )
    if not errors and all(c["independent"] for c in clean):
        errors["criteria"] = "At least one criterion must count towards the total."
    return clean, errors


def criteria_for(criteria: list[dict], track_key: str | None) -> list[dict]:
    """The criteria that apply to an application in the given track."""
    return [c for c in criteria if not c["tracks"] or track_key in c["tracks"]]


def answer_errors(fields: list[dict], answers: Any, *, submitting: bool) -> dict[str, str]:
    """One message per field key; required fields are only enforced when submitting."""
    if not isinstance(answers, dict):
        return {"answers": "Answers are an object keyed by field."}
    errors: dict[str, str] = {}
    known = {f["key"]: f for f in fields}
    for key in answers:
        if key not in known:
            errors[key] = "Unknown field."
    for key, field in known.items():
        value = answers.get(key)
        empty = value is None or value == "" or value == [] or (field["type"] == FieldType.BOOLEAN and value is False)
        if empty:
            if submitting and field["required"]:
                errors[key] = "This field is required." if field["type"] != FieldType.BOOLEAN else "Please confirm."
            if value is None or value == "" or value == []:
                continue
        message = _value_error(field, value)
        if message:
            errors[key] = message
    return errors


def _value_error(field: dict, value: Any) -> str | None:
    kind = field["type"]
    if kind in TEXT_TYPES or kind in (FieldType.EMAIL, FieldType.URL):
        if not isinstance(value, str):
            return "Enter text."
        limit = field.get("max_length")
        if limit and len(value) > limit:
            return f"At most {limit} characters (this has {len(value)})."
        if field.get("max_words") and len(value.split()) > field["max_words"]:
            return f"At most {field['max_words']} words (this has {len(value.split())})."
        if kind == FieldType.EMAIL:
            try:
                _email(value)
            except ValidationError:
                return "Enter a valid e-mail address."
        if kind == FieldType.URL:
            try:
                _url(value)
            except ValidationError:
                return "Enter a valid URL (http or https)."
        return None
    if kind == FieldType.NUMBER:
        if not _is_number(value):
            return "Enter a number."
        if field.get("min") is not None and value < field["min"]:
            return f"At least {field['min']}."
        if field.get("max") is not None and value > field["max"]:
            return f"At most {field['max']}."
        return None
    if kind == FieldType.DATE:
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            return "Enter a date as YYYY-MM-DD."
        if field.get("min") and day < date.fromisoformat(field["min"]):
            return f"On or after {field['min']}."
        if field.get("max") and day > date.fromisoformat(field["max"]):
            return f"On or before {field['max']}."
        return None
    if kind == FieldType.SINGLE_CHOICE:
        return None if value in option_values(field) else "Choose one of the options."
    if kind == FieldType.MULTI_CHOICE:
        if not isinstance(value, list) or any(v not in option_values(field) for v in value):
            return "Choose from the options."
        if len(set(value)) != len(value):
            return "Choose each option once."
        if field.get("min") is not None and len(value) < field["min"]:
            return f"Choose at least {field['min']}."
        if field.get("max") is not None and len(value) > field["max"]:
            return f"Choose at most {field['max']}."
        return None
    if kind == FieldType.BOOLEAN:
        return None if isinstance(value, bool) else "Yes or no."
    return None

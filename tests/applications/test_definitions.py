"""Answers checked against a form, field type by field type: one message per field key, required
fields enforced only on submission; the same messages come back from the API under
`answers/<key>`."""

import pytest

from applications.definitions import answer_errors, criteria_for, normalise_criteria, normalise_fields
from applications.models import Application
from tests.applications.test_forms_api import EVERY_TYPE

FIELDS, _ = normalise_fields(EVERY_TYPE)

VALID = {
    "name": "Ada Lovelace",
    "statement": "I write every single day",
    "email": "ada@example.org",
    "site": "https://ada.example.org/work",
    "years": 0,
    "born": "1990-12-10",
    "group": "returning",
    "genres": ["drama", "horror"],
    "consent": True,
}


def test_a_complete_valid_answer_set_has_no_errors():
    assert answer_errors(FIELDS, VALID, submitting=True) == {}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("name", 42, "Enter text."),
        ("name", "x" * 41, "At most 40 characters (this has 41)."),
        ("statement", "one two three four five six", "At most 5 words (this has 6)."),
        ("statement", ["a"], "Enter text."),
        ("email", "not-an-address", "Enter a valid e-mail address."),
        ("site", "ftp://files.example.org", "Enter a valid URL (http or https)."),
        ("site", "example", "Enter a valid URL (http or https)."),
        ("years", "5", "Enter a number."),
        ("years", True, "Enter a number."),
        ("years", -1, "At least 0."),
        ("years", 50.5, "At most 50."),
        ("born", "10/12/1990", "Enter a date as YYYY-MM-DD."),
        ("born", 1990, "Enter a date as YYYY-MM-DD."),
        ("born", "1899-12-31", "On or after 1900-01-01."),
        ("born", "2011-01-01", "On or before 2010-12-31."),
        ("group", "Returning writer", "Choose one of the options."),
        ("group", ["first"], "Choose one of the options."),
        ("genres", "drama", "Choose from the options."),
        ("genres", ["drama", "thriller"], "Choose from the options."),
        ("genres", ["drama", "drama"], "Choose each option once."),
        ("genres", ["drama"], "Choose at least 2."),
        ("genres", ["drama", "comedy", "horror", "romance"], "Choose at most 3."),
        ("consent", "yes", "Yes or no."),
    ],
)
def test_each_rule_gives_one_message_under_the_field_key(key, value, message):
    assert answer_errors(FIELDS, {**VALID, key: value}, submitting=False) == {key: message}
    assert answer_errors(FIELDS, {**VALID, key: value}, submitting=True) == {key: message}


def test_boundaries_are_inclusive():
    edge = {**VALID, "name": "x" * 40, "statement": "one two three four five", "years": 50, "born": "2010-12-31"}
    assert answer_errors(FIELDS, edge, submitting=True) == {}
    assert answer_errors(FIELDS, {**VALID, "years": 0, "born": "1900-01-01"}, submitting=True) == {}


def test_required_fields_are_only_enforced_when_submitting():
    partial = {"statement": "Draft"}
    assert answer_errors(FIELDS, partial, submitting=False) == {}
    assert answer_errors(FIELDS, partial, submitting=True) == {
        "name": "This field is required.",
        "consent": "Please confirm.",
    }
    # An unticked required box, an empty string and an empty list count as missing.
    assert answer_errors(FIELDS, {**VALID, "name": "", "consent": False}, submitting=True) == {
        "name": "This field is required.",
        "consent": "Please confirm.",
    }
    assert answer_errors(FIELDS, {**VALID, "consent": False}, submitting=False) == {}


def test_unknown_keys_and_non_objects_are_refused():
    assert answer_errors(FIELDS, {**VALID, "shoe_size": 44}, submitting=False) == {"shoe_size": "Unknown field."}
    assert answer_errors(FIELDS, ["Ada"], submitting=False) == {"answers": "Answers are an object keyed by field."}


def test_optional_fields_may_be_left_empty():
    minimal = {"name": "Ada", "consent": True, "genres": [], "site": "", "years": None}
    assert answer_errors(FIELDS, minimal, submitting=True) == {}


def test_per_track_criteria_apply_to_their_tracks_only():
    criteria, errors = normalise_criteria(
        [
            {"key": "craft", "label": "Craft"},
            {"key": "dialogue", "label": "Dialogue", "tracks": ["screen"]},
            {"key": "staging", "label": "Staging", "tracks": ["stage"]},
        ],
        {"screen", "stage"},
    )
    assert errors == {}
    assert [c["key"] for c in criteria_for(criteria, "screen")] == ["craft", "dialogue"]
    assert [c["key"] for c in criteria_for(criteria, "stage")] == ["craft", "staging"]
    assert [c["key"] for c in criteria_for(criteria, None)] == ["craft"]


@pytest.mark.django_db
def test_the_api_answers_400_with_one_message_per_field(operator_api, client_for, make_user, program):
    assert (
        operator_api.put(
            f"/api/v1/admin/programs/{program.id}/application-form", {"fields": EVERY_TYPE}, format="json"
        ).status_code
        == 200
    )
    api = client_for(make_user(role="writer"))
    bad = {
        **VALID,
        "name": "x" * 41,
        "email": "nope",
        "years": 99,
        "born": "1800-01-01",
        "group": "other",
        "genres": ["drama"],
        "consent": "y",
        "extra": 1,
    }

    response = api.post(f"/api/v1/programs/{program.id}/applications", {"answers": bad}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "answers/name": "At most 40 characters (this has 41).",
        "answers/email": "Enter a valid e-mail address.",
        "answers/years": "At most 50.",
        "answers/born": "On or after 1900-01-01.",
        "answers/group": "Choose one of the options.",
        "answers/genres": "Choose at least 2.",
        "answers/consent": "Yes or no.",
        "answers/extra": "Unknown field.",
    }
    assert not Application.objects.exists()

    # A draft needs no required answers; submitting it names each missing one.
    draft = api.post(f"/api/v1/programs/{program.id}/applications", {"answers": {"statement": "Hi"}}, format="json")
    assert (draft.status_code, draft.json()["status"]) == (201, "draft")
    submit = api.patch(f"/api/v1/programs/{program.id}/applications/me", {"action": "submit"}, format="json")
    assert submit.status_code == 400
    assert submit.json()["detail"] == "Some answers are missing or invalid."
    assert submit.json()["errors"] == {"answers/name": "This field is required.", "answers/consent": "Please confirm."}

"""Application forms and scoring rubrics over the API: PUT publishes a new version (400 naming
the field path otherwise), GET shows the applicant the current form, its tracks and whether it
takes applications; submitted applications keep the version they answered."""

import math
from datetime import timedelta

import pytest

from applications.models import ApplicationForm, ScoringRubric
from applications.services import application_edit, application_form_publish, scoring_rubric_publish
from core.audit import audit_entries_for
from core.errors import ValidationFailed
from core.models import AuditEntry
from programs.models import ProgramTrack
from programs.services import program_set_status, program_update
from tests.applications.conftest import CRITERIA, FIELDS, FROZEN

pytestmark = pytest.mark.django_db

EVERY_TYPE = [
    {
        "key": "name",
        "label": "Name",
        "help_text": "As on your passport",
        "type": "short_text",
        "required": True,
        "max_length": 40,
    },
    {"key": "statement", "label": "Statement", "type": "long_text", "max_words": 5},
    {"key": "email", "label": "E-mail", "type": "email", "reviewer_visible": False},
    {"key": "site", "label": "Website", "type": "url"},
    {"key": "years", "label": "Years", "type": "number", "min": 0, "max": 50},
    {"key": "born", "label": "Born", "type": "date", "min": "1900-01-01", "max": "2010-12-31"},
    {
        "key": "group",
        "label": "Group",
        "type": "single_choice",
        "options": ["first", {"value": "returning", "label": "Returning writer"}],
    },
    {
        "key": "genres",
        "label": "Genres",
        "type": "multi_choice",
        "options": ["drama", "comedy", "horror", "romance"],
        "min": 2,
        "max": 3,
    },
    {"key": "consent", "label": "Consent", "type": "boolean", "required": True},
]


def _defaults(**field):
    return {
        "help_text": "",
        "required": False,
        "options": [],
        "min": None,
        "max": None,
        "max_length": None,
        "max_words": None,
        "reviewer_visible": True,
        **field,
    }


EVERY_TYPE_STORED = [
    _defaults(**EVERY_TYPE[0]),
    _defaults(**EVERY_TYPE[1], max_length=20000),
    _defaults(**EVERY_TYPE[2]),
    _defaults(**EVERY_TYPE[3]),
    _defaults(**EVERY_TYPE[4]),
    _defaults(**EVERY_TYPE[5]),
    _defaults(**EVERY_TYPE[6]),
    _defaults(**EVERY_TYPE[7]),
    _defaults(**EVERY_TYPE[8]),
]


def _form_url(program):
    return f"/api/v1/admin/programs/{program.id}/application-form"


def _rubric_url(program):
    return f"/api/v1/admin/programs/{program.id}/scoring-rubric"


def _public_url(program):
    return f"/api/v1/programs/{program.id}/application-form"


def test_put_form_with_every_field_type_stores_it_with_defaults(operator_api, operator, program):
    response = operator_api.put(
        _form_url(program), {"fields": EVERY_TYPE, "tracks": [{"key": "screen", "name": "Screen"}]}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    track = ProgramTrack.objects.get(program=program)
    assert body == {
        "program_id": str(program.id),
        "version": 1,
        "fields": EVERY_TYPE_STORED,
        "tracks": [{"id": str(track.id), "key": "screen", "name": "Screen", "description": ""}],
    }
    form = ApplicationForm.objects.get(program=program)
    assert (form.version, form.fields, form.created_by) == (1, EVERY_TYPE_STORED, operator)
    entry = audit_entries_for(program).get(action="application_form.published")
    assert entry.actor == operator
    assert entry.changes == {"version": 1, "fields": [f["key"] for f in EVERY_TYPE]}


def test_each_put_is_a_new_version_and_tracks_left_out_are_deactivated(operator_api, program):
    first = operator_api.put(
        _form_url(program),
        {"fields": FIELDS, "tracks": [{"key": "screen", "name": "Screen"}, {"key": "stage", "name": "Stage"}]},
        format="json",
    )
    second = operator_api.put(
        _form_url(program),
        {"fields": FIELDS[:1], "tracks": [{"key": "stage", "name": "Stage plays", "description": "Theatre"}]},
        format="json",
    )
    third = operator_api.put(_form_url(program), {"fields": FIELDS[:2]}, format="json")

    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert [r.json()["version"] for r in (first, second, third)] == [1, 2, 3]
    assert [t["key"] for t in second.json()["tracks"]] == ["stage"]
    # Without "tracks" the tracks stay as they are.
    assert [(t["key"], t["name"], t["description"]) for t in third.json()["tracks"]] == [
        ("stage", "Stage plays", "Theatre")
    ]
    assert set(ProgramTrack.objects.filter(program=program).values_list("key", "active")) == {
        ("screen", False),
        ("stage", True),
    }
    assert list(ApplicationForm.objects.filter(program=program).values_list("version", flat=True)) == [3, 2, 1]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ("name", {"fields": "A form needs a list of at least one field."}),
        ([], {"fields": "A form needs a list of at least one field."}),
        (["name"], {"fields/0": "A field is an object."}),
        (
            [{"key": "a", "label": "A", "type": "short_text", "colour": "red"}],
            {"fields/0/colour": "Unknown property."},
        ),
        (
            [{"key": "Name", "label": "A", "type": "short_text"}],
            {"fields/0/key": "A key is lowercase letters, digits and _ (starting with a letter)."},
        ),
        (
            [{"key": ["a"], "label": "A", "type": "short_text"}],
            {"fields/0/key": "A key is lowercase letters, digits and _ (starting with a letter)."},
        ),
        (
            [{"key": "a", "label": "A", "type": "short_text"}, {"key": "a", "label": "B", "type": "email"}],
            {"fields/1/key": "The key 'a' is used twice."},
        ),
        ([{"key": "a", "label": "  ", "type": "short_text"}], {"fields/0/label": "A field needs a label."}),
        ([{"key": "a", "type": "short_text"}], {"fields/0/label": "A field needs a label."}),
        ([{"key": "a", "label": "A", "type": "short_text", "help_text": 5}], {"fields/0/help_text": "Text."}),
        (
            [{"key": "a", "label": "A", "type": "essay"}],
            {
                "fields/0/type": "Use one of: short_text, long_text, email, url, number, date, single_choice, "
                "multi_choice, boolean."
            },
        ),
        (
            [{"key": "a", "label": "A", "type": ["short_text"], "min": 1}],
            {
                "fields/0/type": "Use one of: short_text, long_text, email, url, number, date, single_choice, "
                "multi_choice, boolean."
            },
        ),
        ([{"key": "a", "label": "A", "type": "boolean", "required": "yes"}], {"fields/0/required": "true or false."}),
        (
            [{"key": "a", "label": "A", "type": "email", "reviewer_visible": 0}],
            {"fields/0/reviewer_visible": "true or false."},
        ),
        (
            [{"key": "a", "label": "A", "type": "single_choice"}],
            {"fields/0/options": "Choice fields need a list of options."},
        ),
        (
            [{"key": "a", "label": "A", "type": "multi_choice", "options": []}],
            {"fields/0/options": "Choice fields need a list of options."},
        ),
        (
            [{"key": "a", "label": "A", "type": "single_choice", "options": ["x", "x"]}],
            {"fields/0/options": "Options must be distinct."},
        ),
        (
            [{"key": "a", "label": "A", "type": "single_choice", "options": ["x", {"value": "x", "label": "X"}]}],
            {"fields/0/options": "Options must be distinct."},
        ),
        (
            [{"key": "a", "label": "A", "type": "single_choice", "options": ["x", "", 3, {"label": "No value"}]}],
            {
                "fields/0/options/1": 'An option is a string or {"value", "label"}.',
                "fields/0/options/2": 'An option is a string or {"value", "label"}.',
                "fields/0/options/3": 'An option is a string or {"value", "label"}.',
            },
        ),
        (
            [{"key": "a", "label": "A", "type": "single_choice", "options": [{"value": {"x": 1}}, ["y"], ["y"]]}],
            {
                "fields/0/options/0": 'An option is a string or {"value", "label"}.',
                "fields/0/options/1": 'An option is a string or {"value", "label"}.',
                "fields/0/options/2": 'An option is a string or {"value", "label"}.',
            },
        ),
        (
            [{"key": "a", "label": "A", "type": "single_choice", "options": [{"value": "x", "label": 5}]}],
            {"fields/0/options/0": 'An option is a string or {"value", "label"}.'},
        ),
        (
            [{"key": "a", "label": "A", "type": "short_text", "options": ["x"]}],
            {"fields/0/options": "Only choice fields have options."},
        ),
        (
            [{"key": "a", "label": "A", "type": "short_text", "min": 1}],
            {"fields/0/min": "Only number, date and multiple-choice fields have min/max."},
        ),
        (
            [{"key": "a", "label": "A", "type": "boolean", "max": 1}],
            {"fields/0/max": "Only number, date and multiple-choice fields have min/max."},
        ),
        ([{"key": "a", "label": "A", "type": "number", "min": "1"}], {"fields/0/min": "A number."}),
        ([{"key": "a", "label": "A", "type": "number", "max": True}], {"fields/0/max": "A number."}),
        (
            [{"key": "a", "label": "A", "type": "number", "min": 5, "max": 4}],
            {"fields/0/max": "max must be at least min."},
        ),
        (
            [{"key": "a", "label": "A", "type": "date", "min": "01/02/2020"}],
            {"fields/0/min": "A date bound is an ISO date (YYYY-MM-DD)."},
        ),
        (
            [{"key": "a", "label": "A", "type": "date", "max": 2020}],
            {"fields/0/max": "A date bound is an ISO date (YYYY-MM-DD)."},
        ),
        (
            [{"key": "a", "label": "A", "type": "date", "min": "2020-02-01", "max": "2020-01-31"}],
            {"fields/0/max": "max must be at least min."},
        ),
        (
            [{"key": "a", "label": "A", "type": "multi_choice", "options": ["x", "y"], "min": 1.5}],
            {"fields/0/min": "How many options: an integer of at least 0."},
        ),
        (
            [{"key": "a", "label": "A", "type": "multi_choice", "options": ["x", "y"], "min": 2, "max": 1}],
            {"fields/0/max": "max must be at least min."},
        ),
        (
            [{"key": "a", "label": "A", "type": "number", "max_length": 10}],
            {"fields/0/max_length": "Only text fields have this limit."},
        ),
        (
            [{"key": "a", "label": "A", "type": "email", "max_words": 10}],
            {"fields/0/max_words": "Only text fields have this limit."},
        ),
        (
            [{"key": "a", "label": "A", "type": "short_text", "max_length": 0}],
            {"fields/0/max_length": "A positive integer."},
        ),
        (
            [{"key": "a", "label": "A", "type": "long_text", "max_words": "300"}],
            {"fields/0/max_words": "A positive integer."},
        ),
        (
            [
                {"key": "a", "label": "A", "type": "short_text"},
                {"key": "b", "label": "B", "type": "email"},
                {"key": "c", "label": "C", "type": "multi_choice", "options": "x, y"},
            ],
            {"fields/2/options": "Choice fields need a list of options."},
        ),
        (
            [
                {"key": "ok", "label": "Fine", "type": "boolean"},
                {"key": "bad", "label": "", "type": "number", "min": "x", "options": ["y"]},
            ],
            {
                "fields/1/label": "A field needs a label.",
                "fields/1/min": "A number.",
                "fields/1/options": "Only choice fields have options.",
            },
        ),
    ],
)
def test_invalid_form_answers_400_naming_each_path(operator_api, program, fields, errors):
    response = operator_api.put(_form_url(program), {"fields": fields}, format="json")

    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["detail"], body["errors"]) == (400, "The application form is invalid.", errors)
    assert not ApplicationForm.objects.exists()


@pytest.mark.parametrize(
    ("tracks", "errors"),
    [
        ({"key": "a"}, {"tracks": "Tracks are a list of {key, name, description}."}),
        (["screen"], {"tracks/0": "A track is an object."}),
        ([{"key": "Screen Writing", "name": "S"}], {"tracks/0/key": "A track key is lowercase letters, digits and -."}),
        ([{"key": ["screen"], "name": "S"}], {"tracks/0/key": "A track key is lowercase letters, digits and -."}),
        (
            [{"key": "screen", "name": "S"}, {"key": "screen", "name": "T"}],
            {"tracks/1/key": "The key 'screen' is used twice."},
        ),
        ([{"key": "screen"}], {"tracks/0/name": "A track needs a name."}),
        ([{"key": "screen", "name": "S", "description": 3}], {"tracks/0/description": "Text."}),
    ],
)
def test_invalid_tracks_answer_400(operator_api, program, tracks, errors):
    response = operator_api.put(_form_url(program), {"fields": FIELDS, "tracks": tracks}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert not ProgramTrack.objects.exists()


def test_put_rubric_stores_criteria_with_defaults_and_versions(operator_api, operator, program):
    operator_api.put(
        _form_url(program),
        {"fields": FIELDS, "tracks": [{"key": "screen", "name": "Screen"}, {"key": "stage", "name": "Stage"}]},
        format="json",
    )
    criteria = [
        {
            "key": "craft",
            "label": "Craft",
            "description": "How well made",
            "weight": 2.5,
            "scale_min": 0,
            "scale_max": 10,
        },
        {"key": "voice", "label": "Voice"},
        {"key": "fit", "label": "Fit", "independent": True},
        {"key": "dialogue", "label": "Dialogue", "tracks": ["screen"]},
    ]

    first = operator_api.put(_rubric_url(program), {"criteria": criteria}, format="json")
    second = operator_api.put(_rubric_url(program), {"criteria": criteria[:2]}, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == {
        "program_id": str(program.id),
        "version": 1,
        "criteria": [
            {
                "key": "craft",
                "label": "Craft",
                "description": "How well made",
                "weight": 2.5,
                "scale_min": 0,
                "scale_max": 10,
                "independent": False,
                "tracks": [],
            },
            {
                "key": "voice",
                "label": "Voice",
                "description": "",
                "weight": 1.0,
                "scale_min": 1,
                "scale_max": 5,
                "independent": False,
                "tracks": [],
            },
            {
                "key": "fit",
                "label": "Fit",
                "description": "",
                "weight": 1.0,
                "scale_min": 1,
                "scale_max": 5,
                "independent": True,
                "tracks": [],
            },
            {
                "key": "dialogue",
                "label": "Dialogue",
                "description": "",
                "weight": 1.0,
                "scale_min": 1,
                "scale_max": 5,
                "independent": False,
                "tracks": ["screen"],
            },
        ],
    }
    assert second.json()["version"] == 2
    assert list(ScoringRubric.objects.filter(program=program).values_list("version", flat=True)) == [2, 1]
    entries = audit_entries_for(program).filter(action="scoring_rubric.published").order_by("created_at")
    assert [e.changes for e in entries] == [
        {"version": 1, "criteria": ["craft", "voice", "fit", "dialogue"]},
        {"version": 2, "criteria": ["craft", "voice"]},
    ]
    assert {e.actor for e in entries} == {operator}


@pytest.mark.parametrize(
    ("criteria", "errors"),
    [
        ([], {"criteria": "A rubric needs a list of at least one criterion."}),
        ({"key": "a"}, {"criteria": "A rubric needs a list of at least one criterion."}),
        ([5], {"criteria/0": "A criterion is an object."}),
        ([{"key": "a", "label": "A", "scale": 5}], {"criteria/0/scale": "Unknown property."}),
        (
            [{"key": "1a", "label": "A"}],
            {"criteria/0/key": "A key is lowercase letters, digits and _ (starting with a letter)."},
        ),
        ([{"key": "a", "label": "A"}, {"key": "a", "label": "B"}], {"criteria/1/key": "The key 'a' is used twice."}),
        ([{"key": "a", "label": ""}], {"criteria/0/label": "A criterion needs a label."}),
        ([{"key": "a", "label": "A", "description": ["x"]}], {"criteria/0/description": "Text."}),
        ([{"key": "a", "label": "A", "weight": 0}], {"criteria/0/weight": "A weight is a number above 0."}),
        ([{"key": "a", "label": "A", "weight": -1}], {"criteria/0/weight": "A weight is a number above 0."}),
        ([{"key": "a", "label": "A", "weight": "2"}], {"criteria/0/weight": "A weight is a number above 0."}),
        ([{"key": "a", "label": "A", "weight": True}], {"criteria/0/weight": "A weight is a number above 0."}),
        ([{"key": "a", "label": "A", "scale_min": 1.5}], {"criteria/0/scale_min": "An integer."}),
        ([{"key": "a", "label": "A", "scale_max": "5"}], {"criteria/0/scale_max": "An integer."}),
        (
            [{"key": "a", "label": "A", "scale_min": 5, "scale_max": 5}],
            {"criteria/0/scale_max": "scale_max must be above scale_min."},
        ),
        ([{"key": "a", "label": "A", "independent": "no"}], {"criteria/0/independent": "true or false."}),
        (
            [{"key": "a", "label": "A", "tracks": ["film"]}],
            {"criteria/0/tracks": "Track keys of this program: screen, stage."},
        ),
        (
            [{"key": "a", "label": "A", "tracks": "screen"}],
            {"criteria/0/tracks": "Track keys of this program: screen, stage."},
        ),
        (
            [{"key": "a", "label": "A", "tracks": [{"key": "screen"}]}],
            {"criteria/0/tracks": "Track keys of this program: screen, stage."},
        ),
        (
            [{"key": "a", "label": "A", "independent": True}, {"key": "b", "label": "B", "independent": True}],
            {"criteria": "At least one criterion must count towards the total."},
        ),
    ],
)
def test_invalid_rubric_answers_400_naming_each_path(operator_api, program, form, criteria, errors):
    response = operator_api.put(_rubric_url(program), {"criteria": criteria}, format="json")

    assert response.status_code == 400, response.json()
    assert (response.json()["detail"], response.json()["errors"]) == ("The scoring rubric is invalid.", errors)
    assert not ScoringRubric.objects.exists()


def test_non_finite_numbers_are_refused_not_a_server_error(operator_api, program, form):
    # 1e999 is valid JSON that parses as infinity, which a JSON column cannot store.
    rubric = operator_api.put(
        _rubric_url(program),
        data='{"criteria": [{"key": "a", "label": "A", "weight": 1e999}]}',
        content_type="application/json",
    )
    form_response = operator_api.put(
        _form_url(program),
        data='{"fields": [{"key": "a", "label": "A", "type": "number", "max": 1e999}]}',
        content_type="application/json",
    )

    assert (rubric.status_code, rubric.json()["errors"]) == (400, {"criteria": "Value must be valid JSON."})
    assert (form_response.status_code, form_response.json()["errors"]) == (400, {"fields": "Value must be valid JSON."})
    # The services (also behind pages and the admin) refuse them too.
    with pytest.raises(ValidationFailed) as weight:
        scoring_rubric_publish(program=program, criteria=[{"key": "a", "label": "A", "weight": math.inf}])
    with pytest.raises(ValidationFailed) as bound:
        application_form_publish(
            program=program, fields=[{"key": "a", "label": "A", "type": "number", "min": math.nan}]
        )
    assert weight.value.errors == {"criteria/0/weight": "A weight is a number above 0."}
    assert bound.value.errors == {"fields/0/min": "A number."}


def test_only_operators_and_integrators_publish(client_for, make_user, integrator_api, writer_api, anon_api, program):
    reviewer_api = client_for(make_user(role="reviewer"))
    body = {"fields": FIELDS}

    assert anon_api.put(_form_url(program), body, format="json").status_code == 401
    assert writer_api.put(_form_url(program), body, format="json").status_code == 403
    assert reviewer_api.put(_rubric_url(program), {"criteria": CRITERIA}, format="json").status_code == 403
    assert integrator_api.put(_form_url(program), body, format="json").json()["version"] == 1
    assert integrator_api.put(_rubric_url(program), {"criteria": CRITERIA}, format="json").json()["version"] == 1
    missing = integrator_api.put("/api/v1/admin/programs/00000000-0000-0000-0000-000000000000/application-form", body)
    assert missing.status_code == 404


def test_public_form_shows_current_version_active_tracks_and_accepting(operator_api, anon_api, program, frozen):
    operator_api.put(
        _form_url(program),
        {"fields": FIELDS[:1], "tracks": [{"key": "screen", "name": "Screen"}, {"key": "stage", "name": "Stage"}]},
        format="json",
    )
    operator_api.put(
        _form_url(program), {"fields": FIELDS, "tracks": [{"key": "stage", "name": "Stage"}]}, format="json"
    )
    stage = ProgramTrack.objects.get(program=program, key="stage")

    body = anon_api.get(_public_url(program)).json()

    assert body == {
        "program_id": str(program.id),
        "version": 2,
        "fields": ApplicationForm.objects.get(program=program, version=2).fields,
        "tracks": [{"id": str(stage.id), "key": "stage", "name": "Stage", "description": ""}],
        "opens_at": None,
        "closes_at": None,
        "accepting": True,
    }

    program_update(
        program=program, data={"opens_at": FROZEN + timedelta(days=1), "closes_at": FROZEN + timedelta(days=9)}
    )
    later = anon_api.get(_public_url(program)).json()
    assert (later["accepting"], later["opens_at"], later["closes_at"]) == (
        False,
        "2026-03-03T09:30:00Z",
        "2026-03-11T09:30:00Z",
    )
    frozen.advance(days=2)
    assert anon_api.get(_public_url(program)).json()["accepting"] is True
    frozen.advance(days=7)  # closes_at is exclusive
    assert anon_api.get(_public_url(program)).json()["accepting"] is False


def test_public_form_404_without_a_form_or_for_a_program_not_in_the_catalog(anon_api, operator_api, program):
    none_yet = anon_api.get(_public_url(program))
    assert (none_yet.status_code, none_yet.json()["detail"]) == (
        404,
        f"The program '{program.name}' has no application form yet.",
    )
    operator_api.put(_form_url(program), {"fields": FIELDS}, format="json")
    program_set_status(program=program, status="paused")
    assert anon_api.get(_public_url(program)).status_code == 404


def test_submitted_application_keeps_its_form_version_a_draft_moves_on(apply, program, form):
    submitted = apply()
    draft = apply(submit=False, answers={"name": "Dee", "statement": "Short and sweet"})
    assert (submitted.form.version, draft.form.version) == (1, 1)

    # Version 2 drops "statement" and adds a required field.
    new_fields = [f for f in FIELDS if f["key"] != "statement"] + [
        {"key": "city", "label": "City", "type": "short_text", "required": True}
    ]
    application_form_publish(program=program, fields=new_fields)
    edited = application_edit(application=draft, answers={"city": "Berlin"}, actor=draft.applicant)
    submitted.refresh_from_db()

    assert submitted.form.version == 1
    assert edited.form.version == 2
    # The answer to the dropped field goes with the old version instead of failing as unknown.
    assert edited.answers == {"name": "Dee", "city": "Berlin"}
    entry = audit_entries_for(edited).get(action="application.edited")
    assert entry.changes == {"form_version": [1, 2], "answers_dropped": ["statement"], "answers": ["city"]}
    assert AuditEntry.objects.filter(action="application.edited").count() == 1

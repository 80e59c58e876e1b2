"""The public catalog: GET /api/v1/programs and /api/v1/programs/{id}."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.services import beneficiary_group_create

URL = "/api/v1/programs"
PROBLEM = "application/problem+json"


@pytest.fixture
def world(make_program, builtin_templates, group):
    ukrainians = beneficiary_group_create(key="ukrainian-refugees", name="Ukrainian refugees")
    return {
        "mentorship": make_program(
            builtin_templates["mentorship-standard"],
            name="Mentorship Berlin",
            description="Career mentoring for newcomers.",
            tags=["Career", "Berlin"],
        ),
        "buddy": make_program(
            builtin_templates["buddy-standard"],
            name="Buddy Warsaw",
            description="Peer support and city walks.",
            tags=["social"],
            beneficiary_group=ukrainians,
        ),
        "language": make_program(
            builtin_templates["language-tutoring"],
            name="German Tutoring",
            description="Practise German with a tutor; career vocabulary.",
            tags=["language", "career"],
            beneficiary_group=ukrainians,
        ),
        "draft": make_program(builtin_templates["mentorship-standard"], name="Draft mentoring", status="draft"),
        "paused": make_program(builtin_templates["mentorship-standard"], name="Paused mentoring", status="paused"),
        "closed": make_program(builtin_templates["career-lab"], name="Closed lab", status="closed"),
    }


def _names(response):
    assert response.status_code == 200, response.content
    return [r["name"] for r in response.json()["results"]]


def test_anonymous_sees_only_active_programs(anon_api, world):
    response = anon_api.get(URL)

    assert _names(response) == ["Buddy Warsaw", "German Tutoring", "Mentorship Berlin"]
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)


def test_catalog_entry_shape(anon_api, world, group):
    program = world["mentorship"]

    entry = next(r for r in anon_api.get(URL).json()["results"] if r["id"] == str(program.pk))

    assert entry == {
        "id": str(program.pk),
        "program_key": "mentorship-berlin",
        "name": "Mentorship Berlin",
        "description": "Career mentoring for newcomers.",
        "program_type": "mentorship",
        "beneficiary_group_id": str(group.pk),
        "beneficiary_group": {"id": str(group.pk), "key": "syrian-refugees", "name": "Syrian refugees"},
        "config": program.template.default_config,
        "status": "active",
        "tags": ["career", "berlin"],
        "sdg_goals": [],
        "timezone": "UTC",
        "opens_at": None,
        "closes_at": None,
    }


def test_filter_by_program_type(anon_api, world):
    assert _names(anon_api.get(URL, {"program_type": "buddy"})) == ["Buddy Warsaw"]
    # A closed career lab exists, but the catalog holds no active one.
    assert _names(anon_api.get(URL, {"program_type": "career_lab"})) == []


def test_unknown_program_type_is_a_400(anon_api, world):
    response = anon_api.get(URL, {"program_type": "chess"})

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"] == {
        "program_type": "Select a valid choice. chess is not one of the available choices."
    }


def test_filter_by_tag_is_normalised(anon_api, world):
    assert _names(anon_api.get(URL, {"tag": "career"})) == ["German Tutoring", "Mentorship Berlin"]
    assert _names(anon_api.get(URL, {"tag": "Career"})) == ["German Tutoring", "Mentorship Berlin"]
    assert _names(anon_api.get(URL, {"tag": "car"})) == []


def test_filter_by_beneficiary_group_id_or_key(anon_api, world, group):
    ukrainians = world["buddy"].beneficiary_group

    assert _names(anon_api.get(URL, {"beneficiary_group": str(ukrainians.pk)})) == ["Buddy Warsaw", "German Tutoring"]
    assert _names(anon_api.get(URL, {"beneficiary_group": "ukrainian-refugees"})) == [
        "Buddy Warsaw",
        "German Tutoring",
    ]
    assert _names(anon_api.get(URL, {"beneficiary_group": "syrian-refugees"})) == ["Mentorship Berlin"]
    assert _names(anon_api.get(URL, {"beneficiary_group": str(uuid.uuid4())})) == []
    assert _names(anon_api.get(URL, {"beneficiary_group": "nobody"})) == []


def test_search_matches_every_word_in_name_or_description(anon_api, world):
    assert _names(anon_api.get(URL, {"search": "career"})) == ["German Tutoring", "Mentorship Berlin"]
    assert _names(anon_api.get(URL, {"search": "CAREER german"})) == ["German Tutoring"]
    assert _names(anon_api.get(URL, {"search": "warsaw walks"})) == ["Buddy Warsaw"]
    assert _names(anon_api.get(URL, {"search": "paused"})) == []


def test_filters_combine(anon_api, world):
    assert _names(anon_api.get(URL, {"tag": "career", "beneficiary_group": "ukrainian-refugees"})) == [
        "German Tutoring"
    ]


def test_detail_of_an_active_program(anon_api, world):
    program = world["buddy"]

    response = anon_api.get(f"{URL}/{program.pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["program_key"], body["program_type"], body["status"]) == (
        str(program.pk),
        "buddy-warsaw",
        "buddy",
        "active",
    )
    assert body["beneficiary_group"] == {
        "id": str(program.beneficiary_group_id),
        "key": "ukrainian-refugees",
        "name": "Ukrainian refugees",
    }


@pytest.mark.parametrize("which", ["draft", "paused", "closed"])
def test_detail_of_a_program_not_in_the_catalog_is_404(anon_api, world, which):
    response = anon_api.get(f"{URL}/{world[which].pk}")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No Program matches the given query.",
    }


def test_detail_of_an_unknown_id_is_404(anon_api, db):
    response = anon_api.get(f"{URL}/{uuid.uuid4()}")

    assert (response.status_code, response.json()["type"]) == (404, "/problems/not-found")


def test_catalog_costs_a_constant_number_of_queries(
    anon_api, make_program, builtin_templates, django_assert_max_num_queries
):
    templates = list(builtin_templates.values())
    for n in range(2):
        make_program(templates[n], name=f"Program {n}", tags=["a"])

    with CaptureQueriesContext(connection) as two:
        assert anon_api.get(URL).json()["count"] == 2
    for n in range(2, 12):
        make_program(
            templates[n % len(templates)],
            name=f"Program {n}",
            tags=["a"],
            beneficiary_group=beneficiary_group_create(key=f"group-{n}", name=f"Group {n}"),
        )
    with django_assert_max_num_queries(len(two.captured_queries)):
        body = anon_api.get(URL).json()

    assert body["count"] == 12
    assert len({r["beneficiary_group"]["key"] for r in body["results"]}) == 11


def test_signed_in_users_see_the_same_catalog(writer_api, world):
    assert _names(writer_api.get(URL)) == ["Buddy Warsaw", "German Tutoring", "Mentorship Berlin"]

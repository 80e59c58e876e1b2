"""The profiles API: create (201) or update (200) a mentor's or mentee's profile through
`profile_upsert`, list them with filters in a constant number of queries, and answer every bad
input with a problem naming the field."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from mentorship.models import Profile
from mentorship.services import profile_upsert

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/mentorship/profiles"
FIELDS = {
    "id",
    "user_id",
    "user_name",
    "program_id",
    "kind",
    "capacity",
    "skills",
    "languages",
    "timezone",
    "goals",
    "industries",
    "avoid_user_ids",
    "bio",
    "preferences",
    "active",
    "created_at",
    "updated_at",
}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _queries(client, url: str) -> int:
    client.get(url)  # warm up: the first request of a token also records its use
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.fixture
def mentor_user(make_user):
    return make_user(email="maria@example.org", full_name="Maria Mentor")


def _body(user, program, **fields) -> dict:
    return {"user_id": str(user.pk), "program_id": str(program.pk), **fields}


# --- Create and update --------------------------------------------------------------------------


def test_create_answers_201_with_the_profile_and_audits(operator_api, operator, program, mentor_user, make_user):
    avoided = make_user(email="avoid@example.org")
    response = operator_api.post(
        URL,
        _body(
            mentor_user,
            program,
            kind="mentor",
            capacity=2,
            skills=["Python", " SQL "],
            languages=["EN", "uk"],
            timezone="Europe/Kyiv",
            goals=["career change"],
            industries=["software"],
            avoid_user_ids=[str(avoided.pk)],
            bio="Ten years of backend work.",
            preferences={"meeting": "online"},
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    profile = Profile.objects.get()
    assert {k: body[k] for k in FIELDS - {"created_at", "updated_at"}} == {
        "id": str(profile.pk),
        "user_id": str(mentor_user.pk),
        "user_name": "Maria Mentor",
        "program_id": str(program.pk),
        "kind": "mentor",
        "capacity": 2,
        "skills": ["Python", "SQL"],
        "languages": ["en", "uk"],
        "timezone": "Europe/Kyiv",
        "goals": ["career change"],
        "industries": ["software"],
        "avoid_user_ids": [str(avoided.pk)],
        "bio": "Ten years of backend work.",
        "preferences": {"meeting": "online"},
        "active": True,
    }
    entry = AuditEntry.objects.get(target_id=str(profile.pk))
    assert (entry.action, entry.actor_id) == ("mentorship_profile.created", operator.pk)
    assert entry.changes["capacity"] == 2


def test_a_second_post_updates_only_the_fields_sent_and_answers_200(operator_api, program, mentor_user):
    first = operator_api.post(
        URL, _body(mentor_user, program, kind="mentor", skills=["python"], languages=["en"]), format="json"
    )
    assert first.status_code == 201, first.content

    again = operator_api.post(URL, _body(mentor_user, program, kind="mentor", capacity=2, active=False), format="json")

    assert again.status_code == 200, again.content
    body = again.json()
    assert body["id"] == first.json()["id"]
    assert (body["capacity"], body["active"], body["skills"], body["languages"]) == (2, False, ["python"], ["en"])
    assert Profile.objects.count() == 1
    entry = AuditEntry.objects.filter(action="mentorship_profile.updated").get()
    assert entry.changes == {"capacity": [1, 2], "active": [True, False]}


def test_the_same_person_may_hold_both_sides(integrator_api, program, mentor_user):
    mentor = integrator_api.post(URL, _body(mentor_user, program, kind="mentor"), format="json")
    mentee = integrator_api.post(URL, _body(mentor_user, program, kind="mentee"), format="json")
    assert (mentor.status_code, mentee.status_code) == (201, 201)
    assert sorted(Profile.objects.values_list("kind", flat=True)) == ["mentee", "mentor"]


def test_create_is_idempotent_with_a_key(operator_api, program, mentor_user):
    body = _body(mentor_user, program, kind="mentee", skills=["python"])
    first = operator_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="profile-1")
    again = operator_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="profile-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = operator_api.post(URL, {**body, "skills": ["sql"]}, format="json", HTTP_IDEMPOTENCY_KEY="profile-1")
    assert _problem(other, 422)["type"] == "/problems/idempotency-key-reused"
    assert Profile.objects.get().skills == ["python"]


# --- Bad input ----------------------------------------------------------------------------------


def test_unknown_user_and_program_answer_400_naming_both(operator_api):
    user_id, program_id = uuid.uuid4(), uuid.uuid4()
    body = _problem(
        operator_api.post(
            URL, {"user_id": str(user_id), "program_id": str(program_id), "kind": "mentor"}, format="json"
        ),
        400,
    )
    assert body["type"] == "/problems/validation-error"
    assert body["errors"] == {
        "user_id": f"No user with the id {user_id}.",
        "program_id": f"No program with the id {program_id}.",
    }


def test_missing_fields_and_wrong_types_answer_400_per_field(operator_api):
    body = _problem(
        operator_api.post(
            URL,
            {
                "user_id": "not-a-uuid",
                "kind": "boss",
                "capacity": "many",
                "skills": "python",
                "languages": [1, ""],
                "avoid_user_ids": ["nope"],
                "preferences": ["a"],
                "active": "perhaps",
            },
            format="json",
        ),
        400,
    )
    assert body["errors"] == {
        "user_id": "Must be a valid UUID.",
        "program_id": "This field is required.",
        "kind": '"boss" is not a valid choice.',
        "capacity": "A valid integer is required.",
        "skills": 'Expected a list of items but got type "str".',
        "languages/1": "This field may not be blank.",
        "avoid_user_ids/0": "Must be a valid UUID.",
        "preferences": 'Expected a dictionary of items but got type "list".',
        "active": "Must be a valid boolean.",
    }


def test_rules_of_the_service_answer_400_per_field(operator_api, program, mentor_user, make_user):
    stranger = uuid.uuid4()
    body = _problem(
        operator_api.post(
            URL,
            _body(
                mentor_user,
                program,
                kind="mentor",
                capacity=5,
                timezone="Mars/Olympus",
                avoid_user_ids=[str(stranger)],
            ),
            format="json",
        ),
        400,
    )
    assert body["errors"] == {
        "capacity": "Give a whole number from 0 to 2 (this program's most mentees per mentor).",
        "timezone": "Give an IANA time zone, e.g. Europe/Kyiv.",
        "avoid_user_ids": f"No user with the id {stranger}.",
    }
    mentee = _problem(
        operator_api.post(URL, _body(mentor_user, program, kind="mentee", capacity=2), format="json"), 400
    )
    assert mentee["errors"] == {"capacity": "Capacity is a mentor's; leave it out for a mentee."}
    avoid_self = _problem(
        operator_api.post(
            URL, _body(mentor_user, program, kind="mentee", avoid_user_ids=[str(mentor_user.pk)]), format="json"
        ),
        400,
    )
    assert avoid_self["errors"] == {"avoid_user_ids": "A person cannot avoid themselves."}
    assert Profile.objects.count() == 0


def test_a_program_without_matching_answers_400(operator_api, make_program, builtin_templates, mentor_user):
    courses = make_program(builtin_templates["upskilling-courses"], name="Courses")
    body = _problem(operator_api.post(URL, _body(mentor_user, courses, kind="mentor"), format="json"), 400)
    assert body["errors"] == {"program_id": "This program's template does not support matching."}


def test_malformed_json_and_a_list_body_answer_400(operator_api):
    malformed = _problem(operator_api.post(URL, data="{not json", content_type="application/json"), 400)
    assert malformed["type"] == "/problems/malformed-request"
    listed = _problem(operator_api.post(URL, [1, 2], format="json"), 400)
    assert listed["errors"] == {"non_field_errors": "Invalid data. Expected a dictionary, but got list."}


# --- List and read ------------------------------------------------------------------------------


def _profiles(program, make_user, count: int, kind: str = "mentee") -> list[Profile]:
    rows = []
    for _ in range(count):
        profile, _ = profile_upsert(program=program, user=make_user(), kind=kind, data={"languages": ["uk"]})
        rows.append(profile)
    return rows


def test_list_filters_by_program_kind_user_and_active(
    operator_api, program, make_program, mentorship_template, make_user, mentor_user
):
    other = make_program(mentorship_template, name="Mentorship autumn")
    mentor, _ = profile_upsert(program=program, user=mentor_user, kind="mentor", data={"languages": ["en"]})
    mentee, _ = profile_upsert(program=program, user=make_user(), kind="mentee", data={"active": False})
    elsewhere, _ = profile_upsert(program=other, user=mentor_user, kind="mentee", data={})

    def ids(**params) -> list[str]:
        response = operator_api.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    everything = operator_api.get(URL).json()
    assert (everything["count"], everything["next"], everything["previous"]) == (3, None, None)
    assert [row["id"] for row in everything["results"]] == [str(mentor.pk), str(mentee.pk), str(elsewhere.pk)]
    assert ids(program_id=str(program.pk)) == [str(mentor.pk), str(mentee.pk)]
    assert ids(kind="mentee") == [str(mentee.pk), str(elsewhere.pk)]
    assert ids(user_id=str(mentor_user.pk)) == [str(mentor.pk), str(elsewhere.pk)]
    assert ids(active="false") == [str(mentee.pk)]
    assert ids(program_id=str(program.pk), kind="mentor", active="true") == [str(mentor.pk)]
    page = operator_api.get(URL, {"page_size": 2}).json()
    assert (page["count"], len(page["results"]), page["next"] is not None) == (3, 2, True)


def test_bad_filters_answer_400(operator_api):
    body = _problem(operator_api.get(URL, {"kind": "boss", "program_id": "nope"}), 400)
    assert set(body["errors"]) == {"kind", "program_id"}
    assert body["errors"]["program_id"] == "Enter a valid UUID."


def test_list_costs_the_same_queries_whatever_its_length(operator_api, program, make_user):
    _profiles(program, make_user, 2)
    few = _queries(operator_api, URL)
    _profiles(program, make_user, 6, kind="mentor")
    assert _queries(operator_api, URL) == few
    assert operator_api.get(URL).json()["count"] == 8


def test_read_one_profile_and_404_for_unknown(operator_api, program, mentor_user):
    profile, _ = profile_upsert(program=program, user=mentor_user, kind="mentor", data={})
    response = operator_api.get(f"{URL}/{profile.pk}")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["user_name"]) == (str(profile.pk), "Maria Mentor")
    missing = uuid.uuid4()
    assert _problem(operator_api.get(f"{URL}/{missing}"), 404)["detail"] == f"No profile with the id {missing}."
    assert _problem(operator_api.get(f"{URL}/not-a-uuid"), 404)["type"] == "/problems/not-found"


# --- Who may call -------------------------------------------------------------------------------


def test_participants_get_403_and_anonymous_callers_401(client_for, anon_api, make_user, program, mentor_user):
    participant = client_for(make_user(email="mentee@example.org"))
    assert _problem(participant.get(URL), 403)["type"] == "/problems/permission-denied"
    denied = participant.post(URL, _body(mentor_user, program, kind="mentor"), format="json")
    assert _problem(denied, 403)["type"] == "/problems/permission-denied"
    assert _problem(anon_api.get(URL), 401)["type"] == "/problems/not-authenticated"
    assert Profile.objects.count() == 0

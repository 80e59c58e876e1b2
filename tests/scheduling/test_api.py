"""The cohorts API: create, read, change and list cohorts of a program; add, list, remove and
move members; 404 for unknown or foreign ids, 400 per field, 409 on state; audit rows, idempotent
creation and constant query counts."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from programs.models import ProgramTrack
from scheduling.models import Cohort, CohortMember
from scheduling.services import cohort_member_add, cohort_member_remove

pytestmark = pytest.mark.django_db

COHORT_FIELDS = {
    "id",
    "program_id",
    "track_id",
    "name",
    "starts_on",
    "ends_on",
    "capacity",
    "status",
    "active_members",
    "created_at",
    "updated_at",
}
MEMBER_FIELDS = {"id", "cohort_id", "enrollment_id", "user_id", "status", "joined_at", "left_at", "reason"}


def cohorts_url(program_id) -> str:
    return f"/api/v1/admin/programs/{program_id}/cohorts"


def cohort_url(program_id, cohort_id) -> str:
    return f"{cohorts_url(program_id)}/{cohort_id}"


def members_url(cohort) -> str:
    return f"{cohort_url(cohort.program_id, cohort.pk)}/members"


def member_url(member) -> str:
    return f"{members_url(member.cohort)}/{member.pk}"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _queries(client, url: str) -> int:
    client.get(url)  # warm up: the first request of a token also records its use
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


NEW = {"name": "Spring 2026", "starts_on": "2026-04-01", "ends_on": "2026-06-30", "capacity": 12}


# --- Cohorts ------------------------------------------------------------------------------------


def test_create_answers_201_with_the_cohort_and_audits(operator_api, operator, program, track):
    response = operator_api.post(cohorts_url(program.pk), {**NEW, "track_id": str(track.pk)}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == COHORT_FIELDS
    cohort = Cohort.objects.get()
    assert {k: body[k] for k in COHORT_FIELDS - {"created_at", "updated_at"}} == {
        "id": str(cohort.pk),
        "program_id": str(program.pk),
        "track_id": str(track.pk),
        "name": "Spring 2026",
        "starts_on": "2026-04-01",
        "ends_on": "2026-06-30",
        "capacity": 12,
        "status": "planned",
        "active_members": 0,
    }
    entry = AuditEntry.objects.get(target_id=str(cohort.pk))
    assert (entry.action, entry.actor_id) == ("cohort.created", operator.pk)


def test_create_active_without_a_track(integrator_api, program):
    response = integrator_api.post(cohorts_url(program.pk), {**NEW, "status": "active"}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["track_id"]) == ("active", None)


def test_create_is_idempotent_with_a_key(operator_api, program):
    first = operator_api.post(cohorts_url(program.pk), NEW, format="json", HTTP_IDEMPOTENCY_KEY="cohort-1")
    again = operator_api.post(cohorts_url(program.pk), NEW, format="json", HTTP_IDEMPOTENCY_KEY="cohort-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Cohort.objects.count() == 1
    other = operator_api.post(
        cohorts_url(program.pk), {**NEW, "capacity": 3}, format="json", HTTP_IDEMPOTENCY_KEY="cohort-1"
    )
    assert _problem(other, 422)["type"] == "/problems/idempotency-key-reused"


def test_create_answers_400_per_field(operator_api, program):
    response = operator_api.post(
        cohorts_url(program.pk),
        {"starts_on": "2026-04-01", "ends_on": "not a date", "capacity": 0, "status": "completed"},
        format="json",
    )
    body = _problem(response, 400)
    assert body["errors"] == {
        "name": "This field is required.",
        "ends_on": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        "capacity": "Ensure this value is greater than or equal to 1.",
        "status": '"completed" is not a valid choice.',
    }
    assert Cohort.objects.count() == 0


def test_create_answers_400_for_rule_breaking_fields(operator_api, program, make_program, mentorship_template):
    foreign_track = ProgramTrack.objects.create(
        program=make_program(mentorship_template, name="Other"), key="x", name="X"
    )
    response = operator_api.post(
        cohorts_url(program.pk),
        {**NEW, "ends_on": "2026-03-01", "track_id": str(foreign_track.pk)},
        format="json",
    )
    body = _problem(response, 400)
    assert body["errors"] == {
        "track_id": "This track belongs to another program.",
        "ends_on": "A cohort cannot end before it starts.",
    }
    missing = uuid.uuid4()
    response = operator_api.post(cohorts_url(program.pk), {**NEW, "track_id": str(missing)}, format="json")
    assert _problem(response, 400)["errors"] == {"track_id": f"No track with the id {missing}."}


def test_unknown_program_answers_404(operator_api):
    missing = uuid.uuid4()
    for response in (
        operator_api.get(cohorts_url(missing)),
        operator_api.post(cohorts_url(missing), NEW, format="json"),
        operator_api.get(cohort_url(missing, uuid.uuid4())),
    ):
        body = _problem(response, 404)
        assert body["detail"] == f"No program with the id {missing}."


def test_a_cohort_of_another_program_answers_404(operator_api, program, make_program, mentorship_template, make_cohort):
    other = make_program(mentorship_template, name="Other")
    foreign = make_cohort("Foreign", in_program=other)
    for response in (
        operator_api.get(cohort_url(program.pk, foreign.pk)),
        operator_api.patch(cohort_url(program.pk, foreign.pk), {"name": "Mine now"}, format="json"),
        operator_api.get(f"{cohort_url(program.pk, foreign.pk)}/members"),
    ):
        assert _problem(response, 404)["detail"] == f"No cohort with the id {foreign.pk} in this program."
    foreign.refresh_from_db()
    assert foreign.name == "Foreign"


def test_roles_other_than_operator_and_integrator_are_refused(writer_api, anon_api, program):
    assert _problem(writer_api.get(cohorts_url(program.pk)), 403)["type"] == "/problems/permission-denied"
    assert _problem(anon_api.get(cohorts_url(program.pk)), 401)["type"] == "/problems/not-authenticated"


def test_list_with_active_member_counts_and_filters(operator_api, program, make_cohort, enroll):
    spring = make_cohort("Spring", starts_on=date(2026, 4, 1))
    autumn = make_cohort("Autumn", starts_on=date(2026, 9, 1), ends_on=date(2026, 11, 30), status="active")
    members = [cohort_member_add(cohort=spring, enrollment=enroll()) for _ in range(3)]
    cohort_member_remove(member=members[0])

    body = operator_api.get(cohorts_url(program.pk)).json()

    assert body["count"] == 2
    assert [(r["name"], r["active_members"], r["capacity"], r["status"]) for r in body["results"]] == [
        ("Spring", 2, 3, "planned"),
        ("Autumn", 0, 3, "active"),
    ]
    only_active = operator_api.get(cohorts_url(program.pk), {"status": "active"}).json()
    assert [r["id"] for r in only_active["results"]] == [str(autumn.pk)]


def test_list_costs_a_constant_number_of_queries(operator_api, program, make_cohort, enroll):
    cohorts = [make_cohort(f"C{n}", starts_on=date(2026, 4, n + 1)) for n in range(2)]
    cohort_member_add(cohort=cohorts[0], enrollment=enroll())
    two = _queries(operator_api, cohorts_url(program.pk))
    for n in range(2, 8):
        cohort = make_cohort(f"C{n}", starts_on=date(2026, 4, n + 1))
        cohort_member_add(cohort=cohort, enrollment=enroll())
    assert operator_api.get(cohorts_url(program.pk)).json()["count"] == 8
    assert _queries(operator_api, cohorts_url(program.pk)) == two


def test_patch_changes_settings_and_status(operator_api, operator, program, cohort):
    response = operator_api.patch(
        cohort_url(program.pk, cohort.pk),
        {"capacity": 8, "name": "Spring cohort", "status": "active", "reason": "kick-off"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["capacity"], body["status"], body["active_members"]) == (
        "Spring cohort",
        8,
        "active",
        0,
    )
    actions = list(
        AuditEntry.objects.filter(target_id=str(cohort.pk))
        .order_by("created_at")
        .values_list("action", "reason", "actor_id")
    )
    assert actions == [
        ("cohort.created", "", None),
        ("cohort.updated", "kick-off", operator.pk),
        ("cohort.status_changed", "kick-off", operator.pk),
    ]


def test_patch_illegal_transition_and_capacity_answer_409(operator_api, program, cohort, enroll):
    response = operator_api.patch(cohort_url(program.pk, cohort.pk), {"status": "completed"}, format="json")
    body = _problem(response, 409)
    assert body["type"] == "/problems/illegal-transition"
    assert (
        body["detail"] == "A cohort cannot go from 'planned' to 'completed'. Allowed from 'planned': active, cancelled."
    )
    cohort_member_add(cohort=cohort, enrollment=enroll())
    cohort_member_add(cohort=cohort, enrollment=enroll())
    response = operator_api.patch(cohort_url(program.pk, cohort.pk), {"capacity": 1}, format="json")
    assert _problem(response, 409)["detail"] == (
        "The cohort 'Spring 2026' has 2 active members; its capacity cannot be lowered to 1."
    )
    response = operator_api.patch(cohort_url(program.pk, cohort.pk), {"capacity": 0}, format="json")
    assert _problem(response, 400)["errors"] == {"capacity": "Ensure this value is greater than or equal to 1."}
    cohort.refresh_from_db()
    assert (cohort.status, cohort.capacity) == ("planned", 3)


# --- Members ------------------------------------------------------------------------------------


def test_add_a_member_answers_201_and_audits(operator_api, operator, cohort, enroll, frozen):
    ada = enroll("ada@example.org")
    response = operator_api.post(
        members_url(cohort), {"enrollment_id": str(ada.pk), "reason": "accepted"}, format="json"
    )
    assert response.status_code == 201, response.content
    member = CohortMember.objects.get()
    assert response.json() == {
        "id": str(member.pk),
        "cohort_id": str(cohort.pk),
        "enrollment_id": str(ada.pk),
        "user_id": str(ada.user_id),
        "status": "active",
        "joined_at": "2026-03-02T09:30:00Z",
        "left_at": None,
        "reason": "accepted",
    }
    entry = AuditEntry.objects.get(target_id=str(member.pk))
    assert (entry.action, entry.actor_id, entry.reason) == ("cohort_member.added", operator.pk, "accepted")


def test_add_to_a_full_cohort_answers_409(operator_api, cohort, enroll):
    for _ in range(3):
        cohort_member_add(cohort=cohort, enrollment=enroll())
    response = operator_api.post(members_url(cohort), {"enrollment_id": str(enroll().pk)}, format="json")
    body = _problem(response, 409)
    assert (body["type"], body["detail"]) == (
        "/problems/conflict",
        "The cohort 'Spring 2026' is full: 3 of 3 places are taken.",
    )
    assert CohortMember.objects.count() == 3


def test_add_answers_400_for_unknown_and_foreign_enrollments(
    operator_api, cohort, enroll, make_program, mentorship_template
):
    missing = uuid.uuid4()
    response = operator_api.post(members_url(cohort), {"enrollment_id": str(missing)}, format="json")
    assert _problem(response, 400)["errors"] == {"enrollment_id": f"No enrollment with the id {missing}."}
    foreign = enroll(in_program=make_program(mentorship_template, name="Other"))
    response = operator_api.post(members_url(cohort), {"enrollment_id": str(foreign.pk)}, format="json")
    assert _problem(response, 400)["errors"] == {"enrollment_id": "This enrollment belongs to another program."}
    response = operator_api.post(members_url(cohort), {"enrollment_id": "nope"}, format="json")
    assert _problem(response, 400)["errors"] == {"enrollment_id": "Must be a valid UUID."}
    assert CohortMember.objects.count() == 0


def test_members_list_with_filter_and_constant_queries(operator_api, cohort, enroll):
    ada, alan = enroll("ada@example.org"), enroll("alan@example.org")
    first = cohort_member_add(cohort=cohort, enrollment=ada)
    cohort_member_add(cohort=cohort, enrollment=alan)
    cohort_member_remove(member=first, reason="left")
    two = _queries(operator_api, members_url(cohort))

    body = operator_api.get(members_url(cohort)).json()
    assert [(r["user_id"], r["status"], r["reason"]) for r in body["results"]] == [
        (str(ada.user_id), "dropped", "left"),
        (str(alan.user_id), "active", ""),
    ]
    assert set(body["results"][0]) == MEMBER_FIELDS
    dropped = operator_api.get(members_url(cohort), {"status": "dropped"}).json()
    assert [r["enrollment_id"] for r in dropped["results"]] == [str(ada.pk)]

    cohort.capacity = 10
    cohort.save(update_fields=["capacity"])
    for _ in range(6):
        cohort_member_add(cohort=cohort, enrollment=enroll())
    assert operator_api.get(members_url(cohort)).json()["count"] == 8
    assert _queries(operator_api, members_url(cohort)) == two


def test_delete_drops_the_member_with_the_reason(operator_api, operator, cohort, enroll, frozen):
    ada, alan = enroll(), enroll()
    by_query = cohort_member_add(cohort=cohort, enrollment=ada)
    by_body = cohort_member_add(cohort=cohort, enrollment=alan)

    response = operator_api.delete(f"{member_url(by_query)}?reason=changed+shifts")
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in ("status", "left_at", "reason")} == {
        "status": "dropped",
        "left_at": "2026-03-02T09:30:00Z",
        "reason": "changed shifts",
    }
    response = operator_api.delete(member_url(by_body), {"reason": "moved away"}, format="json")
    assert (response.status_code, response.json()["reason"]) == (200, "moved away")

    entry = AuditEntry.objects.get(target_id=str(by_query.pk), action="cohort_member.removed")
    assert (entry.actor_id, entry.reason) == (operator.pk, "changed shifts")
    ada.refresh_from_db()
    assert ada.status == "active"


def test_delete_a_member_of_another_cohort_answers_404(operator_api, cohort, make_cohort, enroll):
    autumn = make_cohort("Autumn")
    member = cohort_member_add(cohort=autumn, enrollment=enroll())
    response = operator_api.delete(f"{members_url(cohort)}/{member.pk}")
    assert _problem(response, 404)["detail"] == f"No member with the id {member.pk} in this cohort."
    member.refresh_from_db()
    assert member.status == "active"


def test_move_a_member(operator_api, operator, cohort, make_cohort, enroll, frozen):
    autumn = make_cohort("Autumn")
    ada = enroll()
    member = cohort_member_add(cohort=cohort, enrollment=ada)

    response = operator_api.post(
        f"{member_url(member)}/move", {"cohort_id": str(autumn.pk), "reason": "evening group"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    moved = CohortMember.objects.get(cohort=autumn)
    assert (body["id"], body["cohort_id"], body["enrollment_id"], body["status"], body["reason"]) == (
        str(moved.pk),
        str(autumn.pk),
        str(ada.pk),
        "active",
        "evening group",
    )
    member.refresh_from_db()
    assert (member.status, member.reason) == ("dropped", "moved to the cohort 'Autumn': evening group")
    assert AuditEntry.objects.get(target_id=str(member.pk), action="cohort_member.moved").actor_id == operator.pk


def test_move_errors(operator_api, cohort, make_cohort, enroll, make_program, mentorship_template):
    small = make_cohort("Small", capacity=1)
    cohort_member_add(cohort=small, enrollment=enroll())
    foreign = make_cohort("Foreign", in_program=make_program(mentorship_template, name="Other"))
    member = cohort_member_add(cohort=cohort, enrollment=enroll())
    url = f"{member_url(member)}/move"

    response = operator_api.post(url, {"cohort_id": str(small.pk)}, format="json")
    assert _problem(response, 409)["detail"] == "The cohort 'Small' is full: 1 of 1 places are taken."
    response = operator_api.post(url, {"cohort_id": str(foreign.pk)}, format="json")
    assert _problem(response, 400)["errors"] == {"cohort_id": f"No cohort with the id {foreign.pk} in this program."}
    response = operator_api.post(url, {}, format="json")
    assert _problem(response, 400)["errors"] == {"cohort_id": "This field is required."}
    member.refresh_from_db()
    assert member.status == "active"


def test_the_schema_documents_the_cohort_operations(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    base = "/api/v1/admin/programs/{program_id}/cohorts"
    documented = {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()}
    assert documented[base] == {"get", "post"}
    assert documented[base + "/{cohort_id}"] == {"get", "patch"}
    assert documented[base + "/{cohort_id}/members"] == {"get", "post"}
    assert documented[base + "/{cohort_id}/members/{member_id}"] == {"get", "delete"}
    assert documented[base + "/{cohort_id}/members/{member_id}/move"] == {"post"}
    create = schema["paths"][base]["post"]
    assert (create["operationId"], "Idempotency-Key" in [p["name"] for p in create["parameters"]]) == (
        "admin_cohorts_create",
        True,
    )
    assert set(schema["components"]["schemas"]["CohortOutput"]["properties"]) == COHORT_FIELDS
    assert set(schema["components"]["schemas"]["CohortMemberOutput"]["properties"]) == MEMBER_FIELDS

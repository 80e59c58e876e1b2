"""The operators' matches API: propose -> approve -> end over HTTP, all-or-nothing approval and
rejection with errors per id, manual matches with their reason audited, the list with filters in a
constant number of queries, proposal batches, milestones, and problems for every bad input."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from enrollments.models import Enrollment
from mentorship.models import Match, Milestone, ProposalBatch
from mentorship.services import match_create_manual, matches_approve, matches_propose, profile_upsert

pytestmark = pytest.mark.django_db

MATCH_FIELDS = {
    "id",
    "program_id",
    "mentor_id",
    "mentor_name",
    "mentee_id",
    "mentee_name",
    "status",
    "source",
    "batch_id",
    "score",
    "explanation",
    "reason",
    "end_reason",
    "mentor_accepted_at",
    "mentee_accepted_at",
    "decided_by",
    "started_at",
    "ended_at",
    "created_at",
    "updated_at",
}
BATCH_FIELDS = {
    "id",
    "program_id",
    "created_by",
    "settings",
    "total_score",
    "greedy_score",
    "solve_ms",
    "proposals",
    "unmatched",
    "created_at",
}


def matches_url(program) -> str:
    return f"/api/v1/admin/programs/{program.pk}/mentorship/matches"


def match_url(program, match_id) -> str:
    return f"{matches_url(program)}/{match_id}"


def batch_url(program, batch_id) -> str:
    return f"/api/v1/admin/programs/{program.pk}/mentorship/batches/{batch_id}"


def milestones_url(program) -> str:
    return f"/api/v1/admin/programs/{program.pk}/mentorship/milestones"


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
def person(make_user, program):
    """A user with a full name and a profile on one side of `program`."""

    def _make(email: str, name: str, kind: str, *, in_program=None, **data):
        user = make_user(email=email, full_name=name)
        data.setdefault("languages", ["uk"])
        profile_upsert(program=in_program or program, user=user, kind=kind, data=data)
        return user

    return _make


@pytest.fixture
def pool(person):
    """Maria mentors two (python, en/uk); Anna and Carl want python in Ukrainian; Bo speaks German only."""
    return {
        "maria": person(
            "maria@example.org", "Maria Mentor", "mentor", capacity=2, skills=["python"], languages=["en", "uk"]
        ),
        "anna": person("anna@example.org", "Anna Mentee", "mentee", skills=["python"]),
        "bo": person("bo@example.org", "Bo Brown", "mentee", skills=["sql"], languages=["de"]),
        "carl": person("carl@example.org", "Carl Mentee", "mentee", skills=["python"]),
    }


def _propose(api, program) -> dict:
    response = api.post(matches_url(program), {"mode": "propose"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _proposal_of(body: dict, mentee) -> str:
    return next(p["id"] for p in body["proposals"] if p["mentee_id"] == str(mentee.pk))


# --- Propose -> approve -> end ------------------------------------------------------------------


def test_propose_approve_and_end_over_http(operator_api, operator, program, pool):
    maria, anna, bo, carl = pool["maria"], pool["anna"], pool["bo"], pool["carl"]

    proposed = _propose(operator_api, program)

    batch = ProposalBatch.objects.get()
    assert set(proposed) == BATCH_FIELDS | {"batch_id"}
    assert (proposed["batch_id"], proposed["id"], proposed["program_id"], proposed["created_by"]) == (
        str(batch.pk),
        str(batch.pk),
        str(program.pk),
        str(operator.pk),
    )
    assert (proposed["total_score"], proposed["greedy_score"]) == (2.0, 2.0)
    assert {k: proposed["settings"][k] for k in ("mentees", "mentors", "eligible_pairs", "min_score")} == {
        "mentees": 3,
        "mentors": 1,
        "eligible_pairs": 2,
        "min_score": 0.3,
    }
    proposals = sorted(proposed["proposals"], key=lambda p: p["mentee_name"])
    assert [
        {k: p[k] for k in ("mentor_id", "mentor_name", "mentee_id", "mentee_name", "status", "score")}
        for p in proposals
    ] == [
        {
            "mentor_id": str(maria.pk),
            "mentor_name": "Maria Mentor",
            "mentee_id": str(mentee.pk),
            "mentee_name": name,
            "status": "proposed",
            "score": 1.0,
        }
        for mentee, name in ((anna, "Anna Mentee"), (carl, "Carl Mentee"))
    ]
    assert {p["id"] for p in proposals} == {str(pk) for pk in Match.objects.values_list("pk", flat=True)}
    explanation = proposals[0]["explanation"]
    assert explanation["score"] == 1.0
    assert explanation["criteria"]["skills"] == {
        "weight": 0.3,
        "score": 1.0,
        "counted": True,
        "detail": "1 of 1 wanted: python.",
    }
    assert explanation["criteria"]["language"]["detail"] == "Shared: uk."
    assert proposed["unmatched"] == [
        {
            "mentee_id": str(bo.pk),
            "mentee_name": "Bo Brown",
            "code": "no_language",
            "reason": "No mentor with a free place shares a language with them.",
            "best_mentor_id": None,
            "best_score": None,
        }
    ]

    ids = [p["id"] for p in proposals]
    approved = operator_api.post(
        matches_url(program), {"mode": "approve", "proposal_ids": ids, "reason": "Looks right."}, format="json"
    )

    assert approved.status_code == 200, approved.content
    rows = approved.json()["matches"]
    assert [row["id"] for row in rows] == ids
    assert all(set(row) == MATCH_FIELDS for row in rows)
    assert [(r["status"], r["source"], r["decided_by"], r["batch_id"]) for r in rows] == [
        ("active", "proposal", str(operator.pk), str(batch.pk))
    ] * 2
    assert all(row["started_at"] is not None for row in rows)
    audited = AuditEntry.objects.filter(action="match.approved").order_by("target_id")
    assert sorted((e.target_id, e.reason, e.actor_id) for e in audited) == sorted(
        (pk, "Looks right.", operator.pk) for pk in ids
    )

    listed = operator_api.get(matches_url(program)).json()
    assert (listed["count"], {r["status"] for r in listed["results"]}) == (2, {"active"})
    detail = operator_api.get(batch_url(program, batch.pk)).json()
    assert [p["status"] for p in detail["proposals"]] == ["active", "active"]

    ended = operator_api.patch(
        match_url(program, ids[0]), {"status": "ended", "end_reason": "completed", "note": "Goals met."}, format="json"
    )

    assert ended.status_code == 200, ended.content
    body = ended.json()
    assert (body["status"], body["end_reason"], body["reason"]) == ("ended", "completed", "Goals met.")
    assert body["ended_at"] is not None
    assert Enrollment.objects.get(user=anna, program=program).status == "completed"
    assert Enrollment.objects.get(user=carl, program=program).status == "active"
    assert Enrollment.objects.get(user=maria, program=program).status == "active"  # Carl's match goes on
    entry = AuditEntry.objects.get(action="match.ended")
    assert (entry.target_id, entry.reason, entry.actor_id) == (ids[0], "Goals met.", operator.pk)


def test_an_integrator_may_propose_and_approve(integrator_api, program, pool):
    proposed = _propose(integrator_api, program)
    first = _proposal_of(proposed, pool["anna"])
    response = integrator_api.post(matches_url(program), {"mode": "approve", "proposal_ids": [first]}, format="json")
    assert response.status_code == 200, response.content
    assert [(r["id"], r["status"]) for r in response.json()["matches"]] == [(first, "active")]


def test_propose_is_idempotent_with_a_key(operator_api, program, pool):
    first = operator_api.post(matches_url(program), {"mode": "propose"}, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    again = operator_api.post(matches_url(program), {"mode": "propose"}, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ProposalBatch.objects.count() == 1


def test_a_new_run_withdraws_open_proposals(operator_api, program, pool):
    first = _propose(operator_api, program)
    second = _propose(operator_api, program)
    assert second["batch_id"] != first["batch_id"]
    statuses = operator_api.get(matches_url(program), {"batch_id": first["batch_id"]}).json()["results"]
    assert [row["status"] for row in statuses] == ["withdrawn", "withdrawn"]


# --- Approval and rejection: all or nothing ------------------------------------------------------


def test_approval_is_all_or_nothing_with_an_error_per_id(operator_api, program, pool):
    proposed = _propose(operator_api, program)
    anna_id, carl_id = _proposal_of(proposed, pool["anna"]), _proposal_of(proposed, pool["carl"])
    ok = operator_api.post(matches_url(program), {"mode": "approve", "proposal_ids": [anna_id]}, format="json")
    assert ok.status_code == 200, ok.content

    body = _problem(
        operator_api.post(matches_url(program), {"mode": "approve", "proposal_ids": [anna_id, carl_id]}, format="json"),
        409,
    )

    assert body["detail"] == "1 of the 2 proposals cannot be approved; nothing was approved."
    assert body["errors"] == {f"proposal_ids/{anna_id}": "It is active, not proposed."}
    assert Match.objects.get(pk=carl_id).status == "proposed"


def test_approval_of_a_full_mentor_answers_409(operator_api, program, person):
    mentor = person("m@example.org", "Mo Mentor", "mentor", capacity=1, skills=["python"])
    first = person("f@example.org", "First Mentee", "mentee", skills=["python"])
    proposed = _propose(operator_api, program)
    proposal = _proposal_of(proposed, first)
    other = person("o@example.org", "Other Mentee", "mentee")
    match_create_manual(program=program, mentor=mentor, mentee=other, reason="Urgent.", actor=None)

    body = _problem(
        operator_api.post(matches_url(program), {"mode": "approve", "proposal_ids": [proposal]}, format="json"), 409
    )
    assert body["errors"] == {f"proposal_ids/{proposal}": "m@example.org has no free place (capacity 1)."}


def test_ids_not_in_the_program_answer_404(operator_api, program, pool, make_program, mentorship_template, person):
    other = make_program(mentorship_template, name="Mentorship autumn")
    person("x@example.org", "X Mentor", "mentor", in_program=other, capacity=1)
    person("y@example.org", "Y Mentee", "mentee", in_program=other)
    foreign = str(matches_propose(program=other).matches.get().pk)
    unknown = str(uuid.uuid4())
    for mode, extra in (("approve", {}), ("reject", {"reason": "No."})):
        for ids, named in (([unknown], unknown), ([foreign], foreign)):
            body = _problem(
                operator_api.post(matches_url(program), {"mode": mode, "proposal_ids": ids, **extra}, format="json"),
                404,
            )
            assert body["detail"] == f"No proposal in this program with the id {named}."
    assert Match.objects.get(pk=foreign).status == "proposed"


def test_bad_proposal_ids_answer_400(operator_api, program):
    url = matches_url(program)
    cases = [
        ({"mode": "approve"}, {"proposal_ids": "This field is required."}),
        ({"mode": "approve", "proposal_ids": []}, {"proposal_ids": "This list may not be empty."}),
        ({"mode": "approve", "proposal_ids": ["nope"]}, {"proposal_ids/0": "Must be a valid UUID."}),
        ({"mode": "approve", "proposal_ids": "abc"}, {"proposal_ids": 'Expected a list of items but got type "str".'}),
        ({"mode": "approve", "proposal_ids": [str(uuid.uuid4())], "reason": ["x"]}, {"reason": "Not a valid string."}),
        (
            {"mode": "reject", "proposal_ids": [str(uuid.uuid4())]},
            {"reason": "This field is required."},
        ),
        (
            {"mode": "reject", "proposal_ids": [str(uuid.uuid4())], "reason": "   "},
            {"reason": "This field may not be blank."},
        ),
    ]
    for body, errors in cases:
        assert _problem(operator_api.post(url, body, format="json"), 400)["errors"] == errors, body


def test_reject_rejects_each_with_the_reason_and_they_are_not_proposed_again(operator_api, operator, program, pool):
    proposed = _propose(operator_api, program)
    ids = sorted(p["id"] for p in proposed["proposals"])

    response = operator_api.post(
        matches_url(program),
        {"mode": "reject", "proposal_ids": ids, "reason": "Both need a Python lead."},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert [(r["id"], r["status"], r["reason"], r["decided_by"]) for r in response.json()["matches"]] == [
        (pk, "rejected", "Both need a Python lead.", str(operator.pk)) for pk in ids
    ]
    entries = AuditEntry.objects.filter(action="match.rejected")
    assert sorted((e.target_id, e.reason) for e in entries) == [(pk, "Both need a Python lead.") for pk in ids]
    again = _propose(operator_api, program)
    assert again["proposals"] == []
    assert sorted(u["code"] for u in again["unmatched"]) == ["no_exclusions", "no_exclusions", "no_language"]


def test_reject_is_all_or_nothing(operator_api, program, pool):
    proposed = _propose(operator_api, program)
    anna_id, carl_id = _proposal_of(proposed, pool["anna"]), _proposal_of(proposed, pool["carl"])
    matches_approve(program=program, proposal_ids=[anna_id])

    body = _problem(
        operator_api.post(
            matches_url(program), {"mode": "reject", "proposal_ids": [carl_id, anna_id], "reason": "No."}, format="json"
        ),
        409,
    )

    assert body["detail"] == "1 of the 2 proposals cannot be rejected; nothing was rejected."
    assert body["errors"] == {f"proposal_ids/{anna_id}": "It is active, not proposed."}
    assert Match.objects.get(pk=carl_id).status == "proposed"
    assert not AuditEntry.objects.filter(action="match.rejected").exists()


# --- Manual matches -----------------------------------------------------------------------------


def test_manual_match_is_active_at_once_and_its_reason_audited(operator_api, operator, program, pool):
    maria, bo = pool["maria"], pool["bo"]
    reason = "Bo's family speaks English with Maria; the language rule does not apply."

    response = operator_api.post(
        matches_url(program), {"mentor_id": str(maria.pk), "mentee_id": str(bo.pk), "reason": reason}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    match = Match.objects.get()
    assert {k: body[k] for k in ("id", "mentor_id", "mentee_id", "status", "source", "reason", "decided_by")} == {
        "id": str(match.pk),
        "mentor_id": str(maria.pk),
        "mentee_id": str(bo.pk),
        "status": "active",
        "source": "manual",
        "reason": reason,
        "decided_by": str(operator.pk),
    }
    assert (body["mentor_name"], body["mentee_name"], body["batch_id"]) == ("Maria Mentor", "Bo Brown", None)
    assert (body["explanation"]["manual"], body["explanation"]["overridden"]) == (True, ["language"])
    entry = AuditEntry.objects.get(action="match.created_manually")
    assert (entry.target_id, entry.actor_id, entry.reason) == (str(match.pk), operator.pk, reason)
    assert entry.changes["overridden"] == ["language"]
    assert Enrollment.objects.get(user=bo, program=program).status == "active"


def test_manual_match_with_mode_manual_and_a_replaced_proposal(operator_api, program, pool, person):
    other_mentor = person("n@example.org", "Nina Mentor", "mentor", capacity=1, skills=["python"])
    proposed = _propose(operator_api, program)
    anna = pool["anna"]
    replaced = next(p for p in proposed["proposals"] if p["mentee_id"] == str(anna.pk))

    response = operator_api.post(
        matches_url(program),
        {
            "mode": "manual",
            "mentor_id": str(other_mentor.pk),
            "mentee_id": str(anna.pk),
            "reason": "Nina asked for Anna.",
            "proposal_id": replaced["id"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert (response.json()["mentor_name"], response.json()["status"]) == ("Nina Mentor", "active")
    assert Match.objects.get(pk=replaced["id"]).status == "withdrawn"


def test_manual_match_problems(operator_api, program, pool, person):
    maria, anna, bo = pool["maria"], pool["anna"], pool["bo"]
    url = matches_url(program)
    unknown = uuid.uuid4()

    def errors(body) -> dict:
        return _problem(operator_api.post(url, body, format="json"), 400)["errors"]

    assert errors({}) == {
        "mentor_id": "This field is required.",
        "mentee_id": "This field is required.",
        "reason": "This field is required.",
    }
    assert errors({"mentor_id": 5.5, "mentee_id": "x", "reason": ""}) == {
        "mentor_id": "Must be a valid UUID.",
        "mentee_id": "Must be a valid UUID.",
        "reason": "This field may not be blank.",
    }
    base = {"mentor_id": str(maria.pk), "mentee_id": str(bo.pk), "reason": "Asked for."}
    assert errors({**base, "mentor_id": str(unknown)}) == {"mentor_id": f"No user with the id {unknown}."}
    assert errors({**base, "mentor_id": str(anna.pk)}) == {
        "mentor_id": "anna@example.org has no mentor profile in this program."
    }
    assert errors({**base, "mentee_id": str(maria.pk)}) == {"mentee_id": "A person cannot be their own mentor."}
    assert errors({**base, "proposal_id": str(unknown)}) == {
        "proposal_id": f"No proposal with the id {unknown} in this program."
    }
    assert Match.objects.count() == 0


def test_manual_match_for_a_full_mentor_answers_409(operator_api, program, person):
    mentor = person("m@example.org", "Mo Mentor", "mentor", capacity=1)
    first = person("f@example.org", "First Mentee", "mentee")
    second = person("s@example.org", "Second Mentee", "mentee")
    match_create_manual(program=program, mentor=mentor, mentee=first, reason="First.", actor=None)

    body = _problem(
        operator_api.post(
            matches_url(program),
            {"mentor_id": str(mentor.pk), "mentee_id": str(second.pk), "reason": "Second."},
            format="json",
        ),
        409,
    )
    assert body["detail"] == "m@example.org has no free place (capacity 1, 1 active)."
    assert Match.objects.count() == 1


# --- Commands that cannot run -------------------------------------------------------------------


def test_bad_modes_and_bodies_answer_400(operator_api, program):
    url = matches_url(program)
    assert _problem(operator_api.post(url, {"mode": "merge"}, format="json"), 400)["errors"] == {
        "mode": '"merge" is not a valid choice.'
    }
    assert _problem(operator_api.post(url, ["propose"], format="json"), 400)["errors"] == {
        "non_field_errors": "Invalid data. Expected a dictionary, but got list."
    }
    malformed = _problem(operator_api.post(url, data='{"mode": ', content_type="application/json"), 400)
    assert malformed["type"] == "/problems/malformed-request"


def test_unknown_or_malformed_program_ids_answer_404(operator_api):
    missing = uuid.uuid4()
    for method, body in (("get", None), ("post", {"mode": "propose"})):
        response = getattr(operator_api, method)(
            f"/api/v1/admin/programs/{missing}/mentorship/matches", body, format="json"
        )
        assert _problem(response, 404)["detail"] == f"No program with the id {missing}."
    malformed = operator_api.get("/api/v1/admin/programs/not-a-uuid/mentorship/matches")
    assert _problem(malformed, 404)["type"] == "/problems/not-found"


def test_propose_needs_an_active_program_with_matching(
    operator_api, make_program, mentorship_template, builtin_templates
):
    paused = make_program(mentorship_template, name="Paused", status="paused")
    body = _problem(operator_api.post(matches_url(paused), {"mode": "propose"}, format="json"), 409)
    assert body["detail"] == "'Paused' is paused; matches are made in active programs only."
    courses = make_program(builtin_templates["upskilling-courses"], name="Courses")
    body = _problem(operator_api.post(matches_url(courses), {"mode": "propose"}, format="json"), 400)
    assert body["errors"] == {"program_id": "This program's template does not support matching."}


# --- List, read and end -------------------------------------------------------------------------


def test_list_filters(operator_api, program, pool, person):
    proposed = _propose(operator_api, program)
    anna_id = _proposal_of(proposed, pool["anna"])
    carl_id = _proposal_of(proposed, pool["carl"])
    matches_approve(program=program, proposal_ids=[anna_id])
    nina = person("n@example.org", "Nina Mentor", "mentor", capacity=1, languages=["de"])
    manual = match_create_manual(program=program, mentor=nina, mentee=pool["bo"], reason="German.", actor=None)

    def ids(**params) -> list[str]:
        response = operator_api.get(matches_url(program), params)
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["results"])

    assert ids() == sorted([anna_id, carl_id, str(manual.pk)])
    assert ids(status="proposed") == [carl_id]
    assert ids(status="active") == sorted([anna_id, str(manual.pk)])
    assert ids(source="manual") == [str(manual.pk)]
    assert ids(mentor_id=str(pool["maria"].pk)) == sorted([anna_id, carl_id])
    assert ids(mentee_id=str(pool["bo"].pk)) == [str(manual.pk)]
    assert ids(batch_id=proposed["batch_id"]) == sorted([anna_id, carl_id])
    assert ids(batch_id=proposed["batch_id"], status="active") == [anna_id]
    newest = operator_api.get(matches_url(program)).json()["results"][0]
    assert newest["id"] == str(manual.pk)
    body = _problem(operator_api.get(matches_url(program), {"status": "done", "mentor_id": "x"}), 400)
    assert body["errors"] == {
        "status": "Select a valid choice. done is not one of the available choices.",
        "mentor_id": "Enter a valid UUID.",
    }


def test_list_costs_the_same_queries_whatever_its_length(operator_api, program, person):
    mentors = [person(f"m{i}@example.org", f"Mentor {i}", "mentor", capacity=2) for i in range(3)]
    mentees = [person(f"e{i}@example.org", f"Mentee {i}", "mentee") for i in range(6)]
    match_create_manual(program=program, mentor=mentors[0], mentee=mentees[0], reason="One.", actor=None)
    few = _queries(operator_api, matches_url(program))
    for i in range(1, 6):
        match_create_manual(program=program, mentor=mentors[i // 2], mentee=mentees[i], reason="More.", actor=None)
    matches_propose(program=program)  # adds nothing: everyone is matched
    assert _queries(operator_api, matches_url(program)) == few
    assert operator_api.get(matches_url(program)).json()["count"] == 6


def test_read_one_match_and_404_for_another_programs(
    operator_api, program, pool, make_program, mentorship_template, person
):
    proposed = _propose(operator_api, program)
    anna_id = _proposal_of(proposed, pool["anna"])
    response = operator_api.get(match_url(program, anna_id))
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["mentee_name"], response.json()["status"]) == (
        anna_id,
        "Anna Mentee",
        "proposed",
    )
    other = make_program(mentorship_template, name="Mentorship autumn")
    body = _problem(operator_api.get(match_url(other, anna_id)), 404)
    assert body["detail"] == f"No match with the id {anna_id} in this program."
    assert _problem(operator_api.get(f"{matches_url(program)}/12345"), 404)["type"] == "/problems/not-found"


def test_ending_rules(operator_api, program, pool):
    proposed = _propose(operator_api, program)
    anna_id, carl_id = _proposal_of(proposed, pool["anna"]), _proposal_of(proposed, pool["carl"])
    matches_approve(program=program, proposal_ids=[anna_id])
    url = match_url(program, anna_id)

    def errors(body) -> dict:
        return _problem(operator_api.patch(url, body, format="json"), 400)["errors"]

    assert errors({}) == {"status": "This field is required.", "end_reason": "This field is required."}
    assert errors({"status": "active", "end_reason": "bored"}) == {
        "status": '"active" is not a valid choice.',
        "end_reason": '"bored" is not a valid choice.',
    }
    assert errors({"status": "ended", "end_reason": "completed", "ended_at": "2026-01-01T10:00:00"}) == {
        "ended_at": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."
    }
    assert errors({"status": "ended", "end_reason": "completed", "ended_at": "2999-01-01T10:00:00+00:00"}) == {
        "ended_at": "A match ends between its start and now."
    }
    assert errors({"status": "ended", "end_reason": "completed", "note": ["x"]}) == {"note": "Not a valid string."}
    assert Match.objects.get(pk=anna_id).status == "active"

    proposal = _problem(
        operator_api.patch(match_url(program, carl_id), {"status": "ended", "end_reason": "other"}, format="json"), 409
    )
    assert proposal["detail"] == "Only an active match can end; this one is proposed."

    ended = operator_api.patch(url, {"status": "ended", "end_reason": "mentee_left"}, format="json")
    assert ended.status_code == 200, ended.content
    assert (ended.json()["status"], ended.json()["end_reason"]) == ("ended", "mentee_left")
    assert Enrollment.objects.get(user=pool["anna"], program=program).status == "dropped"
    twice = _problem(operator_api.patch(url, {"status": "ended", "end_reason": "completed"}, format="json"), 409)
    assert twice["detail"] == "Only an active match can end; this one is ended."


# --- Batches ------------------------------------------------------------------------------------


def test_batch_detail_and_list(operator_api, operator, program, pool, make_program, mentorship_template):
    first = _propose(operator_api, program)
    second = _propose(operator_api, program)

    detail = operator_api.get(batch_url(program, first["batch_id"]))

    assert detail.status_code == 200, detail.content
    body = detail.json()
    assert set(body) == BATCH_FIELDS
    assert (body["id"], body["total_score"], body["greedy_score"], body["created_by"]) == (
        first["batch_id"],
        2.0,
        2.0,
        str(operator.pk),
    )
    assert body["settings"] == first["settings"]
    assert [p["status"] for p in body["proposals"]] == ["withdrawn", "withdrawn"]
    assert [(u["mentee_name"], u["code"]) for u in body["unmatched"]] == [("Bo Brown", "no_language")]

    listed = operator_api.get(f"/api/v1/admin/programs/{program.pk}/mentorship/batches").json()
    assert [(b["id"], b["proposal_count"], b["unmatched_count"]) for b in listed["results"]] == [
        (second["batch_id"], 2, 1),
        (first["batch_id"], 2, 1),
    ]

    other = make_program(mentorship_template, name="Mentorship autumn")
    missing = _problem(operator_api.get(batch_url(other, first["batch_id"])), 404)
    assert missing["detail"] == f"No proposal batch with the id {first['batch_id']} in this program."


# --- Milestones ---------------------------------------------------------------------------------


def test_milestones_record_once_and_list(operator_api, operator, program, pool):
    anna = pool["anna"]
    body = {"user_id": str(anna.pk), "key": "first-session", "title": "First session held"}
    created = operator_api.post(
        milestones_url(program), {**body, "reached_at": "2026-03-02T18:00:00+02:00"}, format="json"
    )
    assert created.status_code == 201, created.content
    milestone = Milestone.objects.get()
    assert created.json() == {
        "id": str(milestone.pk),
        "user_id": str(anna.pk),
        "user_name": "Anna Mentee",
        "program_id": str(program.pk),
        "key": "first-session",
        "title": "First session held",
        "reached_at": "2026-03-02T16:00:00Z",
        "source": "platform",
        "created_at": created.json()["created_at"],
    }
    assert AuditEntry.objects.get(action="milestone.reached").actor_id == operator.pk

    again = operator_api.post(milestones_url(program), body, format="json")
    assert again.status_code == 200, again.content
    assert (again.json()["id"], again.json()["reached_at"]) == (str(milestone.pk), "2026-03-02T16:00:00Z")

    operator_api.post(milestones_url(program), {"user_id": str(pool["carl"].pk), "key": "goal-set"}, format="json")
    listed = operator_api.get(milestones_url(program)).json()
    assert [(row["user_name"], row["key"]) for row in listed["results"]] == [
        ("Carl Mentee", "goal-set"),
        ("Anna Mentee", "first-session"),
    ]
    only = operator_api.get(milestones_url(program), {"user_id": str(anna.pk)}).json()
    assert [row["key"] for row in only["results"]] == ["first-session"]


def test_milestone_problems(operator_api, program, pool):
    url = milestones_url(program)
    unknown = uuid.uuid4()

    def errors(body) -> dict:
        return _problem(operator_api.post(url, body, format="json"), 400)["errors"]

    assert errors({}) == {"user_id": "This field is required.", "key": "This field is required."}
    assert errors({"user_id": str(unknown), "key": "x"}) == {"user_id": f"No user with the id {unknown}."}
    anna = str(pool["anna"].pk)
    assert errors({"user_id": anna, "key": "not a key!"}) == {
        "key": "A short key of letters, digits, '-' and '_' (at most 80)."
    }
    assert errors({"user_id": anna, "key": "x", "reached_at": "2999-01-01T00:00:00Z"}) == {
        "reached_at": "It cannot be in the future."
    }
    assert errors({"user_id": anna, "key": "x", "reached_at": "yesterday"}) == {
        "reached_at": "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
    }
    assert Milestone.objects.count() == 0


def test_milestones_list_costs_the_same_queries(operator_api, program, make_user):
    from mentorship.services import milestone_reach

    milestone_reach(user=make_user(), program=program, key="start")
    few = _queries(operator_api, milestones_url(program))
    for index in range(5):
        milestone_reach(user=make_user(), program=program, key=f"step-{index}")
    assert _queries(operator_api, milestones_url(program)) == few


# --- Who may call -------------------------------------------------------------------------------


def test_participants_get_403_on_every_admin_endpoint(client_for, make_user, program, pool):
    participant = client_for(pool["anna"])
    match = match_create_manual(program=program, mentor=pool["maria"], mentee=pool["anna"], reason="Yes.", actor=None)
    batch = matches_propose(program=program)
    calls = [
        ("get", matches_url(program), None),
        ("post", matches_url(program), {"mode": "propose"}),
        ("get", match_url(program, match.pk), None),
        ("patch", match_url(program, match.pk), {"status": "ended", "end_reason": "completed"}),
        ("get", batch_url(program, batch.pk), None),
        ("get", f"/api/v1/admin/programs/{program.pk}/mentorship/batches", None),
        ("get", milestones_url(program), None),
        ("post", milestones_url(program), {"user_id": str(pool["anna"].pk), "key": "x"}),
    ]
    for method, url, body in calls:
        response = getattr(participant, method)(url, body, format="json")
        assert _problem(response, 403)["type"] == "/problems/permission-denied", (method, url)
    assert Match.objects.get(pk=match.pk).status == "active"
    assert ProposalBatch.objects.count() == 1

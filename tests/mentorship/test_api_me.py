"""The matched people's API: my matches (partner, program, status, score, explanation only while a
proposal or active), the pair's check-ins, feedback, answers to proposals in self-accept programs
and my milestones; another person's match answers 404, bad input a problem per field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.models import AuditEntry
from enrollments.models import Enrollment, JourneyFlags
from mentorship.models import CheckIn, Feedback, Match
from mentorship.services import (
    checkin_log,
    match_create_manual,
    match_end,
    matches_approve,
    matches_propose,
    milestone_reach,
    profile_upsert,
)

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/matches"
MY_MATCH_FIELDS = {
    "id",
    "program_id",
    "program_name",
    "side",
    "partner_id",
    "partner_name",
    "status",
    "source",
    "score",
    "explanation",
    "can_respond",
    "my_accepted_at",
    "started_at",
    "ended_at",
    "end_reason",
    "created_at",
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
def person(make_user, program):
    def _make(email: str, name: str, kind: str, *, in_program=None, **data):
        user = make_user(email=email, full_name=name)
        data.setdefault("languages", ["uk"])
        profile_upsert(program=in_program or program, user=user, kind=kind, data=data)
        return user

    return _make


@pytest.fixture
def maria(person):
    return person("maria@example.org", "Maria Mentor", "mentor", capacity=2, skills=["python"], languages=["en", "uk"])


@pytest.fixture
def anna(person):
    return person("anna@example.org", "Anna Mentee", "mentee", skills=["python"])


@pytest.fixture
def active(program, maria, anna, operator) -> Match:
    """Maria and Anna's active match, made by hand by the operator."""
    return match_create_manual(
        program=program, mentor=maria, mentee=anna, reason="Anna asked for a Python mentor.", actor=operator
    )


@pytest.fixture
def self_accept_program(make_program, mentorship_template):
    def _make(who: str):
        return make_program(
            mentorship_template,
            name=f"Self-accept {who}",
            config_overrides={"matching": {"enabled": True, "self_accept": who}},
        )

    return _make


def _pair_in(program, person, who: str = "") -> tuple:
    mentor = person(f"mentor-{who}@example.org", "Mo Mentor", "mentor", in_program=program, capacity=1)
    mentee = person(f"mentee-{who}@example.org", "Mia Mentee", "mentee", in_program=program)
    proposal = matches_propose(program=program).matches.get()
    return mentor, mentee, proposal


# --- My matches ---------------------------------------------------------------------------------


def test_my_matches_show_partner_program_and_explanation_while_live(client_for, program, maria, anna, person, operator):
    carl = person("carl@example.org", "Carl Mentee", "mentee", skills=["python"])
    dora = person("dora@example.org", "Dora Mentee", "mentee", languages=["de"])
    ended = match_create_manual(program=program, mentor=maria, mentee=dora, reason="German.", actor=operator)
    match_end(match=ended, end_reason="completed", actor=operator)
    batch = matches_propose(program=program)
    anna_match = batch.matches.get(mentee=anna)
    carl_match = batch.matches.get(mentee=carl)
    matches_approve(program=program, proposal_ids=[anna_match.pk], actor=operator)

    response = client_for(anna).get(ME)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert set(row) == MY_MATCH_FIELDS
    anna_match.refresh_from_db()
    assert {k: row[k] for k in MY_MATCH_FIELDS - {"explanation", "started_at", "created_at"}} == {
        "id": str(anna_match.pk),
        "program_id": str(program.pk),
        "program_name": "Mentorship 2026",
        "side": "mentee",
        "partner_id": str(maria.pk),
        "partner_name": "Maria Mentor",
        "status": "active",
        "source": "proposal",
        "score": 1.0,
        "can_respond": False,
        "my_accepted_at": None,
        "ended_at": None,
        "end_reason": "",
    }
    assert row["started_at"] is not None
    assert row["explanation"]["criteria"]["skills"]["detail"] == "1 of 1 wanted: python."

    mine = {r["partner_name"]: r for r in client_for(maria).get(ME).json()["results"]}
    assert {name: (r["side"], r["status"]) for name, r in mine.items()} == {
        "Anna Mentee": ("mentor", "active"),
        "Carl Mentee": ("mentor", "proposed"),
        "Dora Mentee": ("mentor", "ended"),
    }
    assert mine["Carl Mentee"]["id"] == str(carl_match.pk)
    assert mine["Carl Mentee"]["explanation"]["score"] == 1.0
    assert mine["Dora Mentee"]["explanation"] is None  # ended: no explanation
    assert mine["Dora Mentee"]["end_reason"] == "completed"
    statuses = client_for(maria).get(ME, {"status": "ended"}).json()["results"]
    assert [r["partner_name"] for r in statuses] == ["Dora Mentee"]


def test_an_operators_notes_stay_out_of_the_explanation(client_for, active):
    row = client_for(active.mentee).get(f"{ME}/{active.pk}").json()
    assert row["status"] == "active"
    assert set(row["explanation"]) == {"score", "criteria", "constraints", "rule", "manual"}
    assert "Anna asked" not in str(row["explanation"])


def test_my_matches_cost_the_same_queries_whatever_their_number(client_for, program, maria, person, operator):
    api = client_for(maria)
    first = person("m1@example.org", "One", "mentee")
    match_create_manual(program=program, mentor=maria, mentee=first, reason="One.", actor=operator)
    few = _queries(api, ME)
    second = person("m2@example.org", "Two", "mentee")
    match_create_manual(program=program, mentor=maria, mentee=second, reason="Two.", actor=operator)
    for index in range(3):
        mentee = person(f"x{index}@example.org", f"X{index}", "mentee")
        ended = match_create_manual(
            program=program,
            mentor=person(f"y{index}@example.org", "Y", "mentor"),
            mentee=mentee,
            reason="Y.",
            actor=operator,
        )
        match_end(match=ended, end_reason="completed", actor=operator)
    assert _queries(api, ME) == few
    assert api.get(ME).json()["count"] == 2


def test_another_persons_match_answers_404_everywhere(client_for, make_user, active):
    stranger = client_for(make_user(email="stranger@example.org"))
    assert stranger.get(ME).json()["count"] == 0
    calls = [
        ("get", f"{ME}/{active.pk}", None),
        ("get", f"{ME}/{active.pk}/checkins", None),
        ("post", f"{ME}/{active.pk}/checkins", {"mood": 4}),
        ("post", f"{ME}/{active.pk}/feedback", {"rating": 5}),
        ("post", f"{ME}/{active.pk}/response", {"accept": True}),
    ]
    for method, url, body in calls:
        problem = _problem(getattr(stranger, method)(url, body, format="json"), 404)
        assert problem["detail"] == f"No match with the id {active.pk} of yours.", url
    assert _problem(stranger.get(f"{ME}/not-a-uuid/checkins"), 404)["type"] == "/problems/not-found"
    assert CheckIn.objects.count() == 0


def test_me_needs_a_signed_in_person_by_token_or_session(anon_api, anna, active):
    assert _problem(anon_api.get(ME), 401)["type"] == "/problems/not-authenticated"
    assert _problem(anon_api.get("/api/v1/me/milestones"), 401)["type"] == "/problems/not-authenticated"
    browser = APIClient()
    browser.force_login(anna)
    response = browser.get(ME)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(active.pk)]


# --- Check-ins ----------------------------------------------------------------------------------


def test_log_and_list_the_pairs_checkins(client_for, active, maria, anna):
    url = f"{ME}/{active.pk}/checkins"
    logged = client_for(anna).post(
        url, {"mood": 4, "notes": "Good first call.", "at": "2026-03-02T18:00:00+02:00"}, format="json"
    )
    assert logged.status_code == 201, logged.content
    checkin = CheckIn.objects.get()
    assert logged.json() == {
        "id": str(checkin.pk),
        "match_id": str(active.pk),
        "by_id": str(anna.pk),
        "by_name": "Anna Mentee",
        "mood": 4,
        "notes": "Good first call.",
        "at": "2026-03-02T16:00:00Z",
        "source": "platform",
        "created_at": logged.json()["created_at"],
    }
    second = client_for(maria).post(url, {"mood": 5}, format="json")
    assert second.status_code == 201, second.content
    assert second.json()["notes"] == ""

    listed = client_for(anna).get(url).json()
    assert [(r["by_name"], r["mood"]) for r in listed["results"]] == [("Maria Mentor", 5), ("Anna Mentee", 4)]
    assert JourneyFlags.objects.get(user=anna).flags["checkins_completed"] == 1
    assert AuditEntry.objects.filter(action="match.checkin_logged").count() == 2


def test_checkin_is_idempotent_with_a_key(client_for, active, anna):
    api = client_for(anna)
    url = f"{ME}/{active.pk}/checkins"
    first = api.post(url, {"mood": 3}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    again = api.post(url, {"mood": 3}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert CheckIn.objects.count() == 1


def test_checkin_problems(client_for, active, anna, program, maria, person):
    api = client_for(anna)
    url = f"{ME}/{active.pk}/checkins"

    def errors(body) -> dict:
        return _problem(api.post(url, body, format="json"), 400)["errors"]

    assert errors({}) == {"mood": "This field is required."}
    assert errors({"mood": 6, "notes": ["x"]}) == {
        "mood": "Ensure this value is less than or equal to 5.",
        "notes": "Not a valid string.",
    }
    assert errors({"mood": "great"}) == {"mood": "A valid integer is required."}
    assert errors({"mood": 3, "at": "2026-03-02T18:00:00"}) == {
        "at": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."
    }
    assert errors({"mood": 3, "at": "2999-03-02T18:00:00Z"}) == {"at": "It cannot be in the future."}
    assert (
        _problem(api.post(url, "mood=3", content_type="text/plain"), 415)["type"] == "/problems/unsupported-media-type"
    )
    malformed = _problem(api.post(url, data='{"mood": 3', content_type="application/json"), 400)
    assert malformed["type"] == "/problems/malformed-request"

    carl = person("carl@example.org", "Carl Mentee", "mentee", skills=["python"])
    proposal = matches_propose(program=program).matches.get(mentee=carl)
    body = _problem(client_for(carl).post(f"{ME}/{proposal.pk}/checkins", {"mood": 3}, format="json"), 409)
    assert body["detail"] == "Check-ins are logged on active matches; this one is proposed."
    assert CheckIn.objects.count() == 0


def test_checkin_list_costs_the_same_queries(client_for, active, anna, maria):
    api = client_for(anna)
    url = f"{ME}/{active.pk}/checkins"
    checkin_log(match=active, by=anna, mood=3)
    few = _queries(api, url)
    for mood in (1, 2, 4, 5):
        checkin_log(match=active, by=maria, mood=mood)
    assert _queries(api, url) == few


# --- Feedback -----------------------------------------------------------------------------------


def test_feedback_is_created_then_updated(client_for, active, anna):
    api = client_for(anna)
    url = f"{ME}/{active.pk}/feedback"
    first = api.post(url, {"rating": 4, "comment": "Helpful."}, format="json")
    assert first.status_code == 201, first.content
    feedback = Feedback.objects.get()
    assert {k: first.json()[k] for k in ("id", "match_id", "author_id", "rating", "comment")} == {
        "id": str(feedback.pk),
        "match_id": str(active.pk),
        "author_id": str(anna.pk),
        "rating": 4,
        "comment": "Helpful.",
    }
    again = api.post(url, {"rating": 5}, format="json")
    assert again.status_code == 200, again.content
    assert (again.json()["id"], again.json()["rating"], again.json()["comment"]) == (str(feedback.pk), 5, "")
    assert Feedback.objects.count() == 1


def test_feedback_problems(client_for, active, anna, program, person):
    api = client_for(anna)
    url = f"{ME}/{active.pk}/feedback"
    assert _problem(api.post(url, {"rating": 0}, format="json"), 400)["errors"] == {
        "rating": "Ensure this value is greater than or equal to 1."
    }
    assert _problem(api.post(url, {"comment": "x" * 5001}, format="json"), 400)["errors"] == {
        "rating": "This field is required.",
        "comment": "Ensure this field has no more than 5000 characters.",
    }
    carl = person("carl@example.org", "Carl Mentee", "mentee", skills=["python"])
    proposal = matches_propose(program=program).matches.get(mentee=carl)
    body = _problem(client_for(carl).post(f"{ME}/{proposal.pk}/feedback", {"rating": 3}, format="json"), 409)
    assert body["detail"] == "Feedback is given on active or ended matches; this one is proposed."


# --- Answering proposals ------------------------------------------------------------------------


def test_a_mentee_accepts_a_proposal_in_a_self_accept_program(client_for, self_accept_program, person):
    program = self_accept_program("mentee")
    mentor, mentee, proposal = _pair_in(program, person, "one")
    api = client_for(mentee)
    before = api.get(f"{ME}/{proposal.pk}").json()
    assert (before["status"], before["can_respond"]) == ("proposed", True)
    assert client_for(mentor).get(f"{ME}/{proposal.pk}").json()["can_respond"] is False

    response = api.post(f"{ME}/{proposal.pk}/response", {"accept": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["can_respond"], body["partner_name"]) == ("active", False, "Mo Mentor")
    assert body["my_accepted_at"] is not None
    assert AuditEntry.objects.filter(action="match.accepted_by_mentee", target_id=str(proposal.pk)).count() == 1
    assert Enrollment.objects.get(user=mentee, program=program).status == "active"
    again = _problem(api.post(f"{ME}/{proposal.pk}/response", {"accept": True}, format="json"), 409)
    assert again["detail"] == "This proposal is active; it can no longer be answered."


def test_the_other_side_or_an_operator_only_program_answers_403(
    client_for, self_accept_program, person, program, maria, anna
):
    mentee_program = self_accept_program("mentee")
    mentor, _, proposal = _pair_in(mentee_program, person, "two")
    body = _problem(client_for(mentor).post(f"{ME}/{proposal.pk}/response", {"accept": True}, format="json"), 403)
    assert body["detail"] == "In this program an operator approves proposals."

    default = matches_propose(program=program).matches.get(mentee=anna)
    assert client_for(anna).get(f"{ME}/{default.pk}").json()["can_respond"] is False
    denied = client_for(anna).post(f"{ME}/{default.pk}/response", {"accept": True}, format="json")
    assert _problem(denied, 403)["type"] == "/problems/permission-denied"
    assert Match.objects.get(pk=default.pk).status == "proposed"


def test_both_must_accept_when_the_program_says_both(client_for, self_accept_program, person):
    program = self_accept_program("both")
    mentor, mentee, proposal = _pair_in(program, person, "three")
    first = client_for(mentor).post(f"{ME}/{proposal.pk}/response", {"accept": True}, format="json")
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["can_respond"]) == ("proposed", False)
    assert client_for(mentee).get(f"{ME}/{proposal.pk}").json()["can_respond"] is True
    second = client_for(mentee).post(f"{ME}/{proposal.pk}/response", {"accept": True}, format="json")
    assert second.json()["status"] == "active"


def test_declining_rejects_with_the_reason(client_for, self_accept_program, person):
    program = self_accept_program("mentee")
    _, mentee, proposal = _pair_in(program, person, "four")
    api = client_for(mentee)
    assert _problem(api.post(f"{ME}/{proposal.pk}/response", {}, format="json"), 400)["errors"] == {
        "accept": "This field is required."
    }
    assert _problem(api.post(f"{ME}/{proposal.pk}/response", {"accept": "maybe"}, format="json"), 400)["errors"] == {
        "accept": "Must be a valid boolean."
    }
    response = api.post(f"{ME}/{proposal.pk}/response", {"accept": False, "reason": "Different hours."}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["explanation"]) == ("rejected", None)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == ("rejected", "Different hours.")
    assert AuditEntry.objects.get(action="match.rejected", target_id=str(proposal.pk)).reason == "Different hours."


# --- Milestones ---------------------------------------------------------------------------------


def test_my_milestones_are_mine_only(client_for, program, anna, maria, make_program, mentorship_template):
    other = make_program(mentorship_template, name="Mentorship autumn")
    milestone_reach(
        user=anna,
        program=program,
        key="first-session",
        title="First session",
        at=datetime(2026, 3, 2, 16, tzinfo=UTC),
    )
    milestone_reach(user=anna, program=other, key="goal-set", at=datetime(2026, 4, 1, 9, tzinfo=UTC))
    milestone_reach(user=maria, program=program, key="first-session")
    api = client_for(anna)

    listed = api.get("/api/v1/me/milestones").json()
    assert [(r["program_name"], r["key"], r["title"], r["reached_at"]) for r in listed["results"]] == [
        ("Mentorship autumn", "goal-set", "", "2026-04-01T09:00:00Z"),
        ("Mentorship 2026", "first-session", "First session", "2026-03-02T16:00:00Z"),
    ]
    only = api.get("/api/v1/me/milestones", {"program_id": str(program.pk)}).json()
    assert [r["key"] for r in only["results"]] == ["first-session"]
    assert _problem(api.get("/api/v1/me/milestones", {"program_id": str(uuid.uuid4())[:8]}), 400)["errors"] == {
        "program_id": "Enter a valid UUID."
    }

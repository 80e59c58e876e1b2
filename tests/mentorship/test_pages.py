"""The "My matches" page: the viewer's matches with partner, program, status and start; proposals
they may answer (accept/decline where the program lets them); logging a check-in and giving
feedback with field errors on the page (never a 500); milestones and recent check-ins; another
person's match is a 404; the page costs a constant number of queries."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import clock
from mentorship.enums import MatchStatus
from mentorship.models import CheckIn, Feedback, Match
from mentorship.services import (
    checkin_log,
    feedback_give,
    match_create_manual,
    match_end,
    matches_propose,
    milestone_reach,
)
from tests.scheduling.test_pages import messages_of, page

pytestmark = pytest.mark.django_db

MY = "/matches/"


def messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pair(program, mentor_profile, mentee_profile, operator, make_user):
    mina = mentor_profile("mina@example.org", skills=["python"]).user
    mina.full_name = "Mina Mentor"
    mina.save(update_fields=["full_name"])
    ann = mentee_profile("ann@example.org", skills=["python"]).user
    ann.full_name = "Ann Avery"
    ann.save(update_fields=["full_name"])
    match = match_create_manual(program=program, mentor=mina, mentee=ann, reason="Both code", actor=operator)
    return {"mina": mina, "ann": ann, "match": match}


@pytest.fixture
def self_accepting(make_program, mentorship_template):
    def _make(who: str, name: str = "Self-serve mentoring"):
        return make_program(
            mentorship_template, name=name, config_overrides={"matching": {"enabled": True, "self_accept": who}}
        )

    return _make


def test_the_page_needs_a_sign_in(client):
    response = client.get(MY)
    assert response.status_code == 302 and response.url == f"{reverse('login')}?next={MY}"


def test_the_page_lists_the_match_with_partner_program_status_and_start(pair, program):
    assert reverse("my-matches") == MY
    root = page(client_of(pair["ann"]).get(MY))
    [card] = root.all("match")
    assert card.attrs["data-match"] == str(pair["match"].pk)
    assert card.one("partner").text() == "Your mentor: Mina Mentor"
    assert "Mentorship 2026" in card.text()
    assert card.one("status").text() == "Active"
    assert card.one("started").text() == clock.now().strftime("%-d %b %Y")
    assert card.one("checkin-count").text() == "0"
    assert len(card.all("checkin")) == 1 and len(card.all("feedback")) == 1
    # The mentor sees the same match from the other side.
    mentor_card = page(client_of(pair["mina"]).get(MY)).one("match")
    assert mentor_card.one("partner").text() == "Your mentee: Ann Avery"


def test_a_buddy_program_names_its_roles(buddy_program, mentor_profile, mentee_profile, operator):
    buddy = mentor_profile("lena@example.org", in_program=buddy_program).user
    newcomer = mentee_profile("omar@example.org", in_program=buddy_program).user
    match_create_manual(program=buddy_program, mentor=buddy, mentee=newcomer, reason="Neighbours", actor=operator)
    card = page(client_of(newcomer).get(MY)).one("match")
    assert card.one("partner").text() == "Your buddy: lena@example.org"


def test_logging_a_check_in(pair):
    ann, match = pair["ann"], pair["match"]
    client = client_of(ann)
    url = reverse("match-check-in", args=[match.pk])
    response = client.post(url, {"mood": "4", "notes": "We planned my CV."})
    assert response.status_code == 302 and response.url == MY
    assert messages(response) == ["Your check-in with Mina Mentor is saved."]
    checkin = CheckIn.objects.get()
    assert (checkin.match, checkin.by, checkin.mood, checkin.notes) == (match, ann, 4, "We planned my CV.")

    root = page(client.get(MY))
    assert root.one("checkin-count").text().startswith("1, the last on ")
    [recent] = root.all("recent-checkin")
    assert recent.text().startswith("You · mood 4/5 ·")
    assert recent.one("checkin-notes").text() == "We planned my CV."
    # The partner sees it by name.
    [theirs] = page(client_of(pair["mina"]).get(MY)).all("recent-checkin")
    assert theirs.text().startswith("Ann Avery · mood 4/5 ·")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"notes": "no mood"}, "mood", "This field is required."),
        ({"mood": "9"}, "mood", "Select a valid choice. 9 is not one of the available choices."),
        ({"mood": "abc"}, "mood", "Select a valid choice. abc is not one of the available choices."),
        ({"mood": "3", "notes": "x" * 5001}, "notes", "Ensure this value has at most 5000 characters (it has 5001)."),
    ],
)
def test_a_bad_check_in_shows_field_errors(pair, data, field, message):
    client = client_of(pair["ann"])
    response = client.post(reverse("match-check-in", args=[pair["match"].pk]), data)
    root = page(response)  # 200, the page again
    assert messages_of(root) == ["Your check-in was not saved: see the form below."]
    card = root.one("match")
    assert card.one("checkin").attrs.get("open") == ""
    assert card.one(f"error-checkin-{field}").text() == message
    assert not CheckIn.objects.exists()


def test_a_check_in_on_an_ended_match_is_refused_on_the_form(pair, operator):
    match_end(match=pair["match"], end_reason="completed", actor=operator)
    response = client_of(pair["ann"]).post(reverse("match-check-in", args=[pair["match"].pk]), {"mood": "3"})
    assert response.status_code == 200
    root = page(response)
    assert root.all("match") == []  # no active match: the form is not on the page
    assert messages_of(root) == ["Your check-in was not saved: see the form below."]
    assert not CheckIn.objects.exists()
    # The ended match is listed with its end reason and a feedback form.
    [ended] = root.all("ended-match")
    assert ended.one("status").text() == "Ended: Completed"
    assert len(ended.all("feedback")) == 1 and ended.all("checkin") == []


def test_giving_and_updating_feedback(pair):
    ann, match = pair["ann"], pair["match"]
    client = client_of(ann)
    url = reverse("match-feedback", args=[match.pk])
    bad = client.post(url, {"rating": "0", "comment": "hm"})
    assert page(bad).one("error-feedback-rating").text() == (
        "Select a valid choice. 0 is not one of the available choices."
    )
    assert not Feedback.objects.exists()

    response = client.post(url, {"rating": "5", "comment": "Very helpful"})
    assert messages(response) == ["Thank you for your feedback."]
    feedback = Feedback.objects.get()
    assert (feedback.author, feedback.rating, feedback.comment) == (ann, 5, "Very helpful")
    root = page(client.get(MY))
    summary = root.one("feedback").all(tag="summary")[0]
    assert summary.text() == "Your feedback: 5/5 (change it)"
    checked = [
        i for i in root.one("feedback").all(tag="input") if i.attrs.get("name") == "rating" and "checked" in i.attrs
    ]
    assert [i.attrs["value"] for i in checked] == ["5"]

    again = client.post(url, {"rating": "3", "comment": ""})
    assert messages(again) == ["Your feedback was updated."]
    feedback.refresh_from_db()
    assert (feedback.rating, feedback.comment) == (3, "")
    assert Feedback.objects.count() == 1


def test_feedback_after_the_match_ended(pair, operator):
    match_end(match=pair["match"], end_reason="mentee_left", actor=operator)
    response = client_of(pair["mina"]).post(reverse("match-feedback", args=[pair["match"].pk]), {"rating": "2"})
    assert messages(response) == ["Thank you for your feedback."]
    assert Feedback.objects.get().author == pair["mina"]


def test_another_persons_match_is_not_found(pair, make_user):
    stranger = client_of(make_user(email="eve@example.org"))
    for name in ("match-check-in", "match-feedback", "match-respond"):
        assert stranger.post(reverse(name, args=[pair["match"].pk]), {"mood": "3", "rating": "3"}).status_code == 404
    assert not CheckIn.objects.exists() and not Feedback.objects.exists()
    assert client_of(pair["ann"]).get(reverse("match-check-in", args=[pair["match"].pk])).status_code == 405


def test_milestones_are_listed(pair, program):
    milestone_reach(user=pair["ann"], program=program, key="cv-ready", title="CV ready")
    milestone_reach(user=pair["ann"], program=program, key="first-interview")
    root = page(client_of(pair["ann"]).get(MY))
    texts = [m.text() for m in root.all("milestone")]
    assert [t.split(" · ")[0] for t in texts] == ["first-interview", "CV ready"]
    assert texts[1].split(" · ")[1] == "Mentorship 2026"
    assert page(client_of(pair["mina"]).get(MY)).all("milestone") == []


# --- Proposals the viewer answers ---------------------------------------------------------------


def _proposal(program, mentor_profile, mentee_profile, operator) -> Match:
    mentor_profile("max@example.org", in_program=program, skills=["sql"])
    mentee_profile("bea@example.org", in_program=program, skills=["sql"])
    return matches_propose(program=program, actor=operator).matches.get()


def test_proposals_are_hidden_where_operators_approve(program, mentor_profile, mentee_profile, operator):
    proposal = _proposal(program, mentor_profile, mentee_profile, operator)
    root = page(client_of(proposal.mentee).get(MY))
    assert root.all("proposal") == [] and root.all("match") == []
    response = client_of(proposal.mentee).post(reverse("match-respond", args=[proposal.pk]), {"answer": "accept"})
    assert messages(response) == ["In this program an operator approves proposals."]
    proposal.refresh_from_db()
    assert proposal.status == MatchStatus.PROPOSED


def test_a_mentee_accepts_a_proposal(self_accepting, mentor_profile, mentee_profile, operator):
    program = self_accepting("mentee")
    proposal = _proposal(program, mentor_profile, mentee_profile, operator)
    mentee = client_of(proposal.mentee)
    [card] = page(mentee.get(MY)).all("proposal")
    assert card.all(tag="h3")[0].text() == "Your mentor: max@example.org · Self-serve mentoring"
    assert page(client_of(proposal.mentor).get(MY)).all("proposal") == []  # the mentor may not answer here

    wrong = mentee.post(reverse("match-respond", args=[proposal.pk]), {"answer": "maybe"}, follow=True)
    assert messages_of(page(wrong)) == ["Choose to accept or decline the proposal."]
    response = mentee.post(reverse("match-respond", args=[proposal.pk]), {"answer": "accept"})
    assert messages(response) == ["You and max@example.org are matched in Self-serve mentoring."]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.mentee_accepted_at is not None) == (MatchStatus.ACTIVE, True)
    assert page(mentee.get(MY)).one("match").one("partner").text() == "Your mentor: max@example.org"


def test_both_sides_accept_before_the_match_starts(self_accepting, mentor_profile, mentee_profile, operator):
    program = self_accepting("both")
    proposal = _proposal(program, mentor_profile, mentee_profile, operator)
    mentee, mentor = client_of(proposal.mentee), client_of(proposal.mentor)
    first = mentee.post(reverse("match-respond", args=[proposal.pk]), {"answer": "accept"})
    assert messages(first) == ["You accepted. We will tell you when max@example.org has answered too."]
    card = page(mentee.get(MY)).one("proposal")
    assert card.one("waiting").text() == "You accepted. Waiting for max@example.org to answer."
    second = mentor.post(reverse("match-respond", args=[proposal.pk]), {"answer": "accept"})
    assert messages(second) == ["You and bea@example.org are matched in Self-serve mentoring."]
    proposal.refresh_from_db()
    assert proposal.status == MatchStatus.ACTIVE


def test_declining_a_proposal_rejects_it(self_accepting, mentor_profile, mentee_profile, operator):
    program = self_accepting("mentee")
    proposal = _proposal(program, mentor_profile, mentee_profile, operator)
    mentee = client_of(proposal.mentee)
    response = mentee.post(
        reverse("match-respond", args=[proposal.pk]), {"answer": "decline", "reason": "I need Python help"}
    )
    assert messages(response) == ["You declined the proposal to pair with max@example.org."]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == (MatchStatus.REJECTED, "I need Python help")
    assert page(mentee.get(MY)).all("proposal") == []
    late = mentee.post(reverse("match-respond", args=[proposal.pk]), {"answer": "accept"})
    assert messages(late) == ["This proposal is rejected; it can no longer be answered."]


# --- Cost ---------------------------------------------------------------------------------------


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(MY)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_page_costs_a_constant_number_of_queries(program, mentor_profile, mentee_profile, operator, self_accepting):
    mina = mentor_profile("mina@example.org", capacity=2).user
    client = client_of(mina)

    def grow(n: int) -> None:
        mentee = mentee_profile(f"mentee{n}@example.org").user
        match = match_create_manual(program=program, mentor=mina, mentee=mentee, reason="test", actor=operator)
        checkin_log(match=match, by=mentee, mood=3, notes=f"call {n}")
        feedback_give(match=match, author=mina, rating=4)
        milestone_reach(user=mina, program=program, key=f"step-{n}")
        if n == 1:
            match_end(match=match, end_reason="completed", actor=operator)

    grow(0)
    one = _queries(client)
    grow(1)
    grow(2)
    # A proposal Mina may answer herself, in another program.
    from mentorship.services import profile_upsert

    selfserve = self_accepting("mentor", name="Self 2")
    profile_upsert(program=selfserve, user=mina, kind="mentor", data={"languages": ["uk"]})
    mentee_profile("seeker@example.org", in_program=selfserve)
    matches_propose(program=selfserve, actor=operator)
    root = page(client.get(MY))
    assert (len(root.all("match")), len(root.all("ended-match")), len(root.all("proposal"))) == (2, 1, 1)
    assert len(root.all("recent-checkin")) == 3 and len(root.all("milestone")) == 3
    many = _queries(client)
    assert many == one
    # Exactly: session, user, unread notifications, matches, own feedback, milestones, check-ins.
    assert one == 7

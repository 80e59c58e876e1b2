"""Slot matching (scheduling) takes mentorship pairs by their match id through the resolver the
mentorship app registers at start-up."""

import uuid

from django.urls import reverse

from mentorship.services import match_create_manual, matches_propose
from scheduling import hooks


def test_an_active_match_resolves_to_its_mentor_and_mentee(program, mentor_profile, mentee_profile, operator):
    mentor, mentee = mentor_profile("mentor@example.org"), mentee_profile("mentee@example.org")
    match = match_create_manual(
        program=program, mentor=mentor.user, mentee=mentee.user, reason="Asked for each other.", actor=operator
    )

    assert hooks.resolve_pair(program, match.pk) == [mentor.user, mentee.user]
    assert hooks.resolve_pair(program, str(match.pk)) == [mentor.user, mentee.user]
    assert hooks.resolve_pair(program, uuid.uuid4()) is None
    assert hooks.resolve_pair(program, "not-a-uuid") is None


def test_proposals_and_other_programs_do_not_resolve(
    program, make_program, mentorship_template, mentor_profile, mentee_profile, operator
):
    mentor_profile("mentor@example.org")
    mentee_profile("mentee@example.org")
    proposal = matches_propose(program=program, actor=operator).matches.get()
    other = make_program(mentorship_template, name="Other mentoring")

    assert proposal.status == "proposed"
    assert hooks.resolve_pair(program, proposal.pk) is None
    assert hooks.resolve_pair(other, proposal.pk) is None


def test_the_slot_matching_api_takes_a_pair_id(operator_api, program, mentor_profile, mentee_profile, operator):
    mentor, mentee = mentor_profile("mentor@example.org"), mentee_profile("mentee@example.org")
    match = match_create_manual(
        program=program, mentor=mentor.user, mentee=mentee.user, reason="Asked for each other.", actor=operator
    )
    url = reverse("api-scheduling-match", args=[program.pk])
    body = {
        "participant_ids": [],
        "duration_minutes": 60,
        "range_start": "2026-03-09T00:00:00Z",
        "range_end": "2026-03-11T00:00:00Z",
    }

    known = operator_api.post(url, {**body, "pair_ids": [str(match.pk)]}, format="json")
    unknown_id = uuid.uuid4()
    unknown = operator_api.post(url, {**body, "pair_ids": [str(unknown_id)]}, format="json")

    assert known.status_code == 200, known.content
    assert known.json()["candidates"] == []  # neither has availability windows
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"pair_ids/0": f"No mentorship pair with the id {unknown_id} in this program."}

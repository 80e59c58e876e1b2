"""The operators' mentorship admin, as an operator (not a superuser) with the Django test client:
the proposal review screen (run matching, the per-criterion breakdown, approve, the per-proposal
conflicts, reject with a reason, swap, unmatched mentees, the greedy baseline, a manual match),
the match list and ending a match, profiles through `profile_upsert`, and the read-only lists."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from enrollments.models import Enrollment
from mentorship.enums import MatchSource, MatchStatus
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone, Profile, ProposalBatch
from mentorship.services import (
    activity_record,
    checkin_log,
    feedback_give,
    match_create_manual,
    matches_approve,
    matches_propose,
    milestone_reach,
)
from tests.scheduling.test_pages import page

pytestmark = pytest.mark.django_db


def review(program) -> str:
    return reverse("admin:mentorship_proposal_review", args=[program.pk])


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def shown(response) -> list[str]:
    """The messages a followed response shows (admin's message list)."""
    return (
        [
            " ".join(re.sub(r"<[^>]+>", " ", unescape(m)).split())
            for m in re.findall(
                r'<li class="[a-z]+">(.*?)</li>',
                response.content.decode().split('class="messagelist"', 1)[-1].split("</ul>", 1)[0],
                re.S,
            )
        ]
        if 'class="messagelist"' in response.content.decode()
        else []
    )


def cells(html: str, column: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", unescape(c)).split())
        for c in re.findall(rf'<td class="field-{column}[^"]*">(.*?)</td>', html, re.S)
    ]


def audit(action: str, target) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, target_id=str(target.pk)))


@pytest.fixture
def ops(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def pool(mentor_profile, mentee_profile):
    """One mentor with one place; Ann fits, Bob shares no language."""
    mina = mentor_profile("mina@example.org", skills=["python", "sql"], timezone="Europe/Kyiv")
    ann = mentee_profile("ann@example.org", skills=["python", "excel"], timezone="Europe/Kyiv")
    bob = mentee_profile("bob@example.org", languages=["de"], skills=["sql"])
    return {"mina": mina.user, "ann": ann.user, "bob": bob.user}


# --- The review screen --------------------------------------------------------------------------


def test_running_matching_shows_pairs_with_their_breakdown(ops, program, pool, operator):
    response = ops.post(review(program), {"action": "propose"})
    assert response.status_code == 302 and response.url == review(program)
    batch = ProposalBatch.objects.get(program=program)
    assert messages(response) == [
        "Matching ran: 1 proposal(s), 1 mentee(s) unmatched; total score 0.813 against 0.813 for the greedy baseline."
    ]
    assert batch.created_by == operator

    root = page(ops.get(review(program)))
    [row] = root.all("proposal")
    proposal = Match.objects.get(batch=batch)
    assert row.attrs["data-proposal"] == str(proposal.pk)
    assert row.one("mentee").text() == "ann@example.org"
    assert row.one("mentor").text() == "mina@example.org"
    assert row.one("score").text() == "0.813"
    assert [r.text() for r in row.all(tag="tr")[1:]] == [
        "Language 0.30 1.00 Shared: uk.",
        "Skills 0.30 0.50 1 of 2 wanted: python.",
        "Goals 0.10 0.00 Not stated by the mentee; not counted. 0 of 0 wanted: none.",
        "Industry 0.10 0.00 Not stated by the mentee; not counted. Different industries.",
        "Time zone 0.20 1.00 0 h apart (Europe/Kyiv / Europe/Kyiv).",
    ]
    assert row.one("status").text() == "Proposed"
    [unmatched] = root.all("unmatched-mentee")
    assert unmatched.attrs["data-code"] == "no_language"
    assert unmatched.text() == "bob@example.org No mentor with a free place shares a language with them."
    assert root.one("total-score").text() == "0.813 against 0.813 for the greedy baseline (+0.000, +0.0 %)"
    assert root.one("pool").text() == "1 mentor(s), 2 mentee(s)"


def test_the_screen_shows_the_gain_over_the_greedy_baseline(ops, program, mentor_profile, mentee_profile):
    # Greedy gives Cat the best pair (Mina, 1.0) and leaves Dan without a mentor; the optimum
    # gives Cat to Max (0.9) and Dan to Mina.
    mentor_profile("mina@example.org", languages=["uk", "en"], skills=["python", "sql"])
    mentor_profile("max@example.org", languages=["en"], skills=["python"])
    mentee_profile("cat@example.org", languages=["en"], skills=["python", "sql"])
    mentee_profile("dan@example.org", languages=["uk"], skills=["sql"])
    ops.post(review(program), {"action": "propose"})
    batch = ProposalBatch.objects.get(program=program)
    assert batch.total_score > batch.greedy_score
    root = page(ops.get(review(program)))
    assert (batch.total_score, batch.greedy_score) == (1.8125, 1.0)
    assert root.one("total-score").text() == "1.813 against 1.000 for the greedy baseline (+0.813, +81.3 %)"
    assert sorted((r.one("mentee").text(), r.one("mentor").text()) for r in root.all("proposal")) == [
        ("cat@example.org", "max@example.org"),
        ("dan@example.org", "mina@example.org"),
    ]


def test_approving_in_the_admin_makes_the_match_active(ops, program, pool, operator):
    batch = matches_propose(program=program, actor=operator)
    proposal = batch.matches.get()
    response = ops.post(review(program), {"action": "approve", "proposal": [str(proposal.pk)], "reason": "Good fit"})
    assert response.status_code == 302
    assert messages(response) == ["Approved 1 proposal(s); they are active matches now."]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.started_at is not None) == (
        MatchStatus.ACTIVE,
        operator,
        True,
    )
    [entry] = audit("match.approved", proposal)
    assert (entry.actor, entry.reason) == (operator, "Good fit")
    assert Enrollment.objects.get(user=pool["ann"], program=program).role == "mentee"
    root = page(ops.get(review(program)))
    assert root.one("status").text() == "Active"
    assert root.all(tag="input") and not [i for i in root.all(tag="input") if i.attrs.get("name") == "proposal"]


def test_a_proposal_that_cannot_be_approved_is_named_in_a_message(ops, program, pool, operator, mentee_profile):
    batch = matches_propose(program=program, actor=operator)
    proposal = batch.matches.get()
    cem = mentee_profile("cem@example.org").user
    match_create_manual(program=program, mentor=pool["mina"], mentee=cem, reason="Urgent", actor=operator)

    response = ops.post(review(program), {"action": "approve", "proposal": [str(proposal.pk)]})
    assert response.status_code == 200  # the screen again, with the selection kept
    assert messages(response) == [
        "1 of the 1 proposals cannot be approved; nothing was approved.",
        "ann@example.org with mina@example.org: mina@example.org has no free place (capacity 1).",
    ]
    [box] = [i for i in page(response).all(tag="input") if i.attrs.get("name") == "proposal"]
    assert "checked" in box.attrs
    proposal.refresh_from_db()
    assert proposal.status == MatchStatus.PROPOSED


def test_rejecting_needs_a_reason(ops, program, pool, operator):
    proposal = matches_propose(program=program, actor=operator).matches.get()
    response = ops.post(review(program), {"action": "reject", "proposal": [str(proposal.pk)], "reason": "  "})
    assert response.status_code == 200
    assert messages(response) == ["Say why the proposals are rejected."]
    proposal.refresh_from_db()
    assert proposal.status == MatchStatus.PROPOSED

    response = ops.post(
        review(program), {"action": "reject", "proposal": [str(proposal.pk)], "reason": "They met before"}
    )
    assert messages(response) == ["Rejected 1 proposal(s); these pairs are not proposed again."]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == (MatchStatus.REJECTED, "They met before")
    [entry] = audit("match.rejected", proposal)
    assert (entry.actor, entry.reason) == (operator, "They met before")
    # A new run does not propose the pair again.
    batch = matches_propose(program=program, actor=operator)
    assert batch.matches.count() == 0


def test_rejecting_is_all_or_nothing(ops, program, mentor_profile, mentee_profile, operator):
    mentor_profile("mina@example.org", skills=["python"])
    mentor_profile("max@example.org", skills=["sql"])
    mentee_profile("ann@example.org", skills=["python"])
    mentee_profile("bob@example.org", skills=["sql"])
    batch = matches_propose(program=program, actor=operator)
    ann, bob = sorted(batch.matches.select_related("mentee"), key=lambda m: m.mentee.email)
    matches_approve(program=program, proposal_ids=[ann.pk], actor=operator)
    # A page opened before Ann's approval still offers her proposal.
    response = ops.post(review(program), {"action": "reject", "proposal": [str(ann.pk), str(bob.pk)], "reason": "No"})
    assert messages(response) == [
        "1 of the 2 proposals cannot be rejected; nothing was rejected.",
        "ann@example.org with mina@example.org: It is active, not proposed.",
    ]
    assert Match.objects.get(pk=bob.pk).status == MatchStatus.PROPOSED


def test_swapping_exchanges_the_mentors_of_two_proposals(ops, program, mentor_profile, mentee_profile, operator):
    mina = mentor_profile("mina@example.org", skills=["python"]).user
    max_ = mentor_profile("max@example.org", skills=["sql"]).user
    ann = mentee_profile("ann@example.org", skills=["python"]).user
    bob = mentee_profile("bob@example.org", skills=["sql"]).user
    batch = matches_propose(program=program, actor=operator)
    pairs = {m.mentee_id: m for m in batch.matches.all()}
    assert {k: m.mentor_id for k, m in pairs.items()} == {ann.pk: mina.pk, bob.pk: max_.pk}

    one = ops.post(review(program), {"action": "swap", "proposal": [str(pairs[ann.pk].pk)]})
    assert messages(one) == ["Select exactly two proposals to swap their mentors."]

    response = ops.post(
        review(program),
        {"action": "swap", "proposal": [str(pairs[ann.pk].pk), str(pairs[bob.pk].pk)], "reason": "Personal fit"},
    )
    assert messages(response) == ["Swapped the mentors of the two proposals; both pairs were scored again."]
    swapped = {m.mentee_id: m for m in Match.objects.filter(batch=batch)}
    assert {k: m.mentor_id for k, m in swapped.items()} == {ann.pk: max_.pk, bob.pk: mina.pk}
    assert swapped[ann.pk].explanation["swapped"] is True
    assert swapped[ann.pk].explanation["criteria"]["skills"]["detail"] == "0 of 1 wanted: none."
    [entry] = audit("match.proposals_swapped", swapped[ann.pk])
    assert (entry.actor, entry.reason) == (operator, "Personal fit")
    root = page(ops.get(review(program)))
    assert [n.text() for n in root.all("swapped-note")] == [
        "The mentor was swapped in by an operator; scored again."
    ] * 2


def test_a_manual_match_is_active_at_once_and_audited(ops, program, pool, operator):
    data = {"action": "manual", "mentor": str(pool["mina"].pk), "mentee": str(pool["bob"].pk), "reason": ""}
    response = ops.post(review(program), data)
    assert response.status_code == 200
    assert page(response).one("error-reason").text() == "Say why this pair is made by hand."
    assert not Match.objects.exists()

    response = ops.post(review(program), {**data, "reason": "Bob learns Ukrainian with her"})
    assert response.status_code == 302
    assert messages(response) == ["Matched bob@example.org with mina@example.org by hand."]
    match = Match.objects.get()
    assert (match.status, match.source, match.reason, match.decided_by) == (
        MatchStatus.ACTIVE,
        MatchSource.MANUAL,
        "Bob learns Ukrainian with her",
        operator,
    )
    assert match.explanation["overridden"] == ["language"]
    [entry] = audit("match.created_manually", match)
    assert (entry.actor, entry.reason, entry.changes["overridden"]) == (
        operator,
        "Bob learns Ukrainian with her",
        ["language"],
    )
    # The mentor's only place is taken now: a second pair by hand is refused on the form.
    again = ops.post(review(program), {**data, "mentee": str(pool["ann"].pk), "reason": "Also"})
    assert page(again).one("manual-errors").text() == ("mina@example.org has no free place (capacity 1, 1 active).")


def test_manual_form_offers_only_people_with_a_profile_on_each_side(ops, program, pool, make_user):
    outsider = make_user(email="out@example.org")
    response = ops.post(
        review(program), {"action": "manual", "mentor": str(outsider.pk), "mentee": str(pool["ann"].pk), "reason": "x"}
    )
    assert page(response).one("error-mentor").text() == (
        "Select a valid choice. That choice is not one of the available choices."
    )


def test_bad_input_on_the_screen_is_a_message_never_a_500(ops, program, pool, operator):
    matches_propose(program=program, actor=operator)
    nothing = ops.post(review(program), {"action": "approve"})
    assert messages(nothing) == ["Select at least one proposal first."]
    garbage = ops.post(review(program), {"action": "approve", "proposal": ["not-an-id"]})
    assert messages(garbage) == ["Not a proposal id: not-an-id."]
    foreign = ops.post(review(program), {"action": "approve", "proposal": ["00000000-0000-0000-0000-000000000000"]})
    assert messages(foreign) == ["Some selected proposals are not in this program; reload the page."]
    unknown = ops.post(review(program), {"action": "explode"})
    assert unknown.status_code == 200
    assert messages(unknown) == ["Choose what to do: run matching, approve, reject, swap or match by hand."]


def test_matching_in_a_paused_program_is_refused_with_a_message(ops, program, pool):
    from programs.services import program_set_status

    program_set_status(program=program, status="paused")
    response = ops.post(review(program), {"action": "propose"})
    assert response.status_code == 200
    assert messages(response) == ["'Mentorship 2026' is paused; matches are made in active programs only."]


def test_the_screen_costs_constant_queries(ops, program, operator, mentor_profile, mentee_profile):
    def screen(pairs: int) -> int:
        for n in range(Profile.objects.filter(kind="mentor").count(), pairs):
            mentor_profile(f"m{n}@example.org")
            mentee_profile(f"e{n}@example.org")
        mentee_profile(f"lost{pairs}@example.org", languages=["ar"])  # one more unmatched each time
        matches_propose(program=program, actor=operator)
        ops.get(review(program))
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            root = page(ops.get(review(program)))
        assert len(root.all("proposal")) == pairs
        return len(ctx.captured_queries)

    assert screen(1) == screen(4)


def test_the_batch_page_shows_settings_and_links_the_screen(ops, program, pool, operator):
    batch = matches_propose(program=program, actor=operator)
    html = ops.get(url(ProposalBatch, "changelist")).content.decode()
    assert cells(html, "proposal_count") == ["1"]
    assert cells(html, "unmatched_count") == ["1"]
    assert cells(html, "review_link") == ["Proposal review"]
    detail = ops.get(url(ProposalBatch, "change", batch.pk)).content.decode()
    assert "no_language" in detail and review(program) in detail


def test_programs_without_matching_have_no_review_screen(ops, make_program, builtin_templates):
    other = make_program(builtin_templates["fee-waiver"], name="Waiver")
    response = ops.get(review(other))
    assert response.status_code == 302
    assert messages(response) == ["'Waiver' is a fee_waiver program; it has no matching."]


def test_reviewers_neither_see_the_screen_nor_decide(program, pool, make_user, operator):
    matches_propose(program=program, actor=operator)
    reviewer = make_user(email="rae@example.org", role="reviewer", is_staff=True)
    client = Client()
    client.force_login(reviewer)
    assert client.get(review(program)).status_code == 403
    assert client.post(review(program), {"action": "propose"}).status_code == 403
    assert client.get(url(Match, "changelist")).status_code == 403
    assert client.get(url(CheckIn, "changelist")).status_code == 403
    assert ProposalBatch.objects.count() == 1


def test_the_index_and_the_program_list_link_the_review_screens(ops, program, builtin_templates, make_program):
    make_program(builtin_templates["fee-waiver"], name="Waiver")
    index = ops.get(reverse("admin:mentorship_proposal_review_index")).content.decode()
    assert review(program) in index and "Waiver" not in index
    programs = ops.get(reverse("admin:programs_program_changelist")).content.decode()
    assert cells(programs, "matching_link") == ["-", "Proposal review"] or cells(programs, "matching_link") == [
        "Proposal review",
        "-",
    ]
    assert review(program) in programs
    batches = ops.get(url(ProposalBatch, "changelist")).content.decode()
    assert reverse("admin:mentorship_proposal_review_index") in batches


# --- Matches ------------------------------------------------------------------------------------


@pytest.fixture
def active(program, pool, operator):
    proposal = matches_propose(program=program, actor=operator).matches.get()
    [match] = matches_approve(program=program, proposal_ids=[proposal.pk], actor=operator)
    return match


def test_the_match_list_filters_and_costs_constant_queries(
    ops, program, operator, mentor_profile, mentee_profile, django_assert_max_num_queries
):
    ops.get(url(Match, "changelist"))

    def pairs(count: int) -> int:
        for n in range(Match.objects.count(), count):
            mentor = mentor_profile(f"m{n}@example.org").user
            mentee = mentee_profile(f"e{n}@example.org").user
            match_create_manual(program=program, mentor=mentor, mentee=mentee, reason="test", actor=operator)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = ops.get(url(Match, "changelist"))
        assert response.status_code == 200
        assert len(cells(response.content.decode(), "status")) == count
        return len(ctx.captured_queries)

    assert pairs(1) == pairs(5)
    html = ops.get(url(Match, "changelist"), {"status__exact": "ended"}).content.decode()
    assert cells(html, "status") == []
    html = ops.get(url(Match, "changelist"), {"source__exact": "manual", "q": "e3@"}).content.decode()
    assert cells(html, "mentor_shown") == ["m3@example.org"]


def test_the_match_page_explains_the_pair(ops, active):
    root = page(ops.get(url(Match, "change", active.pk)))
    assert [r.text() for r in root.one("breakdown").all(tag="tr")[1:3]] == [
        "Language 0.30 1.00 Shared: uk.",
        "Skills 0.30 0.50 1 of 2 wanted: python.",
    ]
    assert root.one("end-match-link").attrs["href"] == reverse("admin:mentorship_match_end", args=[active.pk])


def test_ending_a_match_needs_a_reason_and_settles_enrollments(ops, active, operator, pool, program):
    end = reverse("admin:mentorship_match_end", args=[active.pk])
    assert ops.get(end).status_code == 200
    response = ops.post(end, {"end_reason": "", "note": "x"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert Match.objects.get(pk=active.pk).status == MatchStatus.ACTIVE
    bad = ops.post(end, {"end_reason": "bored", "note": ""})
    assert "Select a valid choice. bored is not one of the available choices." in bad.content.decode()

    response = ops.post(end, {"end_reason": "completed", "note": "Ann found a job"}, follow=True)
    assert response.redirect_chain == [(url(Match, "change", active.pk), 302)]
    assert shown(response) == ["The match of ann@example.org with mina@example.org ended."]
    match = Match.objects.get(pk=active.pk)
    assert (match.status, match.end_reason, match.reason) == (MatchStatus.ENDED, "completed", "Ann found a job")
    [entry] = audit("match.ended", match)
    assert (entry.actor, entry.reason) == (operator, "Ann found a job")
    assert Enrollment.objects.get(user=pool["ann"], program=program).status == "completed"
    again = ops.get(end, follow=True)
    assert shown(again) == ["Only an active match can end; this one is ended."]


def test_the_end_action_ends_selected_matches(ops, active):
    changelist = url(Match, "changelist")
    missing = ops.post(changelist, {"action": "end_selected", "_selected_action": [str(active.pk)]}, follow=True)
    assert shown(missing) == ["Choose an end reason for the selected matches."]
    response = ops.post(
        changelist,
        {"action": "end_selected", "_selected_action": [str(active.pk)], "end_reason": "no_show", "note": "gone"},
        follow=True,
    )
    assert shown(response) == ["Ended 1 match(es)."]
    match = Match.objects.get(pk=active.pk)
    assert (match.status, match.end_reason) == (MatchStatus.ENDED, "no_show")
    twice = ops.post(
        changelist,
        {"action": "end_selected", "_selected_action": [str(active.pk)], "end_reason": "no_show"},
        follow=True,
    )
    assert shown(twice) == [
        "Mina@example.org / ann@example.org (ended): Only an active match can end; this one is ended."
    ]


def test_operators_never_delete_or_add_matches(ops, active):
    assert ops.get(url(Match, "delete", active.pk)).status_code == 403
    assert ops.get(url(Match, "add")).status_code == 403
    actions = page(ops.get(url(Match, "changelist"))).all(tag="option")
    assert "delete_selected" not in [o.attrs.get("value") for o in actions]


# --- Profiles and progress records --------------------------------------------------------------


def test_profiles_list_filter_and_search(ops, program, pool):
    html = ops.get(url(Profile, "changelist"), {"q": "ann@"}).content.decode()
    assert cells(html, "languages_shown") == ["uk"]
    assert cells(html, "skills_shown") == ["python, excel"]
    html = ops.get(url(Profile, "changelist"), {"kind__exact": "mentor"}).content.decode()
    assert cells(html, "capacity_shown") == ["1"]
    assert cells(html, "languages_shown") == ["en, uk"]


def test_a_profile_is_added_through_the_service_with_field_errors(ops, program, make_user, operator):
    user = make_user(email="zoe@example.org")
    avoid = make_user(email="avoid@example.org")
    data = {
        "user": str(user.pk),
        "program": str(program.pk),
        "kind": "mentor",
        "capacity": "9",
        "skills": "python, sql",
        "languages": "EN, uk",
        "timezone": "Mars/Olympus",
        "industries": "",
        "goals": "",
        "avoid": "nobody@example.org",
        "bio": "",
        "active": "on",
    }
    response = ops.post(url(Profile, "add"), data)
    assert response.status_code == 200
    errors = page(response).all(tag="ul")
    texts = [e.text() for e in errors if "errorlist" in e.attrs.get("class", "")]
    assert "Give an IANA time zone, e.g. Europe/Kyiv." in texts
    assert "No user with the e-mail nobody@example.org." in texts
    assert "Give a whole number from 0 to 2 (this program's most mentees per mentor)." in texts
    assert not Profile.objects.exists()

    response = ops.post(
        url(Profile, "add"), {**data, "capacity": "2", "timezone": "Europe/Kyiv", "avoid": "AVOID@example.org"}
    )
    assert response.status_code == 302
    profile = Profile.objects.get()
    assert (profile.capacity, profile.skills, profile.languages, profile.avoid_user_ids) == (
        2,
        ["python", "sql"],
        ["en", "uk"],
        [str(avoid.pk)],
    )
    [entry] = audit("mentorship_profile.created", profile)
    assert entry.actor == operator

    change = url(Profile, "change", profile.pk)
    response = ops.post(change, {**data, "capacity": "1", "timezone": "Europe/Kyiv", "avoid": "", "skills": "go"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.capacity, profile.skills, profile.avoid_user_ids) == (1, ["go"], [])
    [entry] = audit("mentorship_profile.updated", profile)
    assert entry.changes["skills"] == [["python", "sql"], ["go"]]


def test_deactivating_profiles_goes_through_the_service(ops, pool):
    ann = Profile.objects.get(user=pool["ann"])
    response = ops.post(url(Profile, "changelist"), {"action": "deactivate", "_selected_action": [str(ann.pk)]})
    assert messages(response) == ["Deactivated 1 profile(s)."]
    ann.refresh_from_db()
    assert ann.active is False
    assert audit("mentorship_profile.updated", ann)[0].changes == {"active": [True, False]}


def test_progress_records_are_read_only_lists(ops, active, program, pool):
    checkin_log(match=active, by=pool["ann"], mood=4, notes="Good start")
    feedback_give(match=active, author=pool["ann"], rating=5, comment="Great")
    milestone_reach(user=pool["ann"], program=program, key="cv-ready", title="CV ready")
    from core import clock

    activity_record(program=program, user=pool["ann"], kind="event", occurred_at=clock.now(), title="Meetup")
    for model, column, value in (
        (CheckIn, "mood", "4"),
        (Feedback, "rating", "5"),
        (Milestone, "key", "cv-ready"),
        (Activity, "title", "Meetup"),
    ):
        response = ops.get(url(model, "changelist"))
        assert response.status_code == 200
        assert cells(response.content.decode(), column) == [value]
        row = model.objects.get()
        assert ops.get(url(model, "add")).status_code == 403
        assert ops.get(url(model, "delete", row.pk)).status_code == 403
        detail = ops.get(url(model, "change", row.pk))
        assert detail.status_code == 200
        assert 'type="submit" value="Save"' not in detail.content.decode()

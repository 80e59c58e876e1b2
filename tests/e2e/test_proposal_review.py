"""The proposal review screen in a real browser: an operator opens it from the admin, runs
matching, reads a pair's per-criterion breakdown and the unmatched mentee's reason, is told that
rejecting needs a reason, and approves a proposal, which becomes an active match."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.models import AuditEntry
from mentorship.enums import MatchStatus
from mentorship.models import Match
from mentorship.services import profile_upsert
from tests.e2e.conftest import browser_page
from tests.e2e.test_admin_ui import PASSWORD, admin_sign_in

pytestmark = pytest.mark.e2e


def test_an_operator_runs_matching_and_approves_a_proposal(site, program, make_user):
    operator = make_user(email="olu@example.org", password=PASSWORD, role="operator", is_staff=True)
    people = {}
    for email, kind, data in (
        ("mina@example.org", "mentor", {"languages": ["uk", "en"], "skills": ["python"], "capacity": 1}),
        ("max@example.org", "mentor", {"languages": ["en"], "skills": ["sql"], "capacity": 1}),
        ("ann@example.org", "mentee", {"languages": ["uk"], "skills": ["python"]}),
        ("bob@example.org", "mentee", {"languages": ["en"], "skills": ["sql"]}),
        ("cem@example.org", "mentee", {"languages": ["ar"], "skills": ["sql"]}),
    ):
        people[email] = make_user(email=email)
        profile_upsert(program=program, user=people[email], kind=kind, data={**data, "timezone": "Europe/Kyiv"})

    with browser_page() as page:
        admin_sign_in(page, site, operator.email)
        page.get_by_role("link", name="Proposal batches").click()
        page.get_by_test_id("review-index-link").click()
        page.get_by_role("link", name="Mentorship 2026").click()
        expect(page.get_by_test_id("no-batch")).to_have_text("Matching has not run in this program yet.")
        expect(page.get_by_test_id("pool")).to_have_text("2 mentor(s), 3 mentee(s)")

        page.get_by_role("button", name="Run matching").click()
        expect(page.locator("ul.messagelist")).to_have_text(
            "Matching ran: 2 proposal(s), 1 mentee(s) unmatched; total score 2.000 against 2.000 for the greedy "
            "baseline."
        )
        rows = page.get_by_test_id("proposal")
        expect(rows).to_have_count(2)
        ann_row = rows.filter(has_text="ann@example.org")
        expect(ann_row.get_by_test_id("mentor")).to_have_text("mina@example.org")
        expect(ann_row.get_by_test_id("score")).to_have_text("1.000")
        expect(ann_row.get_by_test_id("criterion-language")).to_have_text("Language 0.30 1.00 Shared: uk.")
        expect(ann_row.get_by_test_id("criterion-skills")).to_have_text("Skills 0.30 1.00 1 of 1 wanted: python.")
        expect(ann_row.get_by_test_id("criterion-timezone")).to_have_text(
            "Time zone 0.20 1.00 0 h apart (Europe/Kyiv / Europe/Kyiv)."
        )
        unmatched = page.get_by_test_id("unmatched-mentee")
        expect(unmatched).to_have_count(1)
        expect(unmatched).to_contain_text("cem@example.org")
        expect(unmatched.get_by_test_id("unmatched-reason")).to_have_text(
            "No mentor with a free place shares a language with them."
        )

        # Rejecting without a reason is refused.
        ann_row.get_by_role("checkbox").check()
        page.get_by_role("button", name="Reject selected").click()
        expect(page.locator("ul.messagelist")).to_have_text("Say why the proposals are rejected.")

        # Approve Ann's proposal (still ticked after the refusal).
        ann_row = page.get_by_test_id("proposal").filter(has_text="ann@example.org")
        expect(ann_row.get_by_role("checkbox")).to_be_checked()
        page.get_by_label("Reason for the decision").fill("Both prefer Ukrainian")
        page.get_by_role("button", name="Approve selected").click()
        expect(page.locator("ul.messagelist")).to_have_text("Approved 1 proposal(s); they are active matches now.")
        expect(ann_row.get_by_test_id("status")).to_have_text("Active")
        expect(ann_row.get_by_role("checkbox")).to_have_count(0)
        expect(
            page.get_by_test_id("proposal").filter(has_text="bob@example.org").get_by_test_id("status")
        ).to_have_text("Proposed")

    match = Match.objects.get(mentee=people["ann@example.org"])
    assert (match.status, match.mentor_id, match.decided_by_id) == (
        MatchStatus.ACTIVE,
        people["mina@example.org"].pk,
        operator.pk,
    )
    entry = AuditEntry.objects.get(action="match.approved", target_id=str(match.pk))
    assert (entry.actor_id, entry.reason) == (operator.pk, "Both prefer Ukrainian")
    assert Match.objects.get(mentee=people["bob@example.org"]).status == MatchStatus.PROPOSED

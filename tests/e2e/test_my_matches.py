"""My matches in a real browser: a mentee finds their mentor, logs a check-in (a missing mood is
refused in place), and gives feedback, which the page then shows as theirs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mentorship.models import CheckIn, Feedback
from mentorship.services import match_create_manual, milestone_reach, profile_upsert
from tests.e2e.conftest import browser_page, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "match3s-passw0rd!"


def test_a_mentee_logs_a_check_in_and_gives_feedback(site, program, make_user, operator):
    mina = make_user(email="mina@example.org", full_name="Mina Mentor")
    ann = make_user(email="ann@example.org", password=PASSWORD, full_name="Ann Avery")
    profile_upsert(program=program, user=mina, kind="mentor", data={"languages": ["uk"], "capacity": 1})
    profile_upsert(program=program, user=ann, kind="mentee", data={"languages": ["uk"]})
    match = match_create_manual(program=program, mentor=mina, mentee=ann, reason="Both in Kyiv", actor=operator)
    milestone_reach(user=ann, program=program, key="cv-ready", title="CV ready")

    with browser_page(timezone_id="Europe/Kyiv") as page:
        sign_in(page, site, ann.email, PASSWORD)
        page.get_by_test_id("nav-matches").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("My matches")
        card = page.get_by_test_id("match")
        expect(card).to_have_count(1)
        expect(card.get_by_test_id("partner")).to_have_text("Your mentor: Mina Mentor")
        expect(card.get_by_test_id("status")).to_have_text("Active")
        expect(card.get_by_test_id("checkin-count")).to_have_text("0")
        expect(page.get_by_test_id("milestone")).to_contain_text("CV ready")

        # A check-in without a mood is refused in place; the notes stay as typed.
        card.get_by_text("Log a check-in").click()
        card.get_by_label("Notes (optional)").fill("We rewrote my CV together.")
        card.get_by_role("button", name="Save the check-in").click()
        expect(page.locator("ul.messages")).to_have_text("Your check-in was not saved: see the form below.")
        expect(card.get_by_test_id("error-checkin-mood")).to_have_text("This field is required.")
        expect(card.get_by_label("Notes (optional)")).to_have_value("We rewrote my CV together.")
        card.get_by_role("radio", name="4").check()
        card.get_by_role("button", name="Save the check-in").click()
        expect(page.locator("ul.messages")).to_have_text("Your check-in with Mina Mentor is saved.")
        expect(card.get_by_test_id("checkin-count")).to_contain_text("1, the last on")
        recent = page.get_by_test_id("recent-checkin")
        expect(recent).to_have_count(1)
        expect(recent).to_contain_text("You · mood 4/5")
        expect(recent.get_by_test_id("checkin-notes")).to_have_text("We rewrote my CV together.")

        # Feedback: a rating and a comment; afterwards the page shows it as given.
        card.get_by_text("Give feedback").click()
        card.get_by_test_id("feedback").get_by_role("radio", name="5").check()
        card.get_by_label("Comment (optional)").fill("Patient and practical.")
        card.get_by_role("button", name="Send feedback").click()
        expect(page.locator("ul.messages")).to_have_text("Thank you for your feedback.")
        expect(card.get_by_test_id("feedback").locator("summary")).to_have_text("Your feedback: 5/5 (change it)")

    checkin = CheckIn.objects.get()
    assert (checkin.match_id, checkin.by_id, checkin.mood, checkin.notes) == (
        match.pk,
        ann.pk,
        4,
        "We rewrote my CV together.",
    )
    feedback = Feedback.objects.get()
    assert (feedback.match_id, feedback.author_id, feedback.rating, feedback.comment) == (
        match.pk,
        ann.pk,
        5,
        "Patient and practical.",
    )

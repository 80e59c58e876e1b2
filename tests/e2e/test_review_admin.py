"""A reviewer scores an application in the admin, in a real browser: only their assigned
applications are listed, a blind program hides who applied, an out-of-scale score is refused in
place, and the corrected review lands in the database with the exact weighted total."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from applications.models import Application, Review
from applications.services import (
    application_form_publish,
    application_start,
    assignments_create,
    program_reviewer_add,
    scoring_rubric_publish,
)
from programs.models import ProgramTrack
from tests.e2e.conftest import browser_page
from tests.e2e.test_admin_ui import PASSWORD, admin_sign_in

pytestmark = pytest.mark.e2e

BLIND = {"application": {"requires_application": True, "blind_review": True}}
FIELDS = [
    {"key": "pen_name", "label": "Pen name", "type": "short_text", "required": True},
    {"key": "logline", "label": "Logline", "type": "long_text", "required": True},
    {"key": "income", "label": "Household income", "type": "number", "reviewer_visible": False},
]
CRITERIA = [
    {"key": "craft", "label": "Craft", "weight": 3, "scale_min": 1, "scale_max": 5, "description": "Scenes, dialogue"},
    {"key": "voice", "label": "Voice", "weight": 1, "scale_min": 0, "scale_max": 10},
    {"key": "fit", "label": "Fit", "weight": 1, "scale_min": 1, "scale_max": 5, "independent": True},
]


@pytest.fixture
def blind_round(make_program, mentorship_template, make_user):
    program = make_program(mentorship_template, name="Blind Reads", config_overrides=BLIND)
    application_form_publish(program=program, fields=FIELDS, tracks=[{"key": "screen", "name": "Screen"}])
    scoring_rubric_publish(program=program, criteria=CRITERIA)
    track = ProgramTrack.objects.get(program=program)
    reviewer = make_user(email="rita@example.org", password=PASSWORD, role="reviewer", is_staff=True)
    other = make_user(email="rob@example.org", password=PASSWORD, role="reviewer", is_staff=True)
    mine = application_start(
        applicant=make_user(email="secret.sam@example.org", full_name="Samira Secret"),
        program=program,
        answers={"pen_name": "Lantern", "logline": "A ferry that never docks.", "income": 4321},
        track=track,
        submit=True,
    )
    theirs = application_start(
        applicant=make_user(email="tom@example.org", full_name="Tom Other"),
        program=program,
        answers={"pen_name": "Otter", "logline": "Rivers.", "income": 1},
        track=track,
        submit=True,
    )
    for member in (reviewer, other):
        program_reviewer_add(program=program, reviewer=member)
    assignments_create(program=program, pairs=[(mine.pk, reviewer.pk), (theirs.pk, other.pk)])
    return {"program": program, "reviewer": reviewer, "mine": mine, "theirs": theirs}


def test_reviewer_scores_an_assigned_application_in_a_blind_program(site, blind_round):
    mine, theirs = blind_round["mine"], blind_round["theirs"]
    label = f"#{str(mine.pk)[:8]}"
    with browser_page() as page:
        admin_sign_in(page, site, "rita@example.org")
        page.get_by_role("link", name="Applications", exact=True).click()

        # Only the application given to this reviewer, without who sent it.
        expect(page).to_have_url(f"{site}/admin/applications/application/")
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.locator("th.field-label")).to_have_text(label)
        expect(rows.locator("td.field-who")).to_have_text("(blind review)")
        expect(rows.locator("td.field-program")).to_have_text("Blind Reads")
        expect(rows.locator("td.field-status")).to_have_text("Under review")
        expect(page.locator("#content")).not_to_contain_text("Samira")
        expect(page.locator("#content")).not_to_contain_text(f"#{str(theirs.pk)[:8]}")
        expect(page.locator("select[name=action]")).to_have_count(0)

        # The application: answers meant for reviewers only, no identity anywhere on the page.
        rows.get_by_role("link", name=label).click()
        expect(page).to_have_url(f"{site}/admin/applications/application/{mine.pk}/change/")
        expect(page.locator("div.field-who .readonly")).to_have_text("(blind review)")
        answers = page.locator("div.field-answers_table table.answers")
        expect(answers).to_contain_text("Lantern")
        expect(answers).to_contain_text("A ferry that never docks.")
        expect(answers).not_to_contain_text("Household income")
        expect(page.locator("div.field-reviews_table")).to_contain_text(
            "Other reviews are shown once you have submitted yours."
        )
        expect(page.locator("body")).not_to_contain_text("secret.sam")
        expect(page.locator("body")).not_to_contain_text("Samira")
        assert "secret.sam" not in page.title()

        page.get_by_role("link", name="Score this application").click()
        expect(page).to_have_url(f"{site}/admin/applications/application/{mine.pk}/review/")
        expect(page.get_by_test_id("applicant")).to_have_text("Blind review: the applicant's identity is hidden.")
        expect(page.get_by_test_id("answers")).not_to_contain_text("4321")
        expect(page.get_by_test_id("review-form")).to_contain_text("Scores (rubric v1)")
        expect(page.get_by_test_id("other-reviews")).to_contain_text(
            "Other reviews are shown once you have submitted yours."
        )

        # Out of scale: refused with the API's message (its 400), shown at the input.
        page.get_by_label("Craft (1-5)").fill("6")
        page.get_by_label("Voice (0-10)").fill("7")
        page.get_by_label("Fit (1-5)").fill("2")
        page.get_by_label("Recommendation").select_option(label="Accept")
        page.get_by_label("Comment to the deciders").fill("Bold structure.")
        page.get_by_role("button", name="Save review").click()

        expect(page).to_have_url(f"{site}/admin/applications/application/{mine.pk}/review/")
        expect(page.get_by_test_id("error-craft")).to_have_text("Between 1 and 5.")
        expect(page.get_by_label("Craft (1-5)")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Craft (1-5)")).to_have_value("6")
        expect(page.get_by_label("Voice (0-10)")).to_have_value("7")
        expect(page.get_by_label("Recommendation")).to_have_value("accept")
        expect(page.get_by_label("Comment to the deciders")).to_have_value("Bold structure.")
        expect(page.locator("ul.errorlist")).to_have_count(1)

        page.get_by_label("Craft (1-5)").fill("4")
        page.get_by_role("button", name="Save review").click()

        expect(page).to_have_url(f"{site}/admin/applications/application/{mine.pk}/change/")
        expect(page.locator("ul.messagelist")).to_have_text("Your review was saved.")
        reviews = page.locator("div.field-reviews_table table.reviews tbody tr")
        expect(reviews).to_have_count(1)
        expect(reviews).to_contain_text("you")
        expect(reviews).to_contain_text("73.7500")
        expect(page.locator("div.field-scores_summary")).to_contain_text("1 reviews · mean 73.7500 · median 73.7500")

    review = Review.objects.get()
    assert review.reviewer == blind_round["reviewer"]
    assert review.application_id == mine.pk
    assert review.scores == {"craft": 4, "voice": 7, "fit": 2}
    assert review.recommendation == "accept" and review.comment == "Bold structure."
    # craft (4-1)/(5-1) = 75 with weight 3, voice 7/10 = 70 with weight 1; fit is independent:
    # (3 * 75 + 1 * 70) / 4.
    assert review.weighted_total == Decimal("73.7500")
    mine = Application.objects.get(pk=mine.pk)
    assert mine.review_count == 1
    assert mine.mean_score == Decimal("73.7500")
    assert mine.median_score == Decimal("73.7500")
    assert mine.recommendations == {"accept": 1}
    assert Review.objects.filter(application=theirs).count() == 0

"""The applicant's pages in a real browser: catalog -> program page -> apply (the form built from
the program's definition, field errors in place, draft, submit) -> my applications (status,
timeline, withdraw, an offered waitlist place)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from applications.models import Application, WaitlistOffer
from applications.services import (
    application_form_publish,
    application_start,
    application_withdraw,
    decision_make,
    scoring_rubric_publish,
)
from enrollments.models import Enrollment
from programs.models import ProgramTrack
from tests.e2e.conftest import browser_page, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "appl1cant-passw0rd!"
CLOSES_AT = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo
FIELDS = [
    {
        "key": "pen_name",
        "label": "Pen name",
        "type": "short_text",
        "required": True,
        "help_text": "As it should appear in print.",
    },
    {"key": "years", "label": "Years writing", "type": "number", "required": True, "min": 0, "max": 50},
    {"key": "genre", "label": "Genre", "type": "single_choice", "required": True, "options": ["Drama", "Comedy"]},
    {"key": "formats", "label": "Formats", "type": "multi_choice", "options": ["Feature", "Series", "Short"]},
    {"key": "pitch", "label": "Your pitch", "type": "long_text", "required": True, "max_words": 40},
    {"key": "consent", "label": "I agree to the programme terms", "type": "boolean", "required": True},
]
TRACKS = [{"key": "screen", "name": "Screen"}, {"key": "stage", "name": "Stage"}]
CRITERIA = [{"key": "craft", "label": "Craft", "weight": 1, "scale_min": 1, "scale_max": 5}]
ANSWERS = {
    "pen_name": "Q. Writer",
    "years": 3,
    "genre": "Comedy",
    "formats": ["Short"],
    "pitch": "A play.",
    "consent": True,
}
PITCH = "A lighthouse keeper writes letters to a ship that sank."


def with_form(program, tracks=TRACKS):
    application_form_publish(program=program, fields=FIELDS, tracks=tracks)
    scoring_rubric_publish(program=program, criteria=CRITERIA)
    return {t.key: t for t in ProgramTrack.objects.filter(program=program)}


@pytest.fixture
def writers_room(make_program, mentorship_template):
    program = make_program(mentorship_template, name="Writers' Room", closes_at=CLOSES_AT)
    return program, with_form(program)


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.org", password=PASSWORD, full_name="Ada Quill")


def visit_catalog_then_sign_in(page: Page, site: str, email: str) -> None:
    page.goto(site + "/")
    # tz.js stores the browser's zone in a cookie (one reload); every page after shows it.
    expect(page.get_by_test_id("viewer-tz")).to_have_text("Asia/Tokyo")
    sign_in(page, site, email, PASSWORD)
    expect(page.get_by_test_id("who")).to_be_visible()
    expect(page).to_have_url(site + "/")


def messages(page: Page):
    return page.locator("ul.messages")


def test_applicant_goes_from_catalog_to_a_submitted_application_and_withdraws(site, writers_room, ada):
    program, _ = writers_room
    apply_url = f"{site}/programs/{program.program_key}/apply/"
    with browser_page(timezone_id="Asia/Tokyo") as page:
        visit_catalog_then_sign_in(page, site, ada.email)

        # The program page: tracks, the window in the viewer's time zone, the call to action.
        page.get_by_role("link", name="Writers' Room").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Writers' Room")
        expect(page.get_by_test_id("tracks")).to_have_text("Screen, Stage")
        expect(page.get_by_test_id("window")).to_contain_text("close 15 Jan 2030, 21:00 JST")
        expect(page.get_by_test_id("action")).to_have_text("Apply")
        page.get_by_test_id("action").click()

        # The form is built from the definition.
        expect(page).to_have_url(apply_url)
        expect(page.get_by_role("heading", level=1)).to_have_text("Apply to Writers' Room")
        expect(page.get_by_test_id("deadline")).to_have_text("15 Jan 2030, 21:00 JST")
        expect(page.get_by_test_id("deadline")).to_have_attribute("datetime", "2030-01-15T21:00:00+09:00")
        expect(page.get_by_label("Track")).to_have_value("")
        expect(page.get_by_label("Years writing")).to_have_attribute("type", "number")
        expect(page.get_by_label("Years writing")).to_have_attribute("max", "50")
        expect(page.get_by_test_id("field-pen_name")).to_contain_text("As it should appear in print.")
        expect(page.get_by_role("radio")).to_have_count(2)
        expect(page.get_by_test_id("field-formats").get_by_role("checkbox")).to_have_count(3)
        expect(page.get_by_role("button", name="Save draft")).to_be_visible()

        # A number over its maximum: the error shows at the field, everything typed stays.
        page.get_by_label("Track").select_option(label="Screen")
        page.get_by_label("Pen name").fill("Ada Quill")
        page.get_by_label("Years writing").fill("99")
        page.get_by_label("Drama").check()
        page.get_by_label("Feature").check()
        page.get_by_label("Series").check()
        page.get_by_label("Your pitch").fill(PITCH)
        page.get_by_label("I agree to the programme terms").check()
        page.get_by_role("button", name="Submit application").click()

        expect(messages(page)).to_have_text("Please correct the fields marked below.")
        expect(page.get_by_test_id("error-years")).to_have_text("At most 50.")
        years = page.get_by_label("Years writing")
        expect(years).to_have_attribute("aria-invalid", "true")
        expect(years).to_have_attribute("aria-describedby", "error-years")
        expect(years).to_have_value("99")
        expect(page.locator(".field-error")).to_have_count(1)
        expect(page.get_by_label("Pen name")).to_have_value("Ada Quill")
        expect(page.get_by_label("Track").locator("option:checked")).to_have_text("Screen")
        expect(page.get_by_label("Drama")).to_be_checked()
        expect(page.get_by_label("Feature")).to_be_checked()
        expect(page.get_by_label("Series")).to_be_checked()
        expect(page.get_by_label("Short")).not_to_be_checked()
        expect(page.get_by_label("Your pitch")).to_have_value(PITCH)
        expect(page.get_by_label("I agree to the programme terms")).to_be_checked()

        # Fixed and saved as a draft.
        years.fill("12")
        page.get_by_role("button", name="Save draft").click()
        expect(messages(page)).to_have_text("Your draft was saved.")
        expect(page).to_have_url(apply_url)
        expect(page.locator(".field-error")).to_have_count(0)
        expect(page.get_by_label("Years writing")).to_have_value("12")
        expect(page.get_by_label("Your pitch")).to_have_value(PITCH)

        # An emptied answer is removed from the draft (a draft may lack required answers), and
        # submitting then asks for it in place; the draft keeps the rest.
        page.get_by_label("Your pitch").fill("")
        page.get_by_label("Series").uncheck()
        page.get_by_role("button", name="Submit application").click()
        expect(messages(page)).to_contain_text("Your draft was saved, but it cannot be submitted yet")
        expect(page.get_by_test_id("error-pitch")).to_have_text("This field is required.")
        expect(page.get_by_label("Your pitch")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Your pitch")).to_have_value("")
        expect(page.get_by_label("Pen name")).to_have_value("Ada Quill")
        expect(page.get_by_label("Series")).not_to_be_checked()
        page.goto(apply_url)  # what the draft holds now
        expect(page.get_by_label("Your pitch")).to_have_value("")
        expect(page.get_by_label("Feature")).to_be_checked()
        expect(page.get_by_label("Series")).not_to_be_checked()

        page.get_by_label("Your pitch").fill(PITCH)
        page.get_by_role("button", name="Submit application").click()

        # My applications: the status and the timeline, times where the viewer is.
        expect(page).to_have_url(f"{site}/applications/")
        expect(page.get_by_role("heading", level=1)).to_have_text("My applications")
        expect(messages(page)).to_have_text("Your application was submitted.")
        card = page.get_by_test_id("application")
        expect(card).to_have_count(1)
        expect(card.get_by_role("heading", level=2)).to_have_text("Writers' Room · Screen")
        expect(card.get_by_test_id("status")).to_have_text("Submitted")
        timeline = card.get_by_test_id("timeline").get_by_role("listitem")
        expect(timeline).to_have_count(2)
        expect(timeline.nth(0)).to_have_text(re.compile(r"^\d{1,2} \w{3} \d{4}, \d\d:\d\d JST Started$"))
        expect(timeline.nth(1)).to_have_text(re.compile(r"JST Submitted$"))
        expect(timeline.nth(1).locator("time")).to_have_attribute("datetime", re.compile(r"\+09:00$"))
        # Submitted answers cannot change in this program (allow_edit_after_submit is off).
        expect(card.get_by_role("link", name="Edit your answers")).to_have_count(0)

        # Withdraw.
        card.get_by_role("button", name="Withdraw").click()
        expect(messages(page)).to_have_text("Your application was withdrawn.")
        expect(card.get_by_test_id("status")).to_have_text("Withdrawn")
        expect(timeline).to_have_count(3)
        expect(timeline.nth(2)).to_contain_text("Withdrawn")
        expect(card.get_by_role("button", name="Withdraw")).to_have_count(0)

        # The program page offers to apply again.
        card.get_by_role("link", name="Writers' Room").click()
        expect(page.get_by_test_id("action")).to_have_text("Apply")

    application = Application.objects.select_related("track", "form").get(applicant=ada)
    assert application.status == "withdrawn"
    assert application.track.key == "screen"
    assert application.form.version == 1
    assert application.submitted_at is not None
    assert application.answers == {
        "pen_name": "Ada Quill",
        "years": 12,
        "genre": "Drama",
        "formats": ["Feature"],
        "pitch": PITCH,
        "consent": True,
    }


def test_waitlisted_applicant_takes_an_offered_place(site, writers_room, ada, make_user):
    program, tracks = writers_room
    first = make_user(email="first@example.org")
    accepted = application_start(applicant=first, program=program, answers=ANSWERS, track=tracks["screen"], submit=True)
    mine = application_start(applicant=ada, program=program, answers=ANSWERS, track=tracks["screen"], submit=True)
    decision_make(application=accepted, decision="accepted", reason="Top of the list")
    decision_make(application=mine, decision="waitlisted", reason="Loved it; the places are full")
    application_withdraw(application=accepted, actor=first, reason="moving abroad")  # the place goes to Ada
    offer = WaitlistOffer.objects.get(application=mine)

    with browser_page(timezone_id="Asia/Tokyo") as page:
        visit_catalog_then_sign_in(page, site, ada.email)
        page.get_by_role("link", name="Writers' Room").click()
        expect(page.get_by_test_id("action")).to_have_text("See my application")
        page.get_by_test_id("action").click()

        expect(page).to_have_url(f"{site}/applications/")
        card = page.get_by_test_id("application")
        expect(card.get_by_test_id("status")).to_have_text("Waitlisted")
        expect(card.get_by_test_id("decision")).to_have_text("Loved it; the places are full")
        notice = card.get_by_test_id("offer")
        expect(notice).to_contain_text("A place is free for you. Answer by")
        expect(notice.locator("time")).to_have_text(re.compile(r"JST$"))
        expect(notice.locator("time")).to_have_attribute("datetime", re.compile(r"\+09:00$"))
        timeline = card.get_by_test_id("timeline")
        expect(timeline).to_contain_text("Waitlisted")
        expect(timeline).to_contain_text("Place offered")

        notice.get_by_role("button", name="Take the place").click()
        expect(messages(page)).to_have_text("Welcome aboard!")
        expect(card.get_by_test_id("status")).to_have_text("Accepted")
        expect(card.get_by_test_id("offer")).to_have_count(0)
        expect(card.get_by_role("button", name="Decline my place")).to_be_visible()

    mine.refresh_from_db()
    offer.refresh_from_db()
    assert (mine.status, mine.decision_reason) == ("accepted", "took the offered place")
    assert offer.status == "accepted" and offer.responded_at is not None
    assert Enrollment.objects.get(user=ada, program=program).status == "active"


def test_program_page_offers_to_apply_only_when_the_program_takes_applications(
    site, make_program, mentorship_template, ada
):
    no_form = make_program(mentorship_template, name="Reading Circle")
    open_call = make_program(mentorship_template, name="Open Call", closes_at=CLOSES_AT)
    with_form(open_call)
    closed_call = make_program(
        mentorship_template, name="Closed Call", closes_at=datetime(2020, 1, 31, 12, 0, tzinfo=UTC)
    )
    with_form(closed_call, tracks=None)

    with browser_page(timezone_id="Asia/Tokyo") as page:
        # No form: nothing to apply to.
        page.goto(f"{site}/programs/{no_form.program_key}/")
        expect(page.get_by_test_id("viewer-tz")).to_have_text("Asia/Tokyo")
        expect(page.get_by_role("heading", level=1)).to_have_text("Reading Circle")
        expect(page.get_by_test_id("action")).to_have_count(0)

        # A form and an open window: "Apply", which asks a visitor to sign in first.
        page.goto(f"{site}/programs/{open_call.program_key}/")
        expect(page.get_by_test_id("action")).to_have_text("Apply")
        expect(page.get_by_test_id("action-note")).to_have_count(0)
        page.get_by_test_id("action").click()
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
        page.get_by_label("E-mail").fill(ada.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{site}/programs/{open_call.program_key}/apply/")

        # The window has closed: a draft can still be saved, with the reason shown.
        page.goto(f"{site}/programs/{closed_call.program_key}/")
        expect(page.get_by_test_id("window")).to_contain_text("close 31 Jan 2020, 21:00 JST")
        expect(page.get_by_test_id("action")).to_have_text("Save a draft application")
        expect(page.get_by_test_id("action-note")).to_have_text(
            "Applications to 'Closed Call' closed at 31 Jan 2020, 21:00 JST."
        )
        page.get_by_test_id("action").click()
        expect(page.get_by_test_id("closed")).to_contain_text("You can still save a draft.")
        expect(page.get_by_role("button", name="Submit application")).to_have_count(0)
        expect(page.get_by_label("Track")).to_have_count(0)  # this program has no tracks
        page.get_by_label("Pen name").fill("Late Larry")
        page.get_by_role("button", name="Save draft").click()
        expect(messages(page)).to_have_text("Your draft was saved.")
        expect(page.get_by_label("Pen name")).to_have_value("Late Larry")

        # Once applied (even a draft), the page leads to the application.
        page.goto(f"{site}/programs/{closed_call.program_key}/")
        expect(page.get_by_test_id("action")).to_have_text("See my application")
        page.get_by_test_id("action").click()
        card = page.get_by_test_id("application")
        expect(card.get_by_test_id("status")).to_have_text("Draft")
        expect(card.get_by_role("link", name="Continue your draft")).to_be_visible()

    draft = Application.objects.get(applicant=ada)
    assert (draft.program_id, draft.status, draft.answers) == (
        closed_call.pk,
        "draft",
        {"pen_name": "Late Larry", "consent": False},  # an unticked box is an answer: "no"
    )


def test_someone_elses_application_cannot_be_withdrawn_or_answered(writers_room, ada, make_user, client):
    """Without a browser: the pages' POST endpoints find the application among the user's own."""
    program, tracks = writers_room
    mine = application_start(applicant=ada, program=program, answers=ANSWERS, track=tracks["screen"], submit=True)
    client.force_login(make_user(email="mallory@example.org"))
    for name in ("application-withdraw", "application-offer"):
        response = client.post(reverse(name, args=[mine.pk]), {"answer": "accept"})
        assert response.status_code == 404, name
    mine.refresh_from_db()
    assert mine.status == "submitted"

    client.force_login(ada)
    response = client.post(reverse("application-withdraw", args=[mine.pk]))
    assert response.status_code == 302 and response.url == reverse("my-applications")
    mine.refresh_from_db()
    assert mine.status == "withdrawn"

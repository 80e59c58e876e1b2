"""The public catalog and program detail pages in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser_page, sign_in

pytestmark = pytest.mark.e2e

CLOSES_AT = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def catalog_rows(make_program, builtin_templates):
    mentorship = make_program(
        builtin_templates["mentorship-standard"],
        name="Mentoring for Founders",
        tags=["career", "founders"],
        closes_at=CLOSES_AT,
    )
    buddy = make_program(builtin_templates["buddy-standard"], name="Buddies in Berlin", tags=["social"])
    draft = make_program(builtin_templates["mentorship-standard"], name="Secret Draft Program", status="draft")
    return {"mentorship": mentorship, "buddy": buddy, "draft": draft}


def test_catalog_lists_only_active_programs_and_filters_by_type(site, catalog_rows):
    with browser_page() as page:
        page.goto(site + "/")
        cards = page.get_by_test_id("program-card")
        expect(page.get_by_role("heading", level=1)).to_have_text("Programs")
        expect(page.get_by_test_id("result-count")).to_have_text("2 programs")
        expect(cards).to_have_count(2)
        expect(cards.get_by_role("heading")).to_have_text(["Buddies in Berlin", "Mentoring for Founders"])
        expect(page.locator("main")).not_to_contain_text("Secret Draft Program")

        page.get_by_label("Program type").select_option(label="Buddy / peer support")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"program_type=buddy"))
        expect(page.get_by_test_id("result-count")).to_have_text("1 program")
        expect(cards).to_have_count(1)
        expect(cards.get_by_role("heading")).to_have_text(["Buddies in Berlin"])
        expect(page.get_by_label("Program type")).to_have_value("buddy")

        page.get_by_label("Program type").select_option(label="Fee waiver")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_test_id("result-count")).to_have_text("0 programs")
        expect(page.locator(".program-grid")).to_contain_text("No programs match these filters.")


def test_tag_link_filters_the_catalog(site, catalog_rows):
    with browser_page() as page:
        page.goto(site + "/")
        expect(page.get_by_test_id("program-card")).to_have_count(2)
        page.get_by_role("link", name="founders", exact=True).click()
        expect(page).to_have_url(re.compile(r"\?tag=founders$"))
        expect(page.get_by_test_id("result-count")).to_have_text("1 program")
        expect(page.get_by_test_id("program-card").get_by_role("heading")).to_have_text(["Mentoring for Founders"])


def test_search_box_filters_by_words(site, catalog_rows):
    with browser_page() as page:
        page.goto(site + "/")
        page.get_by_label("Search").fill("berlin")
        page.get_by_label("Search").press("Enter")
        expect(page.get_by_test_id("result-count")).to_have_text("1 program")
        expect(page.get_by_test_id("program-card").get_by_role("heading")).to_have_text(["Buddies in Berlin"])


def test_draft_program_detail_is_not_found(site, catalog_rows):
    key = catalog_rows["draft"].program_key
    with browser_page() as page:
        response = page.goto(f"{site}/programs/{key}/")
        assert response is not None and response.status == 404
        expect(page.locator("body")).not_to_contain_text("Secret Draft Program")


def test_program_detail_shows_facts_and_window_in_browser_time_zone(site, catalog_rows):
    program = catalog_rows["mentorship"]
    with browser_page(timezone_id="Asia/Tokyo") as page:
        page.goto(site + "/")
        page.get_by_role("link", name="Mentoring for Founders").click()
        expect(page).to_have_url(f"{site}/programs/{program.program_key}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Mentoring for Founders")
        expect(page.get_by_test_id("session-facts")).to_have_text("60 minutes, biweekly, online")
        # tz.js stores the browser's zone in a cookie and reloads once; the server then renders
        # the window where the viewer is.
        expect(page.get_by_test_id("window")).to_contain_text("close 15 Jan 2030, 21:00 JST")
        expect(page.get_by_test_id("viewer-tz")).to_have_text("Asia/Tokyo")
        expect(page.get_by_test_id("window").locator("time")).to_have_attribute(
            "datetime", "2030-01-15T21:00:00+09:00"
        )
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        assert cookies["tz"] == "Asia/Tokyo"


def test_catalog_card_shows_closing_time_in_browser_time_zone(site, catalog_rows):
    with browser_page(timezone_id="Asia/Tokyo") as page:
        page.goto(site + "/")
        card = page.get_by_test_id("program-card").filter(has_text="Mentoring for Founders")
        expect(card).to_contain_text("Applications close 15 Jan 2030, 21:00 JST")


def test_signed_in_users_profile_time_zone_wins_over_the_browser(site, catalog_rows, make_user):
    program = catalog_rows["mentorship"]
    make_user(email="nyc@example.org", password="nyc-passw0rd!", full_name="Nora York", timezone="America/New_York")
    with browser_page(timezone_id="Asia/Tokyo") as page:
        sign_in(page, site, "nyc@example.org", "nyc-passw0rd!")
        expect(page.get_by_test_id("who")).to_have_text("Nora")
        page.goto(f"{site}/programs/{program.program_key}/")
        expect(page.get_by_test_id("window")).to_contain_text("close 15 Jan 2030, 07:00 EST")
        expect(page.get_by_test_id("viewer-tz")).to_have_text("America/New_York")


def test_catalog_inputs_have_labels_and_skip_link_targets_main(site, catalog_rows):
    with browser_page() as page:
        page.goto(site + "/")
        unlabeled = page.evaluate(
            """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
                .filter(el => !(el.labels && el.labels.length))
                .map(el => el.name || el.id)"""
        )
        assert unlabeled == []
        for label in ("Search", "Program type", "For"):
            expect(page.get_by_label(label, exact=True)).to_be_visible()
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_have_attribute("href", "#main")
        expect(page.locator("main#main")).to_have_count(1)
        # The skip link is the first stop of the keyboard and moves focus into the main content.
        page.keyboard.press("Tab")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("#main")).to_be_focused()


@pytest.mark.parametrize("cookie", ["America", "Not/AZone", "..%2F..%2Fetc%2Fpasswd"])
def test_unusable_tz_cookie_falls_back_to_utc(site, catalog_rows, cookie):
    program = catalog_rows["mentorship"]
    with browser_page(timezone_id="UTC") as page:
        page.context.add_cookies([{"name": "tz", "value": cookie, "url": site}])
        response = page.goto(f"{site}/programs/{program.program_key}/")
        assert response is not None and response.status == 200
        expect(page.get_by_test_id("window")).to_contain_text("close 15 Jan 2030, 12:00 UTC")
        expect(page.get_by_test_id("viewer-tz")).to_have_text("UTC")

"""The public catalog and program detail pages in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote

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
        expect(cards).to_contain_text("For Syrian refugees")

        page.get_by_label("Program type").select_option(label="Fee waiver")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_test_id("result-count")).to_have_text("0 programs")
        expect(page.locator(".program-grid")).to_contain_text("No programs match these filters.")


def test_card_link_opens_the_program_page(site, catalog_rows):
    program = catalog_rows["buddy"]
    with browser_page() as page:
        page.goto(site + "/")
        page.get_by_role("link", name="Buddies in Berlin").click()
        expect(page).to_have_url(f"{site}/programs/{program.program_key}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Buddies in Berlin")
        expect(page.get_by_test_id("session-facts")).to_have_text("90 minutes, weekly")
        expect(page.get_by_test_id("window")).to_have_text("open all year")


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
        # The first visit of this browser: no tz cookie yet.
        page.goto(f"{site}/programs/{program.program_key}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Mentoring for Founders")
        expect(page.get_by_role("navigation", name="Breadcrumb")).to_have_text("Programs / Mentoring for Founders")
        expect(page.get_by_test_id("session-facts")).to_have_text("60 minutes, biweekly, online")
        # tz.js stores the browser's zone in a cookie and reloads once; the server then renders
        # the window where the viewer is.
        expect(page.get_by_test_id("window")).to_contain_text("close 15 Jan 2030, 21:00 JST")
        expect(page.get_by_test_id("viewer-tz")).to_have_text("Asia/Tokyo")
        expect(page.get_by_test_id("window").locator("time")).to_have_attribute("datetime", "2030-01-15T21:00:00+09:00")
        cookies = {c["name"]: unquote(c["value"]) for c in page.context.cookies()}
        assert cookies["tz"] == "Asia/Tokyo"
        expect(page.locator("dl.facts")).to_contain_text("24 weeks")


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


CONTRAST_JS = """(selectors) => {
  function rgb(value) { return (value.match(/[\\d.]+/g) || []).map(Number); }
  function luminance([r, g, b]) {
    const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      const parts = rgb(getComputedStyle(el).backgroundColor);
      if (parts.length === 3 || parts[3] > 0) return parts.slice(0, 3);
    }
    return [255, 255, 255];
  }
  function ratio(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  return Object.fromEntries(selectors.map(sel => {
    const el = document.querySelector(sel);
    return [sel, el ? Math.round(ratio(rgb(getComputedStyle(el).color), background(el)) * 100) / 100 : null];
  }));
}"""


def test_text_contrast_meets_wcag_aa(site, catalog_rows):
    selectors = [
        "h1",
        ".lead",
        "label",
        ".result-count",
        ".badge",
        ".program-card h2 a",
        ".muted",
        ".tag",
        ".button",
        ".nav a",
        ".site-footer",
    ]
    with browser_page() as page:
        page.goto(site + "/")
        expect(page.get_by_test_id("program-card")).to_have_count(2)
        ratios = page.evaluate(CONTRAST_JS, selectors)
    assert all(ratios[s] is not None for s in selectors), ratios
    assert {s: r for s, r in ratios.items() if r < 4.5} == {}


def test_keyboard_focus_is_clearly_visible(site, catalog_rows):
    with browser_page() as page:
        page.goto(site + "/")
        expect(page.get_by_test_id("program-card")).to_have_count(2)
        page.get_by_label("Search").focus()
        page.keyboard.press("Tab")  # keyboard focus: :focus-visible applies
        expect(page.get_by_label("Program type")).to_be_focused()
        style = page.get_by_label("Program type").evaluate(
            "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
        )
    outline_style, outline_width, box_shadow = style
    assert (outline_style, outline_width) == ("solid", "3px")
    # A dark ring next to the control: at least 3:1 against the light page (WCAG 1.4.11).
    assert box_shadow.startswith("rgb(27, 31, 36) 0px 0px 0px 2px")


@pytest.mark.parametrize("width", [320, 375])
def test_pages_fit_a_phone_screen(site, catalog_rows, width):
    program = catalog_rows["mentorship"]
    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 740})
        for path in ("/", f"/programs/{program.program_key}/", "/accounts/login/"):
            page.goto(site + path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)


def test_tz_script_does_not_reload_forever_when_cookies_are_blocked(site, catalog_rows):
    with browser_page(timezone_id="Asia/Tokyo") as page:
        page.add_init_script(
            "Object.defineProperty(Document.prototype, 'cookie',"
            " {get() { return ''; }, set(v) {}, configurable: true});"
        )
        loads = []
        page.on("load", lambda _: loads.append(1))
        page.goto(site + "/")
        page.wait_for_timeout(1500)
        expect(page.get_by_test_id("viewer-tz")).to_have_text("UTC")
    assert len(loads) == 1

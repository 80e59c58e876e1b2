"""Signing in and out through the server-rendered pages, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser_page, sign_in

pytestmark = pytest.mark.e2e

EMAIL = "amira.haddad@example.org"
PASSWORD = "corr3ct-h0rse-battery"
WRONG_PASSWORD_MESSAGE = "Please enter a correct email and password. Note that both fields may be case-sensitive."


@pytest.fixture
def member(make_user):
    return make_user(email=EMAIL, password=PASSWORD, full_name="Amira Haddad")


def test_sign_in_shows_short_name_and_sign_out_logs_out(site, member):
    with browser_page() as page:
        page.goto(site + "/")
        page.get_by_role("link", name="Sign in").click()
        expect(page).to_have_url(f"{site}/accounts/login/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        expect(page).to_have_url(f"{site}/")
        expect(page.get_by_test_id("who")).to_have_text("Amira")
        expect(page.get_by_role("link", name="Sign in")).to_have_count(0)
        # Not staff: no link to the admin.
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")).to_have_count(0)
        assert "sessionid" in {c["name"] for c in page.context.cookies()}

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{site}/")
        expect(page.get_by_role("link", name="Sign in")).to_be_visible()
        expect(page.get_by_test_id("who")).to_have_count(0)
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        assert "sessionid" not in {c["name"] for c in page.context.cookies()}


def test_e_mail_is_case_insensitive_and_next_is_followed(site, member, program):
    detail = f"/programs/{program.program_key}/"
    with browser_page() as page:
        page.goto(f"{site}/accounts/login/?next={detail}")
        page.get_by_label("E-mail").fill(EMAIL.upper())
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").press("Enter")
        expect(page).to_have_url(f"{site}{detail}")
        expect(page.get_by_role("heading", level=1)).to_have_text(program.name)
        expect(page.get_by_test_id("who")).to_have_text("Amira")


def test_staff_user_sees_admin_link(site, make_user):
    make_user(email="ops.lead@example.org", password=PASSWORD, role="operator", is_staff=True)
    with browser_page() as page:
        sign_in(page, site, "ops.lead@example.org", PASSWORD)
        # No full name: the short name is the e-mail's local part.
        expect(page.get_by_test_id("who")).to_have_text("ops.lead")
        admin_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")
        expect(admin_link).to_have_attribute("href", "/admin/")


def test_wrong_password_shows_error_and_keeps_e_mail(site, member):
    with browser_page() as page:
        sign_in(page, site, EMAIL, "not-the-password")
        expect(page).to_have_url(f"{site}/accounts/login/")
        expect(page.get_by_role("alert")).to_have_text(WRONG_PASSWORD_MESSAGE)
        expect(page.get_by_label("E-mail")).to_have_value(EMAIL)
        expect(page.get_by_label("Password")).to_have_value("")
        # Screen readers announce the error with the field it concerns.
        expect(page.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("E-mail")).to_have_accessible_description(WRONG_PASSWORD_MESSAGE)
        expect(page.get_by_test_id("who")).to_have_count(0)
        expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_empty_form_shows_field_errors(site, member):
    with browser_page() as page:
        page.goto(f"{site}/accounts/login/")
        page.get_by_role("button", name="Sign in").click()
        email = page.get_by_label("E-mail")
        expect(email).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#username-error")).to_have_text("This field is required.")
        expect(page.locator("#password-error")).to_have_text("This field is required.")
        expect(email).to_have_attribute("aria-describedby", "username-error")


def test_login_inputs_have_labels_and_skip_link_targets_main(site):
    with browser_page() as page:
        page.goto(f"{site}/accounts/login/")
        fields = page.evaluate(
            """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
                .map(el => [el.name, el.labels && el.labels.length ? el.labels[0].textContent.trim() : null])"""
        )
        assert fields == [["username", "E-mail"], ["password", "Password"]]
        expect(page.get_by_label("E-mail")).to_have_attribute("type", "email")
        expect(page.get_by_label("E-mail")).to_have_attribute("autocomplete", "email")
        expect(page.get_by_label("Password")).to_have_attribute("autocomplete", "current-password")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_have_attribute("href", "#main")
        page.keyboard.press("Tab")
        expect(skip).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"#main$"))
        expect(page.locator("main#main")).to_be_focused()

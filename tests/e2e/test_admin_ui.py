"""The operators' admin in a real browser: sign in, find a draft template, publish it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, expect

from core.models import AuditEntry
from templates_app.models import ProgramTemplate
from templates_app.services import template_new_version
from tests.e2e.conftest import browser_page

pytestmark = pytest.mark.e2e

PASSWORD = "adm1n-passw0rd!"


def admin_sign_in(page: Page, site: str, email: str) -> None:
    page.goto(f"{site}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_have_text("Programs and Events: operations")


def publish_draft_through_the_changelist(page: Page, site: str) -> None:
    page.get_by_role("rowheader", name="Program templates").get_by_role("link").click()
    expect(page).to_have_url(f"{site}/admin/templates_app/programtemplate/")
    draft_row = page.locator("#result_list tbody tr").filter(has_text="Draft")
    expect(draft_row).to_have_count(1)
    expect(draft_row.locator("td.field-template_key")).to_have_text("mentorship-standard")
    expect(draft_row.locator("td.field-version")).to_have_text("2")
    draft_row.get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label="Publish selected drafts")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("ul.messagelist")).to_have_text("Published 1 template(s).")
    expect(page.locator("#result_list tbody tr").filter(has_text="Draft")).to_have_count(0)
    v2_row = page.locator("#result_list tbody tr").filter(has=page.locator("td.field-version", has_text="2"))
    expect(v2_row.locator("td.field-status")).to_have_text("Active")


@pytest.fixture
def draft_template(mentorship_template) -> ProgramTemplate:
    return template_new_version(template=mentorship_template)


def test_superuser_publishes_a_draft_template(site, django_user_model, draft_template):
    django_user_model.objects.create_superuser(email="root@example.org", password=PASSWORD)
    with browser_page() as page:
        admin_sign_in(page, site, "root@example.org")
        publish_draft_through_the_changelist(page, site)
        # The object's page then shows the publication in its audit trail.
        page.locator("#result_list tbody tr").filter(has=page.locator("td.field-version", has_text="2")).get_by_role(
            "link"
        ).first.click()
        trail = page.locator("table.audit-trail")
        expect(trail.locator("tbody tr").first).to_contain_text("root@example.org")
        expect(trail.locator("tbody tr").first).to_contain_text("template.published")

    draft_template.refresh_from_db()
    assert draft_template.status == "active"
    assert draft_template.published_at is not None
    entry = AuditEntry.objects.get(action="template.published", target_id=str(draft_template.pk))
    assert entry.actor_label == "root@example.org"
    assert entry.changes["status"] == ["draft", "active"]


def test_operator_with_template_permissions_publishes_a_draft(site, make_user, draft_template):
    # A staff user without a role, holding only the two template permissions.
    operator = make_user(email="ops@example.org", password=PASSWORD, is_staff=True)
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_programtemplate", "change_programtemplate"])
    )
    with browser_page() as page:
        admin_sign_in(page, site, "ops@example.org")
        # Only what the permissions allow is listed.
        expect(page.locator("#content-main table caption")).to_have_text(["Program templates"])
        publish_draft_through_the_changelist(page, site)

    draft_template.refresh_from_db()
    assert draft_template.status == "active"
    entry = AuditEntry.objects.get(action="template.published", target_id=str(draft_template.pk))
    assert entry.actor_id == operator.pk
    assert entry.actor_label == "ops@example.org"

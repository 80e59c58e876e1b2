"""The analytics dashboards in a real browser: an operator signs in to the admin, opens the
cross-program overview from the snapshots, clicks into a program, reads its charts, filters by a
campaign, and a screenshot of the dashboard is kept in var/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.analytics.test_dashboard import data  # noqa: F401 - the hand-built dataset fixture
from tests.e2e.conftest import browser_page
from tests.e2e.test_admin_ui import PASSWORD, admin_sign_in

pytestmark = pytest.mark.e2e

SCREENSHOT = Path(settings.BASE_DIR) / "var" / "screenshots" / "analytics-dashboard.png"


def test_operator_reads_the_dashboards(site, make_user, data):  # noqa: F811
    make_user(email="ops-analytics@example.org", password=PASSWORD, role="operator", is_staff=True)
    program_id, campaign_id = str(data.program.pk), str(data.campaign.pk)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)

    with browser_page() as page:
        page.set_viewport_size({"width": 1400, "height": 1000})
        admin_sign_in(page, site, "ops-analytics@example.org")
        page.get_by_role("rowheader", name="Snapshots").get_by_role("link").click()
        page.get_by_test_id("dashboard-link").click()
        expect(page).to_have_url(f"{site}/admin/analytics/snapshot/dashboard/")

        # The overview: one row per program and the totals, the comparison charts.
        overview = page.get_by_test_id("table-programs")
        expect(overview.locator("tbody tr")).to_have_count(2)
        expect(overview.locator("tfoot th")).to_have_text("Total")
        expect(page.locator("svg[role=img]")).to_have_count(2)
        expect(page.get_by_role("img", name="Completion and attendance rate by program")).to_be_visible()

        overview.get_by_role("link", name="Mentorship 2026").click()
        expect(page).to_have_url(f"{site}/admin/analytics/snapshot/dashboard/{program_id}/")
        charts = page.locator("svg[role=img]")
        expect(charts).to_have_count(6)
        funnel = page.get_by_role("img", name="Funnel: application to completion")
        expect(funnel).to_be_visible()
        expect(funnel.locator("g.bar[data-label=Submitted] text.value")).to_have_text("6 · 75% of applied")
        expect(funnel.locator("g.bar[data-label=Enrolled] text.value")).to_have_text("5 · 250% of accepted")
        expect(page.get_by_role("img", name="Enrollments over time")).to_be_visible()
        expect(page.get_by_test_id("table-funnel").locator("tbody tr").nth(4)).to_have_text(re.compile(r"Enrolled\s*5"))

        # Only campaign C: three enrollments, the line of the campaign's snapshots.
        page.get_by_label("Campaign").select_option(label="Campaign C")
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(rf"/dashboard/{program_id}/\?.*campaign={campaign_id}"))
        expect(funnel.locator("g.bar[data-label=Enrolled] text.value")).to_have_text("3 · 150% of accepted")
        expect(page.get_by_label("Campaign")).to_have_value(campaign_id)
        expect(charts).to_have_count(6)
        expect(page.get_by_test_id("csv-funnel")).to_have_attribute("href", re.compile(rf"campaign={campaign_id}"))

        # Charts drawn and sized by the page's CSS (not collapsed, not the 720px default).
        box = funnel.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    assert SCREENSHOT.exists()
    assert SCREENSHOT.stat().st_size > 20_000
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

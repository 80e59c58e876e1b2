"""My game plan in a real browser: a writer with three pursuits sees them ranked by momentum, adds
an external opportunity (it takes the lead), confirms one as submitted (it leaves the plan),
answers "Have you heard back?" with a win (the total won shows it), and snoozes nudges (a snooze
past the nearest deadline is refused with one field error first)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from coaching.models import CheckInTask, CoachSettings, Pursuit
from coaching.services import pursuit_confirm, pursuit_create_external
from core import clock
from tests.e2e.conftest import browser_page, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "g4me-plan-passw0rd!"
KYIV = ZoneInfo("Europe/Kyiv")


def local(moment) -> str:
    """What a datetime-local input takes, in Kyiv."""
    return moment.astimezone(KYIV).strftime("%Y-%m-%dT%H:%M")


def test_a_writer_works_through_the_game_plan(site, make_user, monkeypatch):
    wendy = make_user(email="wendy@example.org", password=PASSWORD, full_name="Wendy Writer", timezone="Europe/Kyiv")
    now = clock.now().replace(second=0, microsecond=0)

    def track(title: str, days: int, trust: float, **data) -> Pursuit:
        return pursuit_create_external(
            user=wendy, data={"title": title, "deadline": now + timedelta(days=days), "trust_score": trust, **data}
        )

    track("Doubtful prize", 20, 0.2)  # momentum 0.48
    track("Near grant", 10, 0.5)  # 0.70
    track("Trusted fellowship", 30, 0.9)  # 0.66
    # Submitted 22 days ago: its "Have you heard back?" came due yesterday.
    monkeypatch.setattr(clock, "now", lambda: now - timedelta(days=22))
    old = track("Old prize", 30, 0.5, award_amount="1000", award_currency="EUR")
    old = pursuit_confirm(pursuit=old, user=wendy, state="submitted")
    monkeypatch.undo()
    task = CheckInTask.objects.create(pursuit=old, user=wendy, due_at=old.submitted_at + timedelta(days=21))
    new_deadline = now + timedelta(days=3)
    too_late = now + timedelta(days=5)
    snooze_until = now + timedelta(days=1)

    with browser_page(timezone_id="Europe/Kyiv") as page:
        sign_in(page, site, wendy.email, PASSWORD)
        page.get_by_test_id("nav-game-plan").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("My game plan")
        titles = page.get_by_test_id("pursuit").get_by_test_id("title")
        expect(titles).to_have_text(["Near grant", "Trusted fellowship", "Doubtful prize"])
        expect(page.get_by_test_id("pursuit").get_by_test_id("momentum")).to_have_text(["0.70", "0.66", "0.48"])

        # An external opportunity with a near deadline and full trust takes the lead.
        add = page.get_by_test_id("add-pursuit")
        add.get_by_text("Add a fellowship, grant or residency").click()
        add.get_by_label("Title").fill("Tbilisi residency")
        add.get_by_label("Address (optional)").fill("https://residency.example.org")
        add.get_by_label("Deadline (optional)").fill(local(new_deadline))
        add.get_by_label("What the application asks for").select_option("essay")
        add.get_by_label("How much do you trust this opportunity? (optional)").fill("1")
        add.get_by_role("button", name="Add to my game plan").click()
        expect(page.locator("ul.messages")).to_have_text("Tbilisi residency is on your game plan.")
        expect(titles).to_have_text(["Tbilisi residency", "Near grant", "Trusted fellowship"])
        expect(page.get_by_test_id("pursuit").first.get_by_test_id("deadline")).to_have_text(
            new_deadline.astimezone(KYIV).strftime("%-d %b %Y, %H:%M ") + new_deadline.astimezone(KYIV).tzname()
        )

        # Confirming a submission takes the pursuit off the plan.
        near = page.get_by_test_id("pursuit").filter(has_text="Near grant")
        near.get_by_role("button", name="Confirm submitted").click()
        expect(page.locator("ul.messages")).to_have_text(
            "Near grant is submitted. We will ask you in three weeks if you heard back."
        )
        expect(titles).to_have_text(["Tbilisi residency", "Trusted fellowship", "Doubtful prize"])

        # Have you heard back? Yes: a win, counted in the total.
        check_in = page.get_by_test_id("check-in")
        expect(check_in).to_have_count(1)
        expect(page.get_by_test_id("won-total")).to_have_count(0)
        expect(check_in.get_by_role("heading")).to_have_text("Old prize")
        check_in.get_by_role("button", name="Won").click()
        expect(page.locator("ul.messages")).to_have_text("Congratulations! Old prize is counted as won.")
        expect(page.get_by_test_id("check-in")).to_have_count(0)
        expect(page.get_by_test_id("won-total")).to_have_text(["EUR 1,000.00"])

        # A snooze past the nearest deadline is refused in place, with one error; then a good one.
        snooze = page.get_by_test_id("snooze")
        snooze.locator("summary").click()
        snooze.get_by_label("Snooze nudges until").fill(local(too_late))
        snooze.get_by_role("button", name="Snooze").click()
        expect(page.locator("ul.messages")).to_have_text("The snooze was not set: see the form below.")
        errors = page.get_by_test_id("error-snooze-until")
        expect(errors).to_have_count(1)
        expect(errors).to_contain_text("Snooze ends before your nearest deadline")
        snooze.get_by_label("Snooze nudges until").fill(local(snooze_until))
        snooze.get_by_role("button", name="Snooze").click()
        expect(page.locator("ul.messages")).to_contain_text("Nudges are snoozed until")
        expect(page.get_by_test_id("snoozed")).to_contain_text("Snoozed until")
        expect(page.get_by_test_id("error-snooze-until")).to_have_count(0)

    states = dict(Pursuit.objects.filter(user=wendy).values_list("title", "coach_state"))
    assert states == {
        "Doubtful prize": "tracked",
        "Near grant": "submitted",
        "Trusted fellowship": "tracked",
        "Old prize": "won",
        "Tbilisi residency": "tracked",
    }
    added = Pursuit.objects.get(title="Tbilisi residency")
    assert (added.deadline, added.trust_score, added.url, added.application_type) == (
        new_deadline,
        1.0,
        "https://residency.example.org",
        "essay",
    )
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("completed", "won")
    won = Pursuit.objects.get(title="Old prize")
    assert (won.award_amount, won.award_currency, won.confirmed_at is not None) == (Decimal("1000.00"), "EUR", True)
    assert CoachSettings.objects.get(user=wendy).snoozed_until == snooze_until

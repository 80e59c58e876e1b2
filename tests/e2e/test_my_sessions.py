"""My sessions in a real browser: a participant registers for an open event, queues for a full
one and sees their place on the waiting list, cancels, and sees the join link open 15 minutes
before their session starts (the product's clock is moved; the live server shares it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from core import clock
from scheduling.models import Attendance, Registration
from scheduling.services import registration_create, session_create
from tests.e2e.conftest import browser_page, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "sess1ons-passw0rd!"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # 18:30 in Tokyo (UTC+9), 11:30 in Kyiv (UTC+2)


@pytest.fixture
def clock_at(monkeypatch):
    """The product's clock, fixed and movable (read by the live server's thread too)."""
    state = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: state["now"])

    def _set(value: datetime) -> None:
        state["now"] = value

    return _set


def _session(program, title: str, start: datetime, **fields):
    return session_create(
        program=program,
        kind=fields.pop("kind", "live_event"),
        title=title,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        timezone="Europe/Kyiv",
        **fields,
    )


def test_a_participant_registers_queues_cancels_and_joins(site, program, make_user, clock_at):
    ada = make_user(email="ada@example.org", password=PASSWORD, full_name="Ada Quill")
    call = _session(program, "Cohort call", NOW + timedelta(minutes=30), kind="cohort_session")
    registration_create(session=call, user=ada, source="operator")
    _session(program, "Live read", NOW + timedelta(days=1), capacity=5)
    clinic = _session(program, "Pitch clinic", NOW + timedelta(days=2), capacity=1)
    registration_create(session=clinic, user=make_user())

    with browser_page(timezone_id="Asia/Tokyo") as page:
        sign_in(page, site, ada.email, PASSWORD)
        page.get_by_test_id("nav-sessions").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("My sessions")
        expect(page.get_by_test_id("viewer-tz")).to_have_text("Asia/Tokyo")

        # The cohort call starts at 19:00 in Tokyo (12:00 in Kyiv, where it is planned): its link
        # opens at 18:45.
        upcoming = page.get_by_test_id("upcoming-session")
        expect(upcoming).to_have_count(1)
        expect(upcoming.get_by_test_id("when")).to_have_text("Mon 2 Mar 2026, 19:00–20:00 JST")
        expect(upcoming.get_by_test_id("session-zone")).to_have_text("(12:00 in Europe/Kyiv)")
        expect(upcoming.get_by_test_id("join-disabled")).to_have_text("Join link opens Mon 2 Mar, 18:45 JST")
        expect(upcoming.get_by_test_id("join-link")).to_have_count(0)

        # Register for an open event with places left.
        live = page.get_by_test_id("open-event").filter(has_text="Live read")
        expect(live.get_by_test_id("places")).to_have_text("5 of 5 places left")
        live.get_by_role("button", name="Register").click()
        expect(page.locator("ul.messages")).to_have_text("You are registered for Live read.")
        expect(upcoming).to_have_count(2)
        expect(upcoming.filter(has_text="Live read").get_by_test_id("role")).to_have_text("Registered")
        expect(page.get_by_test_id("open-event").filter(has_text="Live read")).to_have_count(0)

        # A full one: join its waiting list and see the place in the queue.
        clinic_card = page.get_by_test_id("open-event").filter(has_text="Pitch clinic")
        expect(clinic_card.get_by_test_id("places")).to_have_text("Full")
        clinic_card.get_by_role("button", name="Join the waiting list").click()
        expect(page.locator("ul.messages")).to_have_text("Pitch clinic is full: you are number 1 on the waiting list.")
        waiting = upcoming.filter(has_text="Pitch clinic")
        expect(waiting.get_by_test_id("waitlist-position")).to_have_text("You are number 1 on the waiting list.")

        # Give the place at the live read back: it is offered again.
        upcoming.filter(has_text="Live read").get_by_role("button", name="Cancel my place").click()
        expect(page.locator("ul.messages")).to_have_text("Your place at Live read is cancelled.")
        expect(page.get_by_test_id("open-event").filter(has_text="Live read")).to_have_count(1)
        expect(upcoming).to_have_count(2)

        # Five minutes before the start the link is open, and check-in with it.
        clock_at(NOW + timedelta(minutes=25))
        page.reload()
        link = page.get_by_test_id("upcoming-session").filter(has_text="Cohort call").get_by_test_id("join-link")
        expect(link).to_have_text("Join the session")
        expect(link).to_have_attribute("href", call.join_url)
        page.get_by_role("button", name="I am here: check in").click()
        expect(page.locator("ul.messages")).to_have_text("You are checked in to Cohort call.")
        expect(page.get_by_test_id("checked-in")).to_have_text("Attendance recorded.")

        # The calendar file of the session downloads from the page.
        with page.expect_download() as download:
            page.get_by_test_id("upcoming-session").filter(has_text="Cohort call").get_by_test_id(
                "add-to-calendar"
            ).click()
        body = open(download.value.path(), encoding="utf-8").read()

    assert f"UID:{call.pk}@" in body
    assert "DTSTART;TZID=Europe/Kyiv:20260302T120000" in body
    statuses = dict(Registration.objects.filter(user=ada).values_list("session__title", "status"))
    assert statuses == {"Cohort call": "registered", "Live read": "cancelled", "Pitch clinic": "waitlisted"}
    attendance = Attendance.objects.get(session=call, user=ada)
    assert (attendance.status, attendance.checked_in_at) == ("present", NOW + timedelta(minutes=25))

"""The "My game plan" page: the top three pursuits by momentum (deadlines in the viewer's time
zone), confirming a submission, answering a check-in, confirming a win the program gave, the
micro-task and the snooze, the total won per currency, and adding an external opportunity. Forms
show field errors in place (never a 500), actions redirect with a message, another person's rows
answer 404, and the page costs a constant number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from applications.services import application_form_publish, application_start, application_submit, decision_make
from coaching.models import CheckInTask, CoachSettings, Pursuit
from coaching.services import pursuit_confirm, pursuit_create_external
from core import clock
from tests.applications.conftest import Clock
from tests.scheduling.test_pages import messages_of, page

pytestmark = pytest.mark.django_db

PLAN = "/coach/"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # Kyiv is at UTC+2 (EET) until 29 March


@pytest.fixture
def now(monkeypatch) -> Clock:
    state = Clock(T0)
    monkeypatch.setattr(clock, "now", state)
    return state


@pytest.fixture
def kate(make_user, now):
    return make_user(email="kate@example.org", full_name="Kate Writer", timezone="Europe/Kyiv", role="writer")


@pytest.fixture
def browser(kate) -> Client:
    client = Client()
    client.force_login(kate)
    return client


def messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def external(user, title: str, days: float | None, trust: float | None = None, **data) -> Pursuit:
    deadline = None if days is None else clock.now() + timedelta(days=days)
    return pursuit_create_external(user=user, data={"title": title, "deadline": deadline, "trust_score": trust, **data})


def cards(root, testid: str = "pursuit") -> list[list[str]]:
    return [
        [card.one("title").text(), card.one("state").text(), card.one("momentum").text(), card.one("deadline").text()]
        for card in root.all(testid)
    ]


def submitted_with_check_in(now: Clock, user, title: str, **data) -> CheckInTask:
    """An external pursuit submitted 22 days ago whose "Have you heard back?" is due (day 21)."""
    today = now.now
    now.now = today - timedelta(days=22)
    pursuit = external(user, title, 30, 0.5, **data)
    pursuit = pursuit_confirm(pursuit=pursuit, user=user, state="submitted")
    now.now = today
    return CheckInTask.objects.create(pursuit=pursuit, user=user, due_at=pursuit.submitted_at + timedelta(days=21))


# --- Reading -------------------------------------------------------------------------------------


def test_the_page_needs_a_sign_in(client):
    response = client.get(PLAN)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PLAN}"


def test_an_empty_plan(browser):
    root = page(browser.get(PLAN))
    assert root.one("no-pursuits").text().startswith("Nothing open with a deadline ahead.")
    assert root.all("check-in") == [] and root.all("to-confirm") == [] and root.all("micro-task") == []
    assert root.one("total-won").text() == "No confirmed wins yet."
    assert root.one("nav-game-plan").attrs["aria-current"] == "page"


def test_the_top_three_by_momentum_with_deadlines_in_the_viewers_time_zone(browser, kate, make_user):
    external(kate, "Far residency", 50, 0.5)  # 0.6 x 1/6 + 0.4 x 0.5 = 0.30: fourth, not shown
    external(kate, "Trusted fellowship", 30, 0.9)  # 0.6 x 0.5 + 0.36 = 0.66
    external(kate, "Doubtful prize", 20, 0.2)  # 0.6 x 2/3 + 0.08 = 0.48
    external(kate, "Near grant", 10, None, url="https://grants.example.org/near")  # 0.6 x 5/6 + 0.2 = 0.70
    done = external(kate, "Sent already", 5, 1.0)
    pursuit_confirm(pursuit=done, user=kate, state="submitted")
    external(make_user(email="other@example.org"), "Someone else's grant", 1, 1.0)

    root = page(browser.get(PLAN))
    assert cards(root) == [
        ["Near grant", "Tracked", "0.70", "12 Mar 2026, 11:30 EET"],
        ["Trusted fellowship", "Tracked", "0.66", "1 Apr 2026, 12:30 EEST"],
        ["Doubtful prize", "Tracked", "0.48", "22 Mar 2026, 11:30 EET"],
    ]
    first = root.all("pursuit")[0]
    assert first.all(tag="a")[0].attrs["href"] == "https://grants.example.org/near"
    assert [b.text() for b in first.all(tag="button")] == ["Confirm submitted: Near grant"]


# --- Adding an external opportunity ---------------------------------------------------------------


def test_adding_an_external_pursuit(browser, kate):
    response = browser.post(
        "/coach/pursuits/",
        {
            "title": "  Residency in Tbilisi ",
            "url": "https://residency.example.org",
            "deadline": "2026-03-20T18:00",
            "award_amount": "2500.50",
            "award_currency": "eur",
            "application_type": "essay",
            "trust_score": "0.7",
        },
    )
    assert response.status_code == 302 and response["Location"] == PLAN
    assert messages(response) == ["Residency in Tbilisi is on your game plan."]
    pursuit = Pursuit.objects.get()
    assert (
        pursuit.user_id,
        pursuit.title,
        pursuit.url,
        pursuit.deadline,
        pursuit.award_amount,
        pursuit.award_currency,
        pursuit.application_type,
        pursuit.trust_score,
        pursuit.coach_state,
        pursuit.application_id,
    ) == (
        kate.pk,
        "Residency in Tbilisi",
        "https://residency.example.org",
        datetime(2026, 3, 20, 16, 0, tzinfo=UTC),  # 18:00 in Kyiv
        Decimal("2500.50"),
        "EUR",
        "essay",
        0.7,
        "tracked",
        None,
    )
    # 18 days 6.5 h left: 0.6 x (1 - 18.2708 / 60) + 0.4 x 0.7 = 0.69729
    assert pursuit.momentum_score == 0.6973
    assert cards(page(browser.get(PLAN))) == [["Residency in Tbilisi", "Tracked", "0.70", "20 Mar 2026, 18:00 EET"]]


def test_a_pursuit_with_only_a_title_takes_the_defaults(browser, kate):
    response = browser.post("/coach/pursuits/", {"title": "Open call", "application_type": ""})
    assert response.status_code == 302
    pursuit = Pursuit.objects.get()
    assert (pursuit.deadline, pursuit.trust_score, pursuit.award_amount, pursuit.momentum_score) == (
        None,
        None,
        None,
        0.2,
    )
    assert cards(page(browser.get(PLAN))) == [["Open call", "Tracked", "0.20", "None"]]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "   "}, "title", "This field is required."),
        ({"url": "ftp://files.example.org"}, "url", "An http(s) address of at most 500 characters."),
        ({"deadline": "2026-03-02T11:00"}, "deadline", "The deadline has passed."),  # 09:00 UTC: past
        ({"deadline": "next friday"}, "deadline", "Enter a valid date/time."),
        # 03:30 on 29 March does not exist in Kyiv (the clocks jump from 03:00 to 04:00).
        ({"deadline": "2026-03-29T03:30"}, "deadline", "couldn’t be interpreted in time zone Europe/Kyiv"),
        ({"award_amount": "100"}, "award_currency", "Give the currency of the award amount."),
        ({"award_amount": "1.005", "award_currency": "EUR"}, "award_amount", "at most two decimals"),
        ({"award_amount": "-5", "award_currency": "EUR"}, "award_amount", "at least 0"),
        ({"award_amount": "lots", "award_currency": "EUR"}, "award_amount", "Enter a number."),
        ({"award_currency": "EU1"}, "award_currency", "An ISO 4217 code, e.g. EUR."),
        ({"award_currency": "EURO"}, "award_currency", "Ensure this value has at most 3 characters (it has 4)."),
        ({"application_type": "video"}, "application_type", "Select a valid choice."),
        ({"trust_score": "1.5"}, "trust_score", "A number from 0 to 1."),
        ({"trust_score": "-0.1"}, "trust_score", "A number from 0 to 1."),
        ({"trust_score": "high"}, "trust_score", "Enter a number."),
        ({"trust_score": "nan"}, "trust_score", "Enter a number."),
    ],
)
def test_bad_input_shows_a_field_error_in_place(browser, data, field, message):
    posted = {"title": "Grant", **data}
    response = browser.post("/coach/pursuits/", posted)
    root = page(response)  # 200: the page again, with the form open and the error on its field
    assert messages_of(root) == ["The opportunity was not added: see the form below."]
    errors = [node.text() for node in root.all(f"error-pursuit-{field}")]
    assert len(errors) == 1 and message in errors[0]
    assert "open" in root.one("add-pursuit").attrs
    assert Pursuit.objects.count() == 0


def test_the_form_keeps_what_was_typed(browser):
    root = page(browser.post("/coach/pursuits/", {"title": "Keep me", "trust_score": "3"}))
    [title] = [n for n in root.one("pursuit-title").all(tag="input")]
    assert title.attrs["value"] == "Keep me"


# --- Confirming -----------------------------------------------------------------------------------


def test_confirming_a_submission(browser, kate, now):
    pursuit = external(kate, "Grant", 10, 0.5)
    now.advance(hours=1)
    response = browser.post(f"/coach/pursuits/{pursuit.pk}/confirm", {"state": "submitted"})
    assert response.status_code == 302 and response["Location"] == PLAN
    assert messages(response) == ["Grant is submitted. We will ask you in three weeks if you heard back."]
    pursuit.refresh_from_db()
    assert (pursuit.coach_state, pursuit.submitted_at, pursuit.confirmed_at, pursuit.last_progress_at) == (
        "submitted",
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=1),
    )
    assert pursuit.momentum_score is None
    assert page(browser.get(PLAN)).all("pursuit") == []

    again = browser.post(f"/coach/pursuits/{pursuit.pk}/confirm", {"state": "submitted"})
    assert messages(again) == [
        "This pursuit is submitted; only one still being prepared can be confirmed as submitted."
    ]


def test_a_win_needs_a_submission_first(browser, kate):
    pursuit = external(kate, "Grant", 10, 0.5)
    response = browser.post(f"/coach/pursuits/{pursuit.pk}/confirm", {"state": "won"})
    assert messages(response) == ["This pursuit is tracked; a win is confirmed after submission."]
    assert Pursuit.objects.get().coach_state == "tracked"


@pytest.mark.parametrize("state", ["", "lost", "tracked", "x" * 50])
def test_confirming_something_else_is_refused(browser, kate, state):
    pursuit = external(kate, "Grant", 10, 0.5)
    response = browser.post(f"/coach/pursuits/{pursuit.pk}/confirm", {"state": state})
    assert response.status_code == 302
    assert messages(response) == ["Choose what you confirm: submitted or won."]
    assert Pursuit.objects.get().coach_state == "tracked"


def test_another_persons_pursuit_is_not_found(browser, make_user):
    pursuit = external(make_user(email="other@example.org"), "Theirs", 10, 0.5)
    assert browser.post(f"/coach/pursuits/{pursuit.pk}/confirm", {"state": "submitted"}).status_code == 404
    assert browser.post("/coach/pursuits/not-a-uuid/confirm", {"state": "submitted"}).status_code == 404
    assert Pursuit.objects.get().coach_state == "tracked"


def test_actions_only_take_posts(browser, kate):
    pursuit = external(kate, "Grant", 10, 0.5)
    assert browser.get(f"/coach/pursuits/{pursuit.pk}/confirm").status_code == 405
    assert browser.get("/coach/snooze").status_code == 405
    assert browser.get("/coach/pursuits/").status_code == 405


def test_an_internal_pursuit_follows_its_application_and_the_win_is_confirmed(browser, kate, program, operator, now):
    application_form_publish(
        program=program, fields=[{"key": "name", "label": "Your name", "type": "short_text", "required": True}]
    )
    application = application_start(applicant=kate, program=program, answers={"name": "Kate"})
    pursuit = Pursuit.objects.get(application=application)
    root = page(browser.get(PLAN))
    [card] = root.all("pursuit")
    assert card.one("state").text() == "Drafting"
    assert card.all(tag="button") == []
    assert card.one("follows-application").text() == (
        "Follows your application on this platform: submit it in My applications."
    )
    # Confirming an application still in draft is refused: submitting it on the platform does that.
    response = browser.post(f"/coach/pursuits/{pursuit.pk}/confirm", {"state": "submitted"})
    assert messages(response) == ["Submit the application on the platform first; that submits it."]

    application_submit(application=application, actor=kate)
    decision_make(application=application, decision="accepted", reason="Strong", actor=operator)
    pursuit.refresh_from_db()
    assert (pursuit.coach_state, pursuit.pending_state) == ("outcome_pending", "won")
    root = page(browser.get(PLAN))
    [waiting] = root.all("to-confirm")
    assert waiting.all(tag="button")[0].text() == f"Confirm won: {pursuit.title}"

    response = browser.post(f"/coach/pursuits/{pursuit.pk}/confirm", {"state": "won"})
    assert messages(response) == [f"Congratulations! {pursuit.title} is counted as won."]
    pursuit.refresh_from_db()
    assert (pursuit.coach_state, pursuit.pending_state, pursuit.confirmed_at) == ("won", "", T0)
    assert page(browser.get(PLAN)).all("to-confirm") == []


# --- Check-ins ------------------------------------------------------------------------------------


def test_answering_won_counts_the_award(browser, kate, now):
    task = submitted_with_check_in(now, kate, "Grant", award_amount="1000", award_currency="EUR")
    other = submitted_with_check_in(now, kate, "Prize", award_amount="250.5", award_currency="USD")
    CheckInTask.objects.filter(pk=other.pk).update(due_at=other.due_at + timedelta(minutes=1))  # listed second
    root = page(browser.get(PLAN))
    assert [c.all(tag="h3")[0].text() for c in root.all("check-in")] == ["Grant", "Prize"]
    assert [b.text() for b in root.all("check-in")[0].all(tag="button")] == [
        "Won: Grant",
        "Lost: Grant",
        "Still waiting: Grant",
        "Dismiss: Grant",
    ]

    response = browser.post(f"/coach/check-ins/{task.pk}/answer", {"answer": "won"})
    assert response.status_code == 302 and response["Location"] == PLAN
    assert messages(response) == ["Congratulations! Grant is counted as won."]
    task.refresh_from_db()
    assert (task.status, task.outcome, task.completed_at) == ("completed", "won", now.now)
    assert (task.pursuit.coach_state, task.pursuit.confirmed_at) == ("won", now.now)
    browser.post(f"/coach/check-ins/{other.pk}/answer", {"answer": "won"})

    root = page(browser.get(PLAN))
    assert root.all("check-in") == []
    assert [li.text() for li in root.all("won-total")] == ["EUR 1,000.00", "USD 250.50"]

    again = browser.post(f"/coach/check-ins/{task.pk}/answer", {"answer": "lost"})
    assert messages(again) == ["This check-in is completed."]


@pytest.mark.parametrize(
    ("answer", "status", "outcome", "state", "message"),
    [
        ("lost", "completed", "lost", "lost", "Sorry to hear it. Grant is marked as not successful."),
        ("waiting", "completed", "waiting", "outcome_pending", "Noted: still waiting to hear about Grant."),
        ("dismiss", "dismissed", "", "submitted", "The check-in on Grant is dismissed."),
    ],
)
def test_other_answers(browser, kate, now, answer, status, outcome, state, message):
    task = submitted_with_check_in(now, kate, "Grant")
    response = browser.post(f"/coach/check-ins/{task.pk}/answer", {"answer": answer})
    assert messages(response) == [message]
    task.refresh_from_db()
    task.pursuit.refresh_from_db()
    assert (task.status, task.outcome, task.pursuit.coach_state) == (status, outcome, state)
    assert page(browser.get(PLAN)).all("check-in") == []


def test_a_bad_answer_and_another_persons_check_in(browser, kate, make_user, now):
    task = submitted_with_check_in(now, kate, "Grant")
    response = browser.post(f"/coach/check-ins/{task.pk}/answer", {"answer": "maybe"})
    assert messages(response) == ["Choose won, lost, still waiting, or dismiss."]
    theirs = submitted_with_check_in(now, make_user(email="other@example.org"), "Theirs")
    assert browser.post(f"/coach/check-ins/{theirs.pk}/answer", {"answer": "won"}).status_code == 404
    assert list(CheckInTask.objects.values_list("status", flat=True)) == ["pending", "pending"]


def test_a_check_in_not_yet_due_is_not_shown(browser, kate, now):
    task = submitted_with_check_in(now, kate, "Grant")
    now.now = task.due_at - timedelta(minutes=1)
    assert page(browser.get(PLAN)).all("check-in") == []
    now.now = task.due_at
    assert len(page(browser.get(PLAN)).all("check-in")) == 1


# --- Micro-task and snooze ------------------------------------------------------------------------


def test_the_micro_task_of_a_stalled_pursuit(browser, kate, now):
    external(kate, "Essay prize", 6, 0.5, application_type="essay")
    assert page(browser.get(PLAN)).all("micro-task") == []  # progress just now
    now.advance(hours=48)
    root = page(browser.get(PLAN))
    assert root.one("micro-task-text").text() == "Write the first 150 words of your essay for Essay prize."
    assert "Due 8 Mar 2026, 11:30 EET." in root.one("micro-task").text()


def test_snoozing_and_waking(browser, kate):
    external(kate, "Grant", 10, 0.5)  # nearest deadline: 12 Mar 2026, 09:30 UTC
    response = browser.post("/coach/snooze", {"until": "2026-03-05T20:00"})
    assert response.status_code == 302 and response["Location"] == PLAN
    assert messages(response) == ["Nudges are snoozed until 5 Mar 2026, 20:00 EET."]
    assert CoachSettings.objects.get(user=kate).snoozed_until == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    root = page(browser.get(PLAN))
    assert root.one("snoozed").text() == "Snoozed until 5 Mar 2026, 20:00 EET."

    response = browser.post("/coach/snooze", {"clear": "1"})
    assert messages(response) == ["Nudges are back on."]
    assert CoachSettings.objects.get(user=kate).snoozed_until is None
    assert page(browser.get(PLAN)).all("snoozed") == []


@pytest.mark.parametrize(
    ("until", "message"),
    [
        # The deadline itself (11:30 in Kyiv) is too late: the snooze ends before it.
        ("2026-03-12T11:30", "Snooze ends before your nearest deadline (2026-03-12T09:30:00+00:00)."),
        ("2026-04-01T00:00", "Snooze ends before your nearest deadline (2026-03-12T09:30:00+00:00)."),
        ("2026-03-02T11:00", "Snooze until a time in the future."),
        ("", "This field is required."),
        ("soon", "Enter a valid date/time."),
    ],
)
def test_a_bad_snooze_shows_one_field_error(browser, kate, until, message):
    external(kate, "Grant", 10, 0.5)
    root = page(browser.post("/coach/snooze", {"until": until}))
    assert messages_of(root) == ["The snooze was not set: see the form below."]
    assert [node.text() for node in root.all("error-snooze-until")] == [message]
    assert "open" in root.one("snooze").attrs
    assert CoachSettings.objects.filter(snoozed_until__isnull=False).count() == 0


# --- Cost -----------------------------------------------------------------------------------------


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(PLAN)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_page_costs_a_constant_number_of_queries(browser, kate, now):
    external(kate, "First", 10, 0.5)
    one = _queries(browser)
    for n in range(5):
        external(kate, f"More {n}", 5 + n, 0.5, application_type="form")
    submitted_with_check_in(now, kate, "Checked", award_amount="10", award_currency="EUR")
    won = submitted_with_check_in(now, kate, "Won", award_amount="20", award_currency="EUR")
    from coaching.services import checkin_complete

    checkin_complete(task=won, user=kate, outcome="won")
    now.advance(days=2)  # 48 h without progress: a micro-task
    root = page(browser.get(PLAN))
    assert (len(root.all("pursuit")), len(root.all("check-in")), len(root.all("won-total"))) == (3, 1, 1)
    assert len(root.all("micro-task")) == 1
    many = _queries(browser)
    assert many == one
    # Exactly: session, user, unread notifications, and the game plan's four.
    assert one == 7

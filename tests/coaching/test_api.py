"""The coach API over HTTP: pursuits (create, list, change, confirm), the won total, the snooze,
check-in answers, the game plan (order and query count), 404 for another person's objects, and
problem details for every bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from applications.services import application_form_publish, application_start, decision_make
from coaching.models import CheckInTask, Pursuit
from core import clock

pytestmark = pytest.mark.django_db

API = "/api/v1/coach"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def frozen(monkeypatch) -> Clock:
    state = Clock(T0)
    monkeypatch.setattr(clock, "now", state)
    return state


@pytest.fixture
def me(make_user):
    return make_user(email="me@example.org", role="writer")


@pytest.fixture
def api(me, client_for):
    return client_for(me)


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    return body


def add(api, title: str, *, days: float | None, trust: float | None = 0.5, **extra) -> dict:
    body = {"title": title, **extra}
    if days is not None:
        body["deadline"] = iso(clock.now() + timedelta(days=days))
    if trust is not None:
        body["trust_score"] = trust
    return ok(api.post(f"{API}/pursuits", body, format="json"), 201)


def test_create_list_patch_confirm_flow(frozen, api, me):
    body = {
        "title": "  Open Screen Fellowship ",
        "url": "https://fellowship.example.org/apply",
        "deadline": "2026-04-01T11:30:00+02:00",
        "award_amount": "1000.5",
        "award_currency": "EUR",
        "application_type": "essay",
        "trust_score": 0.5,
    }
    created = api.post(f"{API}/pursuits", body, format="json", HTTP_IDEMPOTENCY_KEY="add-1")
    pursuit = ok(created, 201)
    pid = pursuit["id"]
    assert pursuit == {
        "id": pid,
        "title": "Open Screen Fellowship",
        "url": "https://fellowship.example.org/apply",
        "deadline": "2026-04-01T09:30:00Z",
        "award_amount": "1000.50",
        "award_currency": "EUR",
        "application_type": "essay",
        "coach_state": "tracked",
        "pending_state": "",
        "trust_score": 0.5,
        "momentum_score": 0.5,  # 0.6 x (1 - 30/60) + 0.4 x 0.5
        "internal": False,
        "application_id": None,
        "submitted_at": None,
        "confirmed_at": None,
        "last_progress_at": "2026-03-02T09:30:00Z",
        "created_at": pursuit["created_at"],
        "updated_at": pursuit["updated_at"],
    }

    # The same key and body replays the first answer; another body with it answers 422.
    replay = api.post(f"{API}/pursuits", body, format="json", HTTP_IDEMPOTENCY_KEY="add-1")
    assert ok(replay, 201) == pursuit
    assert replay["Idempotent-Replayed"] == "true"
    problem(api.post(f"{API}/pursuits", {**body, "title": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="add-1"), 422)
    assert Pursuit.objects.filter(user=me).count() == 1

    listing = ok(api.get(f"{API}/pursuits"))
    assert (listing["count"], listing["next"], listing["previous"]) == (1, None, None)
    assert listing["results"] == [pursuit]

    frozen.advance(hours=1)
    patched = ok(api.patch(f"{API}/pursuits/{pid}", {"coach_state": "drafting", "trust_score": 1}, format="json"))
    assert {k: patched[k] for k in ("coach_state", "trust_score", "momentum_score", "last_progress_at")} == {
        "coach_state": "drafting",
        "trust_score": 1.0,
        "momentum_score": round(0.6 * (1 - (30 - 1 / 24) / 60) + 0.4, 4),
        "last_progress_at": "2026-03-02T10:30:00Z",
    }
    assert patched["title"] == "Open Screen Fellowship"

    for state in ("submitted", "won"):
        refused = problem(api.patch(f"{API}/pursuits/{pid}", {"coach_state": state}, format="json"), 400)
        assert refused["errors"] == {
            "coach_state": f"'{state}' needs your confirmation: POST .../confirm with this state."
        }
    assert Pursuit.objects.get(pk=pid).coach_state == "drafting"

    # A win is confirmed after submission, not before.
    early = problem(api.post(f"{API}/pursuits/{pid}/confirm", {"state": "won"}, format="json"), 409)
    assert early["detail"] == "This pursuit is drafting; a win is confirmed after submission."

    frozen.advance(hours=1)
    submitted = ok(api.post(f"{API}/pursuits/{pid}/confirm", {"state": "submitted"}, format="json"))
    assert {k: submitted[k] for k in ("coach_state", "submitted_at", "confirmed_at", "momentum_score")} == {
        "coach_state": "submitted",
        "submitted_at": "2026-03-02T11:30:00Z",
        "confirmed_at": "2026-03-02T11:30:00Z",
        "momentum_score": None,
    }
    assert [p["id"] for p in ok(api.get(f"{API}/pursuits", {"coach_state": "submitted"}))["results"]] == [pid]
    assert ok(api.get(f"{API}/pursuits", {"coach_state": "tracked"}))["count"] == 0
    bad_filter = problem(api.get(f"{API}/pursuits", {"coach_state": "bogus"}), 400)
    assert list(bad_filter["errors"]) == ["coach_state"]

    frozen.advance(days=3)
    won = ok(api.post(f"{API}/pursuits/{pid}/confirm", {"state": "won"}, format="json"))
    assert (won["coach_state"], won["confirmed_at"], won["submitted_at"]) == (
        "won",
        "2026-03-05T11:30:00Z",
        "2026-03-02T11:30:00Z",
    )
    assert ok(api.get(f"{API}/pursuits/{pid}")) == won
    plan = ok(api.get(f"{API}/game-plan"))
    assert plan["total_won"] == [{"amount": "1000.50", "currency": "EUR"}]
    assert plan["top"] == []

    # lost needs no confirmation.
    other = add(api, "Residency", days=20)
    lost = ok(api.patch(f"{API}/pursuits/{other['id']}", {"coach_state": "lost"}, format="json"))
    assert (lost["coach_state"], lost["momentum_score"], lost["confirmed_at"]) == ("lost", None, None)


def test_total_won_is_summed_per_currency_over_confirmed_wins(frozen, api):
    def win(title: str, amount: str, currency: str) -> None:
        pid = add(api, title, days=10, award_amount=amount, award_currency=currency)["id"]
        ok(api.post(f"{API}/pursuits/{pid}/confirm", {"state": "submitted"}, format="json"))
        ok(api.post(f"{API}/pursuits/{pid}/confirm", {"state": "won"}, format="json"))

    win("Grant A", "1000.50", "EUR")
    win("Grant B", "250", "EUR")
    win("Grant C", "300.25", "USD")
    submitted = add(api, "Pending", days=10, award_amount="999", award_currency="EUR")["id"]
    ok(api.post(f"{API}/pursuits/{submitted}/confirm", {"state": "submitted"}, format="json"))
    lost = add(api, "Lost", days=10, award_amount="50", award_currency="GBP")["id"]
    ok(api.patch(f"{API}/pursuits/{lost}", {"coach_state": "lost"}, format="json"))

    assert ok(api.get(f"{API}/game-plan"))["total_won"] == [
        {"amount": "1250.50", "currency": "EUR"},
        {"amount": "300.25", "currency": "USD"},
    ]


def test_game_plan_order_ties_and_fields(frozen, api):
    a = add(api, "A", days=15)  # 0.6 x 0.75 + 0.4 x 0.5 = 0.65
    b = add(api, "B", days=30)  # 0.5
    c = add(api, "C", days=None, trust=1)  # no deadline: 0.4
    d = add(api, "D", days=90, trust=1)  # beyond the 60-day horizon: 0.4
    e = add(api, "E", days=70, trust=1)  # 0.4, the nearest of the three ties
    assert [p["momentum_score"] for p in (a, b, c, d, e)] == [0.65, 0.5, 0.4, 0.4, 0.4]

    plan = ok(api.get(f"{API}/game-plan"))
    assert [p["title"] for p in plan["top"]] == ["A", "B", "E"]
    assert plan["top"][0] == a
    assert {k: plan[k] for k in ("check_ins", "to_confirm", "micro_task", "snoozed_until", "total_won")} == {
        "check_ins": [],
        "to_confirm": [],
        "micro_task": None,
        "snoozed_until": None,
        "total_won": [],
    }
    listing = ok(api.get(f"{API}/pursuits"))["results"]
    assert [p["title"] for p in listing] == ["A", "B", "E", "D", "C"]

    # Confirming the leader's submission drops it out of the plan; D moves up with E.
    ok(api.post(f"{API}/pursuits/{a['id']}/confirm", {"state": "submitted"}, format="json"))
    assert [p["title"] for p in ok(api.get(f"{API}/game-plan"))["top"]] == ["B", "E", "D"]
    assert [p["title"] for p in ok(api.get(f"{API}/pursuits"))["results"]] == ["B", "E", "D", "C", "A"]

    # A pursuit due within 7 days and untouched for 48 h gets the micro-task (B, due in 28 days
    # by then, is not near).
    near = add(api, "Near", days=7, application_type="form")
    frozen.advance(days=2)
    plan = ok(api.get(f"{API}/game-plan"))
    assert plan["micro_task"] == {
        "pursuit_id": near["id"],
        "title": "Near",
        "deadline": near["deadline"],
        "text": "Fill in one section of the form for Near.",
    }


def test_game_plan_costs_five_queries_with_token_auth(frozen, api, me, django_assert_num_queries):
    ok(api.get(f"{API}/game-plan"))  # the token's first use records last_used_at (one extra write)
    # Token lookup (1, user joined) + the game plan selector (4).
    with django_assert_num_queries(5):
        ok(api.get(f"{API}/game-plan"))

    for n in range(6):
        pid = add(api, f"P{n}", days=5 + n, award_amount="10", award_currency="EUR")["id"]
        if n < 3:
            ok(api.post(f"{API}/pursuits/{pid}/confirm", {"state": "submitted"}, format="json"))
            CheckInTask.objects.create(pursuit_id=pid, user=me, due_at=clock.now())
    frozen.advance(days=2)
    ok(api.get(f"{API}/game-plan"))  # more than five minutes later: the token use is recorded again
    with django_assert_num_queries(5):
        plan = ok(api.get(f"{API}/game-plan"))
    assert (len(plan["top"]), len(plan["check_ins"]), plan["micro_task"]["title"]) == (3, 3, "P3")


def test_pursuit_list_costs_constant_queries(frozen, api, django_assert_num_queries):
    add(api, "One", days=10)
    ok(api.get(f"{API}/pursuits"))
    with django_assert_num_queries(3):  # token, count, page
        assert ok(api.get(f"{API}/pursuits"))["count"] == 1
    for n in range(8):
        add(api, f"P{n}", days=10 + n)
    with django_assert_num_queries(3):
        assert ok(api.get(f"{API}/pursuits"))["count"] == 9


def test_snooze_must_end_before_the_nearest_deadline(frozen, api):
    # Without an open pursuit any future time is fine.
    assert ok(api.post(f"{API}/snooze", {"until": "2026-06-01T00:00:00+02:00"}, format="json")) == {
        "snoozed_until": "2026-05-31T22:00:00Z"
    }
    add(api, "Soon", days=10)
    add(api, "Later", days=40)
    nearest = T0 + timedelta(days=10)
    for until in (nearest, nearest + timedelta(days=5)):
        refused = problem(api.post(f"{API}/snooze", {"until": iso(until)}, format="json"), 400)
        assert refused["errors"] == {"until": f"Snooze ends before your nearest deadline ({nearest.isoformat()})."}
    past = problem(api.post(f"{API}/snooze", {"until": iso(T0 - timedelta(minutes=1))}, format="json"), 400)
    assert past["errors"] == {"until": "Snooze until a time in the future."}
    naive = problem(api.post(f"{API}/snooze", {"until": "2026-03-05T10:00:00"}, format="json"), 400)
    assert naive["errors"] == {"until": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."}
    for body in ({}, {"until": 12}, {"until": "tomorrow"}, {"until": ["2026-03-05T10:00:00Z"]}):
        assert list(problem(api.post(f"{API}/snooze", body, format="json"), 400)["errors"]) == ["until"]

    until = nearest - timedelta(seconds=1)
    assert ok(api.post(f"{API}/snooze", {"until": iso(until)}, format="json")) == {"snoozed_until": iso(until)}
    assert ok(api.get(f"{API}/game-plan"))["snoozed_until"] == iso(until)
    # Once the soonest pursuit is closed, the next deadline bounds the snooze.
    soon = Pursuit.objects.get(title="Soon").pk
    ok(api.patch(f"{API}/pursuits/{soon}", {"coach_state": "lost"}, format="json"))
    later = T0 + timedelta(days=20)
    assert ok(api.post(f"{API}/snooze", {"until": iso(later)}, format="json")) == {"snoozed_until": iso(later)}
    next_deadline = T0 + timedelta(days=40)
    refused = problem(api.post(f"{API}/snooze", {"until": iso(next_deadline)}, format="json"), 400)
    assert refused["errors"] == {"until": f"Snooze ends before your nearest deadline ({next_deadline.isoformat()})."}
    assert ok(api.post(f"{API}/snooze", {"until": None}, format="json")) == {"snoozed_until": None}
    assert ok(api.get(f"{API}/game-plan"))["snoozed_until"] is None


def test_check_in_completion_and_dismissal(frozen, api, me, make_user, client_for):
    ids = []
    for n, title in enumerate(("Waiting", "Winning", "Dismissed")):
        pid = add(api, title, days=20, award_amount="500", award_currency="EUR")["id"]
        ok(api.post(f"{API}/pursuits/{pid}/confirm", {"state": "submitted"}, format="json"))
        # Check-in tasks are made by the daily job; here the row is set up directly.
        ids.append(CheckInTask.objects.create(pursuit_id=pid, user=me, due_at=T0 + timedelta(days=21, minutes=n)).pk)
    assert ok(api.get(f"{API}/game-plan"))["check_ins"] == []

    frozen.advance(days=21, hours=1)
    plan = ok(api.get(f"{API}/game-plan"))
    waiting_id, winning_id, dismissed_id = (str(i) for i in ids)
    pursuit_ids = {p.title: str(p.pk) for p in Pursuit.objects.filter(user=me)}
    assert plan["check_ins"][0] == {
        "id": waiting_id,
        "pursuit": {"id": pursuit_ids["Waiting"], "title": "Waiting", "coach_state": "submitted"},
        "question": "Have you heard back?",
        "due_at": "2026-03-23T09:30:00Z",
        "status": "pending",
        "outcome": "",
        "completed_at": None,
    }
    assert [c["pursuit"]["title"] for c in plan["check_ins"]] == ["Waiting", "Winning", "Dismissed"]

    bad = problem(api.post(f"{API}/check-ins/{waiting_id}/complete", {"outcome": "maybe"}, format="json"), 400)
    assert list(bad["errors"]) == ["outcome"]
    problem(api.post(f"{API}/check-ins/{waiting_id}/complete", {}, format="json"), 400)

    done = ok(api.post(f"{API}/check-ins/{waiting_id}/complete", {"outcome": "waiting"}, format="json"))
    assert {k: done[k] for k in ("status", "outcome", "completed_at", "pursuit")} == {
        "status": "completed",
        "outcome": "waiting",
        "completed_at": "2026-03-23T10:30:00Z",
        "pursuit": {"id": pursuit_ids["Waiting"], "title": "Waiting", "coach_state": "outcome_pending"},
    }
    again = problem(api.post(f"{API}/check-ins/{waiting_id}/complete", {"outcome": "lost"}, format="json"), 409)
    assert again["detail"] == "This check-in is completed."

    won = ok(api.post(f"{API}/check-ins/{winning_id}/complete", {"outcome": "won"}, format="json"))
    assert (won["outcome"], won["pursuit"]["coach_state"]) == ("won", "won")

    dismissed = ok(api.post(f"{API}/check-ins/{dismissed_id}/dismiss"))
    assert (dismissed["status"], dismissed["outcome"], dismissed["completed_at"]) == (
        "dismissed",
        "",
        "2026-03-23T10:30:00Z",
    )
    problem(api.post(f"{API}/check-ins/{dismissed_id}/dismiss"), 409)

    plan = ok(api.get(f"{API}/game-plan"))
    assert plan["check_ins"] == []
    assert plan["total_won"] == [{"amount": "500.00", "currency": "EUR"}]

    # Another person's check-in, an unknown one and a non-UUID id answer 404.
    stranger = client_for(make_user(email="stranger@example.org"))
    problem(stranger.post(f"{API}/check-ins/{dismissed_id}/dismiss"), 404)
    problem(api.post(f"{API}/check-ins/{uuid.uuid4()}/complete", {"outcome": "lost"}, format="json"), 404)
    problem(api.post(f"{API}/check-ins/not-a-uuid/dismiss"), 404)


def test_another_persons_pursuit_answers_404(frozen, api, make_user, client_for):
    pid = add(api, "Mine", days=10)["id"]
    stranger = client_for(make_user(email="stranger@example.org", role="operator"))
    body = problem(stranger.get(f"{API}/pursuits/{pid}"), 404)
    assert body["detail"] == f"No pursuit of yours with the id {pid}."
    problem(stranger.patch(f"{API}/pursuits/{pid}", {"title": "Theirs"}, format="json"), 404)
    problem(stranger.post(f"{API}/pursuits/{pid}/confirm", {"state": "submitted"}, format="json"), 404)
    assert ok(stranger.get(f"{API}/pursuits"))["count"] == 0
    assert ok(stranger.get(f"{API}/game-plan"))["top"] == []
    problem(api.get(f"{API}/pursuits/{uuid.uuid4()}"), 404)
    problem(api.patch(f"{API}/pursuits/12345", {"title": "x"}, format="json"), 404)
    assert Pursuit.objects.get(pk=pid).title == "Mine"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/pursuits"),
        ("post", "/pursuits"),
        ("get", "/game-plan"),
        ("post", "/snooze"),
        ("patch", "/pursuits/00000000-0000-4000-8000-000000000001"),
        ("post", "/pursuits/00000000-0000-4000-8000-000000000002/confirm"),
        ("post", "/check-ins/00000000-0000-4000-8000-000000000003/complete"),
        ("post", "/check-ins/00000000-0000-4000-8000-000000000004/dismiss"),
    ],
)
def test_anonymous_callers_get_401(anon_api, method, path):
    body = problem(getattr(anon_api, method)(f"{API}{path}", {}, format="json"), 401)
    assert body["type"] == "/problems/not-authenticated"


def test_session_sign_in_works_for_any_role(frozen, make_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(make_user(email="mentor@example.org", role="mentor"))
    add(client, "Through the browser", days=10)
    assert [p["title"] for p in ok(client.get(f"{API}/game-plan"))["top"]] == ["Through the browser"]


def test_bad_input_is_a_problem_with_field_errors(frozen, api):
    def errors(response) -> dict:
        return problem(response, 400).get("errors", {})

    malformed = problem(api.generic("POST", f"{API}/pursuits", "{not json", content_type="application/json"), 400)
    assert malformed["type"] == "/problems/malformed-request"
    assert errors(api.post(f"{API}/pursuits", [1, 2], format="json")) == {
        "non_field_errors": "Invalid data. Expected a dictionary, but got list."
    }
    assert list(errors(api.post(f"{API}/pursuits", {}, format="json"))) == ["title"]
    wrong = errors(
        api.post(
            f"{API}/pursuits",
            {
                "title": ["x"],
                "url": "ftp:/nope",
                "deadline": "2026-04-01T10:00:00",
                "award_amount": "lots",
                "award_currency": "EURO",
                "application_type": "poem",
                "trust_score": 2,
            },
            format="json",
        )
    )
    assert sorted(wrong) == sorted(
        ["title", "url", "deadline", "award_amount", "award_currency", "application_type", "trust_score"]
    )
    assert wrong["deadline"] == "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."
    # Rules the service holds: a passed deadline, an award without its currency, an http(s) address.
    assert errors(
        api.post(
            f"{API}/pursuits",
            {"title": "X", "deadline": "2026-03-01T00:00:00Z", "award_amount": "10", "url": "ftp://x.example.org"},
            format="json",
        )
    ) == {
        "deadline": "The deadline has passed.",
        "award_currency": "Give the currency of the award amount.",
        "url": "An http(s) address of at most 500 characters.",
    }
    assert list(errors(api.post(f"{API}/pursuits", {"title": "X", "award_amount": "1.234"}, format="json"))) == [
        "award_amount"
    ]
    assert list(errors(api.post(f"{API}/pursuits", {"title": "X", "award_amount": -1}, format="json"))) == [
        "award_amount"
    ]
    assert list(
        errors(api.post(f"{API}/pursuits", {"title": "X", "deadline": "9999-12-31T23:00:00-14:00"}, format="json"))
    ) == ["deadline"]
    assert list(errors(api.post(f"{API}/pursuits", {"title": "a\x00b"}, format="json"))) == ["title"]
    assert Pursuit.objects.count() == 0

    pid = add(api, "Valid", days=10)["id"]
    assert list(errors(api.patch(f"{API}/pursuits/{pid}", {"coach_state": "asleep"}, format="json"))) == ["coach_state"]
    assert list(errors(api.patch(f"{API}/pursuits/{pid}", {"title": None}, format="json"))) == ["title"]
    assert list(errors(api.patch(f"{API}/pursuits/{pid}", {"award_amount": "5"}, format="json"))) == ["award_currency"]
    assert list(errors(api.post(f"{API}/pursuits/{pid}/confirm", {"state": "lost"}, format="json"))) == ["state"]
    assert list(errors(api.post(f"{API}/pursuits/{pid}/confirm", "nope", format="json"))) == ["non_field_errors"]
    problem(api.generic("PATCH", f"{API}/pursuits/{pid}", "{", content_type="application/json"), 400)
    problem(api.generic("POST", f"{API}/snooze", "[", content_type="application/json"), 400)
    assert ok(api.get(f"{API}/pursuits/{pid}"))["title"] == "Valid"


def test_internal_pursuit_follows_its_application_and_waits_for_the_win(
    frozen, program, make_user, client_for, operator
):
    application_form_publish(
        program=program, fields=[{"key": "name", "label": "Your name", "type": "short_text", "required": True}]
    )
    writer = make_user(email="applicant@example.org", role="writer")
    api = client_for(writer)
    application = application_start(applicant=writer, program=program, answers={"name": "Ada"}, submit=True)
    (pursuit,) = ok(api.get(f"{API}/pursuits"))["results"]
    assert {k: pursuit[k] for k in ("internal", "application_id", "coach_state", "title", "submitted_at")} == {
        "internal": True,
        "application_id": str(application.pk),
        "coach_state": "submitted",
        "title": program.name,
        "submitted_at": iso(application.submitted_at),
    }
    refused = problem(api.patch(f"{API}/pursuits/{pursuit['id']}", {"title": "Mine now"}, format="json"), 400)
    assert refused["errors"] == {
        "title": "This pursuit follows your application on the platform; change the application instead."
    }
    early = problem(api.post(f"{API}/pursuits/{pursuit['id']}/confirm", {"state": "won"}, format="json"), 409)
    assert early["detail"] == "The program has not accepted this application yet."

    decision_make(application=application, decision="accepted", reason="Strong voice.", actor=operator)
    plan = ok(api.get(f"{API}/game-plan"))
    assert [(p["id"], p["coach_state"], p["pending_state"]) for p in plan["to_confirm"]] == [
        (pursuit["id"], "outcome_pending", "won")
    ]
    won = ok(api.post(f"{API}/pursuits/{pursuit['id']}/confirm", {"state": "won"}, format="json"))
    assert (won["coach_state"], won["pending_state"], won["confirmed_at"]) == ("won", "", iso(T0))
    assert ok(api.get(f"{API}/game-plan"))["to_confirm"] == []

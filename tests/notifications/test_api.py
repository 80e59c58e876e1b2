"""The caller's notifications over the API: the inbox, read marks and preferences."""

from __future__ import annotations

import uuid

import pytest

from core.models import AuditEntry
from notifications.models import NotificationPreference
from notifications.services import notify
from tests.notifications.conftest import deliver

pytestmark = pytest.mark.django_db

API = "/api/v1/me"


def inbox_of(user, *titles: str) -> list:
    rows = []
    for title in titles:
        rows += deliver(
            notify(
                user=user,
                kind="account_notice",
                context={"title": title, "message": f"About {title}"},
                channels=["dashboard"],
                related=[{"type": "programs.program", "id": "p-1"}],
            )
        )
    return rows


@pytest.fixture
def api(client_for, recipient):
    return client_for(recipient)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


# --- inbox ------------------------------------------------------------------------------------


def test_the_list_holds_the_callers_delivered_dashboard_notifications_newest_first(api, recipient, make_user):
    first, second = inbox_of(recipient, "First", "Second")
    inbox_of(make_user(), "Someone else's")
    notify(user=recipient, kind="account_notice", context={"title": "Queued", "message": "m"}, channels=["dashboard"])

    body = api.get(f"{API}/notifications").json()

    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert body["results"][0] == {
        "id": str(second.pk),
        "kind": "account_notice",
        "group": "transactional",
        "subject": "Second",
        "text": "About Second",
        "related": [{"type": "programs.program", "id": "p-1"}],
        "sent_at": second.sent_at.isoformat().replace("+00:00", "Z"),
        "read_at": None,
        "is_read": False,
        "created_at": second.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert [r["subject"] for r in body["results"]] == ["Second", "First"]


def test_the_unread_filter(api, recipient):
    first, second, third = inbox_of(recipient, "First", "Second", "Third")
    api.post(f"{API}/notifications/{second.pk}/read")

    unread = api.get(f"{API}/notifications", {"unread": "true"}).json()
    read = api.get(f"{API}/notifications", {"unread": "false"}).json()

    assert [r["subject"] for r in unread["results"]] == ["Third", "First"]
    assert [(r["subject"], r["is_read"]) for r in read["results"]] == [("Second", True)]
    invalid = _problem(api.get(f"{API}/notifications", {"unread": "maybe"}), 400)
    assert invalid["errors"] == {"unread": "Select a valid choice. maybe is not one of the available choices."}


def test_the_list_costs_the_same_queries_for_2_and_10_rows(api, recipient, django_assert_num_queries):
    inbox_of(recipient, "One", "Two")
    api.get(f"{API}/notification-preferences")  # the token's first use records it (a write)
    with django_assert_num_queries(3):  # token with its user, count, page
        assert api.get(f"{API}/notifications").json()["count"] == 2
    inbox_of(recipient, *[f"More {n}" for n in range(8)])
    with django_assert_num_queries(3):
        assert len(api.get(f"{API}/notifications").json()["results"]) == 10


def test_mark_read_answers_the_notification_and_keeps_the_first_read_time(api, recipient, frozen_clock):
    [row] = inbox_of(recipient, "One")

    response = api.post(f"{API}/notifications/{row.pk}/read")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["is_read"], body["read_at"]) == (
        str(row.pk),
        True,
        frozen_clock().isoformat().replace("+00:00", "Z"),
    )
    frozen_clock.advance(hours=2)
    assert api.post(f"{API}/notifications/{row.pk}/read").json()["read_at"] == body["read_at"]


def test_another_users_notification_answers_404_and_stays_unread(api, make_user):
    [theirs] = inbox_of(make_user(), "Theirs")

    problem = _problem(api.post(f"{API}/notifications/{theirs.pk}/read"), 404)

    assert problem == {
        "type": "/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No notification with this id in your inbox.",
    }
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert _problem(api.post(f"{API}/notifications/{uuid.uuid4()}/read"), 404)["status"] == 404


def test_mark_all_read_answers_how_many(api, recipient, make_user):
    inbox_of(recipient, "One", "Two")
    [theirs] = inbox_of(make_user(), "Theirs")

    assert api.post(f"{API}/notifications/read-all").json() == {"marked": 2}
    assert api.post(f"{API}/notifications/read-all").json() == {"marked": 0}
    assert api.get(f"{API}/notifications", {"unread": "true"}).json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_anonymous_callers_are_refused(anon_api):
    assert _problem(anon_api.get(f"{API}/notifications"), 401)["type"] == "/problems/not-authenticated"
    assert _problem(anon_api.post(f"{API}/notifications/read-all"), 401)["status"] == 401
    assert _problem(anon_api.get(f"{API}/notification-preferences"), 401)["status"] == 401


# --- preferences ------------------------------------------------------------------------------


def _optional(body, key):
    return [k for k in body["optional_kinds"] if k["key"] == key]


def test_preferences_default_without_writing_a_row(api, recipient, nudge_kind):
    body = api.get(f"{API}/notification-preferences").json()

    assert {k: v for k, v in body.items() if k != "optional_kinds"} == {
        "opted_out_kinds": [],
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "email_enabled": True,
    }
    assert _optional(body, nudge_kind.key) == [
        {"key": "test_deadline_nudge", "group": "nudge", "description": "Deadlines coming up (test)."}
    ]
    assert _optional(body, "account_notice") == []
    assert not NotificationPreference.objects.filter(user=recipient).exists()


def test_preferences_are_replaced_and_audited(api, recipient, nudge_kind):
    response = api.put(
        f"{API}/notification-preferences",
        {
            "opted_out_kinds": [nudge_kind.key, nudge_kind.key],
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
            "email_enabled": False,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: v for k, v in body.items() if k != "optional_kinds"} == {
        "opted_out_kinds": ["test_deadline_nudge"],
        "quiet_hours_start": "22:00:00",
        "quiet_hours_end": "07:30:00",
        "email_enabled": False,
    }
    assert api.get(f"{API}/notification-preferences").json() == body
    entry = AuditEntry.objects.get(action="notification_preferences.updated")
    assert (entry.actor_label, entry.changes) == (
        "ada@example.org",
        {
            "opted_out_kinds": [[], ["test_deadline_nudge"]],
            "quiet_hours_start": [None, "22:00:00"],
            "quiet_hours_end": [None, "07:30:00"],
            "email_enabled": [True, False],
        },
    )

    # Omitted fields take their defaults (PUT replaces the whole resource).
    again = api.put(f"{API}/notification-preferences", {"email_enabled": False}, format="json").json()
    assert (again["opted_out_kinds"], again["quiet_hours_start"], again["quiet_hours_end"]) == ([], None, None)


def test_opting_out_of_essential_or_unknown_kinds_answers_400_per_item(api, recipient, nudge_kind):
    problem = _problem(
        api.put(
            f"{API}/notification-preferences",
            {"opted_out_kinds": ["account_notice", nudge_kind.key, "no_such_kind"]},
            format="json",
        ),
        400,
    )

    assert problem["errors"] == {
        "opted_out_kinds/0": "'account_notice' is essential and cannot be turned off.",
        "opted_out_kinds/2": "No notification kind 'no_such_kind'.",
    }
    assert problem["detail"] == "The request has invalid fields."
    assert not NotificationPreference.objects.filter(user=recipient).exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"quiet_hours_start": "22:00"}, {"quiet_hours_end": "Set both ends of the quiet hours, or neither."}),
        ({"quiet_hours_end": "07:00"}, {"quiet_hours_start": "Set both ends of the quiet hours, or neither."}),
        (
            {"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"},
            {"quiet_hours_end": "The quiet hours must end at another time than they start."},
        ),
        (
            {"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"},
            {"quiet_hours_start": "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]]."},
        ),
        ({"email_enabled": "perhaps"}, {"email_enabled": "Must be a valid boolean."}),
        (
            {"opted_out_kinds": "test_deadline_nudge"},
            {"opted_out_kinds": 'Expected a list of items but got type "str".'},
        ),
    ],
)
def test_invalid_preferences_answer_400_per_field(api, recipient, nudge_kind, body, errors):
    problem = _problem(api.put(f"{API}/notification-preferences", body, format="json"), 400)
    assert problem["errors"] == errors
    assert not NotificationPreference.objects.filter(user=recipient).exists()

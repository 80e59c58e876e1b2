"""Coach messages: the kinds, and how items held back by the "nudge" rate limit fold into the next
coach message on the same channel (the rule of `coaching.nudges`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coaching import notices, nudges
from coaching.models import Pursuit
from coaching.services import pursuit_confirm, pursuit_create_external
from notifications.registry import get_kind
from notifications.services import notification_preferences_update, notify
from tests.coaching.test_jobs import T0, ensure_nudge_limits, freeze


@pytest.fixture
def frozen(monkeypatch):
    return freeze(monkeypatch)


@pytest.fixture
def nudge_limits(db) -> None:
    ensure_nudge_limits()


def _pursuit(user, title, days):
    return pursuit_create_external(user=user, data={"title": title, "deadline": T0 + timedelta(days=days)})


def _send(user, items, frozen, hours, kind=notices.DEADLINE_REMINDER):
    now = frozen.set(T0 + timedelta(hours=hours))
    rows = nudges.send(user=user, kind=kind, items=items, now=now, key=f"test:{user.pk}:{hours}")
    return {row.channel: row for row in rows}


def _earlier(row) -> list[str]:
    return [item["key"] for item in row.context["earlier"]]


def micro(pursuit):
    return nudges.micro_task_item(
        {"pursuit_id": pursuit.pk, "title": pursuit.title, "deadline": pursuit.deadline, "text": f"Do {pursuit.title}."}
    )


def test_the_coach_kinds_are_non_essential_nudges():
    assert [(k, get_kind(k).group, get_kind(k).essential) for k in notices.COACH_KINDS] == [
        ("coach_deadline_reminder", "nudge", False),
        ("coach_micro_task", "nudge", False),
        ("coach_check_in", "nudge", False),
    ]
    assert all(get_kind(k).check_templates() == [] for k in notices.COACH_KINDS)


def test_held_back_items_fold_into_the_next_message_on_the_same_channel(
    make_user, frozen, nudge_limits, django_assert_num_queries
):
    ada = make_user(email="ada@example.org")
    p1, p2, p3, p4 = (_pursuit(ada, name, days) for name, days in (("One", 5), ("Two", 6), ("Three", 4), ("Four", 3)))
    p5 = _pursuit(ada, "Five", 9)
    pursuit_confirm(pursuit=p5, user=ada, state="submitted")

    first = _send(ada, [micro(p1)], frozen, 0, notices.MICRO_TASK)
    assert [first[c].status for c in ("email", "dashboard")] == ["queued", "queued"]
    assert _earlier(first["email"]) == []

    second = _send(ada, [nudges.deadline_item(p3, "72h")], frozen, 1)
    assert [second[c].suppressed_reason for c in ("email", "dashboard")] == ["rate_limited", "rate_limited"]
    assert _earlier(second["email"]) == []
    third = _send(ada, [micro(p2), nudges.deadline_item(p4, "72h")], frozen, 2, notices.MICRO_TASK)
    assert third["email"].status == "suppressed"
    assert _earlier(third["email"]) == [f"deadline_72h:{p3.pk}"]

    # Held back for another reason: not folded (the person opted out of this kind).
    notification_preferences_update(
        user=ada, opted_out_kinds=[notices.CHECK_IN], quiet_hours_start=None, quiet_hours_end=None, email_enabled=True
    )
    opted = _send(ada, [nudges.check_in_item(p5)], frozen, 3, notices.CHECK_IN)
    assert opted["email"].suppressed_reason == "opted_out"
    notification_preferences_update(
        user=ada, opted_out_kinds=[], quiet_hours_start=None, quiet_hours_end=None, email_enabled=True
    )
    pursuit_confirm(pursuit=p4, user=ada, state="submitted")  # no longer true: drops out

    with django_assert_num_queries(2):
        held = nudges.held_back(ada, "email", T0 + timedelta(hours=25))
    assert [item["key"] for item in held] == [f"deadline_72h:{p3.pk}", f"micro_task:{p2.pk}"]
    assert held[0]["deadline"] == p3.deadline  # a datetime again, for the templates

    # 25 h after the first message: this one goes out, with what was held back; the 24 h
    # reminder of Three replaces its held-back 72 h one.
    fifth = _send(ada, [nudges.deadline_item(p3, "24h")], frozen, 25)
    assert [fifth[c].status for c in ("email", "dashboard")] == ["queued", "queued"]
    for channel in ("email", "dashboard"):
        assert _earlier(fifth[channel]) == [f"micro_task:{p2.pk}"]
        assert fifth[channel].context["pursuit_ids"] == [str(p3.pk)]
        assert [ref["id"] for ref in fifth[channel].related] == [str(p3.pk), str(p2.pk)]
    assert "Held back from earlier messages:\n- Do Two." in fifth["email"].body_text
    assert fifth["dashboard"].dashboard_text.endswith("Also: Do Two..")

    # Caught up: the next one held back folds nothing older than the message that went out.
    sixth = _send(ada, [micro(p1)], frozen, 26, notices.MICRO_TASK)
    assert sixth["email"].status == "suppressed"
    assert _earlier(sixth["email"]) == []
    ben = make_user(email="ben@example.org")
    with django_assert_num_queries(1):
        assert nudges.held_back(ben, "email", T0) == []

    # Each channel on its own: another nudge takes the e-mail slot only.
    frozen.set(T0 + timedelta(hours=50))
    [other] = notify(user=ada, kind="mentorship_checkin_due", context={}, channels=["email"])
    assert other.status == "queued"
    seventh = _send(ada, [nudges.deadline_item(p2, "72h")], frozen, 51)
    assert (seventh["email"].status, seventh["dashboard"].status) == ("suppressed", "queued")
    assert _earlier(seventh["dashboard"]) == [f"micro_task:{p1.pk}"]
    eighth = _send(ada, [micro(p2)], frozen, 75, notices.MICRO_TASK)
    assert (eighth["email"].status, eighth["dashboard"].status) == ("queued", "queued")
    assert _earlier(eighth["email"]) == [f"micro_task:{p1.pk}", f"deadline_72h:{p2.pk}"]
    assert _earlier(eighth["dashboard"]) == []


def test_a_message_sent_twice_with_one_key_is_recorded_once(make_user, frozen, nudge_limits):
    ada = make_user(email="ada@example.org")
    pursuit = _pursuit(ada, "One", 2)
    items = [nudges.deadline_item(pursuit, "72h")]
    key = nudges.dedupe_key(notices.DEADLINE_REMINDER, ada, "20260302T09", items)
    rows = nudges.send(user=ada, kind=notices.DEADLINE_REMINDER, items=items, now=T0, key=key)
    again = nudges.send(user=ada, kind=notices.DEADLINE_REMINDER, items=items, now=T0, key=key)
    assert [r.pk for r in rows] == [r.pk for r in again]
    assert Pursuit.objects.count() == 1
    assert sum(1 for _ in ada.notifications.all()) == 2

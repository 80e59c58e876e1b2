"""Quiet hours hold nudges back until they end, in the user's time zone and across DST changes;
the `notification_dispatch` job sends them then, not before."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.jobs import run_job
from notifications.models import Notification
from notifications.services import notification_preferences_update, notify, quiet_hours_end
from tests.notifications.conftest import deliver

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "start", "end", "zone", "expected"),
    [
        # Berlin, 22:00-07:00; clocks go forward on 2026-03-29 at 02:00 CET (01:00 UTC).
        (utc(2026, 3, 28, 20, 59, 59), time(22), time(7), BERLIN, None),  # 21:59:59 CET
        (utc(2026, 3, 28, 21, 0), time(22), time(7), BERLIN, utc(2026, 3, 29, 5, 0)),  # 22:00 CET
        (utc(2026, 3, 28, 22, 30), time(22), time(7), BERLIN, utc(2026, 3, 29, 5, 0)),  # 23:30 CET
        (utc(2026, 3, 29, 0, 30), time(22), time(7), BERLIN, utc(2026, 3, 29, 5, 0)),  # 01:30 CET
        (utc(2026, 3, 29, 3, 30), time(22), time(7), BERLIN, utc(2026, 3, 29, 5, 0)),  # 05:30 CEST
        (utc(2026, 3, 29, 4, 59, 59), time(22), time(7), BERLIN, utc(2026, 3, 29, 5, 0)),
        (utc(2026, 3, 29, 5, 0), time(22), time(7), BERLIN, None),  # 07:00 CEST: over
        # Clocks go back on 2026-10-25 at 03:00 CEST (01:00 UTC): 07:00 CET is 06:00 UTC.
        (utc(2026, 10, 24, 21, 30), time(22), time(7), BERLIN, utc(2026, 10, 25, 6, 0)),  # 23:30 CEST
        (utc(2026, 10, 25, 1, 30), time(22), time(7), BERLIN, utc(2026, 10, 25, 6, 0)),  # 02:30 CET (2nd)
        # An end inside the spring gap (02:30 does not exist) comes an hour of wall time later.
        (utc(2026, 3, 28, 22, 0), time(22), time(2, 30), BERLIN, utc(2026, 3, 29, 1, 30)),
        # A window within one day, and one in UTC.
        (utc(2026, 6, 1, 11, 30), time(13), time(14), BERLIN, utc(2026, 6, 1, 12, 0)),  # 13:30 CEST
        (utc(2026, 6, 1, 12, 0), time(13), time(14), BERLIN, None),  # 14:00 CEST
        (utc(2026, 6, 1, 23, 15), time(23), time(6, 30), ZoneInfo("UTC"), utc(2026, 6, 2, 6, 30)),
        # Equal ends: no quiet hours.
        (utc(2026, 6, 1, 23, 15), time(23), time(23), BERLIN, None),
    ],
)
def test_quiet_hours_end(at, start, end, zone, expected):
    assert quiet_hours_end(at=at, start=start, end=end, zone=zone) == expected


def _quiet(user, start=time(22), end=time(7)):
    notification_preferences_update(
        user=user, opted_out_kinds=[], quiet_hours_start=start, quiet_hours_end=end, email_enabled=True
    )


@pytest.mark.django_db
def test_nudges_in_quiet_hours_are_scheduled_for_their_end_and_transactional_ones_are_not(
    make_user, nudge_kind, frozen_clock
):
    berlin = make_user(email="bea@example.org", timezone="Europe/Berlin")
    utc_user = make_user(email="uma@example.org", timezone="")
    _quiet(berlin)
    _quiet(utc_user)
    frozen_clock.set(utc(2026, 10, 24, 21, 30))  # 23:30 in Berlin, the night clocks go back

    nudges = notify(user=berlin, kind=nudge_kind.key, context={"name": "Pitch Week"})
    notice = notify(user=berlin, kind="account_notice", context={"title": "t", "message": "m"})
    blank_zone = notify(user=utc_user, kind=nudge_kind.key, context={"name": "Pitch Week"}, channels=["email"])

    assert [(n.channel, n.status, n.scheduled_for) for n in nudges] == [
        ("email", "queued", utc(2026, 10, 25, 6, 0)),
        ("dashboard", "queued", utc(2026, 10, 25, 6, 0)),
    ]
    assert [(n.status, n.scheduled_for) for n in notice] == [("queued", None), ("queued", None)]
    # No time zone on the profile: the quiet hours are read in UTC (21:30 is before 22:00).
    assert [(n.status, n.scheduled_for) for n in blank_zone] == [("queued", None)]

    # Delivery before the end does nothing, even when asked directly.
    assert [(n.status, n.attempts) for n in deliver(nudges)] == [("queued", 0), ("queued", 0)]


@pytest.mark.django_db
def test_suppressed_nudges_are_not_scheduled(make_user, nudge_kind, frozen_clock):
    user = make_user(timezone="Europe/Berlin")
    _quiet(user)
    frozen_clock.set(utc(2026, 3, 28, 22, 30))
    notify(user=user, kind=nudge_kind.key, context={}, channels=["email"])
    [limited] = notify(user=user, kind=nudge_kind.key, context={}, channels=["email"])
    assert (limited.status, limited.suppressed_reason, limited.scheduled_for) == ("suppressed", "rate_limited", None)


@pytest.mark.django_db(transaction=True)
def test_the_dispatch_job_sends_a_held_nudge_only_once_the_quiet_hours_end(
    make_user, nudge_kind, frozen_clock, mailoutbox
):
    user = make_user(email="bea@example.org", full_name="Bea Berg", timezone="Europe/Berlin")
    _quiet(user)
    frozen_clock.set(utc(2026, 3, 28, 22, 30))  # 23:30 CET; at 02:00 the clocks go forward
    nudges = notify(user=user, kind=nudge_kind.key, context={"name": "Career Lab", "count": 1})
    notify(user=user, kind="account_notice", context={"title": "Booked", "message": "See you."})
    assert {n.scheduled_for for n in nudges} == {utc(2026, 3, 29, 5, 0)}  # 07:00 CEST

    frozen_clock.set(utc(2026, 3, 29, 4, 59, 59))
    early = run_job("notification_dispatch")

    # The transactional notice (its on-commit task "lost": delivery is off) goes; the nudge waits.
    assert (early.status, early.counts) == ("succeeded", {"sent": 2, "retried": 0, "failed": 0, "suppressed": 0})
    assert [m.subject for m in mailoutbox] == ["Booked"]
    assert set(Notification.objects.filter(kind=nudge_kind.key).values_list("status", flat=True)) == {"queued"}

    frozen_clock.set(utc(2026, 3, 29, 5, 0))
    on_time = run_job("notification_dispatch")

    assert (on_time.status, on_time.counts) == ("succeeded", {"sent": 2, "retried": 0, "failed": 0, "suppressed": 0})
    assert [m.subject for m in mailoutbox] == ["Booked", "1 deadline for Bea"]
    assert mailoutbox[1].to == ["bea@example.org"]
    assert sorted(Notification.objects.filter(kind=nudge_kind.key).values_list("channel", "status", "sent_at")) == [
        ("dashboard", "sent", utc(2026, 3, 29, 5, 0)),
        ("email", "sent", utc(2026, 3, 29, 5, 0)),
    ]

    again = run_job("notification_dispatch")
    assert again.counts == {"sent": 0, "retried": 0, "failed": 0, "suppressed": 0}
    assert len(mailoutbox) == 2

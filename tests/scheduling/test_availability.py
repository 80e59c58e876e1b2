"""Availability windows: weekly windows expand on the wall clock of their own zone across DST
changes (Europe/Kyiv and America/New_York, spring and autumn, including times in the spring gap
and the repeated autumn hour); creation validates every item, refuses overlaps with the person's
windows and within the batch, naming the item; concurrent creations cannot both add an overlap."""

from __future__ import annotations

import time as clock_time
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

import scheduling.services.availability as services
from core.errors import ValidationFailed
from core.models import AuditEntry
from scheduling.models import AvailabilityWindow
from scheduling.services.availability import (
    availability_create,
    availability_delete,
    expand,
    merge,
    overlaps,
    wall_instant,
    window_intervals,
)
from tests.concurrency import race

pytestmark = pytest.mark.django_db

KYIV = "Europe/Kyiv"
NEW_YORK = "America/New_York"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(weekday, start, end, zone, valid_from, valid_until=None, owner=None) -> AvailabilityWindow:
    return AvailabilityWindow(
        owner=owner,
        kind="weekly",
        weekday=weekday,
        start_time=start,
        end_time=end,
        timezone=zone,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def one_off(starts_at, ends_at, owner=None) -> AvailabilityWindow:
    return AvailabilityWindow(owner=owner, kind="one_off", starts_at=starts_at, ends_at=ends_at, timezone="UTC")


# --- Expansion across DST -----------------------------------------------------------------------


def test_kyiv_weekly_window_keeps_its_wall_time_across_spring_forward():
    # Kyiv moves from EET (+2) to EEST (+3) on Sunday 29 March 2026.
    window = weekly(0, time(18), time(20), KYIV, date(2026, 3, 2))

    intervals = window_intervals(window, utc(2026, 3, 1), utc(2026, 4, 14))

    assert intervals == [
        (utc(2026, 3, 2, 16), utc(2026, 3, 2, 18)),
        (utc(2026, 3, 9, 16), utc(2026, 3, 9, 18)),
        (utc(2026, 3, 16, 16), utc(2026, 3, 16, 18)),
        (utc(2026, 3, 23, 16), utc(2026, 3, 23, 18)),
        (utc(2026, 3, 30, 15), utc(2026, 3, 30, 17)),
        (utc(2026, 4, 6, 15), utc(2026, 4, 6, 17)),
        (utc(2026, 4, 13, 15), utc(2026, 4, 13, 17)),
    ]


def test_kyiv_weekly_window_keeps_its_wall_time_across_fall_back():
    # Back from EEST to EET on Sunday 25 October 2026.
    window = weekly(0, time(18), time(19, 30), KYIV, date(2026, 10, 1), valid_until=date(2026, 11, 2))

    intervals = window_intervals(window, utc(2026, 10, 1), utc(2026, 12, 1))

    assert intervals == [
        (utc(2026, 10, 5, 15), utc(2026, 10, 5, 16, 30)),
        (utc(2026, 10, 12, 15), utc(2026, 10, 12, 16, 30)),
        (utc(2026, 10, 19, 15), utc(2026, 10, 19, 16, 30)),
        (utc(2026, 10, 26, 16), utc(2026, 10, 26, 17, 30)),
        (utc(2026, 11, 2, 16), utc(2026, 11, 2, 17, 30)),  # valid_until is inclusive
    ]


def test_new_york_weekly_window_keeps_its_wall_time_across_both_changes():
    # New York: EST (-5) to EDT (-4) on Sunday 8 March, back on Sunday 1 November 2026.
    window = weekly(1, time(9), time(10), NEW_YORK, date(2026, 2, 24))

    spring = window_intervals(window, utc(2026, 2, 24), utc(2026, 3, 18))
    autumn = window_intervals(window, utc(2026, 10, 20), utc(2026, 11, 11))

    assert spring == [
        (utc(2026, 2, 24, 14), utc(2026, 2, 24, 15)),
        (utc(2026, 3, 3, 14), utc(2026, 3, 3, 15)),
        (utc(2026, 3, 10, 13), utc(2026, 3, 10, 14)),
        (utc(2026, 3, 17, 13), utc(2026, 3, 17, 14)),
    ]
    assert autumn == [
        (utc(2026, 10, 20, 13), utc(2026, 10, 20, 14)),
        (utc(2026, 10, 27, 13), utc(2026, 10, 27, 14)),
        (utc(2026, 11, 3, 14), utc(2026, 11, 3, 15)),
        (utc(2026, 11, 10, 14), utc(2026, 11, 10, 15)),
    ]


def test_a_time_in_the_spring_gap_is_the_moment_the_clocks_jump():
    # New York jumps from 02:00 EST to 03:00 EDT at 07:00 UTC; Kyiv from 03:00 EET to 04:00 EEST at 01:00 UTC.
    assert wall_instant(date(2026, 3, 8), time(2, 30), ZoneInfo(NEW_YORK)) == utc(2026, 3, 8, 7)
    assert wall_instant(date(2026, 3, 8), time(2, 0), ZoneInfo(NEW_YORK)) == utc(2026, 3, 8, 7)
    assert wall_instant(date(2026, 3, 29), time(3, 59), ZoneInfo(KYIV)) == utc(2026, 3, 29, 1)
    # Either side of the gap, times are as usual.
    assert wall_instant(date(2026, 3, 8), time(1, 59), ZoneInfo(NEW_YORK)) == utc(2026, 3, 8, 6, 59)
    assert wall_instant(date(2026, 3, 8), time(3, 0), ZoneInfo(NEW_YORK)) == utc(2026, 3, 8, 7)


def test_a_window_across_the_spring_gap_is_shorter_and_one_inside_it_is_empty():
    across_kyiv = weekly(6, time(3), time(5), KYIV, date(2026, 3, 1))
    across_new_york = weekly(6, time(1, 30), time(4), NEW_YORK, date(2026, 3, 1))
    inside_new_york = weekly(6, time(2), time(2, 45), NEW_YORK, date(2026, 3, 1))

    assert window_intervals(across_kyiv, utc(2026, 3, 22), utc(2026, 4, 6)) == [
        (utc(2026, 3, 22, 1), utc(2026, 3, 22, 3)),  # 2 hours in EET
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),  # 03:00 does not exist: from the jump to 05:00 EEST
        (utc(2026, 4, 5, 0), utc(2026, 4, 5, 2)),  # 2 hours in EEST
    ]
    assert window_intervals(across_new_york, utc(2026, 3, 1), utc(2026, 3, 16)) == [
        (utc(2026, 3, 1, 6, 30), utc(2026, 3, 1, 9)),
        (utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 8)),  # 01:30 EST to 04:00 EDT: 1.5 hours
        (utc(2026, 3, 15, 5, 30), utc(2026, 3, 15, 8)),
    ]
    assert window_intervals(inside_new_york, utc(2026, 3, 1), utc(2026, 3, 16)) == [
        (utc(2026, 3, 1, 7), utc(2026, 3, 1, 7, 45)),
        (utc(2026, 3, 15, 6), utc(2026, 3, 15, 6, 45)),
    ]


def test_a_repeated_autumn_time_is_its_first_occurrence():
    # New York repeats 01:00-02:00 on 1 November 2026 (EDT, then EST); Kyiv 03:00-04:00 on 25 October.
    ends_in_repeat = weekly(6, time(0, 30), time(1, 30), NEW_YORK, date(2026, 11, 1), date(2026, 11, 1))
    across_repeat = weekly(6, time(1, 30), time(3), NEW_YORK, date(2026, 11, 1), date(2026, 11, 1))
    kyiv_across = weekly(6, time(3, 30), time(5), KYIV, date(2026, 10, 25), date(2026, 10, 25))

    window_range = (utc(2026, 10, 20), utc(2026, 11, 5))
    assert window_intervals(ends_in_repeat, *window_range) == [(utc(2026, 11, 1, 4, 30), utc(2026, 11, 1, 5, 30))]
    # From the first 01:30 (EDT) to 03:00 EST: the repeated hour is held, 2.5 hours.
    assert window_intervals(across_repeat, *window_range) == [(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8))]
    assert window_intervals(kyiv_across, *window_range) == [(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3))]


def test_expansion_clips_to_the_range_and_the_validity_and_merges_per_owner(make_user):
    ana, ben = make_user(), make_user()
    windows = [
        weekly(0, time(9), time(12), "UTC", date(2026, 3, 9), date(2026, 3, 16), owner=ana),
        weekly(0, time(12), time(13), "UTC", date(2026, 3, 2), owner=ana),  # touches the first: merged
        one_off(utc(2026, 3, 10, 8), utc(2026, 3, 10, 20), owner=ana),
        one_off(utc(2026, 3, 1), utc(2026, 3, 2), owner=ben),  # before the range: left out
    ]

    expanded = expand(windows, utc(2026, 3, 9, 10), utc(2026, 3, 17))

    assert expanded == {
        ana.pk: [
            (utc(2026, 3, 9, 10), utc(2026, 3, 9, 13)),
            (utc(2026, 3, 10, 8), utc(2026, 3, 10, 20)),
            (utc(2026, 3, 16, 9), utc(2026, 3, 16, 13)),
        ]
    }


def test_merge_joins_overlapping_and_touching_intervals():
    assert merge(
        [
            (utc(2026, 3, 2, 12), utc(2026, 3, 2, 13)),
            (utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)),
            (utc(2026, 3, 2, 10), utc(2026, 3, 2, 11)),
            (utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 10, 30)),
            (utc(2026, 3, 2, 12, 15), utc(2026, 3, 2, 12, 45)),
        ]
    ) == [(utc(2026, 3, 2, 9), utc(2026, 3, 2, 11)), (utc(2026, 3, 2, 12), utc(2026, 3, 2, 13))]


def test_windows_in_two_zones_overlap_only_once_dst_shifts_one_of_them():
    # 18:00-19:00 Kyiv is 16:00-17:00 UTC in winter, 15:00-16:00 UTC from 30 March.
    kyiv = weekly(0, time(18), time(19), KYIV, date(2026, 3, 2))
    utc_window = weekly(0, time(15, 30), time(16), "UTC", date(2026, 3, 2))
    winter_only = weekly(0, time(15, 30), time(16), "UTC", date(2026, 3, 2), date(2026, 3, 29))

    assert overlaps(kyiv, utc_window) is True
    assert overlaps(kyiv, winter_only) is False


def test_same_zone_windows_overlap_on_a_shared_weekday_and_time():
    monday = weekly(0, time(9), time(12), KYIV, date(2026, 3, 2))
    assert overlaps(monday, weekly(0, time(11), time(13), KYIV, date(2026, 6, 1))) is True
    assert overlaps(monday, weekly(0, time(12), time(13), KYIV, date(2026, 3, 2))) is False  # touching
    assert overlaps(monday, weekly(1, time(9), time(12), KYIV, date(2026, 3, 2))) is False
    # Valid over Tuesday to Sunday only: no Monday in common.
    assert overlaps(monday, weekly(0, time(9), time(12), KYIV, date(2026, 3, 3), date(2026, 3, 8))) is False
    # A one-off on a Monday morning (Kyiv), and one on the Tuesday.
    assert overlaps(monday, one_off(utc(2026, 3, 9, 8), utc(2026, 3, 9, 9))) is True
    assert overlaps(monday, one_off(utc(2026, 3, 10, 8), utc(2026, 3, 10, 9))) is False


# --- Creation -----------------------------------------------------------------------------------


def _weekly_item(owner, **fields):
    item = {
        "owner": owner,
        "kind": "weekly",
        "weekday": 0,
        "start_time": time(9),
        "end_time": time(12),
        "timezone": KYIV,
        "valid_from": date(2026, 3, 2),
    }
    item.update(fields)
    return item


def _one_off_item(owner, starts_at, ends_at, **fields):
    return {"owner": owner, "kind": "one_off", "starts_at": starts_at, "ends_at": ends_at, **fields}


def test_create_windows_for_several_people_with_an_audit_row_each(program, make_user, operator):
    ana, ben = make_user(timezone=NEW_YORK), make_user()

    created = availability_create(
        program=program,
        actor=operator,
        items=[
            _weekly_item(ana, timezone=None, weekday=2, valid_until=date(2026, 6, 30)),
            _weekly_item(ben),
            _one_off_item(ben, datetime.fromisoformat("2026-03-10T18:00:00+02:00"), utc(2026, 3, 10, 18)),
        ],
    )

    assert [(w.owner_id, w.kind, w.program_id) for w in created] == [
        (ana.pk, "weekly", program.pk),
        (ben.pk, "weekly", program.pk),
        (ben.pk, "one_off", program.pk),
    ]
    first = AvailabilityWindow.objects.get(pk=created[0].pk)
    assert (first.timezone, first.weekday, first.start_time, first.end_time, first.valid_until) == (
        NEW_YORK,  # the owner's profile zone
        2,
        time(9),
        time(12),
        date(2026, 6, 30),
    )
    third = AvailabilityWindow.objects.get(pk=created[2].pk)
    assert (third.starts_at, third.ends_at, third.timezone) == (utc(2026, 3, 10, 16), utc(2026, 3, 10, 18), "UTC")
    entries = AuditEntry.objects.filter(action="availability.created").order_by("created_at")
    assert entries.count() == 3
    assert {e.target_id for e in entries} == {str(w.pk) for w in created}
    assert {e.actor_id for e in entries} == {operator.pk}
    assert entries.get(target_id=str(created[1].pk)).changes == {
        "owner": str(ben.pk),
        "window": "weekly on Monday 09:00-12:00 Europe/Kyiv from 2026-03-02",
    }


def test_every_bad_item_is_named_and_nothing_is_created(program, make_user):
    ana = make_user()
    gone = make_user()
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    with pytest.raises(ValidationFailed) as caught:
        availability_create(
            program=program,
            items=[
                _weekly_item(ana),
                _weekly_item(ana, weekday=1, timezone="Mars/Olympus"),
                _weekly_item(ana, weekday=2, start_time=time(18), end_time=time(2)),
                _weekly_item(ana, weekday=7, valid_from=date(2026, 5, 1), valid_until=date(2026, 4, 1)),
                _one_off_item(ana, datetime(2026, 3, 10, 9), utc(2026, 3, 10, 8), weekday=1),
                _one_off_item(ana, utc(2026, 3, 10, 9), utc(2026, 3, 10, 8)),
                _one_off_item(gone, utc(2026, 3, 10, 9), utc(2026, 5, 10, 8)),
                {"owner": ana, "kind": "monthly"},
                _weekly_item(ana, weekday=3, starts_at=utc(2026, 3, 10, 9), valid_from=None, end_time="noon"),
            ],
        )

    assert caught.value.errors == {
        "items/1/timezone": "'Mars/Olympus' is not an IANA time zone (e.g. Europe/Kyiv).",
        "items/2/end_time": "A weekly window ends after it starts on the same day; split one that passes midnight "
        "into two.",
        "items/3/weekday": "A weekday from 0 (Monday) to 6 (Sunday).",
        "items/3/valid_until": "The window ends on or after `valid_from`.",
        "items/4/weekday": "Only weekly windows have this field.",
        "items/4/starts_at": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00).",
        "items/5/ends_at": "A window ends after it starts.",
        "items/6/user_id": f"{gone} is not an active user.",
        "items/6/ends_at": "A one-off window lasts at most 31 days.",
        "items/7/kind": "'monthly' is not a window kind; use one of one_off, weekly.",
        "items/8/starts_at": "Only one-off windows have this field.",
        "items/8/end_time": "A local time (HH:MM).",
        "items/8/valid_from": "The first local date the window holds (YYYY-MM-DD).",
    }
    assert AvailabilityWindow.objects.count() == 0


def test_an_empty_or_oversized_batch_is_refused(program, make_user):
    with pytest.raises(ValidationFailed) as empty:
        availability_create(program=program, items=[], path="windows")
    ana = make_user()
    with pytest.raises(ValidationFailed) as big:
        availability_create(program=program, items=[_weekly_item(ana)] * 501, path="windows")

    assert empty.value.errors == {"windows": "Give at least one window."}
    assert big.value.errors == {"windows": "At most 500 windows per request."}


def test_overlaps_with_existing_windows_and_within_the_batch_are_named(program, make_program, make_user):
    ana, ben = make_user(), make_user()
    other_program = make_program(program.template, name="Another program")
    (existing,) = availability_create(program=program, items=[_weekly_item(ana)])
    availability_create(program=other_program, items=[_weekly_item(ana, start_time=time(13), end_time=time(15))])

    with pytest.raises(ValidationFailed) as caught:
        availability_create(
            program=program,
            path="windows",
            items=[
                _weekly_item(ana, start_time=time(12), end_time=time(14)),  # touches the existing: fine
                _weekly_item(ana, start_time=time(11), end_time=time(12)),  # overlaps the existing
                _weekly_item(ana, start_time=time(13, 30), end_time=time(15)),  # overlaps item 0
                _weekly_item(ben, start_time=time(13, 30), end_time=time(15)),  # another person: fine
                _one_off_item(ana, utc(2026, 3, 16, 10), utc(2026, 3, 16, 11)),  # 12:00-13:00 Kyiv: item 0
            ],
        )

    assert caught.value.errors == {
        "windows/1/start_time": f"Overlaps the window {existing.pk} of {ana} (weekly on Monday 09:00-12:00 "
        "Europe/Kyiv from 2026-03-02).",
        "windows/2/start_time": "Overlaps windows/0 of this request (weekly on Monday 12:00-14:00 Europe/Kyiv "
        "from 2026-03-02).",
        "windows/4/starts_at": "Overlaps windows/0 of this request (weekly on Monday 12:00-14:00 Europe/Kyiv "
        "from 2026-03-02).",
    }
    assert AvailabilityWindow.objects.filter(owner=ana).count() == 2


def test_a_window_of_no_program_counts_in_every_program(program, make_user):
    ana = make_user()
    availability_create(program=None, items=[_weekly_item(ana)])

    with pytest.raises(ValidationFailed) as caught:
        availability_create(program=program, items=[_weekly_item(ana, start_time=time(10), end_time=time(11))])

    assert list(caught.value.errors) == ["items/0/start_time"]


def test_delete_removes_the_window_with_an_audit_row(program, make_user, operator):
    ana = make_user()
    (window,) = availability_create(program=program, items=[_weekly_item(ana)])
    window_id = window.pk

    availability_delete(window=window, actor=operator)

    assert AvailabilityWindow.objects.filter(pk=window_id).exists() is False
    entry = AuditEntry.objects.get(action="availability.deleted")
    assert (entry.target_id, entry.actor_id) == (str(window_id), operator.pk)


# --- Concurrency --------------------------------------------------------------------------------


def _race(calls):
    return race(calls, expected=ValidationFailed)


@pytest.fixture
def slow_overlap_check(monkeypatch):
    """Sleep after reading the existing windows, so unserialised transactions overlap."""
    real = services.windows_in_scope

    def slow(program):
        clock_time.sleep(0.2)
        return real(program)

    monkeypatch.setattr(services, "windows_in_scope", slow)


def _overlapping_calls(program, owner):
    return [
        lambda: availability_create(program=program, items=[_weekly_item(owner, start_time=time(9))]),
        lambda: availability_create(program=program, items=[_weekly_item(owner, start_time=time(10))]),
    ]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_creations_add_one_window(program, make_user, slow_overlap_check):
    ana = make_user()

    results, refused, errors = _race(_overlapping_calls(program, ana))

    assert (errors, len(results), len(refused)) == ([], 1, 1)
    assert list(refused[0].errors) == ["items/0/start_time"]
    assert AvailabilityWindow.objects.filter(owner=ana).count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_control_without_the_owner_lock_both_overlapping_windows_are_added(
    program, make_user, slow_overlap_check, monkeypatch
):
    monkeypatch.setattr(services, "lock_people", lambda user_ids: None)
    ana = make_user()

    results, refused, errors = _race(_overlapping_calls(program, ana))

    assert (errors, len(results), len(refused)) == ([], 2, 0)
    assert AvailabilityWindow.objects.filter(owner=ana).count() == 2


def test_an_empty_range_holds_no_time():
    assert window_intervals(one_off(utc(2026, 3, 2), utc(2026, 3, 3)), utc(2026, 3, 3), utc(2026, 3, 2)) == []

"""Availability windows: create them (one or many, for one or many people), delete them, and
expand them into UTC intervals.

Rules:
- a one-off window is two aware instants, the end after the start, at most
  `MAX_ONE_OFF_DAYS` long;
- a weekly window is a weekday (0 = Monday), a local start and end time on that day (the end
  after the start: a window past midnight is two windows), an IANA time zone and the local dates
  it holds from (and, optionally, until, both inclusive);
- a window never overlaps another window of the same person that takes part in the same
  program's matching (the program's windows and the person's windows of no program), nor another
  window of the same request; windows that only touch (12:00 ends, 12:00 starts) do not overlap.
  Each person's rows are locked first, so two concurrent requests cannot both add an overlap;
- an invalid item fails the whole request, each error named `<path>/<index>/<field>`.

Time zones and DST: a weekly window is expanded on each local date in its own zone, so 18:00
Kyiv stays 18:00 Kyiv across a DST change while its UTC instant moves. A window holds the
instants whose local wall-clock time lies inside it:
- spring forward: a start or end that does not exist that day (it falls in the gap) is the
  instant the clocks jump (02:30 New York on 8 March 2026 is 03:00 EDT = 07:00 UTC), so a window
  across the gap is shorter by the gap and a window wholly inside the gap is empty that day;
- fall back: a wall time that happens twice is its first occurrence (as sessions' series are),
  so a window across the repeated hour is longer by it.

Windows of people in different zones are compared for overlap over at most `OVERLAP_HORIZON_DAYS`
of their common validity: time-zone rules repeat yearly, so one year and a week shows every way
two weekly windows can meet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet

from core.audit import audit_record
from core.errors import ValidationFailed
from core.middleware import valid_timezone
from programs.models import Program
from scheduling.enums import AvailabilityKind
from scheduling.models import AvailabilityWindow

Interval = tuple[datetime, datetime]

MAX_BATCH = 500
MAX_ONE_OFF_DAYS = 31
OVERLAP_HORIZON_DAYS = 371
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ONE_OFF_FIELDS = ("starts_at", "ends_at")
WEEKLY_FIELDS = ("weekday", "start_time", "end_time", "valid_from", "valid_until")
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


# --- Expansion ----------------------------------------------------------------------------------


def wall_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of the local wall time `at` on `day` in `zone`: the first occurrence of a
    repeated time (fall back); the instant the clocks jump for a time in the spring gap."""
    if at.tzinfo is not None or at.fold:
        at = at.replace(tzinfo=None, fold=0)
    local = datetime.combine(day, at, zone)
    instant = local.astimezone(UTC)
    back = instant.astimezone(zone)
    if back.time() == at and back.date() == day:
        return instant
    # In the gap: fold=1 reads the time with the offset after the change (an instant before the
    # jump), fold=0 with the offset before it (an instant after). The jump lies between; offsets
    # change on whole seconds.
    low = int(local.replace(fold=1).astimezone(UTC).timestamp())
    high = int(instant.timestamp())
    after = instant.astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def window_intervals(window: AvailabilityWindow, range_start: datetime, range_end: datetime) -> list[Interval]:
    """The window's UTC intervals that meet [range_start, range_end), clipped to it, in order."""
    if range_end <= range_start:
        return []
    if window.kind == AvailabilityKind.ONE_OFF:
        start, end = max(window.starts_at, range_start), min(window.ends_at, range_end)
        return [(start.astimezone(UTC), end.astimezone(UTC))] if start < end else []
    zone = ZoneInfo(window.timezone)
    first = max(window.valid_from, range_start.astimezone(zone).date())
    last = range_end.astimezone(zone).date()
    if window.valid_until is not None:
        last = min(last, window.valid_until)
    day = first + timedelta(days=(window.weekday - first.weekday()) % 7)
    intervals: list[Interval] = []
    while day <= last:
        start = max(wall_instant(day, window.start_time, zone), range_start)
        end = min(wall_instant(day, window.end_time, zone), range_end)
        if start < end:
            intervals.append((start, end))
        day += WEEK
    return intervals


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def expand(
    windows: Iterable[AvailabilityWindow], range_start: datetime, range_end: datetime
) -> dict[Any, list[Interval]]:
    """Each owner's availability in [range_start, range_end) as merged UTC intervals, keyed by
    owner id (owners without any time in the range are left out)."""
    per_owner: dict[Any, list[Interval]] = defaultdict(list)
    for window in windows:
        per_owner[window.owner_id].extend(window_intervals(window, range_start, range_end))
    return {owner: merge(intervals) for owner, intervals in per_owner.items() if intervals}


def windows_in_scope(program: Program | None) -> QuerySet[AvailabilityWindow]:
    """The windows that count for a program: its own and people's windows of no program."""
    if program is None:
        return AvailabilityWindow.objects.all()
    return AvailabilityWindow.objects.filter(Q(program_id=program.pk) | Q(program__isnull=True))


def windows_meeting(owner_ids: Iterable[Any], program: Program | None, start: datetime, end: datetime):
    """The owners' windows in the program's scope that can hold time in [start, end)."""
    # Local dates run at most 14 hours ahead of or 12 behind UTC: a day's margin covers every zone.
    first, last = start.astimezone(UTC).date() - DAY, end.astimezone(UTC).date() + DAY
    return (
        windows_in_scope(program)
        .filter(owner_id__in=list(owner_ids))
        .filter(
            Q(kind=AvailabilityKind.ONE_OFF, starts_at__lt=end, ends_at__gt=start)
            | Q(
                Q(valid_until__isnull=True) | Q(valid_until__gte=first),
                kind=AvailabilityKind.WEEKLY,
                valid_from__lte=last,
            )
        )
    )


def describe(window: AvailabilityWindow) -> str:
    if window.kind == AvailabilityKind.WEEKLY:
        until = f" until {window.valid_until.isoformat()}" if window.valid_until else ""
        return (
            f"weekly on {WEEKDAYS[window.weekday]} {window.start_time:%H:%M}-{window.end_time:%H:%M} "
            f"{window.timezone} from {window.valid_from.isoformat()}{until}"
        )
    return f"one-off {window.starts_at.isoformat()} to {window.ends_at.isoformat()}"


# --- Overlaps -----------------------------------------------------------------------------------


def _meet(first: list[Interval], second: list[Interval]) -> bool:
    i = j = 0
    while i < len(first) and j < len(second):
        if first[i][0] < second[j][1] and second[j][0] < first[i][1]:
            return True
        if first[i][1] <= second[j][1]:
            i += 1
        else:
            j += 1
    return False


def _has_weekday(first: date, last: date | None, weekday: int) -> bool:
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    return last is None or day <= last


def overlaps(a: AvailabilityWindow, b: AvailabilityWindow) -> bool:
    """Whether two windows share an instant."""
    if a.kind == AvailabilityKind.ONE_OFF and b.kind == AvailabilityKind.ONE_OFF:
        return a.starts_at < b.ends_at and b.starts_at < a.ends_at
    if a.kind == AvailabilityKind.ONE_OFF or b.kind == AvailabilityKind.ONE_OFF:
        one, weekly = (a, b) if a.kind == AvailabilityKind.ONE_OFF else (b, a)
        return bool(window_intervals(weekly, one.starts_at, one.ends_at))
    first = max(a.valid_from, b.valid_from)
    ends = [d for d in (a.valid_until, b.valid_until) if d is not None]
    last = min(ends) if ends else None
    if a.timezone == b.timezone:
        # Same zone: the wall times decide (the UTC mapping is monotonic).
        return (
            a.weekday == b.weekday
            and a.start_time < b.end_time
            and b.start_time < a.end_time
            and (last is None or first <= last)
            and _has_weekday(first, last, a.weekday)
        )
    if last is not None and first > last + DAY:
        return False
    horizon = first + timedelta(days=OVERLAP_HORIZON_DAYS)
    last = horizon if last is None else min(last, horizon)
    start = datetime.combine(first - DAY, time(0), tzinfo=UTC)
    end = datetime.combine(last + 2 * DAY, time(0), tzinfo=UTC)
    return _meet(window_intervals(a, start, end), window_intervals(b, start, end))


# --- Writing ------------------------------------------------------------------------------------


def _is_aware(value: Any) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is not None


def _default_zone(owner: Any, program: Program | None) -> str:
    if owner is not None and valid_timezone(getattr(owner, "timezone", "")) is not None:
        return owner.timezone
    return program.timezone if program is not None and valid_timezone(program.timezone) else "UTC"


def _item_errors(item: dict[str, Any], program: Program | None, prefix: str, errors: dict[str, str]) -> None:
    owner = item.get("owner")
    if owner is None:
        errors[f"{prefix}/user_id"] = "A window needs its owner."
    elif not owner.is_active:
        errors[f"{prefix}/user_id"] = f"{owner} is not an active user."
    kind = item.get("kind")
    zone = item.get("timezone") or _default_zone(owner, program)
    if valid_timezone(zone) is None:
        errors[f"{prefix}/timezone"] = f"'{zone}' is not an IANA time zone (e.g. Europe/Kyiv)."
    if kind == AvailabilityKind.ONE_OFF:
        for field in WEEKLY_FIELDS:
            if item.get(field) is not None:
                errors[f"{prefix}/{field}"] = "Only weekly windows have this field."
        starts_at, ends_at = item.get("starts_at"), item.get("ends_at")
        for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
            if value is None:
                errors[f"{prefix}/{field}"] = "A one-off window needs a start and an end."
            elif not _is_aware(value):
                errors[f"{prefix}/{field}"] = "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."
        if _is_aware(starts_at) and _is_aware(ends_at):
            if ends_at <= starts_at:
                errors[f"{prefix}/ends_at"] = "A window ends after it starts."
            elif ends_at - starts_at > timedelta(days=MAX_ONE_OFF_DAYS):
                errors[f"{prefix}/ends_at"] = f"A one-off window lasts at most {MAX_ONE_OFF_DAYS} days."
    elif kind == AvailabilityKind.WEEKLY:
        for field in ONE_OFF_FIELDS:
            if item.get(field) is not None:
                errors[f"{prefix}/{field}"] = "Only one-off windows have this field."
        weekday = item.get("weekday")
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            errors[f"{prefix}/weekday"] = "A weekday from 0 (Monday) to 6 (Sunday)."
        start_time, end_time = item.get("start_time"), item.get("end_time")
        for field, value in (("start_time", start_time), ("end_time", end_time)):
            if not isinstance(value, time):
                errors[f"{prefix}/{field}"] = "A local time (HH:MM)."
            elif value.tzinfo is not None:
                errors[f"{prefix}/{field}"] = "A local wall-clock time without an offset; the zone is `timezone`."
        if isinstance(start_time, time) and isinstance(end_time, time) and end_time <= start_time:
            errors[f"{prefix}/end_time"] = (
                "A weekly window ends after it starts on the same day; split one that passes midnight into two."
            )
        valid_from, valid_until = item.get("valid_from"), item.get("valid_until")
        if not isinstance(valid_from, date) or isinstance(valid_from, datetime):
            errors[f"{prefix}/valid_from"] = "The first local date the window holds (YYYY-MM-DD)."
        if valid_until is not None:
            if not isinstance(valid_until, date) or isinstance(valid_until, datetime):
                errors[f"{prefix}/valid_until"] = "The last local date the window holds (YYYY-MM-DD), or empty."
            elif isinstance(valid_from, date) and valid_until < valid_from:
                errors[f"{prefix}/valid_until"] = "The window ends on or after `valid_from`."
    else:
        errors[f"{prefix}/kind"] = f"'{kind}' is not a window kind; use one of {', '.join(AvailabilityKind.values)}."


def _build(item: dict[str, Any], program: Program | None) -> AvailabilityWindow:
    owner = item["owner"]
    kind = item["kind"]
    window = AvailabilityWindow(
        owner=owner, program=program, kind=kind, timezone=item.get("timezone") or _default_zone(owner, program)
    )
    if kind == AvailabilityKind.ONE_OFF:
        window.starts_at = item["starts_at"].astimezone(UTC)
        window.ends_at = item["ends_at"].astimezone(UTC)
    else:
        window.weekday = item["weekday"]
        window.start_time, window.end_time = item["start_time"], item["end_time"]
        window.valid_from, window.valid_until = item["valid_from"], item.get("valid_until")
    return window


def _overlap_field(window: AvailabilityWindow) -> str:
    return "start_time" if window.kind == AvailabilityKind.WEEKLY else "starts_at"


def lock_people(user_ids: Iterable[Any]) -> None:
    """Lock the people's user rows in a fixed order (two requests never deadlock)."""
    list(get_user_model().objects.select_for_update().filter(pk__in=list(user_ids)).order_by("pk").values_list("pk"))


@transaction.atomic
def availability_create(
    *, items: list[dict[str, Any]], program: Program | None = None, actor: Any = None, path: str = "items"
) -> list[AvailabilityWindow]:
    """Create windows, all or none. Each item has `owner` (a user), `kind` and the fields of its
    kind (see the module's rules); `timezone` defaults to the owner's profile zone, else the
    program's. Errors name `<path>/<index>/<field>`."""
    if not items:
        raise ValidationFailed(errors={path: "Give at least one window."})
    if len(items) > MAX_BATCH:
        raise ValidationFailed(errors={path: f"At most {MAX_BATCH} windows per request."})
    errors: dict[str, str] = {}
    for index, item in enumerate(items):
        _item_errors(item, program, f"{path}/{index}", errors)
    if errors:
        raise ValidationFailed(errors=errors)

    windows = [_build(item, program) for item in items]
    owner_ids = {window.owner_id for window in windows}
    lock_people(owner_ids)
    existing: dict[Any, list[AvailabilityWindow]] = defaultdict(list)
    for window in windows_in_scope(program).filter(owner_id__in=owner_ids).order_by("created_at", "id"):
        existing[window.owner_id].append(window)
    for index, window in enumerate(windows):
        field = f"{path}/{index}/{_overlap_field(window)}"
        clash = next((other for other in existing[window.owner_id] if overlaps(window, other)), None)
        if clash is not None:
            errors[field] = f"Overlaps the window {clash.pk} of {window.owner} ({describe(clash)})."
            continue
        for before, other in enumerate(windows[:index]):
            if other.owner_id == window.owner_id and overlaps(window, other):
                errors[field] = f"Overlaps {path}/{before} of this request ({describe(other)})."
                break
    if errors:
        raise ValidationFailed(errors=errors)

    created = AvailabilityWindow.objects.bulk_create(windows)
    for window in created:
        audit_record(
            actor=actor,
            action="availability.created",
            target=window,
            changes={"owner": str(window.owner_id), "window": describe(window)},
        )
    return created


@transaction.atomic
def availability_delete(*, window: AvailabilityWindow, actor: Any = None) -> None:
    """Delete a window; sessions already booked in it stay."""
    audit_record(
        actor=actor,
        action="availability.deleted",
        target=window,
        changes={"owner": str(window.owner_id), "window": describe(window)},
    )
    window.delete()

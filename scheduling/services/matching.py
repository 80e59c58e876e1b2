"""Slot matching: the times when every required participant is available and free, ranked; and
booking one of them as a session.

How a search runs (an interval sweep, never a minute-by-minute scan):
1. each participant's availability windows (the program's and their windows of no program) are
   expanded to merged UTC intervals over the search range (DST-correct, see `availability`);
2. their busy intervals are subtracted: sessions, of any program, that they host or hold a
   registered or waitlisted place at, unless cancelled;
3. the free intervals of all participants are intersected by one sweep over their sorted
   endpoints: where all of them are free at once is common free time;
4. slots of `duration_minutes` are cut from the common free time, starting on `step_minutes`
   boundaries of the reference zone's wall clock (on the hour and every 15 minutes by default).
The search starts at `range_start` or `min_notice_minutes` from now, whichever is later.

Ranking (best first):
1. the number of participants for whom the slot lies inside their preferred local hours (each in
   the zone `preferred_hours.timezone`, or without it in their own zone: their profile's, else
   that of their weekly windows, else the program's); without preferred hours, everyone counts;
2. then the lower cost, in minutes: the wait from the search start to the slot, plus
   `SLACK_WEIGHT` minutes for every minute of missing slack, where slack is the free time between
   the slot and the nearest session of any participant (before or after, whichever is closer),
   counted up to `SLACK_CAP_MINUTES`: a slot squeezed against another meeting ranks as if it came
   two hours later;
3. then the earlier start.
`score` is `(p + 1 / (1 + cost / 1440)) / (n + 1)` for p participants inside their preferred hours
of n: 1.0 for the first possible slot, with slack, suiting everyone; it orders slots exactly as
the ranking does.

Booking (`slot_book`) locks every participant's user row (in a fixed order) before it searches,
so two bookings involving the same person queue and the second sees the first's session; the
session itself is scheduled by `session_create`, which also holds the host against any other
booking. People registered for a session by other paths are not locked: only matching and host
bookings queue here.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from core import clock
from core.errors import Conflict, ValidationFailed
from core.middleware import valid_timezone
from programs.models import Program
from scheduling.enums import AvailabilityKind, RegistrationSource, RegistrationStatus, SessionKind, SessionStatus
from scheduling.models import Registration, Session
from scheduling.services.availability import (
    Interval,
    expand,
    lock_people,
    merge,
    wall_instant,
    windows_meeting,
)
from scheduling.services.sessions import MAX_SESSION_HOURS, session_create

STEPS = (5, 10, 15, 20, 30, 60)
MAX_PARTICIPANTS = 500
MAX_RANGE_DAYS = 92
MAX_LIMIT = 100
MAX_NOTICE_MINUTES = 366 * 24 * 60
SLACK_CAP_MINUTES = 30
SLACK_WEIGHT = 4
BUSY_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.DELIVERED)
BUSY_REGISTRATIONS = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    starts_at: datetime
    ends_at: datetime
    score: float
    preferred: int
    slack_minutes: int
    local_times: dict[str, str]


@dataclass
class Search:
    """A search's common free time and what ranks its slots."""

    participants: list[Any]
    duration: timedelta
    start: datetime
    end: datetime
    step: timedelta
    zone: str
    free: dict[Any, list[Interval]]
    common: list[Interval]
    busy: list[Interval]
    zones: dict[Any, str]
    rank_zones: dict[Any, str]
    preferred_windows: dict[str, list[Interval]] | None
    _busy_starts: list[datetime] = field(default_factory=list)
    _busy_ends: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._busy_starts = [start for start, _ in self.busy]
        self._busy_ends = [end for _, end in self.busy]
        self._zone_counts = Counter(self.rank_zones[p.pk] for p in self.participants)
        self._preferred_starts = {
            zone: [start for start, _ in windows] for zone, windows in (self.preferred_windows or {}).items()
        }

    # -- slots --

    def _first_on_grid(self, at: datetime) -> datetime:
        offset = at.astimezone(ZoneInfo(self.zone)).utcoffset() or timedelta(0)
        remainder = (at + offset - EPOCH) % self.step
        return at if not remainder else at + (self.step - remainder)

    def slots(self):
        for start, end in self.common:
            at = self._first_on_grid(start)
            while at + self.duration <= end:
                yield at
                at += self.step

    def fits(self, starts_at: datetime) -> bool:
        return _contains(self.common, [s for s, _ in self.common], starts_at, starts_at + self.duration)

    def not_free(self, starts_at: datetime) -> list[Any]:
        """The participants who are not free for the whole slot."""
        ends_at = starts_at + self.duration
        return [
            p
            for p in self.participants
            if not _contains(self.free.get(p.pk, []), [s for s, _ in self.free.get(p.pk, [])], starts_at, ends_at)
        ]

    # -- ranking --

    def _preferred(self, starts_at: datetime, ends_at: datetime) -> int:
        if self.preferred_windows is None:
            return len(self.participants)
        return sum(
            count
            for zone, count in self._zone_counts.items()
            if _contains(self.preferred_windows[zone], self._preferred_starts[zone], starts_at, ends_at)
        )

    def _slack(self, starts_at: datetime, ends_at: datetime) -> int:
        cap = timedelta(minutes=SLACK_CAP_MINUTES)
        index = bisect_left(self._busy_starts, ends_at)
        after = self._busy_starts[index] - ends_at if index < len(self.busy) else cap
        before = starts_at - self._busy_ends[index - 1] if index > 0 else cap
        return int(min(after, before, cap).total_seconds() // 60)

    def _key(self, starts_at: datetime) -> tuple[int, float, datetime]:
        ends_at = starts_at + self.duration
        preferred = self._preferred(starts_at, ends_at)
        slack = self._slack(starts_at, ends_at)
        cost = (starts_at - self.start).total_seconds() / 60 + SLACK_WEIGHT * (SLACK_CAP_MINUTES - slack)
        return -preferred, cost, starts_at

    def candidate(self, starts_at: datetime) -> Candidate:
        ends_at = starts_at + self.duration
        negative_preferred, cost, _ = self._key(starts_at)
        n = len(self.participants)
        return Candidate(
            starts_at=starts_at,
            ends_at=ends_at,
            score=round((-negative_preferred + 1 / (1 + cost / 1440)) / (n + 1), 4),
            preferred=-negative_preferred,
            slack_minutes=self._slack(starts_at, ends_at),
            local_times={
                str(p.pk): starts_at.astimezone(ZoneInfo(self.zones[p.pk])).isoformat() for p in self.participants
            },
        )

    def ranked(self, limit: int) -> list[Candidate]:
        best = heapq.nsmallest(limit, self.slots(), key=self._key)
        return [self.candidate(starts_at) for starts_at in best]


def _contains(intervals: list[Interval], starts: list[datetime], start: datetime, end: datetime) -> bool:
    index = bisect_right(starts, start) - 1
    return index >= 0 and intervals[index][1] >= end


# --- The sweep ----------------------------------------------------------------------------------


def subtract(free: list[Interval], busy: list[Interval]) -> list[Interval]:
    """`free` minus `busy`; both sorted and merged."""
    result: list[Interval] = []
    j = 0
    for start, end in free:
        at = start
        while j < len(busy) and busy[j][1] <= at:
            j += 1
        k = j
        while k < len(busy) and busy[k][0] < end:
            busy_start, busy_end = busy[k]
            if busy_start > at:
                result.append((at, busy_start))
            at = max(at, busy_end)
            if at >= end:
                break
            k += 1
        if at < end:
            result.append((at, end))
        j = k
    return result


def intersect(interval_lists: list[list[Interval]]) -> list[Interval]:
    """Where every list (each sorted and merged) holds time at once: a sweep over the sorted
    endpoints counting how many lists are open."""
    needed = len(interval_lists)
    if needed == 0 or any(not intervals for intervals in interval_lists):
        return []
    events = [(at, delta) for intervals in interval_lists for s, e in intervals for at, delta in ((s, 1), (e, -1))]
    # At one instant, ends come before starts: intervals are half-open.
    events.sort()
    common: list[Interval] = []
    depth, opened = 0, None
    for at, delta in events:
        depth += delta
        if delta == 1 and depth == needed:
            opened = at
        elif delta == -1 and depth == needed - 1 and opened is not None:
            if at > opened:
                common.append((opened, at))
            opened = None
    return merge(common)


def _busy(user_ids: list[Any], start: datetime, end: datetime) -> dict[Any, list[Interval]]:
    """Each person's sessions meeting [start, end): hosted, or with a registered or waitlisted place."""
    busy: dict[Any, list[Interval]] = defaultdict(list)
    hosted = (
        Session.objects.filter(host_id__in=user_ids, status__in=BUSY_STATUSES, starts_at__lt=end, ends_at__gt=start)
        .values_list("host_id", "starts_at", "ends_at")
        .order_by()
    )
    attending = (
        Registration.objects.filter(
            user_id__in=user_ids,
            status__in=BUSY_REGISTRATIONS,
            session__status__in=BUSY_STATUSES,
            session__starts_at__lt=end,
            session__ends_at__gt=start,
        )
        .values_list("user_id", "session__starts_at", "session__ends_at")
        .order_by()
    )
    for user_id, starts_at, ends_at in [*hosted, *attending]:
        busy[user_id].append((starts_at, ends_at))
    return {user_id: merge(intervals) for user_id, intervals in busy.items()}


# --- Input --------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_aware(value: Any) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is not None


def _preferred_errors(preferred: Any, errors: dict[str, str]) -> None:
    if preferred is None:
        return
    if not isinstance(preferred, dict):
        errors["preferred_hours"] = 'Give {"start": "09:00", "end": "18:00"} and optionally a "timezone".'
        return
    start, end, zone = preferred.get("start"), preferred.get("end"), preferred.get("timezone")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, time):
            errors[f"preferred_hours/{name}"] = "A local time (HH:MM)."
    if isinstance(start, time) and isinstance(end, time) and end <= start:
        errors["preferred_hours/end"] = "Preferred hours end after they start, on the same day."
    if zone is not None and valid_timezone(zone) is None:
        errors["preferred_hours/timezone"] = f"'{zone}' is not an IANA time zone (e.g. Europe/Kyiv)."


def _check(
    *,
    participants: list[Any],
    duration_minutes: Any,
    range_start: Any,
    range_end: Any,
    min_notice_minutes: Any,
    preferred_hours: Any,
    step_minutes: Any,
    limit: Any,
) -> None:
    errors: dict[str, str] = {}
    if not participants:
        errors["participant_ids"] = "Name at least one participant."
    elif len(participants) > MAX_PARTICIPANTS:
        errors["participant_ids"] = f"At most {MAX_PARTICIPANTS} participants."
    if not _is_int(duration_minutes) or not 5 <= duration_minutes <= MAX_SESSION_HOURS * 60:
        errors["duration_minutes"] = f"From 5 to {MAX_SESSION_HOURS * 60} minutes."
    for name, value in (("range_start", range_start), ("range_end", range_end)):
        if not _is_aware(value):
            errors[name] = "Give the time with its UTC offset (e.g. 2026-03-02T09:00:00+02:00)."
    if _is_aware(range_start) and _is_aware(range_end):
        if range_end <= range_start:
            errors["range_end"] = "The search range ends after it starts."
        elif range_end - range_start > timedelta(days=MAX_RANGE_DAYS):
            errors["range_end"] = f"Search at most {MAX_RANGE_DAYS} days at once."
    if not _is_int(min_notice_minutes) or not 0 <= min_notice_minutes <= MAX_NOTICE_MINUTES:
        errors["min_notice_minutes"] = f"From 0 to {MAX_NOTICE_MINUTES} minutes."
    if step_minutes not in STEPS or not _is_int(step_minutes):
        errors["step_minutes"] = f"Slots start every {', '.join(map(str, STEPS))} minutes."
    if not _is_int(limit) or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"From 1 to {MAX_LIMIT} candidates."
    _preferred_errors(preferred_hours, errors)
    if errors:
        raise ValidationFailed(errors=errors)


def _zone_of(program: Program) -> str:
    return program.timezone if valid_timezone(program.timezone) else "UTC"


def _participant_zones(participants: list[Any], windows: list[Any], fallback: str) -> dict[Any, str]:
    weekly_zone: dict[Any, str] = {}
    for window in windows:
        if window.kind == AvailabilityKind.WEEKLY:
            weekly_zone.setdefault(window.owner_id, window.timezone)
    return {
        p.pk: p.timezone if valid_timezone(getattr(p, "timezone", "")) else weekly_zone.get(p.pk, fallback)
        for p in participants
    }


def _daily(start_at: time, end_at: time, zone: str, start: datetime, end: datetime) -> list[Interval]:
    tz = ZoneInfo(zone)
    day, last = start.astimezone(tz).date() - DAY, end.astimezone(tz).date() + DAY
    windows: list[Interval] = []
    while day <= last:
        windows.append((wall_instant(day, start_at, tz), wall_instant(day, end_at, tz)))
        day += DAY
    return [(s, e) for s, e in windows if s < e]


def _unique(participants: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    unique = []
    for participant in participants:
        if participant.pk not in seen:
            seen.add(participant.pk)
            unique.append(participant)
    return unique


def search(
    *,
    program: Program,
    participants: list[Any],
    duration_minutes: int,
    range_start: datetime,
    range_end: datetime,
    min_notice_minutes: int = 0,
    preferred_hours: dict[str, Any] | None = None,
    step_minutes: int = 15,
    limit: int = 10,
) -> Search:
    """The common free time of the participants in the range (validated input), ready to rank."""
    participants = _unique(list(participants))
    _check(
        participants=participants,
        duration_minutes=duration_minutes,
        range_start=range_start,
        range_end=range_end,
        min_notice_minutes=min_notice_minutes,
        preferred_hours=preferred_hours,
        step_minutes=step_minutes,
        limit=limit,
    )
    start = max(range_start.astimezone(UTC), clock.now() + timedelta(minutes=min_notice_minutes))
    end = range_end.astimezone(UTC)
    zone = (preferred_hours or {}).get("timezone") or _zone_of(program)
    ids = [p.pk for p in participants]
    windows = list(windows_meeting(ids, program, start, end)) if start < end else []
    zones = _participant_zones(participants, windows, _zone_of(program))
    available = expand(windows, start, end)
    margin = timedelta(minutes=SLACK_CAP_MINUTES)
    busy = _busy(ids, start - margin, end + margin) if start < end else {}
    free = {pk: subtract(available.get(pk, []), busy.get(pk, [])) for pk in ids}
    common = intersect([free[pk] for pk in ids])
    preferred_windows, rank_zones = None, zones
    if preferred_hours is not None:
        if preferred_hours.get("timezone"):
            rank_zones = dict.fromkeys(ids, preferred_hours["timezone"])
        preferred_windows = {
            z: _daily(preferred_hours["start"], preferred_hours["end"], z, start, end) for z in set(rank_zones.values())
        }
    return Search(
        participants=participants,
        duration=timedelta(minutes=duration_minutes),
        start=start,
        end=end,
        step=timedelta(minutes=step_minutes),
        zone=zone,
        free=free,
        common=common,
        busy=merge(interval for intervals in busy.values() for interval in intervals),
        zones=zones,
        rank_zones=rank_zones,
        preferred_windows=preferred_windows,
    )


def find_slots(
    *,
    program: Program,
    participants: list[Any],
    duration_minutes: int,
    range_start: datetime,
    range_end: datetime,
    min_notice_minutes: int = 0,
    preferred_hours: dict[str, Any] | None = None,
    step_minutes: int = 15,
    limit: int = 10,
) -> list[Candidate]:
    """Up to `limit` ranked slots when every participant is available and has no session (see
    the module's rules). `preferred_hours` is `{"start": time, "end": time, "timezone": str | None}`."""
    return search(
        program=program,
        participants=participants,
        duration_minutes=duration_minutes,
        range_start=range_start,
        range_end=range_end,
        min_notice_minutes=min_notice_minutes,
        preferred_hours=preferred_hours,
        step_minutes=step_minutes,
        limit=limit,
    ).ranked(limit)


# --- Booking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    session: Session
    candidates: list[Candidate]


def _names(people: list[Any]) -> str:
    return ", ".join(str(p) for p in people)


@transaction.atomic
def slot_book(
    *,
    program: Program,
    participants: list[Any],
    duration_minutes: int,
    range_start: datetime,
    range_end: datetime,
    title: str,
    kind: str = SessionKind.MENTORING,
    host: Any = None,
    slot_starts_at: datetime | None = None,
    min_notice_minutes: int = 0,
    preferred_hours: dict[str, Any] | None = None,
    step_minutes: int = 15,
    limit: int = 10,
    actor: Any = None,
) -> Booking:
    """Book the best slot (or `slot_starts_at`, which must be free for everyone) as a session:
    hosted by `host` (one of the participants; the first by default), the others registered with
    source `match`, in the reference zone (the preferred hours' zone, else the program's).
    No free slot, or a chosen slot that is not free, answers Conflict and books nothing."""
    participants = _unique(list(participants))
    if host is None and participants:
        host = participants[0]
    if host is not None and host.pk not in {p.pk for p in participants}:
        raise ValidationFailed(errors={"host_id": "The host is one of the participants."})
    if slot_starts_at is not None and not _is_aware(slot_starts_at):
        raise ValidationFailed(
            errors={"slot_starts_at": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."}
        )
    # Validate before taking locks; search under them.
    _check(
        participants=participants,
        duration_minutes=duration_minutes,
        range_start=range_start,
        range_end=range_end,
        min_notice_minutes=min_notice_minutes,
        preferred_hours=preferred_hours,
        step_minutes=step_minutes,
        limit=limit,
    )
    lock_people(p.pk for p in participants)
    found = search(
        program=program,
        participants=participants,
        duration_minutes=duration_minutes,
        range_start=range_start,
        range_end=range_end,
        min_notice_minutes=min_notice_minutes,
        preferred_hours=preferred_hours,
        step_minutes=step_minutes,
        limit=limit,
    )
    candidates = found.ranked(limit)
    if slot_starts_at is not None:
        starts_at = slot_starts_at.astimezone(UTC)
        if starts_at < range_start or starts_at + found.duration > range_end:
            raise ValidationFailed(errors={"slot_starts_at": "The slot lies inside the search range."})
        if starts_at < found.start:
            raise Conflict(
                f"The slot starts before {found.start.isoformat()}: within the minimum notice of "
                f"{min_notice_minutes} minutes."
            )
        if not found.fits(starts_at):
            busy = found.not_free(starts_at)
            raise Conflict(
                f"The slot {starts_at.isoformat()} to {(starts_at + found.duration).isoformat()} is not free "
                f"for {_names(busy) if busy else 'every participant'}."
            )
    elif candidates:
        starts_at = candidates[0].starts_at
    else:
        raise Conflict(
            f"No {duration_minutes}-minute slot between {found.start.isoformat()} and {found.end.isoformat()} "
            f"is free for all {len(participants)} participants."
        )
    session = session_create(
        program=program,
        kind=kind,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + found.duration,
        timezone=found.zone,
        host=host,
        participants=[p for p in participants if p.pk != host.pk],
        participant_source=RegistrationSource.MATCH,
        actor=actor,
    )
    return Booking(session=session, candidates=candidates)

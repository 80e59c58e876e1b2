"""Write use-cases of sessions: schedule one or a weekly series, change, reschedule, cancel,
deliver, and change the host.

Rules:
- a session ends after it starts, in a valid IANA zone; its cohort (optional) belongs to the same
  program and takes members; the program is neither archived nor closed;
- a host never holds two overlapping scheduled or delivered sessions: every booking of a host locks
  the host's user row first, then checks and inserts, so concurrent bookings queue;
- a series is generated in the session's local time: weekly at 18:00 Europe/Kyiv stays 18:00 Kyiv
  across DST (the UTC instant moves); a wall time that does not exist that day (the spring gap)
  moves forward by the gap;
- a reschedule increases `sequence` (calendar SEQUENCE; reminders re-arm for the new schedule) and
  emits `lesson.rescheduled` with the previous and the new window; only scheduled sessions move;
- cancelling needs a reason, emits `lesson.cancelled` and sends each registered or waitlisted
  person one cancellation notice;
- delivering needs a started session and attendance for every registered participant, unless the
  operator skips attendance on purpose.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from core import clock
from core.audit import audit_record, json_value
from core.errors import Conflict, ValidationFailed
from core.transitions import TransitionTable, apply_transition
from crm_sync.outbox import emit
from programs.enums import ProgramStatus
from programs.models import Program
from scheduling.enums import (
    ATTENDED,
    OPEN_KINDS,
    TAKES_MEMBERS,
    ConferencingProvider,
    RegistrationSource,
    RegistrationStatus,
    SessionKind,
    SessionStatus,
)
from scheduling.models import Attendance, Cohort, Session
from scheduling.services import conferencing, confirmations, registrations
from scheduling.services.common import check_zone, lesson_ref, lock_user, raise_errors, window

SESSION_TRANSITIONS = TransitionTable(
    "session",
    {
        SessionStatus.SCHEDULED: {SessionStatus.CANCELLED, SessionStatus.DELIVERED},
        SessionStatus.CANCELLED: set(),
        SessionStatus.DELIVERED: set(),
    },
)

MAX_SERIES = 200
MAX_SESSION_HOURS = 24
# Fields `session_update` changes without rescheduling.
DETAIL_FIELDS = ("title", "description", "capacity", "location", "online", "open_registration")


# --- Checks -------------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _window_errors(starts_at: Any, ends_at: Any, zone: str, errors: dict[str, str]) -> None:
    check_zone(zone, "timezone", errors)
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime):
            errors[field] = "A date and time is required."
        elif value.tzinfo is None or value.utcoffset() is None:
            errors[field] = "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."
    if "starts_at" in errors or "ends_at" in errors:
        return
    if ends_at <= starts_at:
        errors["ends_at"] = "A session ends after it starts."
    elif ends_at - starts_at > timedelta(hours=MAX_SESSION_HOURS):
        errors["ends_at"] = f"A session lasts at most {MAX_SESSION_HOURS} hours."


def _program_takes_sessions(program: Program) -> None:
    if program.status in (ProgramStatus.ARCHIVED, ProgramStatus.CLOSED):
        raise Conflict(f"The program '{program.name}' is {program.status}; it takes no new sessions.")


def _cohort_errors(program: Program, cohort: Cohort | None, errors: dict[str, str]) -> None:
    if cohort is None:
        return
    # The stored status counts, not the caller's copy of the row.
    status = Cohort.objects.filter(pk=cohort.pk).values_list("status", flat=True).first()
    if cohort.program_id != program.pk:
        errors["cohort_id"] = "This cohort belongs to another program."
    elif status not in TAKES_MEMBERS:
        errors["cohort_id"] = f"The cohort '{cohort.name}' is {status}."


def _host_errors(host: Any, errors: dict[str, str]) -> None:
    if host is not None and not host.is_active:
        errors["host_id"] = f"{host} is not an active user."


def host_conflict(host_id: Any, starts_at: datetime, ends_at: datetime, *, exclude: Any = None) -> Session | None:
    """The host's scheduled or delivered session that overlaps the window, if any."""
    qs = Session.objects.filter(
        host_id=host_id,
        status__in=(SessionStatus.SCHEDULED, SessionStatus.DELIVERED),
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("starts_at").first()


def _check_host_free(host: Any, starts_at: datetime, ends_at: datetime, *, exclude: Any = None) -> None:
    """Lock the host, then refuse an overlapping booking (call inside the transaction)."""
    if host is None:
        return
    lock_user(host.pk)
    clash = host_conflict(host.pk, starts_at, ends_at, exclude=exclude)
    if clash is not None:
        raise Conflict(
            f"{host} already hosts '{clash.title}' from {clash.starts_at.isoformat()} to "
            f"{clash.ends_at.isoformat()}, which overlaps this time."
        )


def _default_provider(online: bool) -> str:
    if not online:
        return ConferencingProvider.NONE
    return getattr(settings, "CONFERENCING_DEFAULT_PROVIDER", ConferencingProvider.JITSI)


def _audit_fields(session: Session) -> dict[str, Any]:
    return {
        "program": str(session.program_id),
        "cohort": str(session.cohort_id) if session.cohort_id else None,
        "kind": session.kind,
        "title": session.title,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "timezone": session.timezone,
        "capacity": session.capacity,
        "host": str(session.host_id) if session.host_id else None,
        "series": str(session.series_id) if session.series_id else None,
        "provider": session.provider,
    }


# --- Scheduling ---------------------------------------------------------------------------------


def _insert(
    *,
    program: Program,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    capacity: int | None,
    host: Any,
    cohort: Cohort | None,
    description: str,
    online: bool,
    location: str,
    open_registration: bool,
    provider: str,
    series_id: Any,
    participants: list[Any],
    participant_source: str,
    actor: Any,
) -> Session:
    _check_host_free(host, starts_at, ends_at)
    session = Session.objects.create(
        program=program,
        cohort=cohort,
        kind=kind,
        title=title.strip(),
        description=description,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        timezone=timezone,
        capacity=capacity,
        open_registration=open_registration,
        online=online,
        location=location,
        host=host,
        provider=provider,
        series_id=series_id,
    )
    audit_record(actor=actor, action="session.scheduled", target=session, changes=_audit_fields(session))
    emit(
        event_type="lesson.scheduled",
        subject=("session", session.pk),
        actor=actor,
        payload={
            **lesson_ref(session),
            "window": window(session.starts_at, session.ends_at, session.timezone),
            "sequence": session.sequence,
            "capacity": session.capacity,
            "scheduled_at": clock.now().isoformat(),
        },
    )
    conferencing.meeting_after_change(session, change="created")
    if host is not None:
        _host_assigned(session, previous_host_id=None, actor=actor)
    if cohort is not None:
        registrations.register_cohort_members(session=session, actor=actor)
    for user in participants:
        registrations.registration_create(session=session, user=user, actor=actor, source=participant_source)
    return session


def _prepare(
    *,
    program: Program,
    kind: str,
    title: str,
    starts_at: Any,
    ends_at: Any,
    timezone: str | None,
    capacity: int | None,
    host: Any,
    cohort: Cohort | None,
    provider: str | None,
    online: bool,
) -> tuple[Program, str, str]:
    program = Program.objects.get(pk=program.pk)
    zone = timezone or program.timezone
    errors: dict[str, str] = {}
    if not title or not str(title).strip():
        errors["title"] = "A session needs a title."
    if kind not in SessionKind.values:
        errors["kind"] = f"'{kind}' is not a session kind; use one of {', '.join(SessionKind.values)}."
    _window_errors(starts_at, ends_at, zone, errors)
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1):
        errors["capacity"] = "A session holds at least 1 person (leave it empty for no limit)."
    _cohort_errors(program, cohort, errors)
    _host_errors(host, errors)
    chosen = provider or _default_provider(online)
    if chosen not in ConferencingProvider.values:
        errors["provider"] = f"'{chosen}' is not a conferencing provider."
    raise_errors(errors)
    _program_takes_sessions(program)
    return program, zone, chosen


@transaction.atomic
def session_create(
    *,
    program: Program,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str | None = None,
    capacity: int | None = None,
    host: Any = None,
    cohort: Cohort | None = None,
    description: str = "",
    online: bool = True,
    location: str = "",
    open_registration: bool | None = None,
    provider: str | None = None,
    participants: list[Any] | tuple[Any, ...] = (),
    participant_source: str = RegistrationSource.OPERATOR,
    actor: Any = None,
) -> Session:
    """Schedule one session. `timezone` defaults to the program's; `open_registration` to true
    for live events and office hours; `provider` to the configured default when online (jitsi).
    A cohort session registers the cohort's active members; `participants` are registered too."""
    program, zone, chosen = _prepare(
        program=program,
        kind=kind,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        capacity=capacity,
        host=host,
        cohort=cohort,
        provider=provider,
        online=online,
    )
    return _insert(
        program=program,
        kind=kind,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=zone,
        capacity=capacity,
        host=host,
        cohort=cohort,
        description=description,
        online=online,
        location=location,
        open_registration=kind in OPEN_KINDS if open_registration is None else open_registration,
        provider=chosen,
        series_id=None,
        participants=list(participants),
        participant_source=participant_source,
        actor=actor,
    )


def local_occurrences(
    starts_at: datetime, zone: str, *, interval_weeks: int = 1, count: int | None = None, until: date | None = None
) -> list[datetime]:
    """The starts of a weekly series in UTC: the first start's local wall time in `zone`, every
    `interval_weeks` weeks, `count` times or up to the local date `until` (inclusive)."""
    tz = _zone(zone)
    first = starts_at.astimezone(tz)
    wall, day = first.time().replace(tzinfo=None), first.date()
    starts: list[datetime] = []
    step = timedelta(weeks=interval_weeks)
    while True:
        if count is not None and len(starts) >= count:
            break
        if until is not None and day > until:
            break
        if len(starts) >= MAX_SERIES:
            break
        # fold=0: an ambiguous wall time (autumn) is its first occurrence; a missing one (spring
        # gap) normalises forward through UTC.
        local = datetime.combine(day, wall).replace(tzinfo=tz)
        starts.append(local.astimezone(UTC))
        day += step
    return starts


def _recurrence(recurrence: dict[str, Any], starts_at: datetime, zone: str) -> list[datetime]:
    errors: dict[str, str] = {}
    frequency = recurrence.get("frequency", "weekly")
    if frequency != "weekly":
        errors["recurrence/frequency"] = "Series repeat weekly."
    interval = recurrence.get("interval", 1)
    if not isinstance(interval, int) or isinstance(interval, bool) or not 1 <= interval <= 52:
        errors["recurrence/interval"] = "Every 1 to 52 weeks."
    count, until = recurrence.get("count"), recurrence.get("until")
    if (count is None) == (until is None):
        errors["recurrence"] = "Give either `count` or `until`."
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_SERIES):
        errors["recurrence/count"] = f"A series holds 1 to {MAX_SERIES} sessions."
    if until is not None and not isinstance(until, date):
        errors["recurrence/until"] = "A date (YYYY-MM-DD) in the session's time zone."
    raise_errors(errors)
    starts = local_occurrences(starts_at, zone, interval_weeks=interval, count=count, until=until)
    if until is not None and not starts:
        raise ValidationFailed(
            errors={"recurrence/until": "The series would hold no session: `until` is before the start."}
        )
    if until is not None and len(starts) >= MAX_SERIES:
        last = starts[-1].astimezone(_zone(zone)).date()
        if last < until:
            raise ValidationFailed(errors={"recurrence/until": f"A series holds at most {MAX_SERIES} sessions."})
    return starts


@transaction.atomic
def session_series_create(
    *,
    program: Program,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: dict[str, Any],
    timezone: str | None = None,
    capacity: int | None = None,
    host: Any = None,
    cohort: Cohort | None = None,
    description: str = "",
    online: bool = True,
    location: str = "",
    open_registration: bool | None = None,
    provider: str | None = None,
    actor: Any = None,
) -> list[Session]:
    """Schedule a weekly series: the first session at `starts_at`-`ends_at`, then one every
    `recurrence.interval` weeks at the same local time in `timezone`, `recurrence.count` times or
    until `recurrence.until`. All or nothing: one overlap with the host's sessions refuses it."""
    program, zone, chosen = _prepare(
        program=program,
        kind=kind,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        capacity=capacity,
        host=host,
        cohort=cohort,
        provider=provider,
        online=online,
    )
    duration = ends_at - starts_at
    series_id = uuid.uuid4()
    sessions = []
    for start in _recurrence(recurrence, starts_at, zone):
        sessions.append(
            _insert(
                program=program,
                kind=kind,
                title=title,
                starts_at=start,
                ends_at=start + duration,
                timezone=zone,
                capacity=capacity,
                host=host,
                cohort=cohort,
                description=description,
                online=online,
                location=location,
                open_registration=kind in OPEN_KINDS if open_registration is None else open_registration,
                provider=chosen,
                series_id=series_id,
                participants=[],
                participant_source=RegistrationSource.OPERATOR,
                actor=actor,
            )
        )
    return sessions


# --- Changes ------------------------------------------------------------------------------------


def lock_session(session_id: Any) -> Session:
    return Session.objects.select_for_update(of=("self",)).select_related("program", "host").get(pk=session_id)


def _host_assigned(session: Session, *, previous_host_id: Any, actor: Any) -> None:
    emit(
        event_type="coach.assigned",
        subject=("session", session.pk),
        actor=actor,
        payload={
            "lesson_id": str(session.pk),
            "program_id": str(session.program_id),
            "previous_host_id": str(previous_host_id) if previous_host_id else None,
            "new_host_id": str(session.host_id) if session.host_id else None,
            "assigned_at": clock.now().isoformat(),
        },
    )
    confirmations.host_changed(session=session, actor=actor)


@transaction.atomic
def session_update(*, session: Session, data: dict[str, Any], actor: Any = None, reason: str = "") -> Session:
    """Change a scheduled session. `starts_at`/`ends_at`/`timezone` reschedule it (sequence + 1,
    `lesson.rescheduled`, participants told, reminders re-armed, the meeting moved); `host`
    changes the host (`coach.assigned`, a new confirmation request); `capacity` may grow
    (waitlisted people are promoted) or shrink down to the people registered."""
    # Lock order as in booking (the host's user row, then the session): a reschedule or host
    # change racing a booking of the same host queues instead of deadlocking.
    if {"starts_at", "ends_at", "host"} & set(data):
        current = Session.objects.select_related("host").filter(pk=session.pk).first()
        booked = data["host"] if "host" in data else getattr(current, "host", None)
        if booked is not None:
            lock_user(booked.pk)
    session = lock_session(session.pk)
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(f"The session is {session.status}; only scheduled sessions change.")
    unknown = set(data) - {*DETAIL_FIELDS, "starts_at", "ends_at", "timezone", "host"}
    if unknown:
        raise ValidationFailed(errors={name: "This field cannot be changed." for name in sorted(unknown)})
    errors: dict[str, str] = {}
    starts_at = data.get("starts_at", session.starts_at)
    ends_at = data.get("ends_at", session.ends_at)
    zone = data.get("timezone", session.timezone)
    moved = starts_at != session.starts_at or ends_at != session.ends_at
    if moved or zone != session.timezone:
        _window_errors(starts_at, ends_at, zone, errors)
    if "title" in data and not str(data["title"] or "").strip():
        errors["title"] = "A session needs a title."
    capacity = data.get("capacity", session.capacity)
    if "capacity" in data and capacity is not None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            errors["capacity"] = "A session holds at least 1 person (leave it empty for no limit)."
        else:
            taken = registrations.registered_count(session)
            if capacity < taken:
                errors["capacity"] = f"{taken} people are registered; cancel registrations before shrinking below that."
    host = data.get("host", session.host)
    host_changed = "host" in data and (host.pk if host else None) != session.host_id
    if host_changed:
        _host_errors(host, errors)
    raise_errors(errors)
    if moved and starts_at.astimezone(UTC) == session.starts_at and ends_at.astimezone(UTC) == session.ends_at:
        moved = False
    if host is not None and (moved or host_changed):
        _check_host_free(host, starts_at, ends_at, exclude=session.pk)

    changes: dict[str, Any] = {}
    for field in DETAIL_FIELDS:
        if field not in data:
            continue
        value = data[field].strip() if field == "title" else data[field]
        if getattr(session, field) != value:
            changes[field] = [json_value(getattr(session, field)), json_value(value)]
            setattr(session, field, value)
    previous = window(session.starts_at, session.ends_at, session.timezone)
    if zone != session.timezone:
        changes["timezone"] = [session.timezone, zone]
        session.timezone = zone
    if moved:
        changes["starts_at"] = [session.starts_at.isoformat(), starts_at.astimezone(UTC).isoformat()]
        changes["ends_at"] = [session.ends_at.isoformat(), ends_at.astimezone(UTC).isoformat()]
        session.starts_at, session.ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
        session.sequence += 1
        changes["sequence"] = [session.sequence - 1, session.sequence]
    previous_host_id = session.host_id
    if host_changed:
        changes["host"] = [str(previous_host_id) if previous_host_id else None, str(host.pk) if host else None]
        session.host = host
    if not changes:
        return session
    session.save(update_fields=[*changes, "updated_at"])
    audit_record(
        actor=actor,
        action="session.rescheduled" if moved else "session.changed",
        target=session,
        changes=changes,
        reason=reason,
    )
    if moved:
        emit(
            event_type="lesson.rescheduled",
            subject=("session", session.pk),
            actor=actor,
            payload={
                **lesson_ref(session),
                "previous_window": previous,
                "new_window": window(session.starts_at, session.ends_at, session.timezone),
                "sequence": session.sequence,
                "reason": reason,
                "rescheduled_at": clock.now().isoformat(),
            },
        )
        conferencing.meeting_after_change(session, change="rescheduled")
        registrations.notify_rescheduled(session=session, previous=previous)
    elif {"title", "description"} & set(changes):
        conferencing.meeting_after_change(session, change="changed")
    if host_changed:
        _host_assigned(session, previous_host_id=previous_host_id, actor=actor)
    if "capacity" in changes:
        registrations.promote_waitlisted(session=session, actor=actor)
    return session


@transaction.atomic
def session_cancel(*, session: Session, reason: str, actor: Any = None) -> Session:
    """Cancel a scheduled session: a reason is required; registered and waitlisted people get
    one cancellation notice each; the meeting is deleted at the provider; pending host
    confirmations are withdrawn."""
    if not reason or not reason.strip():
        raise ValidationFailed(errors={"reason": "Say why the session is cancelled; participants are told."})
    session = lock_session(session.pk)
    if session.status == SessionStatus.CANCELLED:
        return session
    now = clock.now()
    apply_transition(
        session,
        table=SESSION_TRANSITIONS,
        to=SessionStatus.CANCELLED,
        actor=actor,
        action="session.cancelled",
        reason=reason.strip(),
        extra={"cancel_reason": reason.strip(), "cancelled_at": now},
    )
    emit(
        event_type="lesson.cancelled",
        subject=("session", session.pk),
        actor=actor,
        payload={**lesson_ref(session), "cancellation_reason": reason.strip(), "cancelled_at": now.isoformat()},
    )
    conferencing.meeting_after_change(session, change="cancelled")
    confirmations.session_closed(session=session, actor=actor)
    from scheduling.services import reminders

    reminders.send_cancellation_notices(session=session)
    return session


@transaction.atomic
def session_deliver(*, session: Session, actor: Any = None, skip_attendance: bool = False, reason: str = "") -> Session:
    """Mark a started session delivered. Every registered participant needs an attendance record
    first, unless `skip_attendance` (then the session says so). Delivering a delivered session
    changes nothing."""
    session = lock_session(session.pk)
    if session.status == SessionStatus.DELIVERED:
        return session
    now = clock.now()
    if session.status == SessionStatus.SCHEDULED and session.starts_at > now:
        raise Conflict("The session has not started yet; it can be marked delivered once it starts.")
    registered = list(
        session.registrations.filter(status=RegistrationStatus.REGISTERED).values_list("user_id", flat=True)
    )
    recorded = set(Attendance.objects.filter(session=session).values_list("user_id", flat=True))
    missing = [user_id for user_id in registered if user_id not in recorded]
    if missing and not skip_attendance and session.status == SessionStatus.SCHEDULED:
        raise Conflict(
            f"Attendance is missing for {len(missing)} of {len(registered)} registered participant(s); "
            "record it, or mark the session delivered with attendance skipped."
        )
    apply_transition(
        session,
        table=SESSION_TRANSITIONS,
        to=SessionStatus.DELIVERED,
        actor=actor,
        action="session.delivered",
        reason=reason,
        extra={"delivered_at": now, "attendance_skipped": bool(missing) and skip_attendance},
    )
    attended = Attendance.objects.filter(session=session, status__in=ATTENDED).count()
    emit(
        event_type="lesson.delivered",
        subject=("session", session.pk),
        actor=actor,
        payload={
            **lesson_ref(session),
            "window": window(session.starts_at, session.ends_at, session.timezone),
            "delivered_at": now.isoformat(),
            "attendance_recorded": not session.attendance_skipped,
            "attended_count": attended,
            "registered_count": len(registered),
        },
    )
    confirmations.session_closed(session=session, actor=actor)
    return session

"""Write use-cases of attendance: operators record it (an upsert per person), participants check
themselves in, and a cohort's completion reads it.

Rules:
- attendance is recorded for sessions that have started (scheduled and under way or over, or
  delivered), never for cancelled ones; only for the session's registered participants (not the
  host, not people waitlisted or cancelled); `minutes_attended` is 0 up to the session's length;
- recording is an upsert per (session, person): sending the same records again changes nothing
  and emits nothing; each created or changed row writes an audit entry and emits `lesson.attended`;
- a participant checks in from 15 minutes before the start until the end (both inclusive): the
  record says `present`, or `late` when the check-in comes more than 10 minutes after the start.
  A record an operator (or the provider) made wins: a later self check-in leaves it as it is, and
  checking in twice keeps the first check-in;
- every write locks the session row first, so an operator's grid and participants' check-ins on
  one session take turns.

The completion rule (`attendance_completion_rule`, registered in `SchedulingConfig.ready()`)
reads the program's `completion.min_sessions_attended` and `completion.min_attendance_rate`. It
judges a member on the cohort's delivered sessions they were registered for: present and late count
as attended; excused sessions count neither way (they leave the rate's denominator); a session
delivered with attendance skipped and no record for the member is not counted. The minimum number
of sessions is capped at the sessions counted, so a cohort that held fewer sessions than the program
expects does not drop everyone. A member below a threshold is dropped; a member with no counted
session is left to the next rule (default: completed).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from core import clock
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from crm_sync.outbox import emit
from scheduling.enums import (
    ATTENDED,
    AttendanceSource,
    AttendanceStatus,
    CohortMemberStatus,
    RegistrationStatus,
    SessionStatus,
)
from scheduling.models import Attendance, CohortMember, Registration, Session

# A participant may check in from this long before the start ...
CHECK_IN_OPENS_BEFORE = timedelta(minutes=15)
# ... and counts as late when checking in more than this long after the start.
LATE_AFTER = timedelta(minutes=10)

MAX_RECORDS = 1000


def _lock(session_id: Any) -> Session:
    return Session.objects.select_for_update(of=("self",)).select_related("program").get(pk=session_id)


def session_minutes(session: Session) -> int:
    """The session's length in whole minutes (the most anyone can attend)."""
    return int((session.ends_at - session.starts_at).total_seconds() // 60)


def _check_recordable(session: Session) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise Conflict("The session was cancelled; it takes no attendance.")
    if session.status == SessionStatus.SCHEDULED and session.starts_at > clock.now():
        raise Conflict(
            f"The session has not started yet (it starts at {session.starts_at.isoformat()}); "
            "attendance is recorded once it starts."
        )


def _emit_attended(attendance: Attendance, session: Session, actor: Any, recorded_at) -> None:
    emit(
        event_type="lesson.attended",
        subject=("session", session.pk),
        actor=actor,
        payload={
            "lesson_id": str(session.pk),
            "program_id": str(session.program_id),
            "user_id": str(attendance.user_id),
            "status": attendance.status,
            "minutes_attended": attendance.minutes_attended,
            "source": attendance.source,
            "recorded_at": recorded_at.isoformat(),
        },
    )


def _uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _parse(records: Any, session: Session) -> list[dict[str, Any]]:
    """Check the records' shape: a list of {user_id, status, minutes_attended?}."""
    if not isinstance(records, (list, tuple)):
        raise ValidationFailed(errors={"records": "A list of attendance records is required."})
    if not records:
        raise ValidationFailed(errors={"records": "Give at least one attendance record."})
    if len(records) > MAX_RECORDS:
        raise ValidationFailed(errors={"records": f"At most {MAX_RECORDS} records per request."})
    errors: dict[str, str] = {}
    parsed: list[dict[str, Any]] = []
    seen: dict[uuid.UUID, int] = {}
    longest = session_minutes(session)
    for index, record in enumerate(records):
        path = f"records/{index}"
        if not isinstance(record, dict):
            errors[path] = "Each record is an object with `user_id`, `status` and `minutes_attended`."
            continue
        user_id = _uuid(record.get("user_id"))
        if user_id is None:
            errors[f"{path}/user_id"] = "A user id (UUID) is required."
        elif user_id in seen:
            errors[f"{path}/user_id"] = f"This user is listed twice (also at records/{seen[user_id]})."
        else:
            seen[user_id] = index
        status = record.get("status")
        if status not in AttendanceStatus.values:
            errors[f"{path}/status"] = f"Use one of: {', '.join(AttendanceStatus.values)}."
        minutes = record.get("minutes_attended")
        if minutes is not None and (
            not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= longest
        ):
            errors[f"{path}/minutes_attended"] = f"Minutes attended are a whole number from 0 to {longest}."
        parsed.append({"user_id": user_id, "status": status, "minutes_attended": minutes})
    if errors:
        raise ValidationFailed(errors=errors)
    return parsed


def _check_participants(session: Session, parsed: list[dict[str, Any]]) -> None:
    """Every listed user exists and is registered (not waitlisted, not cancelled, not the host)."""
    ids = [record["user_id"] for record in parsed]
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=ids)}
    registered = set(
        Registration.objects.filter(
            session_id=session.pk, user_id__in=ids, status=RegistrationStatus.REGISTERED
        ).values_list("user_id", flat=True)
    )
    errors: dict[str, str] = {}
    for index, record in enumerate(parsed):
        user = users.get(record["user_id"])
        if user is None:
            errors[f"records/{index}/user_id"] = f"No user with the id {record['user_id']}."
        elif user.pk not in registered:
            errors[f"records/{index}/user_id"] = f"{user} is not registered for this session."
    if errors:
        raise ValidationFailed("Attendance is recorded for the session's registered participants only.", errors=errors)


@transaction.atomic
def attendance_record(*, session: Session, records: list[dict[str, Any]], actor: Any = None) -> list[Attendance]:
    """Record attendance of the session's registered participants: one row per person, created
    or updated (source `operator`). Returns the rows in the order of `records`. Unknown or
    unregistered users answer ValidationFailed naming each (`records/<i>/user_id`); a cancelled
    or not yet started session answers Conflict. Only created or changed rows are audited and
    emit `lesson.attended`."""
    session = _lock(session.pk)
    _check_recordable(session)
    parsed = _parse(records, session)
    _check_participants(session, parsed)
    now = clock.now()
    recorder = actor if getattr(actor, "is_authenticated", False) else None
    existing = {
        row.user_id: row
        for row in Attendance.objects.select_for_update().filter(
            session_id=session.pk, user_id__in=[r["user_id"] for r in parsed]
        )
    }
    result: list[Attendance] = []
    for record in parsed:
        row = existing.get(record["user_id"])
        wanted = {
            "status": record["status"],
            "minutes_attended": record["minutes_attended"],
            "source": AttendanceSource.OPERATOR,
        }
        if row is None:
            row = Attendance.objects.create(session=session, user_id=record["user_id"], recorded_by=recorder, **wanted)
            changes: dict[str, Any] = {"user": str(row.user_id), **wanted}
            action = "attendance.recorded"
        else:
            changes = {
                field: [getattr(row, field), value] for field, value in wanted.items() if getattr(row, field) != value
            }
            if not changes:
                result.append(row)
                continue
            for field, value in wanted.items():
                setattr(row, field, value)
            row.recorded_by = recorder
            row.save(update_fields=[*wanted, "recorded_by", "updated_at"])
            changes["user"] = str(row.user_id)
            action = "attendance.changed"
        audit_record(actor=actor, action=action, target=row, changes=changes)
        _emit_attended(row, session, actor, now)
        result.append(row)
    return result


@transaction.atomic
def attendance_self_check_in(*, session: Session, user: Any) -> Attendance:
    """Check a registered participant in during the session window (15 minutes before the start
    until the end): `present`, or `late` more than 10 minutes after the start (source
    `self_check_in`). An existing record is returned unchanged: an operator's record wins, and a
    second check-in keeps the first. Someone with no place at the session answers NotFound;
    a waitlisted or cancelled place, a cancelled or delivered session, or a check-in outside the
    window answer Conflict."""
    session = _lock(session.pk)
    registration = Registration.objects.filter(session_id=session.pk, user_id=user.pk).first()
    if registration is None:
        raise NotFound(f"No session with the id {session.pk} is open to you.")
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(f"The session is {session.status}; check-in is closed.")
    if registration.status != RegistrationStatus.REGISTERED:
        raise Conflict(f"Only registered participants check in; your place is {registration.status}.")
    now = clock.now()
    opens = session.starts_at - CHECK_IN_OPENS_BEFORE
    if now < opens:
        raise Conflict(f"Check-in opens at {opens.isoformat()}, 15 minutes before the start.")
    if now > session.ends_at:
        raise Conflict("The session is over; check-in is closed.")
    existing = Attendance.objects.select_for_update().filter(session_id=session.pk, user_id=user.pk).first()
    if existing is not None:
        return existing
    status = AttendanceStatus.LATE if now - session.starts_at > LATE_AFTER else AttendanceStatus.PRESENT
    row = Attendance.objects.create(
        session=session,
        user=user,
        status=status,
        source=AttendanceSource.SELF_CHECK_IN,
        recorded_by=user,
        checked_in_at=now,
    )
    audit_record(
        actor=user,
        action="attendance.checked_in",
        target=row,
        changes={"user": str(user.pk), "status": status, "source": AttendanceSource.SELF_CHECK_IN},
    )
    _emit_attended(row, session, user, now)
    return row


# --- Completion ---------------------------------------------------------------------------------


def attendance_completion_rule(member: CohortMember) -> str | None:
    """`dropped` when the member attended fewer of the cohort's delivered sessions than the
    program's `completion` config asks (see the module's docstring), else None."""
    config = (member.cohort.program.config or {}).get("completion") or {}
    min_sessions = config.get("min_sessions_attended") or 0
    min_rate = config.get("min_attendance_rate") or 0
    if not min_sessions and not min_rate:
        return None
    user_id = member.enrollment.user_id
    held = dict(
        Registration.objects.filter(
            session__cohort_id=member.cohort_id,
            session__status=SessionStatus.DELIVERED,
            user_id=user_id,
            status=RegistrationStatus.REGISTERED,
        ).values_list("session_id", "session__attendance_skipped")
    )
    statuses = dict(
        Attendance.objects.filter(session_id__in=list(held), user_id=user_id).values_list("session_id", "status")
    )
    counted = attended = 0
    for session_id, skipped in held.items():
        status = statuses.get(session_id)
        if status is None and skipped:
            continue  # delivered without attendance: nothing to judge
        if status == AttendanceStatus.EXCUSED:
            continue
        counted += 1
        attended += status in ATTENDED
    if counted == 0:
        return None
    if attended < min(int(min_sessions), counted):
        return CohortMemberStatus.DROPPED
    if attended < Decimal(str(min_rate)) * counted:
        return CohortMemberStatus.DROPPED
    return None

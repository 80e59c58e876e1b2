"""Session reminders and cancellation notices, each exactly once per person.

Reminders
---------
- Offsets: each program lists them in `config["reminders"]["session_hours_before"]` (whole hours
  before the start); a program whose config does not say gets 24 and 1 hours, one that lists none
  (`[]`) gets no reminders.
- Recipients: every participant with a `registered` place (not waitlisted, not cancelled) and the
  session's host, who is told they are hosting. One reminder per (session, person, offset).
- Due rule: offset `h` is due once `now >= starts_at - h` and while `now < starts_at`. Of the
  offsets due for a session, only the smallest, the *current* offset, is sent: a larger one is
  superseded. So when the job was down through the 24-hour mark and runs again 40 minutes before
  the start, people get the 1-hour reminder only, not two in a row. A superseded offset leaves no
  row (the claims record what was sent): it can never be sent later, because from then on a
  smaller offset is always the current one. Nothing goes out for a session that has started, is
  cancelled or delivered. The text says how long until the start, measured when it is sent.
- Timing: the `session_reminders` job sends what is due when it runs. Run hourly, a reminder
  goes out within the hour after its offset (the 24-hour reminder between 24 and 23 hours before
  the start); run every 10 minutes (suggested), within 10 minutes. An operator can dispatch one
  session's reminders at once (`session_reminders_dispatch`).
- Exactly once: the `SessionReminder` row (session, user, kind, hours before, session sequence)
  is the claim. It is inserted with `INSERT ... ON CONFLICT DO NOTHING RETURNING` in the same
  transaction as the notification and the `program_session_reminder` event, and only the rows
  that insert returns are notified. Two runs at the same time: the second insert waits for the
  first transaction and inserts nothing for the rows it committed. A crash rolls the whole batch
  back (claims, notifications, events), so the next run sends it again, once.
- Reschedule: a reschedule increases the session's sequence, so the claims of the old schedule no
  longer match and the reminders re-arm for the new time.
- Efficiency: the due sessions are found with two queries (the programs' offsets, then the
  sessions starting within the largest offset); their recipients are read in keyset-ordered
  batches (`BATCH_SIZE`) with an anti-join on the claims, each batch in one transaction that
  locks its recipients and sessions (a concurrent reschedule, cancellation or registration change
  waits for the batch, and the batch re-checks against the locked rows), claims with one insert
  and then notifies only the rows the insert returned.

Cancellation notices
--------------------
A cancelled session sends each registered or waitlisted person one notice: the claim is a
`cancellation` row per (session, person), whoever cancels or retries.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q

from core import clock
from core.errors import Conflict
from crm_sync.outbox import emit_many
from programs.models import Program
from scheduling import notices
from scheduling.enums import RegistrationStatus, ReminderKind, SessionStatus
from scheduling.models import Registration, Session, SessionReminder

DEFAULT_OFFSETS = (24, 1)
# The largest offset a program's config may hold (its schema says 1 to 336 hours).
MAX_OFFSET_HOURS = 336
BATCH_SIZE = 500
# Sessions per recipients query (the `IN` list).
SESSION_CHUNK = 500
EVENT_TYPE = "program_session_reminder"
JOB_ACTOR = "system:session-reminders"
DEADLOCK_ATTEMPTS = 3

Pair = tuple[uuid.UUID, uuid.UUID]


# --- Offsets and the due rule -------------------------------------------------------------------


def reminder_offsets(program: Program) -> list[int]:
    """The program's reminder offsets in hours, largest first; [24, 1] when its config says
    nothing; entries that are not whole positive hours are ignored."""
    config = program.config if isinstance(program.config, dict) else {}
    section = config.get("reminders")
    if not isinstance(section, dict) or not isinstance(section.get("session_hours_before"), list):
        return list(DEFAULT_OFFSETS)
    values = section["session_hours_before"]
    return sorted({v for v in values if isinstance(v, int) and not isinstance(v, bool) and v >= 1}, reverse=True)


def current_offset(offsets: Iterable[int], starts_at: datetime, now: datetime) -> int | None:
    """The offset whose reminder is due now: the smallest whose time has come, or None (none
    has, or the session has started)."""
    if now >= starts_at:
        return None
    due = [h for h in offsets if now >= starts_at - timedelta(hours=h)]
    return min(due) if due else None


def next_offset(offsets: Iterable[int], starts_at: datetime, now: datetime) -> int | None:
    """The offset that becomes due next (the largest not yet due), or None."""
    upcoming = [h for h in offsets if now < starts_at - timedelta(hours=h)]
    return max(upcoming) if upcoming else None


def starts_in(delta: timedelta) -> str:
    """How long until the start, as a reminder says it: minutes below an hour, then hours, then days."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{round(hours / 24)} days"


# --- Claims -------------------------------------------------------------------------------------


def _claim(*, session: Session, user_id, kind: str, hours_before: int, sequence: int) -> bool:
    try:
        with transaction.atomic():
            SessionReminder.objects.create(
                session=session,
                user_id=user_id,
                kind=kind,
                hours_before=hours_before,
                session_sequence=sequence,
                sent_at=clock.now(),
            )
    except IntegrityError:
        return False
    return True


def _returning_supported() -> bool:
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35, 0)


_CLAIM_COLUMNS = ("id", "created_at", "updated_at", "session", "user", "kind", "hours_before", "session_sequence")


def _claim_many(rows: list[tuple[Session, Any]], *, hours_before: int, now: datetime) -> set[Pair]:
    """Insert the reminder claims of (session, user id) rows for the sessions' current sequence;
    returns the pairs this transaction inserted. Pairs claimed before (or by a transaction that
    commits while this one waits) are left out. Rows go in a fixed order, so two racing batches
    wait for each other instead of deadlocking."""
    if not rows:
        return set()
    rows = sorted(rows, key=lambda row: (str(row[0].pk), str(row[1])))
    if not _returning_supported():  # pragma: no cover - PostgreSQL and SQLite >= 3.35 take the fast path
        return {
            (session.pk, user_id)
            for session, user_id in rows
            if _claim(
                session=session,
                user_id=user_id,
                kind=ReminderKind.REMINDER,
                hours_before=hours_before,
                sequence=session.sequence,
            )
        }
    meta = SessionReminder._meta
    fields = [meta.get_field(name) for name in (*_CLAIM_COLUMNS, "sent_at")]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column.column) for column in fields)
    session_column, user_column = quote(meta.get_field("session").column), quote(meta.get_field("user").column)
    params: list[Any] = []
    for session, user_id in rows:
        values = (uuid.uuid4(), now, now, session.pk, user_id, ReminderKind.REMINDER, hours_before, session.sequence)
        for column, value in zip(fields, (*values, now), strict=True):
            params.append(column.get_db_prep_value(value, connection, prepared=False))
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {placeholders} "
        f"ON CONFLICT DO NOTHING RETURNING {session_column}, {user_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(uuid.UUID(str(s)), uuid.UUID(str(u))) for s, u in cursor.fetchall()}


# --- Sending ------------------------------------------------------------------------------------


def _lock_batch(session_ids: Iterable[Any], user_ids: Iterable[Any]) -> dict[uuid.UUID, Session]:
    """Lock what a batch reads and return its sessions, read after the locks.

    On PostgreSQL the recipients' user rows are key-share locked first, then the sessions are
    share-locked, each in a fixed order. That is the order bookings and reschedules take (the
    host's user row, then the session), so a reschedule, cancellation or registration change of
    one of the sessions waits for the batch (or the batch for it) instead of deadlocking. SQLite
    serialises writers."""
    sessions = sorted({uuid.UUID(str(i)) for i in session_ids}, key=str)
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        users = sorted({uuid.UUID(str(i)) for i in user_ids}, key=str)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {quote(get_user_model()._meta.db_table)} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",
                [users],
            )
            cursor.execute(
                f"SELECT id FROM {quote(Session._meta.db_table)} WHERE id = ANY(%s) ORDER BY id FOR SHARE",
                [sessions],
            )
    return {s.pk: s for s in Session.objects.filter(pk__in=sessions).select_related("program")}


def _remind_many(
    rows: list[tuple[Session, Any]], *, hours_before: int, now: datetime, sessions_url: str, actor: Any
) -> None:
    """Notify each (session, person) and emit the events, in the transaction that claimed the
    reminders. The claims are the reminders' dedupe keys, so the notifications get none. Written
    in bulk: one preference lock query and one insert per round (a person reminded of two
    sessions at once is in two rounds, since a round holds one notification per person)."""
    from notifications.services import notify_many

    rounds: list[list[tuple[Any, dict[str, Any], list[Any]]]] = []
    seen: dict[Any, int] = defaultdict(int)
    for session, user in rows:
        index = seen[user.pk]
        seen[user.pk] += 1
        if index == len(rounds):
            rounds.append([])
        context = {
            "session": session,
            "hours_before": hours_before,
            "starts_in": starts_in(session.starts_at - now),
            "as_host": user.pk == session.host_id,
            "join_url": session.join_url,
            "sessions_url": sessions_url,
        }
        rounds[index].append((user, context, [session]))
    for items in rounds:
        notify_many(kind=notices.SESSION_REMINDER, items=items)
    emit_many(
        event_type=EVENT_TYPE,
        actor=actor,
        events=[
            (
                ("session", session.pk),
                {
                    "session_id": str(session.pk),
                    "program_id": str(session.program_id),
                    "user_id": str(user.pk),
                    "starts_at": session.starts_at.isoformat(),
                    "hours_before": hours_before,
                },
            )
            for session, user in rows
        ],
    )


@dataclass
class BatchResult:
    sent: int = 0
    already_sent: int = 0
    skipped: int = 0


def _send_batch(
    pairs: list[Pair], *, hours_before: int, now: datetime, still_due: Callable[[Session], bool], actor: Any
) -> BatchResult:
    """Claim and send the reminders of (session, user) pairs at one offset, in the caller's
    transaction. Pairs whose session changed (no longer due at this offset) or whose person is no
    longer registered or hosting are skipped; pairs already claimed count as already sent."""
    sessions = _lock_batch((s for s, _ in pairs), (u for _, u in pairs))
    registered = set(
        Registration.objects.filter(
            session_id__in=list(sessions), user_id__in={u for _, u in pairs}, status=RegistrationStatus.REGISTERED
        ).values_list("session_id", "user_id")
    )
    rows: list[tuple[Session, Any]] = []
    result = BatchResult()
    for session_id, user_id in pairs:
        session = sessions.get(session_id)
        if session is None or not still_due(session):
            result.skipped += 1
        elif (session_id, user_id) in registered or user_id == session.host_id:
            rows.append((session, user_id))
        else:
            result.skipped += 1
    won = _claim_many(rows, hours_before=hours_before, now=now)
    result.already_sent = len(rows) - len(won)
    if not won:
        return result
    users = get_user_model().objects.in_bulk({u for _, u in won})
    # In user order: racing batches then lock preferences in the same order.
    chosen = [
        (session, users[user_id])
        for session, user_id in sorted(rows, key=lambda row: (str(row[1]), str(row[0].pk)))
        if (session.pk, user_id) in won
    ]
    _remind_many(chosen, hours_before=hours_before, now=now, sessions_url=notices.my_sessions_url(), actor=actor)
    result.sent += len(chosen)
    return result


def _host_unclaimed(hours_before: int) -> Exists:
    """On sessions: the host has no claim of this offset for the session's current schedule."""
    return ~Exists(
        SessionReminder.objects.filter(
            session_id=OuterRef("id"),
            user_id=OuterRef("host_id"),
            kind=ReminderKind.REMINDER,
            hours_before=hours_before,
            session_sequence=OuterRef("sequence"),
        )
    )


def _participant_unclaimed(hours_before: int) -> Exists:
    """On registrations: the person has no claim of this offset for the session's current schedule."""
    return ~Exists(
        SessionReminder.objects.filter(
            session_id=OuterRef("session_id"),
            user_id=OuterRef("user_id"),
            kind=ReminderKind.REMINDER,
            hours_before=hours_before,
            session_sequence=OuterRef("session__sequence"),
        )
    )


def _pending_hosts(session_ids: list[Any], hours_before: int) -> list[Pair]:
    rows = (
        Session.objects.filter(pk__in=session_ids, host_id__isnull=False)
        .filter(_host_unclaimed(hours_before))
        .order_by("id")
        .values_list("id", "host_id")
    )
    return list(rows)


def _pending_participants(session_ids: list[Any], hours_before: int, *, after: Pair | None, limit: int) -> list[Pair]:
    """The next registered participants of the sessions still without this offset's claim for the
    session's current schedule, in (session, user) order after `after`."""
    rows = (
        Registration.objects.filter(session_id__in=session_ids, status=RegistrationStatus.REGISTERED)
        .filter(_participant_unclaimed(hours_before))
        .order_by("session_id", "user_id")
    )
    if after is not None:
        rows = rows.filter(Q(session_id__gt=after[0]) | Q(session_id=after[0], user_id__gt=after[1]))
    return list(rows.values_list("session_id", "user_id")[:limit])


def _deadlocked(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in ("40P01", "40001")


def _send_offset(
    session_ids: list[Any],
    *,
    hours_before: int,
    now: datetime,
    still_due: Callable[[Session], bool],
    actor: Any,
    batch_size: int,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> BatchResult:
    """Send one offset's reminders to the hosts and registered participants of the sessions,
    batch by batch, each batch in its own transaction."""
    total = BatchResult()

    def run(pairs: list[Pair]) -> None:
        outermost = not connection.in_atomic_block
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    result = _send_batch(pairs, hours_before=hours_before, now=now, still_due=still_due, actor=actor)
                break
            except OperationalError as exc:
                # A deadlock with another flow that locks the same rows in another order: the
                # database rolled the batch back, so it is simply tried again.
                if not outermost or attempt == DEADLOCK_ATTEMPTS or not _deadlocked(exc):
                    raise
        total.sent += result.sent
        total.already_sent += result.already_sent
        total.skipped += result.skipped
        if on_batch is not None:
            on_batch(result)

    for start in range(0, len(session_ids), SESSION_CHUNK):
        chunk = session_ids[start : start + SESSION_CHUNK]
        hosts = _pending_hosts(chunk, hours_before)
        for offset in range(0, len(hosts), batch_size):
            run(hosts[offset : offset + batch_size])
        after: Pair | None = None
        while pairs := _pending_participants(chunk, hours_before, after=after, limit=batch_size):
            run(pairs)
            after = pairs[-1]
    return total


@dataclass
class ReminderRun:
    sessions: int = 0
    sent: int = 0
    already_sent: int = 0
    skipped: int = 0
    by_offset: dict[int, int] = field(default_factory=dict)


def send_due_reminders(
    *,
    batch_size: int | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> ReminderRun:
    """Send every reminder due now (the job's body): for each scheduled session that has not
    started, its current offset's reminder to each host and registered participant without one
    for the session's current schedule. Safe to run twice at once and to retry after a crash."""
    now = clock.now()
    batch_size = batch_size or BATCH_SIZE
    upcoming = Session.objects.filter(
        status=SessionStatus.SCHEDULED, starts_at__gt=now, starts_at__lte=now + timedelta(hours=MAX_OFFSET_HOURS)
    )
    offsets_of = {
        program.pk: reminder_offsets(program)
        for program in Program.objects.filter(pk__in=upcoming.values("program_id")).only("id", "config")
    }
    horizon = max((max(o) for o in offsets_of.values() if o), default=0)
    due: dict[int, list[Any]] = defaultdict(list)
    rows = upcoming.filter(starts_at__lte=now + timedelta(hours=horizon)).order_by("starts_at", "id")
    for session_id, program_id, starts_at in rows.values_list("id", "program_id", "starts_at"):
        offset = current_offset(offsets_of.get(program_id, ()), starts_at, now)
        if offset is not None:
            due[offset].append(session_id)

    run = ReminderRun(sessions=sum(len(ids) for ids in due.values()))
    for hours_before in sorted(due, reverse=True):

        def still_due(session: Session, hours_before: int = hours_before) -> bool:
            return session.status == SessionStatus.SCHEDULED and (
                current_offset(reminder_offsets(session.program), session.starts_at, now) == hours_before
            )

        result = _send_offset(
            due[hours_before],
            hours_before=hours_before,
            now=now,
            still_due=still_due,
            actor=JOB_ACTOR,
            batch_size=batch_size,
            on_batch=on_batch,
        )
        run.sent += result.sent
        run.already_sent += result.already_sent
        run.skipped += result.skipped
        if result.sent:
            run.by_offset[hours_before] = result.sent
    return run


@dataclass(frozen=True)
class DispatchResult:
    sent: int
    already_sent: int
    offsets: list[int]


def _claimed_recipients(session: Session, hours_before: int) -> int:
    """The session's host and registered participants who have this offset's reminder for its
    current schedule."""
    registered = Registration.objects.filter(session_id=session.pk, status=RegistrationStatus.REGISTERED)
    holders = Q(user_id__in=registered.values("user_id"))
    if session.host_id:
        holders |= Q(user_id=session.host_id)
    return SessionReminder.objects.filter(
        holders,
        session_id=session.pk,
        kind=ReminderKind.REMINDER,
        hours_before=hours_before,
        session_sequence=session.sequence,
    ).count()


def _has_pending(session: Session, hours_before: int) -> bool:
    return bool(_pending_hosts([session.pk], hours_before)) or bool(
        _pending_participants([session.pk], hours_before, after=None, limit=1)
    )


def session_reminders_dispatch(*, session: Session, force: bool = False, actor: Any = None) -> DispatchResult:
    """Send one session's reminders now, on an operator's demand.

    Without `force`: the reminders due now (the current offset, as the job would send them).
    With `force`: the same when anyone still lacks the current offset's reminder; otherwise the
    next offset's reminders go out ahead of time (and the job will not send them again at their
    time). Already claimed reminders are never sent twice; `already_sent` counts the recipients
    (host and registered participants) who had the dispatched offset's reminder before. A
    cancelled or delivered session, or one that has started, answers Conflict."""
    session = Session.objects.select_related("program").get(pk=session.pk)
    now = clock.now()
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(f"The session is {session.status}; it sends no reminders.")
    if session.starts_at <= now:
        raise Conflict("The session has started; reminders go out before the start.")
    offsets = reminder_offsets(session.program)
    chosen = current_offset(offsets, session.starts_at, now)
    if force and (chosen is None or not _has_pending(session, chosen)):
        chosen = next_offset(offsets, session.starts_at, now) or chosen
    if chosen is None:
        return DispatchResult(sent=0, already_sent=0, offsets=[])
    sequence = session.sequence
    before = _claimed_recipients(session, chosen)

    def still_due(fresh: Session) -> bool:
        return fresh.status == SessionStatus.SCHEDULED and fresh.sequence == sequence and fresh.starts_at > now

    result = _send_offset(
        [session.pk],
        hours_before=chosen,
        now=now,
        still_due=still_due,
        actor=actor,
        batch_size=BATCH_SIZE,
    )
    return DispatchResult(sent=result.sent, already_sent=before + result.already_sent, offsets=[chosen])


# --- Cancellation -------------------------------------------------------------------------------


def send_cancellation_notices(*, session: Session) -> int:
    """One cancellation notice per registered or waitlisted person of a cancelled session."""
    from notifications.services import notify

    sent = 0
    rows = (
        Registration.objects.filter(
            session_id=session.pk, status__in=(RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
        )
        .select_related("user")
        .order_by("created_at")
    )
    for registration in rows:
        if not _claim(
            session=session, user_id=registration.user_id, kind=ReminderKind.CANCELLATION, hours_before=0, sequence=0
        ):
            continue
        notify(
            user=registration.user,
            kind=notices.SESSION_CANCELLED,
            context={"session": session, "reason": session.cancel_reason},
            dedupe_key=f"{notices.SESSION_CANCELLED}:{session.pk}:{registration.user_id}",
            related=[session],
        )
        sent += 1
    return sent

"""Scheduled jobs of the coach (registered in `CoachingConfig.ready()`, timed in `config/schedule.py`).

- `coach_momentum` (daily): recomputes every pursuit's momentum with bulk UPDATEs (batches of
  `MOMENTUM_BATCH` pursuits by id), giving exactly what `coaching.momentum.momentum` gives for each
  row: internal pursuits take their program's `ProgramTrust` (or `DEFAULT_PROGRAM_TRUST`), external
  ones their own trust (or `DEFAULT_EXTERNAL_TRUST`); past-deadline and non-open pursuits get NULL.
  The score is computed in the SET expression from the row being updated, so a pursuit the API
  changes meanwhile is scored from its new values; rows whose score is unchanged are not written.
- `coach_scan` (hourly): per person, one message (`coach_deadline_reminder`, or `coach_micro_task`
  when only a micro-task is due) listing
  (1) every open pursuit newly inside a deadline window: "72h" (deadline within 24-72 h) or "24h"
  (within 24 h); each pursuit is announced once per window;
  (2) the micro-task of `coaching.selectors.micro_task_for` (open, no progress for 48 h, deadline
  within 7 days) unless the person's snooze runs or that pursuit was nudged in the last 24 h.
- `coach_check_ins` (daily): creates the "Have you heard back?" task 21 days after `submitted_at`
  for submitted and outcome-pending pursuits (INSERT ... ON CONFLICT DO NOTHING: one per pursuit)
  and, in the same transaction, sends the person one `coach_check_in` message listing them.

What has been announced is read from the coach's own notification log (`coaching.nudges`): every
decision for a person is taken under their notification-preference row lock, after re-reading
their pursuits and their recent coach messages, and each message has a dedupe key, so reruns and
concurrent runs send nothing twice. The "nudge" rate limit (one e-mail and one dashboard nudge per
person per rolling 24 h) is applied by the notifications app; held-back items fold into the next
coach message (`coaching.nudges`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from coaching import momentum as rules
from coaching import notices, nudges
from coaching.enums import OPEN_STATES, CoachState
from coaching.models import CheckInTask, CoachSettings, Pursuit
from coaching.selectors import NEAR_DEADLINE, micro_task_for
from core import clock
from core.jobs import JobContext
from notifications.enums import NotificationStatus
from notifications.models import NotificationPreference
from notifications.services.preferences import lock_preferences

MOMENTUM_BATCH = 20_000
USER_BATCH = 500
WINDOW_72H = timedelta(hours=72)
WINDOW_24H = timedelta(hours=24)
# Deadline items are looked up this far back (a pursuit stays in the 72 h window for 48 h).
ANNOUNCED_LOOKBACK = timedelta(days=7)
MICRO_TASK_EVERY = timedelta(hours=24)
CHECK_IN_AFTER = timedelta(days=21)
CHECK_IN_STATES = (CoachState.SUBMITTED, CoachState.OUTCOME_PENDING)

# --- momentum ------------------------------------------------------------------------------------

_OPEN_SQL = ", ".join(f"'{state}'" for state in OPEN_STATES)
# The exact double `round(x, 4)` gives in Python (round half to even on the double's exact binary
# value), for 0 <= x < 2: x * 2**100 is split into three integer chunks of < 2**40 (each exactly a
# numeric), which rebuild the exact value N / 2**100; q = N * 10**4 div 2**100 with the remainder
# decides the rounding; q / 10**4 converts to the nearest double as Python's does.
_ROUND4 = """(
  SELECT (CASE WHEN 2 * rem < {p100} THEN q WHEN 2 * rem > {p100} THEN q + 1 ELSE q + mod(q, 2) END / 10000)::float8
  FROM (SELECT q, n * 10000 - q * {p100} AS rem FROM (SELECT div(n * 10000, {p100}) AS q, n FROM (
    SELECT c2::numeric * {p80} + c1::numeric * {p40} + c0::numeric AS n FROM (
      SELECT c2, c1, r - c1 * power(2::float8, 40) AS c0 FROM (
        SELECT c2, r, floor(r / power(2::float8, 40)) AS c1 FROM (
          SELECT c2, y - c2 * power(2::float8, 80) AS r FROM (
            SELECT y, floor(y / power(2::float8, 80)) AS c2 FROM (
              SELECT ({x}) * power(2::float8, 100) AS y
            ) AS s1) AS s2) AS s3) AS s4) AS s5) AS s6) AS s7) AS s8
)""".format(p100=2**100, p80=2**80, p40=2**40, x="{x}")
_PROXIMITY = (
    "CASE WHEN p.deadline IS NULL THEN 0::float8 ELSE LEAST(GREATEST(1::float8 - "
    "((EXTRACT(EPOCH FROM p.deadline) - EXTRACT(EPOCH FROM %(now)s::timestamptz))::float8 / 86400::float8)"
    f" / {rules.HORIZON_DAYS}::float8, 0::float8), 1::float8) END"
)
_TRUST = (
    "LEAST(GREATEST(CASE WHEN p.application_id IS NOT NULL "
    f"THEN COALESCE(pt.trust_score, {rules.DEFAULT_PROGRAM_TRUST!r}::float8) "
    f"ELSE COALESCE(p.trust_score, {rules.DEFAULT_EXTERNAL_TRUST!r}::float8) END, 0::float8), 1::float8)"
)
_SCORE = (
    f"CASE WHEN p.coach_state NOT IN ({_OPEN_SQL}) OR (p.deadline IS NOT NULL AND p.deadline <= %(now)s) "
    "THEN NULL ELSE "
    + _ROUND4.replace(
        "{x}", f"{rules.DEADLINE_WEIGHT!r}::float8 * ({_PROXIMITY}) + {rules.TRUST_WEIGHT!r}::float8 * ({_TRUST})"
    )
    + " END"
)
# The program trust comes from a join on the same row (UPDATE ... FROM); everything else from the
# row being updated (`p`), so PostgreSQL re-evaluates it on a row the API changed meanwhile.
MOMENTUM_SQL = f"""
UPDATE coaching_pursuit AS p
SET momentum_score = {_SCORE}, updated_at = %(now)s
FROM coaching_pursuit AS src
LEFT JOIN applications_application AS a ON a.id = src.application_id
LEFT JOIN coaching_programtrust AS pt ON pt.program_id = a.program_id
WHERE src.id = p.id {{bounds}}
  AND p.momentum_score IS DISTINCT FROM ({_SCORE})
"""


def internal_deadlines_sync(now: datetime) -> int:
    """Internal pursuits take their program's current window close and name (an operator may
    have moved the window since the application last changed). Answers the rows changed."""
    from django.db.models import F, OuterRef, Q, Subquery

    from programs.models import Program

    program = Program.objects.filter(applications__pk=OuterRef("application_id"))
    stale = Pursuit.objects.filter(application__isnull=False).filter(
        ~Q(deadline=F("application__program__closes_at"))
        | Q(deadline__isnull=True, application__program__closes_at__isnull=False)
        | Q(deadline__isnull=False, application__program__closes_at__isnull=True)
    )
    return stale.update(
        deadline=Subquery(program.values("closes_at")[:1]),
        title=Subquery(program.values("name")[:1]),
        updated_at=now,
    )


def _momentum_in_python(now: datetime, batch: int) -> int:
    """The same recompute for databases without the SQL above (the embedded SQLite default)."""
    from coaching.services.pursuits import refresh_momentum

    changed = 0
    ids = list(Pursuit.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            rows = list(Pursuit.objects.select_related("application").filter(pk__in=ids[start : start + batch]))
            dirty = []
            for pursuit in rows:
                before = pursuit.momentum_score
                refresh_momentum(pursuit, now)
                if pursuit.momentum_score != before:
                    pursuit.updated_at = now
                    dirty.append(pursuit)
            Pursuit.objects.bulk_update(dirty, ["momentum_score", "updated_at"])
            changed += len(dirty)
    return changed


def momentum_recompute(now: datetime, *, batch: int = MOMENTUM_BATCH, context: JobContext | None = None) -> int:
    """Recompute every pursuit's momentum at `now`; returns the number of rows changed. Pursuits
    are taken in batches by id, each committed on its own, so a batch's row locks are brief."""
    if connection.vendor != "postgresql":
        return _momentum_in_python(now, batch)
    changed = 0
    low = None
    with connection.cursor() as cursor:
        while True:
            after = " WHERE id > %(low)s" if low is not None else ""
            cursor.execute(
                f"SELECT id FROM coaching_pursuit{after} ORDER BY id OFFSET %(skip)s LIMIT 1",
                {"low": low, "skip": batch - 1},
            )
            row = cursor.fetchone()
            high = row[0] if row else None
            bounds = ["p.id > %(low)s" if low is not None else "", "p.id <= %(high)s" if high is not None else ""]
            sql = MOMENTUM_SQL.replace("{bounds}", " ".join(f"AND {b}" for b in bounds if b))
            with transaction.atomic():
                cursor.execute(sql, {"now": now, "low": low, "high": high})
                changed += cursor.rowcount
            if context is not None:
                context.progress(f"momentum: {changed} changed")
            if high is None:
                break
            low = high
    return changed


def coach_momentum(context: JobContext) -> None:
    context.count("pursuits", Pursuit.objects.count())
    context.count("deadlines_synced", internal_deadlines_sync(clock.now()))
    context.count("changed", momentum_recompute(clock.now(), context=context))


# --- the hourly scan -------------------------------------------------------------------------------


def _candidates(now: datetime, user_id: Any = None) -> dict[Any, list[Pursuit]]:
    """Open pursuits with a deadline within the micro-task horizon (7 days, which holds the 72 h
    window), per person."""
    query = Pursuit.objects.filter(
        coach_state__in=OPEN_STATES, deadline__gt=now, deadline__lte=now + max(NEAR_DEADLINE, WINDOW_72H)
    ).only("id", "user_id", "title", "deadline", "coach_state", "last_progress_at", "application_type")
    if user_id is not None:
        query = query.filter(user_id=user_id)
    by_user: dict[Any, list[Pursuit]] = defaultdict(list)
    for pursuit in query.order_by("user_id", "deadline", "id"):
        by_user[pursuit.user_id].append(pursuit)
    return by_user


def _snoozed(user_ids: list[Any], now: datetime) -> set[Any]:
    return set(
        CoachSettings.objects.filter(user_id__in=user_ids, snoozed_until__gt=now).values_list("user_id", flat=True)
    )


def _announced(user_ids: list[Any], now: datetime) -> dict[Any, dict[str, datetime]]:
    """Per person: item key -> when it was last part of a coach message (any channel or status)."""
    from notifications.models import Notification

    seen: dict[Any, dict[str, datetime]] = defaultdict(dict)
    rows = Notification.objects.filter(
        user_id__in=user_ids, kind__in=notices.COACH_KINDS, created_at__gt=now - ANNOUNCED_LOOKBACK
    ).values_list("user_id", "context", "created_at")
    for user_id, context, created_at in rows:
        for item in (context or {}).get("items", ()):
            key = item.get("key")
            if key and (key not in seen[user_id] or seen[user_id][key] < created_at):
                seen[user_id][key] = created_at
    return seen


def _scan_items(
    pursuits: list[Pursuit], announced: dict[str, datetime], snoozed: bool, now: datetime
) -> list[dict[str, Any]]:
    """What is new for one person: deadline items not yet announced in their window, then the
    micro-task (if not snoozed) unless its pursuit was nudged in the last 24 h (the most urgent
    stale pursuit is the one to work on; it is not swapped for another, so reruns stay quiet)."""
    items = []
    for pursuit in pursuits:
        if pursuit.deadline > now + WINDOW_72H:
            continue
        window = "24h" if pursuit.deadline <= now + WINDOW_24H else "72h"
        item = nudges.deadline_item(pursuit, window)
        if item["key"] not in announced:
            items.append(item)
    if not snoozed:
        task = micro_task_for(pursuits, now)
        last = announced.get(f"micro_task:{task['pursuit_id']}") if task is not None else None
        if task is not None and (last is None or last <= now - MICRO_TASK_EVERY):
            items.append(nudges.micro_task_item(task))
    return items


def _count_rows(context: JobContext, rows: list) -> None:
    for row in rows:
        if row.status == NotificationStatus.SUPPRESSED:
            context.count(f"{row.channel}_suppressed")
        else:
            context.count(f"{row.channel}_queued")


def _scan_person(user: Any, now: datetime, stamp: str, context: JobContext | None) -> int:
    """Decide and send one person's scan message under their preference lock; the number of items."""
    with transaction.atomic():
        lock_preferences(user)
        pursuits = _candidates(now, user.pk).get(user.pk, [])
        items = _scan_items(pursuits, _announced([user.pk], now)[user.pk], bool(_snoozed([user.pk], now)), now)
        if not items:
            return 0
        kind = notices.DEADLINE_REMINDER if any(i["type"] == "deadline" for i in items) else notices.MICRO_TASK
        rows = nudges.send(user=user, kind=kind, items=items, now=now, key=nudges.dedupe_key(kind, user, stamp, items))
    if context is not None:
        context.count("messages")
        context.count("deadline_items", sum(i["type"] == "deadline" for i in items))
        context.count("micro_tasks", sum(i["type"] == "micro_task" for i in items))
        _count_rows(context, rows)
    return len(items)


def coach_scan(context: JobContext | None = None) -> None:
    now = clock.now()
    stamp = now.strftime("%Y%m%dT%H")
    candidates = _candidates(now)
    user_ids = sorted(candidates, key=str)
    users = get_user_model().objects.in_bulk(user_ids)
    for start in range(0, len(user_ids), USER_BATCH):
        chunk = user_ids[start : start + USER_BATCH]
        # Everyone's preference row exists up front: taking its lock is then one query.
        NotificationPreference.objects.bulk_create(
            [NotificationPreference(user_id=pk) for pk in chunk], ignore_conflicts=True
        )
        announced = _announced(chunk, now)
        snoozed = _snoozed(chunk, now)
        for user_id in chunk:
            # A cheap first look without the lock; the decision is taken again under it.
            if _scan_items(candidates[user_id], announced.get(user_id, {}), user_id in snoozed, now):
                _scan_person(users[user_id], now, stamp, context)
        if context is not None:
            context.progress(f"scan: {min(start + USER_BATCH, len(user_ids))} of {len(user_ids)} people")


# --- check-ins -------------------------------------------------------------------------------------

_CHECK_IN_STATES_SQL = ", ".join(f"'{state}'" for state in CHECK_IN_STATES)
CHECK_IN_INSERT = f"""
INSERT INTO coaching_checkintask (id, created_at, updated_at, pursuit_id, user_id, due_at, status, outcome)
SELECT gen_random_uuid(), %(now)s, %(now)s, p.id, p.user_id, p.submitted_at + interval '21 days', 'pending', ''
FROM coaching_pursuit AS p
WHERE p.user_id = ANY(%(users)s) AND p.coach_state IN ({_CHECK_IN_STATES_SQL})
  AND p.submitted_at IS NOT NULL AND p.submitted_at <= %(now)s - interval '21 days'
  AND NOT EXISTS (SELECT 1 FROM coaching_checkintask AS t WHERE t.pursuit_id = p.id)
ORDER BY p.id
ON CONFLICT (pursuit_id) DO NOTHING
RETURNING pursuit_id
"""


def coach_check_ins(context: JobContext | None = None) -> None:
    now = clock.now()
    due = Pursuit.objects.filter(
        coach_state__in=CHECK_IN_STATES, submitted_at__lte=now - CHECK_IN_AFTER, check_in__isnull=True
    )
    user_ids = sorted(set(due.values_list("user_id", flat=True)), key=str)
    User = get_user_model()
    for start in range(0, len(user_ids), USER_BATCH):
        chunk = user_ids[start : start + USER_BATCH]
        with transaction.atomic():
            # Lock the people's preference rows in one query, in id order (as notify_many does),
            # so the task insert and its message are decided once per person.
            NotificationPreference.objects.bulk_create(
                [NotificationPreference(user_id=pk) for pk in chunk], ignore_conflicts=True
            )
            list(
                NotificationPreference.objects.select_for_update()
                .filter(user_id__in=chunk)
                .order_by("user_id")
                .values_list("pk", flat=True)
            )
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(CHECK_IN_INSERT, {"now": now, "users": list(chunk)})
                    created = [row[0] for row in cursor.fetchall()]
            else:  # the embedded SQLite default: writes are serialised, so read-then-insert holds
                fresh = list(due.filter(user_id__in=chunk).order_by("pk"))
                CheckInTask.objects.bulk_create(
                    [
                        CheckInTask(
                            pursuit=p, user_id=p.user_id, due_at=p.submitted_at + CHECK_IN_AFTER, status="pending"
                        )
                        for p in fresh
                    ],
                    ignore_conflicts=True,
                )
                created = [p.pk for p in fresh]
            if not created:
                continue
            by_user: dict[Any, list[Pursuit]] = defaultdict(list)
            for pursuit in Pursuit.objects.filter(pk__in=created).order_by("submitted_at", "id"):
                by_user[pursuit.user_id].append(pursuit)
            users = User.objects.in_bulk(list(by_user))
            for user_id, pursuits in sorted(by_user.items(), key=lambda kv: str(kv[0])):
                items = [nudges.check_in_item(p) for p in pursuits]
                rows = nudges.send(
                    user=users[user_id],
                    kind=notices.CHECK_IN,
                    items=items,
                    now=now,
                    key=nudges.dedupe_key(notices.CHECK_IN, users[user_id], "once", items),
                )
                if context is not None:
                    context.count("check_ins", len(items))
                    context.count("messages")
                    _count_rows(context, rows)
    if context is not None:
        context.progress(f"{context.counts.get('check_ins', 0)} check-in tasks created")


__all__ = ["coach_check_ins", "coach_momentum", "coach_scan", "momentum_recompute"]

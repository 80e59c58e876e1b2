"""The last step of every partner write, shared by the batch import and the inbound handlers:

1. each person's enrollment on each side of the program takes the status source 001 gives their
   partner history (the partner is the source of truth for it):
   - a match of theirs on that side is active -> `active`;
   - all ended and the one that ended last ended `completed` -> `completed`, `completed_at` = its end;
   - all ended otherwise -> `dropped`, `dropped_at` = the last end;
   - no match yet -> left as it is (active since they joined);
2. their journey flags are recomputed.

The inbound handlers call `settle(..., bulk=False)` after the mentorship services did their work
(record by record, `journey_flags_refresh`); the batch import calls it once per chunk of affected
people with `bulk=True`, which computes the same flags with a constant number of queries per
chunk. The stream-versus-batch test proves both give the same rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q

from core import clock
from core.audit import audit_record
from crm_sync.outbox import emit
from enrollments import journey as enrollment_journey
from enrollments.enums import EnrollmentStatus
from enrollments.journey import JOURNEY_ROW_FIELDS, journey_flags_from_rows
from enrollments.models import Enrollment, JourneyFlags
from enrollments.services import journey_flags_refresh
from mentorship.enums import ActivityKind, EndReason, MatchStatus, ProfileKind
from mentorship.journey import mentorship_flags
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone
from mentorship.partners import fast
from mentorship.services.common import checkin_interval_days, side_roles
from programs.models import Program

STARTED = (MatchStatus.ACTIVE, MatchStatus.ENDED)
CHUNK = 2000


def derive_status(matches: list[tuple[str, datetime, datetime | None, str]]) -> tuple[str, Any, Any, str] | None:
    """(status, completed_at, dropped_at, reason) from one person's matches on one side
    (`(status, started_at, ended_at, end_reason)` each), or None without a started match."""
    started = [m for m in matches if m[0] in STARTED]
    if not started:
        return None
    if any(m[0] == MatchStatus.ACTIVE for m in started):
        return EnrollmentStatus.ACTIVE, None, None, "A match is active."
    # The match that ended last (ties: the later start; then a completed one counts as last).
    last = max(started, key=lambda m: (m[2], m[1], m[3] == EndReason.COMPLETED))
    day = last[2].date().isoformat()
    if last[3] == EndReason.COMPLETED:
        return EnrollmentStatus.COMPLETED, last[2], None, f"Their last match ended completed on {day}."
    return EnrollmentStatus.DROPPED, None, last[2], f"All their matches ended; the last as {last[3]} on {day}."


def _status_payload(enrollment: Enrollment, previous: str, now: datetime) -> dict[str, Any]:
    return {
        "enrollment_id": str(enrollment.pk),
        "user_id": str(enrollment.user_id),
        "program_id": str(enrollment.program_id),
        "from_status": previous,
        "to_status": enrollment.status,
        "reason": enrollment.reason,
        "changed_at": now.isoformat(),
    }


def settle_enrollments(*, program: Program, user_ids, bulk: bool, actor: Any = None) -> int:
    """Give the people's enrollments in the program the status their matches decide. Answers
    how many changed."""
    ids = list(user_ids)
    if not ids:
        return 0
    roles = side_roles(program)
    kind_of_role = {role: kind for kind, role in roles.items()}
    history: dict[tuple[Any, str], list] = defaultdict(list)
    rows = (
        Match.objects.filter(program=program, status__in=STARTED)
        .filter(Q(mentor_id__in=ids) | Q(mentee_id__in=ids))
        .values_list("mentor_id", "mentee_id", "status", "started_at", "ended_at", "end_reason")
    )
    for mentor_id, mentee_id, status, started_at, ended_at, end_reason in rows:
        entry = (status, started_at, ended_at, end_reason)
        history[(mentor_id, ProfileKind.MENTOR)].append(entry)
        history[(mentee_id, ProfileKind.MENTEE)].append(entry)
    enrollments = Enrollment.objects.filter(program=program, user_id__in=ids, role__in=list(roles.values()))
    if not bulk:
        enrollments = enrollments.select_for_update()
    now = clock.now()
    changed: list[tuple[Enrollment, str]] = []
    for enrollment in enrollments:
        derived = derive_status(history.get((enrollment.user_id, kind_of_role[enrollment.role]), []))
        if derived is None:
            continue
        current = (enrollment.status, enrollment.completed_at, enrollment.dropped_at, enrollment.reason)
        if current == derived:
            continue
        previous = enrollment.status
        enrollment.status, enrollment.completed_at, enrollment.dropped_at, enrollment.reason = derived
        enrollment.updated_at = now
        changed.append((enrollment, previous))
    if not changed:
        return 0
    fields = ["status", "completed_at", "dropped_at", "reason", "updated_at"]
    moved = [(e, previous) for e, previous in changed if e.status != previous]
    if bulk:
        fast.update(Enrollment, [e for e, _ in changed], fields)
        fast.emit(
            "enrollment.status_changed",
            [(("enrollment", e.pk), _status_payload(e, previous, now)) for e, previous in moved],
            actor=actor,
        )
        return len(changed)
    for enrollment, previous in changed:
        enrollment.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="enrollment.status_derived",
            target=enrollment,
            changes={
                "status": [previous, enrollment.status],
                "completed_at": enrollment.completed_at.isoformat() if enrollment.completed_at else None,
                "dropped_at": enrollment.dropped_at.isoformat() if enrollment.dropped_at else None,
            },
            reason=enrollment.reason,
        )
        if enrollment.status != previous:
            emit(
                event_type="enrollment.status_changed",
                subject=("enrollment", enrollment.pk),
                payload=_status_payload(enrollment, previous, now),
                actor=actor,
            )
    return len(changed)


# --- Journey flags in bulk ----------------------------------------------------------------------


def _mentorship_flags_many(ids: list[Any], now: datetime) -> dict[Any, dict[str, Any]]:
    """`mentorship.journey.mentorship_flags` for many people with five queries."""
    matches = list(
        Match.objects.filter(status__in=STARTED)
        .filter(Q(mentor_id__in=ids) | Q(mentee_id__in=ids))
        .annotate(last_checkin=Max("checkins__at"))
        .values_list("id", "mentor_id", "mentee_id", "status", "started_at", "last_checkin", "program__config")
    )
    rated = set(Feedback.objects.filter(match_id__in=[m[0] for m in matches]).values_list("match_id", "author_id"))
    wanted = set(ids)
    mine: dict[Any, list] = defaultdict(list)
    for row in matches:
        for person in (row[1], row[2]):
            if person in wanted:
                mine[person].append(row)

    def counts(queryset, column: str) -> dict[Any, int]:
        return dict(queryset.values(column).annotate(n=Count("id")).values_list(column, "n"))

    events = counts(Activity.objects.filter(user_id__in=ids, kind=ActivityKind.EVENT), "user_id")
    checkins = counts(CheckIn.objects.filter(by_id__in=ids), "by_id")
    milestones = counts(Milestone.objects.filter(user_id__in=ids), "user_id")
    result = {}
    for user_id in ids:
        due = pending = False
        latest = None
        for match_id, _mentor, _mentee, status, started_at, last_checkin, config in mine.get(user_id, []):
            if last_checkin is not None and (latest is None or last_checkin > latest):
                latest = last_checkin
            if status == MatchStatus.ACTIVE:
                if (last_checkin or started_at) <= now - timedelta(days=checkin_interval_days(config)):
                    due = True
            elif (match_id, user_id) not in rated:
                pending = True
        started = mine.get(user_id, [])
        result[user_id] = {
            "match_count": len(started),
            "match_active": any(row[3] == MatchStatus.ACTIVE for row in started),
            "events_attended": events.get(user_id, 0),
            "checkins_completed": checkins.get(user_id, 0),
            "milestones_reached": milestones.get(user_id, 0),
            "checkin_due": due,
            "feedback_pending": pending,
            "last_checkin_at": latest.isoformat() if latest else None,
        }
    return result


def journey_flags_many(user_ids) -> dict[Any, dict[str, Any]]:
    """`enrollments.journey.journey_flags_compute` for many people at once: the enrollment
    flags from one query, mentorship's from five, any other contributor person by person."""
    ids = list(user_ids)
    now = clock.now()
    rows: dict[Any, list] = defaultdict(list)
    for row in (
        Enrollment.objects.filter(user_id__in=ids)
        .order_by("enrolled_at", "id")
        .values_list("user_id", *JOURNEY_ROW_FIELDS)
    ):
        rows[row[0]].append(row[1:])
    mentorship = _mentorship_flags_many(ids, now)
    result = {}
    for user_id in ids:
        flags = journey_flags_from_rows(rows.get(user_id, []))
        for contributor in enrollment_journey.journey_contributors():
            flags.update(mentorship[user_id] if contributor is mentorship_flags else contributor(user_id))
        result[user_id] = flags
    return result


def journey_flags_store_many(user_ids) -> int:
    """Recompute and store the flags of many people (an upsert per chunk). Answers how many
    rows changed."""
    ids = list(dict.fromkeys(user_ids))
    written = 0
    now = clock.now()
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        computed = journey_flags_many(part)
        stored = dict(JourneyFlags.objects.filter(user_id__in=part).values_list("user_id", "flags"))
        rows = [
            JourneyFlags(user_id=user_id, flags=flags, updated_at=now)
            for user_id, flags in computed.items()
            if stored.get(user_id) != flags
        ]
        if rows:
            JourneyFlags.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["user"], update_fields=["flags", "updated_at"]
            )
            written += len(rows)
    return written


def settle(*, program: Program, user_ids, bulk: bool, actor: Any = None) -> None:
    """Enrollments first (the flags read them), then the flags of everyone given."""
    ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(ids), CHUNK):
        settle_enrollments(program=program, user_ids=ids[start : start + CHUNK], bulk=bulk, actor=actor)
    if bulk:
        journey_flags_store_many(ids)
    else:
        for user_id in ids:
            journey_flags_refresh(user_id=user_id)

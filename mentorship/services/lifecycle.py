"""Match lifecycle: activation (with the enrollments it needs), ending, and source 001's rules
for what a match's end does to each person's enrollment:

- when a person's last active match in the program ends with reason `completed`, their enrollment
  completes;
- when all their matches have ended and the last one ended for another reason, it is dropped;
- while any match of theirs is still active, it stays active.

Activation enrolls people who are not yet enrolled in their side's role, and reactivates a dropped
enrollment (a completed one is final and stays completed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from core import clock
from core.errors import Conflict, ValidationFailed
from core.transitions import TransitionTable, apply_transition
from crm_sync.outbox import emit
from enrollments.enums import EnrollmentStatus, SourceSystem
from enrollments.models import Enrollment
from enrollments.services import enrollment_create, enrollment_set_status, journey_flags_refresh
from mentorship import notices
from mentorship.enums import EndReason, MatchSource, MatchStatus, ProfileKind
from mentorship.models import Match
from mentorship.services.common import side_roles
from notifications.services import notify
from programs.models import Program

MATCH_TRANSITIONS = TransitionTable(
    "match",
    {
        MatchStatus.PROPOSED: {MatchStatus.ACTIVE, MatchStatus.REJECTED, MatchStatus.WITHDRAWN},
        MatchStatus.ACTIVE: {MatchStatus.ENDED},
    },
)

_SOURCE_SYSTEM = {
    MatchSource.BUDDY: SourceSystem.BUDDY,
    MatchSource.KINTELL: SourceSystem.KINTELL,
}


def match_created_payload(match: Match) -> dict[str, Any]:
    return {
        "match_id": str(match.pk),
        "program_id": str(match.program_id),
        "mentor_id": str(match.mentor_id),
        "mentee_id": str(match.mentee_id),
        "source": match.source,
        "score": match.score,
        "started_at": match.started_at.isoformat(),
    }


def match_ended_payload(match: Match) -> dict[str, Any]:
    return {
        "match_id": str(match.pk),
        "program_id": str(match.program_id),
        "mentor_id": str(match.mentor_id),
        "mentee_id": str(match.mentee_id),
        "end_reason": match.end_reason,
        "started_at": match.started_at.isoformat(),
        "ended_at": match.ended_at.isoformat(),
    }


def ensure_enrolled(*, user: Any, program: Program, role: str, source: str, at: datetime, actor: Any) -> Enrollment:
    """The person's enrollment in this role: created when missing, reactivated when dropped."""
    enrollment = Enrollment.objects.filter(user=user, program=program, role=role).first()
    if enrollment is None:
        return enrollment_create(
            user=user,
            program=program,
            role=role,
            source_system=_SOURCE_SYSTEM.get(source, SourceSystem.PLATFORM),
            enrolled_at=min(at, clock.now()),
            reason="Matched.",
            actor=actor,
            confirm=False,  # the match notice tells them
        )
    if enrollment.status == EnrollmentStatus.DROPPED:
        return enrollment_set_status(
            enrollment=enrollment, status=EnrollmentStatus.ACTIVE, reason="A new match started.", actor=actor
        )
    return enrollment


def _person_filter(user_id: Any, kind: str) -> Q:
    return Q(mentor_id=user_id) if kind == ProfileKind.MENTOR else Q(mentee_id=user_id)


def settle_enrollment(*, user_id: Any, program: Program, kind: str, actor: Any) -> str | None:
    """Apply source 001's rule to the person's enrollment on this side after a match ended.
    Answers the status it moved to, or None."""
    matches = Match.objects.filter(_person_filter(user_id, kind), program=program)
    if matches.filter(status=MatchStatus.ACTIVE).exists():
        return None
    last = matches.filter(status=MatchStatus.ENDED).order_by("-ended_at", "-created_at").first()
    if last is None:
        return None
    enrollment = Enrollment.objects.filter(user_id=user_id, program=program, role=side_roles(program)[kind]).first()
    if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE:
        return None
    status = EnrollmentStatus.COMPLETED if last.end_reason == EndReason.COMPLETED else EnrollmentStatus.DROPPED
    reason = (
        "Their last match ended completed."
        if status == EnrollmentStatus.COMPLETED
        else f"All their matches ended; the last as {last.end_reason}."
    )
    enrollment_set_status(enrollment=enrollment, status=status, reason=reason, actor=actor)
    return status


def activate(
    match: Match, *, actor: Any, at: datetime | None = None, action: str = "match.approved", reason: str = ""
) -> Match:
    """Proposed -> active (the caller holds the locks and has checked capacity): enrollments,
    event, notices and flags. For matches created active (manual, imports) pass a fresh row in
    status `active`: only the side effects run."""
    at = at or clock.now()
    program = Program.objects.select_related("template").get(pk=match.program_id)
    decided_by = actor if getattr(actor, "pk", None) and hasattr(actor, "is_staff") else None
    if match.status == MatchStatus.PROPOSED:
        apply_transition(
            match,
            table=MATCH_TRANSITIONS,
            to=MatchStatus.ACTIVE,
            actor=actor,
            action=action,
            reason=reason,
            extra={"started_at": at, "decided_by": decided_by},
        )
    roles = side_roles(program)
    ensure_enrolled(
        user=match.mentor, program=program, role=roles[ProfileKind.MENTOR], source=match.source, at=at, actor=actor
    )
    ensure_enrolled(
        user=match.mentee, program=program, role=roles[ProfileKind.MENTEE], source=match.source, at=at, actor=actor
    )
    emit(
        event_type="mentorship.match.created",
        subject=("match", match.pk),
        payload=match_created_payload(match),
        actor=actor,
        occurred_at=at,
    )
    if match.source in (MatchSource.PROPOSAL, MatchSource.MANUAL):  # partner systems told their people
        for user, other in ((match.mentor, match.mentee), (match.mentee, match.mentor)):
            notify(
                user=user,
                kind=notices.MATCH_STARTED,
                context={
                    "program_name": program.name,
                    "other": other.get_full_name() or other.email,
                    "matches_url": notices.my_matches_url(),
                },
                dedupe_key=f"{notices.MATCH_STARTED}:{match.pk}:{user.pk}",
                related=[match, program],
            )
    for user_id in (match.mentor_id, match.mentee_id):
        journey_flags_refresh(user_id=user_id)
    return match


@transaction.atomic
def match_end(
    *, match: Match, end_reason: str, actor: Any = None, note: str = "", ended_at: datetime | None = None
) -> Match:
    """End an active match with a reason and settle both people's enrollments."""
    if end_reason not in EndReason.values:
        raise ValidationFailed(errors={"end_reason": f"Use one of: {', '.join(EndReason.values)}."})
    match = Match.objects.select_for_update().select_related("mentor", "mentee").get(pk=match.pk)
    if match.status != MatchStatus.ACTIVE:
        raise Conflict(f"Only an active match can end; this one is {match.status}.")
    now = clock.now()
    ended_at = ended_at or now
    if ended_at > now or ended_at < match.started_at:
        raise ValidationFailed(errors={"ended_at": "A match ends between its start and now."})
    apply_transition(
        match,
        table=MATCH_TRANSITIONS,
        to=MatchStatus.ENDED,
        actor=actor,
        action="match.ended",
        reason=note or end_reason,
        extra={"ended_at": ended_at, "end_reason": end_reason, "reason": note},
    )
    emit(
        event_type="mentorship.match.ended",
        subject=("match", match.pk),
        payload=match_ended_payload(match),
        actor=actor,
        occurred_at=ended_at,
    )
    program = Program.objects.select_related("template").get(pk=match.program_id)
    settle_enrollment(user_id=match.mentor_id, program=program, kind=ProfileKind.MENTOR, actor=actor)
    settle_enrollment(user_id=match.mentee_id, program=program, kind=ProfileKind.MENTEE, actor=actor)
    if match.source in (MatchSource.PROPOSAL, MatchSource.MANUAL):
        for user in (match.mentor, match.mentee):
            notify(
                user=user,
                kind=notices.MATCH_ENDED,
                context={
                    "program_name": program.name,
                    "end_reason": match.get_end_reason_display(),
                    "matches_url": notices.my_matches_url(),
                },
                dedupe_key=f"{notices.MATCH_ENDED}:{match.pk}:{user.pk}",
                related=[match, program],
            )
    for user_id in (match.mentor_id, match.mentee_id):
        journey_flags_refresh(user_id=user_id)
    return match

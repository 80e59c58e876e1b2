"""Progress of a match: check-ins, feedback, milestones and activities (events attended, partner
sessions held). Each keeps the people's journey flags current."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from core import clock
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from enrollments.services import journey_flags_refresh
from mentorship.enums import ActivityKind, MatchStatus, RecordSource
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone
from programs.models import Program


def _rating(value: Any, name: str, errors: dict[str, str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        errors[name] = "A whole number from 1 to 5."


def _text(value: Any, name: str, limit: int, errors: dict[str, str]) -> None:
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        errors[name] = f"A text of at most {limit:,} characters."


def _when(at: datetime | None, errors: dict[str, str], name: str = "at") -> datetime:
    now = clock.now()
    if at is None:
        return now
    if at.tzinfo is None:
        errors[name] = "Give the time with its UTC offset."
    elif at > now:
        errors[name] = "It cannot be in the future."
    return at


def _side(match: Match, user: Any) -> str:
    if user.pk == match.mentor_id:
        return "mentor"
    if user.pk == match.mentee_id:
        return "mentee"
    raise NotFound("No such match of yours.")


@transaction.atomic
def checkin_log(
    *,
    match: Match,
    by: Any,
    mood: Any,
    notes: str = "",
    at: datetime | None = None,
    source: str = RecordSource.PLATFORM,
    external_id: str = "",
    actor: Any = None,
) -> CheckIn:
    """One of the pair logs how things go (mood 1-5). On the platform a check-in needs an active
    match; partner imports may bring check-ins of ended matches."""
    _side(match, by)
    errors: dict[str, str] = {}
    _rating(mood, "mood", errors)
    _text(notes, "notes", 5000, errors)
    at = _when(at, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    if source == RecordSource.PLATFORM and match.status != MatchStatus.ACTIVE:
        raise Conflict(f"Check-ins are logged on active matches; this one is {match.status}.")
    checkin = CheckIn.objects.create(
        match=match, by=by, mood=mood, notes=notes, at=at, source=source, external_id=external_id
    )
    audit_record(actor=actor or by, action="match.checkin_logged", target=match, changes={"mood": mood})
    journey_flags_refresh(user_id=match.mentor_id)
    journey_flags_refresh(user_id=match.mentee_id)
    return checkin


@transaction.atomic
def feedback_give(
    *,
    match: Match,
    author: Any,
    rating: Any,
    comment: str = "",
    at: datetime | None = None,
    source: str = RecordSource.PLATFORM,
    external_id: str = "",
) -> tuple[Feedback, bool]:
    """Rate a match (1-5) once it has started; giving it again updates it. Answers (row, created)."""
    _side(match, author)
    errors: dict[str, str] = {}
    _rating(rating, "rating", errors)
    _text(comment, "comment", 5000, errors)
    at = _when(at, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    if match.status not in (MatchStatus.ACTIVE, MatchStatus.ENDED):
        raise Conflict(f"Feedback is given on active or ended matches; this one is {match.status}.")
    feedback = Feedback.objects.select_for_update().filter(match=match, author=author).first()
    created = feedback is None
    if created:
        try:
            with transaction.atomic():
                feedback = Feedback.objects.create(
                    match=match,
                    author=author,
                    rating=rating,
                    comment=comment,
                    at=at,
                    source=source,
                    external_id=external_id,
                )
        except IntegrityError:
            feedback = Feedback.objects.select_for_update().get(match=match, author=author)
            created = False
    if not created:
        feedback.rating, feedback.comment, feedback.at = rating, comment, at
        feedback.save(update_fields=["rating", "comment", "at", "updated_at"])
    audit_record(actor=author, action="match.feedback_given", target=match, changes={"rating": rating})
    journey_flags_refresh(user_id=author.pk)
    return feedback, created


@transaction.atomic
def milestone_reach(
    *,
    user: Any,
    program: Program,
    key: str,
    title: str = "",
    at: datetime | None = None,
    source: str = RecordSource.PLATFORM,
    external_id: str = "",
    actor: Any = None,
) -> tuple[Milestone, bool]:
    """Record that a person reached a milestone in a program (once per key). Answers (row, created)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_slug

    errors: dict[str, str] = {}
    try:
        validate_slug(key)
        if len(key) > 80:
            raise ValidationError("long")
    except ValidationError:
        errors["key"] = "A short key of letters, digits, '-' and '_' (at most 80)."
    _text(title, "title", 200, errors)
    at = _when(at, errors, "reached_at")
    if errors:
        raise ValidationFailed(errors=errors)
    existing = Milestone.objects.filter(user=user, program=program, key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            milestone = Milestone.objects.create(
                user=user,
                program=program,
                key=key,
                title=title,
                reached_at=at,
                source=source,
                external_id=external_id,
            )
    except IntegrityError:
        return Milestone.objects.get(user=user, program=program, key=key), False
    audit_record(actor=actor, action="milestone.reached", target=milestone, changes={"key": key})
    journey_flags_refresh(user_id=user.pk)
    return milestone, True


@transaction.atomic
def activity_record(
    *,
    program: Program,
    user: Any,
    kind: str,
    occurred_at: datetime,
    title: str = "",
    duration_minutes: int = 0,
    match: Match | None = None,
    source: str = RecordSource.PLATFORM,
    external_id: str = "",
) -> tuple[Activity, bool]:
    """Record an event attended or a partner session held (idempotent per source, external id
    and person). Answers (row, created)."""
    if kind not in ActivityKind.values:
        raise ValidationFailed(errors={"kind": f"Use one of: {', '.join(ActivityKind.values)}."})
    if external_id:
        existing = Activity.objects.filter(source=source, external_id=external_id, user=user).first()
        if existing is not None:
            return existing, False
    activity = Activity.objects.create(
        program=program,
        user=user,
        kind=kind,
        occurred_at=occurred_at,
        title=title[:200],
        duration_minutes=duration_minutes,
        match=match,
        source=source,
        external_id=external_id,
    )
    journey_flags_refresh(user_id=user.pk)
    return activity, True

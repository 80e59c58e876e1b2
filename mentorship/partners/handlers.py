"""Inbound partner events (incremental sync), one handler per event type, registered with
`crm_sync.hooks` from `MentorshipConfig.ready()`.

Each handler checks the payload with the same record parser as the batch import, takes the partner
lock, writes through the mentorship, enrollment and account services (record by record: audit
rows, outbox events, journey flags), then settles the people it touched (`settle`). A handler that
cannot resolve a person or a match raises, so the event ends `failed` and is retried later
(`crm_sync.services.inbound_process`): an event may arrive before the one that introduces its
people. Handlers are idempotent: a record is found again by its `(source, external_id)` and an
event delivered twice changes nothing. Nobody is notified: partner systems tell their people."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from accounts.models import ExternalIdentity
from accounts.services import external_identity_link, user_create_or_update, user_update
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from crm_sync import hooks
from enrollments.enums import SourceSystem
from enrollments.models import Enrollment
from enrollments.services import enrollment_create, journey_flags_refresh
from mentorship.enums import LIVE_MATCH_STATUSES, ActivityKind, MatchSource, MatchStatus, ProfileKind, RecordSource
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone
from mentorship.partners.common import (
    JOINED_REASON,
    PARTNER_NAMES,
    actor_for,
    other_kind,
    partner_lock,
    resolve_program,
)
from mentorship.partners.records import (
    CHECKINS,
    EVENTS,
    FEEDBACK,
    KINTELL,
    MATCHES,
    MILESTONES,
    PROVIDER,
    USERS,
    Kind,
    parse_match_end,
    parse_row,
    parse_session,
    reason_of,
)
from mentorship.partners.settle import settle
from mentorship.services import activity_record, checkin_log, feedback_give, match_end, milestone_reach, profile_upsert
from mentorship.services.common import side_roles
from mentorship.services.lifecycle import activate
from programs.enums import ProgramStatus
from programs.models import Program

User = get_user_model()

ACTOR = actor_for(PROVIDER)
KINTELL_ACTOR = actor_for(KINTELL)


def _payload(envelope: dict[str, Any]) -> dict[str, Any]:
    payload = envelope.get("payload")
    return payload if isinstance(payload, dict) else {}


def _checked(kind: Kind, values: dict[str, Any], **extra: Any) -> Any:
    record, errors = parse_row(kind, values, **extra)
    if errors:
        raise ValidationFailed(f"The {kind.label} cannot be applied: {reason_of(errors)}", errors=errors)
    return record


def _program_key(payload: dict[str, Any]) -> str | None:
    key = payload.get("program_key")
    return key.strip() if isinstance(key, str) and key.strip() else None


def _person(external_id: str, field_name: str, provider: str = PROVIDER) -> Any:
    identity = (
        ExternalIdentity.objects.select_related("user").filter(provider=provider, external_id=external_id).first()
    )
    if identity is None:
        partner = PARTNER_NAMES.get(provider, provider)
        raise NotFound(f"{field_name} {external_id}: no {partner} user with this id yet (retried later).")
    return identity.user


def _match(match_id: str) -> Match:
    match = (
        Match.objects.select_for_update()
        .select_related("mentor", "mentee")
        .filter(source=MatchSource.BUDDY, external_id=match_id)
        .first()
    )
    if match is None:
        raise NotFound(f"match_id {match_id}: no Buddy match with this id yet (retried later).")
    return match


def _program_of(match: Match) -> Program:
    return Program.objects.select_related("template").get(pk=match.program_id)


def _in_pair(match: Match, user: Any, field_name: str, external_id: str) -> None:
    if user.pk not in (match.mentor_id, match.mentee_id):
        message = f"{field_name} {external_id} is not one of the pair of match {match.external_id}."
        raise ValidationFailed(message, errors={field_name: message})


def _correct(row: Any, values: dict[str, Any], *, action: str, actor: str = ACTOR) -> bool:
    """A partner corrected a record it sent before: save the fields that differ, audited."""
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    if not changed:
        return False
    before = {name: getattr(row, name) for name in changed}
    for name, value in changed.items():
        setattr(row, name, value)
    row.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        target=row,
        changes={name: [str(before[name]), str(value)] for name, value in changed.items()},
        actor_label=actor,
    )
    return True


# --- buddy.user.joined --------------------------------------------------------------------------


def user_joined(envelope: dict[str, Any]) -> None:
    payload = _payload(envelope)
    rec = _checked(USERS, payload, program_key=_program_key(payload))
    partner_lock(PROVIDER)
    program = resolve_program(rec.program_key)
    identity = (
        ExternalIdentity.objects.select_related("user").filter(provider=PROVIDER, external_id=rec.external_id).first()
    )
    user = identity.user if identity else User.objects.filter(email=rec.email).first()
    roles = side_roles(program)
    role, other = roles[rec.kind], roles[other_kind(rec.kind)]
    if (
        user is not None
        and Enrollment.objects.filter(user=user, program=program, role=other, source_system=SourceSystem.BUDDY).exists()
    ):
        raise Conflict(f"{rec.external_id} joined {program.program_key} as {other}; a change of role is not imported.")
    if identity is not None:
        changes = {}
        if rec.name and user.full_name != rec.name:
            changes["full_name"] = rec.name
        if rec.timezone and user.timezone != rec.timezone:
            changes["timezone"] = rec.timezone
        if changes:
            user = user_update(user=user, data=changes, actor=ACTOR)
    else:
        user, _ = user_create_or_update(
            email=rec.email, full_name=rec.name or None, timezone=rec.timezone or None, actor=ACTOR
        )
        external_identity_link(user=user, provider=PROVIDER, external_id=rec.external_id, actor=ACTOR)
    data: dict[str, Any] = {}
    if rec.languages is not None:
        data["languages"] = list(rec.languages)
    if rec.timezone:
        data["timezone"] = rec.timezone
    profile_upsert(program=program, user=user, kind=rec.kind, data=data, actor=ACTOR)
    if not Enrollment.objects.filter(user=user, program=program, role=role).exists():
        enrollment_create(
            user=user,
            program=program,
            role=role,
            source_system=SourceSystem.BUDDY,
            enrolled_at=rec.joined_at,
            reason=JOINED_REASON.format(partner=PARTNER_NAMES[PROVIDER]),
            actor=ACTOR,
            confirm=False,
        )
    settle(program=program, user_ids=[user.pk], bulk=False, actor=ACTOR)


# --- buddy.match.created / buddy.match.ended ----------------------------------------------------


def match_created(envelope: dict[str, Any]) -> None:
    """v2 (v1 named the partner's internal ids, which link to nobody, and is past its cutover)."""
    if envelope.get("schema_version") == 1:
        raise ValidationFailed(
            "buddy.match.created v1 names Buddy's internal ids, which link to nobody; send v2.",
            errors={"schema_version": "Send version 2 (participant_external_id, buddy_external_id)."},
        )
    payload = _payload(envelope)
    values = {name: payload.get(name) for name in ("match_id", "participant_external_id", "buddy_external_id")}
    values.update(matched_at=payload.get("matched_at"), status=MatchStatus.ACTIVE)
    rec = _checked(MATCHES, values, program_key=_program_key(payload))
    partner_lock(PROVIDER)
    participant = _person(rec.participant_external_id, "participant_external_id")
    buddy = _person(rec.buddy_external_id, "buddy_external_id")
    match = Match.objects.select_for_update().filter(source=MatchSource.BUDDY, external_id=rec.match_id).first()
    if match is not None:  # delivered again, or imported by a batch before
        if (match.mentor_id, match.mentee_id) != (buddy.pk, participant.pk):
            raise Conflict(
                f"match_id {rec.match_id} pairs other people on the platform; a match's people do not change."
            )
        program = _program_of(match)
        if rec.program_key and rec.program_key != program.program_key:
            raise Conflict(f"match_id {rec.match_id} belongs to another program ({program.program_key}).")
        _correct(match, {"started_at": rec.matched_at}, action="match.import_corrected")
        settle(program=program, user_ids=[buddy.pk, participant.pk], bulk=False, actor=ACTOR)
        return
    program = resolve_program(rec.program_key)
    roles = side_roles(program)
    for user, kind, field_name, external_id in (
        (participant, ProfileKind.MENTEE, "participant_external_id", rec.participant_external_id),
        (buddy, ProfileKind.MENTOR, "buddy_external_id", rec.buddy_external_id),
    ):
        if not Enrollment.objects.filter(user=user, program=program, role=roles[kind]).exists():
            raise NotFound(f"{field_name} {external_id} is not a {roles[kind]} of {program.program_key} (yet).")
    live = Match.objects.filter(program=program, mentor=buddy, mentee=participant, status__in=LIVE_MATCH_STATUSES)
    if live.exists():
        raise Conflict(
            f"{rec.participant_external_id} and {rec.buddy_external_id} already have a "
            f"{live.first().status} match in {program.program_key}."
        )
    match = Match.objects.create(
        program=program,
        mentor=buddy,
        mentee=participant,
        status=MatchStatus.ACTIVE,
        source=MatchSource.BUDDY,
        external_id=rec.match_id,
        started_at=rec.matched_at,
    )
    audit_record(
        actor=ACTOR,
        action="match.imported",
        target=match,
        changes={"source": MatchSource.BUDDY, "external_id": rec.match_id, "started_at": rec.matched_at.isoformat()},
    )
    activate(match, actor=ACTOR, at=rec.matched_at, action="match.imported")
    settle(program=program, user_ids=[buddy.pk, participant.pk], bulk=False, actor=ACTOR)


def match_ended(envelope: dict[str, Any]) -> None:
    rec, errors = parse_match_end(_payload(envelope))
    if errors:
        raise ValidationFailed(f"The match end cannot be applied: {reason_of(errors)}", errors=errors)
    partner_lock(PROVIDER)
    match = _match(rec.match_id)
    if match.status == MatchStatus.ACTIVE:
        if rec.ended_at < match.started_at:
            message = "ended_at: A match ends after it started (matched_at)."
            raise ValidationFailed(message, errors={"ended_at": message})
        match_end(match=match, end_reason=rec.end_reason, actor=ACTOR, ended_at=rec.ended_at)
    elif match.status == MatchStatus.ENDED:
        _correct(match, {"ended_at": rec.ended_at, "end_reason": rec.end_reason}, action="match.import_corrected")
    else:
        raise Conflict(f"match_id {rec.match_id} is {match.status}; only a started match ends.")
    settle(program=_program_of(match), user_ids=[match.mentor_id, match.mentee_id], bulk=False, actor=ACTOR)


# --- Events attended, check-ins, feedback, milestones -------------------------------------------


def event_attended(envelope: dict[str, Any]) -> None:
    payload = _payload(envelope)
    rec = _checked(EVENTS, payload, program_key=_program_key(payload))
    partner_lock(PROVIDER)
    user = _person(rec.user_external_id, "user_external_id")
    program = resolve_program(rec.program_key)
    row = Activity.objects.filter(source=RecordSource.BUDDY, external_id=rec.event_id, user=user).first()
    if row is not None:
        if (row.program_id, row.kind) != (program.pk, ActivityKind.EVENT):
            raise Conflict(f"event_id {rec.event_id} is recorded for this person in another program.")
        values = {"title": rec.title, "occurred_at": rec.attended_at, "duration_minutes": rec.duration_minutes}
        _correct(row, values, action="activity.import_corrected")
    else:
        activity_record(
            program=program,
            user=user,
            kind=ActivityKind.EVENT,
            occurred_at=rec.attended_at,
            title=rec.title,
            duration_minutes=rec.duration_minutes,
            source=RecordSource.BUDDY,
            external_id=rec.event_id,
        )
    settle(program=program, user_ids=[user.pk], bulk=False, actor=ACTOR)


def checkin_completed(envelope: dict[str, Any]) -> None:
    rec = _checked(CHECKINS, _payload(envelope))
    partner_lock(PROVIDER)
    match = _match(rec.match_id)
    by = _person(rec.by_external_id, "by_external_id")
    _in_pair(match, by, "by_external_id", rec.by_external_id)
    row = CheckIn.objects.filter(source=RecordSource.BUDDY, external_id=rec.checkin_id).first()
    if row is not None:
        if (row.match_id, row.by_id) != (match.pk, by.pk):
            raise Conflict(f"checkin_id {rec.checkin_id} belongs to another match or person; they do not change.")
        _correct(row, {"mood": rec.mood, "notes": rec.notes, "at": rec.at}, action="checkin.import_corrected")
    else:
        checkin_log(
            match=match,
            by=by,
            mood=rec.mood,
            notes=rec.notes,
            at=rec.at,
            source=RecordSource.BUDDY,
            external_id=rec.checkin_id,
            actor=ACTOR,
        )
    settle(program=_program_of(match), user_ids=[match.mentor_id, match.mentee_id], bulk=False, actor=ACTOR)


def feedback_submitted(envelope: dict[str, Any]) -> None:
    rec = _checked(FEEDBACK, _payload(envelope))
    partner_lock(PROVIDER)
    match = _match(rec.match_id)
    author = _person(rec.author_external_id, "author_external_id")
    _in_pair(match, author, "author_external_id", rec.author_external_id)
    row = Feedback.objects.filter(source=RecordSource.BUDDY, external_id=rec.feedback_id).first()
    if row is not None:
        if (row.match_id, row.author_id) != (match.pk, author.pk):
            raise Conflict(f"feedback_id {rec.feedback_id} belongs to another match or person; they do not change.")
        values = {"rating": rec.rating, "comment": rec.comment, "at": rec.submitted_at}
        _correct(row, values, action="feedback.import_corrected")
    else:  # a new one, or the person's earlier feedback on this match, updated
        feedback_give(
            match=match,
            author=author,
            rating=rec.rating,
            comment=rec.comment,
            at=rec.submitted_at,
            source=RecordSource.BUDDY,
            external_id=rec.feedback_id,
        )
    settle(program=_program_of(match), user_ids=[author.pk], bulk=False, actor=ACTOR)


def milestone_reached(envelope: dict[str, Any]) -> None:
    payload = _payload(envelope)
    rec = _checked(MILESTONES, payload, program_key=_program_key(payload))
    partner_lock(PROVIDER)
    user = _person(rec.user_external_id, "user_external_id")
    program = resolve_program(rec.program_key)
    row = Milestone.objects.filter(source=RecordSource.BUDDY, external_id=rec.milestone_id).first()
    if row is not None:
        if (row.user_id, row.program_id, row.key) != (user.pk, program.pk, rec.key):
            raise Conflict(
                f"milestone_id {rec.milestone_id} is another person's, program's or key's; they do not change."
            )
        _correct(row, {"title": rec.title, "reached_at": rec.reached_at}, action="milestone.import_corrected")
    else:  # reached before under another id: milestone_reach keeps the first
        milestone_reach(
            user=user,
            program=program,
            key=rec.key,
            title=rec.title,
            at=rec.reached_at,
            source=RecordSource.BUDDY,
            external_id=rec.milestone_id,
            actor=ACTOR,
        )
    settle(program=program, user_ids=[user.pk], bulk=False, actor=ACTOR)


# --- kintell.session.completed ------------------------------------------------------------------


def _kintell_program(session_type: str, volunteer: Any, participant: Any) -> tuple[Program, Match | None]:
    """The active program of the session's category the pair belongs to: the one with their
    active match, else the one both are enrolled in, else the only one."""
    candidates = list(
        Program.objects.select_related("template").filter(program_type=session_type, status=ProgramStatus.ACTIVE)
    )
    if not candidates:
        raise NotFound(f"No active {session_type} program for Kintell {session_type} sessions.")
    match = (
        Match.objects.filter(program__in=candidates, mentor=volunteer, mentee=participant, status=MatchStatus.ACTIVE)
        .order_by("-started_at")
        .first()
    )
    if match is not None:
        return next(p for p in candidates if p.pk == match.program_id), match
    if len(candidates) == 1:
        return candidates[0], None
    both = set(
        Enrollment.objects.filter(program__in=candidates, user=volunteer).values_list("program_id", flat=True)
    ) & set(Enrollment.objects.filter(program__in=candidates, user=participant).values_list("program_id", flat=True))
    if len(both) == 1:
        return next(p for p in candidates if p.pk in both), None
    keys = ", ".join(sorted(p.program_key for p in candidates))
    raise Conflict(f"Several active {session_type} programs ({keys}) and the pair is not in exactly one of them.")


def kintell_session_completed(envelope: dict[str, Any]) -> None:
    rec, errors = parse_session(_payload(envelope))
    if errors:
        raise ValidationFailed(f"The session cannot be applied: {reason_of(errors)}", errors=errors)
    partner_lock(KINTELL)
    volunteer = _person(rec.volunteer_external_id, "volunteer_external_id", KINTELL)
    participant = _person(rec.participant_external_id, "participant_external_id", KINTELL)
    program, match = _kintell_program(rec.session_type, volunteer, participant)
    title = f"Kintell {rec.session_type} session"
    for user in (volunteer, participant):
        row = Activity.objects.filter(source=RecordSource.KINTELL, external_id=rec.session_id, user=user).first()
        if row is not None:
            values = {"occurred_at": rec.completed_at, "duration_minutes": rec.duration_minutes}
            if _correct(row, values, action="activity.import_corrected", actor=KINTELL_ACTOR):
                journey_flags_refresh(user_id=user.pk)
            continue
        activity_record(
            program=program,
            user=user,
            kind=ActivityKind.SESSION,
            occurred_at=rec.completed_at,
            title=title,
            duration_minutes=rec.duration_minutes,
            match=match,
            source=RecordSource.KINTELL,
            external_id=rec.session_id,
        )


HANDLERS = {
    "buddy.user.joined": user_joined,
    "buddy.match.created": match_created,
    "buddy.match.ended": match_ended,
    "buddy.event.attended": event_attended,
    "buddy.checkin.completed": checkin_completed,
    "buddy.feedback.submitted": feedback_submitted,
    "buddy.milestone.reached": milestone_reached,
    "kintell.session.completed": kintell_session_completed,
}


def register() -> None:
    for event_type, handler in HANDLERS.items():
        hooks.register_handler(event_type, handler)

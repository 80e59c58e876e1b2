"""Proposals and approvals: run the optimal matcher over a program's profiles, then let people
decide. Nothing becomes a match until an operator approves it (or, where the program's config
allows, the mentor and/or mentee accept it themselves, which is also a person's decision).

Locks: proposing locks the program row, so two runs for one program never interleave; approving
locks the mentor's and mentee's profile rows (in id order), so a mentor's capacity holds however
many approvals race."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q

from core import clock
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.transitions import apply_transition
from mentorship import engine, notices
from mentorship.enums import BAD_END_REASONS, LIVE_MATCH_STATUSES, MatchSource, MatchStatus, ProfileKind, SelfAccept
from mentorship.models import Match, Profile, ProposalBatch
from mentorship.services.common import matching_config, max_capacity, require_matching, self_accept
from mentorship.services.lifecycle import MATCH_TRANSITIONS, activate
from notifications.services import notify
from programs.enums import ProgramStatus
from programs.models import Program

SLOT_MINUTES = 30
WEEK_SLOTS = 7 * 24 * 60 // SLOT_MINUTES


# --- Inputs of the engine -----------------------------------------------------------------------


def reference_week(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return start, start + timedelta(days=7)


def availability_bits(program: Program, user_ids: list[Any], now: datetime) -> dict[Any, int]:
    """Each person's free half-hours in the coming week as a bitset (bit i = slot i), from their
    availability windows (the scheduling app's); people without windows are left out."""
    from scheduling.services.availability import expand, windows_meeting

    start, end = reference_week(now)
    bits: dict[Any, int] = {}
    for owner, intervals in expand(windows_meeting(user_ids, program, start, end), start, end).items():
        value = 0
        for begin, finish in intervals:
            first = -(-int((begin - start).total_seconds()) // (SLOT_MINUTES * 60))  # ceil: whole slots only
            last = int((finish - start).total_seconds()) // (SLOT_MINUTES * 60)
            for slot in range(max(first, 0), min(last, WEEK_SLOTS)):
                value |= 1 << slot
        if value:
            bits[owner] = value
    return bits


def _person(profile: Profile, capacity: int, bits: dict[Any, int]) -> engine.Person:
    user = profile.user
    return engine.Person(
        user_id=profile.user_id,
        label=user.get_full_name() or user.email,
        languages=profile.languages,
        skills=profile.skills,
        goals=profile.goals,
        industries=profile.industries,
        timezone=profile.timezone,
        capacity=capacity,
        avoid=[str(u) for u in profile.avoid_user_ids],
        availability=bits.get(profile.user_id, 0),
    )


def active_counts(program: Program, side: str) -> dict[Any, int]:
    field = "mentor_id" if side == ProfileKind.MENTOR else "mentee_id"
    rows = (
        Match.objects.filter(program=program, status=MatchStatus.ACTIVE)
        .values(field)
        .annotate(n=Count("id"))
        .values_list(field, "n")
    )
    return dict(rows)


def blocked_pairs(program: Program) -> set[tuple[Any, Any]]:
    """(mentee, mentor) pairs never proposed: live, rejected, or ended badly."""
    rows = Match.objects.filter(program=program).filter(
        Q(status__in=[*LIVE_MATCH_STATUSES, MatchStatus.REJECTED])
        | Q(status=MatchStatus.ENDED, end_reason__in=BAD_END_REASONS)
    )
    return {(str(mentee), str(mentor)) for mentee, mentor in rows.values_list("mentee_id", "mentor_id")}


def pool(program: Program, now: datetime) -> tuple[list[engine.Person], list[engine.Person], list[dict]]:
    """Mentees who need a match and mentors with free places, as engine people (ids as text),
    plus the mentees left out before matching with the reason."""
    limit = max_capacity(program)
    profiles = list(Profile.objects.filter(program=program, active=True).select_related("user"))
    user_ids = [p.user_id for p in profiles]
    bits = (
        availability_bits(program, user_ids, now)
        if matching_config(program).get("weights", {}).get("availability")
        else {}
    )
    mentor_load = active_counts(program, ProfileKind.MENTOR)
    mentee_load = active_counts(program, ProfileKind.MENTEE)
    mentors, mentees, skipped = [], [], []
    for profile in profiles:
        if not profile.user.is_active:
            continue
        if profile.kind == ProfileKind.MENTOR:
            free = min(profile.capacity, limit) - mentor_load.get(profile.user_id, 0)
            person = _person(profile, max(free, 0), bits)
            mentors.append(person)
        elif mentee_load.get(profile.user_id, 0):
            skipped.append(
                {
                    "mentee_id": str(profile.user_id),
                    "code": "already_matched",
                    "reason": "They already have an active match in this program.",
                }
            )
        else:
            mentees.append(_person(profile, 1, bits))
    for person in (*mentors, *mentees):
        person.user_id = str(person.user_id)
    return mentees, mentors, skipped


# --- Propose ------------------------------------------------------------------------------------


def _check_active(program: Program) -> None:
    if program.status != ProgramStatus.ACTIVE:
        raise Conflict(f"'{program.name}' is {program.status}; matches are made in active programs only.")


def _lock_program(program: Program) -> Program:
    """Serialise proposal runs of one program. FOR NO KEY UPDATE of the program row alone: rows
    that only refer to the program (an approval's new enrollment) are not held up by a run, so
    a run waiting for an approval's match row cannot deadlock with it."""
    return Program.objects.select_for_update(of=("self",), no_key=True).select_related("template").get(pk=program.pk)


@transaction.atomic
def matches_propose(*, program: Program, actor: Any = None) -> ProposalBatch:
    """Run the optimal matcher and record its proposals (matches in status `proposed`). Open
    proposals of earlier runs are withdrawn first, so their mentors' places count again."""
    require_matching(program)
    program = _lock_program(program)
    _check_active(program)
    config = matching_config(program)
    if not config.get("enabled", True):
        raise Conflict(f"Matching is turned off in '{program.name}' (config matching.enabled).")
    now = clock.now()
    # The status is re-checked row by row: a proposal approved while this waited for its row
    # lock is active now and stays so.
    withdrawn = Match.objects.filter(program=program, status=MatchStatus.PROPOSED).update(
        status=MatchStatus.WITHDRAWN, reason="Replaced by a newer run.", updated_at=now
    )
    if withdrawn:
        audit_record(
            actor=actor,
            action="match.proposals_withdrawn",
            target=program,
            changes={"withdrawn": withdrawn},
            reason="A new proposal run replaces them.",
        )
    settings = engine.Settings.from_config(config)
    mentees, mentors, skipped = pool(program, now)
    result = engine.match(mentees, mentors, settings, at=now, blocked=blocked_pairs(program))
    batch = ProposalBatch.objects.create(
        program=program,
        created_by=actor if getattr(actor, "pk", None) and hasattr(actor, "is_staff") else None,
        settings={
            **settings.as_dict(),
            "mentees": len(mentees),
            "mentors": len(mentors),
            "eligible_pairs": result.eligible_pairs,
        },
        total_score=result.total_score,
        greedy_score=result.greedy_score,
        solve_ms=int(result.solve_seconds * 1000),
        unmatched=[*skipped, *result.unmatched],
    )
    Match.objects.bulk_create(
        [
            Match(
                program=program,
                mentor_id=p.mentor_id,
                mentee_id=p.mentee_id,
                status=MatchStatus.PROPOSED,
                source=MatchSource.PROPOSAL,
                batch=batch,
                score=p.score,
                explanation=p.explanation,
            )
            for p in result.proposals
        ]
    )
    audit_record(
        actor=actor,
        action="match.proposed",
        target=batch,
        changes={
            "proposals": len(result.proposals),
            "unmatched": len(batch.unmatched),
            "total_score": result.total_score,
            "greedy_score": result.greedy_score,
        },
    )
    who = self_accept(program)
    if who != SelfAccept.NONE and result.proposals:
        _ask_people(program, batch, who)
    return batch


def _ask_people(program: Program, batch: ProposalBatch, who: str) -> None:
    users = get_user_model().objects.in_bulk(
        {m.mentor_id for m in batch.matches.all()} | {m.mentee_id for m in batch.matches.all()}
    )
    for match in batch.matches.all():
        sides = []
        if who in (SelfAccept.MENTOR, SelfAccept.BOTH):
            sides.append((match.mentor_id, match.mentee_id))
        if who in (SelfAccept.MENTEE, SelfAccept.BOTH):
            sides.append((match.mentee_id, match.mentor_id))
        for user_id, other_id in sides:
            other = users[other_id]
            notify(
                user=users[user_id],
                kind=notices.MATCH_PROPOSED,
                context={
                    "program_name": program.name,
                    "other": other.get_full_name() or other.email,
                    "matches_url": notices.my_matches_url(),
                },
                dedupe_key=f"{notices.MATCH_PROPOSED}:{match.pk}:{user_id}",
                related=[match, program],
            )


# --- Approve, reject, accept --------------------------------------------------------------------


def _lock_profiles(program: Program, user_ids: list[Any]) -> dict[tuple[Any, str], Profile]:
    rows = Profile.objects.select_for_update().filter(program=program, user_id__in=user_ids).order_by("pk")
    return {(str(p.user_id), p.kind): p for p in rows}


def _approval_error(
    match: Match, profiles: dict, program: Program, taken: dict[str, int], busy: set[str]
) -> str | None:
    if match.status != MatchStatus.PROPOSED:
        return f"It is {match.status}, not proposed."
    mentor = profiles.get((str(match.mentor_id), ProfileKind.MENTOR))
    capacity = min(mentor.capacity, max_capacity(program)) if mentor is not None else 1
    if taken.get(str(match.mentor_id), 0) >= capacity:
        return f"{match.mentor} has no free place (capacity {capacity})."
    if str(match.mentee_id) in busy:
        return f"{match.mentee} already has an active match in this program."
    return None


def _approve_locked(program: Program, matches: list[Match], actor: Any, reason: str, action: str) -> list[Match]:
    """Approve under profile locks; all or nothing: any that cannot be approved fail the call."""
    people = sorted({str(m.mentor_id) for m in matches} | {str(m.mentee_id) for m in matches})
    profiles = _lock_profiles(program, people)
    # Re-read after the locks: a racing approval committed before we got them is now visible.
    matches = list(
        Match.objects.select_for_update(of=("self",))  # the match rows only, not the people's user rows
        .select_related("mentor", "mentee")
        .filter(pk__in=[m.pk for m in matches])
        .order_by("created_at", "pk")
    )
    taken = {str(k): v for k, v in active_counts(program, ProfileKind.MENTOR).items()}
    busy = {str(k) for k in active_counts(program, ProfileKind.MENTEE)}
    errors: dict[str, str] = {}
    for match in matches:
        problem = _approval_error(match, profiles, program, taken, busy)
        if problem:
            errors[str(match.pk)] = problem
            continue
        taken[str(match.mentor_id)] = taken.get(str(match.mentor_id), 0) + 1
        busy.add(str(match.mentee_id))
    if errors:
        raise Conflict(
            f"{len(errors)} of the {len(matches)} proposals cannot be approved; nothing was approved.",
            errors={f"proposal_ids/{k}": v for k, v in errors.items()},
        )
    now = clock.now()
    for match in matches:
        activate(match, actor=actor, at=now, action=action, reason=reason)
    return matches


@transaction.atomic
def matches_approve(*, program: Program, proposal_ids: list[Any], actor: Any = None, reason: str = "") -> list[Match]:
    """Approve proposals of this program: each becomes an active match."""
    _check_active(Program.objects.get(pk=program.pk))
    ids = list(dict.fromkeys(str(i) for i in proposal_ids))
    if not ids:
        raise ValidationFailed(errors={"proposal_ids": "Name at least one proposal."})
    found = list(Match.objects.filter(program=program, pk__in=ids))
    missing = sorted(set(ids) - {str(m.pk) for m in found})
    if missing:
        raise NotFound(f"No proposal in this program with the id {', '.join(missing[:5])}.")
    return _approve_locked(program, found, actor, reason, "match.approved")


@transaction.atomic
def match_reject(*, match: Match, reason: str, actor: Any = None) -> Match:
    """An operator (or a person asked to accept) declines a proposal; the pair is not proposed again."""
    if not (reason or "").strip():
        raise ValidationFailed(errors={"reason": "Say why the proposal is rejected."})
    match = Match.objects.select_for_update().get(pk=match.pk)
    apply_transition(
        match,
        table=MATCH_TRANSITIONS,
        to=MatchStatus.REJECTED,
        actor=actor,
        action="match.rejected",
        reason=reason,
        extra={"reason": reason, "decided_by": actor if getattr(actor, "is_staff", None) is not None else None},
    )
    return match


@transaction.atomic
def matches_reject(*, program: Program, proposal_ids: list[Any], reason: str, actor: Any = None) -> list[Match]:
    """Reject proposals of this program with one reason; all or nothing: any that is not an open
    proposal fails the call with an error per id. The pairs are not proposed again."""
    if not (reason or "").strip():
        raise ValidationFailed(errors={"reason": "Say why the proposals are rejected."})
    ids = list(dict.fromkeys(str(i) for i in proposal_ids))
    if not ids:
        raise ValidationFailed(errors={"proposal_ids": "Name at least one proposal."})
    found = list(
        Match.objects.select_for_update(of=("self",)).filter(program=program, pk__in=ids).order_by("created_at", "pk")
    )
    missing = sorted(set(ids) - {str(m.pk) for m in found})
    if missing:
        raise NotFound(f"No proposal in this program with the id {', '.join(missing[:5])}.")
    errors = {
        f"proposal_ids/{m.pk}": f"It is {m.status}, not proposed." for m in found if m.status != MatchStatus.PROPOSED
    }
    if errors:
        raise Conflict(
            f"{len(errors)} of the {len(found)} proposals cannot be rejected; nothing was rejected.", errors=errors
        )
    return [match_reject(match=match, reason=reason, actor=actor) for match in found]


@transaction.atomic
def match_respond(*, match: Match, user: Any, accept: bool, reason: str = "") -> Match:
    """A mentor or mentee answers a proposal, where the program lets them. Accepting records
    their acceptance and activates the match once everyone needed has accepted; declining
    rejects it."""
    match = Match.objects.select_related("program__template").get(pk=match.pk)
    program = match.program
    who = self_accept(program)
    side = "mentor" if match.mentor_id == user.pk else "mentee" if match.mentee_id == user.pk else None
    if side is None:
        raise NotFound("No such proposal of yours.")
    if who == SelfAccept.NONE or (who in (SelfAccept.MENTOR, SelfAccept.MENTEE) and who != side):
        raise PermissionDenied("In this program an operator approves proposals.")
    # Lock in the order approvals do (the people's profiles, then the match row), so an
    # acceptance and an operator's approval of the same proposal queue instead of deadlocking.
    _lock_profiles(program, sorted({str(match.mentor_id), str(match.mentee_id)}))
    match = Match.objects.select_for_update(of=("self",)).select_related("program__template").get(pk=match.pk)
    if match.status != MatchStatus.PROPOSED:
        raise Conflict(f"This proposal is {match.status}; it can no longer be answered.")
    if not accept:
        return match_reject(match=match, reason=reason or f"Declined by the {side}.", actor=user)
    now = clock.now()
    field = f"{side}_accepted_at"
    setattr(match, field, now)
    match.save(update_fields=[field, "updated_at"])
    audit_record(actor=user, action=f"match.accepted_by_{side}", target=match)
    needed = ["mentor_accepted_at", "mentee_accepted_at"] if who == SelfAccept.BOTH else [field]
    if all(getattr(match, name) for name in needed):
        _approve_locked(
            program, [match], user, f"Accepted by the {'people' if who == SelfAccept.BOTH else side}.", "match.accepted"
        )
        match.refresh_from_db()
    return match


# --- Manual match and swap ----------------------------------------------------------------------


def _pair_explanation(
    program: Program, mentor: Any, mentee: Any, now: datetime
) -> tuple[float | None, dict, list[str]]:
    """Score a pair the engine would score, and list the hard constraints it breaks."""
    profiles = {
        p.kind: p
        for p in Profile.objects.filter(program=program, user__in=[mentor, mentee]).select_related("user")
        if (p.kind, p.user_id) in ((ProfileKind.MENTOR, mentor.pk), (ProfileKind.MENTEE, mentee.pk))
    }
    if len(profiles) < 2:
        return None, {"rule": "Manual match; one of the two has no profile in this program, so it is not scored."}, []
    settings = engine.Settings.from_config(matching_config(program))
    settings.min_score = 0.0
    bits = availability_bits(program, [mentor.pk, mentee.pk], now) if settings.weights.get("availability") else {}
    a = _person(profiles[ProfileKind.MENTEE], 1, bits)
    b = _person(profiles[ProfileKind.MENTOR], 1, bits)
    a.user_id, b.user_id = str(a.user_id), str(b.user_id)
    scored = engine.score_pairs([a], [b], settings, blocked=blocked_pairs(program), at=now)
    broken = [name for name, mask in scored.masks.items() if name not in ("capacity", "min_score") and not mask[0, 0]]
    explanation = engine.explain(0, 0, a, b, scored, settings)
    return round(float(scored.score[0, 0]), 4), explanation, broken


@transaction.atomic
def match_create_manual(
    *, program: Program, mentor: Any, mentee: Any, reason: str, actor: Any = None, proposal: Match | None = None
) -> Match:
    """An operator pairs two people by hand (an override of the proposals): active at once.
    The mentor's capacity still holds; constraints the pair breaks (avoid lists, no shared
    language, a pair that ended badly) are allowed with the reason and recorded."""
    require_matching(program)
    if not (reason or "").strip():
        raise ValidationFailed(errors={"reason": "Say why this pair is made by hand."})
    if mentor.pk == mentee.pk:
        raise ValidationFailed(errors={"mentee_id": "A person cannot be their own mentor."})
    program = Program.objects.select_related("template").get(pk=program.pk)
    _check_active(program)
    profiles = _lock_profiles(program, sorted([str(mentor.pk), str(mentee.pk)]))
    mentor_profile = profiles.get((str(mentor.pk), ProfileKind.MENTOR))
    if mentor_profile is None:
        raise ValidationFailed(errors={"mentor_id": f"{mentor} has no mentor profile in this program."})
    taken = active_counts(program, ProfileKind.MENTOR).get(mentor.pk, 0)
    capacity = min(mentor_profile.capacity, max_capacity(program))
    if taken >= capacity:
        raise Conflict(f"{mentor} has no free place (capacity {capacity}, {taken} active).")
    if (
        Match.objects.filter(program=program, mentor=mentor, mentee=mentee, status__in=LIVE_MATCH_STATUSES)
        .exclude(pk=getattr(proposal, "pk", None))
        .exists()
    ):
        raise Conflict(f"{mentor} and {mentee} are already paired or proposed in this program.")
    now = clock.now()
    score, explanation, broken = _pair_explanation(program, mentor, mentee, now)
    explanation = {**explanation, "manual": True, "overridden": broken, "reason": reason}
    if proposal is not None:  # an operator swaps a proposal for this pair: the proposal is withdrawn
        apply_withdraw(proposal, actor, f"Replaced by a manual match: {reason}")
    match = Match.objects.create(
        program=program,
        mentor=mentor,
        mentee=mentee,
        status=MatchStatus.ACTIVE,
        source=MatchSource.MANUAL,
        score=score,
        explanation=explanation,
        reason=reason,
        decided_by=actor if hasattr(actor, "is_staff") else None,
        started_at=now,
    )
    audit_record(
        actor=actor,
        action="match.created_manually",
        target=match,
        changes={"mentor": str(mentor.pk), "mentee": str(mentee.pk), "score": score, "overridden": broken},
        reason=reason,
    )
    return activate(match, actor=actor, at=now)


def apply_withdraw(match: Match, actor: Any, reason: str) -> None:
    apply_transition(
        match,
        table=MATCH_TRANSITIONS,
        to=MatchStatus.WITHDRAWN,
        actor=actor,
        action="match.withdrawn",
        reason=reason,
        extra={"reason": reason},
    )


@transaction.atomic
def proposals_swap(*, first: Match, second: Match, actor: Any = None, reason: str = "") -> tuple[Match, Match]:
    """Exchange the mentors of two open proposals of one program (an operator's correction); the
    new pairs are scored and explained again, and the swap is audited."""
    rows = list(Match.objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk"))
    if (
        len(rows) != 2
        or any(r.status != MatchStatus.PROPOSED for r in rows)
        or rows[0].program_id != rows[1].program_id
    ):
        raise Conflict("Swap two open proposals of the same program.")
    a, b = (rows[0], rows[1]) if rows[0].pk == first.pk else (rows[1], rows[0])
    if a.mentor_id == b.mentor_id:
        raise Conflict("Both proposals have the same mentor; there is nothing to swap.")
    program = Program.objects.select_related("template").get(pk=a.program_id)
    blocked = blocked_pairs(program) - {(str(a.mentee_id), str(a.mentor_id)), (str(b.mentee_id), str(b.mentor_id))}
    for mentee_id, mentor_id in ((a.mentee_id, b.mentor_id), (b.mentee_id, a.mentor_id)):
        if (str(mentee_id), str(mentor_id)) in blocked:
            raise Conflict(
                "One of the swapped pairs was rejected or ended badly before; make it by hand with a reason."
            )
    now = clock.now()
    a.mentor_id, b.mentor_id = b.mentor_id, a.mentor_id
    users = get_user_model().objects.in_bulk([a.mentor_id, a.mentee_id, b.mentor_id, b.mentee_id])
    for match in (a, b):
        score, explanation, broken = _pair_explanation(program, users[match.mentor_id], users[match.mentee_id], now)
        match.score, match.explanation = score, {**explanation, "swapped": True, "overridden": broken}
    # The two mentees differ, so neither new pair can collide with a live pair of the other row.
    for match in (a, b):
        Match.objects.filter(pk=match.pk).update(
            mentor_id=match.mentor_id, score=match.score, explanation=match.explanation, updated_at=now
        )
    audit_record(
        actor=actor,
        action="match.proposals_swapped",
        target=a,
        changes={"first": str(a.pk), "second": str(b.pk)},
        reason=reason,
    )
    return a, b

"""Write use-cases of registrations: register (or queue on the waiting list), cancel, promote.

Rules:
- people register themselves for scheduled sessions that have not ended; open sessions (live
  events, office hours) take anyone signed in, other sessions only the people invited (active
  members of the session's cohort, those an operator or slot matching added); someone who left
  the cohort is no longer invited; operators may still add people to a scheduled session that
  has ended (so their attendance can be recorded); the host does not register for their own
  session;
- a session's capacity holds under concurrency: the session row is locked, then its registered
  people are counted; a full session puts the person on the waiting list (ordered by the time
  they joined it);
- cancelling a registered place promotes the first waitlisted person, who is notified; once the
  session is over (or cancelled, or delivered) its registrations no longer change;
- registering again after cancelling takes a new place (or a new waitlist position);
- a cohort session registers the cohort's active members when it is scheduled, and members who
  join the cohort later are registered for its upcoming sessions; members who leave are
  cancelled from them. Scheduling a cohort session locks the cohort row (as placing a member
  does), so a member joining at the same moment is registered either way; inactive users are
  skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from core import clock
from core.audit import audit_record
from core.errors import Conflict, NotFound
from scheduling import notices
from scheduling.enums import CohortMemberStatus, RegistrationSource, RegistrationStatus, SessionStatus
from scheduling.models import Cohort, CohortMember, Registration, Session

ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)


def _lock(session_id: Any) -> Session:
    return Session.objects.select_for_update(of=("self",)).select_related("program").get(pk=session_id)


def registered_count(session: Session) -> int:
    return Registration.objects.filter(session_id=session.pk, status=RegistrationStatus.REGISTERED).count()


def _has_room(session: Session) -> bool:
    return session.capacity is None or registered_count(session) < session.capacity


def may_register(session: Session, user: Any) -> bool:
    """Open sessions take anyone signed in; others only people invited: holding a place, added by
    an operator or slot matching (even if they cancelled since), or active members of the
    session's cohort. A cohort place someone lost by leaving the cohort is no invitation."""
    if session.open_registration:
        return True
    invited = Registration.objects.filter(session_id=session.pk, user_id=user.pk).filter(
        Q(status__in=ACTIVE) | ~Q(source=RegistrationSource.COHORT)
    )
    if invited.exists():
        return True
    return bool(
        session.cohort_id
        and CohortMember.objects.filter(
            cohort_id=session.cohort_id, enrollment__user_id=user.pk, status=CohortMemberStatus.ACTIVE
        ).exists()
    )


def _queue_time(session: Session, now: datetime) -> datetime:
    """The waiting-list time of a newcomer at a locked session: now, or just after the last
    person queued if the clock has not moved past them, so the queue order is strict."""
    last = (
        Registration.objects.filter(session_id=session.pk, waitlisted_at__isnull=False)
        .order_by("-waitlisted_at")
        .values_list("waitlisted_at", flat=True)
        .first()
    )
    return max(now, last + timedelta(microseconds=1)) if last is not None else now


def _place(session: Session, registration: Registration | None, user: Any, *, source: str, waitlist: bool, actor: Any):
    """Register (room left) or queue the user at a locked session; returns the row."""
    now = clock.now()
    room = _has_room(session)
    if not room and not waitlist:
        raise Conflict(f"The session '{session.title}' is full ({session.capacity} places).")
    status = RegistrationStatus.REGISTERED if room else RegistrationStatus.WAITLISTED
    fields = {
        "status": status,
        "registered_at": now if room else None,
        "waitlisted_at": None if room else _queue_time(session, now),
        "cancelled_at": None,
    }
    if registration is None:
        registration = Registration.objects.create(session=session, user=user, source=source, **fields)
        action = "registration.created"
    else:
        for name, value in fields.items():
            setattr(registration, name, value)
        registration.source = source
        registration.save(update_fields=[*fields, "source", "updated_at"])
        action = "registration.renewed"
    if actor is None and source == RegistrationSource.SELF:
        actor = registration.user
    audit_record(
        actor=actor,
        action=action,
        target=registration,
        changes={"status": status, "source": source, "session": str(session.pk)},
    )
    return registration


@transaction.atomic
def registration_create(
    *,
    session: Session,
    user: Any,
    actor: Any = None,
    source: str = RegistrationSource.SELF,
    waitlist: bool = True,
) -> Registration:
    """Register `user` for the session, or put them on its waiting list when it is full (unless
    `waitlist` is false: then a full session answers Conflict). Registering twice returns the
    existing place. Self-registration (`source=self`) of a session the user is not invited to
    answers NotFound (they cannot see it); people register themselves only until the session
    ends, while others may add them to a scheduled session that has ended."""
    session = _lock(session.pk)
    if source == RegistrationSource.SELF and not may_register(session, user):
        raise NotFound(f"No session with the id {session.pk} is open to you.")
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(f"The session is {session.status}; it takes no registrations.")
    if source == RegistrationSource.SELF and session.ends_at <= clock.now():
        raise Conflict("The session is over; it takes no registrations.")
    if session.host_id == user.pk:
        raise Conflict("The host runs this session and does not register for it.")
    if not user.is_active:
        raise Conflict(f"{user} is not an active user.")
    existing = Registration.objects.select_for_update().filter(session_id=session.pk, user_id=user.pk).first()
    if existing is not None and existing.status in ACTIVE:
        return existing
    return _place(session, existing, user, source=source, waitlist=waitlist, actor=actor)


def _notify_promoted(registration: Registration) -> None:
    from notifications.services import notify

    session = registration.session
    notify(
        user=registration.user,
        kind=notices.SESSION_PROMOTED,
        context={"session": session},
        dedupe_key=f"{notices.SESSION_PROMOTED}:{registration.pk}:{registration.registered_at.isoformat()}",
        related=[session],
    )


def promote_waitlisted(*, session: Session, actor: Any = None) -> list[Registration]:
    """Promote waitlisted people, first come first served, while the locked session has room."""
    promoted: list[Registration] = []
    if session.status != SessionStatus.SCHEDULED:
        return promoted
    while _has_room(session):
        nxt = (
            Registration.objects.select_for_update()
            .select_related("user", "session")
            .filter(session_id=session.pk, status=RegistrationStatus.WAITLISTED)
            .order_by("waitlisted_at", "id")
            .first()
        )
        if nxt is None:
            break
        nxt.status, nxt.registered_at = RegistrationStatus.REGISTERED, clock.now()
        nxt.save(update_fields=["status", "registered_at", "updated_at"])
        audit_record(
            actor=actor,
            action="registration.promoted",
            target=nxt,
            changes={"status": [RegistrationStatus.WAITLISTED, RegistrationStatus.REGISTERED]},
        )
        _notify_promoted(nxt)
        promoted.append(nxt)
    return promoted


@transaction.atomic
def registration_cancel(*, registration: Registration, actor: Any = None, reason: str = "") -> Registration:
    """Cancel a place (registered or waitlisted). A freed registered place goes to the first
    person on the waiting list. Cancelling a cancelled registration changes nothing; once the
    session is over, cancelled or delivered, its registrations no longer change."""
    session = _lock(registration.session_id)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == RegistrationStatus.CANCELLED:
        return registration
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(f"The session is {session.status}; its registrations no longer change.")
    if session.ends_at <= clock.now():
        raise Conflict("The session is over; its registrations no longer change.")
    previous = registration.status
    registration.status, registration.cancelled_at = RegistrationStatus.CANCELLED, clock.now()
    registration.save(update_fields=["status", "cancelled_at", "updated_at"])
    audit_record(
        actor=actor,
        action="registration.cancelled",
        target=registration,
        changes={"status": [previous, RegistrationStatus.CANCELLED]},
        reason=reason,
    )
    if previous == RegistrationStatus.REGISTERED:
        promote_waitlisted(session=session, actor=actor)
    return registration


# --- Cohorts ------------------------------------------------------------------------------------


def _lock_cohort(cohort_id: Any) -> None:
    Cohort.objects.select_for_update().filter(pk=cohort_id).values_list("pk", flat=True).first()


def register_cohort_members(*, session: Session, actor: Any = None) -> int:
    """Register the active members of the (just scheduled) cohort session's cohort; beyond its
    capacity they are waitlisted. The cohort row is locked first, as a member placement locks
    it, so a member placed concurrently is either seen here or sees this session. Returns how
    many people were registered or waitlisted."""
    _lock_cohort(session.cohort_id)
    users = (
        CohortMember.objects.filter(
            cohort_id=session.cohort_id, status=CohortMemberStatus.ACTIVE, enrollment__user__is_active=True
        )
        .exclude(enrollment__user_id=session.host_id)
        .select_related("enrollment__user")
        .order_by("joined_at", "id")
    )
    count = 0
    for member in users:
        registration_create(session=session, user=member.enrollment.user, actor=actor, source=RegistrationSource.COHORT)
        count += 1
    return count


def cohort_member_joined(*, cohort_id: Any, user: Any, actor: Any = None) -> int:
    """Register a new member of a cohort for its upcoming scheduled sessions (none for an
    inactive user)."""
    count = 0
    if not user.is_active:
        return count
    upcoming = Session.objects.filter(cohort_id=cohort_id, status=SessionStatus.SCHEDULED, starts_at__gt=clock.now())
    for session in upcoming.exclude(host_id=user.pk).order_by("starts_at"):
        registration_create(session=session, user=user, actor=actor, source=RegistrationSource.COHORT)
        count += 1
    return count


def cohort_member_left(*, cohort_id: Any, user: Any, actor: Any = None) -> int:
    """Cancel a leaving member's places at the cohort's upcoming sessions."""
    count = 0
    rows = Registration.objects.filter(
        session__cohort_id=cohort_id,
        session__status=SessionStatus.SCHEDULED,
        session__starts_at__gt=clock.now(),
        user_id=user.pk,
    ).filter(Q(status=RegistrationStatus.REGISTERED) | Q(status=RegistrationStatus.WAITLISTED))
    for registration in rows.order_by("session__starts_at"):
        registration_cancel(registration=registration, actor=actor, reason="left the cohort")
        count += 1
    return count


def notify_rescheduled(*, session: Session, previous: dict[str, str]) -> None:
    """Tell registered and waitlisted people the session's new time (once per schedule)."""
    from notifications.services import notify

    rows = (
        Registration.objects.filter(session_id=session.pk, status__in=ACTIVE)
        .select_related("user")
        .order_by("created_at")
    )
    for registration in rows:
        notify(
            user=registration.user,
            kind=notices.SESSION_RESCHEDULED,
            context={"session": session, "previous": previous},
            dedupe_key=f"{notices.SESSION_RESCHEDULED}:{session.pk}:{registration.user_id}:{session.sequence}",
            related=[session],
        )

"""Write use-cases of registrations: register (or queue on the waiting list), cancel, promote.

Rules:
- people register for scheduled sessions that have not ended; open sessions (live events, office
  hours) take anyone signed in, other sessions only the people invited (cohort members, those an
  operator or slot matching added); the host does not register for their own session;
- a session's capacity holds under concurrency: the session row is locked, then its registered
  people are counted; a full session puts the person on the waiting list (ordered by the time
  they joined it);
- cancelling a registered place promotes the first waitlisted person, who is notified;
- registering again after cancelling takes a new place (or a new waitlist position);
- a cohort session registers the cohort's active members when it is scheduled, and members who
  join the cohort later are registered for its upcoming sessions; members who leave are
  cancelled from them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from core import clock
from core.audit import audit_record
from core.errors import Conflict, NotFound
from scheduling import notices
from scheduling.enums import CohortMemberStatus, RegistrationSource, RegistrationStatus, SessionStatus
from scheduling.models import CohortMember, Registration, Session

ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)


def _lock(session_id: Any) -> Session:
    return Session.objects.select_for_update(of=("self",)).select_related("program").get(pk=session_id)


def registered_count(session: Session) -> int:
    return Registration.objects.filter(session_id=session.pk, status=RegistrationStatus.REGISTERED).count()


def _has_room(session: Session) -> bool:
    return session.capacity is None or registered_count(session) < session.capacity


def may_register(session: Session, user: Any) -> bool:
    """Open sessions take anyone signed in; others only people already invited (a row exists)
    or active members of the session's cohort."""
    if session.open_registration:
        return True
    if Registration.objects.filter(session_id=session.pk, user_id=user.pk).exists():
        return True
    return bool(
        session.cohort_id
        and CohortMember.objects.filter(
            cohort_id=session.cohort_id, enrollment__user_id=user.pk, status=CohortMemberStatus.ACTIVE
        ).exists()
    )


def _place(session: Session, registration: Registration | None, user: Any, *, source: str, waitlist: bool):
    """Register (room left) or queue the user at a locked session; returns the row."""
    now = clock.now()
    room = _has_room(session)
    if not room and not waitlist:
        raise Conflict(f"The session '{session.title}' is full ({session.capacity} places).")
    status = RegistrationStatus.REGISTERED if room else RegistrationStatus.WAITLISTED
    fields = {
        "status": status,
        "registered_at": now if room else None,
        "waitlisted_at": None if room else now,
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
    audit_record(
        actor=None if source == RegistrationSource.COHORT else registration.user,
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
    answers NotFound (they cannot see it)."""
    session = _lock(session.pk)
    if source == RegistrationSource.SELF and not may_register(session, user):
        raise NotFound(f"No session with the id {session.pk} is open to you.")
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(f"The session is {session.status}; it takes no registrations.")
    if session.ends_at <= clock.now():
        raise Conflict("The session is over; it takes no registrations.")
    if session.host_id == user.pk:
        raise Conflict("The host runs this session and does not register for it.")
    if not user.is_active:
        raise Conflict(f"{user} is not an active user.")
    existing = Registration.objects.select_for_update().filter(session_id=session.pk, user_id=user.pk).first()
    if existing is not None and existing.status in ACTIVE:
        return existing
    return _place(session, existing, user, source=source, waitlist=waitlist)


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
    person on the waiting list. Cancelling a cancelled registration changes nothing."""
    session = _lock(registration.session_id)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == RegistrationStatus.CANCELLED:
        return registration
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(f"The session is {session.status}; its registrations no longer change.")
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


def register_cohort_members(*, session: Session, actor: Any = None) -> int:
    """Register the active members of the (locked, just scheduled) cohort session's cohort;
    beyond its capacity they are waitlisted. Returns how many rows were written."""
    users = (
        CohortMember.objects.filter(cohort_id=session.cohort_id, status=CohortMemberStatus.ACTIVE)
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
    """Register a new member of a cohort for its upcoming scheduled sessions."""
    count = 0
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

"""Session reminders and cancellation notices, each exactly once per person.

A `SessionReminder` row is the claim: its unique constraint on (session, user, kind, hours
before, schedule) lets one transaction win; the notification is written in the same transaction,
so a notice exists if and only if its claim does."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from core import clock
from scheduling import notices
from scheduling.enums import RegistrationStatus, ReminderKind
from scheduling.models import Registration, Session, SessionReminder


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

"""Host confirmation: assigning a host asks them to confirm before a deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from core import clock
from core.audit import audit_record
from scheduling import notices
from scheduling.enums import ConfirmationStatus
from scheduling.models import HostConfirmation, Session


def _deadline(session: Session):
    hours = getattr(settings, "SCHEDULING_HOST_CONFIRMATION_HOURS", 48)
    now = clock.now()
    latest = session.starts_at - timedelta(hours=1)
    return max(min(now + timedelta(hours=hours), latest), now)


def _withdraw_pending(session: Session, *, actor: Any, reason: str) -> None:
    for pending in HostConfirmation.objects.select_for_update().filter(
        session_id=session.pk, status=ConfirmationStatus.PENDING
    ):
        pending.status, pending.decided_at, pending.reason = ConfirmationStatus.WITHDRAWN, clock.now(), reason
        pending.save(update_fields=["status", "decided_at", "reason", "updated_at"])
        audit_record(actor=actor, action="host_confirmation.withdrawn", target=pending, reason=reason)


def host_changed(*, session: Session, actor: Any = None) -> HostConfirmation | None:
    """Withdraw the previous host's pending request and ask the new host (if any) to confirm."""
    _withdraw_pending(session, actor=actor, reason="the host changed")
    if session.host_id is None:
        return None
    confirmation = HostConfirmation.objects.create(
        session=session, host_id=session.host_id, deadline=_deadline(session)
    )
    audit_record(
        actor=actor,
        action="host_confirmation.requested",
        target=confirmation,
        changes={
            "session": str(session.pk),
            "host": str(session.host_id),
            "deadline": confirmation.deadline.isoformat(),
        },
    )
    from notifications.services import notify

    notify(
        user=session.host,
        kind=notices.HOST_CONFIRMATION_REQUESTED,
        context={"session": session, "confirmation": confirmation, "sessions_url": notices.my_sessions_url()},
        dedupe_key=f"{notices.HOST_CONFIRMATION_REQUESTED}:{confirmation.pk}",
        related=[session],
    )
    return confirmation


def session_closed(*, session: Session, actor: Any = None) -> None:
    """A cancelled or delivered session needs no confirmation any more."""
    _withdraw_pending(session, actor=actor, reason=f"the session is {session.status}")

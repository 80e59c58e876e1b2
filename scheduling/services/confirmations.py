"""Host confirmation: assigning a host asks them to confirm before a deadline.

Rules:
- assigning a host (a new session with a host, or a host change) withdraws the previous host's
  pending request and asks the new host, by dashboard and e-mail, to confirm before a deadline
  (`SCHEDULING_HOST_CONFIRMATION_HOURS`, default 48 hours, and at the latest an hour before the
  start);
- only the host answers, only while the request is pending and up to the deadline (inclusive):
  `confirmed` or `declined` (a reason is optional); the answer is audited and emits
  `coaching.lesson.confirmation_decided`;
- a decline, or a deadline that passes unanswered (`host_confirmations_expire`, run by the
  `host_confirmation_deadlines` job), alerts every active operator to assign another host, once per
  request and operator;
- a cancelled or delivered session withdraws its pending request.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from core import clock
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from crm_sync.outbox import emit
from scheduling import notices
from scheduling.enums import ConfirmationStatus
from scheduling.models import HostConfirmation, Session
from scheduling.services.common import operators

DECISIONS = (ConfirmationStatus.CONFIRMED, ConfirmationStatus.DECLINED)
MAX_REASON = 2000


def _deadline(session: Session):
    hours = getattr(settings, "SCHEDULING_HOST_CONFIRMATION_HOURS", 48)
    now = clock.now()
    # An hour before the start leaves operators time to reassign; a session closer than that can
    # still be confirmed until it starts.
    latest = session.starts_at - timedelta(hours=1)
    if latest <= now:
        latest = session.starts_at
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


# --- Answers ------------------------------------------------------------------------------------


def session_admin_url(session: Session) -> str:
    return settings.SITE_URL + reverse("admin:scheduling_session_change", args=[session.pk])


def _emit_decided(confirmation: HostConfirmation, actor: Any) -> None:
    payload = {
        "confirmation_id": str(confirmation.pk),
        "lesson_id": str(confirmation.session_id),
        "program_id": str(confirmation.session.program_id),
        "host_id": str(confirmation.host_id),
        "decision": confirmation.status,
        "deadline": confirmation.deadline.isoformat(),
        "decided_at": confirmation.decided_at.isoformat(),
    }
    if confirmation.reason:
        payload["reason"] = confirmation.reason
    emit(
        event_type="coaching.lesson.confirmation_decided",
        subject=("session", confirmation.session_id),
        actor=actor,
        payload=payload,
    )


def _alert_operators(confirmation: HostConfirmation) -> int:
    """Ask every active operator to assign another host (once per request and operator)."""
    from notifications.services import notify

    session, host = confirmation.session, confirmation.host
    context = {
        "session": session,
        "host_name": host.get_full_name(),
        "decision": confirmation.status,
        "reason": confirmation.reason,
        "admin_url": session_admin_url(session),
    }
    alerted = 0
    for operator in operators():
        notify(
            user=operator,
            kind=notices.HOST_REASSIGN_NEEDED,
            context=context,
            dedupe_key=f"{notices.HOST_REASSIGN_NEEDED}:{confirmation.pk}:{operator.pk}",
            related=[session],
        )
        alerted += 1
    return alerted


def _lock_confirmation(confirmation_id: Any) -> HostConfirmation | None:
    return (
        HostConfirmation.objects.select_for_update(of=("self",))
        .select_related("session__program", "host")
        .filter(pk=confirmation_id)
        .first()
    )


@transaction.atomic
def host_confirmation_decide(
    *, confirmation: HostConfirmation, user: Any, decision: str, reason: str = ""
) -> HostConfirmation:
    """The host confirms or declines running the session, while the request is pending and up
    to its deadline. Another user's request answers NotFound; an answered, expired or withdrawn
    one, or a passed deadline, answers Conflict. A decline alerts every active operator."""
    locked = _lock_confirmation(confirmation.pk)
    if locked is None or locked.host_id != getattr(user, "pk", None):
        raise NotFound(f"No host confirmation with the id {confirmation.pk} is yours.")
    confirmation = locked
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if decision not in DECISIONS:
        errors["decision"] = f"Answer {' or '.join(DECISIONS)}."
    if len(reason) > MAX_REASON:
        errors["reason"] = f"At most {MAX_REASON} characters."
    if errors:
        raise ValidationFailed(errors=errors)
    if confirmation.status != ConfirmationStatus.PENDING:
        raise Conflict(f"This request was already answered: it is {confirmation.status}.")
    now = clock.now()
    if now > confirmation.deadline:
        raise Conflict(f"The deadline to answer passed at {confirmation.deadline.isoformat()}.")
    confirmation.status, confirmation.decided_at, confirmation.reason = decision, now, reason
    confirmation.save(update_fields=["status", "decided_at", "reason", "updated_at"])
    audit_record(
        actor=user,
        action=f"host_confirmation.{decision}",
        target=confirmation,
        changes={"status": [ConfirmationStatus.PENDING, decision], "session": str(confirmation.session_id)},
        reason=reason,
    )
    _emit_decided(confirmation, user)
    if decision == ConfirmationStatus.DECLINED:
        _alert_operators(confirmation)
    return confirmation


def _expire_one(confirmation_id: Any, now: datetime) -> bool:
    """Expire one overdue pending request; False when it was answered meanwhile or another run
    holds it (SKIP LOCKED: concurrent runs share the work, never repeat it)."""
    with transaction.atomic():
        confirmation = (
            HostConfirmation.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("session__program", "host")
            .filter(pk=confirmation_id, status=ConfirmationStatus.PENDING, deadline__lt=now)
            .first()
        )
        if confirmation is None:
            return False
        confirmation.status, confirmation.decided_at = ConfirmationStatus.EXPIRED, now
        confirmation.save(update_fields=["status", "decided_at", "updated_at"])
        audit_record(
            actor=None,
            action="host_confirmation.expired",
            target=confirmation,
            changes={"status": [ConfirmationStatus.PENDING, ConfirmationStatus.EXPIRED]},
            reason=f"no answer by {confirmation.deadline.isoformat()}",
        )
        _emit_decided(confirmation, "host_confirmation_deadlines")
        _alert_operators(confirmation)
        return True


def host_confirmations_expire(*, now: datetime | None = None) -> list[Any]:
    """Expire every pending request whose deadline has passed (each in its own transaction) and
    return the ids of those this call expired."""
    now = now or clock.now()
    due = list(
        HostConfirmation.objects.filter(status=ConfirmationStatus.PENDING, deadline__lt=now)
        .order_by("deadline", "id")
        .values_list("pk", flat=True)
    )
    return [pk for pk in due if _expire_one(pk, now)]


def host_confirmation_deadlines(context) -> None:
    """The `host_confirmation_deadlines` job: expire overdue requests and alert the operators."""
    expired = host_confirmations_expire()
    context.count("expired", len(expired))
    context.progress(f"host confirmations expired: {len(expired)}")

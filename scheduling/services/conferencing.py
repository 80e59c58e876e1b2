"""Meetings at the conferencing provider, kept in step with the session.

Rules:
- `meeting_after_change` runs inside the session service's transaction and never calls a provider
  over the network: jitsi rooms and pasted links settle at once; for providers that need the
  network (zoom) the session is marked `pending` and synchronised once the transaction commits (a
  Celery task per session; the `conferencing_sync` job retries what is due);
- `meeting_sync` claims the session in a short SKIP LOCKED transaction (a lease: `integration_retry_at`
  moves into the future, so a second worker leaves it alone), calls the provider with no transaction
  or lock open, then saves the outcome with a conditional update: only if the session's meeting
  fields (provider, status, sequence, window, zone, title, description, meeting id) are still those
  it sent. Otherwise the session changed meanwhile and it synchronises again, so no change is lost
  and the session is never half-updated;
- a meeting created for a session that changed meanwhile is recorded if the session has none, or
  deleted at the provider, so no meeting is orphaned;
- failures keep the provider's message in `integration_error`; retryable ones are retried with
  exponential backoff (the provider's Retry-After honoured) up to CONFERENCING_MAX_ATTEMPTS, then
  the session is `failed`; other errors fail at once and wait for an operator;
- cancelling deletes the meeting at the provider and clears the links;
- `session_integration_set` (operator) creates or changes the meeting synchronously: the provider is
  called first, outside any transaction; if it fails, ProviderFailed (502) carries its message and
  the session is left exactly as it was. Switching providers or regenerating deletes the previous
  meeting after commit, best-effort.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from core import clock
from core.audit import audit_record
from core.errors import Conflict
from scheduling.conferencing import Meeting, Provider, ProviderError, ProviderFailed, get_provider, jitsi
from scheduling.conferencing.manual import HOST_URL_MAX, JOIN_URL_MAX, link_error
from scheduling.enums import ConferencingProvider, IntegrationStatus, SessionStatus
from scheduling.models import Session
from scheduling.services.common import raise_errors

logger = logging.getLogger(__name__)

CHANGES = ("created", "rescheduled", "changed", "cancelled")
# What the meeting at the provider is made of: a sync's outcome is saved only if these are unchanged.
MEETING_FIELDS = (
    "provider",
    "status",
    "sequence",
    "starts_at",
    "ends_at",
    "timezone",
    "title",
    "description",
    "external_meeting_id",
)
CONFERENCING_FIELDS = ("provider", "join_url", "host_url", "external_meeting_id")
# How long a claimed sync keeps other workers away (longer than a few provider calls with time-outs).
LEASE = timedelta(seconds=120)
# Syncs in a row when the session keeps changing under a sync; then the next run takes over.
MAX_ROUNDS = 3
ERROR_MAX = 2000


class Outcome:
    SYNCED = "synced"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"
    CHANGED = "changed"


def jitsi_room_url(session: Session | None = None) -> str:
    """A new, unguessable Jitsi room address on JITSI_BASE_URL."""
    return jitsi.room_url()


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """Backoff before the next try after `attempts` failed ones: base * 2^(attempts-1), capped,
    and never sooner than the provider's Retry-After."""
    base = float(getattr(settings, "CONFERENCING_RETRY_BASE_SECONDS", 30))
    cap = float(getattr(settings, "CONFERENCING_RETRY_CAP_SECONDS", 3600))
    seconds = min(base * 2 ** max(attempts - 1, 0), cap)
    if retry_after is not None:
        seconds = max(seconds, retry_after)
    return timedelta(seconds=seconds)


def _max_attempts() -> int:
    return int(getattr(settings, "CONFERENCING_MAX_ATTEMPTS", 8))


# --- Inside the session services' transaction ---------------------------------------------------


def _kick_after_commit(session_id: Any) -> None:
    if not getattr(settings, "CONFERENCING_SYNC_ON_COMMIT", True):
        return
    from scheduling.conferencing.tasks import conferencing_sync_session

    transaction.on_commit(partial(conferencing_sync_session.delay, str(session_id)), robust=True)


def meeting_after_change(session: Session, *, change: str) -> None:
    """Bring the session's meeting in line with a change (`created`, `rescheduled`, `changed`,
    `cancelled`). Called with the session locked (or just created) inside the caller's transaction."""
    if change not in CHANGES:
        raise ValueError(f"Unknown meeting change '{change}'.")
    provider = get_provider(session.provider)
    if provider is None:
        return
    if not provider.needs_network:
        if change == "created" and not session.join_url:
            try:
                meeting = provider.create(session)
            except ProviderError:  # a manual meeting waits for its link
                return
            _apply_meeting(session, meeting)
            session.integration_status = IntegrationStatus.SYNCED
            session.save(update_fields=[*CONFERENCING_FIELDS, "integration_status", "updated_at"])
        return

    now = clock.now()
    if (
        change == "cancelled"
        and not session.external_meeting_id
        and session.integration_status != IntegrationStatus.PENDING
    ):
        # Never created at the provider (and no sync under way): nothing to delete.
        session.integration_status = IntegrationStatus.SYNCED
        session.integration_error, session.integration_attempts, session.integration_retry_at = "", 0, None
        session.save(update_fields=_INTEGRATION_STATE)
        return
    # A sync under way (lease) or a backoff in progress keeps its time: the running sync sees the
    # change when it saves and synchronises again; a backoff means the provider is struggling.
    waiting = (
        session.integration_status == IntegrationStatus.PENDING
        and session.integration_retry_at is not None
        and session.integration_retry_at > now
    )
    session.integration_status = IntegrationStatus.PENDING
    session.integration_attempts = 0
    if not waiting:
        session.integration_retry_at = now
    session.save(update_fields=_INTEGRATION_STATE)
    _kick_after_commit(session.pk)


_INTEGRATION_STATE = [
    "integration_status",
    "integration_error",
    "integration_attempts",
    "integration_retry_at",
    "updated_at",
]


def _apply_meeting(session: Session, meeting: Meeting) -> None:
    session.join_url, session.host_url, session.external_meeting_id = (
        meeting.join_url,
        meeting.host_url,
        meeting.external_id,
    )


# --- After commit: synchronise with the provider ------------------------------------------------


def _claim(session_id: Any, *, lease: datetime | None) -> Session | None:
    """Take a due pending session (or the one this sync already holds) and move its lease forward.
    SKIP LOCKED: a session another worker is claiming right now is left to it."""
    now = clock.now()
    due = Q(integration_retry_at__isnull=True) | Q(integration_retry_at__lte=now)
    if lease is not None:
        due |= Q(integration_retry_at=lease)
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(skip_locked=True)
            .filter(due, pk=session_id, integration_status=IntegrationStatus.PENDING)
            .first()
        )
        if session is None:
            return None
        session.integration_retry_at = now + LEASE
        Session.objects.filter(pk=session.pk).update(integration_retry_at=session.integration_retry_at)
    return session


def _snapshot(session: Session, fields: tuple[str, ...] = MEETING_FIELDS) -> dict[str, Any]:
    return {field: getattr(session, field) for field in fields}


def _save_if_unchanged(session: Session, **fields: Any) -> bool:
    """Save a sync's outcome only if the meeting fields are those the sync sent."""
    return bool(
        Session.objects.filter(
            pk=session.pk, integration_status=IntegrationStatus.PENDING, **_snapshot(session)
        ).update(**fields, updated_at=clock.now())
    )


def _delete_quietly(provider_key: str, external_id: str, session_id: Any) -> bool:
    """Delete a meeting nobody needs any more; a failure is logged, not raised."""
    provider = get_provider(provider_key)
    if provider is None or not external_id:
        return True
    try:
        provider.delete(external_id)
    except ProviderError as exc:
        logger.warning(
            "Could not delete %s meeting %s of session %s: %s", provider_key, external_id, session_id, exc.message
        )
        return False
    return True


def _keep_or_discard(session: Session, meeting: Meeting) -> None:
    """A meeting was created for a session that changed meanwhile: record it if the session still
    has none (the next round moves or deletes it), else delete it at the provider."""
    kept = Session.objects.filter(
        pk=session.pk,
        provider=session.provider,
        external_meeting_id="",
        integration_status=IntegrationStatus.PENDING,
    ).update(
        join_url=meeting.join_url,
        host_url=meeting.host_url,
        external_meeting_id=meeting.external_id,
        updated_at=clock.now(),
    )
    if not kept:
        _delete_quietly(session.provider, meeting.external_id, session.pk)


def _sync_claimed(session: Session) -> str:
    provider = get_provider(session.provider)
    settled: dict[str, Any] = {
        "integration_status": IntegrationStatus.SYNCED,
        "integration_error": "",
        "integration_attempts": 0,
        "integration_retry_at": None,
    }
    created: Meeting | None = None
    try:
        if session.status == SessionStatus.CANCELLED:
            if provider is not None and provider.needs_network and session.external_meeting_id:
                provider.delete(session.external_meeting_id)
            settled.update(join_url="", host_url="", external_meeting_id="")
        elif session.status != SessionStatus.SCHEDULED or provider is None or not provider.needs_network:
            # Delivered (the meeting has happened), or nothing to synchronise over the network.
            if not session.join_url:
                settled["integration_status"] = IntegrationStatus.NONE
        elif session.external_meeting_id:
            try:
                moved = provider.update(session, session.external_meeting_id)
            except ProviderError as exc:
                if not exc.gone:
                    raise
                # Deleted at the provider by someone: a new meeting replaces it.
                created = moved = provider.create(session)
            if moved is not None:
                settled.update(join_url=moved.join_url, host_url=moved.host_url, external_meeting_id=moved.external_id)
        else:
            created = provider.create(session)
            settled.update(
                join_url=created.join_url, host_url=created.host_url, external_meeting_id=created.external_id
            )
    except ProviderError as exc:
        return _record_failure(session, exc)
    if _save_if_unchanged(session, **settled):
        return Outcome.SYNCED
    if created is not None:
        _keep_or_discard(session, created)
    return Outcome.CHANGED


def _record_failure(session: Session, exc: ProviderError) -> str:
    attempts = session.integration_attempts + 1
    retry = exc.retryable and attempts < _max_attempts()
    fields: dict[str, Any] = {
        "integration_error": exc.message[:ERROR_MAX],
        "integration_attempts": attempts,
        "integration_status": IntegrationStatus.PENDING if retry else IntegrationStatus.FAILED,
        "integration_retry_at": clock.now() + retry_delay(attempts, exc.retry_after) if retry else None,
    }
    logger.warning(
        "Conferencing sync of session %s (%s) failed, attempt %s%s: %s",
        session.pk,
        session.provider,
        attempts,
        "" if retry else ", giving up",
        exc.message,
    )
    if not _save_if_unchanged(session, **fields):
        return Outcome.CHANGED
    return Outcome.RETRY if retry else Outcome.FAILED


def meeting_sync(*, session_id: Any) -> str:
    """Synchronise a pending session's meeting with its provider, if it is due and nobody else is
    at it. Returns the outcome: `synced`, `retry` (pending, next try at `integration_retry_at`),
    `failed`, `skipped` (not due or taken) or `changed` (kept changing; left due for the next run).
    Runs outside transactions: the provider is called with nothing locked."""
    lease: datetime | None = None
    for _ in range(MAX_ROUNDS):
        session = _claim(session_id, lease=lease)
        if session is None:
            return Outcome.SKIPPED
        lease = session.integration_retry_at
        outcome = _sync_claimed(session)
        if outcome != Outcome.CHANGED:
            return outcome
    Session.objects.filter(
        pk=session_id, integration_status=IntegrationStatus.PENDING, integration_retry_at=lease
    ).update(integration_retry_at=clock.now())
    return Outcome.CHANGED


# --- Operator: set or change the meeting now ---------------------------------------------------


def _input_errors(provider: str, join_url: Any, host_url: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    if provider not in ConferencingProvider.values:
        errors["provider"] = f"'{provider}' is not a provider; use one of {', '.join(ConferencingProvider.values)}."
        return errors
    if provider == ConferencingProvider.MANUAL:
        if message := link_error(join_url, max_length=JOIN_URL_MAX):
            errors["join_url"] = message
        if host_url not in (None, "") and (message := link_error(host_url, max_length=HOST_URL_MAX)):
            errors["host_url"] = message
    else:
        for field, value in (("join_url", join_url), ("host_url", host_url)):
            if value not in (None, ""):
                errors[field] = "Only a manual meeting takes a pasted link."
    return errors


def _check_open(session: Session) -> None:
    if session.status != SessionStatus.SCHEDULED:
        raise Conflict(f"The session is {session.status}; its meeting can no longer change.")


def _prepare_meeting(
    session: Session, key: str, provider: Provider | None, join_url: str, host_url: str, regenerate: bool
) -> tuple[Meeting, bool]:
    """The meeting the session gets, and whether it was just created at a network provider."""
    if provider is None:
        return Meeting(join_url=""), False
    if key == ConferencingProvider.MANUAL:
        return Meeting(join_url=join_url.strip(), host_url=(host_url or "").strip()), False
    current = Meeting(session.join_url, session.host_url, session.external_meeting_id)
    same = session.provider == key and not regenerate
    try:
        if not provider.needs_network:
            return (current, False) if same and session.join_url else (provider.create(session), False)
        if same and session.external_meeting_id:
            try:
                moved = provider.update(session, session.external_meeting_id)
            except ProviderError as exc:
                if not exc.gone:
                    raise
                return provider.create(session), True
            return (moved or current), False
        return provider.create(session), True
    except ProviderError as exc:
        raise ProviderFailed(exc.message) from None


def session_integration_set(
    *,
    session: Session,
    provider: str,
    join_url: str | None = None,
    host_url: str | None = None,
    regenerate: bool = False,
    actor: Any = None,
) -> Session:
    """Give a scheduled session a meeting at `provider` now (`none` removes it). `manual` takes a
    pasted https `join_url` (and optional `host_url`); the same provider again pushes the session's
    details to it (a retry), `regenerate` makes a new meeting. The provider is called before any
    transaction: if it fails, ProviderFailed (502) and nothing changes. The previous meeting is
    deleted at its provider after commit, best-effort."""
    raise_errors(_input_errors(provider, join_url, host_url))
    before = Session.objects.get(pk=session.pk)
    _check_open(before)
    target = get_provider(provider)
    meeting, created = _prepare_meeting(before, provider, target, join_url or "", host_url or "", regenerate)
    try:
        with transaction.atomic():
            from scheduling.services.sessions import lock_session

            locked = lock_session(before.pk)
            _check_open(locked)
            if _snapshot(locked, (*MEETING_FIELDS, *CONFERENCING_FIELDS)) != _snapshot(
                before, (*MEETING_FIELDS, *CONFERENCING_FIELDS)
            ):
                raise Conflict("The session changed while its meeting was being prepared; try again.")
            old_provider, old_id = locked.provider, locked.external_meeting_id
            changes: dict[str, Any] = {}
            for field, value in (
                ("provider", provider),
                ("join_url", meeting.join_url),
                ("external_meeting_id", meeting.external_id),
            ):
                if getattr(locked, field) != value:
                    changes[field] = [getattr(locked, field), value]
            # The host link carries the host's key: the audit trail only says it changed.
            if locked.host_url != meeting.host_url:
                changes["host_url"] = "changed"
            locked.provider = provider
            _apply_meeting(locked, meeting)
            locked.integration_status = IntegrationStatus.NONE if target is None else IntegrationStatus.SYNCED
            locked.integration_error, locked.integration_attempts, locked.integration_retry_at = "", 0, None
            locked.save(update_fields=[*CONFERENCING_FIELDS, *_INTEGRATION_STATE])
            audit_record(
                actor=actor,
                action="session.conferencing_changed",
                target=locked,
                changes=changes or {"provider": [provider, provider]},
                reason="regenerated" if regenerate else "",
            )
            if old_id and (old_provider, old_id) != (provider, meeting.external_id):
                transaction.on_commit(partial(_delete_quietly, old_provider, old_id, locked.pk))
    except Conflict:
        if created:
            _delete_quietly(provider, meeting.external_id, before.pk)
        raise
    return locked

"""Meetings at the conferencing provider, kept in step with the session.

`meeting_after_change` is called by the session services inside their transaction. Providers
that need no network (jitsi, manual) are settled at once; the others are marked `pending` and
synchronised after commit, with retries (see `scheduling.conferencing`)."""

from __future__ import annotations

import secrets

from django.conf import settings

from scheduling.enums import ConferencingProvider, IntegrationStatus
from scheduling.models import Session


def jitsi_room_url(session: Session) -> str:
    base = getattr(settings, "JITSI_BASE_URL", "https://meet.jit.si").rstrip("/")
    return f"{base}/programs-{secrets.token_urlsafe(18)}"


def meeting_after_change(session: Session, *, change: str) -> None:
    """Bring the session's meeting in line with a change (`created`, `rescheduled`, `changed`,
    `cancelled`)."""
    if session.provider == ConferencingProvider.JITSI and change == "created" and not session.join_url:
        session.join_url = jitsi_room_url(session)
        session.integration_status = IntegrationStatus.SYNCED
        session.save(update_fields=["join_url", "integration_status", "updated_at"])

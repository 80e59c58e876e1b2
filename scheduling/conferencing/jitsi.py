"""Jitsi Meet: a room exists as soon as someone opens its address, so a meeting is an address that
nobody can guess. No account, no network call; rescheduling keeps the room."""

from __future__ import annotations

import base64
import secrets
from typing import TYPE_CHECKING

from django.conf import settings

from scheduling.conferencing import Meeting, Provider

if TYPE_CHECKING:
    from scheduling.models import Session

ROOM_PREFIX = "programs-"
# 160 random bits. Lower-case base32 because Jitsi room names are case-insensitive: mixed-case
# tokens would lose entropy when the server folds them.
ROOM_TOKEN_BYTES = 20


def room_url() -> str:
    """A new room address on JITSI_BASE_URL: `<base>/programs-<32 characters of [a-z2-7]>`."""
    base = (getattr(settings, "JITSI_BASE_URL", "") or "https://meet.jit.si").rstrip("/")
    token = base64.b32encode(secrets.token_bytes(ROOM_TOKEN_BYTES)).decode("ascii").rstrip("=").lower()
    return f"{base}/{ROOM_PREFIX}{token}"


class JitsiProvider(Provider):
    key = "jitsi"
    needs_network = False

    def create(self, session: Session) -> Meeting:
        return Meeting(join_url=room_url())

    def update(self, session: Session, external_id: str) -> Meeting | None:
        return None  # a room has no time; its address stays

    def delete(self, external_id: str) -> None:
        return None  # nothing is held at the server

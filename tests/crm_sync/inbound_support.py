"""Helpers of the inbound-event tests: envelopes, Standard Webhooks signing (with the reference
`standardwebhooks` library), a movable clock and temporary handlers."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks.webhooks import Webhook

from core import clock
from crm_sync import hooks

# Fixed secrets, so a test can sign before and after the source exists.
SECRET = "whsec_" + base64.b64encode(b"inbound-test-secret-0123456789ab").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-xyz!!").decode()

# Before the cutover of buddy.match.created v1 (v2 is active from 2026-10-15).
BEFORE_CUTOVER = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
AFTER_CUTOVER = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


class MovableClock:
    """Replaces `core.clock.now`; the test sets or advances it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> datetime:
        self.at = at
        return at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def install_clock(monkeypatch, at: datetime = NOW) -> MovableClock:
    moved = MovableClock(at)
    monkeypatch.setattr(clock, "now", moved)
    return moved


def buddy_match_v2(**changes: Any) -> dict[str, Any]:
    payload = {
        "match_id": "m-100",
        "participant_external_id": "buddy-p-1",
        "buddy_external_id": "buddy-b-2",
        "program_key": "mentorship-2026",
        "matched_at": "2026-10-12T08:00:00Z",
    }
    payload.update(changes)
    return payload


def buddy_match_v1(**changes: Any) -> dict[str, Any]:
    payload = {"match_id": "m-1", "participant_id": "p-1", "buddy_id": "b-2", "matched_at": "2026-10-09T08:00:00Z"}
    payload.update(changes)
    return payload


def kintell_session(**changes: Any) -> dict[str, Any]:
    payload = {
        "session_id": "s-9",
        "session_type": "mentorship",
        "volunteer_external_id": "k-v-1",
        "participant_external_id": "k-p-2",
        "duration_minutes": 45,
        "completed_at": "2026-10-12T10:00:00Z",
    }
    payload.update(changes)
    return payload


def envelope(
    event_type: str = "buddy.match.created",
    schema_version: int = 2,
    payload: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
    drop: tuple[str, ...] = (),
    **changes: Any,
) -> dict[str, Any]:
    """A valid envelope of the registry (a v2 buddy.match.created unless told otherwise)."""
    if payload is None:
        payload = buddy_match_v2() if (event_type, schema_version) == ("buddy.match.created", 2) else {}
    body = {
        "event_id": event_id or f"evt-{uuid.uuid4().hex}",
        "event_type": event_type,
        "schema_version": schema_version,
        "occurred_at": "2026-10-12T08:00:01Z",
        "producer": event_type.split(".")[0],
        "subject": {"type": "match", "id": payload.get("match_id", "x-1")},
        "actor": f"partner:{event_type.split('.')[0]}",
        "correlation_id": None,
        "causation_id": None,
        "payload": payload,
    }
    body.update(changes)
    for key in drop:
        body.pop(key)
    return body


def signed_headers(
    secret: str, body: bytes, *, msg_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    """Django test-client keyword arguments carrying a Standard Webhooks signature."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or clock.now()
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }


def post_event(
    client,
    source: str,
    body: dict | bytes,
    *,
    secret: str = SECRET,
    at: datetime | None = None,
    msg_id: str | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
):
    """POST a signed event to the inbound endpoint (headers=... replaces the signature headers)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    extra = headers if headers is not None else signed_headers(secret, raw, msg_id=msg_id, at=at)
    return client.post(f"/api/v1/integrations/events/{source}", data=raw, content_type=content_type, **extra)


@contextmanager
def handler(event_type: str, fn: Callable[[dict], Any]) -> Iterator[None]:
    """Register `fn` as the handler of `event_type` for the block; restores what was there."""
    before = hooks._handlers.get(event_type)
    hooks.register_handler(event_type, fn)
    try:
        yield
    finally:
        if before is None:
            hooks._handlers.pop(event_type, None)
        else:
            hooks._handlers[event_type] = before


class Recorder:
    """A handler that records the envelopes it got and fails while `failures` is positive."""

    def __init__(self, failures: int = 0, error: str = "partner system down") -> None:
        self.calls: list[dict] = []
        self.failures = failures
        self.error = error

    def __call__(self, envelope: dict) -> None:
        self.calls.append(envelope)
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError(self.error)

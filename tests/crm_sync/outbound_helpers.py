"""Helpers of the outbound (outbox -> webhook) tests: a movable clock, a real local HTTP receiver
that verifies every request with the `standardwebhooks` reference library, and small builders.

The receiver is a plain `http.server` in a thread (one per test), so it can be stopped (connection
refused) and started again on the same port, and can answer slowly to provoke client timeouts."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core import clock
from crm_sync.outbox import emit
from crm_sync.services import subscriber_create

# --- Clock --------------------------------------------------------------------------------------


class FakeClock:
    """`core.clock.now` moved by an offset: time keeps flowing, `advance` jumps ahead."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return timezone.now() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


def install_fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake.now)
    return fake


# --- Verification -------------------------------------------------------------------------------


class ClockedWebhook(Webhook):
    """The reference verifier, with its 5-minute timestamp window measured against the product's
    clock (`core.clock.now`, which tests move) instead of the wall clock. The signature check is
    the library's own."""

    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:  # noqa: N802 - overrides the private check
        tolerance = timedelta(minutes=5)
        now = clock.now()
        try:
            timestamp = datetime.fromtimestamp(float(timestamp_header), tz=UTC)
        except Exception as exc:
            raise WebhookVerificationError("Invalid Signature Headers") from exc
        if timestamp < now - tolerance:
            raise WebhookVerificationError("Message timestamp too old")
        if timestamp > now + tolerance:
            raise WebhookVerificationError("Message timestamp too new")
        return timestamp


# --- Receiver -----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (after recording the request)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    envelope: dict[str, Any] | None
    verified: bool
    verify_error: str
    status: int = 0  # what the receiver answered

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def event_id(self) -> str:
        return (self.envelope or {}).get("event_id", "")

    @property
    def subject(self) -> tuple[str, str]:
        subject = (self.envelope or {}).get("subject") or {}
        return subject.get("type", ""), subject.get("id", "")

    @property
    def signatures(self) -> list[str]:
        return self.headers.get("webhook-signature", "").split()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Receiver:
    """A webhook receiver on 127.0.0.1. Each path is one subscriber, verified with its secrets.
    `behaviour(received) -> Reply` decides the answer (200 by default)."""

    def __init__(self) -> None:
        self.secrets: dict[str, list[str]] = {}
        self.requests: list[Received] = []
        self.behaviour: Callable[[Received], Reply] = lambda received: Reply()
        self.port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                received = receiver._record(self.path, dict(self.headers.items()), body)
                reply = receiver.behaviour(received) if received.verified else Reply(401, "bad signature")
                received.status = reply.status
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    data = reply.body.encode()
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout): nothing to answer
                    pass

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Shut down and release the port: connections are refused until `start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # recording
    def _record(self, path: str, headers: dict[str, str], body: bytes) -> Received:
        headers = {k.lower(): v for k, v in headers.items()}
        errors = []
        verified = False
        for secret in self.secrets.get(path, []):
            try:
                ClockedWebhook(secret).verify(body, headers)
            except WebhookVerificationError as exc:
                errors.append(str(exc))
            else:
                verified = True
                break
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = None
        received = Received(
            path=path,
            headers=headers,
            body=body,
            envelope=envelope,
            verified=verified,
            verify_error="" if verified else "; ".join(errors) or "no secret for this path",
        )
        with self._lock:
            self.requests.append(received)
        return received

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def unverified(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if not r.verified]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


def add_subscriber(receiver: Receiver, path: str, event_types: list[str], **fields):
    """A subscriber pointing at `path` of the receiver, whose secret the receiver verifies with."""
    subscriber = subscriber_create(
        name=fields.pop("name", path.strip("/")), url=receiver.url(path), event_types=event_types, **fields
    )
    receiver.secrets[path] = [subscriber.secret]
    return subscriber


# --- Events -------------------------------------------------------------------------------------

PROGRAM_ID = "0f0e0d0c-0b0a-4908-8706-050403020100"


def emit_sync(subject_id: str, seq: int = 0, *, subject_type: str = "participant", actor: Any = "tests"):
    """An event of a registered type with a minimal valid payload (`program_crm_sync_requested`)."""
    return emit(
        event_type="program_crm_sync_requested",
        subject=(subject_type, subject_id),
        payload={
            "program_id": PROGRAM_ID,
            "entity_type": subject_type,
            "entity_id": subject_id,
            "reason": "test",
            "record": {"seq": seq},
        },
        actor=actor,
    )


def new_id() -> str:
    return str(uuid.uuid4())

"""Fixtures of the notifications tests: a movable clock, a nudge kind, a real SMTP server."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from core import clock
from notifications.models import RateLimitPolicy
from notifications.registry import register_kind, unregister_kind
from notifications.services import notification_deliver

NUDGE_TEMPLATES = {
    "subject": "{{ count }} deadline{{ count|pluralize }} for {{ user.get_short_name }}",
    "text": "Hi {{ user.get_short_name }}, {{ name }} closes soon.",
    "html": "<p>Hi {{ user.get_short_name }}, <strong>{{ name }}</strong> closes soon.</p>",
    "dashboard": "{{ name }} closes soon",
}


@pytest.fixture(autouse=True)
def deliver_explicitly(settings):
    """Tests deliver by calling the service (or the job), not through Celery; the test that
    checks the on-commit hand-over turns it back on."""
    settings.NOTIFICATIONS_DELIVER_ON_COMMIT = False


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def frozen_clock(monkeypatch) -> FrozenClock:
    """`core.clock.now` stopped at the real time, to be set or moved by the test."""
    frozen = FrozenClock(timezone.now())
    monkeypatch.setattr(clock, "now", frozen)
    return frozen


@pytest.fixture
def nudge_limits(db):
    """The policies migration 0002 seeds (a transactional test before this one flushed them):
    one e-mail and one dashboard nudge per user per 24 hours."""
    for channel in ("email", "dashboard"):
        RateLimitPolicy.objects.get_or_create(group="nudge", channel=channel, defaults={"max_count": 1})


@pytest.fixture
def nudge_kind(nudge_limits):
    kind = register_kind(
        "test_deadline_nudge",
        group="nudge",
        essential=False,
        description="Deadlines coming up (test).",
        inline=NUDGE_TEMPLATES,
    )
    yield kind
    unregister_kind(kind.key)


@pytest.fixture
def digest_kind():
    """A non-essential kind of a group without a rate-limit policy."""
    kind = register_kind(
        "test_weekly_digest",
        group="digest",
        essential=False,
        description="Weekly digest (test).",
        inline={"subject": "Your week", "text": "Digest", "dashboard": "Your week in short"},
    )
    yield kind
    unregister_kind(kind.key)


@pytest.fixture
def recipient(make_user):
    return make_user(email="ada@example.org", full_name="Ada Lovelace")


def deliver(rows) -> list:
    return [notification_deliver(notification_id=row.pk) for row in rows]


# --- a real SMTP server -------------------------------------------------------------------------


class CollectingHandler:
    def __init__(self) -> None:
        self.envelopes = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on 127.0.0.1 (aiosmtpd), and Django's SMTP backend pointed at it."""
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Programs <programs@example.org>"
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def closed_smtp_port(settings) -> int:
    """Django's SMTP backend pointed at a port nothing listens on."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    return port

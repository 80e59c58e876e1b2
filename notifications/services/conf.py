"""The notification settings, each with its default, read when used (so tests can change them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "NOTIFICATIONS_DELIVER_ON_COMMIT": True,  # False: only the dispatcher job (or a test) delivers
    "NOTIFICATIONS_RETRY_BASE_SECONDS": 30,
    "NOTIFICATIONS_RETRY_CAP_SECONDS": 3600,
    "NOTIFICATIONS_MAX_ATTEMPTS": 5,
    "NOTIFICATIONS_LEASE_SECONDS": 300,  # longer than any send may take
    "NOTIFICATIONS_SEND_TIMEOUT_SECONDS": 30,  # the SMTP timeout when EMAIL_TIMEOUT is unset
    "NOTIFICATIONS_DISPATCH_BATCH_SIZE": 100,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])

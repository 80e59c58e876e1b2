"""Readiness checks: the database answers a query and the Celery broker accepts a connection."""

from __future__ import annotations

from django.conf import settings
from django.db import connections
from kombu import Connection


def check_database() -> str | None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"{type(exc).__name__}: {exc}"
    return None


def check_broker() -> str | None:
    timeout = settings.HEALTH_BROKER_TIMEOUT_SECONDS
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=timeout,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def readiness() -> dict[str, str | None]:
    return {"database": check_database(), "broker": check_broker()}

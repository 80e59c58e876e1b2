"""How a delivery reaches a subscriber, per subscriber kind. The signed webhook is the first CRM
adapter too, so any CRM that accepts webhooks works; other CRMs plug in with `register_adapter`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

import requests
from django.conf import settings

from crm_sync.enums import SubscriberKind
from crm_sync.signing import sign_headers


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# fn(item, signing secrets, timestamp) -> Outcome, where `item` has `subscriber`, `envelope`
# (the event as a dict) and `body` (its JSON bytes, the exact bytes to sign and send).
Adapter = Callable[..., Outcome]
_adapters: dict[str, Adapter] = {}
_local = threading.local()


def register_adapter(kind: str, fn: Adapter) -> None:
    _adapters[kind] = fn


def adapter_for(kind: str) -> Adapter:
    return _adapters[kind]


def body_of(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = "programs-platform-webhooks/1"
        _local.session = session
    return session


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def webhook_adapter(item, secrets: list[str], timestamp: int) -> Outcome:
    subscriber, body = item.subscriber, item.body
    headers = sign_headers(secrets, item.envelope["event_id"], timestamp, body)
    headers["content-type"] = "application/json"
    timeout = (
        getattr(settings, "CRM_WEBHOOK_CONNECT_TIMEOUT_SECONDS", 5),
        getattr(settings, "CRM_WEBHOOK_READ_TIMEOUT_SECONDS", 10),
    )
    try:
        response = _session().post(subscriber.url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout as exc:
        return Outcome(error=f"timeout: {exc}"[:1000])
    except requests.RequestException as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:1000])
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}: {response.text[:500]}"
    return Outcome(
        status_code=response.status_code, error=error, retry_after=_retry_after(response.headers.get("Retry-After"))
    )


register_adapter(SubscriberKind.WEBHOOK, webhook_adapter)
register_adapter(SubscriberKind.CRM, webhook_adapter)

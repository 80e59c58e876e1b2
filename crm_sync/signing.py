"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{body}` with the bytes of a `whsec_` secret, sent as
`webhook-signature: v1,<base64>`; several space-separated signatures while a secret rotates."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

PREFIX = "whsec_"
SECRET_BYTES = 32
TOLERANCE_SECONDS = 5 * 60


class SignatureError(Exception):
    pass


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_error(secret: str) -> str | None:
    """Why a secret cannot be used (None when it can)."""
    if not secret.startswith(PREFIX):
        return f"A signing secret starts with '{PREFIX}'."
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except ValueError:
        return f"After '{PREFIX}' a signing secret is base64."
    if len(key) < 24:
        return "A signing secret holds at least 24 bytes (32 recommended)."
    return None


def _key(secret: str) -> bytes:
    return base64.b64decode(secret[len(PREFIX) :] if secret.startswith(PREFIX) else secret)


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def sign_headers(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets_ if s),
    }


def verify(secrets_: list[str], headers, body: bytes, now: datetime) -> str:
    """Check the signature headers against any of the secrets; return the message id.
    Raises SignatureError with the reason."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise SignatureError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a Unix time in seconds.") from None
    if abs(now.timestamp() - sent) > TOLERANCE_SECONDS:
        raise SignatureError("webhook-timestamp is more than 5 minutes away from now.")
    offered = {part.split(",", 1)[1] for part in signatures.split() if part.startswith("v1,")}
    for secret in secrets_:
        if not secret:
            continue
        expected = signature(secret, msg_id, sent, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return msg_id
    raise SignatureError("No signature matches.")

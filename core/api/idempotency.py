"""`Idempotency-Key` for creating POSTs.

The same key with the same body replays the first successful response (with the header
`Idempotent-Replayed: true`); the same key with another body or endpoint answers 422; a key whose
first request is still running answers 409. Keys are scoped to the caller and kept
`IDEMPOTENCY_KEY_TTL_HOURS` (24 h). Failed requests release their key, so a corrected retry with the
same key is processed normally.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from core import clock
from core.api.errors import problem, problem_response
from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes the request safe to retry: the same key with the same body replays the first "
        "response; with another body it answers 422. Kept 24 hours."
    ),
)


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    raw = f"{request.method}\n{request.path}\n{body}".encode()
    return hashlib.sha256(raw).hexdigest()


def _scope(request) -> str:
    user = request.user
    return str(user.pk) if user and user.is_authenticated else "anonymous"


def _claim(*, scope: str, key: str, request, fingerprint: str):
    """Insert the in-progress record, or return the existing live one."""
    expiry = clock.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    for _ in range(2):
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    fingerprint=fingerprint,
                )
            return None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
            if existing is None:
                continue
            if existing.created_at < expiry:
                existing.delete()
                continue
            return existing
    return IdempotencyRecord.objects.filter(scope=scope, key=key).first()


def idempotent(handler):
    """Decorate an APIView's `post` to honour the `Idempotency-Key` header."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return problem_response(
                problem(
                    status_code=400,
                    slug="invalid-idempotency-key",
                    title="Invalid Idempotency-Key",
                    detail=f"The {HEADER} header must hold 1 to {MAX_KEY_LENGTH} characters.",
                )
            )
        fingerprint = _fingerprint(request)
        scope = _scope(request)
        existing = _claim(scope=scope, key=key, request=request, fingerprint=fingerprint)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                return problem_response(
                    problem(
                        status_code=422,
                        slug="idempotency-key-reused",
                        title="Idempotency-Key reused",
                        detail=(
                            f"The {HEADER} '{key}' was already used for a different request; "
                            "use a new key for a new request."
                        ),
                    )
                )
            if existing.state == IdempotencyRecord.State.IN_PROGRESS:
                return problem_response(
                    problem(
                        status_code=409,
                        slug="idempotency-key-in-progress",
                        title="Request in progress",
                        detail=f"A request with the {HEADER} '{key}' is still being processed.",
                    )
                )
            replay = Response(existing.response_body, status=existing.response_status)
            replay["Idempotent-Replayed"] = "true"
            return replay

        try:
            response = handler(self, request, *args, **kwargs)
        except BaseException:
            IdempotencyRecord.objects.filter(scope=scope, key=key).delete()
            raise
        if 200 <= response.status_code < 300:
            IdempotencyRecord.objects.filter(scope=scope, key=key).update(
                state=IdempotencyRecord.State.COMPLETED,
                response_status=response.status_code,
                response_body=json.loads(json.dumps(response.data, default=str)),
                updated_at=clock.now(),
            )
        else:
            IdempotencyRecord.objects.filter(scope=scope, key=key).delete()
        return response

    return wrapper

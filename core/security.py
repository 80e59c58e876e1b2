"""Login throttling for the sign-in page and the admin login.

Failed sign-ins are counted in the Django cache per e-mail address and per client address, in a
window of `LOGIN_THROTTLE_WINDOW_SECONDS`. When either count reaches its limit
(`LOGIN_THROTTLE_EMAIL_LIMIT`, `LOGIN_THROTTLE_IP_LIMIT`) further attempts for that e-mail or from
that address are refused for `LOGIN_THROTTLE_LOCKOUT_SECONDS` with a form error, without checking
the password. A successful sign-in clears the e-mail's count. A limit of 0 turns that count off.

The client address is read from `LOGIN_THROTTLE_CLIENT_IP_HEADER` (`REMOTE_ADDR` by default;
behind a proxy, the header the proxy sets to the client's address, e.g. `HTTP_X_REAL_IP`, or
`HTTP_X_FORWARDED_FOR`, whose last entry is the one the proxy added). Several web machines must
share the cache (`CACHE_URL`), or each counts on its own.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest

logger = logging.getLogger(__name__)

THROTTLED_CODE = "throttled"
THROTTLED_MESSAGE = "Too many failed sign-in attempts. Try again in %(minutes)d minute(s)."
_PREFIX = "login-throttle"


def _limits() -> tuple[int, int, int, int]:
    return (
        int(getattr(settings, "LOGIN_THROTTLE_EMAIL_LIMIT", 5)),
        int(getattr(settings, "LOGIN_THROTTLE_IP_LIMIT", 30)),
        int(getattr(settings, "LOGIN_THROTTLE_WINDOW_SECONDS", 900)),
        int(getattr(settings, "LOGIN_THROTTLE_LOCKOUT_SECONDS", 900)),
    )


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    header = getattr(settings, "LOGIN_THROTTLE_CLIENT_IP_HEADER", "REMOTE_ADDR") or "REMOTE_ADDR"
    value = request.META.get(header) or request.META.get("REMOTE_ADDR") or ""
    # A forwarded list: the last entry is the one our own proxy appended.
    return value.split(",")[-1].strip()[:64]


def _subjects(request: HttpRequest | None, email: str) -> list[tuple[str, str, int]]:
    """(kind, key part, limit) of each count that applies to this attempt."""
    email_limit, ip_limit, _, _ = _limits()
    subjects = []
    email = (email or "").strip().lower()
    if email and email_limit > 0:
        subjects.append(("email", hashlib.sha256(email.encode()).hexdigest(), email_limit))
    ip = client_ip(request)
    if ip and ip_limit > 0:
        subjects.append(("ip", hashlib.sha256(ip.encode()).hexdigest(), ip_limit))
    return subjects


def _count_key(kind: str, digest: str) -> str:
    return f"{_PREFIX}:count:{kind}:{digest}"


def _lock_key(kind: str, digest: str) -> str:
    return f"{_PREFIX}:lock:{kind}:{digest}"


def login_lockout_seconds(*, request: HttpRequest | None, email: str) -> int:
    """Seconds until this e-mail / client may try again (0: not locked)."""
    now = time.time()
    remaining = 0.0
    for kind, digest, _ in _subjects(request, email):
        until = cache.get(_lock_key(kind, digest))
        if until is not None:
            remaining = max(remaining, float(until) - now, 1.0)
    return math.ceil(remaining)


def login_failed(*, request: HttpRequest | None, email: str) -> None:
    """Count a failed attempt; lock the e-mail or client that reaches its limit."""
    _, _, window, lockout = _limits()
    for kind, digest, limit in _subjects(request, email):
        key = _count_key(kind, digest)
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count >= limit:
            cache.set(_lock_key(kind, digest), time.time() + lockout, timeout=lockout)
            cache.delete(key)
            logger.warning("Sign-in locked after %s failed attempts", count, extra={"throttle": kind})


def login_succeeded(*, request: HttpRequest | None, email: str) -> None:
    for kind, digest, _ in _subjects(request, email):
        if kind == "email":
            cache.delete(_count_key(kind, digest))


class ThrottledLoginMixin:
    """For an `AuthenticationForm`: refuses a locked e-mail/client with a form error before the
    password is checked, counts wrong passwords, clears the count on success."""

    def clean(self):
        email = str(self.data.get("username") or "")
        wait = login_lockout_seconds(request=self.request, email=email)
        if wait:
            raise ValidationError(THROTTLED_MESSAGE, code=THROTTLED_CODE, params={"minutes": math.ceil(wait / 60)})
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                login_failed(request=self.request, email=email)
            raise
        login_succeeded(request=self.request, email=email)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """The sign-in page's form."""


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin login's form."""

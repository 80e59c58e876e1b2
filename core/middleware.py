"""Project middleware: the viewer's time zone (pages show dates where the viewer is) and the
Content-Security-Policy header."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import unquote

from django.conf import settings
from django.utils import timezone

TZ_COOKIE = "tz"


def valid_timezone(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a directory of the zone database ("America") or an unreadable file.
        return None


class ViewerTimezoneMiddleware:
    """A signed-in user's profile time zone wins; otherwise the browser's zone, which a small
    script stores in the `tz` cookie; otherwise UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = None
        if user is not None and user.is_authenticated:
            zone = valid_timezone(getattr(user, "timezone", None))
        if zone is None:
            # tz.js writes the zone with encodeURIComponent ("Asia%2FTokyo"); Django does not
            # decode cookie values.
            zone = valid_timezone(unquote(request.COOKIES.get(TZ_COOKIE) or ""))
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# --- Content-Security-Policy ------------------------------------------------------------------

CSP_HEADER = "Content-Security-Policy"
CSP_REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"


def csp_header_value(directives: Mapping[str, Iterable[str]]) -> str:
    """`{"default-src": ["'self'"], ...}` as a header value; an empty source list leaves the
    directive out."""
    parts = []
    for name, sources in directives.items():
        sources = list(sources)
        if sources:
            parts.append(" ".join([name, *sources]))
    return "; ".join(parts)


def csp_override(view: Callable, **directives: Iterable[str]) -> Callable:
    """Wrap a view so its responses use these directives instead of the site-wide ones
    (`style_src=[...]` stands for `style-src`). For third-party pages that need more than the
    strict policy; every other page keeps it."""
    replaced = {name.replace("_", "-"): list(sources) for name, sources in directives.items()}

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.csp_directives = replaced
        return response

    return wrapped


class ContentSecurityPolicyMiddleware:
    """Sets the Content-Security-Policy header from `settings.CONTENT_SECURITY_POLICY` (a dict of
    directive -> sources; empty or None turns the header off) on every response that has none.
    With `CONTENT_SECURITY_POLICY_REPORT_ONLY` the browser reports violations without blocking."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        if not policy:
            return response
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", False)
        header = CSP_REPORT_ONLY_HEADER if report_only else CSP_HEADER
        if header in response:
            return response
        directives = dict(policy)
        directives.update(getattr(response, "csp_directives", None) or {})
        value = csp_header_value(directives)
        if value:
            response[header] = value
        return response

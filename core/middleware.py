"""Activate the viewer's time zone so pages show dates where the viewer is."""

from __future__ import annotations

import zoneinfo
from urllib.parse import unquote

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

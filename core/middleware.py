"""Activate the viewer's time zone so pages show dates where the viewer is."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

TZ_COOKIE = "tz"


def valid_timezone(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
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
            zone = valid_timezone(request.COOKIES.get(TZ_COOKIE))
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

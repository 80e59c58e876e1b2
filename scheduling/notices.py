"""The notification kinds scheduling sends (registered in `SchedulingConfig.ready()`); each has
its templates in `scheduling/templates/notifications/<kind>/`."""

from __future__ import annotations

SESSION_REMINDER = "session_reminder"
SESSION_CANCELLED = "session_cancelled"
SESSION_RESCHEDULED = "session_rescheduled"
SESSION_PROMOTED = "session_waitlist_promoted"
HOST_CONFIRMATION_REQUESTED = "session_host_confirmation_requested"
HOST_REASSIGN_NEEDED = "session_host_reassign_needed"

KINDS = [
    (SESSION_REMINDER, "A registered participant is reminded of a session (per configured offset)."),
    (SESSION_CANCELLED, "A session a participant registered for was cancelled."),
    (SESSION_RESCHEDULED, "A session a participant registered for moved to a new time."),
    (SESSION_PROMOTED, "A waitlisted participant got a place at a session."),
    (HOST_CONFIRMATION_REQUESTED, "A host is asked to confirm they will run a session."),
    (HOST_REASSIGN_NEEDED, "Operators: a host declined a session or missed the deadline to confirm."),
]


def my_sessions_url() -> str:
    from django.conf import settings
    from django.urls import NoReverseMatch, reverse

    try:
        return settings.SITE_URL + reverse("my-sessions")
    except NoReverseMatch:  # the page is not wired in this configuration
        return settings.SITE_URL + "/sessions/"

"""The notification kinds mentorship sends (registered in `MentorshipConfig.ready()`); each has
its templates in `mentorship/templates/notifications/<kind>/`."""

from __future__ import annotations

MATCH_PROPOSED = "mentorship_match_proposed"
MATCH_STARTED = "mentorship_match_started"
MATCH_ENDED = "mentorship_match_ended"
CHECKIN_DUE = "mentorship_checkin_due"

KINDS = [
    (MATCH_PROPOSED, "transactional", True, "A mentor or mentee is asked to accept a proposed match."),
    (MATCH_STARTED, "transactional", True, "A match was approved: both people learn who their partner is."),
    (MATCH_ENDED, "transactional", True, "A match ended."),
    (CHECKIN_DUE, "nudge", False, "Weekly: a pair has had no check-in for the program's interval."),
]


def my_matches_url() -> str:
    from django.conf import settings
    from django.urls import NoReverseMatch, reverse

    try:
        return settings.SITE_URL + reverse("my-matches")
    except NoReverseMatch:  # the page is not wired in this configuration
        return settings.SITE_URL + "/matches/"

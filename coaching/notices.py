"""The notification kinds the coach sends (registered in `CoachingConfig.ready()`); each has its
templates in `coaching/templates/notifications/<kind>/`. All are nudges: group "nudge" (one e-mail
and one dashboard nudge per person per rolling 24 h, quiet hours respected), not essential (a
person may opt out). Every coach message renders the same context (see `coaching.nudges`): its own
`items` and the `earlier` items that a rate limit held back and that fold into it."""

from __future__ import annotations

DEADLINE_REMINDER = "coach_deadline_reminder"
MICRO_TASK = "coach_micro_task"
CHECK_IN = "coach_check_in"

GROUP = "nudge"

KINDS = [
    (
        DEADLINE_REMINDER,
        GROUP,
        False,
        "Hourly: one message listing every open pursuit newly due within 72 h or within 24 h.",
    ),
    (
        MICRO_TASK,
        GROUP,
        False,
        "Hourly: a small next step for a pursuit with no progress for 48 h and its deadline within 7 days.",
    ),
    (CHECK_IN, GROUP, False, "Daily: 'Have you heard back?' 21 days after a pursuit was submitted."),
]
COACH_KINDS = tuple(key for key, _, _, _ in KINDS)


def game_plan_url() -> str:
    from django.conf import settings
    from django.urls import NoReverseMatch, reverse

    try:
        return settings.SITE_URL + reverse("game-plan")
    except NoReverseMatch:  # the page is not wired in this configuration
        return settings.SITE_URL + "/coach/"

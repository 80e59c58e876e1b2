"""Choices of the notifications app, importable from anywhere without cycles."""

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    DASHBOARD = "dashboard", "Dashboard"


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"


class SuppressedReason(models.TextChoices):
    RATE_LIMITED = "rate_limited", "Rate limited"
    OPTED_OUT = "opted_out", "Opted out of this kind"
    EMAIL_DISABLED = "email_disabled", "E-mail turned off"
    INACTIVE_USER = "inactive_user", "Inactive user"


class KindGroup:
    """Well-known kind groups. Any other group name may be used; rate limits are per group."""

    TRANSACTIONAL = "transactional"  # decisions, confirmations, account notices: never rate limited
    NUDGE = "nudge"  # reminders and prompts: rate limited, delayed by quiet hours

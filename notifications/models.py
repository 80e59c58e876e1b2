"""The notification log (one row per user, kind and channel), rate limits as data, and each
user's preferences."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from core.models import BaseModel
from notifications.enums import Channel, KindGroup, NotificationStatus, SuppressedReason


class Notification(BaseModel):
    """One notification to one user on one channel: what was rendered, and what became of it.

    Rows are never deleted to "undo" a send: a suppressed notification (opted out, rate limited,
    inactive user) is recorded with its reason, so operators can see why nothing arrived."""

    # No index of its own: notification_window_idx starts with user_id.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    kind = models.CharField(max_length=100)
    kind_group = models.CharField(max_length=50)
    template_name = models.CharField(
        max_length=255, help_text="The template folder of the kind, or 'inline:<kind>' for inline templates."
    )
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    dashboard_text = models.TextField(blank=True)
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    related = models.JSONField(
        default=list, blank=True, help_text='References to the objects it is about: [{"type": ..., "id": ...}].'
    )
    status = models.CharField(max_length=20, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED)
    suppressed_reason = models.CharField(max_length=30, choices=SuppressedReason.choices, blank=True)
    dedupe_key = models.CharField(max_length=255, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker delivering it holds it until then (a lease)."
    )
    last_error = models.TextField(blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text="Held back until then (quiet hours).")
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Exactly once: a dedupe key names one notification per channel, whoever races.
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=Q(dedupe_key__isnull=False), name="notification_unique_dedupe_key"
            ),
            models.CheckConstraint(
                condition=(Q(status=NotificationStatus.SUPPRESSED) & ~Q(suppressed_reason=""))
                | (~Q(status=NotificationStatus.SUPPRESSED) & Q(suppressed_reason="")),
                name="notification_suppressed_has_reason",
            ),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="notification_channel_valid"),
        ]
        indexes = [
            # The rolling-window rate-limit check (source 004 section 2).
            models.Index(fields=["user", "channel", "kind_group", "-created_at"], name="notification_window_idx"),
            # The dispatcher's scan: only rows still waiting.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=NotificationStatus.QUEUED),
                name="notification_queued_idx",
            ),
            # The inbox and its unread badge.
            models.Index(
                fields=["user", "-sent_at"],
                condition=Q(channel=Channel.DASHBOARD, status=NotificationStatus.SENT),
                name="notification_inbox_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel} ({self.status})"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class RateLimitPolicy(BaseModel):
    """At most `max_count` notifications of a kind group per user and channel in a rolling
    window of `window_hours`. Groups without a policy are not limited; transactional never is."""

    group = models.CharField(max_length=50)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    max_count = models.PositiveIntegerField()
    window_hours = models.PositiveIntegerField(default=24)

    class Meta:
        ordering = ["group", "channel"]
        verbose_name = "rate limit policy"
        verbose_name_plural = "rate limit policies"
        constraints = [
            models.UniqueConstraint(fields=["group", "channel"], name="ratelimit_unique_group_channel"),
            models.CheckConstraint(
                condition=~Q(group=KindGroup.TRANSACTIONAL),
                name="ratelimit_not_transactional",
                violation_error_message="Transactional notifications are never rate limited.",
            ),
            models.CheckConstraint(
                condition=Q(window_hours__gte=1),
                name="ratelimit_window_positive",
                violation_error_message="The window lasts at least one hour.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}/{self.channel}: {self.max_count} per {self.window_hours} h"


class NotificationPreference(BaseModel):
    """A user's choices. Its row is also the lock that serialises `notify` per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    opted_out_kinds = models.JSONField(default=list, blank=True, help_text="Non-essential kinds not wanted.")
    quiet_hours_start = models.TimeField(null=True, blank=True, help_text="In the user's time zone.")
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text="May be earlier than the start (overnight).")
    email_enabled = models.BooleanField(default=True, help_text="Off: only essential notifications arrive by e-mail.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="notificationpreference_quiet_hours_both_or_neither",
                violation_error_message="Set both ends of the quiet hours, or neither.",
            ),
        ]

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"

    @property
    def has_quiet_hours(self) -> bool:
        return (
            self.quiet_hours_start is not None
            and self.quiet_hours_end is not None
            and self.quiet_hours_start != self.quiet_hours_end
        )

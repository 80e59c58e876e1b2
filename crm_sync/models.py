"""The transactional outbox, subscribers and their deliveries, the CRM sync queue, and inbound
partner events. This app knows no domain app: subjects and programs are plain ids."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import BaseModel
from crm_sync.enums import DeliveryStatus, InboundStatus, SubscriberKind


class OutboxEvent(BaseModel):
    """An event in the envelope of the registry, written in the transaction of the change it
    describes (`id` is the envelope's event_id)."""

    created_at = models.DateTimeField(auto_now_add=True)
    event_type = models.CharField(max_length=100, db_index=True)
    schema_version = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    producer = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=200)
    actor = models.CharField(max_length=250)
    correlation_id = models.CharField(max_length=200, null=True, blank=True)
    causation_id = models.CharField(max_length=200, null=True, blank=True)
    payload = models.JSONField(default=dict)
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(
                fields=["occurred_at", "id"], condition=Q(fanned_out_at__isnull=True), name="outbox_not_fanned_out"
            ),
            models.Index(fields=["subject_type", "subject_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} v{self.schema_version} {self.subject_type}:{self.subject_id}"

    def envelope(self) -> dict:
        return {
            "event_id": str(self.id),
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "occurred_at": self.occurred_at.isoformat(),
            "producer": self.producer,
            "subject": {"type": self.subject_type, "id": self.subject_id},
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "payload": self.payload,
        }


class Subscriber(BaseModel):
    """A receiver of events: a partner webhook or a CRM."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=SubscriberKind.choices, default=SubscriberKind.WEBHOOK)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="whsec_… Standard Webhooks signing secret.")
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(default=list, help_text='Event types delivered; ["*"] for all.')
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class Delivery(BaseModel):
    """One event to one subscriber. Events of one subject reach a subscriber in order: a delivery
    waits while an earlier one of the same subject and subscriber is unfinished.

    Each row is written three times (pending, in flight, done), so it carries only the indexes
    the dispatcher and the operators' filters need."""

    created_at = models.DateTimeField(auto_now_add=True)
    # The unique (event, subscriber) constraint indexes event lookups.
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    # Copied from the event, so the ordering rule is one indexed query.
    subject_key = models.CharField(max_length=310)
    event_occurred_at = models.DateTimeField()
    event_type = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-event_occurred_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="delivery_one_per_event_subscriber"),
        ]
        indexes = [
            # Unfinished deliveries only (finished ones leave these indexes): the claim walks the
            # first in event order, and the ordering rule looks up earlier ones of the same subject.
            models.Index(
                fields=["event_occurred_at", "event"],
                condition=Q(status__in=["pending", "in_flight", "failed"]),
                name="delivery_unfinished_order",
            ),
            models.Index(
                fields=["subscriber", "subject_key", "event_occurred_at", "event"],
                condition=Q(status__in=["pending", "in_flight", "failed"]),
                name="delivery_unfinished_subject",
            ),
            models.Index(
                fields=["-event_occurred_at"],
                condition=Q(status__in=["failed", "dead"]),
                name="delivery_needs_attention",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscriber_id} ({self.status})"


class CrmSyncItem(BaseModel):
    """A record of a program an operator queued for the CRM. Its state is its event's deliveries."""

    program_id = models.UUIDField(db_index=True)
    entity_type = models.CharField(max_length=50)
    entity_id = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.OneToOneField(OutboxEvent, on_delete=models.PROTECT, related_name="crm_sync_item")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["program_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.entity_type}:{self.entity_id}"


class InboundSource(BaseModel):
    """A partner system allowed to send events (buddy, kintell, ...), with its signing secret."""

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class InboundEvent(BaseModel):
    """An event a partner sent: stored before it is processed, so nothing is lost."""

    source = models.ForeignKey(InboundSource, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100, blank=True, db_index=True)
    schema_version = models.PositiveIntegerField(null=True, blank=True)
    envelope = models.JSONField(default=dict, blank=True)
    raw_body = models.TextField(blank=True, help_text="Kept for rejected events that were not JSON.")
    status = models.CharField(max_length=20, choices=InboundStatus.choices, db_index=True)
    error = models.TextField(blank=True)
    errors = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="inbound_event_once_per_source"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="inbound_due")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.event_id} {self.event_type} ({self.status})"

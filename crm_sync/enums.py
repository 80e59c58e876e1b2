from django.db import models


class SubscriberKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (signed JSON POST)"
    CRM = "crm", "CRM"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_FLIGHT = "in_flight", "In flight"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (will retry)"
    DEAD = "dead", "Dead (gave up)"


# Statuses of a delivery that is not finished: it blocks later events of its subject.
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT, DeliveryStatus.FAILED)


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received (waiting for its handler)"
    PROCESSED = "processed", "Processed"
    SKIPPED = "skipped", "Skipped (no handler)"
    FAILED = "failed", "Failed (will retry)"
    REJECTED = "rejected", "Rejected (invalid)"


class CrmSyncStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PENDING = "pending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (will retry)"
    DEAD = "dead", "Dead (gave up)"

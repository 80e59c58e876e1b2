from __future__ import annotations

from typing import Any

from django.db.models import Case, CharField, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from crm_sync.enums import CrmSyncStatus, DeliveryStatus, SubscriberKind
from crm_sync.models import CrmSyncItem, Delivery, InboundEvent, InboundSource, OutboxEvent, Subscriber


def subscriber_list() -> QuerySet[Subscriber]:
    return Subscriber.objects.filter(deleted_at__isnull=True).order_by("name", "id")


def delivery_list() -> QuerySet[Delivery]:
    return Delivery.objects.select_related("subscriber").order_by("-event_occurred_at", "id")


def outbox_list() -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.order_by("-occurred_at", "id")


def inbound_source_list() -> QuerySet[InboundSource]:
    return InboundSource.objects.order_by("key")


def inbound_event_list() -> QuerySet[InboundEvent]:
    return InboundEvent.objects.select_related("source").order_by("-created_at", "id")


def _crm_deliveries():
    """The deliveries of an item's event to CRM subscribers: a partner webhook that takes every
    event type also receives sync requests, but its deliveries say nothing about the CRM."""
    return Delivery.objects.filter(event_id=OuterRef("event_id"), subscriber__kind=SubscriberKind.CRM)


def _delivery_count(*statuses: str):
    deliveries = _crm_deliveries()
    if statuses:
        deliveries = deliveries.filter(status__in=statuses)
    counted = deliveries.order_by().values("event_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def crm_sync_items(program_id: Any) -> QuerySet[CrmSyncItem]:
    """The program's queued records with the state of their deliveries: `queued` until the event
    has deliveries to a CRM subscriber, then `dead`, `failed` (retrying), `pending` (on the way)
    or `sent`."""
    deliveries = _crm_deliveries()
    return (
        CrmSyncItem.objects.filter(program_id=program_id)
        .annotate(
            n_all=_delivery_count(),
            n_dead=_delivery_count(DeliveryStatus.DEAD),
            n_failed=_delivery_count(DeliveryStatus.FAILED),
            n_open=_delivery_count(DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT),
            attempts=Coalesce(
                Subquery(deliveries.order_by("-attempts").values("attempts")[:1], output_field=IntegerField()), 0
            ),
            last_error=Coalesce(
                Subquery(deliveries.exclude(last_error="").order_by("-updated_at").values("last_error")[:1]),
                Value(""),
                output_field=CharField(),
            ),
            last_attempt_at=Subquery(deliveries.order_by("-updated_at").values("updated_at")[:1]),
        )
        .annotate(
            status=Case(
                When(n_all=0, then=Value(CrmSyncStatus.QUEUED)),
                When(n_dead__gt=0, then=Value(CrmSyncStatus.DEAD)),
                When(n_failed__gt=0, then=Value(CrmSyncStatus.FAILED)),
                When(n_open__gt=0, then=Value(CrmSyncStatus.PENDING)),
                default=Value(CrmSyncStatus.SENT),
                output_field=CharField(),
            )
        )
        .order_by("-created_at", "id")
    )


def crm_sync_summary(program_id: Any, *, limit: int = 50) -> dict[str, Any]:
    items = crm_sync_items(program_id)
    counts = {status: 0 for status in CrmSyncStatus.values}
    for row in items.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return {
        "program_id": program_id,
        "total": sum(counts.values()),
        "counts": counts,
        "items": list(items[:limit]),
    }

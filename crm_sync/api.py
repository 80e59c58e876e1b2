from __future__ import annotations

import django_filters
from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import problem, problem_response
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound
from crm_sync import hooks
from crm_sync import registry as event_registry
from crm_sync.enums import CrmSyncStatus, DeliveryStatus, InboundStatus, SubscriberKind
from crm_sync.models import Delivery, InboundEvent, InboundSource, OutboxEvent, Subscriber
from crm_sync.selectors import (
    crm_sync_summary,
    delivery_list,
    inbound_event_list,
    inbound_source_list,
    outbox_list,
    subscriber_list,
)
from crm_sync.services import (
    crm_sync_request,
    delivery_replay,
    inbound_receive,
    inbound_replay,
    inbound_source_create,
    inbound_source_rotate_secret,
    subscriber_create,
    subscriber_delete,
    subscriber_rotate_secret,
    subscriber_update,
)

SUB_TAGS = ["admin: subscribers"]
DELIVERY_TAGS = ["admin: deliveries"]
INBOUND_TAGS = ["admin: inbound events"]


def _secret_hint(secret: str) -> str:
    return secret[:10] + "…" if secret else ""


# --- Subscribers --------------------------------------------------------------------------------


class SubscriberOutput(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField())
    secret_hint = serializers.SerializerMethodField()

    class Meta:
        model = Subscriber
        fields = [
            "id",
            "name",
            "kind",
            "url",
            "event_types",
            "active",
            "disabled_reason",
            "secret_hint",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]

    def get_secret_hint(self, obj) -> str:
        return _secret_hint(obj.secret)


class SubscriberWithSecretOutput(SubscriberOutput):
    secret = serializers.CharField(help_text="Shown only in this response: store it now.")

    class Meta(SubscriberOutput.Meta):
        fields = [*SubscriberOutput.Meta.fields, "secret"]


class SubscriberFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SubscriberKind.choices)

    class Meta:
        model = Subscriber
        fields = ["kind", "active"]


class SubscriberListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = SubscriberOutput
    filterset_class = SubscriberFilter

    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(choices=SubscriberKind.choices, default=SubscriberKind.WEBHOOK)
        url = serializers.URLField(max_length=500)
        event_types = serializers.ListField(child=serializers.CharField(max_length=100), max_length=200)
        secret = serializers.CharField(max_length=200, required=False)

        class Meta:
            ref_name = "SubscriberCreate"

    def get_queryset(self):
        return subscriber_list()

    @extend_schema(operation_id="admin_subscribers_list", tags=SUB_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_subscribers_create",
        description="Register a webhook or CRM receiver. The response shows the signing `secret` "
        "(generated unless given) once.",
        request=Input,
        responses={201: SubscriberWithSecretOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=SUB_TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        subscriber = subscriber_create(actor=request.user, **data.validated_data)
        return Response(SubscriberWithSecretOutput(subscriber).data, status=status.HTTP_201_CREATED)


class SubscriberDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        url = serializers.URLField(max_length=500, required=False)
        event_types = serializers.ListField(child=serializers.CharField(max_length=100), max_length=200, required=False)
        active = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "SubscriberUpdate"

    @extend_schema(operation_id="admin_subscribers_retrieve", responses={200: SubscriberOutput}, tags=SUB_TAGS)
    def get(self, request, subscriber_id):
        return Response(SubscriberOutput(get_object_or_404(subscriber_list(), pk=subscriber_id)).data)

    @extend_schema(
        operation_id="admin_subscribers_update", request=Input, responses={200: SubscriberOutput}, tags=SUB_TAGS
    )
    def patch(self, request, subscriber_id):
        subscriber = get_object_or_404(subscriber_list(), pk=subscriber_id)
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        subscriber = subscriber_update(subscriber=subscriber, data=data.validated_data, actor=request.user)
        return Response(SubscriberOutput(subscriber).data)

    @extend_schema(
        operation_id="admin_subscribers_destroy",
        description="Stop delivering to the subscriber; its delivery history stays.",
        responses={204: None},
        tags=SUB_TAGS,
    )
    def delete(self, request, subscriber_id):
        subscriber_delete(subscriber=get_object_or_404(subscriber_list(), pk=subscriber_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriberRotateSecretApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_subscribers_rotate_secret",
        description="Issue a new signing secret (shown once). For 24 hours deliveries carry "
        "signatures with both the new and the previous secret.",
        request=None,
        responses={200: SubscriberWithSecretOutput},
        tags=SUB_TAGS,
    )
    def post(self, request, subscriber_id):
        subscriber = get_object_or_404(subscriber_list(), pk=subscriber_id)
        subscriber = subscriber_rotate_secret(subscriber=subscriber, actor=request.user)
        return Response(SubscriberWithSecretOutput(subscriber).data)


# --- Outbox and deliveries ----------------------------------------------------------------------


class OutboxEventOutput(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="id")
    subject = serializers.SerializerMethodField()
    payload = serializers.DictField()

    class Meta:
        model = OutboxEvent
        fields = [
            "event_id",
            "event_type",
            "schema_version",
            "occurred_at",
            "producer",
            "subject",
            "actor",
            "correlation_id",
            "causation_id",
            "payload",
            "fanned_out_at",
        ]

    def get_subject(self, obj) -> dict[str, str]:
        return {"type": obj.subject_type, "id": obj.subject_id}


class OutboxFilter(django_filters.FilterSet):
    event_type = django_filters.CharFilter()
    subject_type = django_filters.CharFilter()
    subject_id = django_filters.CharFilter()

    class Meta:
        model = OutboxEvent
        fields = ["event_type", "subject_type", "subject_id"]


class OutboxListApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = OutboxEventOutput
    filterset_class = OutboxFilter

    def get_queryset(self):
        return outbox_list()

    @extend_schema(operation_id="admin_outbox_list", tags=DELIVERY_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DeliveryOutput(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    subscriber_id = serializers.UUIDField(read_only=True)
    subscriber_name = serializers.CharField(source="subscriber.name", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "subscriber_id",
            "subscriber_name",
            "subject_key",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "replayed_at",
            "created_at",
        ]


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    subscriber = django_filters.UUIDFilter(field_name="subscriber_id")
    event = django_filters.UUIDFilter(field_name="event_id")
    event_type = django_filters.CharFilter()

    class Meta:
        model = Delivery
        fields = ["status", "subscriber", "event", "event_type"]


class DeliveryListApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = DeliveryOutput
    filterset_class = DeliveryFilter

    def get_queryset(self):
        return delivery_list()

    @extend_schema(operation_id="admin_deliveries_list", tags=DELIVERY_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DeliveryReplayApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_deliveries_replay",
        description="Send a dead or failing delivery again now (409 for other statuses).",
        request=None,
        responses={200: DeliveryOutput},
        tags=DELIVERY_TAGS,
    )
    def post(self, request, delivery_id):
        delivery = delivery_replay(delivery=get_object_or_404(delivery_list(), pk=delivery_id), actor=request.user)
        return Response(DeliveryOutput(delivery_list().get(pk=delivery.pk)).data)


class EventTypeVersionOutput(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    registered_at = serializers.DateField()
    deprecated_at = serializers.DateField(allow_null=True)
    active_from = serializers.DateField(allow_null=True)
    cutover = serializers.DateField(allow_null=True)
    payload_schema = serializers.DictField(allow_null=True)
    notes = serializers.CharField()


class EventTypeOutput(serializers.Serializer):
    event_type = serializers.CharField()
    producer = serializers.CharField()
    consumers = serializers.ListField(child=serializers.CharField())
    owning_contract = serializers.CharField(allow_null=True)
    active_version = serializers.IntegerField()
    versions = EventTypeVersionOutput(many=True)


class EventTypeListApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_event_types_list",
        description="The event-type registry with every version's JSON Schema and cutover date.",
        responses={200: EventTypeOutput(many=True)},
        tags=DELIVERY_TAGS,
    )
    def get(self, request):
        reg = event_registry.registry()
        rows = [
            {
                "event_type": kind.name,
                "producer": kind.producer,
                "consumers": list(kind.consumers),
                "owning_contract": kind.owning_contract,
                "active_version": kind.active.version,
                "versions": [
                    {
                        "version": v.version,
                        "status": v.status,
                        "registered_at": v.registered_at,
                        "deprecated_at": v.deprecated_at,
                        "active_from": v.active_from,
                        "cutover": kind.cutover(v, reg.cutover_days),
                        "payload_schema": v.validator.schema if v.validator is not None else None,
                        "notes": v.notes,
                    }
                    for v in kind.versions
                ],
            }
            for kind in sorted(reg.types.values(), key=lambda k: k.name)
        ]
        return Response(EventTypeOutput(rows, many=True).data)


# --- CRM sync queue -----------------------------------------------------------------------------


class CrmSyncItemOutput(serializers.Serializer):
    id = serializers.UUIDField()
    entity_type = serializers.CharField()
    entity_id = serializers.CharField()
    status = serializers.ChoiceField(choices=CrmSyncStatus.choices)
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    event_id = serializers.UUIDField()
    requested_at = serializers.DateTimeField(source="created_at")


class CrmSyncSummaryOutput(serializers.Serializer):
    program_id = serializers.UUIDField()
    total = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    items = CrmSyncItemOutput(many=True)


class CrmSyncQueuedOutput(serializers.Serializer):
    program_id = serializers.UUIDField()
    entity_type = serializers.CharField()
    queued = serializers.IntegerField()
    items = CrmSyncItemOutput(many=True)


class CrmSyncApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        entity_type = serializers.CharField(max_length=50)
        entity_ids = serializers.ListField(
            child=serializers.CharField(max_length=200), required=False, allow_empty=False, max_length=5000
        )
        reason = serializers.CharField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "CrmSyncRequest"

    @extend_schema(
        operation_id="admin_programs_crm_sync_status",
        description="Counts by status and the latest queued records with attempts and errors.",
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, description="Items listed (1-200, default 50).")],
        responses={200: CrmSyncSummaryOutput},
        tags=["admin: crm sync"],
    )
    def get(self, request, program_id):
        if not hooks.program_exists(program_id):
            raise NotFound(f"No program with the id {program_id}.")
        try:
            limit = min(max(int(request.query_params.get("limit", 50)), 1), 200)
        except ValueError:
            limit = 50
        return Response(CrmSyncSummaryOutput(crm_sync_summary(program_id, limit=limit)).data)

    @extend_schema(
        operation_id="admin_programs_crm_sync_request",
        description="Queue records of the program for the CRM (all of the type when `entity_ids` is "
        "left out). Each record becomes a `program_crm_sync_requested` event with its current data, "
        "delivered to the CRM subscribers. Entity types are those the installed apps register: "
        "`enrollment`, `participant` (and `application`, `outcome` once those apps are installed).",
        request=Input,
        responses={202: CrmSyncQueuedOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=["admin: crm sync"],
    )
    @idempotent
    def post(self, request, program_id):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        items = crm_sync_request(program_id=program_id, actor=request.user, **data.validated_data)
        rows = [
            {
                "id": item.id,
                "entity_type": item.entity_type,
                "entity_id": item.entity_id,
                "status": CrmSyncStatus.QUEUED,
                "attempts": 0,
                "last_error": "",
                "last_attempt_at": None,
                "reason": item.reason,
                "event_id": item.event_id,
                "created_at": item.created_at,
            }
            for item in items
        ]
        body = {
            "program_id": program_id,
            "entity_type": data.validated_data["entity_type"],
            "queued": len(items),
            "items": rows,
        }
        return Response(CrmSyncQueuedOutput(body).data, status=status.HTTP_202_ACCEPTED)


# --- Inbound ------------------------------------------------------------------------------------


class InboundEventOutput(serializers.ModelSerializer):
    source = serializers.CharField(source="source.key")
    envelope = serializers.DictField()
    errors = serializers.DictField(child=serializers.CharField())

    class Meta:
        model = InboundEvent
        fields = [
            "id",
            "source",
            "event_id",
            "event_type",
            "schema_version",
            "status",
            "error",
            "errors",
            "attempts",
            "next_attempt_at",
            "processed_at",
            "envelope",
            "created_at",
            "updated_at",
        ]


class InboundAcceptedOutput(serializers.Serializer):
    event_id = serializers.CharField()
    status = serializers.CharField()
    duplicate = serializers.BooleanField()


class InboundEventReceiveApi(APIView):
    """Partner systems POST signed events here."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="integrations_events_receive",
        description="A partner system sends one event in the platform's envelope, signed with the "
        "source's secret (Standard Webhooks headers `webhook-id`, `webhook-timestamp`, "
        "`webhook-signature`; 5-minute tolerance). 202: accepted and queued for its handler; 200: "
        "this event id was already received (not processed again); 401: bad signature; 422: the "
        "envelope or payload does not match the registry (stored as rejected, `errors` names the "
        "paths); deprecated schema versions are accepted until their cutover date.",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: InboundAcceptedOutput, 202: InboundAcceptedOutput},
        auth=[],
        tags=["integrations"],
    )
    def post(self, request, source):
        limit = getattr(settings, "CRM_INBOUND_MAX_BYTES", 256 * 1024)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return problem_response(
                problem(
                    status_code=413,
                    slug="payload-too-large",
                    title="Payload too large",
                    detail=f"Events are at most {limit} bytes.",
                )
            )
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return problem_response(
                problem(
                    status_code=415,
                    slug="unsupported-media-type",
                    title="Unsupported media type",
                    detail=f'Unsupported media type "{content_type}" in request; send application/json.',
                )
            )
        event, created = inbound_receive(source_key=source, headers=request.headers, body=request.body)
        body = {"event_id": event.event_id, "status": event.status, "duplicate": not created}
        return Response(body, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class InboundSourceOutput(serializers.ModelSerializer):
    secret_hint = serializers.SerializerMethodField()

    class Meta:
        model = InboundSource
        fields = ["id", "key", "name", "active", "secret_hint", "previous_secret_expires_at", "created_at"]

    def get_secret_hint(self, obj) -> str:
        return _secret_hint(obj.secret)


class InboundSourceWithSecretOutput(InboundSourceOutput):
    secret = serializers.CharField(help_text="Shown only in this response: store it now.")

    class Meta(InboundSourceOutput.Meta):
        fields = [*InboundSourceOutput.Meta.fields, "secret"]


class InboundSourceListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = InboundSourceOutput

    class Input(serializers.Serializer):
        key = serializers.SlugField(max_length=50)
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        secret = serializers.CharField(max_length=200, required=False)

        class Meta:
            ref_name = "InboundSourceCreate"

    def get_queryset(self):
        return inbound_source_list()

    @extend_schema(operation_id="admin_inbound_sources_list", tags=INBOUND_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_inbound_sources_create",
        description="Allow a partner system to send events to /api/v1/integrations/events/{key}. "
        "The response shows the signing `secret` (generated unless given) once.",
        request=Input,
        responses={201: InboundSourceWithSecretOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=INBOUND_TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        source = inbound_source_create(actor=request.user, **data.validated_data)
        return Response(InboundSourceWithSecretOutput(source).data, status=status.HTTP_201_CREATED)


class InboundSourceRotateSecretApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_inbound_sources_rotate_secret",
        description="Issue a new secret (shown once); the previous one stays valid for 24 hours.",
        request=None,
        responses={200: InboundSourceWithSecretOutput},
        tags=INBOUND_TAGS,
    )
    def post(self, request, source_id):
        source = inbound_source_rotate_secret(
            source=get_object_or_404(inbound_source_list(), pk=source_id), actor=request.user
        )
        return Response(InboundSourceWithSecretOutput(source).data)


class InboundEventFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InboundStatus.choices)
    source = django_filters.CharFilter(field_name="source__key")
    event_type = django_filters.CharFilter()

    class Meta:
        model = InboundEvent
        fields = ["status", "source", "event_type"]


class InboundEventListApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = InboundEventOutput
    filterset_class = InboundEventFilter

    def get_queryset(self):
        return inbound_event_list()

    @extend_schema(operation_id="admin_inbound_events_list", tags=INBOUND_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InboundEventReplayApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_inbound_events_replay",
        description="Process a failed, rejected or skipped event again (a rejected one is validated "
        "again first: 400 naming the paths if it still does not match).",
        request=None,
        responses={200: InboundEventOutput},
        tags=INBOUND_TAGS,
    )
    def post(self, request, event_id):
        event = inbound_replay(event=get_object_or_404(inbound_event_list(), pk=event_id), actor=request.user)
        return Response(InboundEventOutput(inbound_event_list().get(pk=event.pk)).data)

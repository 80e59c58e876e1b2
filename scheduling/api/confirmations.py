"""The host's API: see one's host confirmation requests and answer them."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Case, IntegerField, Q, Value, When
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core import clock
from core.errors import NotFound
from scheduling.enums import ConfirmationStatus
from scheduling.models import HostConfirmation, Session
from scheduling.services import host_confirmation_decide

TAGS = ["sessions"]

# Answered, expired and withdrawn requests stay in the list this long after they were closed.
RECENT = timedelta(days=30)


class ConfirmationSessionOutput(serializers.ModelSerializer):
    class Meta:
        model = Session
        ref_name = "HostConfirmationSession"
        fields = ["id", "program_id", "title", "kind", "status", "starts_at", "ends_at", "timezone"]

    program_id = serializers.UUIDField(read_only=True)


class MyHostConfirmationOutput(serializers.ModelSerializer):
    class Meta:
        model = HostConfirmation
        ref_name = "MyHostConfirmation"
        fields = ["id", "status", "deadline", "decided_at", "reason", "can_answer", "session", "created_at"]

    session = ConfirmationSessionOutput(read_only=True)
    can_answer = serializers.SerializerMethodField(help_text="Pending and the deadline has not passed.")

    def get_can_answer(self, obj) -> bool:
        return obj.status == ConfirmationStatus.PENDING and clock.now() <= obj.deadline


class MyHostConfirmationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ConfirmationStatus.choices)

    class Meta:
        model = HostConfirmation
        fields = ["status"]


def my_host_confirmations(user):
    """The user's pending requests (soonest deadline first), then those answered, expired or
    withdrawn in the last 30 days (latest first)."""
    since = clock.now() - RECENT
    pending_first = Case(
        When(status=ConfirmationStatus.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        HostConfirmation.objects.filter(host_id=user.pk)
        .filter(Q(status=ConfirmationStatus.PENDING) | Q(decided_at__gte=since))
        .select_related("session")
        .annotate(pending_first=pending_first)
        .order_by("pending_first", "deadline", "session__starts_at", "-decided_at", "id")
    )


class MyHostConfirmationListApi(ListAPIView):
    serializer_class = MyHostConfirmationOutput
    filterset_class = MyHostConfirmationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return HostConfirmation.objects.none()
        return my_host_confirmations(self.request.user)

    @extend_schema(
        operation_id="me_host_confirmations_list",
        description="Your requests to confirm that you host a session: the pending ones (soonest "
        "deadline first), then those answered, expired or withdrawn in the last 30 days (latest first).",
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyHostConfirmationDecideApi(APIView):
    class Input(serializers.Serializer):
        class Meta:
            ref_name = "HostConfirmationDecision"

        decision = serializers.ChoiceField(choices=[ConfirmationStatus.CONFIRMED, ConfirmationStatus.DECLINED])
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(
        operation_id="me_host_confirmations_decide",
        description="Confirm or decline hosting the session, while the request is pending and up to its "
        "deadline (a reason is optional). Another person's request answers 404; one already answered, "
        "expired or withdrawn, or a passed deadline, answers 409. A decline alerts the program's "
        "operators to assign another host. Emits `coaching.lesson.confirmation_decided`.",
        request=Input,
        responses={200: MyHostConfirmationOutput},
        tags=TAGS,
    )
    def post(self, request, confirmation_id):
        confirmation = HostConfirmation.objects.filter(pk=confirmation_id, host_id=request.user.pk).first()
        if confirmation is None:
            raise NotFound(f"No host confirmation with the id {confirmation_id} is yours.")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        host_confirmation_decide(confirmation=confirmation, user=request.user, **data.validated_data)
        fresh = HostConfirmation.objects.select_related("session").get(pk=confirmation.pk)
        return Response(MyHostConfirmationOutput(fresh).data)

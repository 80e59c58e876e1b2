"""The coach API for the signed-in person (any role, session or token): their pursuits (list, add
an external one, change it, confirm a submission or a win), the snooze, check-in answers and the
game plan. Another person's pursuit or check-in answers 404."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from coaching.enums import ApplicationType, CheckInOutcome, CoachState
from coaching.models import CheckInTask, Pursuit
from coaching.selectors import game_plan
from coaching.services import (
    checkin_complete,
    checkin_dismiss,
    pursuit_confirm,
    pursuit_create_external,
    pursuit_update,
    snooze_set,
)
from core import clock
from core.api.fields import OffsetDateTimeField
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.errors import NotFound

TAGS = ["coach"]
QUESTION = "Have you heard back?"


def _my_pursuit(user: Any, pursuit_id: Any) -> Pursuit:
    pursuit = Pursuit.objects.filter(pk=pursuit_id, user_id=user.pk).first()
    if pursuit is None:
        raise NotFound(f"No pursuit of yours with the id {pursuit_id}.")
    return pursuit


def _my_check_in(user: Any, check_in_id: Any) -> CheckInTask:
    task = CheckInTask.objects.filter(pk=check_in_id, user_id=user.pk).first()
    if task is None:
        raise NotFound(f"No check-in of yours with the id {check_in_id}.")
    return task


# --- Outputs ------------------------------------------------------------------------------------


class PursuitOutput(serializers.ModelSerializer):
    class Meta:
        model = Pursuit
        ref_name = "CoachPursuitOutput"
        fields = [
            "id",
            "title",
            "url",
            "deadline",
            "award_amount",
            "award_currency",
            "application_type",
            "coach_state",
            "pending_state",
            "trust_score",
            "momentum_score",
            "internal",
            "application_id",
            "submitted_at",
            "confirmed_at",
            "last_progress_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    url = serializers.CharField(read_only=True, help_text="The opportunity's address; empty when none.")
    application_type = serializers.ChoiceField(
        choices=ApplicationType.choices, read_only=True, allow_blank=True, help_text="Empty when not known."
    )
    internal = serializers.BooleanField(
        source="is_internal",
        read_only=True,
        help_text="True for an application on this platform (it follows the application; `application_id`).",
    )
    application_id = serializers.UUIDField(read_only=True, allow_null=True)
    award_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)
    momentum_score = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="0.6 x deadline proximity + 0.4 x trust, 0-1; null once past the deadline or no longer open.",
    )
    pending_state = serializers.CharField(
        read_only=True, help_text="A state waiting for your confirmation (`won` after an acceptance), or empty."
    )
    trust_score = serializers.FloatField(
        read_only=True, allow_null=True, help_text="External pursuits: the trust you set (0-1); null: the default."
    )


class CheckInPursuitOutput(serializers.ModelSerializer):
    class Meta:
        model = Pursuit
        ref_name = "CoachCheckInPursuit"
        fields = ["id", "title", "coach_state"]
        read_only_fields = fields


class CheckInOutput(serializers.ModelSerializer):
    class Meta:
        model = CheckInTask
        ref_name = "CoachCheckInOutput"
        fields = ["id", "pursuit", "question", "due_at", "status", "outcome", "completed_at"]
        read_only_fields = fields

    pursuit = CheckInPursuitOutput(read_only=True)
    question = serializers.SerializerMethodField()
    outcome = serializers.CharField(read_only=True, help_text="`won`, `lost` or `waiting` once completed; else empty.")

    def get_question(self, task: CheckInTask) -> str:
        return QUESTION


class MicroTaskOutput(serializers.Serializer):
    class Meta:
        ref_name = "CoachMicroTask"

    pursuit_id = serializers.UUIDField()
    title = serializers.CharField()
    deadline = serializers.DateTimeField()
    text = serializers.CharField(help_text="One small step to take now.")


class MoneyOutput(serializers.Serializer):
    class Meta:
        ref_name = "CoachMoney"

    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()


class GamePlanOutput(serializers.Serializer):
    class Meta:
        ref_name = "CoachGamePlan"

    top = PursuitOutput(many=True, help_text="Up to 3 open pursuits, highest momentum first (ties: nearest deadline).")
    check_ins = CheckInOutput(many=True, help_text="Pending check-ins that are due, oldest first.")
    to_confirm = PursuitOutput(many=True, help_text="Pursuits with a `pending_state` waiting for your confirmation.")
    micro_task = MicroTaskOutput(
        allow_null=True, help_text="A small step for a stale pursuit (no progress 48 h, deadline within 7 days)."
    )
    snoozed_until = serializers.DateTimeField(allow_null=True)
    total_won = MoneyOutput(many=True, help_text="Award amounts of confirmed wins, per currency.")


class SnoozeOutput(serializers.Serializer):
    class Meta:
        ref_name = "CoachSnoozeOutput"

    snoozed_until = serializers.DateTimeField(allow_null=True)


# --- Inputs -------------------------------------------------------------------------------------


class PursuitInput(serializers.Serializer):
    class Meta:
        ref_name = "CoachPursuitCreate"

    title = serializers.CharField(max_length=200, help_text="1 to 200 characters.")
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, allow_null=True)
    deadline = OffsetDateTimeField(required=False, allow_null=True, help_text="With its UTC offset; in the future.")
    award_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, help_text="Needs a currency."
    )
    award_currency = serializers.CharField(
        max_length=3, required=False, allow_blank=True, allow_null=True, help_text="ISO 4217, e.g. EUR."
    )
    application_type = serializers.ChoiceField(
        choices=ApplicationType.choices, required=False, allow_blank=True, allow_null=True
    )
    trust_score = serializers.FloatField(
        min_value=0, max_value=1, required=False, allow_null=True, help_text="0-1; default 0.5."
    )


class PursuitPatchInput(PursuitInput):
    class Meta:
        ref_name = "CoachPursuitPatch"

    coach_state = serializers.ChoiceField(
        choices=CoachState.choices,
        required=False,
        help_text="`tracked`, `drafting`, `review`, `outcome_pending` (after a submission) or `lost`; "
        "`submitted` and `won` need `POST .../confirm`.",
    )


class ConfirmInput(serializers.Serializer):
    class Meta:
        ref_name = "CoachConfirm"

    state = serializers.ChoiceField(choices=[CoachState.SUBMITTED, CoachState.WON])


class SnoozeInput(serializers.Serializer):
    class Meta:
        ref_name = "CoachSnooze"

    until = OffsetDateTimeField(
        allow_null=True, help_text="With its UTC offset, before your nearest open pursuit's deadline; null clears."
    )


class CheckInCompleteInput(serializers.Serializer):
    class Meta:
        ref_name = "CoachCheckInComplete"

    outcome = serializers.ChoiceField(choices=CheckInOutcome.choices)


# --- Pursuits -----------------------------------------------------------------------------------


class PursuitFilter(django_filters.FilterSet):
    coach_state = django_filters.ChoiceFilter(choices=CoachState.choices)

    class Meta:
        model = Pursuit
        fields = ["coach_state"]


class PursuitListCreateApi(ListAPIView):
    serializer_class = PursuitOutput
    filterset_class = PursuitFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in user
            return Pursuit.objects.none()
        return Pursuit.objects.filter(user_id=self.request.user.pk).order_by(
            F("momentum_score").desc(nulls_last=True), F("deadline").asc(nulls_last=True), "id"
        )

    @extend_schema(
        operation_id="coach_pursuits_list",
        summary="List my pursuits",
        description="Your pursuits (platform applications and external opportunities), highest momentum "
        "first, then nearest deadline; filter `coach_state`.",
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="coach_pursuits_create",
        summary="Add an external pursuit",
        description="Track an opportunity outside the platform (a fellowship, grant, residency). It starts "
        "`tracked` with its momentum computed.",
        request=PursuitInput,
        responses={201: PursuitOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = PursuitInput(data=request.data)
        data.is_valid(raise_exception=True)
        pursuit = pursuit_create_external(user=request.user, data=dict(data.validated_data), actor=request.user)
        return Response(PursuitOutput(pursuit).data, status=status.HTTP_201_CREATED)


class PursuitDetailApi(APIView):
    @extend_schema(
        operation_id="coach_pursuits_retrieve",
        summary="Read one of my pursuits",
        responses={200: PursuitOutput},
        tags=TAGS,
    )
    def get(self, request, pursuit_id):
        return Response(PursuitOutput(_my_pursuit(request.user, pursuit_id)).data)

    @extend_schema(
        operation_id="coach_pursuits_update",
        summary="Change one of my pursuits",
        description="Change an external pursuit's details or its `coach_state` (`tracked`, `drafting`, "
        "`review`, `outcome_pending`, `lost`). `submitted` and `won` answer 400: they need your "
        "confirmation (`POST .../confirm`). A platform application's pursuit follows the application "
        "(400 for any field).",
        request=PursuitPatchInput,
        responses={200: PursuitOutput},
        tags=TAGS,
    )
    def patch(self, request, pursuit_id):
        pursuit = _my_pursuit(request.user, pursuit_id)
        data = PursuitPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        pursuit = pursuit_update(pursuit=pursuit, user=request.user, data=dict(data.validated_data), actor=request.user)
        return Response(PursuitOutput(pursuit).data)


class PursuitConfirmApi(APIView):
    @extend_schema(
        operation_id="coach_pursuits_confirm",
        summary="Confirm a submission or a win",
        description="You confirm you submitted (`state: submitted`, from an open state; sets `submitted_at`) "
        "or won (`state: won`, after submission or when a win waits for you; counts in `total_won`). "
        "Other states answer 409.",
        request=ConfirmInput,
        responses={200: PursuitOutput},
        tags=TAGS,
    )
    def post(self, request, pursuit_id):
        pursuit = _my_pursuit(request.user, pursuit_id)
        data = ConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        pursuit = pursuit_confirm(pursuit=pursuit, user=request.user, state=data.validated_data["state"])
        return Response(PursuitOutput(pursuit).data)


# --- Snooze, check-ins, game plan ---------------------------------------------------------------


class SnoozeApi(APIView):
    @extend_schema(
        operation_id="coach_snooze",
        summary="Snooze micro-task nudges",
        description="Hold micro-task nudges back until `until` (with offset, in the future and before your "
        "nearest open pursuit's deadline: 400 otherwise); `null` clears the snooze.",
        request=SnoozeInput,
        responses={200: SnoozeOutput},
        tags=TAGS,
    )
    def post(self, request):
        data = SnoozeInput(data=request.data)
        data.is_valid(raise_exception=True)
        row = snooze_set(user=request.user, until=data.validated_data["until"])
        return Response(SnoozeOutput({"snoozed_until": row.snoozed_until}).data)


def _check_in_output(task_id: Any) -> dict[str, Any]:
    return CheckInOutput(CheckInTask.objects.select_related("pursuit").get(pk=task_id)).data


class CheckInCompleteApi(APIView):
    @extend_schema(
        operation_id="coach_check_ins_complete",
        summary="Answer a check-in",
        description='"Have you heard back?": `won` (your confirmed win), `lost`, or `waiting` (the pursuit '
        "is outcome pending). A check-in already answered or dismissed answers 409.",
        request=CheckInCompleteInput,
        responses={200: CheckInOutput},
        tags=TAGS,
    )
    def post(self, request, check_in_id):
        task = _my_check_in(request.user, check_in_id)
        data = CheckInCompleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        checkin_complete(task=task, user=request.user, outcome=data.validated_data["outcome"])
        return Response(_check_in_output(task.pk))


class CheckInDismissApi(APIView):
    @extend_schema(
        operation_id="coach_check_ins_dismiss",
        summary="Dismiss a check-in",
        description="Close a pending check-in without an answer; one already closed answers 409.",
        request=None,
        responses={200: CheckInOutput},
        tags=TAGS,
    )
    def post(self, request, check_in_id):
        task = _my_check_in(request.user, check_in_id)
        checkin_dismiss(task=task, user=request.user)
        return Response(_check_in_output(task.pk))


class GamePlanApi(APIView):
    @extend_schema(
        operation_id="coach_game_plan",
        summary="My game plan",
        description="The top 3 open pursuits by momentum (ties: nearest deadline), check-ins due, wins "
        "waiting for your confirmation, the micro-task, your snooze and the total won per currency.",
        responses={200: GamePlanOutput},
        tags=TAGS,
    )
    def get(self, request):
        return Response(GamePlanOutput(game_plan(request.user, clock.now())).data)

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import flatten_errors
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound, ValidationFailed
from enrollments.enums import EnrollmentStatus, OutcomeType, SourceSystem
from enrollments.models import Enrollment, Outcome
from enrollments.selectors import campaign_capacity, enrollment_list, enrollments_of_user, integrity_report
from enrollments.services import (
    OUTCOMES_PER_REQUEST,
    enrollment_create,
    enrollment_set_status,
    integrity_fix,
    outcome_items_errors,
    outcome_record,
    outcomes_record_many,
)
from programs.models import Campaign, Program
from programs.selectors import campaign_list
from templates_app.enums import TemplateCategory

User = get_user_model()
TAGS = ["admin: enrollments"]


class EnrollmentOutput(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    program_id = serializers.UUIDField(read_only=True)
    campaign_id = serializers.UUIDField(read_only=True, allow_null=True)
    beneficiary_group_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "user_id",
            "program_id",
            "campaign_id",
            "beneficiary_group_id",
            "program_type",
            "role",
            "source_system",
            "status",
            "enrolled_at",
            "completed_at",
            "dropped_at",
            "reason",
            "created_at",
            "updated_at",
        ]


class MyEnrollmentOutput(EnrollmentOutput):
    program_key = serializers.CharField(source="program.program_key", read_only=True)
    program_name = serializers.CharField(source="program.name", read_only=True)

    class Meta(EnrollmentOutput.Meta):
        fields = [*EnrollmentOutput.Meta.fields, "program_key", "program_name"]


class EnrollmentFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")
    campaign = django_filters.UUIDFilter(field_name="campaign_id")
    user = django_filters.UUIDFilter(field_name="user_id")
    status = django_filters.ChoiceFilter(choices=EnrollmentStatus.choices)
    program_type = django_filters.ChoiceFilter(choices=TemplateCategory.choices)
    role = django_filters.CharFilter()
    source_system = django_filters.ChoiceFilter(choices=SourceSystem.choices)

    class Meta:
        model = Enrollment
        fields = ["program", "campaign", "user", "status", "program_type", "role", "source_system"]


class EnrollmentListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = EnrollmentOutput
    filterset_class = EnrollmentFilter

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "EnrollmentCreate"

        user_id = serializers.UUIDField()
        program_id = serializers.UUIDField()
        campaign_id = serializers.UUIDField(required=False, allow_null=True)
        role = serializers.CharField(max_length=50)
        source_system = serializers.ChoiceField(choices=SourceSystem.choices, default=SourceSystem.PLATFORM)
        enrolled_at = serializers.DateTimeField(required=False, allow_null=True)
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    def get_queryset(self):
        return enrollment_list()

    @extend_schema(operation_id="admin_enrollments_list", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_enrollments_create",
        description="Enroll a user in an active program in one of its template's roles. A full "
        "campaign, an inactive program or campaign, or an existing enrollment answer 409.",
        request=Input,
        responses={201: EnrollmentOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        errors = {}
        user = User.objects.filter(pk=fields.pop("user_id")).first()
        program = Program.objects.filter(pk=fields.pop("program_id")).first()
        campaign_id = fields.pop("campaign_id", None)
        campaign = Campaign.objects.filter(pk=campaign_id).first() if campaign_id else None
        if user is None:
            errors["user_id"] = "No user with this id."
        if program is None:
            errors["program_id"] = "No program with this id."
        if campaign_id and campaign is None:
            errors["campaign_id"] = "No campaign with this id."
        if errors:
            raise ValidationFailed(errors=errors)
        enrollment = enrollment_create(user=user, program=program, campaign=campaign, actor=request.user, **fields)
        return Response(EnrollmentOutput(enrollment).data, status=status.HTTP_201_CREATED)


class EnrollmentDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "EnrollmentStatusChange"

        status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(operation_id="admin_enrollments_retrieve", responses={200: EnrollmentOutput}, tags=TAGS)
    def get(self, request, enrollment_id):
        return Response(EnrollmentOutput(get_object_or_404(enrollment_list(), pk=enrollment_id)).data)

    @extend_schema(
        operation_id="admin_enrollments_update",
        description="Change the status: active -> completed | dropped; dropped -> active "
        "(reactivation, needs a `reason` and a free place). Completed is final; illegal "
        "transitions answer 409.",
        request=Input,
        responses={200: EnrollmentOutput},
        tags=TAGS,
    )
    def patch(self, request, enrollment_id):
        enrollment = get_object_or_404(enrollment_list(), pk=enrollment_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = enrollment_set_status(enrollment=enrollment, actor=request.user, **data.validated_data)
        return Response(EnrollmentOutput(enrollment).data)


class MyEnrollmentsApi(ListAPIView):
    serializer_class = MyEnrollmentOutput
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Enrollment.objects.none()
        return enrollments_of_user(self.request.user)

    @extend_schema(operation_id="me_enrollments_list", tags=["me"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyEnrollmentDetailApi(APIView):
    @extend_schema(
        operation_id="me_enrollments_retrieve",
        description="One of the caller's enrollments; another user's answers 404.",
        responses={200: MyEnrollmentOutput},
        tags=["me"],
    )
    def get(self, request, enrollment_id):
        return Response(MyEnrollmentOutput(get_object_or_404(enrollments_of_user(request.user), pk=enrollment_id)).data)


class CampaignCapacityApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "CampaignCapacity"

        campaign_id = serializers.UUIDField()
        target_enrollment = serializers.IntegerField()
        max_enrollment = serializers.IntegerField()
        enrolled = serializers.IntegerField()
        available = serializers.IntegerField()

    @extend_schema(operation_id="admin_campaigns_capacity", responses={200: Output}, tags=["admin: campaigns"])
    def get(self, request, campaign_id):
        campaign = get_object_or_404(campaign_list(), pk=campaign_id)
        return Response(self.Output(campaign_capacity(campaign)).data)


class IntegrityProblem(serializers.Serializer):
    detail = serializers.CharField()
    enrollment_id = serializers.UUIDField(required=False)
    program_id = serializers.UUIDField(required=False)
    campaign_id = serializers.UUIDField(required=False)
    user_id = serializers.UUIDField(required=False)


class IntegrityCheck(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    fixable = serializers.BooleanField()
    count = serializers.IntegerField()
    problems = IntegrityProblem(many=True)


class IntegrityOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    checked_at = serializers.DateTimeField()
    problem_count = serializers.IntegerField()
    checks = IntegrityCheck(many=True)


class IntegrityApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_integrity_check",
        description="Dual-write mismatches, orphaned references, roles missing from templates, "
        "over-capacity campaigns and stale journey flags.",
        responses={200: IntegrityOutput},
        tags=["admin: integrity"],
    )
    def get(self, request):
        return Response(IntegrityOutput(integrity_report()).data)


class IntegrityFixApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "IntegrityFixResult"

        fixed = serializers.DictField(child=serializers.IntegerField())
        report = IntegrityOutput()

    @extend_schema(
        operation_id="admin_integrity_fix",
        description="Repair dual-write mismatches and stale journey flags, then report what remains.",
        request=None,
        responses={200: Output},
        tags=["admin: integrity"],
    )
    def post(self, request):
        fixed = integrity_fix(actor=request.user)
        return Response(self.Output({"fixed": fixed, "report": integrity_report()}).data)


# --- Outcomes -----------------------------------------------------------------------------------

OUTCOME_TAGS = ["admin: outcomes"]


class OutcomeOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True)
    enrollment_id = serializers.UUIDField(read_only=True)
    user_id = serializers.UUIDField(source="enrollment.user_id", read_only=True)
    recorded_by_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Outcome
        fields = [
            "id",
            "program_id",
            "enrollment_id",
            "user_id",
            "outcome_type",
            "amount",
            "currency",
            "occurred_on",
            "evidence_url",
            "notes",
            "recorded_by_id",
            "created_at",
        ]


class OutcomeInput(serializers.Serializer):
    class Meta:
        ref_name = "OutcomeRecord"

    enrollment_id = serializers.UUIDField()
    outcome_type = serializers.ChoiceField(choices=OutcomeType.choices)
    occurred_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, allow_blank=True)
    evidence_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)


class OutcomeFilter(django_filters.FilterSet):
    outcome_type = django_filters.ChoiceFilter(choices=OutcomeType.choices)
    enrollment = django_filters.UUIDFilter(field_name="enrollment_id")

    class Meta:
        model = Outcome
        fields = ["outcome_type", "enrollment"]


def _program_or_404(program_id) -> Program:
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        raise NotFound(f"No program with the id {program_id}.")
    return program


def _item_path(index: int, path: str) -> str:
    return f"items/{index}" if path == "non_field_errors" else f"items/{index}/{path}"


class OutcomeListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = OutcomeOutput
    filterset_class = OutcomeFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no path arguments
            return Outcome.objects.none()
        return (
            Outcome.objects.filter(program_id=self.kwargs["program_id"])
            .select_related("enrollment")
            .order_by("-occurred_on", "-created_at", "id")
        )

    @extend_schema(operation_id="admin_outcomes_list", tags=OUTCOME_TAGS)
    def get(self, request, program_id, *args, **kwargs):
        _program_or_404(program_id)
        return super().get(request, program_id, *args, **kwargs)

    @extend_schema(
        operation_id="admin_outcomes_create",
        description="Record one outcome (an object) or several (a list of up to "
        f"{OUTCOMES_PER_REQUEST}) of the program's participants. A list is all or nothing: when any item "
        "is invalid nothing is recorded and the 400 names every bad item's fields as "
        "`items/<index>/<field>`. The enrollment belongs to the program; `occurred_on` is not in the "
        "future (program's time zone); an `amount` needs an ISO 4217 `currency` and a currency needs "
        "an amount. Answers 201 with the outcome, or the list of outcomes in the order sent.",
        request=PolymorphicProxySerializer(
            component_name="OutcomeRecordRequest",
            serializers=[OutcomeInput, OutcomeInput(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="OutcomeRecorded",
                serializers=[OutcomeOutput, OutcomeOutput(many=True)],
                resource_type_field_name=None,
                many=False,
            )
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=OUTCOME_TAGS,
    )
    @idempotent
    def post(self, request, program_id):
        program = _program_or_404(program_id)
        if isinstance(request.data, list):
            outcomes = self._record_many(program, request.data, request.user)
            return Response(OutcomeOutput(outcomes, many=True).data, status=status.HTTP_201_CREATED)
        data = OutcomeInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        enrollment_id = fields.pop("enrollment_id")
        enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
        if enrollment is None:
            raise ValidationFailed(errors={"enrollment_id": f"No enrollment with the id {enrollment_id}."})
        outcome = outcome_record(program=program, enrollment=enrollment, actor=request.user, **fields)
        return Response(OutcomeOutput(outcome).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _record_many(program: Program, payload: list, actor) -> list[Outcome]:
        if not payload or len(payload) > OUTCOMES_PER_REQUEST:
            return outcomes_record_many(program=program, items=payload, actor=actor)  # refuses the size
        errors: dict[str, str] = {}
        parsed: list[tuple[int, dict]] = []
        for index, raw in enumerate(payload):
            item = OutcomeInput(data=raw)
            if item.is_valid():
                parsed.append((index, item.validated_data))
            else:
                errors.update({_item_path(index, path): msg for path, msg in flatten_errors(item.errors).items()})
        if errors:
            # Report the rule errors of the items that parsed too, so one answer names every bad item.
            errors.update(outcome_items_errors(program=program, items=parsed))
            bad = {int(path.split("/")[1]) for path in errors}
            raise ValidationFailed(
                f"{len(bad)} of {len(payload)} outcomes are invalid; none was recorded.",
                errors=dict(sorted(errors.items(), key=lambda kv: (int(kv[0].split("/")[1]), kv[0]))),
            )
        return outcomes_record_many(program=program, items=[item for _, item in parsed], actor=actor)

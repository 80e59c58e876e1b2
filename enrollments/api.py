from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import ValidationFailed
from enrollments.enums import EnrollmentStatus, SourceSystem
from enrollments.models import Enrollment
from enrollments.selectors import campaign_capacity, enrollment_list, enrollments_of_user, integrity_report
from enrollments.services import enrollment_create, enrollment_set_status, integrity_fix
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

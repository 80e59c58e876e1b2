from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import ValidationFailed
from programs.enums import CampaignStatus, ProgramStatus
from programs.filters import CampaignFilter, ProgramAdminFilter, ProgramCatalogFilter
from programs.models import BeneficiaryGroup, Campaign, Program
from programs.selectors import beneficiary_group_list, campaign_list, program_catalog, program_list
from programs.services import (
    beneficiary_group_create,
    beneficiary_group_update,
    campaign_create,
    campaign_update,
    program_create,
    program_migrate_template,
    program_set_status,
    program_update,
)
from templates_app.models import ProgramTemplate

GROUP_TAGS = ["admin: beneficiary groups"]
PROGRAM_TAGS = ["admin: programs"]
CAMPAIGN_TAGS = ["admin: campaigns"]
CATALOG_TAGS = ["catalog"]


def _resolve(model, pk, field: str, label: str):
    """Look up a referenced row by id, or answer 400 naming the field."""
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(errors={field: f"No {label} with the id {pk}."})
    return obj


# --- Beneficiary groups -------------------------------------------------------------------------


class BeneficiaryGroupOutput(serializers.ModelSerializer):
    tags = serializers.ListField(child=serializers.CharField())
    countries = serializers.ListField(child=serializers.CharField())
    languages = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = BeneficiaryGroup
        fields = ["id", "key", "name", "description", "tags", "countries", "languages", "is_active", "created_at"]


class BeneficiaryGroupInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False, max_length=250)
    languages = serializers.ListField(child=serializers.CharField(max_length=3), required=False, max_length=100)
    is_active = serializers.BooleanField(required=False)


class BeneficiaryGroupListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = BeneficiaryGroupOutput
    filterset_fields = ["key", "is_active"]

    class Input(BeneficiaryGroupInput):
        class Meta:
            ref_name = "BeneficiaryGroupCreate"

        key = serializers.SlugField(max_length=80)

    def get_queryset(self):
        return beneficiary_group_list()

    @extend_schema(operation_id="admin_beneficiary_groups_list", tags=GROUP_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_beneficiary_groups_create",
        request=Input,
        responses={201: BeneficiaryGroupOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=GROUP_TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        group = beneficiary_group_create(actor=request.user, **data.validated_data)
        return Response(BeneficiaryGroupOutput(group).data, status=status.HTTP_201_CREATED)


class BeneficiaryGroupDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_beneficiary_groups_retrieve", responses={200: BeneficiaryGroupOutput}, tags=GROUP_TAGS
    )
    def get(self, request, group_id):
        return Response(BeneficiaryGroupOutput(get_object_or_404(beneficiary_group_list(), pk=group_id)).data)

    @extend_schema(
        operation_id="admin_beneficiary_groups_update",
        request=BeneficiaryGroupInput,
        responses={200: BeneficiaryGroupOutput},
        tags=GROUP_TAGS,
    )
    def patch(self, request, group_id):
        group = get_object_or_404(beneficiary_group_list(), pk=group_id)
        data = BeneficiaryGroupInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        group = beneficiary_group_update(group=group, data=data.validated_data, actor=request.user)
        return Response(BeneficiaryGroupOutput(group).data)


# --- Programs -----------------------------------------------------------------------------------


class ProgramOutput(serializers.ModelSerializer):
    template_id = serializers.UUIDField(read_only=True)
    template_version = serializers.IntegerField(source="template.version", read_only=True)
    beneficiary_group_id = serializers.UUIDField(read_only=True)
    config_overrides = serializers.DictField()
    config = serializers.DictField()
    tags = serializers.ListField(child=serializers.CharField())
    sdg_goals = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = Program
        fields = [
            "id",
            "program_key",
            "name",
            "description",
            "template_id",
            "template_version",
            "program_type",
            "beneficiary_group_id",
            "config_overrides",
            "config",
            "status",
            "tags",
            "sdg_goals",
            "timezone",
            "opens_at",
            "closes_at",
            "created_at",
            "updated_at",
        ]


class ProgramFieldsInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    beneficiary_group_id = serializers.UUIDField()
    config_overrides = serializers.JSONField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    sdg_goals = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=17)
    timezone = serializers.CharField(max_length=64, required=False)
    opens_at = serializers.DateTimeField(required=False, allow_null=True)
    closes_at = serializers.DateTimeField(required=False, allow_null=True)


def _program_fields(validated: dict) -> dict:
    data = dict(validated)
    if "beneficiary_group_id" in data:
        data["beneficiary_group"] = _resolve(
            BeneficiaryGroup, data.pop("beneficiary_group_id"), "beneficiary_group_id", "beneficiary group"
        )
    return data


class ProgramListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = ProgramOutput
    filterset_class = ProgramAdminFilter

    class Input(ProgramFieldsInput):
        class Meta:
            ref_name = "ProgramCreate"

        template_id = serializers.UUIDField()
        program_key = serializers.SlugField(max_length=100, required=False)

    def get_queryset(self):
        return program_list()

    @extend_schema(operation_id="admin_programs_list", tags=PROGRAM_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_programs_create",
        description="Instantiate a program from an active template version. The template's "
        "default config deep-merged with `config_overrides` must validate against the template's "
        "schema; violations answer 400 with one error per JSON path.",
        request=Input,
        responses={201: ProgramOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=PROGRAM_TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = _program_fields(data.validated_data)
        fields["template"] = _resolve(ProgramTemplate, fields.pop("template_id"), "template_id", "template")
        program = program_create(actor=request.user, **fields)
        return Response(ProgramOutput(program).data, status=status.HTTP_201_CREATED)


class ProgramDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(operation_id="admin_programs_retrieve", responses={200: ProgramOutput}, tags=PROGRAM_TAGS)
    def get(self, request, program_id):
        return Response(ProgramOutput(get_object_or_404(program_list(), pk=program_id)).data)

    @extend_schema(
        operation_id="admin_programs_update",
        description="Change a program's settings. Status changes go through `PUT /api/v1/admin/programs/{id}/status`.",
        request=ProgramFieldsInput,
        responses={200: ProgramOutput},
        tags=PROGRAM_TAGS,
    )
    def patch(self, request, program_id):
        program = get_object_or_404(program_list(), pk=program_id)
        data = ProgramFieldsInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        program = program_update(program=program, data=_program_fields(data.validated_data), actor=request.user)
        return Response(ProgramOutput(program_list().get(pk=program.pk)).data)


class ProgramStatusApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ProgramStatusChange"

        status = serializers.ChoiceField(choices=ProgramStatus.choices)
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="admin_programs_set_status",
        description="Move the program through its lifecycle: draft -> active <-> paused -> closed "
        "-> archived (closed -> active reopens). Illegal transitions answer 409.",
        request=Input,
        responses={200: ProgramOutput},
        tags=PROGRAM_TAGS,
    )
    def put(self, request, program_id):
        program = get_object_or_404(program_list(), pk=program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        program = program_set_status(program=program, actor=request.user, **data.validated_data)
        return Response(ProgramOutput(program_list().get(pk=program.pk)).data)


class ProgramMigrateTemplateApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ProgramTemplateMigration"

        template_id = serializers.UUIDField()
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="admin_programs_migrate_template",
        description="Opt-in move to a newer active version of the program's template; the config "
        "is re-validated against the new schema (400 per path if it no longer fits).",
        request=Input,
        responses={200: ProgramOutput},
        tags=PROGRAM_TAGS,
    )
    def post(self, request, program_id):
        program = get_object_or_404(program_list(), pk=program_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        template = _resolve(ProgramTemplate, data.validated_data["template_id"], "template_id", "template")
        program = program_migrate_template(
            program=program, template=template, actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(ProgramOutput(program_list().get(pk=program.pk)).data)


# --- Public catalog -----------------------------------------------------------------------------


class CatalogBeneficiaryGroupOutput(serializers.Serializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    name = serializers.CharField()


class CatalogProgramOutput(serializers.ModelSerializer):
    beneficiary_group_id = serializers.UUIDField(read_only=True)
    beneficiary_group = CatalogBeneficiaryGroupOutput()
    config = serializers.DictField()
    tags = serializers.ListField(child=serializers.CharField())
    sdg_goals = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = Program
        fields = [
            "id",
            "program_key",
            "name",
            "description",
            "program_type",
            "beneficiary_group_id",
            "beneficiary_group",
            "config",
            "status",
            "tags",
            "sdg_goals",
            "timezone",
            "opens_at",
            "closes_at",
        ]


class CatalogListApi(ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = CatalogProgramOutput
    filterset_class = ProgramCatalogFilter

    def get_queryset(self):
        return program_catalog()

    @extend_schema(operation_id="programs_list", tags=CATALOG_TAGS, auth=[])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CatalogDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="programs_retrieve", responses={200: CatalogProgramOutput}, tags=CATALOG_TAGS, auth=[])
    def get(self, request, program_id):
        return Response(CatalogProgramOutput(get_object_or_404(program_catalog(), pk=program_id)).data)


# --- Campaigns ----------------------------------------------------------------------------------


class CampaignOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True)
    company_id = serializers.UUIDField(read_only=True)
    config_overrides = serializers.DictField()
    config = serializers.DictField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "program_id",
            "company_id",
            "name",
            "target_enrollment",
            "max_enrollment",
            "budget_amount",
            "budget_currency",
            "config_overrides",
            "config",
            "status",
            "starts_on",
            "ends_on",
            "created_at",
            "updated_at",
        ]


class CampaignFieldsInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    target_enrollment = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    max_enrollment = serializers.IntegerField(min_value=1, max_value=1_000_000)
    budget_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    budget_currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, allow_blank=True)
    config_overrides = serializers.JSONField(required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)


class CampaignListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = CampaignOutput
    filterset_class = CampaignFilter

    class Input(CampaignFieldsInput):
        class Meta:
            ref_name = "CampaignCreate"

        program_id = serializers.UUIDField()
        company_id = serializers.UUIDField()
        status = serializers.ChoiceField(choices=[CampaignStatus.DRAFT, CampaignStatus.ACTIVE], required=False)

    def get_queryset(self):
        return campaign_list()

    @extend_schema(operation_id="admin_campaigns_list", tags=CAMPAIGN_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_campaigns_create",
        description="Deploy a program for a company. The campaign config is the program config "
        "deep-merged with `config_overrides`, validated against the template schema. New "
        "campaigns are `active` unless `status` is `draft`.",
        request=Input,
        responses={201: CampaignOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=CAMPAIGN_TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        errors = {}
        program = Program.objects.filter(pk=fields.pop("program_id")).first()
        company = Company.objects.filter(pk=fields.pop("company_id")).first()
        if program is None:
            errors["program_id"] = "No program with this id."
        if company is None:
            errors["company_id"] = "No company with this id."
        if errors:
            raise ValidationFailed(errors=errors)
        campaign = campaign_create(program=program, company=company, actor=request.user, **fields)
        return Response(CampaignOutput(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(CampaignFieldsInput):
        class Meta:
            ref_name = "CampaignUpdate"

        status = serializers.ChoiceField(choices=CampaignStatus.choices, required=False)
        reason = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(operation_id="admin_campaigns_retrieve", responses={200: CampaignOutput}, tags=CAMPAIGN_TAGS)
    def get(self, request, campaign_id):
        return Response(CampaignOutput(get_object_or_404(campaign_list(), pk=campaign_id)).data)

    @extend_schema(
        operation_id="admin_campaigns_update",
        description="Change a campaign; `status` moves it through draft -> active <-> paused -> "
        "completed | cancelled (409 when illegal). `max_enrollment` cannot drop below the "
        "enrollments the campaign holds (409).",
        request=Input,
        responses={200: CampaignOutput},
        tags=CAMPAIGN_TAGS,
    )
    def patch(self, request, campaign_id):
        campaign = get_object_or_404(campaign_list(), pk=campaign_id)
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        reason = fields.pop("reason", "")
        campaign = campaign_update(campaign=campaign, data=fields, actor=request.user, reason=reason)
        return Response(CampaignOutput(campaign).data)

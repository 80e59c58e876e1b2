from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from templates_app.enums import TemplateCategory, TemplateStatus
from templates_app.models import ProgramTemplate
from templates_app.selectors import template_list
from templates_app.services import (
    template_create,
    template_delete,
    template_new_version,
    template_publish,
    template_update,
)

TAGS = ["admin: templates"]


class RoleSerializer(serializers.Serializer):
    role = serializers.CharField()
    platform_role = serializers.CharField()


class TemplateOutput(serializers.ModelSerializer):
    deprecated_by = serializers.UUIDField(source="deprecated_by_id", allow_null=True, read_only=True)
    roles = RoleSerializer(many=True)
    enrollment_states = serializers.ListField(child=serializers.CharField())
    activity_types = serializers.ListField(child=serializers.CharField())
    metrics_tracked = serializers.ListField(child=serializers.CharField())
    vis_components = serializers.DictField(child=serializers.BooleanField())
    sroi_dimensions = serializers.DictField(child=serializers.BooleanField())
    default_config = serializers.DictField()
    config_schema = serializers.DictField()

    class Meta:
        model = ProgramTemplate
        fields = [
            "id",
            "template_key",
            "name",
            "description",
            "category",
            "version",
            "status",
            "default_config",
            "config_schema",
            "deprecated_by",
            "roles",
            "enrollment_states",
            "supports_matching",
            "activity_types",
            "metrics_tracked",
            "contributes_to_vis",
            "contributes_to_sroi",
            "vis_components",
            "sroi_dimensions",
            "published_at",
            "deprecated_at",
            "created_at",
            "updated_at",
        ]


class TemplateFieldsInput(serializers.Serializer):
    """Shape checks only; the rules (valid schema, defaults validate, known roles) are the
    service's, which answers with one error per path."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False)
    category = serializers.ChoiceField(choices=TemplateCategory.choices)
    default_config = serializers.JSONField(required=False)
    config_schema = serializers.JSONField(required=False)
    roles = serializers.JSONField(required=False)
    enrollment_states = serializers.JSONField(required=False)
    supports_matching = serializers.BooleanField(required=False)
    activity_types = serializers.JSONField(required=False)
    metrics_tracked = serializers.JSONField(required=False)
    contributes_to_vis = serializers.BooleanField(required=False)
    contributes_to_sroi = serializers.BooleanField(required=False)
    vis_components = serializers.JSONField(required=False)
    sroi_dimensions = serializers.JSONField(required=False)


class TemplateFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=TemplateCategory.choices)
    status = django_filters.ChoiceFilter(choices=TemplateStatus.choices)
    template_key = django_filters.CharFilter()

    class Meta:
        model = ProgramTemplate
        fields = ["category", "status", "template_key"]


def _template(template_id) -> ProgramTemplate:
    return get_object_or_404(template_list(), pk=template_id)


class TemplateListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = TemplateOutput
    filterset_class = TemplateFilter

    class Input(TemplateFieldsInput):
        class Meta:
            ref_name = "TemplateCreate"

        template_key = serializers.SlugField(max_length=100)

    def get_queryset(self):
        return template_list()

    @extend_schema(operation_id="admin_templates_list", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_templates_create",
        request=Input,
        responses={201: TemplateOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        template = template_create(actor=request.user, **data.validated_data)
        return Response(TemplateOutput(template).data, status=status.HTTP_201_CREATED)


class TemplateDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(TemplateFieldsInput):
        class Meta:
            ref_name = "TemplateUpdate"

    @extend_schema(operation_id="admin_templates_retrieve", responses={200: TemplateOutput}, tags=TAGS)
    def get(self, request, template_id):
        return Response(TemplateOutput(_template(template_id)).data)

    def _update(self, request, template_id):
        template = _template(template_id)
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        template = template_update(template=template, data=data.validated_data, actor=request.user)
        return Response(TemplateOutput(template).data)

    @extend_schema(
        operation_id="admin_templates_update",
        description="Edit a draft template. Fields left out keep their value. Only drafts can be "
        "edited (409 otherwise).",
        request=Input,
        responses={200: TemplateOutput},
        tags=TAGS,
    )
    def put(self, request, template_id):
        return self._update(request, template_id)

    @extend_schema(
        operation_id="admin_templates_partial_update",
        request=Input,
        responses={200: TemplateOutput},
        tags=TAGS,
    )
    def patch(self, request, template_id):
        return self._update(request, template_id)

    @extend_schema(
        operation_id="admin_templates_destroy",
        description="Delete a template that no program uses (409 otherwise).",
        responses={204: None},
        tags=TAGS,
    )
    def delete(self, request, template_id):
        template_delete(template=_template(template_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplatePublishApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "TemplatePublish"

        deprecate_previous = serializers.BooleanField(default=False)

    @extend_schema(
        operation_id="admin_templates_publish",
        description="Publish a draft. With `deprecate_previous`, the previously active versions "
        "of the same key become deprecated and point at this one. Non-drafts answer 409.",
        request=Input,
        responses={200: TemplateOutput},
        tags=TAGS,
    )
    def post(self, request, template_id):
        template = _template(template_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        template = template_publish(
            template=template,
            deprecate_previous=data.validated_data["deprecate_previous"],
            actor=request.user,
        )
        return Response(TemplateOutput(template).data)


class TemplateNewVersionApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(
        operation_id="admin_templates_new_version",
        description="Copy the latest version of this template's key into a new draft (version + 1).",
        request=None,
        responses={201: TemplateOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, template_id):
        draft = template_new_version(template=_template(template_id), actor=request.user)
        return Response(TemplateOutput(draft).data, status=status.HTTP_201_CREATED)

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company
from accounts.selectors import company_list, memberships_of
from accounts.services import company_create, company_update
from core.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from core.api.permissions import IsOperatorOrIntegrator
from core.roles import user_roles


class MembershipOutput(serializers.Serializer):
    id = serializers.UUIDField(source="company.id")
    key = serializers.CharField(source="company.key")
    name = serializers.CharField(source="company.name")
    membership = serializers.CharField(source="kind")


class MeApi(APIView):
    class Output(serializers.Serializer):
        class Meta:
            ref_name = "Me"

        id = serializers.UUIDField()
        email = serializers.EmailField()
        full_name = serializers.CharField()
        timezone = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())
        companies = MembershipOutput(many=True)

    @extend_schema(operation_id="me_retrieve", responses={200: Output}, tags=["me"])
    def get(self, request):
        user = request.user
        return Response(
            self.Output(
                {
                    "id": user.id,
                    "email": user.email,
                    "full_name": user.full_name,
                    "timezone": user.timezone,
                    "roles": sorted(user_roles(user)),
                    "companies": memberships_of(user),
                }
            ).data
        )


class CompanyOutput(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "key", "name", "description", "country", "website", "is_active", "created_at"]


class CompanyFilter(django_filters.FilterSet):
    key = django_filters.CharFilter()
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Company
        fields = ["key", "is_active"]


class CompanyListCreateApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = CompanyOutput
    filterset_class = CompanyFilter

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "CompanyCreate"

        key = serializers.SlugField(max_length=80)
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True, default="")
        website = serializers.URLField(required=False, allow_blank=True, default="")

    def get_queryset(self):
        return company_list()

    @extend_schema(operation_id="admin_companies_list", tags=["admin: companies"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_companies_create",
        request=Input,
        responses={201: CompanyOutput},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=["admin: companies"],
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        company = company_create(actor=request.user, **data.validated_data)
        return Response(CompanyOutput(company).data, status=status.HTTP_201_CREATED)


class CompanyDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "CompanyUpdate"

        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True)
        website = serializers.URLField(required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False)

    def _get(self, company_id):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(company_list(), pk=company_id)

    @extend_schema(operation_id="admin_companies_retrieve", responses={200: CompanyOutput}, tags=["admin: companies"])
    def get(self, request, company_id):
        return Response(CompanyOutput(self._get(company_id)).data)

    @extend_schema(
        operation_id="admin_companies_update",
        request=Input,
        responses={200: CompanyOutput},
        tags=["admin: companies"],
    )
    def patch(self, request, company_id):
        company = self._get(company_id)
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        company = company_update(company=company, data=data.validated_data, actor=request.user)
        return Response(CompanyOutput(company).data)

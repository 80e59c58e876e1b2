"""Company reporting API: the campaigns of one company with their headline figures and totals,
as JSON or CSV (`analytics.partner.company_report`).

Who may read it: superusers, operators and integrators (any company) and the company's
administrators (their own company only). For anyone else signed in the company does not exist
(404, like an unknown id), so the answer never tells that another company exists.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import Company, CompanyMembership
from analytics.api import FORMAT_PARAMETER, SCOPE_PARAMETERS, ScopeInput, _AnalyticsApi
from analytics.partner import COLUMNS, campaign_of_company, company_report, report_lines
from core.errors import NotFound, ValidationFailed
from core.roles import Role, user_has_role

TAGS = ["company: analytics"]


def company_for_reporting(*, user, company_id) -> Company | None:
    """The company when `user` may read its reports, else None (unknown and forbidden alike)."""
    companies = Company.objects.filter(pk=company_id)
    if not user_has_role(user, Role.OPERATOR, Role.INTEGRATOR):
        companies = companies.filter(memberships__user=user, memberships__kind=CompanyMembership.Kind.ADMIN)
    return companies.first()


class CampaignRow(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    campaign_name = serializers.CharField()
    program_id = serializers.UUIDField()
    program_name = serializers.CharField()
    applied = serializers.IntegerField(allow_null=True, help_text="Always null: applications belong to a program.")
    submitted = serializers.IntegerField(allow_null=True, help_text="Always null (as `applied`).")
    reviewed = serializers.IntegerField(allow_null=True, help_text="Always null (as `applied`).")
    accepted = serializers.IntegerField(allow_null=True, help_text="Always null (as `applied`).")
    enrolled = serializers.IntegerField()
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    dropped = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)
    drop_rate = serializers.FloatField(allow_null=True)
    acceptance_rate = serializers.FloatField(allow_null=True, help_text="Always null (as `applied`).")
    attendance_rate = serializers.FloatField(allow_null=True)
    target_enrollment = serializers.IntegerField()
    max_enrollment = serializers.IntegerField()
    places_taken = serializers.IntegerField(help_text="Enrollments holding a place now (active or completed).")
    target_progress = serializers.FloatField(allow_null=True, help_text="places_taken / target_enrollment.")


class CompanyTotalsRow(CampaignRow):
    campaign_id = None
    campaign_name = None
    program_id = None
    program_name = None


class CompanyAnalyticsOutput(serializers.Serializer):
    company_id = serializers.UUIDField()
    company_name = serializers.CharField()
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    campaigns = CampaignRow(many=True)
    totals = CompanyTotalsRow()


class CompanyAnalyticsApi(_AnalyticsApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="company_analytics",
        description="One row per campaign of the company over the date range (enrollments on the day "
        "they were enrolled, attendance on the day of the session) and the totals over those "
        "campaigns: counts pooled, rates recomputed from the pooled counts. Application stages are "
        "null: applications belong to a program, not a campaign. Operators and integrators may read "
        "any company, a company's administrators their own; any other company answers 404. With "
        "`format=csv` (or `Accept: text/csv`) one CSV line per campaign and a totals line. "
        "Formulas: docs/kpis.md.",
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("campaign", OpenApiTypes.UUID, description="Only this campaign of the company."),
            FORMAT_PARAMETER,
        ],
        responses={
            (200, "application/json"): CompanyAnalyticsOutput,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One line per campaign, then totals."),
        },
        tags=TAGS,
    )
    def get(self, request, company_id):
        company = company_for_reporting(user=request.user, company_id=company_id)
        if company is None:
            raise NotFound("No company with this id.")
        params = ScopeInput(data={key: value for key, value in request.query_params.items() if key != "format"})
        params.is_valid(raise_exception=True)
        values = params.validated_data
        if "cohort" in values:
            raise ValidationFailed(errors={"cohort": "Company reports are filtered by campaign, not by cohort."})
        campaign_id = values.get("campaign")
        if campaign_id and not campaign_of_company(company=company, campaign_id=campaign_id):
            raise ValidationFailed(errors={"campaign": "No campaign with this id in this company."})
        report = company_report(
            company=company, date_from=values.get("from"), date_to=values.get("to"), campaign_id=campaign_id
        )
        if self.wants_csv(request):
            return self.csv_response(report_lines(report), list(COLUMNS), f"company-{company.pk}-campaigns.csv")
        return Response(report)

from django.urls import path

from analytics import api, partner_api

urlpatterns = [
    path(
        "admin/programs/<uuid:program_id>/analytics",
        api.ProgramAnalyticsApi.as_view(),
        name="api-program-analytics",
    ),
    path("admin/analytics", api.CrossProgramAnalyticsApi.as_view(), name="api-analytics-overview"),
    path(
        "admin/programs/<uuid:program_id>/analytics/impact",
        api.ProgramImpactApi.as_view(),
        name="api-program-impact",
    ),
    path("admin/analytics/impact", api.CrossProgramImpactApi.as_view(), name="api-analytics-impact"),
    path(
        "companies/<uuid:company_id>/analytics",
        partner_api.CompanyAnalyticsApi.as_view(),
        name="api-company-analytics",
    ),
]

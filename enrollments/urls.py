from django.urls import path

from enrollments import api

urlpatterns = [
    path("admin/enrollments", api.EnrollmentListCreateApi.as_view(), name="api-enrollments"),
    path("admin/enrollments/<uuid:enrollment_id>", api.EnrollmentDetailApi.as_view(), name="api-enrollment"),
    path(
        "admin/campaigns/<uuid:campaign_id>/capacity",
        api.CampaignCapacityApi.as_view(),
        name="api-campaign-capacity",
    ),
    path("admin/programs/<uuid:program_id>/outcomes", api.OutcomeListCreateApi.as_view(), name="api-outcomes"),
    path("admin/integrity", api.IntegrityApi.as_view(), name="api-integrity"),
    path("admin/integrity/fix", api.IntegrityFixApi.as_view(), name="api-integrity-fix"),
    path("me/enrollments", api.MyEnrollmentsApi.as_view(), name="api-my-enrollments"),
    path("me/enrollments/<uuid:enrollment_id>", api.MyEnrollmentDetailApi.as_view(), name="api-my-enrollment"),
]

from django.urls import path

from applications.api import admin, public

P = "admin/programs/<uuid:program_id>"

urlpatterns = [
    path("programs/<uuid:program_id>/application-form", public.ApplicationFormApi.as_view(), name="api-app-form"),
    path("programs/<uuid:program_id>/applications", public.ApplyApi.as_view(), name="api-apply"),
    path("programs/<uuid:program_id>/applications/me", public.MyApplicationApi.as_view(), name="api-my-application"),
    path(f"{P}/application-form", admin.ApplicationFormPutApi.as_view(), name="api-admin-app-form"),
    path(f"{P}/scoring-rubric", admin.ScoringRubricPutApi.as_view(), name="api-admin-rubric"),
    path(f"{P}/review-team", admin.ReviewTeamApi.as_view(), name="api-admin-review-team"),
    path(f"{P}/reviews", admin.AssignmentsApi.as_view(), name="api-admin-assign"),
    path(f"{P}/applications", admin.ApplicationListApi.as_view(), name="api-admin-applications"),
    path(f"{P}/applications/<uuid:application_id>", admin.ApplicationDetailApi.as_view(), name="api-admin-application"),
    path(f"{P}/applications/<uuid:application_id>/review", admin.ReviewSubmitApi.as_view(), name="api-admin-review"),
    path(
        f"{P}/applications/<uuid:application_id>/conflict",
        admin.ConflictDeclareApi.as_view(),
        name="api-admin-conflict",
    ),
    path(f"{P}/applications/<uuid:application_id>/decision", admin.DecisionApi.as_view(), name="api-admin-decision"),
    path(
        f"{P}/applications/<uuid:application_id>/request-info",
        admin.RequestInfoApi.as_view(),
        name="api-admin-request-info",
    ),
    path(f"{P}/decisions", admin.BulkDecisionApi.as_view(), name="api-admin-decisions"),
    path(f"{P}/decisions/release", admin.ReleaseApi.as_view(), name="api-admin-decisions-release"),
    path(f"{P}/scores/recompute", admin.ScoresRecomputeApi.as_view(), name="api-admin-scores"),
]

from django.urls import path

from scheduling.api import cohorts as api

COHORTS = "admin/programs/<uuid:program_id>/cohorts"

urlpatterns = [
    path(COHORTS, api.CohortListCreateApi.as_view(), name="api-cohorts"),
    path(f"{COHORTS}/<uuid:cohort_id>", api.CohortDetailApi.as_view(), name="api-cohort"),
    path(f"{COHORTS}/<uuid:cohort_id>/members", api.CohortMemberListCreateApi.as_view(), name="api-cohort-members"),
    path(
        f"{COHORTS}/<uuid:cohort_id>/members/<uuid:member_id>",
        api.CohortMemberDetailApi.as_view(),
        name="api-cohort-member",
    ),
    path(
        f"{COHORTS}/<uuid:cohort_id>/members/<uuid:member_id>/move",
        api.CohortMemberMoveApi.as_view(),
        name="api-cohort-member-move",
    ),
]

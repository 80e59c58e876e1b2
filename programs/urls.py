from django.urls import path

from programs import api

urlpatterns = [
    path("admin/beneficiary-groups", api.BeneficiaryGroupListCreateApi.as_view(), name="api-groups"),
    path(
        "admin/beneficiary-groups/<uuid:group_id>",
        api.BeneficiaryGroupDetailApi.as_view(),
        name="api-group",
    ),
    path("admin/programs", api.ProgramListCreateApi.as_view(), name="api-admin-programs"),
    path("admin/programs/<uuid:program_id>", api.ProgramDetailApi.as_view(), name="api-admin-program"),
    path(
        "admin/programs/<uuid:program_id>/status",
        api.ProgramStatusApi.as_view(),
        name="api-admin-program-status",
    ),
    path(
        "admin/programs/<uuid:program_id>/migrate-template",
        api.ProgramMigrateTemplateApi.as_view(),
        name="api-admin-program-migrate",
    ),
    path("programs", api.CatalogListApi.as_view(), name="api-programs"),
    path("programs/<uuid:program_id>", api.CatalogDetailApi.as_view(), name="api-program"),
    path("admin/campaigns", api.CampaignListCreateApi.as_view(), name="api-campaigns"),
    path("admin/campaigns/<uuid:campaign_id>", api.CampaignDetailApi.as_view(), name="api-campaign"),
]

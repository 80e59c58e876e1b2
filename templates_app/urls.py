from django.urls import path

from templates_app import api

urlpatterns = [
    path("admin/templates", api.TemplateListCreateApi.as_view(), name="api-templates"),
    path("admin/templates/<uuid:template_id>", api.TemplateDetailApi.as_view(), name="api-template"),
    path(
        "admin/templates/<uuid:template_id>/publish",
        api.TemplatePublishApi.as_view(),
        name="api-template-publish",
    ),
    path(
        "admin/templates/<uuid:template_id>/versions",
        api.TemplateNewVersionApi.as_view(),
        name="api-template-versions",
    ),
]

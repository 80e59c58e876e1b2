from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from core import views as core_views
from core.api import jobs as jobs_api
from core.middleware import csp_override
from core.security import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm
from programs import views as program_views

api_v1 = [
    path("me", accounts_api.MeApi.as_view(), name="api-me"),
    path("admin/companies", accounts_api.CompanyListCreateApi.as_view(), name="api-companies"),
    path("admin/companies/<uuid:company_id>", accounts_api.CompanyDetailApi.as_view(), name="api-company"),
    path("admin/jobs", jobs_api.JobListApi.as_view(), name="api-jobs"),
    path("admin/programs/jobs/run", jobs_api.JobRunApi.as_view(), name="api-jobs-run"),
    path("admin/job-runs", jobs_api.JobRunListApi.as_view(), name="api-job-runs"),
    path("admin/job-runs/<uuid:run_id>", jobs_api.JobRunDetailApi.as_view(), name="api-job-run"),
    path("", include("notifications.urls")),
    path("", include("crm_sync.urls")),
    path("", include("templates_app.urls")),
    path("", include("programs.urls")),
    path("", include("enrollments.urls")),
    path("", include("scheduling.urls")),
    path("", include("applications.urls")),
    path("", include("mentorship.urls")),
    path("", include("coaching.urls")),
    path("", include("analytics.urls")),
    path("", include("privacy.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI loads its start-up script as a file (split view); both pages bring inline styles,
    # ReDoc an inline start-up script and a worker: they relax the policy for themselves only.
    path(
        "docs/",
        csp_override(SpectacularSwaggerSplitView.as_view(url_name="schema"), style_src=["'self'", "'unsafe-inline'"]),
        name="swagger-ui",
    ),
    path(
        "redoc/",
        csp_override(
            SpectacularRedocView.as_view(url_name="schema"),
            script_src=["'self'", "'unsafe-inline'"],
            style_src=["'self'", "'unsafe-inline'"],
            worker_src=["'self'", "blob:"],
        ),
        name="redoc",
    ),
]

urlpatterns = [
    path("health", core_views.health_live, name="health"),
    path("health/ready", core_views.health_ready, name="health-ready"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("notifications/", include("notifications.page_urls")),
    path("", include("applications.page_urls")),
    path("", include("scheduling.page_urls")),
    path("", include("mentorship.page_urls")),
    path("", include("coaching.page_urls")),
    path("", include("analytics.page_urls")),
    path("", program_views.catalog, name="catalog"),
    path("programs/<slug:program_key>/", program_views.program_detail, name="program-detail"),
]

handler400 = "core.urls_handlers.bad_request"
handler404 = "core.urls_handlers.not_found"
handler500 = "core.urls_handlers.server_error"

admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_header = "Programs and Events: operations"
admin.site.site_title = "Programs operations"
admin.site.index_title = "Programs, applications and people"

"""Settings shared by every environment.

Everything comes from the environment (django-environ, `.env` supported). With nothing set the
product runs on the embedded defaults: a SQLite file under `var/`, a file-system Celery transport
that needs no server, and console e-mail.
"""

from pathlib import Path

import environ

from config import schedule as _job_schedule

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(str(env_file))

# Local state of the embedded defaults (SQLite file, Celery queue folders); never committed.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -----------------------------------------------------------------------------

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
]
LOCAL_APPS = [
    "core",
    "accounts",
    "notifications",
    "crm_sync",
    "templates_app",
    "programs",
    "enrollments",
    "scheduling",
    "applications",
    "mentorship",
    "coaching",
    "analytics",
    "privacy",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "core.request_limits.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.ViewerTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default: its folder exists on a fresh clone, and web, worker and beat share
    # the file (WAL, immediate write transactions and a lock timeout avoid "database is locked").
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # SQLite has no NULLS NOT DISTINCT: the one-snapshot-per-day constraint is PostgreSQL's; the
    # snapshot job replaces a day's rows in one transaction, which keeps one row each everywhere.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog"
LOGOUT_REDIRECT_URL = "catalog"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed sign-ins (page and admin) per e-mail and per client address, counted in the cache; see
# core/security.py. Behind a proxy, set the header that carries the client's address.
LOGIN_THROTTLE_EMAIL_LIMIT = env.int("LOGIN_THROTTLE_EMAIL_LIMIT", default=5)
LOGIN_THROTTLE_IP_LIMIT = env.int("LOGIN_THROTTLE_IP_LIMIT", default=30)
LOGIN_THROTTLE_WINDOW_SECONDS = env.int("LOGIN_THROTTLE_WINDOW_SECONDS", default=15 * 60)
LOGIN_THROTTLE_LOCKOUT_SECONDS = env.int("LOGIN_THROTTLE_LOCKOUT_SECONDS", default=15 * 60)
LOGIN_THROTTLE_CLIENT_IP_HEADER = env.str("LOGIN_THROTTLE_CLIENT_IP_HEADER", default="REMOTE_ADDR")

# --- Browser security (every environment; production adds HTTPS-only settings) ------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: forms carry the token, the API docs page gets it from the page.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (core.middleware.ContentSecurityPolicyMiddleware): no inline script or
# style anywhere; the API docs pages relax it for themselves only (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
}
CONTENT_SECURITY_POLICY_REPORT_ONLY = env.bool("CONTENT_SECURITY_POLICY_REPORT_ONLY", default=False)

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Without collectstatic (local runs, tests) WhiteNoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Programs <programs@localhost>")

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The beat schedule of every job, defined in code in one place (see config/schedule.py).
JOB_SCHEDULE = _job_schedule.SCHEDULE

# --- REST framework and OpenAPI ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.problem_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.ContentNegotiation",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Programs and Events Platform API",
    "DESCRIPTION": (
        "Programs, campaigns, enrollments and the rest of the platform. Errors are RFC 9457 problem "
        "details (`application/problem+json`). Creating POSTs honour an `Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProgramStatusEnum": "programs.enums.ProgramStatus",
        "CampaignStatusEnum": "programs.enums.CampaignStatus",
        "CampaignInitialStatusEnum": ["draft", "active"],
        "TemplateStatusEnum": "templates_app.enums.TemplateStatus",
        "ProgramTypeEnum": "templates_app.enums.TemplateCategory",
        "EnrollmentStatusEnum": "enrollments.enums.EnrollmentStatus",
        "SourceSystemEnum": "enrollments.enums.SourceSystem",
        "ApplicationStatusEnum": "applications.enums.ApplicationStatus",
        "AssignmentStatusEnum": "applications.enums.AssignmentStatus",
        "OfferStatusEnum": "applications.enums.OfferStatus",
        "CohortStatusEnum": "scheduling.enums.CohortStatus",
        "AvailabilityKindEnum": "scheduling.enums.AvailabilityKind",
        "SessionKindEnum": "scheduling.enums.SessionKind",
        "SessionStatusEnum": "scheduling.enums.SessionStatus",
        "RegistrationStatusEnum": "scheduling.enums.RegistrationStatus",
        "RegistrationSourceEnum": "scheduling.enums.RegistrationSource",
        "AttendanceStatusEnum": "scheduling.enums.AttendanceStatus",
        "AttendanceSourceEnum": "scheduling.enums.AttendanceSource",
        "HostConfirmationStatusEnum": "scheduling.enums.ConfirmationStatus",
        "HostConfirmationDecisionEnum": ["confirmed", "declined"],
        "ApplicationDecisionEnum": ["accepted", "waitlisted", "rejected"],
        "SubscriberKindEnum": "crm_sync.enums.SubscriberKind",
        "MentorshipSideEnum": "mentorship.enums.ProfileKind",
        "MentorshipMatchStatusEnum": "mentorship.enums.MatchStatus",
        "MentorshipMatchSourceEnum": "mentorship.enums.MatchSource",
        "MentorshipEndReasonEnum": "mentorship.enums.EndReason",
        "MentorshipRecordSourceEnum": "mentorship.enums.RecordSource",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "tokenAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Token <key>`, as printed by `manage.py create_api_user`.",
            }
        }
    },
}

# --- Product settings -------------------------------------------------------------------------

# Where people reach the site: links in e-mails are built on it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
HEALTH_BROKER_TIMEOUT_SECONDS = env.float("HEALTH_BROKER_TIMEOUT_SECONDS", default=2.0)

# --- Events, webhooks and CRM sync (see docs/integration.md) -------------------------------------

CRM_DISPATCH_KICK_ON_COMMIT = env.bool("CRM_DISPATCH_KICK_ON_COMMIT", default=True)
CRM_INBOUND_PROCESS_ON_COMMIT = env.bool("CRM_INBOUND_PROCESS_ON_COMMIT", default=True)
CRM_DISPATCH_BATCH_SIZE = env.int("CRM_DISPATCH_BATCH_SIZE", default=500)
CRM_DISPATCH_CONCURRENCY = env.int("CRM_DISPATCH_CONCURRENCY", default=8)
CRM_DISPATCH_TIME_BUDGET_SECONDS = env.float("CRM_DISPATCH_TIME_BUDGET_SECONDS", default=20)
CRM_DELIVERY_LEASE_SECONDS = env.int("CRM_DELIVERY_LEASE_SECONDS", default=120)
CRM_RETRY_BASE_SECONDS = env.float("CRM_RETRY_BASE_SECONDS", default=10)
CRM_RETRY_CAP_SECONDS = env.float("CRM_RETRY_CAP_SECONDS", default=3600)
CRM_MAX_ATTEMPTS = env.int("CRM_MAX_ATTEMPTS", default=8)
CRM_WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("CRM_WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=5)
CRM_WEBHOOK_READ_TIMEOUT_SECONDS = env.float("CRM_WEBHOOK_READ_TIMEOUT_SECONDS", default=10)
CRM_INBOUND_MAX_BYTES = env.int("CRM_INBOUND_MAX_BYTES", default=256 * 1024)

# --- Live sessions: conferencing providers (see docs/operators/sessions.md) ----------------------

# The cache holds short-lived provider tokens shared by every process: production points it at
# Redis (CACHE_URL=redis://...); the embedded default is per process.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
CONFERENCING_DEFAULT_PROVIDER = env.str("CONFERENCING_DEFAULT_PROVIDER", default="jitsi")
CONFERENCING_SYNC_ON_COMMIT = env.bool("CONFERENCING_SYNC_ON_COMMIT", default=True)
CONFERENCING_RETRY_BASE_SECONDS = env.float("CONFERENCING_RETRY_BASE_SECONDS", default=30)
CONFERENCING_RETRY_CAP_SECONDS = env.float("CONFERENCING_RETRY_CAP_SECONDS", default=3600)
CONFERENCING_MAX_ATTEMPTS = env.int("CONFERENCING_MAX_ATTEMPTS", default=8)
JITSI_BASE_URL = env.str("JITSI_BASE_URL", default="https://meet.jit.si")
# Zoom Server-to-Server OAuth app (secrets: never logged).
ZOOM_ACCOUNT_ID = env.str("ZOOM_ACCOUNT_ID", default="")
ZOOM_CLIENT_ID = env.str("ZOOM_CLIENT_ID", default="")
ZOOM_CLIENT_SECRET = env.str("ZOOM_CLIENT_SECRET", default="")
ZOOM_API_BASE_URL = env.str("ZOOM_API_BASE_URL", default="https://api.zoom.us/v2")
ZOOM_OAUTH_URL = env.str("ZOOM_OAUTH_URL", default="https://zoom.us/oauth/token")
ZOOM_TIMEOUT_SECONDS = env.float("ZOOM_TIMEOUT_SECONDS", default=10)

# Every record carries the request id (core/logging.py); LOG_FORMAT=json writes one JSON object per
# line (the production default).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="plain"),
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Connections one analytics computation may use side by side (analytics.selectors); 1 turns it off.
ANALYTICS_PARALLEL_CONNECTIONS = env.int("ANALYTICS_PARALLEL_CONNECTIONS", default=2)

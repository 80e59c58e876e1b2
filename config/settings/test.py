"""Test settings: PostgreSQL (the source of truth), fast hashing, in-memory e-mail."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/platform"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests dispatch and process explicitly (one test runs a real worker with these switched on).
CRM_DISPATCH_KICK_ON_COMMIT = False
CRM_INBOUND_PROCESS_ON_COMMIT = False
NOTIFICATIONS_DELIVER_ON_COMMIT = False
CONFERENCING_SYNC_ON_COMMIT = False

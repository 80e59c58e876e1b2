"""Production: every secret and address comes from the environment; no embedded defaults."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
# One cache shared by every web and worker process (Redis): sign-in throttling counts and provider
# tokens must be seen by all of them.
CACHES = {"default": env.cache("CACHE_URL")}

# HTTPS only. The proxy in front terminates TLS and must set X-Forwarded-Proto (overwriting any
# value the client sent); Django then knows a request came in over HTTPS. Never set this header
# trust without such a proxy: a client could claim HTTPS itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancer probes may call the health endpoints over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^health/ready$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# HSTS: browsers keep to HTTPS for a year. INCLUDE_SUBDOMAINS covers every subdomain of the host
# (all of them must serve HTTPS); PRELOAD allows submitting the domain to the browsers' preload
# list (hstspreload.org), which is hard to undo. Turn both off with the environment variables
# when the domain is shared with sites that are not HTTPS-only.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# One JSON object per log line, with the request id.
LOGGING["handlers"]["console"]["formatter"] = env.str("LOG_FORMAT", default="json")

STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
WHITENOISE_USE_FINDERS = False

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

"""The Celery application. Tasks are discovered in each app's `tasks.py`."""

import os

from celery import Celery, signals

from core.request_id import install_celery_hooks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id travels in task headers and is restored for the task's run (core/request_id.py).
install_celery_hooks()


@signals.setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """Workers and beat log through settings.LOGGING (request id on every line, JSON in
    production) instead of Celery's own format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)

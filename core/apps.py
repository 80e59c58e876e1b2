from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_schedule(sender, **kwargs) -> None:
    if sender.label == "django_celery_beat":
        from core.schedule import sync_schedule

        sync_schedule()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view",)}

    def ready(self) -> None:
        from core.housekeeping import housekeeping
        from core.jobs import register_job

        register_job(
            "housekeeping",
            housekeeping,
            "Delete expired idempotency keys and job runs older than 30 days.",
        )
        post_migrate.connect(_sync_schedule, dispatch_uid="core.sync_schedule")

from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Coach"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change")}

    def ready(self) -> None:
        from applications.hooks import register_change_listener
        from coaching.services import pursuit_sync_from_application

        register_change_listener(pursuit_sync_from_application)

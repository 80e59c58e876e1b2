from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts): operators read
    # the log, retry failed e-mails and tune rate limits.
    role_permissions = {"operator": ("view", "add", "change")}

    def ready(self) -> None:
        from core.jobs import register_job
        from notifications import checks  # noqa: F401  (registers the template check)
        from notifications.enums import KindGroup
        from notifications.jobs import notification_dispatch
        from notifications.registry import register_kind

        register_kind(
            "account_notice",
            group=KindGroup.TRANSACTIONAL,
            essential=True,
            description="A plain notice about the account (title, message, optional link); any app may send it.",
        )
        register_job(
            "notification_dispatch",
            notification_dispatch,
            "Deliver queued notifications that are due: after quiet hours, retries, lost tasks.",
            record_idle=False,
        )

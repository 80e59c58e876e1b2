from django.apps import AppConfig


class CrmSyncConfig(AppConfig):
    name = "crm_sync"
    verbose_name = "Events, webhooks and CRM sync"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change")}

    def ready(self) -> None:
        from core.jobs import register_job
        from crm_sync import adapters, checks  # noqa: F401  (adapters and the system check register)
        from crm_sync.jobs import crm_dispatch

        register_job(
            "crm_dispatch",
            crm_dispatch,
            "Deliver new and due outbox events to subscribers; process due inbound partner events.",
            record_idle=False,
        )

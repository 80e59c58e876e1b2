from django.apps import AppConfig


class CrmSyncConfig(AppConfig):
    name = "crm_sync"
    verbose_name = "Events, webhooks and CRM sync"
    default_auto_field = "django.db.models.BigAutoField"

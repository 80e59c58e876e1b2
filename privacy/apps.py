from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Data protection: a person's data exported (JSON) or erased on request. A top-layer app: it
    reads the personal-data table of `privacy.registry`, which names every domain app's models."""

    name = "privacy"
    verbose_name = "Data protection"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the OpenAPI auth scheme)
        from accounts.demo import seed_accounts
        from core.demo import register_demo_seeder

        register_demo_seeder(order=10, name="accounts: roles, organisations, demo users", fn=seed_accounts)

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_role_permissions(sender, **kwargs) -> None:
    from accounts.services import roles_grant_app_permissions

    roles_grant_app_permissions(sender)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"
    default_auto_field = "django.db.models.BigAutoField"
    role_permissions = {"operator": ("view", "add", "change")}

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the OpenAPI auth scheme)
        from accounts.demo import seed_accounts
        from core.demo import register_demo_seeder

        # After each app's migrations (and its permissions) exist, give the role groups the admin
        # permissions the app declares.
        post_migrate.connect(_grant_role_permissions, dispatch_uid="accounts.grant_role_permissions")
        register_demo_seeder(order=10, name="accounts: roles, organisations, demo users", fn=seed_accounts)

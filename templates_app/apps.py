from django.apps import AppConfig


class TemplatesAppConfig(AppConfig):
    name = "templates_app"
    verbose_name = "Program templates"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change"), "reviewer": ("view",)}

    def ready(self) -> None:
        from core.demo import register_demo_seeder
        from templates_app.services import templates_seed_builtin

        register_demo_seeder(
            order=20,
            name="templates: built-in program templates",
            fn=lambda say: templates_seed_builtin(say=say),
        )

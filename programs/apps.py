from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = "Programs and campaigns"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change"), "reviewer": ("view",)}

    def ready(self) -> None:
        from core.demo import register_demo_seeder
        from programs.demo import seed_programs

        register_demo_seeder(order=30, name="programs: beneficiary groups, programs, campaigns", fn=seed_programs)

from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = "Programs and campaigns"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change"), "reviewer": ("view",)}

    def ready(self) -> None:
        from core.demo import register_demo_seeder
        from crm_sync.hooks import register_program_lookup
        from programs.demo import seed_programs
        from programs.models import Program

        register_program_lookup(lambda program_id: Program.objects.filter(pk=program_id).exists())
        register_demo_seeder(order=30, name="programs: beneficiary groups, programs, campaigns", fn=seed_programs)

from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Enrollments"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change"), "reviewer": ("view",)}

    def ready(self) -> None:
        from core.demo import register_demo_seeder
        from enrollments.demo import seed_enrollments
        from enrollments.services import (
            campaign_max_enrollment_check,
            enrollments_follow_program,
            program_migration_role_errors,
        )
        from programs.hooks import (
            register_campaign_capacity_check,
            register_program_changed_handler,
            register_program_migration_check,
        )

        # Programs offers hooks; enrollments plugs in (imports only go down the layers).
        register_campaign_capacity_check(campaign_max_enrollment_check)
        register_program_migration_check(program_migration_role_errors)
        register_program_changed_handler(enrollments_follow_program)
        from crm_sync.hooks import register_crm_entity
        from enrollments.crm import crm_enrollments, crm_outcomes, crm_participants

        register_crm_entity("enrollment", crm_enrollments)
        register_crm_entity("participant", crm_participants)
        register_crm_entity("outcome", crm_outcomes)
        from notifications.registry import register_kind

        register_kind(
            "enrollment_confirmed",
            group="transactional",
            essential=True,
            description="Sent when a person is enrolled in a program.",
        )
        register_demo_seeder(order=40, name="enrollments: demo participants", fn=seed_enrollments)

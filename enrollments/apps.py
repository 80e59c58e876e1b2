from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Enrollments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.demo import register_demo_seeder
        from enrollments.demo import seed_enrollments
        from enrollments.services import campaign_max_enrollment_check
        from programs.hooks import register_campaign_capacity_check

        register_campaign_capacity_check(campaign_max_enrollment_check)
        register_demo_seeder(order=40, name="enrollments: demo participants", fn=seed_enrollments)

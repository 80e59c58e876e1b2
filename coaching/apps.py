from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Coach"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change")}

    def ready(self) -> None:
        from applications.hooks import register_change_listener
        from coaching.services import pursuit_sync_from_application

        register_change_listener(pursuit_sync_from_application)

        from coaching import notices
        from coaching.jobs import coach_check_ins, coach_momentum, coach_scan
        from core.jobs import register_job
        from notifications.registry import register_kind

        for key, group, essential, description in notices.KINDS:
            register_kind(key, group=group, essential=essential, description=description)
        register_job(
            "coach_momentum",
            coach_momentum,
            "Daily: recompute every pursuit's momentum in bulk (past-deadline and closed pursuits drop out).",
        )
        register_job(
            "coach_scan",
            coach_scan,
            "Hourly: one message per person listing pursuits newly due within 72 h / 24 h, and the micro-task "
            "for a pursuit with no progress for 48 h and its deadline within 7 days (unless snoozed).",
        )
        register_job(
            "coach_check_ins",
            coach_check_ins,
            "Daily: create the 'Have you heard back?' check-in 21 days after submission and tell the person.",
        )
        from coaching.demo import seed_coach
        from core.demo import register_demo_seeder

        register_demo_seeder(order=90, name="coach: the writer's outside opportunities", fn=seed_coach)

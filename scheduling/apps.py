from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Cohorts and scheduling"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change"), "reviewer": ("view",)}

    def ready(self) -> None:
        from core.jobs import register_job
        from notifications.registry import register_kind
        from scheduling import notices
        from scheduling.jobs import cohort_transitions

        for key, description in notices.KINDS:
            register_kind(key, group="transactional", essential=True, description=description)

        register_job(
            "cohort_transitions",
            cohort_transitions,
            "Start planned cohorts on their start date and complete active ones after their end date "
            "(in each program's time zone); completion settles members and their enrollments.",
        )

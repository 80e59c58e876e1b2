from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Cohorts and scheduling"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change"), "reviewer": ("view",)}
    # Calendar feed addresses are personal secrets: no role sees them in the admin.
    role_permissions_exclude = ("calendarfeed",)

    def ready(self) -> None:
        from core.jobs import register_job
        from notifications.registry import register_kind
        from scheduling import notices
        from scheduling.jobs import cohort_transitions

        for key, description in notices.KINDS:
            register_kind(key, group="transactional", essential=True, description=description)

        from core.demo import register_demo_seeder
        from scheduling.demo import seed_sessions

        register_demo_seeder(order=70, name="scheduling: sessions, a series, a live read", fn=seed_sessions)

        register_job(
            "cohort_transitions",
            cohort_transitions,
            "Start planned cohorts on their start date and complete active ones after their end date "
            "(in each program's time zone); completion settles members and their enrollments.",
        )
        from scheduling.jobs import session_reminders

        register_job(
            "session_reminders",
            session_reminders,
            "Send the session reminders due now (per-program offsets, default 24 h and 1 h before the "
            "start) to hosts and registered participants, exactly once per person, offset and schedule.",
        )
        from scheduling.conferencing import tasks as _conferencing_tasks  # noqa: F401 - registers the Celery task
        from scheduling.conferencing.jobs import conferencing_sync

        register_job(
            "conferencing_sync",
            conferencing_sync,
            "Synchronise session meetings with their conferencing provider (zoom): changes not yet pushed "
            "and retries after provider errors once their backoff has passed.",
            record_idle=False,
        )
        from scheduling.hooks import register_completion_rule
        from scheduling.services.attendance import attendance_completion_rule
        from scheduling.services.confirmations import host_confirmation_deadlines

        register_completion_rule(attendance_completion_rule)
        register_job(
            "host_confirmation_deadlines",
            host_confirmation_deadlines,
            "Expire host confirmation requests left unanswered past their deadline and alert the "
            "operators to assign another host (once per request).",
            record_idle=False,
        )

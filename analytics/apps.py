from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view",)}

    def ready(self) -> None:
        from analytics.snapshots import analytics_snapshots
        from core.jobs import register_job

        register_job(
            "analytics_snapshots",
            analytics_snapshots,
            "Daily: each program's headline figures at the end of yesterday (UTC), for the program and each "
            "campaign and cohort; a rerun replaces that day's rows.",
        )
        from analytics.demo import seed_snapshots
        from core.demo import register_demo_seeder

        register_demo_seeder(order=100, name="analytics: snapshots of the last 14 days", fn=seed_snapshots)

"""Source 004 FR-010: at most one e-mail and one dashboard nudge per user per rolling 24 hours."""

from django.db import migrations

POLICIES = [
    {"group": "nudge", "channel": "email", "max_count": 1, "window_hours": 24},
    {"group": "nudge", "channel": "dashboard", "max_count": 1, "window_hours": 24},
]


def seed(apps, schema_editor):
    RateLimitPolicy = apps.get_model("notifications", "RateLimitPolicy")
    for policy in POLICIES:
        RateLimitPolicy.objects.get_or_create(
            group=policy["group"],
            channel=policy["channel"],
            defaults={"max_count": policy["max_count"], "window_hours": policy["window_hours"]},
        )


def unseed(apps, schema_editor):
    RateLimitPolicy = apps.get_model("notifications", "RateLimitPolicy")
    for policy in POLICIES:
        RateLimitPolicy.objects.filter(group=policy["group"], channel=policy["channel"]).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

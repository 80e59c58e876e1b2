"""Writes the beat schedule of `settings.JOB_SCHEDULE` into django-celery-beat's tables."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from core.jobs import job_registry

TASK = "core.run_job"
PREFIX = "job: "


def sync_schedule(say: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Create or update one periodic task per scheduled job; an operator's `enabled` choice is
    kept; entries of jobs no longer scheduled are removed."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    counts = {"created": 0, "updated": 0, "removed": 0, "unknown": 0}
    jobs = job_registry()
    wanted: set[str] = set()
    with transaction.atomic():
        for name, spec in settings.JOB_SCHEDULE.items():
            if name not in jobs:
                counts["unknown"] += 1
                say(f"skipped {name}: no such job is registered")
                continue
            fields: dict = {"task": TASK, "kwargs": json.dumps({"job": name}), "interval": None, "crontab": None}
            if "every" in spec:
                fields["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=int(spec["every"]), period=IntervalSchedule.SECONDS
                )
            else:
                minute, hour, day_of_month, month_of_year, day_of_week = spec["crontab"].split()
                fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    minute=minute,
                    hour=hour,
                    day_of_month=day_of_month,
                    month_of_year=month_of_year,
                    day_of_week=day_of_week,
                    timezone="UTC",
                )
            task_name = f"{PREFIX}{name}"
            wanted.add(task_name)
            fields["description"] = jobs[name].description
            existing = PeriodicTask.objects.filter(name=task_name).first()
            if existing is None:
                PeriodicTask.objects.create(name=task_name, **fields)
                counts["created"] += 1
                say(f"scheduled {name}")
            else:
                changed = [k for k, v in fields.items() if getattr(existing, k) != v]
                if changed:
                    for key in changed:
                        setattr(existing, key, fields[key])
                    existing.save()
                    counts["updated"] += 1
                    say(f"updated {name}")
        stale = PeriodicTask.objects.filter(name__startswith=PREFIX).exclude(name__in=wanted)
        counts["removed"] = stale.count()
        stale.delete()
    return counts

"""Read models of the analytics app: daily snapshots of each program's figures."""

from __future__ import annotations

from django.db import models

from core.models import BaseModel


class Snapshot(BaseModel):
    """A program's headline figures as they stood at the end of one day (UTC), for the whole
    program (campaign and cohort empty) or for one of its campaigns or cohorts. Written by the
    `analytics_snapshots` job, one row per (day, program, campaign, cohort): a rerun replaces the
    row of that day. `metrics` holds the keys of `analytics.snapshots.SNAPSHOT_KEYS`."""

    day = models.DateField()
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="snapshots")
    campaign = models.ForeignKey(
        "programs.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="snapshots"
    )
    cohort = models.ForeignKey(
        "scheduling.Cohort", null=True, blank=True, on_delete=models.CASCADE, related_name="snapshots"
    )
    metrics = models.JSONField(default=dict)
    # True when the row was computed later for a past day (backfill): stock figures such as
    # enrollments by status then show today's status of the people enrolled by that day.
    backfilled = models.BooleanField(default=False)

    class Meta:
        ordering = ["program", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "program", "campaign", "cohort"],
                name="analytics_snapshot_one_per_day",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(campaign__isnull=True) | models.Q(cohort__isnull=True),
                name="analytics_snapshot_one_dimension",
            ),
        ]
        indexes = [models.Index(fields=["program", "day"], name="analytics_snapshot_prog_day")]

    def __str__(self) -> str:
        dimension = self.campaign_id or self.cohort_id or "program"
        return f"{self.program_id} {self.day} {dimension}"

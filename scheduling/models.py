from django.db import models
from django.db.models import F, Q

from core.models import BaseModel
from enrollments.models import Enrollment
from programs.models import Program, ProgramTrack
from scheduling.enums import CohortMemberStatus, CohortStatus


class Cohort(BaseModel):
    """A group of a program's participants who go through it together, between two dates and
    up to a capacity. Its places are counted from its active members, never stored."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="cohorts")
    track = models.ForeignKey(ProgramTrack, null=True, blank=True, on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(max_length=200)
    starts_on = models.DateField(help_text="First day, in the program's time zone.")
    ends_on = models.DateField(help_text="Last day, in the program's time zone.")
    capacity = models.PositiveIntegerField(help_text="Active members at most.")
    status = models.CharField(max_length=20, choices=CohortStatus.choices, default=CohortStatus.PLANNED, db_index=True)

    class Meta:
        ordering = ["program", "starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="cohort_dates_ordered"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="cohort_capacity_positive"),
        ]
        indexes = [models.Index(fields=["program", "status"])]

    def __str__(self) -> str:
        return self.name


class CohortMember(BaseModel):
    """An enrollment's place in a cohort. Leaving (removed, moved, cancelled cohort) keeps the
    row as `dropped`; the cohort's completion turns active members `completed` or `dropped`."""

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="members")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="cohort_memberships")
    status = models.CharField(
        max_length=20, choices=CohortMemberStatus.choices, default=CohortMemberStatus.ACTIVE, db_index=True
    )
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why the status last changed.")

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "enrollment"], name="cohort_member_unique_enrollment"),
            # An enrollment belongs to one program, so "one active cohort of its program at a time"
            # is "one active membership at a time".
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=Q(status="active"),
                name="cohort_member_one_active_per_enrollment",
            ),
            models.CheckConstraint(
                condition=Q(status="active", left_at__isnull=True) | (~Q(status="active") & Q(left_at__isnull=False)),
                name="cohort_member_left_at_iff_not_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment.user} in {self.cohort}"

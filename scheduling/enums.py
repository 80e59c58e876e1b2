from django.db import models


class CohortStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class CohortMemberStatus(models.TextChoices):
    # The labels differ from EnrollmentStatus's on purpose: the OpenAPI enum overrides tell choice
    # sets apart by their values and labels, and these are a membership's states, not an enrollment's.
    ACTIVE = "active", "Active member"
    COMPLETED = "completed", "Completed the cohort"
    DROPPED = "dropped", "Left the cohort"


# Cohorts that still take members (a completed or cancelled cohort is closed).
TAKES_MEMBERS = (CohortStatus.PLANNED, CohortStatus.ACTIVE)

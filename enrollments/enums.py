from django.db import models


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    DROPPED = "dropped", "Dropped"


class SourceSystem(models.TextChoices):
    """Where an enrollment came from (partner systems import theirs)."""

    PLATFORM = "platform", "Platform"
    BUDDY = "buddy", "Buddy"
    KINTELL = "kintell", "Kintell"
    UPSKILLING = "upskilling", "Upskilling"
    IMPORT = "import", "Import"


# Enrollments that take a place in a campaign (a dropped one frees its place).
HOLDS_A_PLACE = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


class OutcomeType(models.TextChoices):
    """What a participant achieved through (or after) a program."""

    COMPLETED = "completed", "Completed the program"
    PUBLISHED = "published", "Published"
    PLACED = "placed", "Placed (job, internship)"
    FUNDED = "funded", "Funded"
    PROMOTED = "promoted", "Promoted"
    OTHER = "other", "Other"

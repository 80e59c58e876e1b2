from django.db import models


class TemplateCategory(models.TextChoices):
    """The program type a template defines (source 001's four types and source 000's kinds)."""

    MENTORSHIP = "mentorship", "Mentorship"
    BUDDY = "buddy", "Buddy / peer support"
    LANGUAGE = "language", "Language tutoring"
    UPSKILLING = "upskilling", "Upskilling"
    FEE_WAIVER = "fee_waiver", "Fee waiver"
    CAREER_LAB = "career_lab", "Career Lab"
    PITCH_WEEK = "pitch_week", "Pitch Week"
    LIVE_READ = "live_read", "Live read"


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    DEPRECATED = "deprecated", "Deprecated"
    ARCHIVED = "archived", "Archived"


class PlatformRole(models.TextChoices):
    """What a program role is on the platform as a whole (source 001's `csrRole`)."""

    BENEFICIARY = "beneficiary", "Beneficiary"
    VOLUNTEER = "volunteer", "Volunteer"
    PARTICIPANT = "participant", "Participant"
    STAFF = "staff", "Staff"

from django.db import models


class CoachState(models.TextChoices):
    TRACKED = "tracked", "Tracked"
    DRAFTING = "drafting", "Drafting"
    REVIEW = "review", "Review"
    SUBMITTED = "submitted", "Submitted"
    OUTCOME_PENDING = "outcome_pending", "Outcome pending"
    WON = "won", "Won"
    LOST = "lost", "Lost"


# Still being worked on: these carry momentum and get deadline reminders and micro-tasks.
OPEN_STATES = (CoachState.TRACKED, CoachState.DRAFTING, CoachState.REVIEW)
# A person must confirm these (human in the loop); `lost` needs no confirmation.
CONFIRMED_STATES = (CoachState.SUBMITTED, CoachState.WON)


class ExternalStatus(models.TextChoices):
    """The status vocabulary of external opportunities (source 004's application_status)."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    AWARDED = "awarded", "Awarded"
    REJECTED = "rejected", "Rejected"


class ApplicationType(models.TextChoices):
    ESSAY = "essay", "Essay"
    FORM = "form", "Form"
    MIXED = "mixed", "Mixed"


class CheckInStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    DISMISSED = "dismissed", "Dismissed"


class CheckInOutcome(models.TextChoices):
    WON = "won", "Won"
    LOST = "lost", "Lost"
    WAITING = "waiting", "Still waiting"

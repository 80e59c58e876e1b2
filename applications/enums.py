from django.db import models


class FieldType(models.TextChoices):
    SHORT_TEXT = "short_text", "Short text"
    LONG_TEXT = "long_text", "Long text"
    EMAIL = "email", "E-mail"
    URL = "url", "URL"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    BOOLEAN = "boolean", "Yes / no"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    INFO_REQUESTED = "info_requested", "More information requested"
    ACCEPTED = "accepted", "Accepted"
    WAITLISTED = "waitlisted", "Waitlisted"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


DECIDED = (ApplicationStatus.ACCEPTED, ApplicationStatus.WAITLISTED, ApplicationStatus.REJECTED)
DECISIONS = DECIDED  # what an operator decides


class Recommendation(models.TextChoices):
    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject"
    WAITLIST = "waitlist", "Waitlist"
    ABSTAIN = "abstain", "Abstain"


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    SUBMITTED = "submitted", "Review submitted"
    CONFLICT = "conflict", "Conflict declared"


class OfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"

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


class AvailabilityKind(models.TextChoices):
    ONE_OFF = "one_off", "One-off"
    WEEKLY = "weekly", "Weekly"


class SessionKind(models.TextChoices):
    COHORT_SESSION = "cohort_session", "Cohort session"
    LIVE_EVENT = "live_event", "Live event"
    OFFICE_HOURS = "office_hours", "Office hours"
    MENTORING = "mentoring", "Mentoring"
    LESSON = "lesson", "Lesson"


# Kinds that are open for registration by default (anyone signed in may register or queue).
OPEN_KINDS = (SessionKind.LIVE_EVENT, SessionKind.OFFICE_HOURS)


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"
    DELIVERED = "delivered", "Delivered"


class ConferencingProvider(models.TextChoices):
    NONE = "none", "No video link"
    JITSI = "jitsi", "Jitsi"
    ZOOM = "zoom", "Zoom"
    MANUAL = "manual", "Link pasted by an operator"


class IntegrationStatus(models.TextChoices):
    NONE = "none", "Nothing to do"
    SYNCED = "synced", "In step with the provider"
    PENDING = "pending", "Waiting to be retried"
    FAILED = "failed", "Failed; needs an operator"


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    WAITLISTED = "waitlisted", "On the waiting list"
    CANCELLED = "cancelled", "Cancelled"


class RegistrationSource(models.TextChoices):
    SELF = "self", "Registered themselves"
    COHORT = "cohort", "Cohort member"
    OPERATOR = "operator", "Added by an operator"
    MATCH = "match", "Booked by slot matching"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    LATE = "late", "Late"
    ABSENT = "absent", "Absent"
    EXCUSED = "excused", "Excused"


# Statuses that count as having attended.
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class AttendanceSource(models.TextChoices):
    OPERATOR = "operator", "Marked by an operator"
    SELF_CHECK_IN = "self_check_in", "Self check-in"
    PROVIDER = "provider", "Reported by the conferencing provider"


class ReminderKind(models.TextChoices):
    REMINDER = "reminder", "Reminder before the start"
    CANCELLATION = "cancellation", "Cancellation notice"


class ConfirmationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the host"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Deadline missed"
    WITHDRAWN = "withdrawn", "Withdrawn (host changed or session cancelled)"

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.models import BaseModel
from enrollments.models import Enrollment
from programs.models import Program, ProgramTrack
from scheduling.enums import (
    AttendanceSource,
    AttendanceStatus,
    AvailabilityKind,
    CohortMemberStatus,
    CohortStatus,
    ConferencingProvider,
    ConfirmationStatus,
    IntegrationStatus,
    RegistrationSource,
    RegistrationStatus,
    ReminderKind,
    SessionKind,
    SessionStatus,
)

USER = settings.AUTH_USER_MODEL


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


class AvailabilityWindow(BaseModel):
    """When a person can meet: one-off (two aware instants) or weekly (a weekday and local
    wall-clock times in an IANA zone, between two dates). Weekly windows are expanded in their
    own zone, so 18:00 Kyiv stays 18:00 Kyiv across a DST change."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="availability_windows")
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.CASCADE, related_name="availability_windows"
    )
    kind = models.CharField(max_length=10, choices=AvailabilityKind.choices)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="One-off: start.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="One-off: end.")
    weekday = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Weekly: 0 = Monday ... 6 = Sunday.")
    start_time = models.TimeField(null=True, blank=True, help_text="Weekly: local start.")
    end_time = models.TimeField(null=True, blank=True, help_text="Weekly: local end (after the start).")
    timezone = models.CharField(max_length=64, default="UTC")
    valid_from = models.DateField(null=True, blank=True, help_text="Weekly: first local date.")
    valid_until = models.DateField(null=True, blank=True, help_text="Weekly: last local date (open if empty).")

    class Meta:
        ordering = ["owner", "kind", "weekday", "start_time", "starts_at"]
        indexes = [models.Index(fields=["owner", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="one_off",
                        starts_at__isnull=False,
                        ends_at__isnull=False,
                        ends_at__gt=F("starts_at"),
                    )
                    | Q(
                        kind="weekly",
                        weekday__lte=6,
                        start_time__isnull=False,
                        end_time__isnull=False,
                        end_time__gt=F("start_time"),
                        valid_from__isnull=False,
                    )
                ),
                name="availability_window_shape",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="availability_window_valid_range",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AvailabilityKind.WEEKLY:
            return f"{self.owner}: weekday {self.weekday} {self.start_time}-{self.end_time} {self.timezone}"
        return f"{self.owner}: {self.starts_at} - {self.ends_at}"


class Session(BaseModel):
    """A meeting at a time: a cohort session, a live event, office hours, a mentoring meeting or
    a lesson. A reschedule increases `sequence` (calendar SEQUENCE, reminder re-arming); the
    sessions of a recurring series share `series_id`."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="sessions")
    cohort = models.ForeignKey(Cohort, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions")
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    timezone = models.CharField(max_length=64, help_text="The zone the session is planned in (IANA).")
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Registered people at most; empty: no limit."
    )
    open_registration = models.BooleanField(
        default=False, help_text="Anyone signed in may register (live events, office hours); else invited only."
    )
    online = models.BooleanField(default=True)
    location = models.CharField(max_length=300, blank=True)
    host = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="hosted_sessions")
    # Conferencing
    provider = models.CharField(max_length=10, choices=ConferencingProvider.choices, default=ConferencingProvider.NONE)
    join_url = models.URLField(max_length=500, blank=True)
    host_url = models.URLField(max_length=1000, blank=True)
    external_meeting_id = models.CharField(max_length=100, blank=True)
    integration_status = models.CharField(
        max_length=10, choices=IntegrationStatus.choices, default=IntegrationStatus.NONE
    )
    integration_error = models.TextField(blank=True)
    integration_attempts = models.PositiveIntegerField(default=0)
    integration_retry_at = models.DateTimeField(null=True, blank=True)
    # Lifecycle
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    sequence = models.PositiveIntegerField(default=0, help_text="Increased on every reschedule.")
    series_id = models.UUIDField(null=True, blank=True, db_index=True)
    cancel_reason = models.TextField(blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attendance_skipped = models.BooleanField(default=False, help_text="Delivered without attendance, on purpose.")

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["program", "starts_at"]),
            models.Index(fields=["host", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1), name="session_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M} UTC)"


class Registration(BaseModel):
    """A person's place at a session: registered, waitlisted (in order of `waitlisted_at`), or
    cancelled. Registered places are counted, never stored."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="session_registrations")
    status = models.CharField(max_length=12, choices=RegistrationStatus.choices, db_index=True)
    source = models.CharField(max_length=10, choices=RegistrationSource.choices, default=RegistrationSource.SELF)
    waitlisted_at = models.DateTimeField(null=True, blank=True, help_text="Queue order on the waiting list.")
    registered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "registered_at", "waitlisted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="registration_unique_user"),
            models.CheckConstraint(
                condition=~Q(status="waitlisted") | Q(waitlisted_at__isnull=False),
                name="registration_waitlist_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "status"]),
            models.Index(fields=["user", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.session}: {self.status}"


class Attendance(BaseModel):
    """Whether a person attended a session, and who said so."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=10, choices=AttendanceStatus.choices)
    minutes_attended = models.PositiveIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=15, choices=AttendanceSource.choices, default=AttendanceSource.OPERATOR)
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "attendance"
        ordering = ["session", "user"]
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="attendance_unique_user")]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.user} at {self.session}: {self.status}"


class SessionReminder(BaseModel):
    """The claim that one notice went out: a reminder per (session, user, offset, schedule) or a
    cancellation notice per (session, user). The unique constraint makes it exactly once."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=ReminderKind.choices, default=ReminderKind.REMINDER)
    hours_before = models.PositiveIntegerField(default=0)
    session_sequence = models.PositiveIntegerField(default=0, help_text="The schedule the reminder was for.")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user", "kind", "hours_before", "session_sequence"],
                name="session_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.hours_before}h to {self.user} for {self.session_id}"


class HostConfirmation(BaseModel):
    """A request to a session's host to confirm they will run it, before a deadline."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="host_confirmations")
    host = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="host_confirmations")
    status = models.CharField(
        max_length=10, choices=ConfirmationStatus.choices, default=ConfirmationStatus.PENDING, db_index=True
    )
    deadline = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(status="pending"), name="host_confirmation_one_pending"
            )
        ]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"{self.host} for {self.session}: {self.status}"


class CalendarFeed(BaseModel):
    """A person's private calendar feed address. Revoking it ends the address; a new one is
    issued on the next request."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="calendar_feeds")
    token = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_feed_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"

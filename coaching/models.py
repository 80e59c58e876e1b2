"""Coach tables: pursuits (one of the person's applications on this platform, or an external
opportunity they track), check-in tasks after submission, the person's snooze, and the trust the
coach gives each program's opportunities."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from coaching.enums import ApplicationType, CheckInOutcome, CheckInStatus, CoachState
from core.models import BaseModel
from programs.models import Program

USER = settings.AUTH_USER_MODEL


class Pursuit(BaseModel):
    """An opportunity a person pursues. Internal pursuits follow their application (state,
    deadline = the program's application window close); external ones are the person's own."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="pursuits")
    application = models.OneToOneField(
        "applications.Application", null=True, blank=True, on_delete=models.CASCADE, related_name="pursuit"
    )
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    award_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    award_currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code.")
    application_type = models.CharField(max_length=10, choices=ApplicationType.choices, blank=True)
    coach_state = models.CharField(max_length=20, choices=CoachState.choices, default=CoachState.TRACKED)
    pending_state = models.CharField(
        max_length=20, choices=CoachState.choices, blank=True, help_text="A state waiting for the person to confirm."
    )
    trust_score = models.FloatField(null=True, blank=True, help_text="External: 0-1, set by the person or an operator.")
    momentum_score = models.FloatField(null=True, blank=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    last_progress_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-momentum_score", "deadline"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trust_score__isnull=True) | Q(trust_score__gte=0, trust_score__lte=1),
                name="pursuit_trust_range",
            ),
            models.CheckConstraint(
                condition=Q(award_amount__isnull=True) | (Q(award_amount__gte=0) & ~Q(award_currency="")),
                name="pursuit_award_has_currency",
            ),
        ]
        indexes = [models.Index(fields=["user", "coach_state"]), models.Index(fields=["coach_state", "deadline"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.coach_state})"

    @property
    def is_internal(self) -> bool:
        return self.application_id is not None


class CheckInTask(BaseModel):
    """'Have you heard back?': due 21 days after submission, one per pursuit."""

    pursuit = models.OneToOneField(Pursuit, on_delete=models.CASCADE, related_name="check_in")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="coach_check_ins")
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=CheckInStatus.choices, default=CheckInStatus.PENDING)
    outcome = models.CharField(max_length=10, choices=CheckInOutcome.choices, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"Check-in on {self.pursuit} ({self.status})"


class CoachSettings(BaseModel):
    """One person's coach settings: the micro-task snooze."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="coach_settings")
    snoozed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "coach settings"

    def __str__(self) -> str:
        return f"Coach settings of {self.user}"


class ProgramTrust(BaseModel):
    """How much the coach trusts a program's opportunities (0-1); programs without a row get
    `coaching.momentum.DEFAULT_PROGRAM_TRUST`."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="coach_trust")
    trust_score = models.FloatField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(trust_score__gte=0, trust_score__lte=1), name="program_trust_range")
        ]

    def __str__(self) -> str:
        return f"{self.program}: {self.trust_score}"

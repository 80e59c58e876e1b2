from django.conf import settings
from django.db import models

from core.models import BaseModel
from enrollments.enums import EnrollmentStatus, OutcomeType, SourceSystem
from programs.models import BeneficiaryGroup, Campaign, Program
from templates_app.enums import TemplateCategory


class Enrollment(BaseModel):
    """A user taking part in a program in one role, optionally through a company campaign.

    `program_type` and `beneficiary_group` are written together with `program` (dual-write,
    source 002): they always equal the program's, and `check_integrity` proves it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="enrollments")
    beneficiary_group = models.ForeignKey(BeneficiaryGroup, on_delete=models.PROTECT, related_name="enrollments")
    program_type = models.CharField(max_length=30, choices=TemplateCategory.choices, db_index=True)
    role = models.CharField(max_length=50)
    source_system = models.CharField(max_length=20, choices=SourceSystem.choices, default=SourceSystem.PLATFORM)
    status = models.CharField(
        max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE, db_index=True
    )
    enrolled_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    dropped_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why the status last changed.")

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "program", "role"], name="enrollment_unique_user_program_role"),
            models.CheckConstraint(
                condition=~models.Q(status="completed") | models.Q(completed_at__isnull=False),
                name="enrollment_completed_has_time",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "status"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.program} as {self.role}"


class JourneyFlags(BaseModel):
    """Cross-program flags and counters of one user (source 001), kept current by the
    enrollment services: `is_<type>_<role>`, `<type>_joined_at`, `programs_count`, ..."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="journey_flags")
    flags = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "journey flags"

    def __str__(self) -> str:
        return f"Journey flags of {self.user}"


class Outcome(BaseModel):
    """Something a participant achieved (completed, published, placed, funded, promoted, ...),
    recorded by an operator or an integration, with optional money and evidence."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="outcomes")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="outcomes")
    outcome_type = models.CharField(max_length=20, choices=OutcomeType.choices, db_index=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217, with an amount.")
    occurred_on = models.DateField()
    evidence_url = models.URLField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True, currency="")
                | (models.Q(amount__gte=0) & ~models.Q(currency="")),
                name="outcome_amount_with_currency",
            ),
        ]
        indexes = [models.Index(fields=["program", "outcome_type", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.get_outcome_type_display()} on {self.occurred_on}"

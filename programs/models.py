from django.db import models
from django.db.models import F, Q

from accounts.models import Company
from core.models import BaseModel
from programs.enums import CampaignStatus, ProgramStatus
from templates_app.enums import TemplateCategory
from templates_app.models import ProgramTemplate


class BeneficiaryGroup(BaseModel):
    """A demographic group programs are offered to (e.g. Syrian refugees in Germany)."""

    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    countries = models.JSONField(default=list, blank=True, help_text="ISO 3166-1 alpha-2 codes.")
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Program(BaseModel):
    """A global instance of a template version for one beneficiary group."""

    program_key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    template = models.ForeignKey(ProgramTemplate, on_delete=models.PROTECT, related_name="programs")
    program_type = models.CharField(max_length=30, choices=TemplateCategory.choices, db_index=True)
    beneficiary_group = models.ForeignKey(BeneficiaryGroup, on_delete=models.PROTECT, related_name="programs")
    config_overrides = models.JSONField(default=dict, blank=True)
    config = models.JSONField(default=dict, blank=True, help_text="Template defaults merged with the overrides.")
    status = models.CharField(max_length=20, choices=ProgramStatus.choices, default=ProgramStatus.DRAFT, db_index=True)
    tags = models.JSONField(default=list, blank=True)
    sdg_goals = models.JSONField(default=list, blank=True, help_text="UN Sustainable Development Goals 1..17.")
    timezone = models.CharField(max_length=64, default="UTC")
    opens_at = models.DateTimeField(null=True, blank=True, help_text="Application window opens.")
    closes_at = models.DateTimeField(null=True, blank=True, help_text="Application window closes.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True) | Q(closes_at__isnull=True) | Q(closes_at__gt=F("opens_at")),
                name="program_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(BaseModel):
    """A company's deployment of a program, with its own capacity, budget and overrides."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="campaigns")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    target_enrollment = models.PositiveIntegerField(default=0)
    max_enrollment = models.PositiveIntegerField()
    budget_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    budget_currency = models.CharField(max_length=3, blank=True)
    config_overrides = models.JSONField(default=dict, blank=True)
    config = models.JSONField(default=dict, blank=True, help_text="Program config merged with the overrides.")
    status = models.CharField(
        max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE, db_index=True
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["program__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_enrollment__gte=F("target_enrollment")) & Q(max_enrollment__gte=1),
                name="campaign_max_covers_target",
            ),
            models.CheckConstraint(
                condition=Q(budget_amount__isnull=True) | Q(budget_amount__gte=0),
                name="campaign_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="campaign_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})"


class ProgramTrack(BaseModel):
    """A path within a program an applicant chooses (e.g. "Screenwriting", "Playwriting")."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tracks")
    key = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "key"], name="track_key_unique_per_program"),
        ]

    def __str__(self) -> str:
        return f"{self.program} / {self.name}"

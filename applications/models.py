"""Application forms and scoring rubrics (versioned), applications, reviewer pools, assignments,
conflicts of interest, reviews and waitlist offers."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from applications.enums import ApplicationStatus, AssignmentStatus, OfferStatus, Recommendation
from core.models import BaseModel
from programs.models import Program, ProgramTrack


class ApplicationForm(BaseModel):
    """One version of a program's application form; submitted applications keep theirs."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="application_forms")
    version = models.PositiveIntegerField()
    fields = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["program", "-version"]
        constraints = [models.UniqueConstraint(fields=["program", "version"], name="form_version_unique")]

    def __str__(self) -> str:
        return f"{self.program} form v{self.version}"

    def field(self, key: str) -> dict | None:
        return next((f for f in self.fields if f.get("key") == key), None)


class ScoringRubric(BaseModel):
    """One version of a program's scoring rubric; reviews keep the version they used."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="scoring_rubrics")
    version = models.PositiveIntegerField()
    criteria = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["program", "-version"]
        constraints = [models.UniqueConstraint(fields=["program", "version"], name="rubric_version_unique")]

    def __str__(self) -> str:
        return f"{self.program} rubric v{self.version}"


class Application(BaseModel):
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="applications")
    track = models.ForeignKey(ProgramTrack, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    form = models.ForeignKey(ApplicationForm, on_delete=models.PROTECT, related_name="applications")
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT, db_index=True
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    info_request = models.TextField(blank=True, help_text="What the operators asked the applicant for.")
    excluded_reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", help_text="Reviewers the applicant asked not to get."
    )
    excluded_reviewer_emails = models.JSONField(
        default=list,
        blank=True,
        help_text="The e-mail addresses the applicant named (lowercase), also of people who join the team later.",
    )
    # A decision staged by an operator, released later (pending decisions e-mail nobody).
    pending_decision = models.CharField(max_length=20, blank=True)
    pending_reason = models.TextField(blank=True)
    pending_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pending_cohort_id = models.UUIDField(null=True, blank=True)
    # Score summary, kept by the review services (corrected score by `scores_recompute`).
    review_count = models.PositiveIntegerField(default=0)
    mean_score = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    median_score = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    corrected_score = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    agreement = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    recommendations = models.JSONField(default=dict, blank=True)
    scores_computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "program"],
                condition=~Q(status=ApplicationStatus.WITHDRAWN),
                name="one_live_application_per_program",
            ),
        ]
        indexes = [
            models.Index(fields=["program", "status"]),
            models.Index(fields=["program", "-corrected_score"]),
        ]

    def __str__(self) -> str:
        return f"{self.applicant} → {self.program} ({self.status})"


class ProgramReviewer(BaseModel):
    """A member of a program's reviewer team, optionally limited to some tracks."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="reviewers")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_teams")
    tracks = models.ManyToManyField(ProgramTrack, blank=True, related_name="+", help_text="Empty: every track.")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "reviewer"], name="reviewer_once_per_program")]

    def __str__(self) -> str:
        return f"{self.reviewer} reviews {self.program}"


class ReviewAssignment(BaseModel):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments")
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField()
    last_reminded_on = models.DateField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    conflict_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="assignment_once_per_reviewer"),
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.reviewer} ← {self.application_id} ({self.status})"


class ConflictOfInterest(BaseModel):
    """A reviewer must not review this applicant's applications."""

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "conflicts of interest"
        constraints = [models.UniqueConstraint(fields=["reviewer", "applicant"], name="conflict_once")]

    def __str__(self) -> str:
        return f"{self.reviewer} ✕ {self.applicant}"


class Review(BaseModel):
    assignment = models.OneToOneField(ReviewAssignment, on_delete=models.PROTECT, related_name="review")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    rubric = models.ForeignKey(ScoringRubric, on_delete=models.PROTECT, related_name="reviews")
    scores = models.JSONField(default=dict)
    weighted_total = models.DecimalField(max_digits=9, decimal_places=4)
    recommendation = models.CharField(max_length=20, choices=Recommendation.choices)
    comment = models.TextField(blank=True, help_text="To the deciders.")
    comment_to_applicant = models.TextField(blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["submitted_at"]
        constraints = [models.UniqueConstraint(fields=["application", "reviewer"], name="review_once_per_reviewer")]
        indexes = [models.Index(fields=["reviewer", "application"])]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.application_id}: {self.weighted_total}"


class WaitlistOffer(BaseModel):
    """A place offered to a waitlisted applicant after an accepted one left."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=20, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    cohort_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(status="open"), name="one_open_offer_per_application"
            ),
        ]

    def __str__(self) -> str:
        return f"offer to {self.application_id} ({self.status})"

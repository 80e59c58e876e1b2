"""Mentorship and buddy tables: profiles of both sides, proposal batches, matches (proposals are
matches in status `proposed`), check-ins, feedback, milestones and activities (events attended,
partner sessions). Rows imported from partner systems carry `(source, external_id)`, unique, so a
second import of the same export changes nothing."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import BaseModel
from mentorship.enums import ActivityKind, EndReason, MatchSource, MatchStatus, ProfileKind, RecordSource
from programs.models import Program

USER = settings.AUTH_USER_MODEL


def _external_unique(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["source", "external_id"], condition=~Q(external_id=""), name=f"{name}_unique_external_id"
    )


class Profile(BaseModel):
    """One person's side in one program: a mentor (capacity = most concurrent mentees, what they
    offer) or a mentee (what they need, whom to avoid). The program's config decides which
    fields count in matching."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="mentorship_profiles")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="mentorship_profiles")
    kind = models.CharField(max_length=10, choices=ProfileKind.choices)
    capacity = models.PositiveSmallIntegerField(default=1, help_text="Mentors: most mentees at a time.")
    skills = models.JSONField(default=list, blank=True, help_text="Mentors: skills offered; mentees: wanted.")
    languages = models.JSONField(default=list, blank=True, help_text="Languages spoken (ISO 639-1 codes).")
    timezone = models.CharField(max_length=64, default="UTC")
    industries = models.JSONField(default=list, blank=True)
    goals = models.JSONField(default=list, blank=True, help_text="Mentors: goals they help with; mentees: theirs.")
    bio = models.TextField(blank=True)
    preferences = models.JSONField(default=dict, blank=True)
    avoid_user_ids = models.JSONField(default=list, blank=True, help_text="People never to be paired with.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "kind", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "program", "kind"], name="mentorship_profile_unique_side"),
            models.CheckConstraint(condition=Q(capacity__gte=0, capacity__lte=50), name="mentorship_capacity_range"),
        ]
        indexes = [models.Index(fields=["program", "kind", "active"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.kind}) in {self.program}"


class ProposalBatch(BaseModel):
    """One run of the optimal matcher: its settings, the objective it reached against a greedy
    baseline, and every mentee left unmatched with the reason."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="proposal_batches")
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    settings = models.JSONField(default=dict, blank=True)
    total_score = models.FloatField(default=0)
    greedy_score = models.FloatField(default=0)
    solve_ms = models.PositiveIntegerField(default=0)
    unmatched = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "proposal batches"

    def __str__(self) -> str:
        return f"Proposals for {self.program} at {self.created_at:%Y-%m-%d %H:%M}"


class Match(BaseModel):
    """A mentor/mentee pair. Proposals are matches in status `proposed`; approval makes them
    `active`; they end with a reason. `rejected` and `withdrawn` close proposals that never
    became matches."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="matches")
    mentor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="matches_as_mentor")
    mentee = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="matches_as_mentee")
    status = models.CharField(max_length=10, choices=MatchStatus.choices, default=MatchStatus.PROPOSED)
    source = models.CharField(max_length=10, choices=MatchSource.choices, default=MatchSource.PROPOSAL)
    external_id = models.CharField(max_length=200, blank=True, default="")
    batch = models.ForeignKey(ProposalBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="matches")
    score = models.FloatField(null=True, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was made by hand, rejected or ended.")
    end_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    mentor_accepted_at = models.DateTimeField(null=True, blank=True)
    mentee_accepted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "matches"
        constraints = [
            models.UniqueConstraint(
                fields=["program", "mentor", "mentee"],
                condition=Q(status__in=["proposed", "active"]),
                name="match_one_live_pair",
            ),
            models.CheckConstraint(condition=~Q(mentor=models.F("mentee")), name="match_two_people"),
            models.CheckConstraint(
                condition=~Q(status="ended") | (Q(ended_at__isnull=False) & ~Q(end_reason="")),
                name="match_ended_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["active", "ended"]) | Q(started_at__isnull=False),
                name="match_started_has_time",
            ),
            _external_unique("match"),
        ]
        indexes = [
            models.Index(fields=["program", "status"]),
            models.Index(fields=["mentor", "status"]),
            models.Index(fields=["mentee", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} / {self.mentee} ({self.status})"

    def people(self) -> list:
        return [self.mentor, self.mentee]


class CheckIn(BaseModel):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="checkins")
    by = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="mentorship_checkins")
    mood = models.PositiveSmallIntegerField(help_text="1 (bad) to 5 (great).")
    notes = models.TextField(blank=True)
    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=RecordSource.choices, default=RecordSource.PLATFORM)
    external_id = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-at"]
        verbose_name = "check-in"
        constraints = [
            models.CheckConstraint(condition=Q(mood__gte=1, mood__lte=5), name="checkin_mood_range"),
            _external_unique("checkin"),
        ]
        indexes = [models.Index(fields=["match", "at"])]

    def __str__(self) -> str:
        return f"Check-in by {self.by} ({self.mood}/5)"


class Feedback(BaseModel):
    """One person's rating of a match (one per person and match; giving it again updates it)."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="feedback")
    author = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="mentorship_feedback")
    rating = models.PositiveSmallIntegerField(help_text="1 to 5.")
    comment = models.TextField(blank=True)
    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=RecordSource.choices, default=RecordSource.PLATFORM)
    external_id = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "feedback"
        constraints = [
            models.UniqueConstraint(fields=["match", "author"], name="feedback_one_per_person"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="feedback_rating_range"),
            _external_unique("feedback"),
        ]

    def __str__(self) -> str:
        return f"Feedback by {self.author} ({self.rating}/5)"


class Milestone(BaseModel):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="milestones")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="milestones")
    key = models.SlugField(max_length=80)
    title = models.CharField(max_length=200, blank=True)
    reached_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=RecordSource.choices, default=RecordSource.PLATFORM)
    external_id = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-reached_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "program", "key"], name="milestone_once_per_key"),
            _external_unique("milestone"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.key}"


class Activity(BaseModel):
    """Something a person took part in outside the platform's sessions: a buddy event they
    attended, or a partner (Kintell) session a pair held."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="mentorship_activities")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="mentorship_activities")
    match = models.ForeignKey(Match, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    title = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=10, choices=RecordSource.choices, default=RecordSource.PLATFORM)
    external_id = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id", "user"], condition=~Q(external_id=""), name="activity_unique_external"
            ),
        ]
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} {self.title}"

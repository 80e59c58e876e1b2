from django.db import models


class ProfileKind(models.TextChoices):
    """The two sides of a pairing: mentors (buddies, tutors) give time, mentees (participants,
    learners) receive it. A program's template roles say what each side is called there."""

    MENTOR = "mentor", "Mentor side"
    MENTEE = "mentee", "Mentee side"


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


# A pair that is proposed or active holds a mentor's place and blocks another live pair.
LIVE_MATCH_STATUSES = (MatchStatus.PROPOSED, MatchStatus.ACTIVE)


class EndReason(models.TextChoices):
    COMPLETED = "completed", "Completed"
    MENTOR_LEFT = "mentor_left", "Mentor left"
    MENTEE_LEFT = "mentee_left", "Mentee left"
    NO_SHOW = "no_show", "No-show"
    REMATCHED = "rematched", "Rematched"
    OTHER = "other", "Other"


# A pair that ended for one of these reasons is never proposed again.
BAD_END_REASONS = (EndReason.MENTOR_LEFT, EndReason.MENTEE_LEFT, EndReason.NO_SHOW, EndReason.OTHER)


class MatchSource(models.TextChoices):
    PROPOSAL = "proposal", "Optimal proposal"
    MANUAL = "manual", "Manual match"
    BUDDY = "buddy", "Buddy import"
    KINTELL = "kintell", "Kintell"


class ActivityKind(models.TextChoices):
    EVENT = "event", "Event attended"
    SESSION = "session", "Session held"


class RecordSource(models.TextChoices):
    """Where a check-in, feedback, milestone or activity came from."""

    PLATFORM = "platform", "Platform"
    BUDDY = "buddy", "Buddy"
    KINTELL = "kintell", "Kintell"


class SelfAccept(models.TextChoices):
    """Who, besides operators, may accept a proposal (program config `matching.self_accept`)."""

    NONE = "none", "Operators only"
    MENTOR = "mentor", "The mentor"
    MENTEE = "mentee", "The mentee"
    BOTH = "both", "Mentor and mentee (both must accept)"

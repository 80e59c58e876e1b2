"""Write use-cases of mentorship: profiles (profiles.py), proposals, approvals, manual matches and
swaps (matching.py), the match lifecycle and its enrollment rules (lifecycle.py), check-ins,
feedback, milestones and activities (progress.py)."""

from mentorship.services.lifecycle import MATCH_TRANSITIONS, match_end, settle_enrollment
from mentorship.services.matching import (
    match_create_manual,
    match_reject,
    match_respond,
    matches_approve,
    matches_propose,
    matches_reject,
    proposals_swap,
)
from mentorship.services.profiles import profile_upsert
from mentorship.services.progress import activity_record, checkin_log, feedback_give, milestone_reach

__all__ = [
    "MATCH_TRANSITIONS",
    "activity_record",
    "checkin_log",
    "feedback_give",
    "match_create_manual",
    "match_end",
    "match_reject",
    "match_respond",
    "matches_approve",
    "matches_propose",
    "matches_reject",
    "milestone_reach",
    "profile_upsert",
    "proposals_swap",
    "settle_enrollment",
]

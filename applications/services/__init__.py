"""Write use-cases of applications, split by who acts: applicants, reviewers, deciders."""

from applications.services.applying import (
    application_edit,
    application_request_info,
    application_start,
    application_submit,
    application_withdraw,
    window_error,
)
from applications.services.deciding import (
    decision_make,
    decisions_bulk,
    decisions_release,
    enrollment_role,
    offer_next,
    offer_respond,
    offers_expire,
)
from applications.services.forms import application_form_publish, scoring_rubric_publish
from applications.services.reviewing import (
    application_scores_refresh,
    assignment_declare_conflict,
    assignments_auto,
    assignments_create,
    program_reviewer_add,
    review_submit,
    scores_recompute,
)

__all__ = [
    "application_edit",
    "application_form_publish",
    "application_request_info",
    "application_scores_refresh",
    "application_start",
    "application_submit",
    "application_withdraw",
    "assignment_declare_conflict",
    "assignments_auto",
    "assignments_create",
    "decision_make",
    "decisions_bulk",
    "decisions_release",
    "enrollment_role",
    "offer_next",
    "offer_respond",
    "offers_expire",
    "program_reviewer_add",
    "review_submit",
    "scores_recompute",
    "scoring_rubric_publish",
    "window_error",
]

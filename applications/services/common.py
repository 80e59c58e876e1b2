"""What every application service shares: the transition table, program settings, lookups."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

from applications.enums import ApplicationStatus as S
from applications.models import Application, ApplicationForm, ScoringRubric
from core.errors import NotFound
from core.transitions import TransitionTable
from programs.models import Program

APPLICATION_TRANSITIONS = TransitionTable(
    "application",
    {
        S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
        S.SUBMITTED: {S.UNDER_REVIEW, S.INFO_REQUESTED, S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN},
        S.UNDER_REVIEW: {S.INFO_REQUESTED, S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN},
        S.INFO_REQUESTED: {S.UNDER_REVIEW, S.WITHDRAWN},
        S.WAITLISTED: {S.ACCEPTED, S.REJECTED, S.WITHDRAWN},
        S.ACCEPTED: {S.WITHDRAWN},  # an accepted applicant may still decline the place
        S.REJECTED: set(),
        S.WITHDRAWN: set(),
    },
)

# Applications reviewers work on.
IN_REVIEW = (S.SUBMITTED, S.UNDER_REVIEW)

DEFAULTS = {
    "allow_edit_after_submit": False,
    "review_sla_days": 7,
    "reviewers_per_application": 2,
    "blind_review": False,
    "hide_other_reviews": True,
    "escalate_after_days": 3,
    "offer_response_days": 5,
    "quota_field": None,
    "quotas": {},
    "include_reviewer_comments": False,
}


def when_text(moment) -> str:
    """A time as people read it, in the time zone active for the request (the viewer's on pages,
    UTC in the API)."""
    return date_format(timezone.localtime(moment), "j M Y, H:i T")


def app_config(program: Program) -> dict[str, Any]:
    """The program's application settings, with the product's defaults filled in."""
    return {**DEFAULTS, **(program.config.get("application") or {})}


def current_form(program: Program) -> ApplicationForm:
    form = ApplicationForm.objects.filter(program=program).order_by("-version").first()
    if form is None:
        raise NotFound(f"The program '{program.name}' has no application form yet.")
    return form


def current_rubric(program: Program) -> ScoringRubric:
    rubric = ScoringRubric.objects.filter(program=program).order_by("-version").first()
    if rubric is None:
        raise NotFound(f"The program '{program.name}' has no scoring rubric yet.")
    return rubric


def lock(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("program", "form", "track", "applicant")
        .get(pk=application.pk)
    )

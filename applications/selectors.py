"""Read use-cases: the applications list of a program (ranked, filtered, anonymised for
reviewers of blind programs), one application as a reviewer or a decider sees it, and the
applicant's own application."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Prefetch, QuerySet

from applications.enums import ApplicationStatus as S
from applications.enums import AssignmentStatus, OfferStatus
from applications.models import Application, ReviewAssignment, WaitlistOffer
from applications.services.common import app_config
from core.models import AuditEntry
from core.roles import Role, user_has_role
from programs.models import Program

ORDERINGS = ("corrected_score", "mean_score", "median_score", "review_count", "agreement", "submitted_at", "created_at")


def is_decider(user: Any) -> bool:
    """Operators and integrators decide and see everything; reviewers see what they review."""
    return user_has_role(user, Role.OPERATOR, Role.INTEGRATOR)


def applications_for(program: Program, user: Any) -> QuerySet[Application]:
    """The program's applications the user may see: all of them for deciders, the ones assigned
    to a reviewer otherwise (drafts are the applicant's own business)."""
    qs = Application.objects.filter(program=program).exclude(status=S.DRAFT).select_related("applicant", "track")
    if not is_decider(user):
        qs = qs.filter(
            assignments__reviewer=user,
            assignments__status__in=(AssignmentStatus.ASSIGNED, AssignmentStatus.SUBMITTED),
        )
    return qs


def ordered(qs: QuerySet[Application], ordering: str | None) -> QuerySet[Application]:
    field = (ordering or "-corrected_score").lstrip("-")
    if field not in ORDERINGS:
        field = "corrected_score"
    descending = (ordering or "-").startswith("-")
    expression = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return qs.order_by(expression, "submitted_at", "id")


def anonymous(program: Program, user: Any) -> bool:
    """Reviewers of a blind program do not see who applied."""
    return bool(app_config(program)["blind_review"]) and not is_decider(user)


def visible_answers(application: Application, user: Any) -> list[dict]:
    """Each form field with the answer; fields not marked reviewer-visible are left out for
    reviewers (deciders see everything)."""
    decider = is_decider(user)
    rows = []
    for field in application.form.fields:
        if not decider and not field.get("reviewer_visible", True):
            continue
        rows.append(
            {
                "key": field["key"],
                "label": field["label"],
                "type": field["type"],
                "value": application.answers.get(field["key"]),
            }
        )
    return rows


def reviews_visible(application: Application, user: Any) -> tuple[list, Any]:
    """(the reviews the user may read, the user's own review or None). Reviewers see the others'
    reviews only after submitting their own, when the program says so."""
    reviews = list(application.reviews.select_related("reviewer", "rubric").order_by("submitted_at"))
    own = next((r for r in reviews if r.reviewer_id == getattr(user, "pk", None)), None)
    if is_decider(user):
        return reviews, own
    if app_config(application.program)["hide_other_reviews"] and own is None:
        return [], None
    return reviews, own


def application_detail(program: Program, application_id: Any, user: Any) -> Application:
    return (
        applications_for(program, user)
        .select_related("form", "program__template")
        .prefetch_related(
            Prefetch("assignments", queryset=ReviewAssignment.objects.select_related("reviewer").order_by("created_at"))
        )
        .distinct()
        .get(pk=application_id)
    )


def my_application(program: Program, user: Any) -> Application | None:
    return (
        Application.objects.filter(program=program, applicant=user)
        .exclude(status=S.WITHDRAWN)
        .select_related("form", "track", "program")
        .first()
        or Application.objects.filter(program=program, applicant=user)
        .select_related("form", "track", "program")
        .order_by("-updated_at")
        .first()
    )


def my_applications(user: Any) -> QuerySet[Application]:
    return (
        Application.objects.filter(applicant=user)
        .select_related("program", "track", "form")
        .prefetch_related(Prefetch("offers", queryset=WaitlistOffer.objects.filter(status=OfferStatus.OPEN)))
        .order_by("-created_at")
    )


def open_offer(application: Application) -> WaitlistOffer | None:
    return application.offers.filter(status=OfferStatus.OPEN).first()


TIMELINE_LABELS = {
    "application.started": "Started",
    "application.submitted": "Submitted",
    "application.review_started": "In review",
    "application.info_requested": "More information requested",
    "application.resubmitted": "Resubmitted",
    "application.decided": "Decided",
    "application.withdrawn": "Withdrawn",
    "application.declined": "Place declined",
    "application.place_offered": "Place offered",
    "application.offer_declined": "Offer declined",
    "application.offer_expired": "Offer expired",
}


DECIDED_LABELS = {"accepted": "Accepted", "waitlisted": "Waitlisted", "rejected": "Not accepted"}


def _timeline_row(entry) -> dict:
    label = TIMELINE_LABELS[entry.action]
    if entry.action == "application.decided":
        label = DECIDED_LABELS.get(entry.changes.get("status", ["", ""])[1], label)
    return {
        "at": entry.created_at,
        "event": label,
        "note": entry.reason if entry.action.endswith("info_requested") else "",
    }


def timelines(applications: list[Application]) -> dict[Any, list[dict]]:
    """What happened to each application, for the applicant (reviewers' steps are not shown):
    one query for all of them."""
    if not applications:
        return {}
    content_type = ContentType.objects.get_for_model(Application)
    rows: dict[Any, list[dict]] = {str(a.pk): [] for a in applications}
    for entry in AuditEntry.objects.filter(
        target_type=content_type, target_id__in=list(rows), action__in=TIMELINE_LABELS
    ).order_by("created_at"):
        rows[entry.target_id].append(_timeline_row(entry))
    return {a.pk: rows[str(a.pk)] for a in applications}


def timeline(application: Application) -> list[dict]:
    return timelines([application])[application.pk]

"""The reviewers' side: program review teams, assignments (manual and balanced automatic),
conflicts of interest, reviews, and the score summaries they feed."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Q

from accounts.models import CompanyMembership
from applications import hooks
from applications.enums import ApplicationStatus as S
from applications.enums import AssignmentStatus, Recommendation
from applications.models import (
    Application,
    ConflictOfInterest,
    ProgramReviewer,
    Review,
    ReviewAssignment,
    ScoringRubric,
)
from applications.scoring import corrected_scores, score_errors, summary, weighted_total
from applications.services import notices
from applications.services.common import APPLICATION_TRANSITIONS, IN_REVIEW, app_config, current_rubric, lock
from core import clock
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.roles import Role
from core.transitions import apply_transition
from notifications.services import notify
from programs.models import Program, ProgramTrack

ACTIVE_ASSIGNMENT = (AssignmentStatus.ASSIGNED, AssignmentStatus.SUBMITTED)


# --- Review teams -------------------------------------------------------------------------------


@transaction.atomic
def program_reviewer_add(
    *, program: Program, reviewer: Any, tracks: list[ProgramTrack] | None = None, actor: Any = None
) -> ProgramReviewer:
    """Put a reviewer on the program's team (for some tracks only, when given)."""
    if not reviewer.groups.filter(name__in=(Role.REVIEWER, Role.OPERATOR)).exists() and not reviewer.is_superuser:
        raise ValidationFailed(errors={"reviewer_id": f"{reviewer} does not hold the reviewer role."})
    member, _ = ProgramReviewer.objects.update_or_create(program=program, reviewer=reviewer, defaults={"active": True})
    member.tracks.set(tracks or [])
    audit_record(
        actor=actor,
        action="review_team.member_added",
        target=program,
        changes={"reviewer": reviewer.email, "tracks": [t.key for t in tracks or []]},
    )
    return member


# --- Conflicts of interest ----------------------------------------------------------------------


class ConflictIndex:
    """Everything that keeps a reviewer off an application, loaded in a few queries."""

    def __init__(self, applications: list[Application], reviewer_ids: set) -> None:
        applicant_ids = {a.applicant_id for a in applications}
        companies: dict[Any, set] = defaultdict(set)
        for user_id, company_id in CompanyMembership.objects.filter(
            user_id__in=applicant_ids | reviewer_ids
        ).values_list("user_id", "company_id"):
            companies[user_id].add(company_id)
        self.companies = companies
        self.declared = set(
            ConflictOfInterest.objects.filter(reviewer_id__in=reviewer_ids, applicant_id__in=applicant_ids).values_list(
                "reviewer_id", "applicant_id"
            )
        )
        self.excluded: dict[Any, set] = defaultdict(set)
        through = Application.excluded_reviewers.through
        for application_id, user_id in through.objects.filter(
            application_id__in=[a.pk for a in applications]
        ).values_list("application_id", "user_id"):
            self.excluded[application_id].add(user_id)
        # Addresses the applicant named: also people who got an account or joined the team later.
        self.excluded_emails = {a.pk: set(a.excluded_reviewer_emails or ()) for a in applications}
        self.emails = {
            pk: (email or "").lower()
            for pk, email in get_user_model().objects.filter(pk__in=reviewer_ids).values_list("pk", "email")
        }

    def reason(self, application: Application, reviewer_id) -> str | None:
        if reviewer_id == application.applicant_id:
            return "the reviewer is the applicant"
        if self.companies[reviewer_id] & self.companies[application.applicant_id]:
            return "the reviewer and the applicant belong to the same company"
        if (reviewer_id, application.applicant_id) in self.declared:
            return "the reviewer declared a conflict with this applicant"
        if reviewer_id in self.excluded[application.pk] or self.emails.get(reviewer_id, "") in self.excluded_emails.get(
            application.pk, ()
        ):
            return "the applicant asked not to be reviewed by this reviewer"
        return None


# --- Assignments --------------------------------------------------------------------------------


def _assign(application: Application, reviewer_id, actor: Any, due_at) -> ReviewAssignment:
    assignment = ReviewAssignment.objects.create(
        application=application,
        reviewer_id=reviewer_id,
        assigned_by=actor if getattr(actor, "is_authenticated", False) else None,
        due_at=due_at,
    )
    audit_record(
        actor=actor,
        action="review.assigned",
        target=application,
        changes={"reviewer": str(reviewer_id), "due_at": due_at.isoformat()},
    )
    if application.status == S.SUBMITTED:
        apply_transition(
            application,
            table=APPLICATION_TRANSITIONS,
            to=S.UNDER_REVIEW,
            actor=actor,
            action="application.review_started",
        )
        hooks.application_changed(application)
    notify(
        user=assignment.reviewer,
        kind=notices.REVIEW_ASSIGNED,
        context={"program_name": application.program.name, "due_at": due_at, "application_id": str(application.pk)},
        dedupe_key=f"{notices.REVIEW_ASSIGNED}:{assignment.pk}",
        related=[application],
    )
    return assignment


def _due(program: Program):
    return clock.now() + timedelta(days=app_config(program)["review_sla_days"])


@transaction.atomic
def assignments_create(
    *, program: Program, pairs: list[tuple[Any, Any]], actor: Any = None
) -> tuple[list[ReviewAssignment], list[dict[str, str]]]:
    """Assign the given (application id, reviewer id) pairs. Pairs that cannot be assigned are
    skipped with the reason (conflict of interest, not a reviewer, not in review, assigned)."""
    User = get_user_model()
    applications = {
        a.pk: a
        for a in Application.objects.select_for_update(of=("self",))
        .select_related("program")
        .filter(program=program, pk__in={a for a, _ in pairs})
    }
    reviewers = {
        u.pk: u
        for u in User.objects.filter(pk__in={r for _, r in pairs}, is_active=True)
        .filter(Q(groups__name__in=(Role.REVIEWER, Role.OPERATOR)) | Q(is_superuser=True))
        .distinct()
    }
    conflicts = ConflictIndex(list(applications.values()), set(reviewers))
    existing = set(
        ReviewAssignment.objects.filter(application_id__in=applications).values_list("application_id", "reviewer_id")
    )
    created, skipped = [], []
    due_at = _due(program)
    for application_id, reviewer_id in pairs:
        application = applications.get(application_id)
        skip = None
        if application is None:
            skip = "no such application in this program"
        elif application.status not in IN_REVIEW:
            skip = f"the application is {application.status}"
        elif reviewer_id not in reviewers:
            skip = "not an active reviewer"
        elif (application_id, reviewer_id) in existing:
            skip = "already assigned"
        else:
            skip = conflicts.reason(application, reviewer_id)
        if skip:
            skipped.append({"application_id": str(application_id), "reviewer_id": str(reviewer_id), "reason": skip})
            continue
        created.append(_assign(application, reviewer_id, actor, due_at))
        existing.add((application_id, reviewer_id))
    return created, skipped


def _pool(program: Program) -> list[tuple[Any, set]]:
    """(reviewer id, track ids they may review; empty: every track) of the active team."""
    team = (
        ProgramReviewer.objects.filter(program=program, active=True, reviewer__is_active=True)
        # Someone whose reviewer role was taken away stays on the team's list but gets no new work.
        .filter(Q(reviewer__groups__name__in=(Role.REVIEWER, Role.OPERATOR)) | Q(reviewer__is_superuser=True))
        .distinct()
        .order_by("reviewer_id")
        .prefetch_related("tracks")
    )
    return [(m.reviewer_id, {t.pk for t in m.tracks.all()}) for m in team]


def _loads(program: Program) -> dict[Any, int]:
    return dict(
        ReviewAssignment.objects.filter(application__program=program, status__in=ACTIVE_ASSIGNMENT)
        .values("reviewer_id")
        .annotate(n=Count("id"))
        .values_list("reviewer_id", "n")
    )


@transaction.atomic
def assignments_auto(
    *, program: Program, reviewers_per_application: int | None = None, actor: Any = None
) -> tuple[list[ReviewAssignment], list[dict[str, str]]]:
    """Give every application in review N reviewers from the program's team: the least-loaded
    eligible reviewers first, only team members who review the application's track, never a
    conflict of interest. Applications that cannot get enough reviewers are reported."""
    Program.objects.select_for_update().get(pk=program.pk)  # one balancing run at a time
    wanted = reviewers_per_application or app_config(program)["reviewers_per_application"]
    if not isinstance(wanted, int) or wanted < 1:
        raise ValidationFailed(errors={"reviewers_per_application": "A positive integer."})
    pool = _pool(program)
    if not pool:
        raise Conflict(f"The program '{program.name}' has no review team yet; add reviewers first.")
    # Locked, so that an applicant withdrawing meanwhile is not overwritten by "under review".
    applications = list(
        Application.objects.select_for_update(of=("self",))
        .select_related("program")
        .filter(program=program, status__in=IN_REVIEW)
        .order_by("submitted_at", "id")
    )
    current: dict[Any, set] = defaultdict(set)
    for application_id, reviewer_id in ReviewAssignment.objects.filter(
        application__in=applications, status__in=ACTIVE_ASSIGNMENT
    ).values_list("application_id", "reviewer_id"):
        current[application_id].add(reviewer_id)
    ever = set(
        ReviewAssignment.objects.filter(application__in=applications).values_list("application_id", "reviewer_id")
    )
    conflicts = ConflictIndex(applications, {r for r, _ in pool})
    loads = defaultdict(int, _loads(program))
    created, skipped = [], []
    due_at = _due(program)
    for application in applications:
        need = wanted - len(current[application.pk])
        if need <= 0:
            continue
        candidates = [
            reviewer_id
            for reviewer_id, tracks in pool
            if (not tracks or application.track_id in tracks)
            and (application.pk, reviewer_id) not in ever
            and conflicts.reason(application, reviewer_id) is None
        ]
        candidates.sort(key=lambda r: (loads[r], str(r)))
        for reviewer_id in candidates[:need]:
            created.append(_assign(application, reviewer_id, actor, due_at))
            loads[reviewer_id] += 1
            current[application.pk].add(reviewer_id)
        if len(candidates) < need:
            skipped.append(
                {
                    "application_id": str(application.pk),
                    "reason": f"only {len(current[application.pk])} of {wanted} reviewers are eligible",
                }
            )
    return created, skipped


@transaction.atomic
def assignment_declare_conflict(
    *, application: Application, reviewer: Any, reason: str = "", actor: Any = None
) -> ReviewAssignment | None:
    """A reviewer declares a conflict on an application they were given: the assignment ends, the
    conflict is remembered for the applicant's other applications, and the application goes to
    the least-loaded eligible team member instead (returned; None when nobody is eligible)."""
    assignment = (
        ReviewAssignment.objects.select_for_update()
        .filter(application=application, reviewer=reviewer, status=AssignmentStatus.ASSIGNED)
        .first()
    )
    if assignment is None:
        raise NotFound("You have no open review of this application.")
    assignment.status = AssignmentStatus.CONFLICT
    assignment.conflict_reason = reason
    assignment.save(update_fields=["status", "conflict_reason", "updated_at"])
    ConflictOfInterest.objects.get_or_create(
        reviewer=reviewer, applicant_id=application.applicant_id, defaults={"reason": reason}
    )
    audit_record(actor=actor or reviewer, action="review.conflict_declared", target=application, reason=reason)
    application = Application.objects.select_for_update(of=("self",)).select_related("program").get(pk=application.pk)
    if application.status not in (*IN_REVIEW, S.INFO_REQUESTED):
        return None  # decided or withdrawn: nobody else needs to review it
    pool = _pool(application.program)
    ever = set(ReviewAssignment.objects.filter(application=application).values_list("reviewer_id", flat=True))
    conflicts = ConflictIndex([application], {r for r, _ in pool})
    loads = defaultdict(int, _loads(application.program))
    candidates = sorted(
        (
            r
            for r, tracks in pool
            if r not in ever
            and (not tracks or application.track_id in tracks)
            and conflicts.reason(application, r) is None
        ),
        key=lambda r: (loads[r], str(r)),
    )
    if not candidates:
        return None
    return _assign(application, candidates[0], actor, _due(application.program))


# --- Reviews ------------------------------------------------------------------------------------


def application_scores_refresh(application: Application) -> None:
    """Recompute the application's review count, mean, median, agreement and tally."""
    rows = list(Review.objects.filter(application=application).values_list("weighted_total", "recommendation"))
    data = summary([t for t, _ in rows], [r for _, r in rows])
    Application.objects.filter(pk=application.pk).update(**data, updated_at=clock.now())


@transaction.atomic
def review_submit(
    *,
    application: Application,
    reviewer: Any,
    scores: Any,
    recommendation: str,
    comment: str = "",
    comment_to_applicant: str = "",
) -> Review:
    """Score an application the reviewer is assigned to (404 otherwise), against the current rubric
    (a review being changed keeps the rubric version it was written with)."""
    assignment = (
        ReviewAssignment.objects.select_for_update()
        .filter(application=application, reviewer=reviewer, status__in=ACTIVE_ASSIGNMENT)
        .first()
    )
    if assignment is None:
        raise NotFound("No such application among your reviews.")
    application = lock(application)
    if application.status not in (*IN_REVIEW, S.INFO_REQUESTED):
        raise Conflict(f"This application is {application.status}; reviews are closed.")
    existing = Review.objects.filter(assignment=assignment).select_related("rubric").first()
    rubric: ScoringRubric = existing.rubric if existing else current_rubric(application.program)
    track_key = application.track.key if application.track_id else None
    errors = score_errors(rubric.criteria, track_key, scores)
    if recommendation not in Recommendation.values:
        errors["recommendation"] = f"Use one of: {', '.join(Recommendation.values)}."
    if errors:
        raise ValidationFailed("The review is invalid.", errors=errors)
    total = weighted_total(rubric.criteria, track_key, scores)
    now = clock.now()
    fields = {
        "scores": scores,
        "weighted_total": total,
        "recommendation": recommendation,
        "comment": comment,
        "comment_to_applicant": comment_to_applicant,
        "submitted_at": now,
    }
    if existing:
        for key, value in fields.items():
            setattr(existing, key, value)
        existing.save(update_fields=[*fields, "updated_at"])
        review = existing
        action = "review.changed"
    else:
        review = Review.objects.create(
            assignment=assignment, application=application, reviewer=reviewer, rubric=rubric, **fields
        )
        assignment.status = AssignmentStatus.SUBMITTED
        assignment.save(update_fields=["status", "updated_at"])
        action = "review.submitted"
    audit_record(
        actor=reviewer,
        action=action,
        target=application,
        changes={"scores": scores, "weighted_total": str(total), "recommendation": recommendation},
    )
    application_scores_refresh(application)
    return review


def _write_corrected(rows: list[tuple[Any, Any]], now) -> None:
    """Store corrected scores: on PostgreSQL one `UPDATE ... FROM (VALUES ...)` per 5,000 rows
    (a bulk_update's CASE per row is far slower at this size)."""
    if connection.vendor != "postgresql":
        Application.objects.bulk_update(
            [Application(pk=pk, corrected_score=score, scores_computed_at=now) for pk, score in rows],
            ["corrected_score", "scores_computed_at"],
            batch_size=2000,
        )
        return
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            chunk = rows[start : start + 5000]
            values = ", ".join(["(%s::uuid, %s::numeric)"] * len(chunk))
            params: list[Any] = [value for row in chunk for value in row]
            cursor.execute(
                "UPDATE applications_application a SET corrected_score = v.score, scores_computed_at = %s "
                f"FROM (VALUES {values}) AS v(id, score) WHERE a.id = v.id",
                [now, *params],
            )


@transaction.atomic
def scores_recompute(*, program: Program) -> int:
    """Refresh every application's reviewer-bias-corrected score in the program."""
    reviews = Review.objects.filter(application__program=program).values_list(
        "application_id", "reviewer_id", "weighted_total"
    )
    corrected = corrected_scores(reviews.iterator(chunk_size=5000))
    now = clock.now()
    ids = list(Application.objects.filter(program=program, review_count__gt=0).values_list("id", flat=True))
    _write_corrected([(pk, corrected.get(pk)) for pk in ids], now)
    Application.objects.filter(program=program, review_count=0).exclude(corrected_score=None).update(
        corrected_score=None, scores_computed_at=now
    )
    return len(ids)

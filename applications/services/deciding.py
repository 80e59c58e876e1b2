"""The deciders' side: decisions one by one or in bulk (ranked, within capacity and quotas),
staged and released together; acceptance enrolls (and places in a cohort); a place given back is
offered to the next waitlisted applicant, who has a deadline to take it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from applications import hooks
from applications.enums import DECISIONS, FieldType, OfferStatus
from applications.enums import ApplicationStatus as S
from applications.models import Application, ApplicationForm, Review, WaitlistOffer
from applications.services import notices
from applications.services.common import APPLICATION_TRANSITIONS, app_config, lock, when_text
from core import clock
from core.audit import audit_record
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.transitions import apply_transition
from crm_sync.outbox import emit
from enrollments.enums import EnrollmentStatus
from enrollments.models import Enrollment
from enrollments.services import enrollment_create, enrollment_set_status
from programs.models import Program

DECIDABLE = (S.SUBMITTED, S.UNDER_REVIEW, S.WAITLISTED)
RANKINGS = ("corrected_score", "mean_score", "median_score")


def enrollment_role(program: Program) -> str:
    """The role an accepted applicant takes: the template's first beneficiary role."""
    roles = program.template.roles
    for entry in roles:
        if entry.get("platform_role") == "beneficiary":
            return entry["role"]
    return roles[0]["role"]


def _cohort(cohort_id, program: Program, at: str = "cohort_id"):
    if cohort_id is None:
        return None
    from scheduling.models import Cohort

    cohort = Cohort.objects.filter(pk=cohort_id, program=program).first()
    if cohort is None:
        raise ValidationFailed(errors={at: "No cohort with this id in the program."})
    return cohort


def _enroll(application: Application, reason: str, actor: Any) -> Enrollment:
    program = Program.objects.select_related("template").get(pk=application.program_id)
    role = enrollment_role(program)
    existing = Enrollment.objects.filter(user=application.applicant, program=program, role=role).first()
    if existing is None:
        return enrollment_create(
            user=application.applicant, program=program, role=role, actor=actor, reason=reason, confirm=False
        )
    if existing.status == EnrollmentStatus.DROPPED:
        return enrollment_set_status(enrollment=existing, status=EnrollmentStatus.ACTIVE, reason=reason, actor=actor)
    return existing


def _apply(application: Application, decision: str, reason: str, cohort_id, actor: Any) -> Application:
    """Make a decision take effect: status, the applicant's e-mail, the event, and on acceptance
    the enrollment and the cohort place. The caller holds the application's row lock."""
    now = clock.now()
    cohort = _cohort(cohort_id, application.program)
    apply_transition(
        application,
        table=APPLICATION_TRANSITIONS,
        to=decision,
        actor=actor,
        action="application.decided",
        reason=reason,
        extra={
            "decided_at": now,
            "decision_reason": reason,
            "pending_decision": "",
            "pending_reason": "",
            "pending_by": None,
            "pending_cohort_id": None,
            "last_progress_at": now,
        },
    )
    hooks.application_changed(application)
    if decision == S.ACCEPTED:
        enrollment = _enroll(application, f"accepted: {reason}", actor)
        if cohort is not None:
            from scheduling.services import cohort_member_add

            cohort_member_add(cohort=cohort, enrollment=enrollment, actor=actor, reason="accepted")
    comments = []
    if app_config(application.program)["include_reviewer_comments"]:
        comments = [
            c
            for c in Review.objects.filter(application=application).values_list("comment_to_applicant", flat=True)
            if c
        ]
    decisions_given = application.__class__.objects.filter(pk=application.pk).values_list("decided_at", flat=True)[0]
    notices.notify_applicant(
        application,
        notices.DECISION[decision],
        f"{notices.DECISION[decision]}:{application.pk}:{decisions_given.isoformat()}",
        reason=reason,
        reviewer_comments=comments,
    )
    emit(
        event_type="program_application_decision",
        subject=("application", application.pk),
        payload={
            "application_id": str(application.pk),
            "program_id": str(application.program_id),
            "applicant_id": str(application.applicant_id),
            "decision": decision,
            "decided_at": now.isoformat(),
            "reason": reason,
        },
        actor=actor,
    )
    return application


def _check(decision: str, reason: str) -> None:
    errors = {}
    if decision not in DECISIONS:
        errors["decision"] = f"Use one of: {', '.join(DECISIONS)}."
    if not (reason or "").strip():
        errors["reason"] = "Give the reason for the decision."
    if errors:
        raise ValidationFailed(errors=errors)


def _stage_or_apply(application: Application, decision: str, reason: str, pending: bool, cohort_id, actor) -> None:
    if application.status not in DECIDABLE:
        raise Conflict(f"The application is {application.status}; it cannot be decided now.")
    APPLICATION_TRANSITIONS.check(application.status, decision)
    if decision != S.ACCEPTED and cohort_id:
        raise ValidationFailed(errors={"cohort_id": "Only accepted applicants are placed in a cohort."})
    _cohort(cohort_id, application.program)
    if pending:
        application.pending_decision = decision
        application.pending_reason = reason
        application.pending_by = actor if getattr(actor, "is_authenticated", False) else None
        application.pending_cohort_id = cohort_id
        application.save(
            update_fields=["pending_decision", "pending_reason", "pending_by", "pending_cohort_id", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="application.decision_staged",
            target=application,
            changes={"decision": decision},
            reason=reason,
        )
        return
    _apply(application, decision, reason, cohort_id, actor)


@transaction.atomic
def decision_make(
    *,
    application: Application,
    decision: str,
    reason: str,
    pending: bool = False,
    cohort_id=None,
    actor: Any = None,
) -> Application:
    """Decide one application: at once, or staged (`pending`) until released with the others,
    so that nobody is e-mailed before the operator releases the round."""
    _check(decision, reason)
    application = lock(application)
    _stage_or_apply(application, decision, reason.strip(), pending, cohort_id, actor)
    return application


def _quota(program: Program, rule: dict) -> tuple[str | None, dict[str, int]]:
    config = app_config(program)
    quotas = rule.get("quotas")
    if quotas is not None:
        return quotas.get("field"), quotas.get("limits") or {}
    return config["quota_field"], config["quotas"] or {}


def _check_quota(program: Program, field: str | None, limits: dict, *, given: bool) -> None:
    """A quota field is a single-choice field of the current form; each limit a count."""
    if not field and not limits:
        return
    at = "top/quotas" if given else "config/application"
    form = ApplicationForm.objects.filter(program=program).order_by("-version").first()
    definition = form.field(field) if form is not None and isinstance(field, str) else None
    if definition is None or definition["type"] != FieldType.SINGLE_CHOICE:
        raise ValidationFailed(
            errors={f"{at}/{'field' if given else 'quota_field'}": "A single-choice field of the application form."}
        )
    if not isinstance(limits, dict):
        raise ValidationFailed(errors={f"{at}/{'limits' if given else 'quotas'}": "Answers mapped to counts."})
    errors = {
        f"{at}/{'limits' if given else 'quotas'}/{answer}": "A count of at least 0."
        for answer, limit in limits.items()
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0
    }
    if errors:
        raise ValidationFailed(errors=errors)


def _ranked(program: Program, rule: dict) -> list[Application]:
    by = rule.get("by", "corrected_score")
    if by not in RANKINGS:
        raise ValidationFailed(errors={"top/by": f"Use one of: {', '.join(RANKINGS)}."})
    candidates = Application.objects.filter(
        program=program, status__in=(S.SUBMITTED, S.UNDER_REVIEW), pending_decision=""
    ).select_related("program", "track", "applicant")
    if rule.get("track_id"):
        candidates = candidates.filter(track_id=rule["track_id"])
    return list(
        candidates.order_by(F(by).desc(nulls_last=True), F("mean_score").desc(nulls_last=True), "submitted_at", "id")
    )


@transaction.atomic
def decisions_bulk(
    *,
    program: Program,
    decision: str,
    reason: str,
    pending: bool = False,
    application_ids: list | None = None,
    top: dict | None = None,
    actor: Any = None,
) -> dict[str, Any]:
    """Decide many applications: the listed ones, or the best `top.count` by a ranking (the
    reviewer-bias-corrected score unless `top.by` says otherwise), limited to a track, to a
    cohort's free places (`top.cohort_id`, who are placed there) and to quotas per answer of a
    form field. What cannot be decided is reported with the reason; the rest is decided."""
    from applications.services.reviewing import scores_recompute

    _check(decision, reason)
    if (application_ids is None) == (top is None):
        raise ValidationFailed(errors={"application_ids": "Give either application_ids or top."})
    program = Program.objects.select_for_update().get(pk=program.pk)
    decided: list[str] = []
    skipped: list[dict[str, str]] = []
    cohort_id = (top or {}).get("cohort_id")
    if top is not None:
        if decision != S.ACCEPTED and cohort_id:
            raise ValidationFailed(errors={"top/cohort_id": "Only accepted applicants are placed in a cohort."})
        count = top.get("count")
        cohort = _cohort(cohort_id, program, at="top/cohort_id")
        if cohort is not None:
            # Places taken by members, and places promised by acceptances staged for release.
            staged = Application.objects.filter(
                program=program, pending_decision=S.ACCEPTED, pending_cohort_id=cohort.pk
            ).count()
            free = max(cohort.capacity - cohort.members.filter(status="active").count() - staged, 0)
            count = free if count is None else min(count, free)
        if not isinstance(count, int) or count < 0:
            raise ValidationFailed(errors={"top/count": "How many applications (or a cohort_id to fill)."})
        # Quotas limit acceptances; waitlisting or rejecting the best N ignores them.
        field, limits = _quota(program, top) if decision == S.ACCEPTED else (None, {})
        _check_quota(program, field, limits, given="quotas" in top)
        scores_recompute(program=program)
        used: Counter = Counter()
        if field and limits:
            accepted = Application.objects.filter(program=program).filter(
                Q(status=S.ACCEPTED) | Q(pending_decision=S.ACCEPTED)
            )
            for answers in accepted.values_list("answers", flat=True):
                used[answers.get(field)] += 1
        chosen: list[Application] = []
        for application in _ranked(program, top):
            if len(chosen) >= count:
                break
            group = application.answers.get(field) if field else None
            if field and group in limits and used[group] >= limits[group]:
                skipped.append({"application_id": str(application.pk), "reason": f"the quota for '{group}' is full"})
                continue
            used[group] += 1
            chosen.append(application)
        targets = chosen
    else:
        targets = list(Application.objects.filter(program=program, pk__in=application_ids).order_by("pk"))
        missing = {str(i) for i in application_ids} - {str(a.pk) for a in targets}
        skipped.extend({"application_id": i, "reason": "no such application in this program"} for i in sorted(missing))
    for target in targets:
        application = lock(target)
        try:
            with transaction.atomic():
                _stage_or_apply(application, decision, reason.strip(), pending, cohort_id, actor)
        except DomainError as exc:
            skipped.append({"application_id": str(application.pk), "reason": exc.detail})
            continue
        decided.append(str(application.pk))
    return {"decision": decision, "pending": pending, "decided": decided, "skipped": skipped}


@transaction.atomic
def decisions_release(*, program: Program, application_ids: list | None = None, actor: Any = None) -> dict[str, Any]:
    """Let staged decisions take effect together: e-mails, events and enrollments go out now."""
    staged = Application.objects.filter(program=program).exclude(pending_decision="")
    if application_ids is not None:
        staged = staged.filter(pk__in=application_ids)
    released, skipped = [], []
    for target in staged.order_by("pk"):
        application = lock(target)
        try:
            with transaction.atomic():
                _apply(
                    application,
                    application.pending_decision,
                    application.pending_reason,
                    application.pending_cohort_id,
                    actor,
                )
        except DomainError as exc:
            skipped.append({"application_id": str(application.pk), "reason": exc.detail})
            continue
        released.append(str(application.pk))
    return {"released": released, "skipped": skipped}


# --- Waitlist -----------------------------------------------------------------------------------


@transaction.atomic
def offer_next(*, program: Program, track_id=None, cohort_id=None, actor: Any = None) -> WaitlistOffer | None:
    """Offer a freed place to the best waitlisted applicant who has not been offered one yet."""
    # The candidate's row is locked (skipping rows another offer is being made to), so two places
    # freed at once go to two different applicants instead of colliding on the same one.
    candidates = (
        Application.objects.filter(program=program, status=S.WAITLISTED)
        .exclude(offers__isnull=False)
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("program", "applicant")
    )
    if track_id:
        candidates = candidates.filter(track_id=track_id)
    application = candidates.order_by(
        F("corrected_score").desc(nulls_last=True), F("mean_score").desc(nulls_last=True), "submitted_at", "id"
    ).first()
    if application is None:
        return None
    days = app_config(program)["offer_response_days"]
    offer = WaitlistOffer.objects.create(
        application=application, expires_at=clock.now() + timedelta(days=days), cohort_id=cohort_id
    )
    audit_record(
        actor=actor,
        action="application.place_offered",
        target=application,
        changes={"expires_at": offer.expires_at.isoformat()},
    )
    notices.notify_applicant(
        application, notices.WAITLIST_OFFER, f"{notices.WAITLIST_OFFER}:{offer.pk}", expires_at=offer.expires_at
    )
    return offer


def place_declined(*, application: Application, actor: Any, reason: str) -> WaitlistOffer | None:
    """An accepted applicant gave their place back: end their enrollment (and cohort place) and
    offer the place to the next waitlisted applicant."""
    program = application.program
    enrollment = Enrollment.objects.filter(
        user=application.applicant, program=program, role=enrollment_role(program), status=EnrollmentStatus.ACTIVE
    ).first()
    cohort_id = None
    if enrollment is not None:
        from scheduling.models import CohortMember
        from scheduling.services import cohort_member_remove

        member = CohortMember.objects.filter(enrollment=enrollment, status="active").first()
        if member is not None:
            cohort_id = member.cohort_id
            cohort_member_remove(member=member, actor=actor, reason=reason)
        enrollment_set_status(enrollment=enrollment, status=EnrollmentStatus.DROPPED, reason=reason, actor=actor)
    return offer_next(program=program, track_id=application.track_id, cohort_id=cohort_id, actor=actor)


@transaction.atomic
def offer_respond(*, application: Application, accept: bool, actor: Any = None) -> Application:
    """The waitlisted applicant takes the offered place (accepted and enrolled) or passes it on."""
    application = lock(application)
    offer = WaitlistOffer.objects.select_for_update().filter(application=application, status=OfferStatus.OPEN).first()
    if offer is None:
        raise NotFound("There is no open offer of a place for this application.")
    now = clock.now()
    if offer.expires_at <= now:
        raise Conflict(f"The offer expired at {when_text(offer.expires_at)}.")
    offer.status = OfferStatus.ACCEPTED if accept else OfferStatus.DECLINED
    offer.responded_at = now
    offer.save(update_fields=["status", "responded_at", "updated_at"])
    if accept:
        _apply(application, S.ACCEPTED, "took the offered place", offer.cohort_id, actor)
    else:
        audit_record(actor=actor, action="application.offer_declined", target=application)
        offer_next(program=application.program, track_id=application.track_id, cohort_id=offer.cohort_id, actor=actor)
    return application


def offers_expire() -> dict[str, int]:
    """Pass on every offer whose deadline has gone by (the `waitlist_offers` job)."""
    counts = {"offers_expired": 0, "offers_made": 0}
    for offer_id in WaitlistOffer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=clock.now()).values_list(
        "id", flat=True
    ):
        with transaction.atomic():
            offer = (
                WaitlistOffer.objects.select_for_update(skip_locked=True)
                .select_related("application__program")
                .filter(pk=offer_id, status=OfferStatus.OPEN)
                .first()
            )
            if offer is None:
                continue
            offer.status = OfferStatus.EXPIRED
            offer.save(update_fields=["status", "updated_at"])
            audit_record(actor=None, action="application.offer_expired", target=offer.application)
            counts["offers_expired"] += 1
            application = offer.application
            if offer_next(program=application.program, track_id=application.track_id, cohort_id=offer.cohort_id):
                counts["offers_made"] += 1
    return counts

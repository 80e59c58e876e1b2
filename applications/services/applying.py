"""The applicant's side: start, edit, submit, withdraw, answer a request for more information."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from applications import hooks
from applications.definitions import answer_errors
from applications.enums import ApplicationStatus as S
from applications.models import Application
from applications.services import notices
from applications.services.common import APPLICATION_TRANSITIONS, app_config, current_form, lock, when_text
from core import clock
from core.audit import audit_entries_for, audit_record
from core.errors import Conflict, ValidationFailed
from core.transitions import apply_transition
from programs.enums import ProgramStatus
from programs.models import Program, ProgramTrack

EDITABLE = (S.DRAFT, S.INFO_REQUESTED)


def window_error(program: Program, now=None) -> str | None:
    """Why the program takes no submissions now (None when it does)."""
    now = now or clock.now()
    if program.status != ProgramStatus.ACTIVE:
        return f"The program '{program.name}' is {program.status} and takes no applications."
    if program.opens_at and now < program.opens_at:
        return f"Applications to '{program.name}' open at {when_text(program.opens_at)}."
    if program.closes_at and now >= program.closes_at:
        return f"Applications to '{program.name}' closed at {when_text(program.closes_at)}."
    return None


def _check_track(program: Program, track: ProgramTrack | None) -> None:
    if track is not None and (track.program_id != program.pk or not track.active):
        raise ValidationFailed(errors={"track_id": "Not an open track of this program."})


def _emails(emails: list[str] | None) -> list[str]:
    return sorted({e.strip().lower() for e in emails or [] if isinstance(e, str) and e.strip()})


def _excluded(emails: list[str] | None) -> list:
    """The users among the named addresses; the addresses themselves are kept too, so that someone
    who joins the review team later is still kept off the application."""
    if not emails:
        return []
    User = get_user_model()
    return list(User.objects.filter(email__in=_emails(emails)))


def _can_edit(application: Application) -> bool:
    if application.status in EDITABLE:
        return True
    if (
        application.status in (S.SUBMITTED, S.UNDER_REVIEW)
        and app_config(application.program)["allow_edit_after_submit"]
    ):
        return window_error(application.program) is None
    return False


@transaction.atomic
def application_start(
    *,
    applicant: Any,
    program: Program,
    answers: dict | None = None,
    track: ProgramTrack | None = None,
    submit: bool = False,
    excluded_reviewer_emails: list[str] | None = None,
) -> Application:
    """Open the applicant's one live application to the program (a draft, or submitted at once)."""
    program = Program.objects.get(pk=program.pk)
    form = current_form(program)
    _check_track(program, track)
    answers = answers or {}
    if not isinstance(answers, dict):
        raise ValidationFailed(errors={"answers": "Answers are an object keyed by field."})
    errors = answer_errors(form.fields, answers, submitting=False)
    if errors:
        raise ValidationFailed(errors={f"answers/{k}": v for k, v in errors.items()})
    existing = Application.objects.filter(applicant=applicant, program=program).exclude(status=S.WITHDRAWN).first()
    if existing is not None:
        raise Conflict(f"You already have an application to '{program.name}' ({existing.status}); change it instead.")
    now = clock.now()
    try:
        with transaction.atomic():
            application = Application.objects.create(
                applicant=applicant,
                program=program,
                track=track,
                form=form,
                answers=answers,
                last_progress_at=now,
                excluded_reviewer_emails=_emails(excluded_reviewer_emails),
            )
    except IntegrityError as exc:
        raise Conflict(f"You already have an application to '{program.name}'.") from exc
    application.excluded_reviewers.set(_excluded(excluded_reviewer_emails))
    audit_record(
        actor=applicant, action="application.started", target=application, changes={"form_version": form.version}
    )
    hooks.application_changed(application)
    if submit:
        application = application_submit(application=application, actor=applicant)
    return application


@transaction.atomic
def application_edit(
    *,
    application: Application,
    answers: dict | None = None,
    track: ProgramTrack | None | object = ...,
    excluded_reviewer_emails: list[str] | None = None,
    actor: Any = None,
) -> Application:
    """Change answers (merged into the saved ones) or the track. Drafts and applications sent back
    for more information can always change; submitted ones only if the program allows it, until
    the window closes. A draft moves to the newest form version."""
    application = lock(application)
    if not _can_edit(application):
        raise Conflict(f"This application is {application.status} and can no longer be changed.")
    changes: dict[str, Any] = {}
    if application.status == S.DRAFT:
        form = current_form(application.program)
        if form.pk != application.form_id:
            changes["form_version"] = [application.form.version, form.version]
            application.form = form
            # Answers to fields the new version no longer has would fail as "Unknown field."
            known = {f["key"] for f in form.fields}
            dropped = sorted(set(application.answers) - known)
            if dropped:
                application.answers = {k: v for k, v in application.answers.items() if k in known}
                changes["answers_dropped"] = dropped
    if track is not ...:
        _check_track(application.program, track)
        if (track.pk if track else None) != application.track_id:
            changes["track"] = [str(application.track_id), str(track.pk) if track else None]
            application.track = track
    if answers is not None:
        if not isinstance(answers, dict):
            raise ValidationFailed(errors={"answers": "Answers are an object keyed by field."})
        merged = {**application.answers, **answers}
        merged = {k: v for k, v in merged.items() if v is not None}
        errors = answer_errors(application.form.fields, merged, submitting=application.status != S.DRAFT)
        if errors:
            raise ValidationFailed(errors={f"answers/{k}": v for k, v in errors.items()})
        changed_keys = sorted(
            k for k in set(merged) | set(application.answers) if merged.get(k) != application.answers.get(k)
        )
        if changed_keys:
            changes["answers"] = changed_keys
        application.answers = merged
    if (
        excluded_reviewer_emails is not None
        and _emails(excluded_reviewer_emails) != application.excluded_reviewer_emails
    ):
        application.excluded_reviewers.set(_excluded(excluded_reviewer_emails))
        application.excluded_reviewer_emails = _emails(excluded_reviewer_emails)
        changes["excluded_reviewers"] = len(application.excluded_reviewer_emails)
    if changes:
        application.last_progress_at = clock.now()
        application.save(
            update_fields=["form", "track", "answers", "excluded_reviewer_emails", "last_progress_at", "updated_at"]
        )
        audit_record(actor=actor, action="application.edited", target=application, changes=changes)
    return application


@transaction.atomic
def application_submit(*, application: Application, actor: Any = None) -> Application:
    """Submit a draft inside the program's window (409 outside it), or send an application that
    was asked for more information back to review. Every required answer must be there (400 per
    field)."""
    application = lock(application)
    if application.status not in (S.DRAFT, S.INFO_REQUESTED):
        raise Conflict(f"This application is already {application.status}.")
    if application.status == S.DRAFT and (problem := window_error(application.program)):
        raise Conflict(problem)
    errors = answer_errors(application.form.fields, application.answers, submitting=True)
    if application.track_id is None and ProgramTrack.objects.filter(program=application.program, active=True).exists():
        errors["track_id"] = "Choose a track."
    if errors:
        raise ValidationFailed(
            "Some answers are missing or invalid.",
            errors={k if k == "track_id" else f"answers/{k}": v for k, v in errors.items()},
        )
    now = clock.now()
    resubmission = application.status == S.INFO_REQUESTED
    apply_transition(
        application,
        table=APPLICATION_TRANSITIONS,
        to=S.UNDER_REVIEW if resubmission else S.SUBMITTED,
        actor=actor,
        action="application.resubmitted" if resubmission else "application.submitted",
        extra={"submitted_at": application.submitted_at or now, "last_progress_at": now, "info_request": ""},
    )
    hooks.application_changed(application)
    if not resubmission:
        notices.notify_applicant(
            application, notices.SUBMITTED, f"{notices.SUBMITTED}:{application.pk}", submitted_at=now
        )
    return application


@transaction.atomic
def application_request_info(*, application: Application, message: str, actor: Any = None) -> Application:
    """Send the application back to the applicant with a question; their resubmission returns it
    to review."""
    if not message or not message.strip():
        raise ValidationFailed(errors={"message": "Say what the applicant should add or change."})
    application = lock(application)
    apply_transition(
        application,
        table=APPLICATION_TRANSITIONS,
        to=S.INFO_REQUESTED,
        actor=actor,
        action="application.info_requested",
        reason=message,
        extra={"info_request": message.strip(), "last_progress_at": clock.now()},
    )
    hooks.application_changed(application)
    asked = audit_entries_for(application).filter(action="application.info_requested").count()
    notices.notify_applicant(
        application,
        notices.INFO_REQUESTED,
        f"{notices.INFO_REQUESTED}:{application.pk}:{asked}",
        message=message.strip(),
    )
    return application


@transaction.atomic
def application_withdraw(*, application: Application, actor: Any = None, reason: str = "") -> Application:
    """The applicant withdraws (until a decision), or declines a place they were given: the
    enrollment is dropped and the place is offered to the next waitlisted applicant."""
    from applications.services.deciding import offer_next, place_declined

    application = lock(application)
    if application.status in (S.REJECTED, S.WITHDRAWN):
        raise Conflict(f"This application is {application.status} and cannot be withdrawn.")
    was = application.status
    apply_transition(
        application,
        table=APPLICATION_TRANSITIONS,
        to=S.WITHDRAWN,
        actor=actor,
        action="application.declined" if was == S.ACCEPTED else "application.withdrawn",
        reason=reason,
        extra={"last_progress_at": clock.now(), "pending_decision": "", "pending_reason": ""},
    )
    hooks.application_changed(application)
    offer = application.offers.filter(status="open").first()
    application.offers.filter(status="open").update(status="declined", responded_at=clock.now())
    if was == S.ACCEPTED:
        place_declined(application=application, actor=actor, reason=reason or "declined the place")
    elif offer is not None:
        # A waitlisted applicant leaving with a place on offer passes the place on.
        offer_next(program=application.program, track_id=application.track_id, cohort_id=offer.cohort_id, actor=actor)
    return application

"""Scheduled jobs of the review workflow."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from applications.enums import AssignmentStatus
from applications.models import ReviewAssignment
from applications.services import notices, offers_expire, scores_recompute
from applications.services.common import IN_REVIEW, app_config
from core import clock
from core.jobs import JobContext
from core.roles import Role
from crm_sync.outbox import emit
from notifications.services import notify
from programs.enums import ProgramStatus
from programs.models import Program


def application_sla_reminders(context: JobContext) -> None:
    """Remind reviewers of overdue reviews (once per assignment and day, with a
    `program_application_sla_reminder` event) and alert operators once a review is
    `escalate_after_days` past its deadline."""
    now = clock.now()
    today = now.date()
    operators = list(get_user_model().objects.filter(groups__name=Role.OPERATOR, is_active=True).distinct())
    # Only applications still in review: a withdrawn or decided one needs no review any more.
    overdue = (
        ReviewAssignment.objects.filter(
            status=AssignmentStatus.ASSIGNED, due_at__lt=now, application__status__in=IN_REVIEW
        )
        .select_related("application__program", "reviewer")
        .order_by("due_at")
    )
    total = overdue.count()
    for done, assignment in enumerate(overdue.iterator(chunk_size=500), start=1):
        application = assignment.application
        program = application.program
        with transaction.atomic():
            locked = ReviewAssignment.objects.select_for_update().get(pk=assignment.pk)
            if locked.last_reminded_on != today:
                late_hours = round((now - locked.due_at).total_seconds() / 3600, 1)
                notify(
                    user=assignment.reviewer,
                    kind=notices.REVIEW_OVERDUE,
                    context={"program_name": program.name, "due_at": locked.due_at, "overdue_hours": late_hours},
                    dedupe_key=f"{notices.REVIEW_OVERDUE}:{locked.pk}:{today.isoformat()}",
                    related=[application],
                )
                emit(
                    event_type="program_application_sla_reminder",
                    subject=("application", application.pk),
                    payload={
                        "application_id": str(application.pk),
                        "program_id": str(program.pk),
                        "reviewer_id": str(assignment.reviewer_id),
                        "due_at": locked.due_at.isoformat(),
                        "overdue_hours": late_hours,
                    },
                    actor="system:review-sla",
                )
                locked.last_reminded_on = today
                locked.save(update_fields=["last_reminded_on", "updated_at"])
                context.count("reminded")
            escalate_at = locked.due_at + timedelta(days=app_config(program)["escalate_after_days"])
            if locked.escalated_at is None and now >= escalate_at:
                for operator in operators:
                    notify(
                        user=operator,
                        kind=notices.REVIEW_ESCALATED,
                        context={
                            "program_name": program.name,
                            "reviewer": assignment.reviewer.email,
                            "due_at": locked.due_at,
                            "application_id": str(application.pk),
                        },
                        dedupe_key=f"{notices.REVIEW_ESCALATED}:{locked.pk}:{operator.pk}",
                        related=[application],
                    )
                locked.escalated_at = now
                locked.save(update_fields=["escalated_at", "updated_at"])
                context.count("escalated")
        if done % 200 == 0:
            context.progress(f"{done} of {total} overdue reviews checked")


def waitlist_offers(context: JobContext) -> None:
    """Pass expired offers of a place on to the next waitlisted applicant."""
    for key, value in offers_expire().items():
        context.count(key, value)


def review_scores(context: JobContext) -> None:
    """Refresh the reviewer-bias-corrected scores of every active program with reviews."""
    programs = Program.objects.filter(
        status__in=(ProgramStatus.ACTIVE, ProgramStatus.PAUSED), applications__review_count__gt=0
    ).distinct()
    for program in programs:
        context.count("applications", scores_recompute(program=program))
        context.count("programs")

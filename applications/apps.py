from django.apps import AppConfig


def apply_action(program, user):
    """The program page's "Apply" button while the program has a form and takes applications."""
    from django.urls import reverse

    from applications.models import ApplicationForm
    from applications.selectors import my_application
    from applications.services import window_error

    if not ApplicationForm.objects.filter(program=program).exists():
        return None
    mine = my_application(program, user) if user.is_authenticated else None
    if mine is not None and mine.status != "withdrawn":
        return {"label": "See my application", "url": reverse("my-applications"), "note": ""}
    closed = window_error(program)
    if closed:
        return {
            "label": "Save a draft application",
            "url": reverse("apply", args=[program.program_key]),
            "note": closed,
        }
    return {"label": "Apply", "url": reverse("apply", args=[program.program_key]), "note": ""}


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = "Applications and reviews"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    role_permissions = {"operator": ("view", "add", "change"), "reviewer": ("view",)}

    def ready(self) -> None:
        from applications import jobs
        from applications.crm import crm_applications
        from applications.demo import seed_applications
        from applications.services import notices
        from core.demo import register_demo_seeder
        from core.jobs import register_job
        from crm_sync.hooks import register_crm_entity
        from notifications.registry import register_kind
        from programs.hooks import register_program_page_action

        kinds = [
            (notices.SUBMITTED, "An applicant's application was received."),
            (notices.INFO_REQUESTED, "Operators ask an applicant for more information."),
            (notices.DECISION["accepted"], "An application was accepted."),
            (notices.DECISION["waitlisted"], "An application was put on the waiting list."),
            (notices.DECISION["rejected"], "An application was not accepted."),
            (notices.WAITLIST_OFFER, "A waitlisted applicant is offered a place, with a deadline."),
            (notices.REVIEW_ASSIGNED, "A reviewer was given an application to review."),
            (notices.REVIEW_OVERDUE, "A review is past its deadline (once a day)."),
            (notices.REVIEW_ESCALATED, "Operators: a review is well past its deadline."),
        ]
        for key, description in kinds:
            register_kind(key, group="transactional", essential=True, description=description)
        register_job(
            "application_sla_reminders",
            jobs.application_sla_reminders,
            "Remind reviewers of overdue reviews once a day; alert operators about long-overdue ones.",
        )
        register_job("waitlist_offers", jobs.waitlist_offers, "Pass expired offers of a place to the next applicant.")
        register_job(
            "review_scores",
            jobs.review_scores,
            "Refresh the reviewer-bias-corrected scores of programs with reviews.",
            record_idle=False,
        )
        register_crm_entity("application", crm_applications)
        register_program_page_action(apply_action)
        register_demo_seeder(order=60, name="applications: forms, rubrics, applications, reviews", fn=seed_applications)

from django.apps import AppConfig


class MentorshipConfig(AppConfig):
    name = "mentorship"
    verbose_name = "Mentorship and buddy programs"
    default_auto_field = "django.db.models.BigAutoField"
    # Admin permissions of the role groups (granted after migrate by accounts).
    # Reviewers judge applications; pairs' check-in notes and feedback are not theirs to read.
    role_permissions = {"operator": ("view", "add", "change")}

    def ready(self) -> None:
        from core.jobs import register_job
        from enrollments.journey import register_journey_contributor
        from mentorship import journey, notices
        from mentorship.jobs import mentorship_checkins
        from notifications.registry import register_kind

        for key, group, essential, description in notices.KINDS:
            register_kind(key, group=group, essential=essential, description=description)
        register_journey_contributor(journey.mentorship_flags, keys=journey.KEYS)
        register_job(
            "mentorship_checkins",
            mentorship_checkins,
            "Weekly: refresh the journey flags of people in active matches (check-in due after the program's "
            "interval) and nudge each pair that is due, once per pair, person and week.",
        )
        from mentorship.selectors import pair_people
        from scheduling.hooks import register_pair_resolver

        register_pair_resolver(pair_people)
        from mentorship.partners.handlers import register as register_partner_handlers

        register_partner_handlers()  # inbound buddy.* and kintell.session.completed events

        from core.demo import register_demo_seeder
        from mentorship.demo import seed_mentorship

        register_demo_seeder(order=80, name="mentorship: profiles, proposals, an active match", fn=seed_mentorship)

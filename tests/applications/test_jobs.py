"""The scheduled jobs of the review workflow, run as cron runs them (core.jobs.run_job, committed
transactions): review SLA reminders and escalations, and expired waitlist offers passed on."""

from datetime import timedelta

import pytest

from applications.models import ReviewAssignment, WaitlistOffer
from applications.services import (
    application_withdraw,
    assignments_create,
    decision_make,
    review_submit,
    scores_recompute,
)
from core.audit import audit_entries_for
from core.jobs import run_job
from crm_sync.models import OutboxEvent
from notifications.models import Notification
from tests.applications.conftest import FROZEN, configure

pytestmark = pytest.mark.django_db(transaction=True)


def _reminders():
    return list(OutboxEvent.objects.filter(event_type="program_application_sla_reminder").order_by("occurred_at"))


@pytest.fixture
def overdue_setup(apply, reviewer, make_user, operator, program, rubric, frozen):
    """Two applications, each assigned at FROZEN to one reviewer (due 7 days later)."""
    other_operator = make_user(email="op2@example.org", role="operator")
    first, second = apply(), apply()
    rae, sam = reviewer("rae@example.org"), reviewer("sam@example.org")
    assignments_create(program=program, pairs=[(first.id, rae.id), (second.id, sam.id)])
    return first, second, rae, sam, [operator, other_operator]


def test_overdue_reviews_are_reminded_once_a_day_and_escalated_once(overdue_setup, program, frozen):
    first, second, rae, sam, operators = overdue_setup
    rae_assignment = ReviewAssignment.objects.get(reviewer=rae)
    due = FROZEN + timedelta(days=7)
    assert rae_assignment.due_at == due

    frozen.now = due - timedelta(minutes=1)
    early = run_job("application_sla_reminders")
    assert (early.status, early.counts) == ("succeeded", {})
    assert not _reminders()

    frozen.now = due + timedelta(hours=1, minutes=30)
    run = run_job("application_sla_reminders")
    assert (run.status, run.counts) == ("succeeded", {"reminded": 2})
    day = frozen.now.date().isoformat()
    assert sorted(
        Notification.objects.filter(kind="review_overdue").values_list("user__email", "channel", "dedupe_key")
    ) == sorted(
        [
            ("rae@example.org", "dashboard", f"review_overdue:{rae_assignment.id}:{day}:dashboard"),
            ("rae@example.org", "email", f"review_overdue:{rae_assignment.id}:{day}:email"),
            (
                "sam@example.org",
                "dashboard",
                f"review_overdue:{ReviewAssignment.objects.get(reviewer=sam).id}:{day}:dashboard",
            ),
            ("sam@example.org", "email", f"review_overdue:{ReviewAssignment.objects.get(reviewer=sam).id}:{day}:email"),
        ]
    )
    events = {e.payload["reviewer_id"]: e for e in _reminders()}
    assert events[str(rae.id)].payload == {
        "application_id": str(first.id),
        "program_id": str(program.id),
        "reviewer_id": str(rae.id),
        "due_at": due.isoformat(),
        "overdue_hours": 1.5,
    }
    assert (events[str(rae.id)].subject_type, events[str(rae.id)].subject_id, events[str(rae.id)].actor) == (
        "application",
        str(first.id),
        "system:review-sla",
    )
    assert ReviewAssignment.objects.get(reviewer=rae).last_reminded_on == frozen.now.date()

    # Later the same day: nothing new.
    frozen.advance(hours=5)
    again = run_job("application_sla_reminders")
    assert again.counts == {}
    assert (len(_reminders()), Notification.objects.filter(kind="review_overdue").count()) == (2, 4)

    # The next day: one more reminder per assignment.
    frozen.advance(days=1)
    assert run_job("application_sla_reminders").counts == {"reminded": 2}
    assert len(_reminders()) == 4
    assert not Notification.objects.filter(kind="review_escalated").exists()

    # Three days past the deadline, operators are alerted, once.
    frozen.now = due + timedelta(days=3)
    escalation = run_job("application_sla_reminders")
    assert escalation.counts == {"reminded": 2, "escalated": 2}
    escalated = Notification.objects.filter(kind="review_escalated", channel="email")
    # One alert per overdue assignment and operator.
    assert (
        sorted(escalated.values_list("user__email", flat=True))
        == ["op2@example.org"] * 2 + ["operator@example.org"] * 2
    )
    assert sorted(escalated.values_list("dedupe_key", flat=True)) == sorted(
        f"review_escalated:{a.id}:{o.id}:email" for a in ReviewAssignment.objects.all() for o in operators
    )
    assert ReviewAssignment.objects.get(reviewer=rae).escalated_at == frozen.now
    frozen.advance(days=1)
    assert run_job("application_sla_reminders").counts == {"reminded": 2}
    assert escalated.count() == 4


def test_submitted_reviews_and_closed_applications_are_not_chased(overdue_setup, program, frozen, operator):
    first, second, rae, sam, _ = overdue_setup
    review_submit(application=first, reviewer=rae, scores={"craft": 3, "voice": 3, "fit": 3}, recommendation="accept")
    application_withdraw(application=second, actor=second.applicant)
    frozen.advance(days=12)

    run = run_job("application_sla_reminders")

    assert run.counts == {}
    assert not _reminders()
    assert not Notification.objects.filter(kind__in=["review_overdue", "review_escalated"]).exists()


def test_the_deadline_follows_the_programs_sla(apply, reviewer, program, rubric, frozen):
    program = configure(program, review_sla_days=2, escalate_after_days=1)
    application = apply()
    rae = reviewer()
    (assignment,), _ = assignments_create(program=program, pairs=[(application.id, rae.id)])
    assert assignment.due_at == FROZEN + timedelta(days=2)

    frozen.now = FROZEN + timedelta(days=3, hours=1)
    run = run_job("application_sla_reminders")

    assert run.counts == {"reminded": 1, "escalated": 1}
    assert _reminders()[0].payload["overdue_hours"] == 25.0


def test_expired_offers_are_passed_on_by_the_waitlist_job(scored, program, operator, frozen):
    apps, _ = scored
    scores_recompute(program=program)
    decision_make(application=apps["D"], decision="accepted", reason="Top", actor=operator)
    for name in "CE":
        decision_make(application=apps[name], decision="waitlisted", reason="Next", actor=operator)
    application_withdraw(application=apps["D"], actor=apps["D"].applicant)
    first = WaitlistOffer.objects.get()
    assert first.application_id == apps["C"].id

    frozen.now = first.expires_at - timedelta(seconds=1)
    assert run_job("waitlist_offers").counts == {"offers_expired": 0, "offers_made": 0}

    frozen.now = first.expires_at
    run = run_job("waitlist_offers")

    assert (run.status, run.counts) == ("succeeded", {"offers_expired": 1, "offers_made": 1})
    assert dict(WaitlistOffer.objects.values_list("application_id", "status")) == {
        apps["C"].id: "expired",
        apps["E"].id: "open",
    }
    second = WaitlistOffer.objects.get(status="open")
    assert second.expires_at == frozen.now + timedelta(days=5)
    assert audit_entries_for(apps["C"]).filter(action="application.offer_expired").count() == 1
    assert Notification.objects.filter(user=apps["E"].applicant, kind="application_waitlist_offer").count() == 2
    # Running again changes nothing until E's offer expires; then nobody is left.
    assert run_job("waitlist_offers").counts == {"offers_expired": 0, "offers_made": 0}
    frozen.now = second.expires_at
    assert run_job("waitlist_offers").counts == {"offers_expired": 1, "offers_made": 0}
    assert WaitlistOffer.objects.filter(status="open").count() == 0

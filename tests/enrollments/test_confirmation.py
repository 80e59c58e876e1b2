"""A person enrolled on the platform is told so, once, by e-mail and in the inbox."""

import pytest
from django.core import mail

from enrollments.services import enrollment_create
from notifications.models import Notification
from notifications.services import notification_deliver

pytestmark = pytest.mark.django_db


def test_an_enrollment_sends_one_confirmation_per_channel(make_user, program, campaign, settings):
    settings.SITE_URL = "https://programs.example.org"
    user = make_user(email="mentee@example.org", full_name="Mina Mentee")
    enrollment = enrollment_create(user=user, program=program, campaign=campaign, role="mentee")

    rows = list(Notification.objects.filter(user=user).order_by("channel"))
    assert [(n.channel, n.kind, n.status, n.dedupe_key) for n in rows] == [
        ("dashboard", "enrollment_confirmed", "queued", f"enrollment_confirmed:{enrollment.id}:dashboard"),
        ("email", "enrollment_confirmed", "queued", f"enrollment_confirmed:{enrollment.id}:email"),
    ]
    dashboard, email = rows
    assert dashboard.dashboard_text == "You are enrolled in Mentorship 2026 as mentee."
    assert email.subject == "You are enrolled in Mentorship 2026"
    assert "Your place comes through Acme Mentorship." in email.body_text
    assert f"https://programs.example.org/programs/{program.program_key}/" in email.body_text
    assert email.related == [
        {"type": "enrollments.enrollment", "id": str(enrollment.id)},
        {"type": "programs.program", "id": str(program.id)},
    ]

    for row in rows:
        notification_deliver(notification_id=row.id)
    assert [m.subject for m in mail.outbox] == ["You are enrolled in Mentorship 2026"]
    assert mail.outbox[0].to == ["mentee@example.org"]


def test_partner_imports_do_not_mail_people(make_user, program):
    user = make_user()
    enrollment_create(user=user, program=program, role="mentee", source_system="buddy")
    assert not Notification.objects.filter(user=user).exists()

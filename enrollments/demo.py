"""Demo enrollments: the demo writer and mentor take part in a few programs."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model

from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from programs.models import Campaign, Program

DEMO_ENROLLMENTS = [
    # email, program key, role, campaign name
    ("writer@demo.local", "career-lab-spring", "participant", "Globex Career Lab"),
    ("writer@demo.local", "pitch-week", "pitcher", None),
    ("mentor@demo.local", "mentors-for-ukraine", "mentor", "Acme Mentorship 2026"),
    ("mentor@demo.local", "buddy-berlin", "buddy", "Acme Buddies Berlin"),
]


def seed_enrollments(say: Callable[[str], None]) -> None:
    User = get_user_model()
    for email, program_key, role, campaign_name in DEMO_ENROLLMENTS:
        user = User.objects.filter(email=email).first()
        program = Program.objects.filter(program_key=program_key).first()
        if user is None or program is None:
            continue
        if Enrollment.objects.filter(user=user, program=program, role=role).exists():
            continue
        campaign = Campaign.objects.filter(name=campaign_name).first() if campaign_name else None
        enrollment_create(user=user, program=program, role=role, campaign=campaign, reason="demo data")
        say(f"{email} enrolled in {program_key} as {role}")

"""Demo applications: the Career Lab takes applications with a form and rubric, a review team,
applicants with submitted applications and some reviews."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model

from accounts.services import roles_ensure_groups, user_create_or_update, user_grant_role
from applications.models import Application, ApplicationForm
from applications.services import (
    application_form_publish,
    application_start,
    assignments_auto,
    program_reviewer_add,
    review_submit,
    scoring_rubric_publish,
)
from programs.models import Program

PROGRAM_KEY = "career-lab-spring"

FIELDS = [
    {"key": "full_name", "label": "Your name", "type": "short_text", "required": True},
    {"key": "email", "label": "Contact e-mail", "type": "email", "required": True, "reviewer_visible": False},
    {
        "key": "statement",
        "label": "Why this lab, why now?",
        "help_text": "At most 300 words.",
        "type": "long_text",
        "required": True,
        "max_words": 300,
    },
    {"key": "sample_url", "label": "Link to a writing sample", "type": "url", "required": True},
    {"key": "years_writing", "label": "Years writing", "type": "number", "required": True, "min": 0, "max": 60},
    {
        "key": "group",
        "label": "I am applying as",
        "type": "single_choice",
        "required": True,
        "options": ["first-time writer", "returning writer"],
    },
    {"key": "consent", "label": "I agree that reviewers read my application", "type": "boolean", "required": True},
]
TRACKS = [
    {"key": "screenwriting", "name": "Screenwriting", "description": "Film and television scripts."},
    {"key": "playwriting", "name": "Playwriting", "description": "Stage plays."},
]
CRITERIA = [
    {"key": "craft", "label": "Craft", "weight": 2, "scale_min": 1, "scale_max": 5},
    {"key": "voice", "label": "Voice", "weight": 1, "scale_min": 1, "scale_max": 5},
    {"key": "readiness", "label": "Readiness for the lab", "weight": 1, "scale_min": 1, "scale_max": 5},
    {"key": "fit", "label": "Fit with the cohort", "weight": 1, "scale_min": 1, "scale_max": 5, "independent": True},
]
APPLICANTS = [
    ("amira@demo.local", "Amira Haddad", "screenwriting", 4, (5, 4, 4)),
    ("ben@demo.local", "Ben Okafor", "screenwriting", 2, (3, 3, 4)),
    ("chloe@demo.local", "Chloé Martin", "playwriting", 7, (4, 5, 3)),
    ("dev@demo.local", "Dev Patel", "playwriting", 1, (2, 3, 2)),
]


def seed_applications(say: Callable[[str], None]) -> None:
    program = Program.objects.filter(program_key=PROGRAM_KEY).first()
    if program is None or ApplicationForm.objects.filter(program=program).exists():
        return
    roles_ensure_groups()
    application_form_publish(program=program, fields=FIELDS, tracks=TRACKS)
    scoring_rubric_publish(program=program, criteria=CRITERIA)
    User = get_user_model()
    reviewers = []
    for email, name in (("reviewer@demo.local", "Rae Reviewer"), ("reviewer2@demo.local", "Rui Reader")):
        user, created = user_create_or_update(email=email, full_name=name, is_staff=True)
        if created:
            user.set_password("demo12345")
            user.save(update_fields=["password"])
        user_grant_role(user=user, role="reviewer")
        program_reviewer_add(program=program, reviewer=user)
        reviewers.append(user)
    tracks = {t.key: t for t in program.tracks.all()}
    for email, name, track, years, _ in APPLICANTS:
        applicant, created = user_create_or_update(email=email, full_name=name)
        if created:
            applicant.set_password("demo12345")
            applicant.save(update_fields=["password"])
        user_grant_role(user=applicant, role="writer")
        application_start(
            applicant=applicant,
            program=program,
            track=tracks[track],
            submit=True,
            answers={
                "full_name": name,
                "email": email,
                "statement": f"{name.split()[0]} wants to finish a first full draft with feedback from peers.",
                "sample_url": f"https://samples.example.org/{email.split('@')[0]}",
                "years_writing": years,
                "group": "first-time writer" if years < 3 else "returning writer",
                "consent": True,
            },
        )
    assignments_auto(program=program, reviewers_per_application=2)
    for email, _, _, _, (craft, voice, readiness) in APPLICANTS:
        application = Application.objects.get(program=program, applicant__email=email)
        reviewer = User.objects.get(email="reviewer2@demo.local")
        review_submit(
            application=application,
            reviewer=reviewer,
            scores={"craft": craft, "voice": voice, "readiness": readiness, "fit": 3},
            recommendation="accept" if craft >= 4 else "waitlist",
            comment="Demo review.",
        )
    say(f"{len(APPLICANTS)} applications to {PROGRAM_KEY}, two reviewers, {len(APPLICANTS)} reviews")

"""Demo mentorship: mentors and mentees with skills, languages and time zones in the demo mentorship
program (mentors-for-ukraine) and buddies and participants in the demo buddy program
(buddy-berlin); one run of the matcher in each, so the proposal review screen has pairs,
breakdowns and unmatched mentees to show; in the mentorship program one approved, active match
(the demo mentor and the demo mentee, who signs in with the demo password) with a check-in and a
milestone. Idempotent: a program that already has a proposal batch is left as it is."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model

from accounts.demo import DEMO_PASSWORD
from accounts.services import user_create_or_update, user_grant_role
from mentorship.enums import MatchStatus
from mentorship.models import CheckIn, Match, ProposalBatch
from mentorship.services import checkin_log, matches_approve, matches_propose, milestone_reach, profile_upsert
from programs.enums import ProgramStatus
from programs.models import Program

MENTORSHIP = "mentors-for-ukraine"
BUDDY = "buddy-berlin"
DEMO_MENTEE = "mentee@demo.local"

# email, full name, time zone, kind, profile data
PEOPLE = {
    MENTORSHIP: [
        (
            "mentor@demo.local",
            "Mina Mentor",
            "Europe/Berlin",
            "mentor",
            {
                "capacity": 2,
                "languages": ["en", "uk", "pl"],
                "skills": ["python", "job search", "interviews"],
                "industries": ["software"],
                "goals": ["first job", "career change"],
                "bio": "Engineering manager; hires and mentors junior developers.",
            },
        ),
        (
            "olena.mentor@demo.local",
            "Olena Kravets",
            "Europe/Warsaw",
            "mentor",
            {
                "capacity": 1,
                "languages": ["uk", "pl"],
                "skills": ["marketing", "cv review", "polish job market"],
                "industries": ["marketing"],
                "goals": ["first job"],
            },
        ),
        (
            "jonas.mentor@demo.local",
            "Jonas Weber",
            "Europe/Berlin",
            "mentor",
            {
                "capacity": 1,
                "languages": ["en", "de"],
                "skills": ["finance", "accounting", "interviews"],
                "industries": ["finance"],
                "goals": ["career change"],
            },
        ),
        (
            DEMO_MENTEE,
            "Marta Mentee",
            "Europe/Warsaw",
            "mentee",
            {
                "languages": ["uk", "en"],
                "skills": ["python", "interviews"],
                "industries": ["software"],
                "goals": ["first job"],
            },
        ),
        (
            "andriy.mentee@demo.local",
            "Andriy Bondar",
            "Europe/Kyiv",
            "mentee",
            {
                "languages": ["uk", "pl"],
                "skills": ["marketing", "cv review"],
                "industries": ["marketing"],
                "goals": ["first job"],
            },
        ),
        (
            "iryna.mentee@demo.local",
            "Iryna Shevchenko",
            "Europe/Berlin",
            "mentee",
            {
                "languages": ["uk", "en"],
                "skills": ["accounting", "interviews"],
                "industries": ["finance"],
                "goals": ["career change"],
            },
        ),
        (
            "samir.mentee@demo.local",
            "Samir Haddad",
            "Europe/Helsinki",
            "mentee",
            {
                "languages": ["ar", "en"],
                "skills": ["finance"],
                "industries": ["finance"],
                "goals": ["career change"],
            },
        ),
        (
            "fatima.mentee@demo.local",
            "Fatima Nasser",
            "Europe/Berlin",
            "mentee",
            {"languages": ["ar", "fr"], "skills": ["logistics"], "goals": ["first job"]},
        ),
    ],
    BUDDY: [
        (
            "mentor@demo.local",
            "Mina Mentor",
            "Europe/Berlin",
            "mentor",
            {"capacity": 1, "languages": ["en", "de"], "goals": ["settle in", "practise german"]},
        ),
        (
            "lena.buddy@demo.local",
            "Lena Schmidt",
            "Europe/Berlin",
            "mentor",
            {"capacity": 1, "languages": ["de", "ar"], "goals": ["settle in", "find a flat"]},
        ),
        (
            "omar.participant@demo.local",
            "Omar Khalil",
            "Europe/Berlin",
            "mentee",
            {"languages": ["ar", "de"], "goals": ["find a flat", "settle in"]},
        ),
        (
            "nour.participant@demo.local",
            "Nour Saleh",
            "Europe/Berlin",
            "mentee",
            {"languages": ["ar", "en"], "goals": ["practise german"]},
        ),
    ],
}


def _person(email: str, full_name: str, zone: str, say: Callable[[str], None]):
    user, created = user_create_or_update(email=email, password=None, full_name=full_name, timezone=zone)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        say(f"user {email}")
    return user


def _profiles(program: Program, say: Callable[[str], None]) -> None:
    for email, full_name, zone, kind, data in PEOPLE[program.program_key]:
        user = _person(email, full_name, zone, say)
        if kind == "mentor":
            user_grant_role(user=user, role="mentor")
        _, created = profile_upsert(program=program, user=user, kind=kind, data={**data, "timezone": zone})
        if created:
            say(f"{kind} profile of {email} in {program.program_key}")


def _first_match(program: Program, batch: ProposalBatch, operator, say: Callable[[str], None]) -> None:
    """Approve the demo mentee's proposal; log a check-in and a milestone for the pair."""
    User = get_user_model()
    mentee = User.objects.get(email=DEMO_MENTEE)
    proposal = batch.matches.filter(mentee=mentee, status=MatchStatus.PROPOSED).first()
    if proposal is None:
        return
    [match] = matches_approve(
        program=program, proposal_ids=[proposal.pk], actor=operator, reason="Strong fit on skills and goals."
    )
    say(f"approved match {match.mentee} / {match.mentor} in {program.program_key}")
    if not CheckIn.objects.filter(match=match).exists():
        checkin_log(match=match, by=mentee, mood=4, notes="First call: we planned my CV and two applications.")
    milestone_reach(user=mentee, program=program, key="first-meeting", title="First meeting with the mentor")
    say("a check-in and the milestone 'first-meeting' for the demo mentee")


def seed_mentorship(say: Callable[[str], None]) -> None:
    operator = get_user_model().objects.filter(email="operator@demo.local").first()
    for key in (MENTORSHIP, BUDDY):
        program = Program.objects.select_related("template").filter(program_key=key).first()
        if program is None or not program.template.supports_matching or program.status != ProgramStatus.ACTIVE:
            continue
        if ProposalBatch.objects.filter(program=program).exists():
            continue  # seeded before (or operators are matching here): leave the program as it is
        _profiles(program, say)
        if Match.objects.filter(program=program).exists():
            continue
        batch = matches_propose(program=program, actor=operator)
        say(f"{batch.matches.count()} proposals, {len(batch.unmatched)} unmatched in {key}")
        if key == MENTORSHIP:
            _first_match(program, batch, operator, say)

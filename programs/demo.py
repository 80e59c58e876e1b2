"""Demo beneficiary groups, programs (one per built-in template) and company campaigns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from accounts.models import Company
from core import clock
from programs.enums import ProgramStatus
from programs.models import BeneficiaryGroup, Campaign, Program
from programs.services import beneficiary_group_create, campaign_create, program_create, program_set_status
from templates_app.enums import TemplateStatus
from templates_app.models import ProgramTemplate

GROUPS = [
    ("ukrainian-displaced", "People displaced from Ukraine", ["PL", "DE"], ["uk", "ru"], ["refugees"]),
    ("syrian-refugees", "Syrian refugees in Germany", ["DE"], ["ar"], ["refugees"]),
    ("early-career-writers", "Early-career writers", [], ["en"], ["writers"]),
]

# program_key, template key, name, group key, overrides, tags, SDGs, time zone, description
PROGRAMS = [
    (
        "mentors-for-ukraine",
        "mentorship-standard",
        "Mentors for Ukraine",
        "ukrainian-displaced",
        {"session": {"default_duration_minutes": 90}},
        ["mentorship", "careers"],
        [4, 8, 10],
        "Europe/Warsaw",
        "Professionals mentor people displaced from Ukraine towards their next job.",
    ),
    (
        "buddy-berlin",
        "buddy-standard",
        "Buddy Program Berlin",
        "syrian-refugees",
        {},
        ["community", "integration"],
        [10, 11],
        "Europe/Berlin",
        "Local buddies help newcomers settle in: events, skill swaps and weekly check-ins.",
    ),
    (
        "language-for-ukraine",
        "language-tutoring",
        "Language for Ukraine",
        "ukrainian-displaced",
        {"language": {"target_language": "pl"}},
        ["language"],
        [4],
        "Europe/Warsaw",
        "Practise Polish with volunteer tutors, assessed on the CEFR scale.",
    ),
    (
        "upskilling-tech",
        "upskilling-courses",
        "Upskilling: Tech Foundations",
        "syrian-refugees",
        {},
        ["tech", "careers"],
        [4, 8],
        "Europe/Berlin",
        "Partner courses in data and software basics, with a credential at the end.",
    ),
    (
        "screenwriter-fee-waiver",
        "fee-waiver",
        "Screenwriter Fee Waiver",
        "early-career-writers",
        {"waiver": {"amount": 75}},
        ["writers", "access"],
        [4, 10],
        "America/Los_Angeles",
        "Waives the submission fee for writers who could not otherwise enter.",
    ),
    (
        "career-lab-spring",
        "career-lab",
        "Career Lab: Spring Cohort",
        "early-career-writers",
        {},
        ["writers", "careers"],
        [8],
        "America/New_York",
        "Six workshops with industry guests on representation, portfolios and pitching.",
    ),
    (
        "pitch-week",
        "pitch-week",
        "Pitch Week",
        "early-career-writers",
        {},
        ["writers", "pitching"],
        [8],
        "America/Los_Angeles",
        "A week of fifteen-minute pitches to producers and executives.",
    ),
    (
        "live-read-series",
        "live-read",
        "Live Read Series",
        "early-career-writers",
        {},
        ["writers", "events"],
        [4],
        "America/New_York",
        "Selected scripts read live by actors, followed by a moderated discussion.",
    ),
]

CAMPAIGNS = [
    ("mentors-for-ukraine", "acme", "Acme Mentorship 2026", 20, 25, Decimal("15000.00"), "EUR"),
    ("buddy-berlin", "acme", "Acme Buddies Berlin", 10, 12, Decimal("4000.00"), "EUR"),
    ("career-lab-spring", "globex", "Globex Career Lab", 15, 20, Decimal("9000.00"), "USD"),
]


def seed_programs(say: Callable[[str], None]) -> None:
    for key, name, countries, languages, tags in GROUPS:
        if not BeneficiaryGroup.objects.filter(key=key).exists():
            beneficiary_group_create(key=key, name=name, countries=countries, languages=languages, tags=tags)
            say(f"beneficiary group {key}")
    now = clock.now()
    for key, template_key, name, group_key, overrides, tags, sdgs, tz, description in PROGRAMS:
        if Program.objects.filter(program_key=key).exists():
            continue
        template = (
            ProgramTemplate.objects.filter(template_key=template_key, status=TemplateStatus.ACTIVE)
            .order_by("-version")
            .first()
        )
        if template is None:
            continue
        program = program_create(
            program_key=key,
            template=template,
            name=name,
            beneficiary_group=BeneficiaryGroup.objects.get(key=group_key),
            config_overrides=overrides,
            tags=tags,
            sdg_goals=sdgs,
            timezone=tz,
            description=description,
            opens_at=now - timedelta(days=7),
            closes_at=now + timedelta(days=30),
        )
        program_set_status(program=program, status=ProgramStatus.ACTIVE, reason="demo data")
        say(f"program {key} (active)")
    for program_key, company_key, name, target, maximum, budget, currency in CAMPAIGNS:
        if Campaign.objects.filter(name=name).exists():
            continue
        campaign_create(
            program=Program.objects.get(program_key=program_key),
            company=Company.objects.get(key=company_key),
            name=name,
            target_enrollment=target,
            max_enrollment=maximum,
            budget_amount=budget,
            budget_currency=currency,
        )
        say(f"campaign {name}")

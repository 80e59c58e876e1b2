from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import User

DEMO_MODELS = [
    "accounts.User",
    "accounts.Company",
    "accounts.CompanyMembership",
    "templates_app.ProgramTemplate",
    "programs.BeneficiaryGroup",
    "programs.Program",
    "programs.Campaign",
    "enrollments.Enrollment",
    "applications.Application",
    "applications.Review",
    "scheduling.Session",
    "scheduling.Registration",
    "mentorship.Profile",
    "mentorship.ProposalBatch",
    "mentorship.Match",
    "mentorship.CheckIn",
    "mentorship.Milestone",
    "core.AuditEntry",
    "analytics.Snapshot",
]


def _counts():
    return {label: apps.get_model(label).objects.count() for label in DEMO_MODELS}


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_consistent():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo data ready." in out.getvalue()
    first = _counts()
    assert first["templates_app.ProgramTemplate"] == 8
    assert first["programs.Program"] == 8
    assert first["programs.Campaign"] == 3
    assert first["enrollments.Enrollment"] == 5  # the demo mentee's enrollment comes with their match
    assert first["applications.Application"] == 4
    assert first["applications.Review"] == 4
    assert first["scheduling.Session"] == 6  # a weekly series of 4, a live read, office hours
    assert first["scheduling.Registration"] == 1  # the writer's place at the live read
    assert first["analytics.Snapshot"] == 14 * (8 + 3)  # 14 days x (8 programs + 3 campaigns; no cohorts)
    assert {k: v for k, v in first.items() if k.startswith("mentorship.")} == {
        "mentorship.Profile": 12,  # mentoring: 3 mentors, 5 mentees; buddy: 2 buddies, 2 participants
        "mentorship.ProposalBatch": 2,
        "mentorship.Match": 6,  # proposals of both runs, one of them approved
        "mentorship.CheckIn": 1,
        "mentorship.Milestone": 1,
    }
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first
    roles = {u.email: sorted(g.name for g in u.groups.all()) for u in User.objects.prefetch_related("groups")}
    assert roles == {
        "admin@demo.local": [],
        "operator@demo.local": ["operator"],
        "reviewer@demo.local": ["reviewer"],
        "mentor@demo.local": ["mentor"],
        "writer@demo.local": ["writer"],
        "integrator@demo.local": ["integrator"],
        "reviewer2@demo.local": ["reviewer"],
        "amira@demo.local": ["writer"],
        "ben@demo.local": ["writer"],
        "chloe@demo.local": ["writer"],
        "dev@demo.local": ["writer"],
        "olena.mentor@demo.local": ["mentor"],
        "jonas.mentor@demo.local": ["mentor"],
        "lena.buddy@demo.local": ["mentor"],
        "mentee@demo.local": [],
        "andriy.mentee@demo.local": [],
        "iryna.mentee@demo.local": [],
        "samir.mentee@demo.local": [],
        "fatima.mentee@demo.local": [],
        "omar.participant@demo.local": [],
        "nour.participant@demo.local": [],
    }
    assert User.objects.get(email="admin@demo.local").is_superuser
    assert User.objects.get(email="writer@demo.local").check_password("demo12345")
    call_command("check_integrity", stdout=StringIO())  # raises CommandError on any problem

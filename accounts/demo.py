"""Demo organisations and one user per role (password `demo12345`)."""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import Company
from accounts.services import (
    company_add_member,
    company_create,
    roles_ensure_groups,
    user_create_or_update,
    user_grant_role,
)

DEMO_PASSWORD = "demo12345"

DEMO_COMPANIES = [
    ("acme", "Acme Corporation", "DE"),
    ("globex", "Globex Foundation", "NL"),
]

DEMO_USERS = [
    # email, full name, role, company key, staff
    ("admin@demo.local", "Ada Admin", None, None, True),
    ("operator@demo.local", "Olu Operator", "operator", "acme", True),
    ("reviewer@demo.local", "Rae Reviewer", "reviewer", "acme", True),
    ("mentor@demo.local", "Mina Mentor", "mentor", "acme", False),
    ("writer@demo.local", "Wes Writer", "writer", None, False),
    ("integrator@demo.local", "Ivo Integrator", "integrator", "globex", False),
]


def seed_accounts(say: Callable[[str], None]) -> None:
    roles_ensure_groups()
    for key, name, country in DEMO_COMPANIES:
        if not Company.objects.filter(key=key).exists():
            company_create(key=key, name=name, country=country)
            say(f"company {key}")
    for email, full_name, role, company_key, staff in DEMO_USERS:
        user, created = user_create_or_update(
            email=email, password=None, full_name=full_name, is_staff=staff, timezone="Europe/Berlin"
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            if role is None:
                user.is_superuser = True
            user.save(update_fields=["password", "is_superuser"])
            say(f"user {email} ({role or 'superuser'})")
        if role:
            user_grant_role(user=user, role=role)
        if company_key:
            company_add_member(company=Company.objects.get(key=company_key), user=user)

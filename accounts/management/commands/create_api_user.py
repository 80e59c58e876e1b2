from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Company
from accounts.services import (
    api_token_issue,
    company_add_member,
    roles_ensure_groups,
    user_create_or_update,
    user_grant_role,
)
from core.errors import DomainError
from core.roles import ROLE_NAMES


class Command(BaseCommand):
    help = (
        "Create or update an API user with a role (and optionally a company), issue a token and "
        "print it as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=sorted(ROLE_NAMES))
        parser.add_argument("--company", help="Key of an existing company to add the user to.")
        parser.add_argument("--password", help="Also set a password (for the pages and admin).")
        parser.add_argument("--name", default="", help="Full name.")

    def handle(self, *args, email, role, company=None, password=None, name="", **options):
        if password:
            # The password validators of the settings apply here as in the admin (the demo data's
            # fixed password is set by seed_demo, which does not go through this command).
            try:
                password_validation.validate_password(password)
            except ValidationError as exc:
                raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        try:
            with transaction.atomic():
                roles_ensure_groups()
                user, created = user_create_or_update(
                    email=email,
                    password=password,
                    full_name=name or None,
                    is_staff=True if role in ("operator", "reviewer") else None,
                )
                user_grant_role(user=user, role=role)
                if company:
                    org = Company.objects.filter(key=company).first()
                    if org is None:
                        raise CommandError(f"No company with the key '{company}'.")
                    company_add_member(company=org, user=user)
                _, key = api_token_issue(user=user, name="create_api_user")
        except DomainError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
            raise CommandError(f"{exc.detail} {details}".strip()) from exc
        self.stdout.write(f"{'Created' if created else 'Updated'} {user.email} with role {role}.")
        self.stdout.write(key)

"""Shared fixtures. Rows are created through the services (the product's own write path), so a
fixture never builds a state the product could not reach."""

from __future__ import annotations

import itertools

import pytest
from rest_framework.test import APIClient

from accounts.models import Company, User
from accounts.services import (
    api_token_issue,
    company_add_member,
    company_create,
    roles_ensure_groups,
    user_create_or_update,
    user_grant_role,
)
from programs.models import BeneficiaryGroup, Campaign, Program
from programs.services import beneficiary_group_create, campaign_create, program_create, program_set_status
from templates_app.models import ProgramTemplate
from templates_app.services import templates_seed_builtin

_counter = itertools.count(1)


@pytest.fixture
def make_user(db):
    def _make(
        email: str | None = None,
        role: str | None = None,
        company: Company | None = None,
        password: str | None = "s3cret-passw0rd",
        **fields,
    ) -> User:
        roles_ensure_groups()
        email = email or f"user{next(_counter)}@example.org"
        user, _ = user_create_or_update(email=email, password=password, **fields)
        if role:
            user_grant_role(user=user, role=role)
        if company:
            company_add_member(company=company, user=user)
        return user

    return _make


@pytest.fixture
def client_for(db):
    """An API client authenticated with a fresh token of `user`."""

    def _client(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            _, key = api_token_issue(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return _client


@pytest.fixture
def operator(make_user) -> User:
    return make_user(email="operator@example.org", role="operator", is_staff=True)


@pytest.fixture
def operator_api(operator, client_for) -> APIClient:
    return client_for(operator)


@pytest.fixture
def integrator_api(make_user, client_for) -> APIClient:
    return client_for(make_user(email="integrator@example.org", role="integrator"))


@pytest.fixture
def writer(make_user) -> User:
    return make_user(email="writer@example.org", role="writer")


@pytest.fixture
def writer_api(writer, client_for) -> APIClient:
    return client_for(writer)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


@pytest.fixture
def builtin_templates(db) -> dict[str, ProgramTemplate]:
    templates_seed_builtin()
    return {t.template_key: t for t in ProgramTemplate.objects.all()}


@pytest.fixture
def mentorship_template(builtin_templates) -> ProgramTemplate:
    return builtin_templates["mentorship-standard"]


@pytest.fixture
def group(db) -> BeneficiaryGroup:
    return beneficiary_group_create(key="syrian-refugees", name="Syrian refugees", countries=["DE"])


@pytest.fixture
def company(db) -> Company:
    return company_create(key="acme", name="Acme Corporation")


@pytest.fixture
def make_program(group):
    def _make(template: ProgramTemplate, name: str = "Mentorship 2026", status: str = "active", **fields) -> Program:
        program = program_create(
            template=template, name=name, beneficiary_group=fields.pop("beneficiary_group", group), **fields
        )
        if status != "draft":
            program_set_status(program=program, status="active")
            if status != "active":
                program_set_status(program=program, status=status)
        program.refresh_from_db()
        return program

    return _make


@pytest.fixture
def program(make_program, mentorship_template) -> Program:
    return make_program(mentorship_template)


@pytest.fixture
def campaign(program, company) -> Campaign:
    return campaign_create(
        program=program, company=company, name="Acme Mentorship", target_enrollment=3, max_enrollment=5
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Counters kept in the cache (failed sign-ins, rate windows) start empty in every test."""
    from django.core.cache import cache

    cache.clear()
    yield

"""A dataset for the API-wide tests (fuzzing and the permission matrix): one person per role, a
second company with its own member, and real objects to put into path parameters.

It is built once per module inside an outer transaction that is rolled back at the end; each test
runs in a savepoint within it (pytest-django's `db`), so the tests see the rows and leave nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core import signals
from django.db import close_old_connections, transaction

from accounts.models import CompanyMembership
from accounts.services import (
    api_token_issue,
    company_add_member,
    company_create,
    roles_ensure_groups,
    user_create_or_update,
    user_grant_role,
)
from applications.services import (
    application_form_publish,
    application_start,
    assignments_create,
    program_reviewer_add,
)
from coaching.services import pursuit_create_external
from core import clock
from crm_sync.services import inbound_source_create, subscriber_create
from enrollments.services import enrollment_create
from mentorship.services import profile_upsert
from programs.services import beneficiary_group_create, campaign_create, program_create, program_set_status
from scheduling.services import cohort_create, cohort_member_add, session_create
from templates_app.models import ProgramTemplate
from templates_app.services import templates_seed_builtin

FORM_FIELDS = [{"key": "name", "label": "Your name", "type": "short_text", "required": True}]


@dataclass
class Dataset:
    tokens: dict[str, str] = field(default_factory=dict)  # role (and "other") -> API token key
    users: dict[str, object] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # path parameter name -> an existing object's id
    other_ids: dict[str, str] = field(default_factory=dict)  # another user's objects


def _user(email: str, role: str | None, company=None, kind: str = CompanyMembership.Kind.MEMBER, **fields):
    user, _ = user_create_or_update(email=email, password="s3cret-passw0rd", **fields)
    if role:
        user_grant_role(user=user, role=role)
    if company is not None:
        company_add_member(company=company, user=user, kind=kind)
    return user


def build_dataset() -> Dataset:
    roles_ensure_groups()
    templates_seed_builtin()
    data = Dataset()
    acme = company_create(key="acme", name="Acme Corporation")
    globex = company_create(key="globex", name="Globex")
    users = {
        "operator": _user("operator@example.org", "operator", is_staff=True),
        "integrator": _user("integrator@example.org", "integrator"),
        "writer": _user("writer@example.org", "writer", acme),
        # The mentor also administers Acme (reads its company reports).
        "mentor": _user("mentor@example.org", "mentor", acme, kind=CompanyMembership.Kind.ADMIN),
        "reviewer": _user("reviewer@example.org", "reviewer"),
        # Another company's person: a writer who administers Globex.
        "other": _user("other@globex.example", "writer", globex, kind=CompanyMembership.Kind.ADMIN),
    }
    data.users = users
    data.tokens = {name: api_token_issue(user=user)[1] for name, user in users.items()}

    template = ProgramTemplate.objects.get(template_key="mentorship-standard")
    group = beneficiary_group_create(key="newcomers", name="Newcomers", countries=["DE"])
    program = program_create(template=template, name="Mentorship 2026", beneficiary_group=group)
    program_set_status(program=program, status="active")
    campaign = campaign_create(
        program=program, company=acme, name="Acme Mentorship", target_enrollment=3, max_enrollment=5
    )
    application_form_publish(program=program, fields=FORM_FIELDS)
    mine = application_start(applicant=users["writer"], program=program, answers={"name": "W"}, submit=True)
    theirs = application_start(applicant=users["other"], program=program, answers={"name": "O"}, submit=True)
    # The reviewer reviews the writer's application (not the other one).
    program_reviewer_add(program=program, reviewer=users["reviewer"])
    assigned, skipped = assignments_create(program=program, pairs=[(mine.pk, users["reviewer"].pk)])
    assert len(assigned) == 1, skipped
    enrollment = enrollment_create(user=users["writer"], program=program, role="mentee")
    other_enrollment = enrollment_create(user=users["other"], program=program, role="mentee")
    today = clock.now().date()
    cohort = cohort_create(
        program=program,
        name="Cohort A",
        starts_on=today + timedelta(days=7),
        ends_on=today + timedelta(days=60),
        capacity=5,
    )
    starts = clock.now().replace(microsecond=0) + timedelta(days=10)
    session = session_create(
        program=program, kind="live_event", title="Kick-off", starts_at=starts, ends_at=starts + timedelta(hours=1)
    )
    member = cohort_member_add(cohort=cohort, enrollment=enrollment)
    pursuit = pursuit_create_external(user=users["writer"], data={"title": "Screenwriting grant"})
    profile, _ = profile_upsert(program=program, user=users["mentor"], kind="mentor", data={})
    source = inbound_source_create(key="partner")
    subscriber = subscriber_create(name="CRM", url="https://crm.example.org/hook", event_types=["enrollment.created"])
    data.ids = {
        "program_id": str(program.pk),
        "campaign_id": str(campaign.pk),
        "company_id": str(acme.pk),
        "group_id": str(group.pk),
        "template_id": str(template.pk),
        "application_id": str(mine.pk),
        "enrollment_id": str(enrollment.pk),
        "cohort_id": str(cohort.pk),
        "session_id": str(session.pk),
        "member_id": str(member.pk),
        "pursuit_id": str(pursuit.pk),
        "profile_id": str(profile.pk),
        "source_id": str(source.pk),
        "subscriber_id": str(subscriber.pk),
        "source": source.key,
    }
    data.other_ids = {"application_id": str(theirs.pk), "enrollment_id": str(other_enrollment.pk)}
    return data


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker) -> Dataset:
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_dataset()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def keep_connection():
    """In-process WSGI calls fire `request_started` / `request_finished`, whose
    `close_old_connections` would close the test's connection (and its transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)

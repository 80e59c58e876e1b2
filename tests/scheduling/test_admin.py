"""The cohort admin: pages answer, places shown as "active / capacity", saves and actions go
through the services (audited), domain errors become messages."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from core.models import AuditEntry
from scheduling.models import Cohort, CohortMember
from scheduling.services import cohort_member_add

pytestmark = pytest.mark.django_db

ADMIN_EMAIL = "admin@example.com"  # pytest-django's `admin_user`


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def run_action(client, model, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [str(o.pk) for o in objects], **extra}
    return client.post(url(model, "changelist"), data, follow=True)


def messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def cells(html: str, column: str) -> list[str]:
    return [unescape(c).strip() for c in re.findall(rf'<td class="field-{column}">(.*?)</td>', html, re.S)]


@pytest.fixture
def members(cohort, enroll):
    return [cohort_member_add(cohort=cohort, enrollment=enroll(f"m{n}@example.org")) for n in range(2)]


def test_pages_answer_and_show_places(admin_client, cohort, members):
    response = admin_client.get(url(Cohort, "changelist"))
    assert response.status_code == 200
    assert cells(response.content.decode(), "places") == ["2 / 3"]

    response = admin_client.get(url(Cohort, "change", cohort.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "m0@example.org" in html and "m1@example.org" in html
    assert "cohort.created" in html  # the audit trail
    for view, args in (("changelist", ()), ("change", (members[0].pk,))):
        assert admin_client.get(url(CohortMember, view, *args)).status_code == 200
    assert admin_client.get(url(CohortMember, "add")).status_code == 403


def test_add_through_the_admin_uses_the_service(admin_client, admin_user, program):
    response = admin_client.post(
        url(Cohort, "add"),
        {
            "program": str(program.pk),
            "name": "Admin cohort",
            "starts_on": "2026-04-01",
            "ends_on": "2026-05-01",
            "capacity": "4",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    assert response.status_code == 200
    cohort = Cohort.objects.get()
    assert (cohort.name, cohort.capacity, cohort.status) == ("Admin cohort", 4, "planned")
    entry = AuditEntry.objects.get(target_id=str(cohort.pk))
    assert (entry.action, entry.actor_label) == ("cohort.created", ADMIN_EMAIL)


def test_status_actions_go_through_the_service(admin_client, admin_user, cohort, members):
    response = run_action(admin_client, Cohort, "complete", [cohort])
    assert messages(response) == [
        "Spring 2026: A cohort cannot go from 'planned' to 'completed'. Allowed from 'planned': active, cancelled."
    ]

    response = run_action(admin_client, Cohort, "activate", [cohort], reason="kick-off")
    assert messages(response) == ["Activated 1 cohort(s)."]
    response = run_action(admin_client, Cohort, "complete", [cohort])
    assert messages(response) == ["Completed 1 cohort(s)."]
    cohort.refresh_from_db()
    assert cohort.status == "completed"
    assert set(CohortMember.objects.values_list("status", flat=True)) == {"completed"}
    entries = list(
        AuditEntry.objects.filter(target_id=str(cohort.pk), action="cohort.status_changed")
        .order_by("created_at")
        .values_list("changes", "reason", "actor_label")
    )
    assert entries == [
        ({"status": ["planned", "active"]}, "kick-off", ADMIN_EMAIL),
        ({"status": ["active", "completed"]}, "admin action", ADMIN_EMAIL),
    ]


def test_remove_member_action(admin_client, members):
    response = run_action(admin_client, CohortMember, "remove", [members[0]], reason="switched cohorts")
    assert messages(response) == ["Removed 1 member(s)."]
    members[0].refresh_from_db()
    assert (members[0].status, members[0].reason) == ("dropped", "switched cohorts")
    members[0].enrollment.refresh_from_db()
    assert members[0].enrollment.status == "active"

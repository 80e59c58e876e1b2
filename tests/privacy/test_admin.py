"""The two admin actions on the user list: export (JSON download) and erase (confirmation page
with a reason). Superusers only."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from core.models import AuditEntry
from tests.privacy.conftest import ANN, JO

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:accounts_user_changelist"


@pytest.fixture
def root_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def operator_client(people) -> Client:
    client = Client()
    client.force_login(people["operator"])
    return client


def _action(client, action, *users):
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [str(u.pk) for u in users]})


def test_export_action_downloads_the_json(root_client, people, superuser):
    ann = people["ann"]
    response = _action(root_client, "export_personal_data", ann)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:privacy_user_export", args=[ann.pk])
    response = root_client.get(response["Location"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="personal-data-ann.json"'
    export = json.loads(response.content)
    assert (export["person"]["email"], export["summary"]["total"]) == (ANN, 34)
    entry = AuditEntry.objects.get(action="person.exported")
    assert (entry.actor_id, entry.changes) == (superuser.pk, {"via": "admin", "rows": 34})


def test_actions_need_exactly_one_person(root_client, people):
    response = _action(root_client, "export_personal_data", people["ann"], people["jo"])
    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    messages = [str(m) for m in root_client.get(reverse(CHANGELIST)).context["messages"]]
    assert messages == ["Select exactly one person."]


def test_erase_page_asks_for_a_reason_and_confirmation(root_client, people):
    ann = people["ann"]
    response = _action(root_client, "erase_personal_data", ann)
    url = reverse("admin:privacy_user_erase", args=[ann.pk])
    assert response["Location"] == url
    page = root_client.get(url)
    assert page.status_code == 200
    assert b'data-testid="erase-form"' in page.content
    response = root_client.post(url, {"reason": "", "confirm": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"reason", "confirm"}
    assert User.objects.get(pk=ann.pk).email == ANN


def test_erase_page_erases(root_client, people, superuser):
    ann = people["ann"]
    url = reverse("admin:privacy_user_erase", args=[ann.pk])
    response = root_client.post(url, {"reason": "Request #12 by e-mail", "confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_user_change", args=[ann.pk])
    ann.refresh_from_db()
    assert (ann.email, ann.is_active) == (f"erased-{ann.pk}@invalid", False)
    entry = AuditEntry.objects.get(action="person.erased")
    assert (entry.actor_id, entry.reason) == (superuser.pk, "Request #12 by e-mail")
    messages = [str(m) for m in root_client.get(response["Location"]).context["messages"]]
    assert messages == [
        f"Personal data erased: 14 row(s) anonymised, 4 deleted, 9 rewritten. The account is now {ann.email}."
    ]
    assert User.objects.get(email=JO).is_active


def test_erasing_a_superuser_or_oneself_is_a_form_error(root_client, superuser, make_user):
    other_root = User.objects.create_superuser(email="root2@example.org", password="s3cret-passw0rd-2")
    for target, message in ((other_root, "superuser"), (superuser, "superuser")):
        response = root_client.post(
            reverse("admin:privacy_user_erase", args=[target.pk]), {"reason": "Request", "confirm": "on"}
        )
        assert response.status_code == 200
        assert message in " ".join(response.context["form"].non_field_errors())
        assert User.objects.get(pk=target.pk).email == target.email


def test_operators_get_neither_action_nor_page(operator_client, people):
    ann = people["ann"]
    actions = dict(operator_client.get(reverse(CHANGELIST)).context["action_form"].fields["action"].choices)
    assert "export_personal_data" not in actions and "erase_personal_data" not in actions
    assert operator_client.get(reverse("admin:privacy_user_export", args=[ann.pk])).status_code == 403
    response = operator_client.post(
        reverse("admin:privacy_user_erase", args=[ann.pk]), {"reason": "Request", "confirm": "on"}
    )
    assert response.status_code == 403
    assert User.objects.get(pk=ann.pk).email == ANN


def test_superusers_see_both_actions(root_client, people):
    actions = dict(root_client.get(reverse(CHANGELIST)).context["action_form"].fields["action"].choices)
    assert actions["export_personal_data"] == "Export personal data (JSON)"
    assert actions["erase_personal_data"] == "Erase personal data"

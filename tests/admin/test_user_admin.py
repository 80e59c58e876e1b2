"""Users changed in the admin go through the services, so roles and access changes are audited."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import User
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _actions(user):
    return list(
        AuditEntry.objects.filter(target_id=str(user.pk)).order_by("created_at").values_list("action", "changes")
    )


def test_adding_a_user_in_the_admin_is_audited(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.org",
            "password1": "a-long-passw0rd!",
            "password2": "a-long-passw0rd!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.person@example.org")
    assert user.check_password("a-long-passw0rd!")
    entry = AuditEntry.objects.get(action="user.created", target_id=str(user.pk))
    assert (entry.actor_id, entry.changes) == (admin_user.pk, {"email": "new.person@example.org"})


def test_changing_roles_and_access_in_the_admin_is_audited(admin_client, make_user):
    user = make_user(email="p@example.org", role="writer")
    operator = Group.objects.get(name="operator")
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": "p@example.org",
            "full_name": "Pat Person",
            "timezone": "Europe/Berlin",
            "is_active": "on",
            "is_staff": "on",
            "groups": [str(operator.pk)],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "external_identities-TOTAL_FORMS": "0",
            "external_identities-INITIAL_FORMS": "0",
            "api_tokens-TOTAL_FORMS": "0",
            "api_tokens-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [fs.errors for fs in response.context["inline_admin_formsets"]],
    )
    user.refresh_from_db()
    assert (user.full_name, user.timezone, user.is_staff) == ("Pat Person", "Europe/Berlin", True)
    assert sorted(g.name for g in user.groups.all()) == ["operator"]
    actions = _actions(user)
    assert (
        "user.updated",
        {"full_name": ["", "Pat Person"], "timezone": ["", "Europe/Berlin"], "is_staff": [False, True]},
    ) in actions
    assert ("user.role_granted", {"role": "operator"}) in actions
    assert ("user.role_revoked", {"role": "writer"}) in actions

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services import api_token_revoke, company_create
from core.models import AuditEntry


def _run(*args):
    out = StringIO()
    call_command("create_api_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def _me(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/me")


@pytest.mark.django_db
def test_creates_the_user_and_prints_a_working_token_last():
    company = company_create(key="acme", name="Acme")
    lines = _run("--email", "Bot@Example.org", "--role", "integrator", "--company", "acme")
    assert lines[0] == "Created bot@example.org with role integrator."
    key = lines[-1]
    assert len(key) == 43
    response = _me(key)
    assert response.status_code == 200
    body = response.json()
    user = User.objects.get(email="bot@example.org")
    assert body == {
        "id": str(user.id),
        "email": "bot@example.org",
        "full_name": "",
        "timezone": "",
        "roles": ["integrator"],
        "companies": [{"id": str(company.id), "key": "acme", "name": "Acme", "membership": "member"}],
    }
    token = ApiToken.objects.get(user=user)
    assert token.key_hash != key  # only the hash is stored
    assert token.prefix == key[:8]
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_running_again_updates_the_user_and_issues_another_token():
    first = _run("--email", "ops@example.org", "--role", "operator", "--password", "a-long-passw0rd")[-1]
    lines = _run("--email", "ops@example.org", "--role", "reviewer")
    assert lines[0] == "Updated ops@example.org with role reviewer."
    user = User.objects.get(email="ops@example.org")
    assert sorted(g.name for g in user.groups.all()) == ["operator", "reviewer"]
    assert user.check_password("a-long-passw0rd")
    assert user.is_staff is True
    assert ApiToken.objects.filter(user=user).count() == 2
    assert _me(first).status_code == 200
    assert _me(lines[-1]).status_code == 200
    assert list(
        AuditEntry.objects.filter(target_id=str(user.id)).order_by("created_at").values_list("action", flat=True)
    ) == ["user.created", "user.role_granted", "api_token.issued", "user.role_granted", "api_token.issued"]


@pytest.mark.django_db
def test_unknown_company_fails_and_creates_nothing():
    with pytest.raises(CommandError, match="No company with the key 'nope'."):
        _run("--email", "x@example.org", "--role", "writer", "--company", "nope")
    assert not User.objects.filter(email="x@example.org").exists()


@pytest.mark.django_db
def test_unknown_role_is_refused():
    with pytest.raises(CommandError, match="invalid choice: 'boss'"):
        _run("--email", "x@example.org", "--role", "boss")


@pytest.mark.django_db
def test_invalid_email_is_refused():
    with pytest.raises(CommandError, match="email: Enter a valid e-mail address."):
        _run("--email", "not-an-email", "--role", "writer")


@pytest.mark.django_db
def test_a_revoked_token_is_refused():
    key = _run("--email", "bot@example.org", "--role", "integrator")[-1]
    token = ApiToken.objects.get(prefix=key[:8])
    api_token_revoke(token=token)
    response = _me(key)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked token."


@pytest.mark.django_db
def test_a_deactivated_user_cannot_use_their_token():
    key = _run("--email", "bot@example.org", "--role", "integrator")[-1]
    User.objects.filter(email="bot@example.org").update(is_active=False)
    assert _me(key).status_code == 401

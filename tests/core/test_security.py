"""Browser security: headers on every response, a Content-Security-Policy that no template needs to
break, sign-in throttling on the page and the admin login, password validators, and a clean
`check --deploy` with the production settings."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
THROTTLED = "Too many failed sign-in attempts. Try again in 15 minute(s)."
WRONG = "Please enter a correct email and password. Note that both fields may be case-sensitive."
EMAIL = "amira.haddad@example.org"
PASSWORD = "corr3ct-h0rse-battery"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(make_user):
    return make_user(email=EMAIL, password=PASSWORD)


# --- Headers ----------------------------------------------------------------------------------


def test_a_page_carries_every_security_header(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == STRICT_CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_api_responses_and_errors_carry_the_policy_too(client):
    assert client.get("/api/v1/me")["Content-Security-Policy"] == STRICT_CSP
    assert client.get("/no-such-page/")["Content-Security-Policy"] == STRICT_CSP


def test_clickjacking_middleware_is_installed():
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE


@override_settings(CONTENT_SECURITY_POLICY={"default-src": ["'none'"], "img-src": []})
def test_the_policy_comes_from_the_setting(client):
    assert client.get("/")["Content-Security-Policy"] == "default-src 'none'"


@override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=True)
def test_report_only_mode_uses_the_report_only_header(client):
    response = client.get("/")
    assert response["Content-Security-Policy-Report-Only"] == STRICT_CSP
    assert "Content-Security-Policy" not in response


def test_session_and_csrf_cookies_are_http_only_and_same_site(client, member):
    page = client.get(reverse("login"))
    csrf = page.cookies["csrftoken"]
    assert (csrf["httponly"], csrf["samesite"]) == (True, "Lax")
    response = client.post(reverse("login"), {"username": EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert (session["httponly"], session["samesite"]) == (True, "Lax")


# --- No inline script or style in the templates --------------------------------------------------

_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)


def _page_templates() -> list[Path]:
    base = Path(settings.BASE_DIR)
    found = sorted(base.glob("templates/**/*.html")) + sorted(base.glob("*/templates/**/*.html"))
    # E-mail bodies are rendered into messages, not pages: mail clients need inline styles.
    return [p for p in found if ".venv" not in p.parts and "/templates/notifications/" not in p.as_posix()]


def test_no_template_has_an_inline_script_or_style():
    templates = _page_templates()
    assert len(templates) > 20
    offenders = [
        str(p.relative_to(settings.BASE_DIR))
        for p in templates
        if _INLINE_SCRIPT.search(p.read_text()) or _INLINE_STYLE.search(p.read_text())
    ]
    assert offenders == []


def test_the_pattern_catches_inline_scripts_and_styles():
    assert _INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not _INLINE_SCRIPT.search('<script src="/static/js/tz.js" defer></script>')
    assert _INLINE_STYLE.search('<td style="color: red">') and _INLINE_STYLE.search("<style>")


# --- The API docs pages relax the policy for themselves only ------------------------------------


def test_swagger_ui_loads_its_script_as_a_file(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self' 'unsafe-inline';" in policy
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 3 and all("src=" in tag for tag in scripts)
    init_url = re.findall(r'<script src="([^"]*script[^"]*)"', html)[-1].replace("&amp;", "&")
    init = client.get(init_url)
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()
    # The bundles come from local static files (no CDN).
    assert all(src.startswith("/static/") for src in re.findall(r'<script src="([^"]*)"', html)[:2])


def test_redoc_gets_its_own_relaxed_policy(client):
    response = client.get("/api/v1/redoc/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline';" in policy
    assert "worker-src 'self' blob:" in policy
    assert "frame-ancestors 'none'" in policy


# --- Sign-in throttling ----------------------------------------------------------------------------


def _login(client, email, password, url=None):
    return client.post(url or reverse("login"), {"username": email, "password": password})


def _errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def test_five_wrong_passwords_lock_the_e_mail_even_for_the_right_one(client, member):
    for _ in range(4):
        assert _errors(_login(client, EMAIL, "wrong-password")) == [WRONG]
    # The fifth failure reaches the limit; the next attempt is refused before the password is checked.
    assert _errors(_login(client, EMAIL, "wrong-password")) == [WRONG]
    response = _login(client, EMAIL.upper(), PASSWORD)
    assert response.status_code == 200
    assert _errors(response) == [THROTTLED]
    assert THROTTLED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_another_e_mail_from_another_address_is_not_affected(client, member, make_user):
    make_user(email="other@example.org", password=PASSWORD)
    for _ in range(5):
        _login(client, EMAIL, "wrong-password")
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert _login(other, "other@example.org", PASSWORD).status_code == 302


def test_a_success_clears_the_e_mail_count(client, member):
    for _ in range(4):
        _login(client, EMAIL, "wrong-password")
    assert _login(client, EMAIL, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, EMAIL, "wrong-password")
    assert _login(client, EMAIL, PASSWORD).status_code == 302


@override_settings(LOGIN_THROTTLE_IP_LIMIT=3)
def test_many_e_mails_from_one_address_lock_the_address(client, member):
    for n in range(3):
        _login(client, f"guess{n}@example.org", "wrong-password")
    assert _errors(_login(client, EMAIL, PASSWORD)) == [THROTTLED]
    # From another address the same account signs in.
    assert _login(Client(REMOTE_ADDR="10.0.0.7"), EMAIL, PASSWORD).status_code == 302


@override_settings(LOGIN_THROTTLE_IP_LIMIT=2, LOGIN_THROTTLE_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_behind_a_proxy_the_configured_header_names_the_client(client, member):
    spoofed_then_proxy = {"HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.5"}
    for n in range(2):
        client.post(reverse("login"), {"username": f"g{n}@example.org", "password": "x"}, **spoofed_then_proxy)
    locked = client.post(reverse("login"), {"username": EMAIL, "password": PASSWORD}, **spoofed_then_proxy)
    assert _errors(locked) == [THROTTLED]
    other = client.post(reverse("login"), {"username": EMAIL, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 302


def test_the_lock_ends_after_the_lockout(client, member, monkeypatch):
    for _ in range(5):
        _login(client, EMAIL, "wrong-password")
    assert _errors(_login(client, EMAIL, PASSWORD)) == [THROTTLED]
    later = time.time() + settings.LOGIN_THROTTLE_LOCKOUT_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert _login(client, EMAIL, PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_with_a_form_error(client, make_user):
    make_user(email="ops@example.org", password=PASSWORD, role="operator", is_staff=True)
    url = reverse("admin:login")
    for _ in range(5):
        response = _login(client, "ops@example.org", "wrong-password", url=url)
        assert response.status_code == 200
    response = _login(client, "ops@example.org", PASSWORD, url=url)
    assert response.status_code == 200
    assert list(response.context["form"].non_field_errors()) == [THROTTLED]
    assert THROTTLED in response.content.decode()
    assert not client.get(reverse("admin:index")).wsgi_request.user.is_authenticated


# --- Password validators ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("demo12345", "This password is too short. It must contain at least 12 characters."),
        ("123456789012", "This password is entirely numeric."),
        ("password1234", "This password is too common."),
    ],
)
def test_the_admin_refuses_a_weak_password(admin_client, password, message):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "new@example.org", "password1": password, "password2": password, "usable_password": "true"},
    )
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["password2"]
    assert not User.objects.filter(email="new@example.org").exists()


def test_create_api_user_refuses_a_weak_password(db):
    with pytest.raises(CommandError, match="too short"):
        call_command(
            "create_api_user",
            "--email",
            "ops@example.org",
            "--role",
            "operator",
            "--password",
            "demo12345",
            stdout=StringIO(),
        )
    assert not User.objects.filter(email="ops@example.org").exists()


# --- check --deploy with the production settings ----------------------------------------------------


def _deploy_check(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "programs.example.org",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
        "CACHE_URL": "redis://127.0.0.1:6379/14",
        "DJANGO_DEBUG": "false",
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_settings():
    result = _deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_on_a_weak_secret_key():
    result = _deploy_check(SECRET_KEY="short")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr

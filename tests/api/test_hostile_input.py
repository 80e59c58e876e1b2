"""Hostile bodies: malformed JSON, a wrong content type and a body over the limit, sent to a JSON
endpoint of the API, to the inbound partner webhook and to a form page. The API and the webhook
answer problem details (400, 415, 413); a form page answers a 413 page; nothing answers 500."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from crm_sync.services import inbound_source_create
from crm_sync.signing import sign_headers

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
COMPANIES = "/api/v1/admin/companies"
SECRET = "whsec_" + base64.b64encode(b"hostile-input-secret-0123456789a").decode()
LIMIT = 4096


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    settings.CRM_INBOUND_MAX_BYTES = 1024


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["status"]) == (f"/problems/{slug}", status)
    assert body["title"] and body["detail"]
    return body


# --- A JSON endpoint of the API ------------------------------------------------------------------


def test_api_malformed_json_answers_400(operator_api):
    response = operator_api.post(COMPANIES, '{"key": "acme", "name": ', content_type="application/json")
    body = _problem(response, 400, "malformed-request")
    assert body["detail"].startswith("JSON parse error")


def test_api_another_content_type_answers_415(operator_api):
    response = operator_api.post(COMPANIES, "key=acme&name=Acme", content_type="application/x-www-form-urlencoded")
    body = _problem(response, 415, "unsupported-media-type")
    assert body["detail"] == 'Unsupported media type "application/x-www-form-urlencoded" in request.'


def test_api_body_over_the_limit_answers_413_before_parsing(operator_api):
    # Valid JSON, only too long: the size decides, before the body is read or authorisation runs.
    payload = json.dumps({"key": "acme", "name": "Acme", "padding": "x" * LIMIT})
    body = _problem(operator_api.post(COMPANIES, payload, content_type="application/json"), 413, "payload-too-large")
    assert body["detail"] == f"The request body is larger than the {LIMIT} bytes accepted."
    from accounts.models import Company

    assert not Company.objects.filter(key="acme").exists()


def test_api_body_at_the_limit_is_parsed(operator_api):
    head = json.dumps({"key": "acme", "name": "Acme", "note": ""})
    payload = head[:-2] + "y" * (LIMIT - len(head)) + '"}'
    assert len(payload) == LIMIT
    response = operator_api.post(COMPANIES, payload, content_type="application/json")
    assert response.status_code == 201, response.content


def test_anonymous_oversized_body_answers_413_too(anon_api):
    response = anon_api.post(COMPANIES, "x" * (LIMIT + 1), content_type="application/json")
    _problem(response, 413, "payload-too-large")


def test_api_query_with_a_nul_character_answers_400(operator_api):
    response = operator_api.get(COMPANIES, {"key": "ac\x00me"})
    body = _problem(response, 400, "malformed-request")
    assert body["detail"] == "Query parameters cannot contain a NUL character."


def test_api_unknown_format_answers_400_not_404(operator_api):
    body = _problem(operator_api.get(COMPANIES, {"format": "xml"}), 400, "validation-error")
    assert body["errors"] == {"format": "Unknown format; use one of: json."}


def test_api_instant_filter_out_of_range_answers_400(operator_api, program):
    # Before year 1 once in UTC.
    response = operator_api.get(
        f"/api/v1/admin/programs/{program.pk}/sessions", {"starts_before": "0001-01-01T00:00:00+05:00"}
    )
    body = _problem(response, 400, "validation-error")
    assert body["errors"] == {"starts_before": "This instant is out of range."}


def test_api_instant_filter_with_an_offset_the_database_refuses_compares_in_utc(operator_api, program):
    # ISO 8601 allows +22:32; PostgreSQL refuses offsets past 15:59 (this was a 500).
    response = operator_api.get(
        f"/api/v1/admin/programs/{program.pk}/sessions", {"starts_after": "2026-01-30T16:42:31+22:32"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


# --- The inbound partner webhook (its own, smaller limit) ----------------------------------------


@pytest.fixture
def source(db):
    return inbound_source_create(key="partner", secret=SECRET)


def _signed(body: bytes, msg_id: str = "msg_hostile_1") -> dict[str, str]:
    from core import clock

    headers = sign_headers([SECRET], msg_id, int(clock.now().timestamp()), body)
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}


def test_webhook_malformed_json_is_rejected_with_problem_details(client, source):
    body = b'{"event_id": "e1", "event_type": '
    response = client.post(
        "/api/v1/integrations/events/partner", body, content_type="application/json", **_signed(body)
    )
    # Signed but not JSON: stored as rejected and answered 422 (as documented for the endpoint).
    problem = _problem(response, 422, "event-rejected")
    assert problem["errors"] == {"body": "The body is not a JSON object."}


def test_webhook_unsigned_malformed_json_answers_401(client, source):
    response = client.post("/api/v1/integrations/events/partner", b"{", content_type="application/json")
    _problem(response, 401, "invalid-signature")


def test_webhook_another_content_type_answers_415(client, source):
    body = b"event_id=e1"
    response = client.post("/api/v1/integrations/events/partner", body, content_type="text/plain", **_signed(body))
    _problem(response, 415, "unsupported-media-type")


def test_webhook_body_over_its_own_limit_answers_413(client, source):
    body = json.dumps({"event_id": "e1", "padding": "x" * 1024}).encode()
    assert 1024 < len(body) < LIMIT  # under the site-wide limit: the webhook's own limit decides
    response = client.post(
        "/api/v1/integrations/events/partner", body, content_type="application/json", **_signed(body)
    )
    problem = _problem(response, 413, "payload-too-large")
    assert problem["detail"] == "Events are at most 1024 bytes."


def test_webhook_body_over_the_site_limit_answers_413(client, source):
    body = b"x" * (LIMIT + 1)
    response = client.post("/api/v1/integrations/events/partner", body, content_type="application/json")
    _problem(response, 413, "payload-too-large")


# --- A form page ---------------------------------------------------------------------------------


def test_form_post_over_the_limit_answers_a_413_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/login/",
        "username=a%40example.org&password=" + "x" * LIMIT,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"Request too large" in response.content


def test_multipart_form_over_the_limit_answers_413_not_400():
    # Multipart bodies pass the declared-length check (file parts do not count against the limit);
    # Django's own count of the non-file fields trips while the CSRF check reads the form.
    client = Client(enforce_csrf_checks=True)
    assert client.get("/accounts/login/").status_code == 200
    token = client.cookies["csrftoken"].value
    fields = {"csrfmiddlewaretoken": token, "username": "a@example.org", "password": "x" * (LIMIT + 1)}
    response = client.post("/accounts/login/", fields)
    assert response.status_code == 413
    assert b"Request too large" in response.content


def test_form_malformed_body_is_a_form_error_not_500(client):
    response = client.post("/accounts/login/", b"\xff\xfe%%%=&&=", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.context["form"].errors

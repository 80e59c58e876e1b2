"""Every API error is RFC 9457 problem details; never a 500 for bad input."""

import pytest

PROBLEM = "application/problem+json"


def _problem(response, status, slug):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.django_db
def test_unknown_api_path_is_a_problem_404(anon_api):
    body = _problem(anon_api.get("/api/v1/no-such-thing"), 404, "not-found")
    assert body["detail"] == "No API resource at /api/v1/no-such-thing."


@pytest.mark.django_db
def test_unknown_page_is_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not found" in response.content


@pytest.mark.django_db
def test_missing_credentials_answer_401_with_challenge(anon_api):
    response = anon_api.get("/api/v1/me")
    body = _problem(response, 401, "not-authenticated")
    assert body["title"] == "Authentication required"
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_bad_token_answers_401(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    body = _problem(anon_api.get("/api/v1/me"), 401, "authentication-failed")
    assert body["detail"] == "Invalid or revoked token."


@pytest.mark.django_db
def test_malformed_token_header_answers_401(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token two parts")
    body = _problem(anon_api.get("/api/v1/me"), 401, "authentication-failed")
    assert body["detail"] == "Invalid token header: use 'Token <key>'."


@pytest.mark.django_db
def test_role_without_access_answers_403(writer_api):
    body = _problem(writer_api.get("/api/v1/admin/companies"), 403, "permission-denied")
    assert body["detail"] == "Your account does not hold a role that may use this endpoint."


@pytest.mark.django_db
def test_wrong_method_answers_405(operator_api):
    body = _problem(operator_api.delete("/api/v1/admin/companies"), 405, "method-not-allowed")
    assert body["detail"] == 'Method "DELETE" not allowed.'


@pytest.mark.django_db
def test_malformed_json_answers_400(operator_api):
    response = operator_api.post("/api/v1/admin/companies", data='{"key": ', content_type="application/json")
    body = _problem(response, 400, "malformed-request")
    assert body["detail"].startswith("JSON parse error")


@pytest.mark.django_db
def test_wrong_content_type_answers_415(operator_api):
    response = operator_api.post("/api/v1/admin/companies", data="key=acme", content_type="text/plain")
    body = _problem(response, 415, "unsupported-media-type")
    assert body["detail"] == 'Unsupported media type "text/plain" in request.'


@pytest.mark.django_db
def test_validation_errors_map_each_field_to_one_message(operator_api):
    response = operator_api.post("/api/v1/admin/companies", {"key": "not a slug!", "website": "nope"}, format="json")
    body = _problem(response, 400, "validation-error")
    assert body["errors"] == {
        "key": 'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.',
        "name": "This field is required.",
        "website": "Enter a valid URL.",
    }
    assert body["detail"] == (
        'key: Enter a valid "slug" consisting of letters, numbers, underscores or hyphens. (and 2 more)'
    )


@pytest.mark.django_db
def test_nested_validation_errors_are_flattened_to_paths(operator_api, group):
    response = operator_api.patch(f"/api/v1/admin/beneficiary-groups/{group.id}", {"tags": ["ok", ""]}, format="json")
    body = _problem(response, 400, "validation-error")
    assert body["errors"] == {"tags/1": "This field may not be blank."}


@pytest.mark.django_db
def test_malformed_uuid_in_path_is_404_not_500(operator_api):
    body = _problem(operator_api.get("/api/v1/admin/programs/not-a-uuid"), 404, "not-found")
    assert body["detail"] == "No API resource at /api/v1/admin/programs/not-a-uuid."


@pytest.mark.django_db
def test_another_users_object_and_missing_object_answer_the_same_404(operator_api):
    body = _problem(operator_api.get("/api/v1/admin/companies/00000000-0000-0000-0000-000000000000"), 404, "not-found")
    assert body["detail"] == "No Company matches the given query."
